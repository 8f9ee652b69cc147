"""UDPIPEncap: fixed UDP and IP headers in front of each packet."""

from __future__ import annotations

from pyclick.args import BOOL, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.elements.inet import IPADDR, ipv4_header, udp_header, unparse_ip
from pyclick.elements.ipencap import DST_ANNO, unparse_destination
from pyclick.elements.ipproto import UDP
from pyclick.elements.portnames import UDP_PORT
from pyclick.elements.settinghandlers import setting_handlers
from pyclick.packet import Packet

_PORT = UDP_PORT
#: The TTL of the packets UDPIPEncap makes (Click's).
TTL = 250
#: The longest payload that fits a datagram with both headers.
MAX_PAYLOAD = 65535 - 28


def _destination(text: str, args: Args | None) -> bytes | None:
    """An IP address, or None for DST_ANNO (the packet's destination annotation)."""
    return None if text.strip() == DST_ANNO else IPADDR(text, args)


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
    SPORT -- source port, 0 to 65535, or a port name (PortInfo, www...); mandatory
    DST -- destination IP address, or DST_ANNO; mandatory
    DPORT -- destination port, as SPORT; mandatory
    CHECKSUM -- compute the UDP checksum; default true

    Element handlers
    src, sport, dst, dport (read/write) -- the settings of the same names;
    a write sets the argument in config too

    Example
    InfiniteSource(LIMIT 1) -> UDPIPEncap(1.0.0.1, 1234, 2.0.0.2, 1234) -> CheckIPHeader -> Discard;
    """

    can_live_reconfigure = True
    live_state = ("_id",)
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
        udp = udp_header(self.src, self.sport, dst, self.dport, packet.data, self.checksum)
        ip = ipv4_header(payload_length + 28, self._id, TTL, UDP, self.src, dst)
        self._id = (self._id + 1) & 0xFFFF
        packet.push(28)
        packet.write(0, ip + udp)
        packet.set_network_header(0, 20)
        packet.dst_ip = dst
        return packet

    _read_src, _write_src = setting_handlers("src", IPADDR, unparse_ip, argument=(0, "SRC"))
    _read_dst, _write_dst = setting_handlers("dst", _destination, unparse_destination,
                                             argument=(2, "DST"))
    _read_sport, _write_sport = setting_handlers("sport", _PORT, argument=(1, "SPORT"))
    _read_dport, _write_dport = setting_handlers("dport", _PORT, argument=(3, "DPORT"))
