"""PollDevice: frames from an interface's TPACKET_V3 ring, pushed in bursts.

Also home of :class:`ReceiveTask`, the way the device elements (PollDevice,
FromHost, KernelTun) turn a file that becomes readable into task runs.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable, Protocol

from pyclick.args import BOOL, UNSIGNED, WORD, Args
from pyclick.element import Element, read_handler, write_handler
from pyclick.errors import ConfigError
from pyclick.packet import Packet
from pyclick.runtime.tasks import Task

if TYPE_CHECKING:  # the kernel adapters load when the router starts
    from pyclick.kernel.ring import ReceiveRing

DEFAULT_BURST = 8
DEFAULT_HEADROOM = 64
#: Longest a waiter blocks before checking whether it must stop.
WAIT_SLICE = 0.1


class Waitable(Protocol):
    def wait(self, timeout: float) -> bool:
        """Block until something can be read (True) or ``timeout`` seconds pass."""


class ReceiveTask:
    """Runs ``emit(limit) -> packets emitted`` on the owner's home thread while
    ``source`` has something to read.

    A waiter thread blocks until ``source`` is readable, then schedules the
    task; the task emits up to ``burst`` packets per run and runs again
    while a full burst came. The waiter sleeps while the task drains, so an
    idle device costs nothing on the router's threads.
    """

    def __init__(self, owner: Element, source: Waitable, burst: int,
                 emit: Callable[[int], int]) -> None:
        self.burst = burst
        self._source = source
        self._emit = emit
        self.task = Task(owner, self._run)
        self._drained = threading.Event()
        self._drained.set()
        self._stopping = threading.Event()
        self._waiter = threading.Thread(target=self._wait, daemon=True,
                                        name=f"{owner.name} receive")
        self._waiter.start()

    def _wait(self) -> None:
        while not self._stopping.is_set():
            if self._drained.wait(WAIT_SLICE) and self._source.wait(WAIT_SLICE):
                self._drained.clear()
                self.task.reschedule()

    def _run(self) -> bool:
        emitted = self._emit(self.burst)
        if emitted >= self.burst:
            self.task.reschedule()
        else:
            self._drained.set()
        return emitted > 0

    def stop(self) -> None:
        self._stopping.set()
        self._waiter.join()
        self.task.unschedule()


def live_only(element: Element, args: Args) -> None:
    """Refuse a device element in simulated time (its packets come in real time)."""
    if element.router.simtime:
        args.error("a device's packets arrive in real time; this configuration runs in "
                   "simulated time")


def initialize_failed(element: Element, err: Exception) -> ConfigError:
    return ConfigError(f"While initializing '{element.declaration()}': {err}", element.landmark)


class PollDevice(Element):
    """PollDevice(DEVNAME, KEYWORDS) -- polls packets from network device

    Description
    Emits every frame the Linux interface DEVNAME receives, link-level
    header included, on its single output. This is the user-level
    equivalent of Click's kernel PollDevice: frames arrive through an
    AF_PACKET socket with a memory-mapped TPACKET_V3 ring, which the
    kernel fills without a system call per frame. Each time PollDevice is
    scheduled it emits at most BURST packets, as one batch; while the ring
    is empty it sleeps until the kernel hands over frames.

    The kernel's network stack still receives the frames. Frames this
    host sends on DEVNAME are not emitted. Nothing on the interface
    changes, except that with PROMISC true the interface receives frames
    for other hosts while PollDevice runs (the kernel undoes this when
    PollDevice's socket closes, however the process ends).

    PollDevice needs real time and CAP_NET_RAW; it opens DEVNAME when the
    router starts (checking a configuration never touches an interface).

    Ports
    no inputs, one push output

    Keyword arguments
    DEVNAME -- interface name, mandatory
    PROMISC -- receive frames for other hosts too; default false
    BURST -- most packets emitted per scheduling, at least 1; default 8
    TIMESTAMP -- set each packet's timestamp annotation to its arrival; default true
    HEADROOM -- bytes of headroom in each packet; default 64

    Element handlers
    count (read) -- packets emitted
    drops (read) -- frames the kernel dropped because the ring was full
    reset_counts (write) -- sets count and drops to 0

    Example
    PollDevice(eth0, BURST 32) -> c :: Counter -> Discard;
    """

    port_count = "0/1"

    def configure(self, args: Args) -> None:
        self.devname: str = args.read_mp("DEVNAME", WORD)
        self.promisc: bool = args.read("PROMISC", BOOL, False)
        self.burst: int = args.read_p("BURST", UNSIGNED.range(1, 1 << 20), DEFAULT_BURST)
        self.timestamp: bool = args.read("TIMESTAMP", BOOL, True)
        self.headroom: int = args.read("HEADROOM", UNSIGNED.range(0, 1 << 16), DEFAULT_HEADROOM)
        args.complete()
        live_only(self, args)
        self.count = 0
        self._drops = 0
        self._ring: ReceiveRing | None = None
        self._receiver: ReceiveTask | None = None

    def initialize(self) -> None:
        from pyclick.kernel.netdev import DeviceError
        from pyclick.kernel.ring import ReceiveRing

        try:
            self._ring = ReceiveRing(self.devname, promisc=self.promisc)
        except (DeviceError, OSError) as err:
            raise initialize_failed(self, err) from err
        self._receiver = ReceiveTask(self, self._ring, self.burst, self._emit)

    def cleanup(self) -> None:
        if self._receiver is not None:
            self._receiver.stop()
            self._receiver = None
        if self._ring is not None:
            self._ring.close()
            self._ring = None

    def _emit(self, limit: int) -> int:
        assert self._ring is not None
        frames = self._ring.receive(limit)
        if not frames:
            return 0
        now = self.router.now() if self.timestamp else 0.0
        batch = []
        for frame in frames:
            packet = Packet.make(frame.data, headroom=self.headroom, timestamp=now)
            packet.packet_type = frame.packet_type
            packet.rss_hash = frame.rx_hash
            batch.append(packet)
        self.count += len(batch)
        self.output_push(0, batch)
        return len(batch)

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)

    @read_handler("drops")
    def _read_drops(self) -> str:
        if self._ring is not None:
            self._drops += self._ring.statistics()[1]
        return str(self._drops)

    @write_handler("reset_counts")
    def _write_reset(self, value: str) -> None:
        self.count = 0
        if self._ring is not None:
            self._ring.statistics()
        self._drops = 0
