"""ICMP6Error: the ICMPv6 error a router sends back about a packet it cannot forward."""

from __future__ import annotations

import struct

from pyclick.args import UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.elements.inet import IP6ADDR
from pyclick.elements.ip6 import DST_IP6, IP6_HEADER_LENGTH
from pyclick.elements.ip6nd import PROTO_ICMP6, icmp6_checksum
from pyclick.packet import ANNOTATIONS, BROADCAST, MULTICAST, Packet

UNREACHABLE, PACKET_TOO_BIG, TIME_EXCEEDED, PARAMETER_PROBLEM = 1, 2, 3, 4
REDIRECT = 137
#: The types ICMP6Error makes.
TYPES = frozenset({UNREACHABLE, PACKET_TOO_BIG, TIME_EXCEEDED, PARAMETER_PROBLEM, REDIRECT})
#: ICMPv6 types below this one are errors (RFC 4443 2.1): never answered with an error.
FIRST_INFORMATIONAL = 128
#: How much of the offending packet an error quotes at most (as Click: the
#: ICMPv6 message stays within 576 bytes).
QUOTED = 568
#: The MTU a packet-too-big error reports (Click's).
REPORTED_MTU = 1500
HOP_LIMIT = 255
_BYTE = UNSIGNED.range(0, 255)
_PARAMPROB, _FIX_IP_SRC = ANNOTATIONS["ICMP_PARAMPROB"][0], ANNOTATIONS["FIX_IP_SRC"][0]
LOOPBACK = bytes(15) + b"\x01"
UNSPECIFIED = bytes(16)


class ICMP6Error(Element):
    """ICMP6Error(SRC, TYPE, CODE) -- generates ICMPv6 error packets

    Description
    Answers each incoming IPv6 packet with an ICMPv6 error of type TYPE
    and code CODE, sent from SRC to the packet's source; the incoming
    packet is consumed. TYPE is an error type, 1 (destination
    unreachable), 2 (packet too big), 3 (time exceeded) or 4 (parameter
    problem), or 137 (redirect). The error quotes the packet from its
    IPv6 header on, up to 568 bytes. Its IPv6 header has hop limit 255 and
    its ICMPv6 checksum covers the pseudo-header. The four bytes after the
    checksum hold the MTU 1500 for packet too big, the ICMP_PARAMPROB
    annotation as the pointer for parameter problem, and zero otherwise; a
    redirect carries instead four zero bytes, the packet's destination
    IPv6 annotation as the target and its destination address, then the
    quoted packet. The error gets its network header annotation, its
    destination IPv6 annotation (the packet's source) and the fix_ip_src
    annotation.

    As RFC 4443 asks, no error answers an ICMPv6 error message, a packet
    sent to a multicast address or that arrived as a link-level broadcast
    or multicast (packet type annotation), or one whose source is ::, ::1
    or a multicast address. Input packets need their network header
    annotation (CheckIP6Header); packets without one are dropped.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    SRC -- the errors' source IPv6 address; mandatory
    TYPE -- the ICMPv6 type: 1, 2, 3, 4 or 137; mandatory
    CODE -- the ICMPv6 code, 0 to 255; mandatory

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIP6Header -> dh :: DecIP6HLIM -> Discard;
    dh[1] -> ICMP6Error(3ffe:1ce1:2::1, 3, 0) -> errors :: Counter -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.src = args.read_mp("SRC", IP6ADDR)
        self.type = args.read_mp("TYPE", _BYTE)
        self.code = args.read_mp("CODE", _BYTE)
        if self.type is not None and self.type not in TYPES:
            args.error(f"TYPE: ICMPv6 type {self.type} is not an error or redirect type")
        args.complete()

    @staticmethod
    def _answerable(packet: Packet, ip: bytes) -> bool:
        if ip[6] == PROTO_ICMP6 and (len(ip) <= IP6_HEADER_LENGTH
                                     or ip[IP6_HEADER_LENGTH] < FIRST_INFORMATIONAL):
            return False
        src, dst = ip[8:24], ip[24:40]
        if dst[0] == 0xFF or src[0] == 0xFF or src in (UNSPECIFIED, LOOPBACK):
            return False
        return packet.packet_type not in (BROADCAST, MULTICAST)

    def simple_action(self, packet: Packet) -> Packet | None:
        offset = packet.network_header_offset
        if offset is None or offset < 0:
            return None
        ip = packet.data[offset:]
        if len(ip) < IP6_HEADER_LENGTH or not self._answerable(packet, ip):
            return None
        quoted = ip[:QUOTED]
        if self.type == REDIRECT:
            message = (struct.pack("!BBH4x", self.type, self.code, 0)
                       + packet.anno_bytes(DST_IP6, 16) + ip[24:40] + quoted)
        else:
            rest = 0
            if self.type == PACKET_TOO_BIG:
                rest = REPORTED_MTU
            elif self.type == PARAMETER_PROBLEM:
                rest = packet.anno_u8(_PARAMPROB)
            message = struct.pack("!BBHI", self.type, self.code, 0, rest) + quoted
        destination = ip[8:24]
        csum = icmp6_checksum(self.src, destination, message)
        message = message[:2] + struct.pack("!H", csum) + message[4:]
        header = struct.pack("!IHBB", 0x60000000, len(message), PROTO_ICMP6, HOP_LIMIT)
        error = Packet.make(header + self.src + destination + message,
                            timestamp=self.router.now())
        error.set_network_header(0, IP6_HEADER_LENGTH)
        error.set_anno_bytes(DST_IP6, destination)
        error.set_anno_u8(_FIX_IP_SRC, 1)
        return error
