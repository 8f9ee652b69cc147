"""IPAddrPairRewriter: NAT by address pair, rewriting addresses only."""

from __future__ import annotations

from pyclick.elements.inet import unparse_ip
from pyclick.elements.ipaddrrewriter import AddressRewriter
from pyclick.elements.rewriterspec import Key
from pyclick.elements.rewritertable import Flow


class PairFlow(Flow):
    """A flow of IPAddrPairRewriter, printed ``(SA, DA) => (SA', DA')``."""

    def identifiers(self, direction: int) -> str:
        key, reply = self.keys[direction], self.keys[1 - direction]
        return (f"({unparse_ip(key[0])}, {unparse_ip(key[2])}) => "
                f"({unparse_ip(reply[2])}, {unparse_ip(reply[0])})")


class IPAddrPairRewriter(AddressRewriter):
    """IPAddrPairRewriter(INPUTSPEC1, ..., INPUTSPECn, KEYWORDS) -- rewrites IP packets' addresses by address pair

    Description
    A network address translator between basic NAT (IPAddrRewriter) and
    NAPT (IPRewriter): a mapping is known by a packet's source and
    destination addresses together, and may rewrite both, whatever the IP
    protocol; ports are left alone. The IP checksum is updated, and so is
    the TCP or UDP checksum of a first fragment (a UDP checksum of 0 stays
    0). A packet whose address pair has no mapping is handled by the
    INPUTSPEC of the input it arrived on (one INPUTSPEC per input):

      drop, discard -- drop it
      pass OUTPUT (or passthrough, nochange; OUTPUT defaults to 0) -- send it to OUTPUT unchanged
      keep FOUTPUT ROUTPUT -- map the pair to itself
      pattern SADDR DADDR FOUTPUT ROUTPUT -- rewrite the pair to the pattern
      pattern NAME FOUTPUT ROUTPUT -- the same with a pattern an IPRewriterPatterns element names
      ELEMENTNAME -- ask a mapper element (RoundRobinIPMapper, SourceIPHashMapper) for the new pair and the outputs

    In a pattern, '-' keeps the packet's address. SADDR may be a range
    'A-B' or a prefix 'A/n' (its first and last addresses left out): an
    address whose reply pair is not already mapped is chosen at random
    ('A-B#': sequentially, from after the last one given), and the packet
    is dropped, a mapping failure, when none is left. A pair (SA, DA)
    rewritten to (SA', DA') installs two mappings:

      (SA, DA) => (SA', DA') for the packet and its followers, by FOUTPUT
      (DA', SA') => (DA, SA) for the replies, by ROUTPUT

    Four-field patterns as in IPRewriter are read too, with both ports
    '-'; a pattern or mapper giving ports makes the rewriter drop the
    packets it would map. Input packets need their IP header annotation
    (without it the IP header is taken at the start of the packet);
    shorter packets than an IP header are dropped unless their input's
    spec is 'pass'. Rewritten packets get their destination address
    annotation set to their new destination. Mappings live, are
    guaranteed and are evicted as IPAddrRewriter's.

    Ports
    one or more push inputs, one or more push outputs

    Keyword arguments
    TIMEOUT -- idle time before a mapping expires; default 2h
    GUARANTEE -- time after each packet during which a mapping is not evicted for room; default 5s
    MAPPING_CAPACITY, CAPACITY -- most mappings held (a number, or a rewriter whose capacity this one shares); default 2147483647
    REAP_INTERVAL, REAP_TIME -- how often expired mappings are removed; default 15min
    REPLY_ANNO -- a one-byte annotation (a name or an offset); accepted and checked, but without effect, as in Click

    Element handlers
    table (read) -- the mappings, one per line: '(SA, DA) => (SA', DA') [*FOUTPUT ROUTPUT] iINPUT expSECONDS' (the star marks the output the mapping's packets take)
    mappings (read) -- the same (an older name)
    table_size, nmappings, size, capacity, mapping_failures, patterns, clear, patternN -- as IPAddrRewriter's

    Example
    nat :: IPAddrPairRewriter(pattern 18.26.4.24 10.0.0.2 0 1, drop);
    InfiniteSource(LIMIT 1) -> UDPIPEncap(10.0.0.1, 5000, 1.1.1.1, 53) -> nat;
    nat[0] -> Discard; nat[1] -> Discard; Idle -> [1]nat;
    """

    flow_class = PairFlow

    def find(self, source: bytes, destination: bytes, now: float
             ) -> tuple[Key, tuple[Flow, int] | None]:
        key = (source, 0, destination, 0)
        return key, self.live(key, now)

    def valid(self, new: Key) -> bool:
        return new[1] == 0 and new[3] == 0
