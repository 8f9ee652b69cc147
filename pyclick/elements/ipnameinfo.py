"""IPNameInfo: the element class standing for the IP protocol, port and ICMP names."""

from __future__ import annotations

from pyclick.element import Element


class IPNameInfo(Element):
    """IPNameInfo() -- stores name information about IP packets

    Description
    Stands for the names IP elements accept for IP protocols, TCP and UDP
    ports, and ICMP types and codes, in IP patterns (IPClassifier,
    IPFilter) and in arguments (ICMPError...). The names are built in, so a
    configuration never needs this element; it takes no arguments and does
    nothing.

    The names: IP protocols dccp, gre, icmp, igmp, ipip, payload, sctp, tcp,
    tcpudp, transp and udp, then those of the system's protocol database (IP
    patterns know icmp, igmp, ipip, tcp and udp); well-known TCP and UDP
    services (www, ssh, dns...); ICMP types echo, echo-reply, inforeq,
    inforeq-reply, maskreq, maskreq-reply, parameterproblem, redirect,
    routeradvert, routersolicit, sourcequench, timeexceeded, timestamp,
    timestamp-reply and unreachable; the codes of unreachable
    (filterprohibited, host, hostprecedence, hostprohibited, hostunknown,
    isolated, needfrag, net, netprohibited, netunknown, port,
    precedencecutoff, protocol, srcroutefail, toshost, tosnet), of redirect
    (host, net, toshost, tosnet), of timeexceeded (reassembly, transit) and
    of parameterproblem (erroratptr, length, missingopt).

    Ports
    none

    Example
    IPNameInfo;
    FromDump(trace.pcap, STOP true) -> IPFilter(allow icmp type echo, deny all) -> Discard;
    """
