"""IPAddrRewriter: basic NAT, rewriting addresses only; and what it shares with
IPAddrPairRewriter (:class:`AddressRewriter`).

An address rewriter's flows are identifiers with both ports 0: IPAddrRewriter
knows a flow by its source address alone, ``(SA, 0, 0.0.0.0, 0)``, and its
replies by the new source address as destination; IPAddrPairRewriter by the
address pair, ``(SA, 0, DA, 0)``. Their patterns are usually written with
two fields, ``SADDR DADDR``.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from pyclick.args import Args
from pyclick.elements.clickargs import ANNO1
from pyclick.elements.inet import ip_header_offset, unparse_ip
from pyclick.elements.rewriterbase import (SECONDS, TCP, UDP, SingleTableRewriter,
                                           CapacityArg, rewrite_addresses)
from pyclick.elements.rewriterspec import Key, Pattern, Taken, reverse
from pyclick.elements.rewritertable import Flow, FlowSet, Timeouts, adjust_checksum

if TYPE_CHECKING:
    import random

    from pyclick.packet import Packet

ZERO = bytes(4)


def address_rewrite(pattern: Pattern, key: Key, taken: Taken, draws: random.Random
                    ) -> Key | None:
    """``pattern`` applied to an address flow. A varying address never starts
    from the packet's own: Click compares the range with the flow's source port,
    which is 0 here (so only a range starting at 0.0.0.0 tries 0.0.0.0 first)."""
    if pattern.vary_address:
        key = (ZERO, key[1], key[2], key[3])
    return pattern.rewrite(key, taken, draws)


class AddressRewriter(SingleTableRewriter):
    """Base of IPAddrRewriter and IPAddrPairRewriter (no manual: not an element
    class of its own)."""

    registered = False
    # No protocol's mappings for ICMPRewriter and FTPPortMapper: these flows have no ports.
    protocols = ()
    #: The directions whose packets get their new destination as annotation.
    dst_anno_directions: tuple[int, ...] = (0, 1)

    def configure(self, args: Args) -> None:
        # Click accepts REPLY_ANNO here but its value never reaches the mappings.
        args.read("REPLY_ANNO", ANNO1)
        capacity = args.read("CAPACITY", CapacityArg(), None)
        capacity = args.read("MAPPING_CAPACITY", CapacityArg(), capacity)
        self.timeouts = Timeouts(args.read("TIMEOUT", SECONDS, 2 * 3600.0),
                                 args.read("GUARANTEE", SECONDS, 5.0))
        interval = args.read("REAP_INTERVAL", SECONDS, 15 * 60.0)
        self.reap_interval = args.read("REAP_TIME", SECONDS, interval)
        self.specs = self.read_specs(args)
        args.complete()
        self.table = {}
        self._capacity = 0x7FFFFFFF if capacity is None else capacity
        self.flowset = FlowSet(self._capacity if isinstance(self._capacity, int) else 0)
        self._next_reap = 0.0


    # --- what the two rewriters do differently
    def find(self, source: bytes, destination: bytes, now: float
             ) -> tuple[Key, tuple[Flow, int] | None]:
        """A packet's flow identifier, and the live mapping it has (or None)."""
        raise NotImplementedError

    def valid(self, new: Key) -> bool:
        """Whether a flow may be rewritten to ``new`` (fields the rewriter does not
        touch must stay 0); a flow that may not is dropped."""
        raise NotImplementedError

    def new_addresses(self, flow: Flow, direction: int, source: bytes,
                      destination: bytes) -> tuple[bytes, bytes]:
        return flow.new[direction][0], flow.new[direction][2]

    # --- flows and packets
    def live(self, key: Key, now: float) -> tuple[Flow, int] | None:
        entry = self.table.get(key)
        return None if entry is None or entry[0].expired(now) else entry

    def _install(self, port: int, key: Key, now: float) -> tuple[Flow, int] | int:
        """The new mapping of flow ``key`` by input ``port``'s spec, or the output
        to send its packet to unchanged (-1: drop it)."""
        spec = self.specs[port]
        if spec.kind in ("drop", "pass"):
            return self.unhandled(port)
        if self.reap_interval and now >= self._next_reap:
            self.flowset.reap(now)
            self._next_reap = now + self.reap_interval

        def taken(reply: Key) -> bool:
            return self.live(reply, now) is not None

        outputs = spec.foutput, spec.routput
        new: Key | None = key
        if spec.pattern is not None:
            new = address_rewrite(spec.pattern, key, taken, self.router.random_source(self))
        elif spec.mapper is not None:
            mapped = spec.mapper.map_flow(key, taken)
            new, outputs = (None, outputs) if mapped is None else (mapped[0], mapped[1:])
        if new is None:
            spec.failures += 1
            return -1
        if not self.valid(new) or max(outputs) >= self.noutputs:
            return -1
        flow = self.flow_class((key, reverse(new)), (new, reverse(key)), outputs, spec,
                               port, self.table, self.timeouts, now)
        if not self.flowset.add(flow, now):
            spec.failures += 1
            return -1
        return flow, 0

    def handle(self, port: int, packet: Packet, now: float) -> int:
        at = ip_header_offset(packet)
        if len(packet.data) < at + 20:
            return self.unhandled(port)
        data = packet.data
        key, entry = self.find(data[at + 12:at + 16], data[at + 16:at + 20], now)
        if entry is None:
            found = self._install(port, key, now)
            if isinstance(found, int):
                return found
            entry = found
        flow, direction = entry
        view = packet.writable_data()
        source, destination = self.new_addresses(flow, direction, bytes(view[at + 12:at + 16]),
                                                 bytes(view[at + 16:at + 20]))
        rewrite_transport_sum(view, at, rewrite_addresses(view, at, (source, 0, destination, 0)))
        if direction in self.dst_anno_directions:
            packet.dst_ip = destination
        flow.saw_packet(direction, now)
        return flow.outputs[direction]


def rewrite_transport_sum(data: memoryview, at: int, old_addresses: bytes) -> None:
    """Update the TCP or UDP checksum of the first fragment whose IP header at
    ``at`` had ``old_addresses``, for its new addresses (pseudo-header); a UDP
    checksum of 0 (none) stays 0."""
    if data[at + 6] & 0x1F or data[at + 7]:
        return
    t = at + (data[at] & 15) * 4
    sum_at = {TCP: (18, 16), UDP: (8, 6)}.get(data[at + 9])
    if sum_at is None or len(data) - t < sum_at[0]:
        return
    (old_sum,) = struct.unpack_from("!H", data, t + sum_at[1])
    if data[at + 9] == UDP and old_sum == 0:
        return
    new_sum = adjust_checksum(old_sum, old_addresses, bytes(data[at + 12:at + 20]))
    struct.pack_into("!H", data, t + sum_at[1], new_sum)


class AddressFlow(Flow):
    """A flow of IPAddrRewriter, printed as Click prints it: ``SA => SA'`` for the
    forward mapping and ``0.0.0.0 => 0.0.0.0`` for the reply mapping."""

    def identifiers(self, direction: int) -> str:
        return (f"{unparse_ip(self.keys[direction][0])} => "
                f"{unparse_ip(self.keys[1 - direction][2])}")


class IPAddrRewriter(AddressRewriter):
    """IPAddrRewriter(INPUTSPEC1, ..., INPUTSPECn, KEYWORDS) -- rewrites IP packets' source addresses (basic NAT)

    Description
    A basic network address translator: it gives the packets of each inside
    host a source address of its own and rewrites the replies back,
    whatever their IP protocol, leaving ports alone. The IP checksum is
    updated, and so is the TCP or UDP checksum of a first fragment (the
    pseudo-header holds the addresses; a UDP checksum of 0 stays 0). A
    mapping is known by an address: a packet whose source address is
    mapped is rewritten to the new source address; otherwise a packet whose
    destination is a mapped new address is rewritten back to the original
    address. A packet with neither is handled by the INPUTSPEC of the input
    it arrived on (one INPUTSPEC per input):

      drop, discard -- drop it
      pass OUTPUT (or passthrough, nochange; OUTPUT defaults to 0) -- send it to OUTPUT unchanged
      keep FOUTPUT ROUTPUT -- map the source address to itself
      pattern SADDR - FOUTPUT ROUTPUT -- map the source address to SADDR; the packet leaves by FOUTPUT, and packets to SADDR are rewritten back and leave by ROUTPUT
      pattern NAME FOUTPUT ROUTPUT -- the same with a pattern an IPRewriterPatterns element names
      ELEMENTNAME -- ask a mapper element (RoundRobinIPMapper, SourceIPHashMapper) for the new address and the outputs

    SADDR may be '-' (keep the address), an address, a range 'A-B' or a
    prefix 'A/n' (its first and last addresses left out): an address of
    the range that is not already handed out is chosen at random ('A-B#':
    sequentially, from after the last one given), and the packet is
    dropped, a mapping failure, when none is left. The second field, the
    destination address, must be '-': a pattern or a mapper giving a
    destination address or ports makes the rewriter drop the packets it
    would map (IPAddrPairRewriter rewrites destinations). Four-field
    patterns as in IPRewriter are read too, with both ports '-'. Input
    packets need their IP header annotation (without it the IP header is
    taken at the start of the packet); shorter packets than an IP header
    are dropped unless their input's spec is 'pass'.

    A mapping lives TIMEOUT after its last packet and, for the GUARANTEE
    time after each packet, is not evicted to make room: when the mappings
    fill the capacity, the one that would expire first among those past
    their guarantee, the new one included, goes: the new one is refused
    (a mapping failure) when that is itself, or when all others are
    guaranteed. Packets rewritten back get their destination address
    annotation set to the original address.

    Ports
    one or more push inputs, one or more push outputs

    Keyword arguments
    TIMEOUT -- idle time before a mapping expires; default 2h
    GUARANTEE -- time after each packet during which a mapping is not evicted for room; default 5s
    MAPPING_CAPACITY, CAPACITY -- most mappings held (a number, or a rewriter whose capacity this one shares); default 2147483647
    REAP_INTERVAL, REAP_TIME -- how often expired mappings are removed; default 15min
    REPLY_ANNO -- a one-byte annotation (a name or an offset); accepted and checked, but without effect, as in Click

    Element handlers
    table (read) -- the mappings, one line for each direction: 'SA => SA' [*FOUTPUT ROUTPUT] iINPUT expSECONDS' (the star marks the output the direction's packets take); the reply direction reads '0.0.0.0 => 0.0.0.0', as in Click
    mappings (read) -- the same (an older name)
    table_size, nmappings (read) -- mappings installed
    size (read) -- mappings in the flow set (more when several rewriters share a capacity)
    capacity (read/write) -- the capacity of the flow set
    mapping_failures (read) -- new mappings refused for want of an address or of room
    patterns (read) -- the input specs, one per line, with their live mappings in brackets
    clear (write) -- remove every mapping
    patternN (read/write) -- input N's spec; writing one replaces it and removes the mappings it installed

    Example
    nat :: IPAddrRewriter(pattern 18.26.4.1-18.26.4.254# - 0 1, drop);
    InfiniteSource(LIMIT 1) -> UDPIPEncap(10.0.0.1, 5000, 1.1.1.1, 53) -> nat;
    nat[0] -> Discard; nat[1] -> Discard; Idle -> [1]nat;
    """

    flow_class = AddressFlow
    dst_anno_directions = (1,)

    def find(self, source: bytes, destination: bytes, now: float
             ) -> tuple[Key, tuple[Flow, int] | None]:
        key = (source, 0, ZERO, 0)
        return key, self.live(key, now) or self.live((ZERO, 0, destination, 0), now)

    def valid(self, new: Key) -> bool:
        return new[1] == 0 and new[3] == 0 and new[2] == ZERO

    def new_addresses(self, flow: Flow, direction: int, source: bytes,
                      destination: bytes) -> tuple[bytes, bytes]:
        new = flow.new[direction]
        return (new[0], destination) if direction == 0 else (source, new[2])
