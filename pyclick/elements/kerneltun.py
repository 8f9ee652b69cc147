"""KernelTun and KernelTap: IP packets, or Ethernet frames, to and from the
kernel through a TUN or TAP device."""

from __future__ import annotations

from pyclick.args import BOOL, UNSIGNED, WORD, Args
from pyclick.element import CONFIGURE_PHASE_PRIVILEGED, read_handler
from pyclick.elements.inet import ETHERADDR, IPPREFIX
from pyclick.elements.tundevice import TunTapElement, read_gateway, tap_address
from pyclick.packet import Packet
from pyclick.runtime.notifier import upstream_empty_signal
from pyclick.runtime.tasks import Task

#: Packets a pull input takes per task run.
PULL_BURST = 32
_IP_HEADER = 20
_ETHER_HEADER = 14


def is_ipv4(data: bytes) -> bool:
    """Whether ``data`` starts with a plausible IPv4 header as long as it says."""
    if len(data) < _IP_HEADER or data[0] >> 4 != 4 or (data[0] & 0xF) * 4 < _IP_HEADER:
        return False
    return int.from_bytes(data[2:4], "big") <= len(data)


class KernelTun(TunTapElement):
    """KernelTun(ADDR, GATEWAY, KEYWORDS) -- interface to a Linux TUN device

    Description
    Creates a TUN device through the universal TUN/TAP driver
    (/dev/net/tun), gives the kernel the address ADDR on it (an address
    with its prefix length, such as 192.0.2.1/24), and brings it up, so
    that the kernel routes the prefix through the device. IP packets the
    kernel sends to the prefix are emitted on output 0, at most BURST per
    scheduling; anything else the kernel sends (not IPv4, or a truncated
    header) goes out output 1 if it exists and is dropped otherwise.
    GATEWAY, an address in ADDR's network, adds a default route through
    that host on the device, so that the kernel sends every destination it
    has no other route for into the router (refused when the host already
    has a default route).

    IP packets that arrive on the input, pushed or pulled, are handed to
    the kernel as if they came in on the device. Packets longer than MTU
    are dropped, as are those the kernel refuses.

    With TAP true the device is a TAP device, as KernelTap's: Ethernet
    frames both ways, every frame the kernel sends out of output 0, and
    ETHER sets the device's Ethernet address (the kernel only takes frames
    sent to that address).

    Packets addressed to ADDR itself are answered by the kernel: say
    KernelTun(192.0.2.1/24) runs, 'ping 192.0.2.1' never reaches the
    router, but 'ping 192.0.2.2' does. The device, its address and its
    route disappear when KernelTun closes it, however the process ends.
    KernelTun needs real time and CAP_NET_ADMIN; it creates the device when
    the router starts.

    Ports
    zero or one agnostic input; one or two push outputs

    Keyword arguments
    ADDR -- the kernel's address and prefix on the device, mandatory
    GATEWAY -- the host to route every other destination to, in ADDR's network; default none
    DEVNAME, DEV_NAME -- the device's name; default the kernel's choice (tun0...)
    TAP -- a TAP device (Ethernet frames) rather than TUN; default false
    ETHER -- the TAP device's Ethernet address; default the kernel's choice
    BURST -- most packets emitted per scheduling, at least 1; default 1
    MTU -- the device's MTU; default 1500
    HEADROOM -- bytes of headroom in each packet; default 28
    IGNORE_QUEUE_OVERFLOWS -- accepted for Click's sake: a packet the kernel has no room for is counted in drops, never reported; default false

    Element handlers
    dev_name (read) -- the device's name
    count (read) -- packets emitted on output 0
    drops (read) -- input packets dropped (too long, or refused by the kernel)

    Example
    tun :: KernelTun(192.0.2.1/24);
    tun -> IPPrint(tun) -> tun;
    """

    port_count = "0-1/1-2"
    processing = "a/h"
    flow_code = "x/y"
    # Click's: with the device elements, before the default phase.
    configure_phase = CONFIGURE_PHASE_PRIVILEGED - 1
    #: Whether TAP is true unless the configuration says otherwise.
    default_tap = False

    def configure(self, args: Args) -> None:
        self.address = tap_address(args.read_mp("ADDR", IPPREFIX))
        self.gateway = read_gateway(args, self.address, positional=True)
        self.devname = args.read("DEVNAME", WORD, "")
        # Click's older name for DEVNAME, still read there.
        self.devname = args.read("DEV_NAME", WORD, self.devname)
        self.tap = args.read("TAP", BOOL, self.default_tap)
        self.ether = args.read("ETHER", ETHERADDR)
        self.burst = args.read("BURST", UNSIGNED.range(1, 1 << 20), 1)
        args.read("IGNORE_QUEUE_OVERFLOWS", BOOL, False)
        self.read_device_settings(args)
        self.drops = 0
        self._pull_task: Task | None = None

    def initialize(self) -> None:
        super().initialize()
        if self.ninputs and self.input_is_pull(0):
            self._pull_task = self.own_task(self._pull)
            self._signal = upstream_empty_signal(self, 0, self._pull_task.reschedule)
            self._pull_task.reschedule()

    def cleanup(self) -> None:
        if self._pull_task is not None:
            self._pull_task.unschedule()
            self._pull_task = None
        super().cleanup()

    def emit(self, frames: list[tuple[bytes, Packet]]) -> None:
        good: list[Packet] = []
        bad: list[Packet] = []
        for raw, packet in frames:
            if self.tap:
                packet.set_mac_header(0, _ETHER_HEADER)
                good.append(packet)
            elif is_ipv4(raw):
                packet.set_network_header(0, (raw[0] & 0xF) * 4)
                good.append(packet)
            else:
                bad.append(packet)
        self.count += len(good)
        if good:
            self.output_push(0, good)
        if bad:
            self.output_push(1, bad)

    def push(self, port: int, batch: list[Packet]) -> None:
        device = self.device
        limit = self.mtu + (_ETHER_HEADER if self.tap else 0)
        for packet in batch:
            if device is None or len(packet) > limit or not device.write(packet.data):
                self.drops += 1

    def _pull(self) -> bool:
        assert self._pull_task is not None
        batch = self.input_pull_batch(0, PULL_BURST)
        if batch:
            self.push(0, batch)
        if len(batch) == PULL_BURST or self._signal:
            self._pull_task.reschedule()
        return bool(batch)

    @read_handler("drops")
    def _read_drops(self) -> str:
        return str(self.drops)


class KernelTap(KernelTun):
    """KernelTap(ADDR, GATEWAY, KEYWORDS) -- interface to a Linux TAP device

    Description
    KernelTun on a TAP device: creates a TAP device, gives the kernel the
    address ADDR on it (such as 192.0.2.1/24) and brings it up. Every
    Ethernet frame the kernel sends out of the device is emitted on output
    0; frames arriving on the input are handed to the kernel as received
    on the device. Give the device its Ethernet address with ETHER and
    send the kernel frames addressed to it, or the kernel ignores them.
    The kernel asks for its neighbours' Ethernet addresses with ARP: answer
    with an ARPResponder. KernelTap takes KernelTun's keywords (TAP is
    true); see KernelTun.

    Ports
    zero or one agnostic input; one or two push outputs

    Keyword arguments
    ADDR -- the kernel's address and prefix on the device, mandatory
    ETHER -- the device's Ethernet address; default the kernel's choice
    GATEWAY, DEVNAME, BURST, MTU, HEADROOM, IGNORE_QUEUE_OVERFLOWS -- as KernelTun's

    Element handlers
    dev_name (read) -- the device's name
    count (read) -- frames emitted on output 0
    drops (read) -- input frames dropped (too long, or refused by the kernel)

    Example
    tap :: KernelTap(192.0.2.1/24, ETHER 2:2:2:2:2:2)
        -> c :: Classifier(12/0806, -);
    c[0] -> ARPResponder(0/0 1:1:1:1:1:1) -> tap;
    c[1] -> Discard;
    """

    default_tap = True
