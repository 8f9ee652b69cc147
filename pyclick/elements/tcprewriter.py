"""TCPRewriter: IPRewriter for TCP, with sequence number deltas; the TCP flow it shares
with IPRewriter."""

from __future__ import annotations

import struct
from typing import Any

from pyclick.args import Args, split_words
from pyclick.element import read_handler
from pyclick.elements.inet import IPADDR, unparse_ip
from pyclick.elements.rewriterbase import (SECONDS, TCP, SingleTableRewriter,
                                           rewrite_addresses)
from pyclick.elements.rewriterspec import Key
from pyclick.elements.rewritertable import Flow, Map, Timeouts, adjust_checksum

_FIN, _SYN, _RST = 0x01, 0x02, 0x04
_MASK = 0xFFFFFFFF
#: A delta transition this far behind the newest no longer needs its trigger.
_STALE = 1 << 30


def seq_geq(a: int, b: int) -> bool:
    """``a`` is at or after ``b`` in TCP's circular sequence space."""
    return ((a - b) & _MASK) < (1 << 31)


class TCPFlow(Flow):
    """A TCP connection: which directions finished or carried data, and the
    sequence number deltas of each direction.

    A direction's deltas are transitions, newest first: ``[trigger, delta]``
    adds ``delta`` to sequence numbers at or after ``trigger`` (a trigger of
    None takes every older number). The other direction's acknowledgements
    are mapped back by the same transitions.
    """

    _FORWARD_DONE, _BOTH_DONE, _FORWARD_DATA, _BOTH_DATA = 1, 3, 4, 12

    def __init__(self, *init: Any) -> None:
        super().__init__(*init)
        self.state = 0
        self.transitions: tuple[list[list], list[list]] = ([], [])

    def timeout(self) -> float:
        timeouts = self.timeouts
        assert timeouts.done is not None and timeouts.nodata is not None
        if self.state & self._BOTH_DONE == self._BOTH_DONE:
            return timeouts.done
        if self.state & self._BOTH_DATA == self._BOTH_DATA:
            return timeouts.timeout
        return timeouts.nodata

    def track(self, direction: int, flags: int, payload: bool) -> None:
        """Note a segment's flags: FIN finishes its direction, RST both; SYN or
        payload reopens its direction."""
        if flags & _RST:
            self.state |= self._BOTH_DONE
        elif flags & _FIN:
            self.state |= self._FORWARD_DONE << direction
        elif flags & _SYN or payload:
            self.state &= ~(self._FORWARD_DONE << direction)
        if payload:
            self.state |= self._FORWARD_DATA << direction

    # --- sequence number deltas
    def update_seqno_delta(self, direction: int, trigger: int, delta: int) -> bool:
        """From sequence number ``trigger`` on, shift direction ``direction``'s
        sequence numbers by ``delta`` more; False when ``trigger`` is before the
        newest trigger (transitions come in sequence order)."""
        chain = self.transitions[direction]
        newest = chain[0][0] if chain else None
        if newest is not None and not seq_geq(trigger, newest):
            return False
        if chain and newest == trigger:
            before = chain[1][1] if len(chain) > 1 else 0
            chain[0][1] = before + delta
        else:
            chain.insert(0, [trigger, (chain[0][1] if chain else 0) + delta])
        for index in range(1, len(chain)):
            old = chain[index][0]
            if old is None or seq_geq(trigger, (old + _STALE) & _MASK):
                chain[index][0] = None
                del chain[index + 1:]
                break
        return True

    def new_seq(self, direction: int, seq: int) -> int:
        for trigger, delta in self.transitions[direction]:
            if trigger is None or seq_geq(seq, trigger):
                return (seq + delta) & _MASK
        return seq

    def new_ack(self, direction: int, ack: int) -> int:
        for trigger, delta in self.transitions[1 - direction]:
            if trigger is None or seq_geq((ack - delta) & _MASK, trigger):
                return (ack - delta) & _MASK
        return ack

    def _forget_old_triggers(self, direction: int, seq: int) -> None:
        chain = self.transitions[direction]
        if chain and chain[0][0] is not None and seq_geq(seq, (chain[0][0] + _STALE) & _MASK):
            chain[0][0] = None
            del chain[1:]

    def details(self, direction: int) -> str:
        chain = self.transitions[direction]
        delta = chain[0][1] if chain else 0
        return f" seq {'+' if delta > 0 else ''}{delta}" if delta else ""

    # --- packets
    def apply(self, data: memoryview, at: int, t: int, direction: int) -> None:
        """Rewrite a TCP segment of this flow going in ``direction``."""
        new = self.new[direction]
        old_addresses = rewrite_addresses(data, at, new)
        if len(data) < t + 18:
            return
        offset = (data[t + 12] >> 4) * 4
        span = min(max(offset, 18), len(data) - t) & ~1
        old = bytes(data[t:t + span])
        struct.pack_into("!HH", data, t, new[1], new[3])
        (total_length,) = struct.unpack_from("!H", data, at + 2)
        self.track(direction, data[t + 13], (t - at) + offset < total_length)
        if offset >= 20 and len(data) >= t + offset and any(self.transitions):
            self._shift_sequence(data, t, offset, direction)
        (old_sum,) = struct.unpack_from("!H", data, t + 16)
        struct.pack_into("!H", data, t + 16, adjust_checksum(
            old_sum, old_addresses + old, new[0] + new[2] + bytes(data[t:t + span])))

    def _shift_sequence(self, data: memoryview, t: int, offset: int, direction: int) -> None:
        seq, ack = struct.unpack_from("!II", data, t + 4)
        self._forget_old_triggers(direction, seq)
        struct.pack_into("!II", data, t + 4, self.new_seq(direction, seq),
                         self.new_ack(direction, ack))
        if self.transitions[1 - direction]:
            self._shift_sack(data, t, offset, direction)

    def _shift_sack(self, data: memoryview, t: int, offset: int, direction: int) -> None:
        at, end = t + 20, t + offset
        while at < end:
            kind = data[at]
            if kind == 0:
                return
            if kind == 1:
                at += 1
                continue
            if at + 1 >= end or data[at + 1] < 2 or at + data[at + 1] > end:
                return
            length = data[at + 1]
            if kind == 5 and length % 8 == 2:
                for edge in range(at + 2, at + length, 4):
                    (value,) = struct.unpack_from("!I", data, edge)
                    struct.pack_into("!I", data, edge, self.new_ack(direction, value))
            at += length


def tcp_timeouts(args: Args) -> Timeouts:
    """The TCP keywords TCPRewriter and IPRewriter share."""
    nodata = args.read("TCP_NODATA_TIMEOUT", SECONDS, 300.0)
    guarantee = args.read("TCP_GUARANTEE", SECONDS, 5.0)
    data = args.read("TIMEOUT", SECONDS, 86400.0)
    data = args.read("TCP_TIMEOUT", SECONDS, data)
    done = args.read("TCP_DONE_TIMEOUT", SECONDS, 240.0)
    guarantee = args.read("GUARANTEE", SECONDS, guarantee)
    return Timeouts(data, guarantee, done=done, nodata=nodata)


def lookup_text(table: Map, params: str) -> str:
    """The lookup handlers: ``SADDR SPORT DADDR DPORT`` -> the rewritten flow, or ""."""
    words = split_words(params)
    if len(words) != 4 or not all(w.isdigit() and int(w) < 65536 for w in words[1::2]):
        raise ValueError("expected 'SADDR SPORT DADDR DPORT'")
    key: Key = (IPADDR(words[0]), int(words[1]), IPADDR(words[2]), int(words[3]))
    entry = table.get(key)
    if entry is None:
        return ""
    new = entry[0].new[entry[1]]
    return f"{unparse_ip(new[0])} {new[1]} {unparse_ip(new[2])} {new[3]}"


class TCPRewriter(SingleTableRewriter):
    """TCPRewriter(INPUTSPEC1, ..., INPUTSPECn, KEYWORDS) -- rewrites TCP packets' addresses, ports and sequence numbers

    Description
    IPRewriter for TCP alone: the same input specifications (see
    IPRewriter), the same mappings, for TCP segments only; other packets
    are dropped unless their input's spec is 'pass'. In addition, each TCP
    mapping may shift sequence numbers: from a given sequence number on,
    one direction's sequence numbers are moved by a delta, the other
    direction's acknowledgement numbers (SACK blocks included) moved back
    to match, checksums updated. A new mapping has no delta; an element
    that changes a stream's length (FTPPortMapper) adds deltas to it. The
    table shows a mapping's delta as 'seq +N'.

    A connection's mappings live TCP_TIMEOUT after its last segment once
    payload went both ways, TCP_NODATA_TIMEOUT until then, and
    TCP_DONE_TIMEOUT once both directions sent FIN (or either sent RST).

    Ports
    one or more push inputs, one or more push outputs

    Keyword arguments
    TCP_TIMEOUT, TIMEOUT -- idle time before a connection that carried data both ways expires; default 24h
    TCP_NODATA_TIMEOUT -- the same for a connection that did not; default 5min
    TCP_DONE_TIMEOUT -- the same for a finished connection; default 4min
    TCP_GUARANTEE, GUARANTEE -- time after each segment during which the mapping is not evicted for room; default 5s
    MAPPING_CAPACITY, CAPACITY -- most connections held (a number, or a rewriter whose capacity this one shares); default 2147483647
    REAP_INTERVAL -- how often expired connections are removed; default 15min
    DST_ANNO -- set the destination address annotation to the rewritten destination; default true
    REPLY_ANNO -- a one-byte annotation (a name or an offset): each flow keeps the value its first packet had there, and the packets of its replies get it; default none

    Element handlers
    table (read) -- the mappings, one per line (see IPRewriter)
    mappings (read) -- the same (an older name)
    lookup (read with parameters SADDR SPORT DADDR DPORT) -- the flow the given flow is rewritten to, or nothing
    table_size, nmappings (read) -- connections mapped
    size (read) -- connections in the flow set (more when several rewriters share a capacity)
    capacity (read/write) -- the capacity of the flow set
    mapping_failures (read) -- new connections dropped for want of a port or of room
    patterns (read) -- the input specs, with their live connections
    clear (write) -- remove every mapping
    patternN (read/write) -- input N's spec; writing one replaces it and removes the connections it installed

    Example
    rw :: TCPRewriter(pattern 18.26.4.24 1024-65535# - - 0 1, drop);
    Idle -> [0]rw; Idle -> [1]rw; rw[0] -> Discard; rw[1] -> Discard;
    """

    protocols = (TCP,)
    flow_class = TCPFlow

    def read_keywords(self, args: Args) -> None:
        self.timeouts = tcp_timeouts(args)
        self.read_annotations(args)

    def rewrite(self, flow: Flow, data: memoryview, at: int, t: int, direction: int,
                protocol: int) -> None:
        assert isinstance(flow, TCPFlow)
        flow.apply(data, at, t, direction)

    @read_handler("lookup")
    def _read_lookup(self, params: str) -> str:
        return lookup_text(self.table, params)
