"""IPRewriter: network address and port translation (NAPT) by input specifications."""

from __future__ import annotations

from pyclick.args import Args
from pyclick.element import read_handler
from pyclick.elements.rewriterbase import TCP, UDP, RewriterBase
from pyclick.elements.rewritertable import Flow, Map, Timeouts
from pyclick.elements.tcprewriter import TCPFlow, lookup_text, tcp_timeouts
from pyclick.elements.udprewriter import rewrite_datagram, udp_timeouts


class IPRewriter(RewriterBase):
    """IPRewriter(INPUTSPEC1, ..., INPUTSPECn, KEYWORDS) -- rewrites TCP/UDP packets' addresses and ports

    Description
    Rewrites the source and destination addresses and ports of TCP and UDP
    packets, and their checksums: a network address and port translator
    (NAPT). A mapping table, indexed by flow (source address and port,
    destination address and port; TCP and UDP flows in separate tables),
    says how each known flow is rewritten and which output it leaves by; a
    mapping reads

      (SA, SP, DA, DP) => (SA', SP', DA', DP') [*FOUTPUT ROUTPUT] iINPUT expSECONDS

    where the star marks the output the mapping's packets take, INPUT is
    the input whose spec made it and SECONDS its time to live. A packet of
    a flow with no mapping is handled by the INPUTSPEC of the input it
    arrived on (as many inputs as INPUTSPECs):

      drop, discard -- drop it
      pass OUTPUT (or passthrough, nochange; OUTPUT defaults to 0) -- send it to OUTPUT unchanged, installing nothing
      keep FOUTPUT ROUTPUT -- install mappings that change nothing: the flow leaves by FOUTPUT, its replies by ROUTPUT
      pattern SADDR SPORT DADDR DPORT FOUTPUT ROUTPUT -- rewrite the flow to the pattern and send it to FOUTPUT; its replies are rewritten back and leave by ROUTPUT
      pattern NAME FOUTPUT ROUTPUT -- the same with a pattern an IPRewriterPatterns element names
      ELEMENTNAME -- ask a mapper element (RoundRobinIPMapper) for the new flow and the outputs

    In a pattern, '-' keeps the packet's field. SPORT may be a range
    'L-H': the packet's own source port is kept when it lies in the range
    and its reply flow is free, otherwise a free port is picked at random;
    'L-H#' picks sequentially, from after the last port given, and 'L-H?'
    at random without trying the packet's port first. Instead of SPORT,
    SADDR may vary the same ways, as an address range 'A-B' or a prefix
    'A/n' (the network's first and last addresses left out). A pattern
    may also have two fields, 'SADDR DADDR' (the ports kept), or three,
    'SADDR DADDR SPORT' (the destination port kept). A flow for
    which nothing is free is dropped and counted as a mapping failure. A
    flow (SA, SP, DA, DP) rewritten to (SA', SP', DA', DP') installs two
    mappings:

      (SA, SP, DA, DP) => (SA', SP', DA', DP') for the flow, by FOUTPUT
      (DA', DP', SA', SP') => (DA, DP, SA, SP) for its replies, by ROUTPUT

    Other packets than TCP and UDP, fragments other than the first, and
    packets too short for ports are dropped unless their input's spec is
    'pass'. A UDP flow lives UDP_TIMEOUT after its last packet (or
    UDP_STREAMING_TIMEOUT once it has seen three packets and a reply); a
    TCP flow lives as TCPRewriter describes. For the GUARANTEE time after
    each packet a flow is never evicted to make room: when the flow set is
    full, the flow that would expire first among those past their
    guarantee, the new one included, goes: the new flow is dropped (a
    mapping failure) when that is itself, or when all others are
    guaranteed.
    Several rewriters may share one capacity by naming one of them as
    MAPPING_CAPACITY. Input packets need their IP header annotation
    (CheckIPHeader, MarkIPHeader); without it the IP header is taken at
    the start of the packet. Checksums are updated incrementally. TCP
    mappings take sequence number deltas as TCPRewriter's do.

    Ports
    one or more push inputs, one or more push outputs

    Keyword arguments
    TCP_TIMEOUT, TIMEOUT -- idle time before a TCP connection that carried data both ways expires; default 24h
    TCP_NODATA_TIMEOUT -- the same for a TCP connection that did not; default 5min
    TCP_DONE_TIMEOUT -- the same for a finished TCP connection (FIN both ways, or RST); default 4min
    TCP_GUARANTEE, GUARANTEE -- time after each TCP segment during which the mapping is not evicted for room; default 5s
    UDP_TIMEOUT -- idle time before a UDP flow expires; default 5min
    UDP_STREAMING_TIMEOUT -- the same for a streaming UDP flow; default UDP_TIMEOUT
    UDP_GUARANTEE -- TCP_GUARANTEE for UDP; default 5s
    MAPPING_CAPACITY, CAPACITY -- most flows held (a number, or a rewriter whose capacity this one shares); default 2147483647
    REAP_INTERVAL -- how often expired flows are removed; default 15min
    DST_ANNO -- set the destination address annotation to the rewritten destination; default true
    REPLY_ANNO -- a one-byte annotation (a name or an offset): each flow keeps the value its first packet had there, and the packets of its replies get it; default none

    Element handlers
    tcp_table, udp_table (read) -- the TCP (UDP) mappings, one per line
    tcp_mappings, udp_mappings (read) -- the same (older names)
    tcp_lookup (read with parameters SADDR SPORT DADDR DPORT) -- the flow the given TCP flow is rewritten to, or nothing
    table_size, nmappings (read) -- flows mapped
    size (read) -- flows in the flow set (more when several rewriters share a capacity)
    capacity (read/write) -- the capacity of the flow set
    mapping_failures (read) -- new flows dropped for want of a port or of room
    patterns (read) -- the input specs, one per line, with their live flows in brackets
    clear (write) -- remove every mapping
    patternN (read/write) -- input N's spec; writing one replaces it and removes the flows it installed

    Example
    rw :: IPRewriter(pattern 18.26.4.24 1024-65535# - - 0 1, drop);
    InfiniteSource(LIMIT 1) -> UDPIPEncap(10.0.0.1, 5000, 1.1.1.1, 53) -> rw;
    rw[0] -> Discard; rw[1] -> Discard; Idle -> [1]rw;
    """

    def read_keywords(self, args: Args) -> None:
        self.udp_timeouts = udp_timeouts(args, short_names=False)
        self.tcp_timeouts = tcp_timeouts(args)
        self.read_annotations(args)
        self.tcp_table: Map = {}
        self.udp_table: Map = {}

    def maps(self) -> list[Map]:
        return [self.tcp_table, self.udp_table]

    def flow_parts(self, protocol: int) -> tuple[Map, Timeouts, type[Flow]] | None:
        if protocol == TCP:
            return self.tcp_table, self.tcp_timeouts, TCPFlow
        if protocol == UDP:
            return self.udp_table, self.udp_timeouts, Flow
        return None

    def rewrite(self, flow: Flow, data: memoryview, at: int, t: int, direction: int,
                protocol: int) -> None:
        if isinstance(flow, TCPFlow):
            flow.apply(data, at, t, direction)
        else:
            rewrite_datagram(flow, data, at, t, direction, protocol)

    @read_handler("tcp_table")
    @read_handler("tcp_mappings")
    def _read_tcp_table(self) -> str:
        return self.table_text(self.tcp_table)

    @read_handler("udp_table")
    @read_handler("udp_mappings")
    def _read_udp_table(self) -> str:
        return self.table_text(self.udp_table)

    @read_handler("tcp_lookup")
    def _read_tcp_lookup(self, params: str) -> str:
        return lookup_text(self.tcp_table, params)
