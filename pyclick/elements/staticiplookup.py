"""StaticIPLookup: a fixed routing table, longest prefix first."""

from __future__ import annotations

from pyclick.elements.iproutetable import RouteTable


class StaticIPLookup(RouteTable):
    """StaticIPLookup(ADDR1/MASK1 [GW1] OUT1, ADDR2/MASK2 [GW2] OUT2, ...) -- simple static IP routing table

    Description
    Routes packets by their destination IP address annotation (set by
    CheckIPHeader, GetIPAddress or SetIPAddress). Each argument is a
    route: a destination network (18.26.4.0/24 or 18.26.4.0/255.255.255.0),
    an optional gateway address ('-' for none), and an output port. The route with the
    longest prefix that holds the destination wins; its gateway, when it
    has one, becomes the packet's destination annotation, and the packet
    leaves by the route's output. Packets without a route are dropped (the
    first five are reported). Two routes for one network are an error.
    The routes are fixed; LinearIPLookup takes the same routes and changes
    them at run time.

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
