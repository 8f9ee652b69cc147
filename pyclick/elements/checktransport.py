"""CheckTCPHeader and CheckUDPHeader: checking the transport header of IP packets."""

from __future__ import annotations

import struct
from typing import ClassVar

from pyclick.args import BOOL, Args
from pyclick.element import PROCESSING_A_AH
from pyclick.elements.dropcounting import DropCounting
from pyclick.elements.inet import transport_checksum
from pyclick.elements.ipproto import TCP, UDP
from pyclick.packet import Packet

NOT_MINE, BAD_LENGTH, BAD_CHECKSUM = range(3)
_WORD = struct.Struct("!H")


class _CheckTransportHeader(DropCounting):
    """What both checks share: the drops, their reasons, VERBOSE and DETAILS.

    A subclass names its protocol and says how long its segment is.
    """

    registered = False
    port_count = "1/1-2"
    processing = PROCESSING_A_AH
    protocol: ClassVar[int]
    protocol_name: ClassVar[str]
    #: Why a packet is refused, by NOT_MINE, BAD_LENGTH, BAD_CHECKSUM.
    reasons: ClassVar[tuple[str, str, str]]

    def configure(self, args: Args) -> None:
        self.verbose = args.read("VERBOSE", BOOL, False)
        self.details = args.read("DETAILS", BOOL, False)
        args.complete()
        self.drops = 0
        self.reason_drops = [0] * len(self.reasons)

    def initialize(self) -> None:
        if self.details:
            self.router.handlers.add_read(self, "drop_details", self._drop_details)

    def segment_length(self, data: bytes, transport: int, ip_payload: int) -> int | None:
        """The length of the segment at ``transport`` (None when its header is
        impossible), given the IP payload length."""
        raise NotImplementedError

    def checked(self, data: bytes, transport: int) -> bool:
        """Whether the checksum of the segment at ``transport`` needs checking."""
        return True

    def _refuse(self, reason: int, packet: Packet) -> None:
        self.reason_drops[reason] += 1
        self.refuse(packet, f"{self.protocol_name} header check failed: {self.reasons[reason]}",
                    every=self.verbose)

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
        if self.checked(data, transport) and transport_checksum(
                data[at + 12:at + 16], data[at + 16:at + 20], self.protocol,
                data[transport:transport + length]) != 0:
            return self._refuse(BAD_CHECKSUM, packet)
        return packet

    def _drop_details(self) -> str:
        return "".join(f"{count}\t{reason}\n"
                       for count, reason in zip(self.reason_drops, self.reasons))


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
