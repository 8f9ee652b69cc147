"""GetIPAddress and SetIPAddress: the destination IP address annotation."""

from __future__ import annotations

from pyclick.args import UNSIGNED, Args, Choice
from pyclick.element import AGNOSTIC, Element, read_handler, write_handler
from pyclick.elements.clickargs import ANNO4
from pyclick.elements.handlercall import parse_value
from pyclick.elements.inet import IPADDR, ip_header_offset, unparse_ip
from pyclick.packet import Packet

_OFFSET = UNSIGNED.range(0, 65535)


class GetIPAddress(Element):
    """GetIPAddress(OFFSET, ANNO, KEYWORDS) -- sets destination IP address annotation from packet data

    Description
    Copies 4 bytes of the packet, OFFSET bytes in, into the destination IP
    address annotation (or the annotation ANNO). OFFSET is usually 16, the
    destination address of an IP packet. Instead of OFFSET, the IP keyword
    (src or dst) takes the address from the packet's IP header (its
    network header annotation; the start of the packet when none is set).
    Packets too short for the 4 bytes pass unchanged. Elements such as
    ARPQuerier and StaticIPLookup use the annotation.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    OFFSET -- where the 4 bytes are, 0 to 65535; mandatory unless IP is given
    ANNO -- the annotation to set (a name or an offset); default DST_IP
    IP -- src or dst: the IP header's source or destination address

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> GetIPAddress(16) -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.ip = args.read("IP", Choice("src", "dst"))
        self.offset = args.read_p("OFFSET", _OFFSET) if self.ip is None else None
        self.anno = args.read_p("ANNO", ANNO4, 0)
        if self.ip is None and self.offset is None and not args.errors:
            args.error("OFFSET: missing mandatory argument (or give IP)")
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        if self.ip is None:
            at = self.offset
        else:
            at = ip_header_offset(packet) + (12 if self.ip == "src" else 16)
        if at is not None and 0 <= at and at + 4 <= len(packet):
            start = packet.data_offset + at
            packet.set_anno_bytes(self.anno, bytes(packet.buffer[start:start + 4]))
        return packet


class SetIPAddress(Element):
    """SetIPAddress(IPADDR, ANNO) -- sets destination IP address annotations

    Description
    Sets the destination IP address annotation of every packet (or the
    annotation ANNO) to IPADDR.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    IPADDR -- the IP address; mandatory
    ANNO -- the annotation to set (a name or an offset); default DST_IP

    Element handlers
    addr (read/write) -- the IPADDR setting

    Example
    InfiniteSource(LIMIT 1) -> SetIPAddress(10.0.0.1) -> Discard;
    """

    can_live_reconfigure = True
    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.addr = args.read_mp("IPADDR", IPADDR)
        self.anno = args.read_p("ANNO", ANNO4, 0)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        packet.set_anno_bytes(self.anno, self.addr)
        return packet

    @read_handler("addr")
    def _read_addr(self) -> str:
        return unparse_ip(self.addr)

    @write_handler("addr")
    def _write_addr(self, value: str) -> None:
        self.addr = parse_value(IPADDR, value)
