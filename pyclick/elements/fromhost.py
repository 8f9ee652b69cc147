"""FromHost: a TAP device, the frames the kernel sends to it, and the file
ToHost writes through."""

from __future__ import annotations

import ipaddress

from pyclick.args import UNSIGNED, WORD, Args
from pyclick.element import Element, read_handler
from pyclick.elements.inet import ETHERADDR, IPPREFIX
from pyclick.elements.polldevice import ReceiveTask, initialize_failed, live_only
from pyclick.kernel.netdev import DeviceError
from pyclick.kernel.tap import TunDevice
from pyclick.packet import DEFAULT_HEADROOM, Packet

#: Frames emitted per task run.
BURST = 32
DEFAULT_MTU = 1500


def tap_address(address: tuple[bytes, int] | None) -> ipaddress.IPv4Interface | None:
    """The interface address of an IPPREFIX value."""
    if address is None:
        return None
    ip, length = address
    return ipaddress.IPv4Interface((ipaddress.IPv4Address(ip), length))


class FromHost(Element):
    """FromHost(DEVNAME, DST, KEYWORDS) -- interface to a Linux TAP device

    Description
    Creates the TAP device DEVNAME through the universal TUN/TAP driver
    (/dev/net/tun) and emits, on its single output, every Ethernet frame
    the kernel sends out of it. ToHost(DEVNAME) hands frames the other
    way: the kernel receives them as if they had come in on DEVNAME.

    When DST, an address with its prefix length such as 192.0.2.1/24, is
    given, the device gets it as the kernel's own address on DEVNAME, so
    the kernel routes the prefix through the device. ETHER sets the
    device's Ethernet address (by default the kernel picks one); MTU its
    MTU. The device is up while the router runs and disappears, with its
    address and routes, when FromHost closes it, however the process ends.
    The kernel will ask for the Ethernet addresses of the hosts behind the
    device with ARP: answer those requests (ARPResponder) or enter the
    neighbours statically.

    FromHost needs real time and CAP_NET_ADMIN; it creates the device when
    the router starts (checking a configuration creates nothing).

    Ports
    no inputs, one push output

    Keyword arguments
    DEVNAME -- name of the TAP device to create, mandatory
    DST -- the kernel's address and prefix on the device; default none
    ETHER -- the device's Ethernet address; default the kernel's choice
    MTU -- the device's MTU; default 1500
    HEADROOM -- bytes of headroom in each packet; default 28

    Element handlers
    dev_name (read) -- the device's name
    count (read) -- frames emitted

    Example
    FromHost(fake0, 192.0.2.1/24) -> Print(fromhost) -> Discard;
    """

    port_count = "0/1"

    def configure(self, args: Args) -> None:
        self.devname: str = args.read_mp("DEVNAME", WORD)
        self.dst = tap_address(args.read_p("DST", IPPREFIX))
        self.ether: bytes | None = args.read("ETHER", ETHERADDR)
        self.mtu: int = args.read("MTU", UNSIGNED.range(68, 65535), DEFAULT_MTU)
        self.headroom: int = args.read("HEADROOM", UNSIGNED.range(0, 1 << 16), DEFAULT_HEADROOM)
        args.complete()
        live_only(self, args)
        self.count = 0
        self.device: TunDevice | None = None
        self._receiver: ReceiveTask | None = None

    def initialize(self) -> None:
        try:
            self.device = TunDevice(self.devname, tap=True)
            self.device.set_up(prefix=self.dst, ether=self.ether, mtu=self.mtu)
        except (DeviceError, OSError) as err:
            self.cleanup()
            raise initialize_failed(self, err) from err
        self._receiver = ReceiveTask(self, self.device, BURST, self._emit)

    def cleanup(self) -> None:
        if self._receiver is not None:
            self._receiver.stop()
            self._receiver = None
        if self.device is not None:
            self.device.close()
            self.device = None

    def _emit(self, limit: int) -> int:
        assert self.device is not None
        frames = self.device.read(limit)
        if frames:
            now = self.router.now()
            self.count += len(frames)
            self.output_push(0, [Packet.make(f, headroom=self.headroom, timestamp=now)
                                 for f in frames])
        return len(frames)

    @read_handler("dev_name")
    def _read_dev_name(self) -> str:
        return self.devname

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)
