"""UDPIPEncap: fixed UDP and IP headers in front of each packet."""

from __future__ import annotations

import struct

from pyclick.args import BOOL, UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element, read_handler, write_handler
from pyclick.elements.handlercall import parse_value
from pyclick.elements.inet import IPADDR, checksum, unparse_ip
from pyclick.packet import Packet

_PORT = UNSIGNED.range(0, 65535)
#: The TTL of the packets UDPIPEncap makes (Click's).
TTL = 250
_IP = struct.Struct("!BBHHHBBH4s4s")
_UDP = struct.Struct("!HHHH")
#: The longest payload that fits a datagram with both headers.
MAX_PAYLOAD = 65535 - 28


def _destination(text: str, args: Args | None) -> bytes | None:
    """An IP address, or None for DST_ANNO (the packet's destination annotation)."""
    return None if text.strip() == "DST_ANNO" else IPADDR(text, args)


class UDPIPEncap(Element):
    """UDPIPEncap(SRC, SPORT, DST, DPORT, CHECKSUM) -- encapsulates packets in static UDP/IP headers

    Description
    Puts a UDP header and an IP header in front of each packet: source
    address SRC and port SPORT, destination DST and DPORT. The IP header
    has no options, TOS 0, TTL 250, no fragment bits, and an ID that counts
    up from 0 with each packet; its checksum is set. The UDP checksum is
    computed when CHECKSUM is true (a computed 0 is sent as 0xFFFF), and
    left 0 otherwise. DST "DST_ANNO" takes each packet's destination IP
    address annotation. The packet's network header and destination IP
    address annotations are set to the new header. Strip(28) takes the
    headers off again. Packets longer than 65507 bytes are dropped.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    SRC -- source IP address; mandatory
    SPORT -- source port, 0 to 65535; mandatory
    DST -- destination IP address, or DST_ANNO; mandatory
    DPORT -- destination port, 0 to 65535; mandatory
    CHECKSUM -- compute the UDP checksum; default true

    Element handlers
    src, sport, dst, dport (read/write) -- the settings of the same names

    Example
    InfiniteSource(LIMIT 1) -> UDPIPEncap(1.0.0.1, 1234, 2.0.0.2, 1234) -> CheckIPHeader -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.src = args.read_mp("SRC", IPADDR)
        self.sport = args.read_mp("SPORT", _PORT)
        self.dst = args.read_mp("DST", _destination)
        self.dport = args.read_mp("DPORT", _PORT)
        self.checksum = args.read_p("CHECKSUM", BOOL, True)
        args.complete()
        self._id = 0

    def simple_action(self, packet: Packet) -> Packet | None:
        payload_length = len(packet)
        if payload_length > MAX_PAYLOAD:
            return None
        dst = packet.dst_ip if self.dst is None else self.dst
        udp_length = payload_length + 8
        udp_sum = 0
        if self.checksum:
            pseudo = self.src + dst + struct.pack("!BBH", 0, 17, udp_length)
            header = _UDP.pack(self.sport, self.dport, udp_length, 0)
            udp_sum = checksum(pseudo + header + packet.data) or 0xFFFF
        ip = bytearray(_IP.pack(0x45, 0, udp_length + 20, self._id, 0, TTL, 17, 0, self.src, dst))
        ip[10:12] = struct.pack("!H", checksum(ip))
        self._id = (self._id + 1) & 0xFFFF
        packet.push(28)
        packet.write(0, bytes(ip) + _UDP.pack(self.sport, self.dport, udp_length, udp_sum))
        packet.set_network_header(0, 20)
        packet.dst_ip = dst
        return packet

    @read_handler("src")
    def _read_src(self) -> str:
        return unparse_ip(self.src)

    @write_handler("src")
    def _write_src(self, value: str) -> None:
        self.src = parse_value(IPADDR, value)

    @read_handler("dst")
    def _read_dst(self) -> str:
        return "DST_ANNO" if self.dst is None else unparse_ip(self.dst)

    @write_handler("dst")
    def _write_dst(self, value: str) -> None:
        self.dst = parse_value(_destination, value)

    @read_handler("sport")
    def _read_sport(self) -> str:
        return str(self.sport)

    @write_handler("sport")
    def _write_sport(self, value: str) -> None:
        self.sport = parse_value(_PORT, value)

    @read_handler("dport")
    def _read_dport(self) -> str:
        return str(self.dport)

    @write_handler("dport")
    def _write_dport(self, value: str) -> None:
        self.dport = parse_value(_PORT, value)
