"""ToDevice: pulls packets and sends them out of an interface."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyclick.args import BOOL, UNSIGNED, WORD, Args, Choice
from pyclick.element import CONFIGURE_PHASE_PRIVILEGED, PULL_TO_PUSH, read_handler, write_handler
from pyclick.elements.argtypes import PACKET_SOCKET_METHODS
from pyclick.elements.kernelsender import KernelSender
from pyclick.elements.polldevice import initialize_failed, live_only
from pyclick.packet import Packet
from pyclick.runtime.notifier import upstream_empty_signal
from pyclick.runtime.timers import Timer

if TYPE_CHECKING:
    from pyclick.kernel.ring import SendSocket

#: How long ToDevice waits before retrying when the interface's queue is full.
FULL_QUEUE_RETRY = 0.001


class ToDevice(KernelSender):
    """ToDevice(DEVNAME, KEYWORDS) -- sends packets to network device

    Description
    Pulls packets from its input and sends them out of the Linux
    interface DEVNAME through an AF_PACKET socket. Packets must already
    carry their link-level header (ARP already done). Its task pulls at
    most BURST packets each time it runs; when nothing comes back and the
    elements upstream say nothing will (an empty Queue), the task sleeps
    until a packet arrives.

    When the interface's transmit queue is full, ToDevice keeps the packet
    it could not send and tries again shortly (DEBUG true logs each time),
    so a full queue pushes back on the Queue upstream instead of losing
    packets. Packets sent are pushed out output 0, if connected; packets
    the kernel refuses (too long for the interface's MTU, for example) are
    pushed out output 1, if connected, and counted as drops.

    Frames ToDevice sends are not received by a PollDevice on the same
    interface. ToDevice needs real time and CAP_NET_RAW; it opens DEVNAME
    when the router starts, and changes nothing on it.

    Ports
    one pull input; optional push outputs 0 (sent) and 1 (refused)

    Keyword arguments
    DEVNAME -- interface name, mandatory
    BURST -- most packets pulled per scheduling, at least 1; default 1
    METHOD -- LINUX or PCAP: Click's two ways to send on Linux, both an AF_PACKET socket here; default LINUX
    DEBUG -- boolean: log each retry after a full transmit queue; default false

    Element handlers
    count (read) -- packets sent
    drops (read) -- packets the kernel refused
    pulls (read) -- packets pulled from the input
    reset_counts (write) -- sets count, drops and pulls to 0

    Example
    InfiniteSource(LIMIT 10) -> Queue -> ToDevice(eth0, BURST 8);
    """

    port_count = "1/0-2"
    processing = PULL_TO_PUSH
    # Click's: right after FromDevice.
    configure_phase = CONFIGURE_PHASE_PRIVILEGED
    flags = "S2"

    def configure(self, args: Args) -> None:
        self.devname: str = args.read_mp("DEVNAME", WORD)
        self.burst: int = args.read_p("BURST", UNSIGNED.range(1, 1 << 20), 1)
        # Either method sends through the same socket here: checked, not kept.
        args.read("METHOD", Choice(*PACKET_SOCKET_METHODS), "LINUX")
        self.debug: bool = args.read("DEBUG", BOOL, False)
        args.complete()
        live_only(self, args)
        self.count = 0
        self.drops = 0
        self.pulls = 0
        #: A packet the full queue refused, sent before anything else is pulled.
        self._pending: Packet | None = None
        self._socket: SendSocket | None = None
        self._task = self.own_task(self._run)
        self._retry = Timer(self, self._task.reschedule)

    def initialize(self) -> None:
        # The device layer (and pyroute2) is loaded by a router that opens a device, not by
        # --list, --doc or a checked configuration.
        from pyclick.kernel.netdev import DeviceError
        from pyclick.kernel.ring import SendSocket

        try:
            self._socket = SendSocket(self.devname)
        except (DeviceError, OSError) as err:
            raise initialize_failed(self, err) from err
        self._signal = upstream_empty_signal(self, 0, self._task.reschedule)
        self._task.reschedule()

    def cleanup(self) -> None:
        self._retry.unschedule()
        self._task.unschedule()
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def _run(self) -> bool:
        assert self._socket is not None
        sent: list[Packet] = []
        refused: list[Packet] = []
        full = False
        budget = self.burst
        while budget:
            packet = self._pending
            if packet is None:
                packet = self.input_pull(0)
                if packet is None:
                    break
                self.pulls += 1
            try:
                delivered = self._socket.send(packet.data)
            except OSError:
                self._pending = None
                refused.append(packet)
                budget -= 1
                continue
            if not delivered:
                self._pending = packet
                full = True
                break
            self._pending = None
            sent.append(packet)
            budget -= 1
        self.count += len(sent)
        self.drops += len(refused)
        if sent:
            self.output_push(0, sent)
        if refused:
            self.output_push(1, refused)
        if full:
            if self.debug:
                self.log.info("%s: transmit queue full, retrying in %g s", self.declaration(),
                              FULL_QUEUE_RETRY)
            self._retry.schedule_after(FULL_QUEUE_RETRY)
        elif budget == 0 or self._signal:
            self._task.reschedule()
        return bool(sent or refused)

    @read_handler("pulls")
    def _read_pulls(self) -> str:
        return str(self.pulls)

    @write_handler("reset_counts")
    def _write_reset(self, value: str) -> None:
        self.count = self.drops = self.pulls = 0
