"""RangeIPLookup and SortedIPLookup: two more of Click's IPv4 routing tables,
the same routes and handlers as LinearIPLookup's."""

from __future__ import annotations

from pyclick.args import Args
from pyclick.elements.directiplookup import DirectIPLookup
from pyclick.elements.iproutetable import Route, prefix_mask
from pyclick.elements.lineariplookup import LinearIPLookup
from pyclick.packet import Packet


def click_order(routes: list[Route]) -> list[Route]:
    """The routes in the order Click's SortedIPLookup keeps them: each route
    before every route that contains it. Routes that contain no other come
    first, in table order; each one placed releases, in table order, the
    routes containing it that contain nothing left to place."""
    at = {route.key: n for n, route in enumerate(routes)}
    prefixes = sorted({route.prefix for route in routes})
    containers: list[list[int]] = []
    inside = [0] * len(routes)
    for route in routes:
        holders = sorted(at[key] for key in ((p, route.net & prefix_mask(p))
                                             for p in prefixes if p < route.prefix)
                         if key in at)
        containers.append(holders)
        for holder in holders:
            inside[holder] += 1
    order: list[int] = []
    first = done = 0
    while len(order) < len(routes):
        while inside[first] != 0:
            first += 1
        inside[first] = -1
        order.append(first)
        while done < len(order):
            for holder in containers[order[done]]:
                inside[holder] -= 1
                if inside[holder] == 0:
                    inside[holder] = -1
                    order.append(holder)
            done += 1
    return [routes[n] for n in order]


class RangeIPLookup(DirectIPLookup):
    """RangeIPLookup(ADDR1/MASK1 [GW1] OUT1, ...) -- IP routing table with compact range lookups

    Description
    DirectIPLookup under the name of Click's element that turns its table
    into a small sorted array of address ranges searched by bisection: the
    same routes, the same lookups and the same handlers (see LinearIPLookup),
    the table listed in DirectIPLookup's order, with flush besides, so that
    configurations naming it run unchanged. Packets without a route are
    dropped without a word, as Click's RangeIPLookup drops them.

    Ports
    one push input; as many push outputs as the routes use

    Element handlers
    flush (write) -- removes every route
    table (read) -- as DirectIPLookup's
    lookup, add, set, remove, ctrl -- as LinearIPLookup's

    Example
    InfiniteSource(LIMIT 1) -> SetIPAddress(18.26.4.24)
        -> r :: RangeIPLookup(18.26.4.0/24 0, 0.0.0.0/0 18.26.4.1 1);
    r[0] -> Discard; r[1] -> Discard;
    """

    def _complain(self, packet: Packet) -> None:
        pass


class SortedIPLookup(LinearIPLookup):
    """SortedIPLookup(ADDR1/MASK1 [GW1] OUT1, ...) -- simple IP routing table, deprecated

    Description
    LinearIPLookup as Click's version that keeps its table sorted: the same
    routes, lookups and handlers, and every route listed by the table
    handler before the routes that contain it (more specific routes
    first). Click deprecates it in favour of LinearIPLookup and
    RadixIPLookup, and so it warns when configured. Every packet without
    a route is reported, its destination written as Click writes it (the
    address's bytes as one hexadecimal number, last byte first).

    Ports
    one push input; as many push outputs as the routes use

    Element handlers
    table (read) -- the routes, more specific ones first: network, gateway ('-' for none), output
    lookup, add, set, remove, ctrl -- as LinearIPLookup's

    Example
    InfiniteSource(LIMIT 1) -> SetIPAddress(18.26.4.24)
        -> r :: SortedIPLookup(0.0.0.0/0 18.26.4.1 1, 18.26.4.0/24 0);
    r[0] -> Discard; r[1] -> Discard;
    """

    def configure(self, args: Args) -> None:
        self.log.warning("%s: SortedIPLookup is deprecated; use LinearIPLookup or "
                         "RadixIPLookup instead", self.declaration())
        super().configure(args)
        # Sorting once gives the order Click reaches sorting after each route.
        self._sort()

    def _sort(self) -> None:
        self._routes = {route.key: route for route in click_order(list(self._routes.values()))}

    def _change(self, command: str, text: str) -> None:
        super()._change(command, text)
        self._sort()

    def _complain(self, packet: Packet) -> None:
        self.log.warning("%s: no gw for %x", self.declaration(),
                         int.from_bytes(packet.dst_ip, "little"))
