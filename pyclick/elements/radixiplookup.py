"""RadixIPLookup: Click's large-table router, LinearIPLookup under its name."""

from __future__ import annotations

from pyclick.element import write_handler
from pyclick.elements.lineariplookup import LinearIPLookup


class RadixIPLookup(LinearIPLookup):
    """RadixIPLookup(ADDR1/MASK1 [GW1] OUT1, ...) -- IP routing table, for large tables

    Description
    LinearIPLookup under the name of Click's element that keeps its routes
    in a radix tree: the same routes, the same lookups and the same
    handlers (see LinearIPLookup), with flush besides, so that configurations
    naming it run unchanged. Every routing table here looks a destination up with one
    dictionary access per prefix length in use, whatever its size.

    Element handlers
    flush (write) -- removes every route
    table, lookup, add, set, remove, ctrl -- as LinearIPLookup's

    Example
    InfiniteSource(LIMIT 1) -> SetIPAddress(18.26.4.24) -> r :: RadixIPLookup(0.0.0.0/0 0) -> Discard;
    """

    @write_handler("flush")
    def _write_flush(self, value: str) -> None:
        self.flush()
