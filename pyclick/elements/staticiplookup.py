"""StaticIPLookup: a fixed routing table, longest prefix first."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from pyclick.args import Args
from pyclick.element import PUSH, Element, read_handler
from pyclick.elements.inet import IP_OR_PREFIX, IPADDR, unparse_ip
from pyclick.packet import Packet

#: Packets without a route are reported this many times, then silently dropped.
COMPLAINTS = 5


@dataclass(frozen=True)
class Route:
    net: int
    prefix: int
    gateway: bytes | None
    port: int

    @property
    def mask(self) -> int:
        return (0xFFFFFFFF << (32 - self.prefix)) & 0xFFFFFFFF

    def text(self) -> str:
        """The table line: network, gateway ('-' for none) and port, each
        column ended by a tab, and a second tab after a short one (as Click)."""
        net = f"{ipaddress.IPv4Address(self.net)}/{self.prefix}\t"
        gateway = ("-" if self.gateway is None else unparse_ip(self.gateway)) + "\t"
        return (net + ("\t" if len(net) < 17 else "") + gateway
                + ("\t" if len(gateway) < 9 else "") + str(self.port))


def parse_route(text: str, args: Args | None = None) -> tuple[ipaddress.IPv4Network,
                                                              bytes | None, int]:
    """``ADDR/MASK [GW] OUT``; ValueError saying what is wrong. Addresses may be
    names (AddressInfo)."""
    words = text.split()
    if len(words) not in (2, 3):
        raise ValueError("expected 'ADDR/MASK [GW] OUT'")
    try:
        network = ipaddress.IPv4Network(IP_OR_PREFIX(words[0], args), strict=False)
    except ValueError:
        raise ValueError(f"bad network '{words[0]}'") from None
    gateway = IPADDR(words[1], args) if len(words) == 3 else None
    if not words[-1].isdigit():
        raise ValueError(f"bad output port '{words[-1]}'")
    return network, gateway, int(words[-1])


class StaticIPLookup(Element):
    """StaticIPLookup(ADDR1/MASK1 [GW1] OUT1, ADDR2/MASK2 [GW2] OUT2, ...) -- simple static IP routing table

    Description
    Routes packets by their destination IP address annotation (set by
    CheckIPHeader, GetIPAddress or SetIPAddress). Each argument is a
    route: a destination network (18.26.4.0/24 or 18.26.4.0/255.255.255.0),
    an optional gateway address, and an output port. The route with the
    longest prefix that holds the destination wins; its gateway, when it
    has one, becomes the packet's destination annotation, and the packet
    leaves by the route's output. Packets without a route are dropped (the
    first five are reported). The table is searched linearly: it suits
    small tables. Two routes for one network are an error.

    Ports
    one push input; as many push outputs as the routes use

    Element handlers
    table (read) -- the routes, one per line: network, gateway ('-' for none), output
    lookup (read with parameter) -- takes an address; returns the output port and the gateway, if any ('-1' without a route)

    Example
    // Packets for 18.26.4.24 to output 0, the others to output 1, those
    // outside 18.26.4.0/24 through the gateway 18.26.4.1.
    InfiniteSource(LIMIT 1) -> SetIPAddress(18.26.4.24)
        -> r :: StaticIPLookup(18.26.4.24/32 0, 18.26.4.0/24 1, 0.0.0.0/0 18.26.4.1 1);
    r[0] -> Discard; r[1] -> Discard;
    """

    port_count = "1/-"
    processing = PUSH

    def configure(self, args: Args) -> None:
        routes: list[Route] = []
        seen: set[tuple[int, int]] = set()
        for number, text in enumerate(args.rest(), 1):
            try:
                network, gateway, port = parse_route(text, args)
            except ValueError as err:
                args.error(f"route {number}: {err}")
                continue
            key = (int(network.network_address), network.prefixlen)
            if port >= self.noutputs:
                args.error(f"route {number}: output {port} out of range "
                           f"(the element has {self.noutputs} outputs)")
            elif key in seen:
                args.error(f"route {number}: a route for {network} already exists")
            else:
                seen.add(key)
                routes.append(Route(key[0], key[1], gateway, port))
        args.complete()
        self.routes = routes
        #: The routes to try, longest prefix first.
        self._search = sorted(routes, key=lambda r: -r.prefix)
        self._complaints = 0

    def lookup(self, destination: bytes) -> Route | None:
        address = int.from_bytes(destination, "big")
        for route in self._search:
            if address & route.mask == route.net:
                return route
        return None

    def push(self, port: int, batch: list[Packet]) -> None:
        groups: dict[int, list[Packet]] = {}
        for packet in batch:
            route = self.lookup(packet.dst_ip)
            if route is None:
                self._complain(packet)
                continue
            if route.gateway is not None:
                packet.dst_ip = route.gateway
            groups.setdefault(route.port, []).append(packet)
        for output, group in groups.items():
            self.output_push(output, group)

    def _complain(self, packet: Packet) -> None:
        self._complaints += 1
        if self._complaints <= COMPLAINTS:
            self.log.warning("%s: no route for %s", self.declaration(),
                             unparse_ip(packet.dst_ip))

    def initialize(self) -> None:
        self.router.handlers.add_read(self, "lookup", self._lookup_handler)

    @read_handler("table")
    def _read_table(self) -> str:
        return "".join(route.text() + "\n" for route in self.routes)

    def _lookup_handler(self, params: str) -> str:
        route = self.lookup(IPADDR(params))
        if route is None:
            return "-1"
        return str(route.port) if route.gateway is None else \
            f"{route.port} {unparse_ip(route.gateway)}"
