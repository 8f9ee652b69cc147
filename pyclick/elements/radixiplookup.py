"""RadixIPLookup: Click's large-table IP router, with LinearIPLookup's routes and handlers."""

from __future__ import annotations

from pyclick.elements.iproutetable import ChangingRouteTable


class RadixIPLookup(ChangingRouteTable):
    """RadixIPLookup(ADDR1/MASK1 [GW1] OUT1, ADDR2/MASK2 [GW2] OUT2, ...) -- IP routing table, for large tables

    Description
    Routes packets by their destination IP address annotation, longest
    prefix first, exactly as LinearIPLookup does, with the same routes
    (a network, an optional gateway or '-', an output port) and the same
    handlers. Click's RadixIPLookup keeps its routes in a radix tree to look up
    large tables fast; here every routing table keeps one dictionary per
    prefix length, so a lookup costs one dictionary access per prefix
    length in use whatever the table's size, and the element exists so
    that configurations naming it run unchanged.

    Ports
    one push input; as many push outputs as the routes use

    Element handlers
    table (read) -- the routes, one per line: network, gateway ('-' for none), output
    lookup (read with parameter) -- takes an address; returns the output port and the gateway, if any ('-1' without a route)
    add (write) -- adds a route, 'ADDR/MASK [GW] OUT'; an error if the network has one
    set (write) -- adds a route, replacing the network's route if it has one
    remove (write) -- removes the network's route, 'ADDR/MASK [GW OUT]'; when GW and OUT are given they must match
    ctrl (write) -- lines of 'add ROUTE', 'set ROUTE' and 'remove ROUTE', carried out in order; if one fails, none is

    Example
    InfiniteSource(LIMIT 1) -> SetIPAddress(18.26.4.24)
        -> r :: RadixIPLookup(18.26.4.0/24 0, 0.0.0.0/0 18.26.4.1 1);
    r[0] -> Discard; r[1] -> Discard;
    """
