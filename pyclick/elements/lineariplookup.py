"""LinearIPLookup: an IP routing table that changes at run time."""

from __future__ import annotations

from pyclick.elements.iproutetable import ChangingRouteTable


class LinearIPLookup(ChangingRouteTable):
    """LinearIPLookup(ADDR1/MASK1 [GW1] OUT1, ADDR2/MASK2 [GW2] OUT2, ...) -- IP routing table with changes at run time

    Description
    Routes packets by their destination IP address annotation (set by
    CheckIPHeader, GetIPAddress or SetIPAddress), as StaticIPLookup does:
    each argument is a route, a destination network, an optional gateway
    ('-' for none) and an output port; the route with the longest prefix
    that holds the destination wins, its gateway (if any) becomes the
    destination annotation, and packets without a route are dropped (the
    first five are reported). Unlike StaticIPLookup, its routes change
    while the router runs, through the add, set, remove and ctrl handlers.
    A lookup costs one dictionary access per prefix length in use, however
    many routes there are (Click's LinearIPLookup searches its table in
    order; the routes it chooses are the same).

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
        -> r :: LinearIPLookup(18.26.4.0/24 0, 0.0.0.0/0 18.26.4.1 1);
    r[0] -> Discard; r[1] -> Discard;
    Script(write r.add 18.26.4.24/32 1, write r.remove 0.0.0.0/0);
    """
