"""ICMPRewriter: rewrites ICMP errors about rewritten packets, using the rewriters' mappings."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyclick.args import ELEMENT, STRING, Args, split_words
from pyclick.element import PUSH, Element
from pyclick.elements.icmppingrewriter import ECHO, echo_key, set_echo_identifier
from pyclick.elements.rewriterbase import (DCCP, ICMP, TCP, UDP, RewriterBase,
                                           annotation_keywords, ip_header, rewrite_addresses)
from pyclick.elements.rewriterspec import Key
from pyclick.elements.rewritertable import Flow, adjust_checksum

if TYPE_CHECKING:
    from pyclick.packet import Packet

#: Destination unreachable, source quench, redirect, time exceeded, parameter problem.
ERROR_TYPES = frozenset({3, 4, 5, 11, 12})


@dataclass(frozen=True)
class _Map:
    rewriter: RewriterBase
    #: Output of the first of the rewriter's outputs, or -1: always output 0.
    port_offset: int


class ICMPRewriter(Element):
    """ICMPRewriter(MAPS, KEYWORDS) -- rewrites ICMP errors about rewritten packets

    Description
    An ICMP error (destination unreachable, time exceeded, parameter
    problem, source quench, redirect) quotes the header of the packet that
    caused it. When that packet went through a rewriter, the error names
    the rewritten flow; ICMPRewriter looks the quoted flow up in the
    rewriters of MAPS (a space-separated list of IPRewriter, TCPRewriter,
    UDPRewriter or ICMPPingRewriter names, tried in order) and rewrites the
    error to be about the original flow: the quoted IP addresses, ports
    (or echo identifier) and checksums, and the error's own destination
    when it was the rewritten source. The outer IP and ICMP checksums are
    updated incrementally.

    A rewritten error leaves by output 0, or, for a rewriter written
    'NAME:OFFSET' in MAPS, by output OFFSET plus the output of the mapping
    found (so that each rewriter output has its own ICMPRewriter output).
    Errors with no mapping and other ICMP messages leave by output 1 if
    there is one, and are dropped otherwise; packets other than ICMP are
    dropped.

    Ports
    one push input, one or two push outputs

    Keyword arguments
    MAPS -- the rewriters to look in, space-separated, each NAME or NAME:OFFSET
    DST_ANNO -- set the destination address annotation to the new destination; default true
    REPLY_ANNO -- a one-byte annotation (a name or an offset): an error about a flow's reply gets the value the flow's first packet had there (as its rewriter keeps it with REPLY_ANNO); default none

    Example
    rw :: IPRewriter(pattern 18.26.4.24 1024-65535# - - 0 1, drop);
    Idle -> [0]rw; Idle -> [1]rw; rw[0] -> Discard; rw[1] -> Discard;
    Idle -> ICMPRewriter(rw) -> Discard;
    """

    port_count = "1/1-2"
    processing = PUSH

    def configure(self, args: Args) -> None:
        text = args.read_mp("MAPS", STRING)
        self.dst_anno, self.reply_anno = annotation_keywords(args)
        maps = []
        for word in split_words(text or ""):
            name, colon, offset_text = word.partition(":")
            offset = int(offset_text) if offset_text.isascii() and offset_text.isdigit() \
                else -1
            if colon and offset < 0:
                args.error(f"MAPS: {word} not an IP rewriter")
                continue
            try:
                element = ELEMENT(name, args)
            except ValueError as err:
                args.error(f"MAPS: {err}")
                continue
            if not isinstance(element, RewriterBase):
                args.error(f"MAPS: {word} not an IP rewriter")
            elif offset >= 0 and offset + element.noutputs > self.noutputs:
                outputs = "output" if self.noutputs == 1 else "outputs"
                args.error(f"MAPS: {word} port offset requires more than "
                           f"{self.noutputs} {outputs}")
            else:
                maps.append(_Map(element, offset))
        if text is not None and not maps and not args.errors:
            args.error("MAPS: no IP rewriters supplied")
        args.complete()
        self.maps = maps

    def push(self, port: int, batch: list[Packet]) -> None:
        groups: dict[int, list[Packet]] = {}
        for packet in batch:
            output = self._handle(packet)
            if 0 <= output < self.noutputs:
                groups.setdefault(output, []).append(packet)
        for output, group in groups.items():
            self.output_push(output, group)

    def _handle(self, packet: Packet) -> int:
        where = ip_header(packet, need=8 + 20)
        if where is None:
            return 1 if len(packet.data) > 9 and packet.data[9] == ICMP else -1
        at, t, protocol = where
        data = packet.data
        if protocol != ICMP:
            return -1
        enc = t + 8
        enc_hlen = (data[enc] & 15) * 4
        if data[t] not in ERROR_TYPES or data[enc] >> 4 != 4 or enc_hlen < 20:
            return 1
        found = self._lookup(data, enc, enc + enc_hlen)
        if found is None:
            return 1
        offset, key, flow, direction, transport = found
        new, output = flow.new[direction], flow.outputs[direction]
        if direction and self.reply_anno is not None:
            packet.set_anno_u8(self.reply_anno, flow.reply_anno)
        view = packet.writable_data()
        if bytes(view[at + 16:at + 20]) == key[2]:
            rewrite_addresses(view, at, (bytes(view[at + 12:at + 16]), 0, new[2], 0))
            if self.dst_anno:
                packet.dst_ip = new[2]
        # Every change below lies in the ICMP message: one update of its checksum.
        end = min(len(view), enc + enc_hlen + 18)
        end -= (end - t) % 2
        before = bytes(view[enc:end])
        old_addresses = rewrite_addresses(view, enc, (new[2], 0, new[0], 0))
        if transport is not None:
            self._rewrite_quoted(view, transport, data[enc + 9], old_addresses, new)
        (old_sum,) = struct.unpack_from("!H", view, t + 2)
        struct.pack_into("!H", view, t + 2, adjust_checksum(old_sum, before,
                                                            bytes(view[enc:end])))
        return offset + output if offset >= 0 else 0

    def _lookup(self, data: bytes, enc: int, transport: int
                ) -> tuple[int, Key, Flow, int, int | None] | None:
        """The mapping of the quoted packet's reply flow, in the first rewriter
        that has one: (port offset, reply key, its flow, the direction, where
        the quoted transport header is if it is used)."""
        protocol = data[enc + 9]
        source, destination = data[enc + 12:enc + 16], data[enc + 16:enc + 20]
        first = not (data[enc + 6] & 0x1F or data[enc + 7])
        used: int | None = None
        key: Key = (destination, 0, source, 0)
        if protocol in (TCP, UDP, DCCP) and first and transport + 8 <= len(data):
            sport, dport = struct.unpack_from("!HH", data, transport)
            key, used = (destination, dport, source, sport), transport
        elif protocol == ICMP and first and transport + 6 <= len(data) \
                and data[transport] == ECHO:
            (identifier,) = struct.unpack_from("!H", data, transport + 4)
            key, used = echo_key(destination, source, identifier, request=False), transport
        for entry in self.maps:
            found = entry.rewriter.lookup(protocol, key)
            if found is not None:
                flow, direction = found
                return entry.port_offset, key, flow, direction, used
        return None

    @staticmethod
    def _rewrite_quoted(view: memoryview, transport: int, protocol: int,
                        old_addresses: bytes, new: Key) -> None:
        if protocol == ICMP:
            set_echo_identifier(view, transport, new[3])
            return
        old_ports = bytes(view[transport:transport + 4])
        ports = struct.pack("!HH", new[3], new[1])
        view[transport:transport + 4] = ports
        sum_at = {TCP: 16, UDP: 6}.get(protocol)
        if sum_at is None or len(view) < transport + sum_at + 2:
            return
        (old_sum,) = struct.unpack_from("!H", view, transport + sum_at)
        if protocol == UDP and old_sum == 0:
            return
        new_sum = adjust_checksum(old_sum, old_addresses + old_ports, new[2] + new[0] + ports)
        struct.pack_into("!H", view, transport + sum_at, new_sum)
