"""TruncateIPPayload and EraseIPPayload: cutting off or zeroing what IP packets carry."""

from __future__ import annotations

from pyclick.args import BOOL, UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.elements.ipproto import ICMP, TCP, UDP
from pyclick.packet import Packet

#: ICMP timestamp request and reply, whose header holds three timestamps.
_ICMP_TIMESTAMPS = (13, 14)
_IP_HEADER = 20
_TCP_HEADER = 20
_UDP_HEADER = 8
_ICMP_HEADER = 8
_ICMP_TIMESTAMP_HEADER = 20


def transport_offset(packet: Packet, at: int) -> int:
    """Where the transport header of the IP packet whose header is ``at``
    starts: the transport header annotation, or after the IP header."""
    offset = packet.transport_header_offset
    if offset is None:
        offset = at + (packet.buffer[packet.data_offset + at] & 15) * 4
    return offset


class TruncateIPPayload(Element):
    """TruncateIPPayload(LENGTH, TRANSPORT, KEYWORDS) -- limit payload length

    Description
    Shortens IP packets (those with a network header annotation) so that
    they carry at most LENGTH bytes after their headers. The headers are the
    IP header and, with TRANSPORT, the TCP header (its data offset, or 20
    bytes when that is unreadable or too small), the UDP header (8 bytes) or
    the ICMP header (8 bytes, 20 for timestamp messages; none when the
    packet holds less than 8 bytes of ICMP). An IP header length field
    below 5 words counts as a 20-byte IP header with no transport header
    after it. Whatever lies before the IP header stays; whatever follows the
    IP datagram (Ethernet padding) counts as payload. Packets without a
    network header annotation are shortened to LENGTH bytes in all. With
    EXTRA_LENGTH, the bytes cut off are added to the extra length
    annotation, so that ToDump still records the original length.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    LENGTH -- the most payload bytes kept, 0 to 65535; default 0
    TRANSPORT -- count the TCP, UDP or ICMP header as header, not payload; default true
    EXTRA_LENGTH -- add the bytes cut off to the extra length annotation; default true

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader -> Unstrip(14)
        -> TruncateIPPayload -> ToDump(headers.pcap);
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.length = args.read_p("LENGTH", UNSIGNED.range(0, 65535), 0)
        self.transport = args.read_p("TRANSPORT", BOOL, True)
        self.extra_length = args.read("EXTRA_LENGTH", BOOL, True)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        at = packet.network_header_offset
        if at is None:
            excess = len(packet) - self.length
        else:
            excess = len(packet) - at - self.length - self._headers(packet, at)
        if excess > 0:
            if self.extra_length:
                packet.extra_length += excess
            packet.take(excess)
        return packet

    def _headers(self, packet: Packet, at: int) -> int:
        """The length of the headers of the IP packet whose header is ``at``."""
        buf, head = packet.buffer, packet.data_offset
        ip_length = len(packet) - at
        ihl = buf[head + at] & 15 if ip_length > 0 else 0
        if ihl < 5:
            return _IP_HEADER
        length = ihl * 4
        # The protocol is byte 9 of the IP header.
        if not self.transport or ip_length < 10:
            return length
        transport = transport_offset(packet, at)
        available = len(packet) - transport
        protocol = buf[head + at + 9]
        if protocol == TCP:
            offset = buf[head + transport + 12] >> 4 if available > 12 else 0
            return length + (offset * 4 if offset >= 5 else _TCP_HEADER)
        if protocol == UDP:
            return length + _UDP_HEADER
        if protocol == ICMP and available >= _ICMP_HEADER:
            kind = buf[head + transport]
            return length + (_ICMP_TIMESTAMP_HEADER if kind in _ICMP_TIMESTAMPS
                             else _ICMP_HEADER)
        return length


class EraseIPPayload(Element):
    """EraseIPPayload() -- erases IP packet payload

    Description
    Zeroes the payload of TCP and UDP packets, keeping their length: every
    byte after the TCP header (as long as its data offset says) or the
    8-byte UDP header, to the end of the packet. The TCP or UDP checksum is
    set to 0 too, when the packet holds it. ICMP packets pass unchanged.
    Packets of other protocols, and packets without a network header
    annotation (CheckIPHeader, MarkIPHeader) or too short to hold the IP
    protocol field, are dropped.

    Ports
    one agnostic input, one agnostic output

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader -> EraseIPPayload
        -> Unstrip(14) -> ToDump(anonymous.pcap);
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def simple_action(self, packet: Packet) -> Packet | None:
        at = packet.network_header_offset
        if at is None or not 0 <= at + 9 < len(packet):
            return None
        protocol = packet.byte(at + 9)
        if protocol == ICMP:
            return packet
        if protocol not in (TCP, UDP):
            return None
        transport = transport_offset(packet, at)
        length = len(packet)
        if protocol == TCP:
            if transport + 13 > length:
                # Too short for a data offset: no payload, and no checksum.
                return packet
            payload = transport + (packet.byte(transport + 12) >> 4) * 4
            checksum_at = transport + 16
        else:
            payload = transport + _UDP_HEADER
            checksum_at = transport + 6
        data = packet.writable_data()
        start = max(payload, 0)
        if start < length:
            data[start:] = bytes(length - start)
        if 0 <= checksum_at and checksum_at + 2 <= length:
            data[checksum_at:checksum_at + 2] = b"\0\0"
        return packet
