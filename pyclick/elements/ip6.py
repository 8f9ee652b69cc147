"""CheckIP6Header, GetIP6Address and DecIP6HLIM: the IPv6 input path of a router."""

from __future__ import annotations

import struct

from pyclick.args import UNSIGNED, Args, ListOf
from pyclick.element import AGNOSTIC, PROCESSING_A_AH, Element
from pyclick.elements.dropcounting import DropCounting
from pyclick.elements.inet import IP6ADDR, ip_header_offset
from pyclick.packet import ANNOTATIONS, Packet

#: The fixed IPv6 header.
IP6_HEADER_LENGTH = 40
#: The all-ones address is never a source (CheckIP6Header refuses it always).
ALL_ONES = b"\xff" * 16
DST_IP6 = ANNOTATIONS["DST_IP6"][0]
_OFFSET = UNSIGNED.range(0, 65535)
_PAYLOAD_LENGTH = struct.Struct("!H")
#: Why CheckIP6Header refuses a packet, in the order of its checks.
REASONS = ("tiny packet", "bad IP6 version", "bad IP6 payload length", "bad source address")
TINY, BAD_VERSION, BAD_LENGTH, BAD_SOURCE = range(len(REASONS))


class CheckIP6Header(DropCounting):
    """CheckIP6Header(BADADDRS, OFFSET) -- checks IPv6 header

    Description
    Expects packets whose IPv6 header starts OFFSET bytes in. Checks that
    the packet holds a whole fixed header, that the version is 6, that the
    payload length fits in the packet, and that the source address is none
    of BADADDRS nor ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff. Packets longer
    than their header says (Ethernet padding) are cut to 40 bytes plus the
    payload length. A valid packet gets its network header annotation (40
    bytes at OFFSET: extension headers count as payload) and leaves by
    output 0.

    Invalid packets leave by output 1 when it is connected, and are dropped
    otherwise; the first one is reported with the reason.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (invalid packets)

    Keyword arguments
    BADADDRS -- IPv6 addresses refused as sources, separated by spaces; default none (:: is fine: a host's duplicate address detection uses it)
    OFFSET -- where the IPv6 header starts, 0 to 65535; default 0

    Element handlers
    drops (read) -- invalid packets so far

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> c :: CheckIP6Header(3ffe:1ce1:2::ffff) -> Discard;
    c[1] -> bad :: Counter -> Discard;
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        bad = args.read_p("BADADDRS", ListOf(IP6ADDR), [])
        self.offset = args.read_p("OFFSET", _OFFSET, 0)
        args.complete()
        self.bad_sources = frozenset(bad) | {ALL_ONES}
        self.drops = 0

    def _refuse(self, reason: int, packet: Packet) -> None:
        self.refuse(packet, f"IP6 header check failed: {REASONS[reason]}")

    def simple_action(self, packet: Packet) -> Packet | None:
        offset = self.offset
        available = len(packet) - offset
        if available < IP6_HEADER_LENGTH:
            return self._refuse(TINY, packet)
        buf, start = packet.buffer, packet.data_offset + offset
        if buf[start] >> 4 != 6:
            return self._refuse(BAD_VERSION, packet)
        (payload,) = _PAYLOAD_LENGTH.unpack_from(buf, start + 4)
        if payload > available - IP6_HEADER_LENGTH:
            return self._refuse(BAD_LENGTH, packet)
        if bytes(buf[start + 8:start + 24]) in self.bad_sources:
            return self._refuse(BAD_SOURCE, packet)
        packet.set_network_header(offset, IP6_HEADER_LENGTH)
        packet.take(available - IP6_HEADER_LENGTH - payload)
        return packet


class GetIP6Address(Element):
    """GetIP6Address(OFFSET) -- sets destination IPv6 address annotation from packet data

    Description
    Copies the 16 bytes OFFSET bytes into the packet to its destination
    IPv6 address annotation. OFFSET is usually 24, where an IPv6 header
    holds its destination address. Packets too short for the 16 bytes pass
    unchanged. LookupIP6Route and IP6NDSolicitor use the annotation (which
    shares its first 4 bytes with the IPv4 destination annotation).

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    OFFSET -- where the 16 bytes are, 0 to 65535; mandatory

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> GetIP6Address(24) -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.offset = args.read_mp("OFFSET", _OFFSET)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        at = self.offset
        if at + 16 <= len(packet):
            start = packet.data_offset + at
            packet.set_anno_bytes(DST_IP6, bytes(packet.buffer[start:start + 16]))
        return packet


class DecIP6HLIM(DropCounting):
    """DecIP6HLIM -- decrements IPv6 hop limit, drops expired packets

    Description
    Expects IPv6 packets (the network header annotation says where the
    header is; at the start of the packet when no element set it). A
    packet whose hop limit is 1 or less has expired: it leaves by output 1
    when that is connected (usually towards ICMP6Error, type 3 time
    exceeded), and is dropped otherwise. Other packets get their hop limit
    decremented and leave by output 0; IPv6 has no header checksum to
    update. Packets too short to hold an IPv6 header pass unchanged.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (expired packets)

    Element handlers
    drops (read) -- expired packets so far

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIP6Header -> dh :: DecIP6HLIM -> Discard;
    dh[1] -> ICMP6Error(3ffe:1ce1:2::1, 3, 0) -> Discard;
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def simple_action(self, packet: Packet) -> Packet | None:
        at = ip_header_offset(packet)
        if at < 0 or len(packet) < at + IP6_HEADER_LENGTH:
            return packet
        limit = packet.byte(at + 7)
        if limit <= 1:
            self.refuse(packet)
            return None
        packet.write(at + 7, bytes([limit - 1]))
        return packet
