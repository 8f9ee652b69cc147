"""DirectIPLookup: Click's large-table router, LinearIPLookup under its name."""

from __future__ import annotations

from pyclick.element import read_handler, write_handler
from pyclick.elements.lineariplookup import LinearIPLookup

_U32 = 0xFFFFFFFF


def click_bucket(net: int, prefix: int) -> int:
    """The bucket of Click's DirectIPLookup route table (64K buckets) holding the
    route to ``net``/``prefix``: its hash, in 32-bit arithmetic. A shift by 32
    shifts by nothing, as on the machines Click runs on."""
    value = net ^ (prefix << 5) ^ (((net >> (prefix >> 2)) - prefix) & _U32)
    value ^= (value >> 23) ^ (((value >> 15) * prefix) & _U32) ^ (((net >> 17) * 53) & _U32)
    value = (value - ((net >> 3) ^ (((value >> (prefix & 31)) * 7) & _U32)
                      ^ (((value >> 11) * 103) & _U32))) & _U32
    return (value ^ (value >> 17)) & 0xFFFF


class DirectIPLookup(LinearIPLookup):
    """DirectIPLookup(ADDR1/MASK1 [GW1] OUT1, ...) -- IP routing table with constant-time lookups

    Description
    LinearIPLookup under the name of Click's element that keeps its routes
    in two direct-indexed tables: the same routes, the same lookups and the same
    handlers (see LinearIPLookup), with flush besides, so that configurations
    naming it run unchanged. Every routing table here looks a destination up with one
    dictionary access per prefix length in use, whatever its size.

    Element handlers
    flush (write) -- removes every route
    table (read) -- as LinearIPLookup's, in the order Click's DirectIPLookup lists the
    routes: by its hash of network and prefix length, the newest first on a tie
    lookup, add, set, remove, ctrl -- as LinearIPLookup's

    Example
    InfiniteSource(LIMIT 1) -> SetIPAddress(18.26.4.24) -> r :: DirectIPLookup(0.0.0.0/0 0) -> Discard;
    """

    @read_handler("table")
    def _read_table(self) -> str:
        routes = list(self._routes.values())
        order = sorted(range(len(routes)),
                       key=lambda i: (click_bucket(routes[i].net, routes[i].prefix), -i))
        return "".join(routes[i].text() + "\n" for i in order)

    @write_handler("flush")
    def _write_flush(self, value: str) -> None:
        self.flush()
