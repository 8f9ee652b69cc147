"""FromHost: a TAP device, the frames the kernel sends to it, and the file
ToHost writes through."""

from __future__ import annotations

from pyclick.args import WORD, Args
from pyclick.elements.inet import ETHERADDR, IPPREFIX
from pyclick.elements.tundevice import TunTapElement, read_gateway, tap_address
from pyclick.packet import Packet


class FromHost(TunTapElement):
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
    MTU. GATEWAY, an address in DST's network, adds a default route
    through that host on the device (refused when the host already has a
    default route). The device is up while the router runs and disappears,
    with its address and routes, when FromHost closes it, however the
    process ends.
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
    GATEWAY -- the host to route every other destination to, in DST's network; default none
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
        self.devname = args.read_mp("DEVNAME", WORD)
        self.address = tap_address(args.read_p("DST", IPPREFIX))
        self.gateway = read_gateway(args, self.address, positional=False)
        self.ether = args.read("ETHER", ETHERADDR)
        self.read_device_settings(args)

    def emit(self, frames: list[tuple[bytes, Packet]]) -> None:
        self.count += len(frames)
        self.output_push(0, [packet for _, packet in frames])
