"""SetIPChecksum, SetTCPChecksum and SetUDPChecksum: checksums computed afresh."""

from __future__ import annotations

import struct

from pyclick.args import BOOL, Args
from pyclick.element import AGNOSTIC, PROCESSING_A_AH
from pyclick.elements.dropcounting import DropCounting
from pyclick.elements.inet import checksum, ip_header_offset, transport_checksum
from pyclick.packet import Packet

_WORD = struct.Struct("!H")


def ip_segment(packet: Packet) -> tuple[int, int, int] | None:
    """Where the IP header of ``packet`` is, where its transport header is, and how
    long the IP payload is by the header's total length; None when the packet has
    no such annotations or is shorter than its IP length."""
    at, transport = packet.network_header_offset, packet.transport_header_offset
    if at is None or transport is None or at < 0 or len(packet) < at + 20:
        return None
    (length,) = _WORD.unpack_from(packet.buffer, packet.data_offset + at + 2)
    payload = length - (transport - at)
    if payload < 0 or transport + payload > len(packet):
        return None
    return at, transport, payload


def _fragment(data: bytes | memoryview, at: int) -> bool:
    """Whether the IP packet at ``at`` is a fragment (MF set or an offset)."""
    return _WORD.unpack_from(data, at + 6)[0] & 0x3FFF != 0


class SetIPChecksum(DropCounting):
    """SetIPChecksum -- sets IP packets' checksums

    Description
    Computes the checksum of each packet's IP header and writes it into
    the header (the network header annotation says where the header is; at
    the start of the packet when no element set it). Packets too short for
    their header, or whose header length is below 20, are dropped; the
    first one is reported. Elements that change IP headers (DecIPTTL,
    IPRewriter...) keep the checksum right themselves: SetIPChecksum is
    for headers built or edited by hand.

    Ports
    one agnostic input, one agnostic output

    Element handlers
    drops (read) -- packets dropped so far

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> SetIPChecksum -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def simple_action(self, packet: Packet) -> Packet | None:
        at = ip_header_offset(packet)
        available = len(packet) - at
        hlen = (packet.byte(at) & 15) * 4 if 0 <= at and available >= 20 else 0
        if hlen < 20 or hlen > available:
            self.refuse(packet, "bad input packet")
            return None
        data = packet.writable_data()
        data[at + 10:at + 12] = b"\0\0"
        _WORD.pack_into(data, at + 10, checksum(data[at:at + hlen]))
        return packet


class SetTCPChecksum(DropCounting):
    """SetTCPChecksum(FIXOFF) -- sets TCP packets' checksums

    Description
    Computes the checksum of each TCP packet, over its TCP header, its
    data (as far as the IP length says) and the IPv4 pseudo-header (with
    the protocol the IP header names, TCP or not), and writes it into the
    TCP header. Packets need their network and
    transport header annotations (CheckIPHeader, MarkIPHeader); packets
    without them, shorter than their IP length, or whose IP payload cannot
    hold a TCP header are dropped, and the first one is reported. With
    FIXOFF, a data offset below 5 words is set to 5, and one beyond the
    payload of an unfragmented packet is cut to it, before the checksum is
    computed.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    FIXOFF -- repair impossible TCP data offsets; default false

    Element handlers
    drops (read) -- packets dropped so far

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader -> SetTCPChecksum -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.fix_offset = args.read_p("FIXOFF", BOOL, False)
        args.complete()
        self.drops = 0

    def simple_action(self, packet: Packet) -> Packet | None:
        where = ip_segment(packet)
        if where is None or where[2] < 20:
            self.refuse(packet, "bad lengths")
            return None
        at, transport, length = where
        data = packet.writable_data()
        if self.fix_offset:
            offset = (data[transport + 12] >> 4) * 4
            if offset < 20:
                data[transport + 12] = 5 << 4 | data[transport + 12] & 15
            elif offset > length and not _fragment(data, at):
                data[transport + 12] = (length // 4) << 4 | data[transport + 12] & 15
        data[transport + 16:transport + 18] = b"\0\0"
        # The pseudo-header names the protocol the IP header says, as Click's does.
        _WORD.pack_into(data, transport + 16, transport_checksum(
            data[at + 12:at + 16], data[at + 16:at + 20], data[at + 9],
            data[transport:transport + length]))
        return packet


class SetUDPChecksum(DropCounting):
    """SetUDPChecksum -- sets UDP packets' checksums

    Description
    Computes the checksum of each UDP packet, over as many bytes as its
    UDP length says and the IPv4 pseudo-header, and writes it into the UDP
    header (a computed 0 is sent as ffff, as RFC 768 asks: 0 means no
    checksum). The IP protocol is not checked; the pseudo-header carries
    the one the IP header names. Packets need their network
    and transport header annotations (CheckIPHeader, MarkIPHeader).
    Fragments, and packets without the annotations or shorter than their
    UDP length, leave by output 1 when it is connected; otherwise they are
    dropped and the first one is reported.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (fragments and short packets)

    Element handlers
    drops (read) -- packets refused so far

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader -> SetUDPChecksum -> Discard;
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def simple_action(self, packet: Packet) -> Packet | None:
        at, transport = packet.network_header_offset, packet.transport_header_offset
        ok = at is not None and transport is not None and 0 <= at and len(packet) >= at + 20 \
            and len(packet) >= transport + 8
        if ok:
            start = packet.data_offset
            (length,) = _WORD.unpack_from(packet.buffer, start + transport + 4)
            # A UDP length below 8 is taken as it is, as Click does.
            ok = not _fragment(packet.buffer, start + at) and transport + length <= len(packet)
        if not ok:
            # Reported only when refused packets are dropped rather than sent on.
            self.refuse(packet, "fragment or short packet" if self.noutputs < 2 else None)
            return None
        data = packet.writable_data()
        data[transport + 6:transport + 8] = b"\0\0"
        csum = transport_checksum(data[at + 12:at + 16], data[at + 16:at + 20], data[at + 9],
                                  data[transport:transport + length])
        _WORD.pack_into(data, transport + 6, csum or 0xFFFF)
        return packet
