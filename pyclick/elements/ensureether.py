"""EnsureEther: an Ethernet header in front of IP packets that lack one."""

from __future__ import annotations

import struct

from pyclick.args import Args
from pyclick.element import AGNOSTIC, Element
from pyclick.elements.etherencap import ETHERTYPE
from pyclick.elements.inet import ETHER_HEADER, ETHERADDR, ETHERTYPE_IPV4, ETHERTYPE_IPV6
from pyclick.packet import Packet

#: The type fields of an Ethernet header that carries IP.
_IP_TYPES = frozenset(struct.pack("!H", kind) for kind in (ETHERTYPE_IPV4, ETHERTYPE_IPV6))


class EnsureEther(Element):
    """EnsureEther(ETHERTYPE, SRC, DST) -- ensures that IP packets are Ethernet encapsulated

    Description
    Makes sure each IP packet (one with a network header annotation) starts
    with an Ethernet header. A packet whose IP header lies 14 bytes in,
    after an Ethernet header of type IPv4 or IPv6, passes unchanged. A
    packet that starts with its IP header and still holds the Ethernet
    header of type IPv4 or IPv6 that Strip removed gets it back. Any other
    IP packet loses what comes before its IP header and gets a new header
    of type ETHERTYPE from SRC to DST. Packets without a network header
    annotation, or whose IP header was stripped off, pass unchanged.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    ETHERTYPE -- the Ethernet type of new headers, 0 to 0xFFFF; default 0x0800
    SRC -- the source Ethernet address of new headers; default 01:01:01:01:01:01
    DST -- the destination Ethernet address of new headers; default 02:02:02:02:02:02

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader
        -> EnsureEther(0x0800, 1:1:1:1:1:1, 2:2:2:2:2:2) -> ToDump(out.pcap);
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        ethertype = args.read_p("ETHERTYPE", ETHERTYPE, ETHERTYPE_IPV4)
        src = args.read_p("SRC", ETHERADDR, b"\x01" * 6)
        dst = args.read_p("DST", ETHERADDR, b"\x02" * 6)
        args.complete()
        self._header = dst + src + struct.pack("!H", ethertype)

    def simple_action(self, packet: Packet) -> Packet:
        at = packet.network_header_offset
        if at is None or at < 0:
            return packet
        buf, head = packet.buffer, packet.data_offset
        if at == ETHER_HEADER:
            if bytes(buf[head + 12:head + 14]) in _IP_TYPES:
                return packet
        elif at == 0 and head >= ETHER_HEADER:
            if bytes(buf[head - 2:head]) in _IP_TYPES:
                return packet.push(ETHER_HEADER)
        packet.pull(at)
        packet.push(ETHER_HEADER)
        packet.write(0, self._header)
        return packet
