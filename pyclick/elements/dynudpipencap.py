"""DynamicUDPIPEncap: UDP and IP headers whose ports go up every INTERVAL packets."""

from __future__ import annotations

import struct

from pyclick.args import BOOL, UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.elements.inet import IPADDR, ipv4_header, transport_checksum
from pyclick.elements.ipproto import UDP
from pyclick.elements.portnames import UDP_PORT
from pyclick.elements.udpipencap import TTL
from pyclick.packet import Packet

HEADERS = 28


class DynamicUDPIPEncap(Element):
    """DynamicUDPIPEncap(SRC, SPORT, DST, DPORT, CHECKSUM, INTERVAL) -- encapsulates packets in UDP/IP headers with changing ports

    Description
    UDPIPEncap whose ports move: puts a UDP header and an IP header in
    front of each packet, from SRC port SPORT to DST port DPORT, and after
    every INTERVAL packets both ports go up by one (65535 wraps to 0;
    INTERVAL 0 keeps them). The IP header has no options, TOS 0, TTL 250,
    no fragment bits, an ID counting up from 0 with each packet, and its
    checksum set. The UDP checksum is computed when CHECKSUM is true and
    left 0 otherwise (a computed 0 stays 0, as in Click). The lengths in
    the headers are the packet's modulo 65536. The packet's network header
    and destination IP address annotations are set to the new header;
    Strip(28) takes the headers off again.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    SRC -- source IP address; mandatory
    SPORT -- source port, 0 to 65535, or a port name (PortInfo, www...); mandatory
    DST -- destination IP address; mandatory
    DPORT -- destination port, as SPORT; mandatory
    CHECKSUM -- compute the UDP checksum; default true
    INTERVAL -- packets between port increments, at most 2^32-1 (0: never); default 0

    Example
    InfiniteSource(LIMIT 4) -> DynamicUDPIPEncap(1.0.0.1, 1234, 2.0.0.2, 1234, true, 2)
        -> CheckIPHeader -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.src = args.read_mp("SRC", IPADDR)
        self.sport = args.read_mp("SPORT", UDP_PORT)
        self.dst = args.read_mp("DST", IPADDR)
        self.dport = args.read_mp("DPORT", UDP_PORT)
        self.checksum = args.read_p("CHECKSUM", BOOL, True)
        self.interval = args.read_p("INTERVAL", UNSIGNED.range(0, 2**32 - 1), 0)
        args.complete()
        self._id = 0
        self._count = 0

    def simple_action(self, packet: Packet) -> Packet:
        packet.push(HEADERS)
        total = len(packet)
        udp_length = (total - 20) & 0xFFFF
        ip = ipv4_header(total & 0xFFFF, self._id, TTL, UDP, self.src, self.dst)
        self._id = (self._id + 1) & 0xFFFF
        udp = bytearray(struct.pack("!HHHH", self.sport, self.dport, udp_length, 0))
        if self.checksum:
            segment = udp + packet.data[HEADERS:HEADERS + udp_length - 8]
            struct.pack_into("!H", udp, 6, transport_checksum(self.src, self.dst, UDP, segment))
        packet.write(0, ip + udp)
        packet.set_network_header(0, 20)
        packet.dst_ip = self.dst
        self._count += 1
        if self._count == self.interval:
            self.sport = (self.sport + 1) & 0xFFFF
            self.dport = (self.dport + 1) & 0xFFFF
            self._count = 0
        return packet
