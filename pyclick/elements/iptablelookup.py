"""LookupIPRouteMP and LinuxIPLookup: Click's routing elements built on its
simplest table, a list of routes searched whole for the most specific match.

Unlike the tables of ``iproutetable``, this one takes two routes for one
network without complaint; of two equally specific matches the later route
wins, as Click's IPTable decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyclick.args import INT, Args, split_words
from pyclick.element import PUSH, Element
from pyclick.elements.inet import IP_OR_PREFIX, IPADDR
from pyclick.elements.iproutetable import prefix_mask
from pyclick.errors import ConfigError
from pyclick.packet import Packet

#: Where the kernel lists its IPv4 routes; read once, when the router starts.
ROUTE_FILE = "/proc/net/route"
_SYNTAX = "should be `DADDR/MASK [GATEWAY] OUTPUT'"


@dataclass(frozen=True)
class TableRoute:
    net: int
    mask: int
    gateway: int
    port: int


def best_route(routes: list[TableRoute], address: int) -> TableRoute | None:
    """The most specific route holding ``address``, the later of two equals."""
    best = None
    for route in routes:
        if address & route.mask == route.net and (best is None
                                                  or route.mask & best.mask == best.mask):
            best = route
    return best


def _hex(address: bytes) -> str:
    # Click prints the address's four bytes as one number read in host
    # (little-endian) order.
    return f"{int.from_bytes(address, 'little'):x}"


def _parse_route(text: str, args: Args) -> TableRoute | None:
    words = split_words(text)
    if len(words) not in (2, 3):
        return None
    try:
        address, prefix = IP_OR_PREFIX(words[0], args)
        port = INT(words[-1], None)
        gateway = IPADDR(words[1], args) if len(words) == 3 else bytes(4)
    except ValueError:
        return None
    if port < 0:
        return None
    mask = prefix_mask(prefix)
    return TableRoute(int.from_bytes(address, "big") & mask, mask,
                      int.from_bytes(gateway, "big"), port)


class TableLookup(Element):
    """Routes packets by their destination annotation through ``self.routes``."""

    registered = False
    processing = PUSH

    def push(self, port: int, batch: list[Packet]) -> None:
        for packet in batch:
            route = best_route(self.routes, int.from_bytes(packet.dst_ip, "big"))
            if route is None:
                self.log.warning("%s: no gw for %s", self.declaration(), _hex(packet.dst_ip))
                self.unrouted(packet)
                continue
            self.routed(packet, route)
            if route.gateway:
                packet.dst_ip = route.gateway.to_bytes(4, "big")
            self.output_push(route.port, [packet])

    def routed(self, packet: Packet, route: TableRoute) -> None:
        pass

    def unrouted(self, packet: Packet) -> None:
        pass


class LookupIPRouteMP(TableLookup):
    """LookupIPRouteMP(DST1/MASK1 [GW1] OUT1, DST2/MASK2 [GW2] OUT2, ...) -- simple static IP routing table

    Description
    Click's multiprocessor version of its original static routing table,
    where each thread keeps its own cache of recent lookups; pyclick's
    lookups need no cache and give the same answers. Each argument is a
    route: a destination network (18.26.4.0/24, 18.26.4.0/255.255.255.0,
    or an address alone for /32), an optional gateway address, and an
    output port. A packet's destination annotation is matched against
    every route: the most specific match wins, and of two equally specific
    ones the later. When the winning route has a gateway (other than
    0.0.0.0), the gateway becomes the packet's destination annotation; the
    packet leaves by the route's output. A packet without a route is
    reported (its destination as Click writes it, the address's bytes as
    one hexadecimal number, last byte first) and dropped. Two routes for
    one network are allowed. A configuration without routes is warned
    about; every output a route names must exist.

    Ports
    one push input; as many push outputs as the routes use

    Example
    InfiniteSource(LIMIT 1) -> SetIPAddress(18.26.4.24)
        -> r :: LookupIPRouteMP(18.26.4.0/24 0, 0.0.0.0/0 18.26.4.1 1);
    r[0] -> Discard; r[1] -> Discard;
    """

    port_count = "1/-"

    def configure(self, args: Args) -> None:
        self.routes: list[TableRoute] = []
        for number, text in enumerate(args.rest(), 1):
            route = _parse_route(text, args)
            if route is None:
                args.error(f"argument {number} {_SYNTAX}")
            else:
                self.routes.append(route)
        args.complete()
        if not self.routes:
            self.log.warning("%s: no routes", self.declaration())
        needed = max((route.port for route in self.routes), default=-1) + 1
        if needed > self.noutputs:
            args.error(f"need {needed} or more output ports")
            args.complete()


class LinuxIPLookup(TableLookup):
    """LinuxIPLookup(DEVNAME0, DEVNAME1, ...) -- interface to Linux's routing table

    Description
    Routes packets by the host's IPv4 routing table, read once from
    /proc/net/route when the router starts (later changes to the host's
    routes are not seen; nothing is changed on the host). Each argument
    names a network device: the routes through the device named by
    argument I lead to output I, and the routes through devices no
    argument names are left out (each one reported when the table is
    read). Each packet's destination annotation is matched against the
    routes: the most specific match wins, and of two equally specific
    ones the later in the kernel's list. When the route has a gateway, the
    gateway becomes the packet's destination annotation. Every routed
    packet is reported with its destination, gateway and output; the
    addresses are written as Click writes them, the address's bytes as
    one hexadecimal number, last byte first. A packet without a route is
    reported and leaves by output N, N being the number of arguments; it
    is dropped when that output is absent. The element must have N or N+1
    outputs.

    Ports
    one push input; N or N+1 push outputs

    Example
    FromDevice(eth2) -> Strip(14) -> CheckIPHeader -> GetIPAddress(16)
        -> r :: LinuxIPLookup(eth0, eth1);
    r[0] -> Queue -> ToDevice(eth0);
    r[1] -> Queue -> ToDevice(eth1);
    r[2] -> Discard;
    """

    port_count = "1/1-"

    def configure(self, args: Args) -> None:
        self.devices = args.rest()
        args.complete()
        count = len(self.devices)
        if not count <= self.noutputs <= count + 1:
            args.error(f"need {count} or {count + 1} output ports")
            args.complete()

    def initialize(self) -> None:
        try:
            with open(ROUTE_FILE, encoding="ascii", errors="replace") as lines:
                table = lines.read().splitlines()
        except OSError:
            raise ConfigError(f"{self.declaration()}: cannot open {ROUTE_FILE}",
                              self.landmark) from None
        self.routes = []
        for line in table:
            route = self._kernel_route(line.split())
            if route is not None:
                self.routes.append(route)

    def _kernel_route(self, fields: list[str]) -> TableRoute | None:
        # Iface Destination Gateway Flags RefCnt Use Metric Mask ...: the
        # addresses are hexadecimal, their bytes read in host (little-endian) order.
        try:
            net, gateway, mask = (int.from_bytes(int(fields[n], 16).to_bytes(4, "little"), "big")
                                  for n in (1, 2, 7))
        except (IndexError, ValueError, OverflowError):
            return None
        if fields[0] not in self.devices:
            self.log.warning("%s: no output for dev %s", self.declaration(), fields[0])
            return None
        return TableRoute(net & mask, mask, gateway, self.devices.index(fields[0]))

    def routed(self, packet: Packet, route: TableRoute) -> None:
        self.log.info("%s: routed %s to %s %d", self.declaration(), _hex(packet.dst_ip),
                      _hex(route.gateway.to_bytes(4, "big")), route.port)

    def unrouted(self, packet: Packet) -> None:
        if len(self.devices) < self.noutputs:
            self.output_push(len(self.devices), [packet])
