"""UDPRewriter: IPRewriter without TCP's connection tracking; how UDP packets are rewritten."""

from __future__ import annotations

from pyclick.args import Args
from pyclick.elements.rewriterbase import (SECONDS, TCP, UDP, SingleTableRewriter,
                                           rewrite_addresses, rewrite_ports)
from pyclick.elements.rewritertable import Flow, Timeouts


def rewrite_datagram(flow: Flow, data: memoryview, at: int, t: int, direction: int,
                     protocol: int) -> None:
    """Rewrite a UDP datagram (or, for UDPRewriter, a TCP segment) of ``flow``:
    addresses, ports, checksums. A UDP checksum of 0 (none) stays 0."""
    new = flow.new[direction]
    old_addresses = rewrite_addresses(data, at, new)
    if protocol == TCP:
        rewrite_ports(data, t, new, old_addresses, 16)
    else:
        rewrite_ports(data, t, new, old_addresses, 6, optional_sum=True)


def udp_timeouts(args: Args, short_names: bool) -> Timeouts:
    """UDP_TIMEOUT, UDP_STREAMING_TIMEOUT and UDP_GUARANTEE, and with ``short_names``
    the same without ``UDP_``."""
    timeout = args.read("UDP_TIMEOUT", SECONDS, 300.0)
    streaming = args.read("UDP_STREAMING_TIMEOUT", SECONDS, None)
    guarantee = args.read("UDP_GUARANTEE", SECONDS, 5.0)
    if short_names:
        timeout = args.read("TIMEOUT", SECONDS, timeout)
        streaming = args.read("STREAMING_TIMEOUT", SECONDS, streaming)
        guarantee = args.read("GUARANTEE", SECONDS, guarantee)
    return Timeouts(timeout, guarantee, streaming=timeout if streaming is None else streaming)


class UDPRewriter(SingleTableRewriter):
    """UDPRewriter(INPUTSPEC1, ..., INPUTSPECn, KEYWORDS) -- rewrites UDP (and TCP) packets' addresses and ports

    Description
    IPRewriter with one mapping table for UDP and TCP together and without
    TCP's connection tracking: every flow lives TIMEOUT after its last
    packet, or STREAMING_TIMEOUT once it is streaming (at least three
    packets, one of them a reply). It takes the input specifications
    IPRewriter describes. TCP segments are rewritten too (their flags are
    not followed), although a UDPRewriter usually sees UDP only. Other
    packets, and fragments other than the first, are dropped unless their
    input's spec is 'pass'. A UDP checksum of 0 (none) is left alone.
    DCCP is not available.

    Ports
    one or more push inputs, one or more push outputs

    Keyword arguments
    TIMEOUT, UDP_TIMEOUT -- idle time before a flow's mappings expire; default 5min
    STREAMING_TIMEOUT, UDP_STREAMING_TIMEOUT -- the same for a streaming flow; default TIMEOUT
    GUARANTEE, UDP_GUARANTEE -- time after each packet during which the mapping is not evicted for room; default 5s
    MAPPING_CAPACITY, CAPACITY -- most flows held (a number, or a rewriter whose capacity this one shares); default 2147483647
    REAP_INTERVAL -- how often expired flows are removed; default 15min
    DST_ANNO -- set the destination address annotation to the rewritten destination; default true
    REPLY_ANNO -- a one-byte annotation (a name or an offset): each flow keeps the value its first packet had there, and the packets of its replies get it; default none

    Element handlers
    table (read) -- the mappings, one per line (see IPRewriter)
    mappings (read) -- the same (an older name)
    table_size, nmappings (read) -- flows mapped
    size (read) -- flows in the flow set (more when several rewriters share a capacity)
    capacity (read/write) -- the capacity of the flow set
    mapping_failures (read) -- new flows dropped for want of a port or of room
    patterns (read) -- the input specs, with their live flows
    clear (write) -- remove every mapping
    patternN (read/write) -- input N's spec; writing one replaces it and removes the flows it installed

    Example
    rw :: UDPRewriter(pattern 18.26.4.24 1024-65535# - - 0 1, drop, TIMEOUT 1min);
    Idle -> [0]rw; Idle -> [1]rw; rw[0] -> Discard; rw[1] -> Discard;
    """

    protocols = (TCP, UDP)

    def read_keywords(self, args: Args) -> None:
        self.read_annotations(args)
        self.timeouts = udp_timeouts(args, short_names=True)

    def rewrite(self, flow: Flow, data: memoryview, at: int, t: int, direction: int,
                protocol: int) -> None:
        rewrite_datagram(flow, data, at, t, direction, protocol)
