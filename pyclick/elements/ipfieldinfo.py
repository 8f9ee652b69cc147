"""IPFieldInfo: the element class standing for the IP field names."""

from __future__ import annotations

from pyclick.element import Element


class IPFieldInfo(Element):
    """IPFieldInfo() -- stores name information about IP packets

    Description
    Stands for the names of IP, TCP, UDP and ICMP header fields that
    elements reading field specifications accept (AggregateIP, and the
    FIELD arguments of the trace elements): 'ip src', 'tcp flags' and so
    on. The names are built in, so a configuration never needs this
    element; it takes no arguments and does nothing.

    The fields, by header: ip (df, dport, dscp, dst, ecn, fragoff, hl, id,
    len, mf, off, proto, rf, sport, src, sum, tos, ttl, vers; sport and
    dport are those of TCP or UDP), tcp (ack, ackno, dport, fin, flags, hl,
    psh, push, rst, seq, seqno, sport, sum, syn, urg, urp, win), udp
    (dport, len, sport, sum), icmp (code, sum, type) and tcpudp (dport,
    sport).

    Ports
    none

    Example
    IPFieldInfo;
    FromDump(trace.pcap, STOP true) -> AggregateIP(ip src) -> Discard;
    """
