"""FromDevice: a kernel interface, as the RSS device DeviceBalancer programs."""

from __future__ import annotations

import threading
from typing import Any, Callable, ClassVar

import numpy as np

from pyclick.args import BOOL, BYTES, UNSIGNED, WORD, Args, Choice, ListOf
from pyclick.element import Element, read_handler, write_handler
from pyclick.errors import ConfigError
from pyclick.flow.key import parse_frame
from pyclick.kernel.ethtool import EthtoolRSS, NoRssTable, RssConfig
from pyclick.kernel.netdev import DeviceError, NetDevice, has_net_admin
from pyclick.kernel.ownership import InterfaceBusy, InterfaceClaim
from pyclick.kernel.recovery import RestoreError
from pyclick.kernel.ring import ReceiveRing
from pyclick.kernel.rss_program import DEFAULT_KEY
from pyclick.kernel.softrss import SoftwareRSS, running_on
from pyclick.kernel.staterecord import RecordError
from pyclick.kernel.xdp import MODES as XDP_MODES
from pyclick.packet import Packet
from pyclick.rss.toeplitz import toeplitz_hashes, tuple_bytes
from pyclick.runtime.tasks import Task

DEFAULT_SOFTWARE_RETA_SIZE = 128
DEFAULT_BURST = 32
#: Keywords that only mean something for software RSS.
SOFTWARE_KEYWORDS = ("QUEUE_CPUS", "KEY", "XDP_MODE")
#: How long an exit-time restore waits for a table write under way elsewhere.
EXIT_RESTORE_WAIT = 1.0
#: TCP and UDP: the protocols whose ports enter the RSS hash.
_HASHED_PORTS = (6, 17)


def rss_hash(key: bytes, flow: tuple[str, str, int, int, int] | None) -> int:
    """The NIC's Toeplitz hash of a flow: 4-tuple for TCP/UDP, addresses otherwise."""
    if flow is None:
        return 0
    src, dst, sport, dport, proto = flow
    data = tuple_bytes(src, dst, sport, dport) if proto in _HASHED_PORTS else tuple_bytes(src, dst)
    return int(toeplitz_hashes(key, np.frombuffer(data, dtype=np.uint8)[None, :])[0])


class FromDevice(Element):
    """FromDevice(IFNAME, KEYWORDS) -- a kernel interface, as the RSS device DeviceBalancer programs

    Description
    Stands for the kernel interface IFNAME. DeviceBalancer names it as DEV
    and reads and writes its RSS indirection table through it: bucket i of
    the table names the RX queue, and so the core, that serves the packets
    whose RSS hash is i modulo the table size.

    With MODE hardware, the table is the NIC's own, read and written with
    ethtool (netlink on kernels that have RSS_SET, the SIOCETHTOOL ioctl
    otherwise). The table found at start is saved and put back at cleanup,
    and also when the process ends in any other way Python notices (an
    exception, exit, SIGHUP, SIGTERM, SIGQUIT).

    Before changing IFNAME, FromDevice locks it for the process
    (/run/pyclick/IFNAME.lock): a second pyclick on the same interface is
    refused with the first one's PID. What it changes is noted in a state
    record beside the lock (the table found at start, the XDP program and
    CPUMAP of software RSS, the program they replaced). After SIGKILL or a
    crash, the next start on IFNAME, or 'pyclick --cleanup IFNAME', puts
    back what the record names and says so in one line.

    With MODE software, for drivers without a programmable table (veth,
    virtio_net, many virtual NICs), an XDP program implements one: it
    hashes each packet with the Toeplitz function under KEY and steers it
    through a CPUMAP to the CPU the table names, queue q being CPU
    QUEUE_CPUS[q]. The program also counts packets per bucket; an
    XDPLoader on the same interface reads those counters. The program is
    detached at cleanup (and at any other exit, as above).

    MODE auto, the default, uses the NIC's table when its driver has one
    and software RSS otherwise, saying so in the log.

    With ACTIVE false, the default, no packet enters the router: the
    kernel's network stack receives them, and FromDevice only handles the
    table (the RSS++ setup of a socket application). With ACTIVE true,
    FromDevice also emits a copy of every frame IFNAME receives, read
    through an AF_PACKET socket in bursts of up to BURST frames, with the
    flow and RSS hash annotations set (the hash as the NIC computes it
    under the device's key). Packets still reach the kernel's stack.
    ACTIVE true needs real time and CAP_NET_RAW.

    FromDevice looks at IFNAME only when the router starts: checking a
    configuration (pyclick -q) never touches an interface. Starting needs
    root or CAP_NET_ADMIN. DeviceBalancer checks its CPUS against the
    queue count FromDevice reports; with a NIC, 'ethtool -L IFNAME
    combined N' changes the number of queues. Two FromDevice elements
    cannot both run software RSS on one interface.

    Keyword arguments
    IFNAME -- interface name, mandatory
    ACTIVE -- emit received frames as packets, default false
    MODE -- auto, hardware or software, default auto
    RETA_SIZE -- table size, 1 to 65536; software RSS default 128; with a NIC, only its own size is accepted
    QUEUE_CPUS -- software RSS: the CPU serving each queue (0 to 4095), space separated, default all CPUs
    KEY -- software RSS: Toeplitz key (hex), default the Microsoft key
    XDP_MODE -- software RSS: auto, native or generic XDP, default auto
    BURST -- ACTIVE true: most frames emitted per batch, 1 to 65536, default 32

    Element handlers
    mode (read) -- hardware or software
    driver (read) -- the interface's driver
    reta_size (read) -- buckets in the table
    queues (read) -- RX queues (hardware) or CPUs (software) the table may name
    table (read) -- the current table, the queue of each bucket, space separated
    saved_table (read) -- MODE hardware: the table found at start, put back at cleanup
    key (read) -- the RSS hash key, hex
    count (read) -- ACTIVE true: packets emitted
    restore (write) -- MODE hardware: put the saved table back now

    Example
    fd :: FromDevice(eth0, ACTIVE false) -> Discard;
    db :: DeviceBalancer(METHOD rsspp, DEV fd, CPUS 8, RSSCOUNTER xdp, CYCLES realcpu);
    xdp :: XDPLoader(PATH conf/bpf/xdp_count.o, DEV eth0, CLEAN false);
    """

    port_count = "0/1"
    #: Opens the NIC's table: ``backend(ifname)``, an RssDevice and context
    #: manager with ``read() -> RssConfig``, ``driver()`` and ``close()``.
    hardware_backend: ClassVar[Callable[[str], Any]] = EthtoolRSS
    #: Builds software RSS: ``backend(ifname, reta_size, cpus, key, mode)``,
    #: an RssDevice with ``start()``, ``stop()`` and ``started``.
    software_backend: ClassVar[Callable[..., Any]] = SoftwareRSS
    #: Whether this process may change interfaces (CAP_NET_ADMIN); asked at initialize.
    may_change_devices: ClassVar[Callable[[], bool]] = staticmethod(has_net_admin)

    def configure(self, args: Args) -> None:
        # Asked before reading: has() does not see arguments already read.
        self._software_given = [k for k in SOFTWARE_KEYWORDS if args.has(k)]
        self.ifname: str = args.read_mp("IFNAME", WORD)
        self.active: bool = args.read("ACTIVE", BOOL, False)
        self.wanted_mode: str = args.read("MODE", Choice("auto", "hardware", "software"), "auto")
        self.wanted_size: int | None = args.read("RETA_SIZE", UNSIGNED.range(1, 65536))
        self.queue_cpus: list[int] | None = args.read("QUEUE_CPUS",
                                                      ListOf(UNSIGNED.range(0, 4095)))
        self.key: bytes | None = args.read("KEY", BYTES)
        self.xdp_mode: str = args.read("XDP_MODE", Choice(*XDP_MODES), "auto")
        self.burst: int = args.read("BURST", UNSIGNED.range(1, 65536), DEFAULT_BURST)
        if self.active and self.router.simtime:
            args.error("ACTIVE true receives live packets and cannot run in simulated time")
        if self.wanted_mode == "hardware" and self._software_given:
            args.error(f"{', '.join(self._software_given)}: only used by MODE software")
        #: hardware or software, chosen at initialize.
        self.mode = ""
        self.driver = ""
        self.device: Any = None
        self._probed: RssConfig | None = None
        self._saved: np.ndarray | None = None
        self._changed = False
        self._guard: int | None = None
        self._claim: InterfaceClaim | None = None
        self._table_lock = threading.Lock()
        self._receiver: _Receiver | None = None
        self.received = 0

    # --- choosing hardware or software RSS (at initialize: configure touches no interface)
    def _choose_mode(self) -> None:
        if self.wanted_mode != "software":
            try:
                self._probe_hardware()
                return
            except NoRssTable as err:
                if self.wanted_mode == "hardware":
                    self._fail(f"{err} (MODE software)")
                self.log.info("%s: driver '%s' has no RSS table; using software RSS "
                              "(XDP and a CPUMAP)", self.ifname, err.driver)
                self.driver = err.driver
        self._prepare_software()

    def _probe_hardware(self) -> None:
        with self.hardware_backend(self.ifname) as device:
            self._probed = device.read()
            self.driver = device.driver()
        self.mode = "hardware"
        size = self._probed.table.size
        if self.wanted_size not in (None, size):
            self._fail(f"RETA_SIZE {self.wanted_size} differs from the {size} entries of the "
                       f"RSS table of '{self.ifname}' (a NIC's table size is fixed; omit "
                       f"RETA_SIZE)")
        if self._software_given:
            self.log.warning("%s: %s ignored, '%s' has a hardware RSS table", self.ifname,
                             ", ".join(self._software_given), self.ifname)

    def _prepare_software(self) -> None:
        if not self.driver:
            self.driver = NetDevice(self.ifname).driver()
        try:
            self.device = self.software_backend(
                self.ifname, reta_size=self.wanted_size or DEFAULT_SOFTWARE_RETA_SIZE,
                cpus=self.queue_cpus, key=self.key or DEFAULT_KEY, mode=self.xdp_mode,
                ledger=self._claim, owner=self.name)
        except ValueError as err:
            self._fail(str(err))
        self.mode = "software"
        others = [element for element in self.router.elements if element is not self]
        if running_on(self.ifname, others) is not None:
            self._fail(f"software RSS already runs on {self.ifname}")

    def _fail(self, message: str) -> None:
        raise ConfigError(f"While initializing '{self.declaration()}': {message}", self.landmark)

    # --- lifecycle
    def initialize(self) -> None:
        if not self.may_change_devices():
            self._fail(f"changing the RSS table of '{self.ifname}' needs root or CAP_NET_ADMIN")
        try:
            self._claim = self.router.exit_guard.claim(self.ifname, self.hardware_backend)
        except (InterfaceBusy, RestoreError, RecordError, OSError) as err:
            self._fail(str(err))
        try:
            self._choose_mode()
            if self.mode == "hardware":
                self._open_hardware()
            else:
                self.device.start()
                self._guard = self.router.exit_guard.on_exit(
                    f"software RSS on {self.ifname}", self.device.stop)
            if self.active:
                self._receiver = _Receiver(self)
        except DeviceError as err:
            self._release()
            self._fail(str(err))
        except BaseException:
            self._release()
            raise

    def _open_hardware(self) -> None:
        self.device = self.hardware_backend(self.ifname)
        self._saved = self.device.read_table()
        self._claim.note_table(self._saved.tolist())
        self._guard = self.router.exit_guard.on_exit(f"RSS table of {self.ifname}",
                                                     self._restore_at_exit)
        self.log.info("%s (%s): %d-entry RSS table over %d queues saved, restored at exit",
                      self.ifname, self.driver, self._saved.size, self.device.queue_count())

    def cleanup(self) -> None:
        self._release()

    def _release(self) -> None:
        """Stop receiving, put the kernel back as found, and let go of the device."""
        try:
            if self._receiver is not None:
                self._receiver.stop()
                self._receiver = None
            if self._guard is not None:
                self.router.exit_guard.cancel(self._guard)
                self._guard = None
            if self.mode == "hardware":
                with self._table_lock:
                    self._restore()
                if self._claim is not None:
                    self._claim.forget_table()
            elif self.device is not None:
                self.device.stop()
        finally:
            if self.mode == "hardware" and self.device is not None:
                self.device.close()
                self.device = None
            if self._claim is not None:
                self.router.exit_guard.unclaim(self._claim)
                self._claim = None

    def _restore(self) -> None:
        """Write the saved table back if this run changed it; call with the table lock."""
        if self._changed and self._saved is not None and self.device is not None:
            self.device.write_table(self._saved)
            self._changed = False
            self.log.info("%s: RSS table restored", self.ifname)

    def _restore_at_exit(self) -> None:
        # The exit may interrupt the thread that holds the lock: then give up
        # rather than wait for ourselves.
        if self._table_lock.acquire(timeout=EXIT_RESTORE_WAIT):
            try:
                self._restore()
                if self._claim is not None:
                    self._claim.forget_table()
            finally:
                self._table_lock.release()

    def _initialized_device(self) -> Any:
        if self.device is None or (self.mode == "software" and not self.device.started):
            raise RuntimeError(f"FromDevice '{self.name}' is not initialized")
        return self.device

    # --- RssDevice
    def reta_size(self) -> int:
        if self.mode == "hardware":
            return int(self._probed.table.size)
        return self._initialized_device().reta_size()

    def queue_count(self) -> int:
        if self.mode == "hardware":
            return self._probed.queues
        return self._initialized_device().queue_count()

    def hash_key(self) -> bytes:
        if self.mode == "hardware":
            return self._probed.key or DEFAULT_KEY
        return self._initialized_device().hash_key()

    def read_table(self) -> np.ndarray:
        return self._initialized_device().read_table()

    def write_table(self, table: np.ndarray) -> None:
        device = self._initialized_device()
        with self._table_lock:
            # Marked first: a write that fails half-way still needs the restore.
            self._changed = True
            device.write_table(table)

    # --- what others ask besides the table (seams.QueueDescription, softrss.SoftwareRssHost)
    def describe_queues(self) -> str:
        """Where the queue count comes from and how to change it, for error messages."""
        if self.mode == "hardware":
            return (f"'{self.ifname}' ({self.driver}) has {self.queue_count()} RX queues; "
                    f"'ethtool -L {self.ifname} combined N' changes the count")
        return (f"software RSS on '{self.ifname}' steers to {self.queue_count()} CPUs; "
                f"QUEUE_CPUS of '{self.name}' chooses them")

    def software_rss(self, ifname: str) -> SoftwareRSS | None:
        """The software RSS this element runs on ``ifname``, if it runs one."""
        if self.mode == "software" and ifname == self.ifname and self.device is not None \
                and self.device.started:
            return self.device
        return None

    # --- handlers
    @read_handler("mode")
    def _read_mode(self) -> str:
        return self.mode

    @read_handler("driver")
    def _read_driver(self) -> str:
        return self.driver

    @read_handler("reta_size")
    def _read_reta_size(self) -> str:
        return str(self.reta_size())

    @read_handler("queues")
    def _read_queues(self) -> str:
        return str(self.queue_count())

    @read_handler("table")
    def _read_table(self) -> str:
        return " ".join(str(q) for q in self.read_table().tolist())

    @read_handler("saved_table")
    def _read_saved_table(self) -> str:
        return "" if self._saved is None else " ".join(str(q) for q in self._saved.tolist())

    @read_handler("key")
    def _read_key(self) -> str:
        return self.hash_key().hex()

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.received)

    @write_handler("restore")
    def _write_restore(self, value: str) -> None:
        if self.mode != "hardware":
            raise ValueError("only MODE hardware saves a table to restore")
        self._initialized_device()
        with self._table_lock:
            self._restore()


class _Receiver:
    """ACTIVE true: frames from a TPACKET_V3 ring, pushed as packet batches.

    A waiter thread blocks until frames are waiting, then schedules a task
    on FromDevice's home thread, which emits up to BURST frames per run
    and runs again while more wait. The waiter sleeps while the task
    drains, so an idle interface costs nothing.
    """

    WAIT = 0.1

    def __init__(self, element: FromDevice):
        self.element = element
        self.key = element.hash_key()
        self.socket = ReceiveRing(element.ifname)
        self.task = Task(element, self._emit)
        self._drained = threading.Event()
        self._drained.set()
        self._stopping = threading.Event()
        self._waiter = threading.Thread(target=self._wait_for_frames, daemon=True,
                                        name=f"{element.name} receive")
        self._waiter.start()

    def _wait_for_frames(self) -> None:
        while not self._stopping.is_set():
            if self._drained.wait(self.WAIT) and self.socket.wait(self.WAIT):
                self._drained.clear()
                self.task.reschedule()

    def _emit(self) -> bool:
        frames = self.socket.receive(self.element.burst)
        if len(frames) == self.element.burst:
            self.task.reschedule()
        else:
            self._drained.set()
        if not frames:
            return False
        now = self.element.router.now()
        batch = []
        for frame in frames:
            flow = parse_frame(frame.data)
            batch.append(Packet(frame.data, now, rss_hash(self.key, flow), flow))
        self.element.received += len(batch)
        self.element.output_push(0, batch)
        return True

    def stop(self) -> None:
        self._stopping.set()
        self._waiter.join()
        self.task.unschedule()
        self.socket.close()
