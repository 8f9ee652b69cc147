"""LookupIP6Route: an IPv6 routing table, longest prefix first."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from pyclick.args import Args
from pyclick.element import PUSH, Element, read_handler, write_handler
from pyclick.elements.inet import IP6ADDR, IP6PREFIX, unparse_ip6
from pyclick.elements.ip6 import DST_IP6
from pyclick.packet import Packet

UNSPECIFIED = bytes(16)


@dataclass(frozen=True)
class Route6:
    network: ipaddress.IPv6Network
    #: The next hop; :: for none (the destination is on the link).
    gateway: bytes
    port: int

    def text(self) -> str:
        """The table line: network, gateway and output, separated by tabs."""
        return f"{self.network}\t{unparse_ip6(self.gateway)}\t{self.port}"


def network6(text: str, args: Args | None = None) -> ipaddress.IPv6Network:
    """An IPv6 network, ``3ffe:1ce1:2::/80`` (host bits ignored) or a bare address (/128)."""
    return ipaddress.IPv6Network(IP6PREFIX(text, args), strict=False)


def parse_route6(text: str, args: Args | None = None) -> Route6:
    """``ADDR/PREFIX [GW] OUT``; ValueError saying what is wrong."""
    words = text.split()
    if len(words) not in (2, 3):
        raise ValueError("expected 'ADDR/PREFIX [GW] OUT'")
    network = network6(words[0], args)
    gateway = IP6ADDR(words[1], args) if len(words) == 3 else UNSPECIFIED
    if not (words[-1].isdigit() and len(words[-1]) <= 5):
        raise ValueError(f"bad output port '{words[-1]}'")
    return Route6(network, gateway, int(words[-1]))


class LookupIP6Route(Element):
    """LookupIP6Route(DST1/PREFIX1 [GW1] OUT1, DST2/PREFIX2 [GW2] OUT2, ...) -- IPv6 routing table

    Description
    Routes IPv6 packets by their destination IPv6 address annotation
    (GetIP6Address sets it). Each argument is a route: a destination
    network (3ffe:1ce1:2::/80; an address alone is a /128), an optional
    gateway, and an output port. The route with the longest prefix that
    holds the destination wins; a gateway other than :: becomes the
    packet's destination annotation, and the packet leaves by the route's
    output. Packets without a route are dropped. A second route for a
    network replaces the first. The table is searched linearly: it suits
    small tables.

    Ports
    one push input; as many push outputs as the routes use

    Element handlers
    table (read) -- the routes, one per line: network, gateway, output, separated by tabs
    add (write) -- adds a route, 'DST/PREFIX [GW] OUT'
    remove (write) -- removes the route for a network, 'DST/PREFIX'
    ctrl (write) -- 'add ROUTE' or 'remove DST/PREFIX'

    Example
    // Packets for 3ffe:1ce1:2::2 to output 0, the rest of 3ffe:1ce1:2::/80 to
    // output 1, everything else through the gateway 3ffe:1ce1:2::1 on output 1.
    InfiniteSource(LIMIT 1) -> GetIP6Address(0)
        -> rt :: LookupIP6Route(3ffe:1ce1:2::2/128 0, 3ffe:1ce1:2::/80 1, ::/0 3ffe:1ce1:2::1 1);
    rt[0] -> Discard; rt[1] -> Discard;
    """

    port_count = "1/-"
    processing = PUSH

    def configure(self, args: Args) -> None:
        self.routes: dict[ipaddress.IPv6Network, Route6] = {}
        #: The routes to try, longest prefix first.
        self._search: list[Route6] = []
        for number, text in enumerate(args.rest(), 1):
            try:
                self._add(parse_route6(text, args))
            except ValueError as err:
                args.error(f"route {number}: {err}")
        args.complete()
        if not self.routes:
            self.log.warning("%s: no routes", self.declaration())

    def _add(self, route: Route6) -> None:
        if route.port >= self.noutputs:
            raise ValueError(f"output {route.port} out of range "
                             f"(the element has {self.noutputs} outputs)")
        self.routes[route.network] = route
        self._sort()

    def _sort(self) -> None:
        self._search = sorted(self.routes.values(), key=lambda r: -r.network.prefixlen)

    def lookup(self, destination: bytes) -> Route6 | None:
        address = ipaddress.IPv6Address(destination)
        for route in self._search:
            if address in route.network:
                return route
        return None

    def push(self, port: int, batch: list[Packet]) -> None:
        groups: dict[int, list[Packet]] = {}
        for packet in batch:
            route = self.lookup(packet.anno_bytes(DST_IP6, 16))
            if route is None:
                continue
            if route.gateway != UNSPECIFIED:
                packet.set_anno_bytes(DST_IP6, route.gateway)
            groups.setdefault(route.port, []).append(packet)
        for output, group in groups.items():
            self.output_push(output, group)

    @read_handler("table")
    def _read_table(self) -> str:
        return "".join(route.text() + "\n" for route in self._search)

    @write_handler("add")
    def _write_add(self, value: str) -> None:
        self._add(parse_route6(value))

    @write_handler("remove")
    def _write_remove(self, value: str) -> None:
        network = network6(value)
        if self.routes.pop(network, None) is None:
            raise ValueError(f"no route for {network}")
        self._sort()

    @write_handler("ctrl")
    def _write_ctrl(self, value: str) -> None:
        command, _, rest = value.strip().partition(" ")
        if command == "add":
            self._write_add(rest)
        elif command == "remove":
            self._write_remove(rest)
        else:
            raise ValueError("expected 'add ROUTE' or 'remove DST/PREFIX'")
