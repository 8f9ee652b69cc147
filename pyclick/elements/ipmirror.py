"""IPMirror: a packet turned back towards where it came from."""

from __future__ import annotations

import struct

from pyclick.args import BOOL, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.elements.inet import whole_ip_header_at
from pyclick.elements.ipproto import TCP, UDP
from pyclick.packet import Packet


class IPMirror(Element):
    """IPMirror(DST_ANNO) -- swaps IP source and destination

    Description
    Swaps the source and destination addresses of IP packets (their
    network header annotation says where the header is; at the start of
    the packet when no element set it). The first fragment of a TCP or UDP
    packet also gets its ports swapped, and a TCP packet its sequence and
    acknowledgment numbers. Swapping changes no checksum: they stay
    right. Unless DST_ANNO is false, the destination IP address annotation
    becomes the new destination. Packets too short for an IP header pass
    unchanged.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    DST_ANNO -- set the destination IP address annotation; default true

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader -> IPMirror -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.dst_anno = args.read_p("DST_ANNO", BOOL, True)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        at = whole_ip_header_at(packet)
        if at is None:
            return packet
        data = packet.writable_data()
        src, dst = bytes(data[at + 12:at + 16]), bytes(data[at + 16:at + 20])
        data[at + 12:at + 16], data[at + 16:at + 20] = dst, src
        if self.dst_anno:
            packet.dst_ip = src
        protocol = data[at + 9]
        (fragment,) = struct.unpack_from("!H", data, at + 6)
        transport = packet.transport_header_offset
        if transport is None:
            transport = at + (data[at] & 15) * 4
        if protocol in (TCP, UDP) and fragment & 0x1FFF == 0 and len(data) >= transport + 8:
            ports = bytes(data[transport:transport + 4])
            data[transport:transport + 4] = ports[2:] + ports[:2]
            if protocol == TCP and len(data) >= transport + 12:
                numbers = bytes(data[transport + 4:transport + 12])
                data[transport + 4:transport + 12] = numbers[4:] + numbers[:4]
        return packet
