"""CheckTCPHeader, CheckUDPHeader and CheckICMPHeader: checking the transport header
of IP packets."""

from __future__ import annotations

import struct
from typing import ClassVar

from pyclick.args import BOOL, Args
from pyclick.element import PROCESSING_A_AH
from pyclick.elements.dropcounting import DropCounting
from pyclick.elements.inet import checksum, transport_checksum
from pyclick.elements.ipproto import ICMP, TCP, UDP
from pyclick.packet import Packet

NOT_MINE, BAD_LENGTH, BAD_CHECKSUM = range(3)
_WORD = struct.Struct("!H")


class HeaderCheck(DropCounting):
    """What the header checks share: the drops, their reasons, VERBOSE,
    DETAILS and the drop_details handler.

    A subclass names its protocol and its reasons, and refuses a packet
    with ``_refuse``.
    """

    registered = False
    port_count = "1/1-2"
    processing = PROCESSING_A_AH
    protocol_name: ClassVar[str]
    #: Why a packet is refused, by the subclass's reason numbers.
    reasons: ClassVar[tuple[str, ...]]

    def configure(self, args: Args) -> None:
        self.verbose = args.read("VERBOSE", BOOL, False)
        self.details = args.read("DETAILS", BOOL, False)
        args.complete()
        self.drops = 0
        self.reason_drops = [0] * len(self.reasons)

    def initialize(self) -> None:
        if self.details:
            self.router.handlers.add_read(self, "drop_details", self._drop_details)

    def _refuse(self, reason: int, packet: Packet) -> None:
        self.reason_drops[reason] += 1
        self.refuse(packet, f"{self.protocol_name} header check failed: {self.reasons[reason]}",
                    every=self.verbose)

    def _drop_details(self) -> str:
        return "".join(f"{count}\t{reason}\n"
                       for count, reason in zip(self.reason_drops, self.reasons))


class _CheckTransportHeader(HeaderCheck):
    """What the transport checks share: the protocol, the segment's length
    and checksum. A subclass says how long its segment is."""

    registered = False
    protocol: ClassVar[int]

    def segment_length(self, data: bytes, transport: int, ip_payload: int) -> int | None:
        """The length of the segment at ``transport`` (None when its header is
        impossible), given the IP payload length."""
        raise NotImplementedError

    def checked(self, data: bytes, transport: int) -> bool:
        """Whether the checksum of the segment at ``transport`` needs checking."""
        return True

    def checksum_right(self, data: bytes, at: int, transport: int, length: int) -> bool:
        """Whether the segment's checksum (pseudo-header included) is right."""
        return transport_checksum(data[at + 12:at + 16], data[at + 16:at + 20], self.protocol,
                                  data[transport:transport + length]) == 0

    def simple_action(self, packet: Packet) -> Packet | None:
        at = packet.network_header_offset
        if at is None or at < 0 or len(packet) < at + 20 or packet.byte(at + 9) != self.protocol:
            return self._refuse(NOT_MINE, packet)
        data = packet.data
        transport = packet.transport_header_offset
        if transport is None:
            transport = at + (data[at] & 15) * 4
        (ip_length,) = _WORD.unpack_from(data, at + 2)
        length = self.segment_length(data, transport, ip_length - (transport - at))
        if length is None or transport + length > len(data):
            return self._refuse(BAD_LENGTH, packet)
        if self.checked(data, transport) and not self.checksum_right(data, at, transport, length):
            return self._refuse(BAD_CHECKSUM, packet)
        return packet


class CheckTCPHeader(_CheckTransportHeader):
    """CheckTCPHeader(KEYWORDS) -- checks TCP header on TCP/IP packets

    Description
    Expects TCP/IP packets with their network header annotation
    (CheckIPHeader, MarkIPHeader). Checks that the IP protocol is TCP, that
    the TCP header length is at least 20 and fits in the IP payload, that
    the packet holds the whole payload, and that the TCP checksum
    (pseudo-header included) is right. Invalid packets leave by output 1
    when it is connected, and are dropped otherwise. The first one is
    reported with the reason (every one with VERBOSE).

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (invalid packets)

    Keyword arguments
    VERBOSE -- report every invalid packet, not only the first; default false
    DETAILS -- count drops per reason (drop_details handler); default false

    Element handlers
    drops (read) -- invalid packets so far
    drop_details (read) -- invalid packets per reason, one line each (count, tab, reason); with DETAILS only

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader -> c :: CheckTCPHeader -> Discard;
    c[1] -> bad :: Counter -> Discard;
    """

    protocol, protocol_name = TCP, "TCP"
    reasons = ("not TCP", "bad packet length", "bad TCP checksum")

    def segment_length(self, data: bytes, transport: int, ip_payload: int) -> int | None:
        if ip_payload < 20 or len(data) < transport + 20:
            return None
        header = (data[transport + 12] >> 4) * 4
        return ip_payload if 20 <= header <= ip_payload else None


class CheckUDPHeader(_CheckTransportHeader):
    """CheckUDPHeader(KEYWORDS) -- checks UDP header on UDP/IP packets

    Description
    Expects UDP/IP packets with their network header annotation
    (CheckIPHeader, MarkIPHeader). Checks that the IP protocol is UDP, that
    the UDP length is at least 8 and that the packet holds that many
    bytes, and that the UDP checksum (pseudo-header included) is right
    unless it is 0 (no checksum). Invalid packets leave by output 1 when it
    is connected, and are dropped otherwise. The first one is reported
    with the reason (every one with VERBOSE).

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (invalid packets)

    Keyword arguments
    VERBOSE -- report every invalid packet, not only the first; default false
    DETAILS -- count drops per reason (drop_details handler); default false

    Element handlers
    drops (read) -- invalid packets so far
    drop_details (read) -- invalid packets per reason, one line each (count, tab, reason); with DETAILS only

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader -> c :: CheckUDPHeader -> Discard;
    c[1] -> bad :: Counter -> Discard;
    """

    protocol, protocol_name = UDP, "UDP"
    reasons = ("not UDP", "bad packet length", "bad UDP checksum")

    def segment_length(self, data: bytes, transport: int, ip_payload: int) -> int | None:
        if len(data) < transport + 8:
            return None
        (length,) = _WORD.unpack_from(data, transport + 4)
        return length if length >= 8 else None

    def checked(self, data: bytes, transport: int) -> bool:
        return data[transport + 6:transport + 8] != b"\0\0"


#: ICMP types and the length their message must have: at least (errors, which
#: quote an IP header and 8 bytes) or exactly (timestamps, information requests).
_AT_LEAST = dict.fromkeys((3, 4, 5, 11, 12), 8 + 28)
_EXACTLY = {13: 20, 14: 20, 15: 8, 16: 8}


class CheckICMPHeader(_CheckTransportHeader):
    """CheckICMPHeader(KEYWORDS) -- checks ICMP header on ICMP packets

    Description
    Expects ICMP/IP packets with their network header annotation
    (CheckIPHeader, MarkIPHeader). Checks that the IP protocol is ICMP, that
    the ICMP message (the rest of the packet) holds at least its 8-byte
    header, that an error (unreachable, sourcequench, redirect,
    timeexceeded, parameterproblem) quotes at least 28 bytes, that a
    timestamp message is exactly 20 bytes and an information request
    exactly 8, and that the ICMP checksum is right. Invalid packets leave
    by output 1 when it is connected, and are dropped otherwise. The first
    one is reported with the reason (every one with VERBOSE).

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (invalid packets)

    Keyword arguments
    VERBOSE -- report every invalid packet, not only the first; default false
    DETAILS -- count drops per reason (drop_details handler); default false

    Element handlers
    drops (read) -- invalid packets so far
    drop_details (read) -- invalid packets per reason, one line each (count, tab, reason); with DETAILS only

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader -> c :: CheckICMPHeader
        -> Discard;
    c[1] -> bad :: Counter -> Discard;
    """

    protocol, protocol_name = ICMP, "ICMP"
    reasons = ("not ICMP", "bad packet length", "bad ICMP checksum")

    def segment_length(self, data: bytes, transport: int, ip_payload: int) -> int | None:
        # As Click: the message is the rest of the packet, whatever the IP length.
        length = len(data) - transport
        if length < 8:
            return None
        kind = data[transport]
        if length < _AT_LEAST.get(kind, 8) or _EXACTLY.get(kind, length) != length:
            return None
        return length

    def checksum_right(self, data: bytes, at: int, transport: int, length: int) -> bool:
        return checksum(data[transport:transport + length]) == 0
