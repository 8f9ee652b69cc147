"""TCPFragmenter: TCP segments cut so that each IP packet fits an MTU."""

from __future__ import annotations

import struct

from pyclick.args import UNSIGNED, Args
from pyclick.element import PUSH, Element, read_handler
from pyclick.elements.clickargs import ANNO2
from pyclick.elements.inet import checksum, ip_header_offset, transport_checksum
from pyclick.packet import Packet

_WORD = struct.Struct("!H")
_LONG = struct.Struct("!I")
FIN = 0x01


class TCPFragmenter(Element):
    """TCPFragmenter(KEYWORDS) -- fragments TCP packets to a maximum TCP payload size

    Description
    Expects TCP/IP packets with their network header annotation set (as
    CheckIPHeader sets it; at the start of the packet when no element set
    it); the IP packet must end the packet. Packets too short for their
    headers or their IP length leave unchanged. The limit
    is MTU, or the packet's MTU_ANNO annotation when that is nonzero and
    below MTU (or MTU is 0). A packet whose IP header, TCP header and
    payload reach the limit is split into segments carrying at most
    limit - headers bytes of payload each, sent in order: each a copy of
    the packet (whatever comes before the IP header included) with its
    share of the payload, the IP length, the sequence number moved on by
    the bytes before it, and both checksums set anew. FIN stays on the
    segments less than the limit from the end of the payload. Other
    packets leave unchanged.

    Ports
    one push input, one push output

    Keyword arguments
    MTU -- the longest IP packet, 0 to 65535 (0: MTU_ANNO only); default 0
    MTU_ANNO -- a two-byte annotation holding the packet's own limit; default none
    One of the two must be given.

    Element handlers
    count (read) -- packets received
    fragmented_count (read) -- packets split
    fragments (read) -- segments sent for the packets split

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader
        -> TCPFragmenter(MTU 576) -> Discard;
    """

    port_count = "1/1"
    processing = PUSH

    can_live_reconfigure = True
    live_state = ("count", "fragmented_count", "fragments")

    def configure(self, args: Args) -> None:
        self.mtu = args.read("MTU", UNSIGNED.range(0, 65535), 0)
        self.mtu_anno = args.read("MTU_ANNO", ANNO2)
        args.complete()
        if not self.mtu and self.mtu_anno is None:
            args.error("At least one of MTU and MTU_ANNO must be set")
            args.complete()
        self.count = self.fragmented_count = self.fragments = 0

    def push(self, port: int, batch: list[Packet]) -> None:
        out: list[Packet] = []
        for packet in batch:
            out += self._segments(packet)
        self.output_push(0, out)

    def _limit(self, packet: Packet) -> int:
        mtu = self.mtu
        if self.mtu_anno is not None:
            own = packet.anno_u16(self.mtu_anno)
            if own and (not mtu or own < mtu):
                return own
        return mtu

    def _segments(self, packet: Packet) -> list[Packet]:
        mtu = self._limit(packet)
        self.count += 1
        data = packet.data
        ip = ip_header_offset(packet)
        tcp = packet.transport_header_offset
        if tcp is None and len(data) > ip:
            tcp = ip + (data[ip] & 0xF) * 4
        # A packet too short for its headers or its IP length is not cut.
        if tcp is None or len(data) < tcp + 20 or len(data) < ip + 20:
            return [packet]
        payload_at = tcp + (data[tcp + 12] >> 4) * 4
        end = ip + _WORD.unpack_from(data, ip + 2)[0]
        payload = end - payload_at
        most = mtu - (payload_at - ip)
        if not mtu or most <= 0 or payload < most or end > len(data):
            return [packet]
        self.fragmented_count += 1
        segments = []
        for offset in range(0, payload, most):
            size = min(most, payload - offset)
            last = offset + most >= payload
            segment = packet if last else packet.clone()
            segment.write(payload_at, data[payload_at + offset:payload_at + offset + size])
            segment.take(payload - size)
            self._fix_headers(segment, ip, tcp, offset, clear_fin=offset + mtu < payload)
            segments.append(segment)
        self.fragments += len(segments)
        return segments

    @staticmethod
    def _fix_headers(segment: Packet, ip: int, tcp: int, offset: int, clear_fin: bool) -> None:
        view = segment.writable_data()
        header_length = (view[ip] & 0xF) * 4
        _WORD.pack_into(view, ip + 2, len(view) - ip)
        _WORD.pack_into(view, ip + 10, 0)
        _WORD.pack_into(view, ip + 10, checksum(view[ip:ip + header_length]))
        if clear_fin and view[tcp + 13] & FIN:
            view[tcp + 13] ^= FIN
        seq = _LONG.unpack_from(view, tcp + 4)[0]
        _LONG.pack_into(view, tcp + 4, (seq + offset) & 0xFFFFFFFF)
        _WORD.pack_into(view, tcp + 16, 0)
        src, dst = bytes(view[ip + 12:ip + 16]), bytes(view[ip + 16:ip + 20])
        _WORD.pack_into(view, tcp + 16, transport_checksum(src, dst, view[ip + 9], view[tcp:]))

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)

    @read_handler("fragmented_count")
    def _read_fragmented_count(self) -> str:
        return str(self.fragmented_count)

    @read_handler("fragments")
    def _read_fragments(self) -> str:
        return str(self.fragments)
