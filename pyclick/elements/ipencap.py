"""IPEncap, StripIPHeader and UnstripIPHeader: putting an IP header on a packet, taking it
off and putting it back."""

from __future__ import annotations

from pyclick.args import BOOL, INT, UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.elements.inet import IPADDR, ipv4_header, unparse_ip
from pyclick.elements.ipproto import IP_PROTO
from pyclick.elements.settinghandlers import setting_handlers
from pyclick.packet import Packet

#: The DST that takes each packet's destination IP address annotation.
DST_ANNO = "DST_ANNO"
ECN_ECT1, ECN_ECT2, ECN_CE = 1, 2, 3
DONT_FRAGMENT = 0x4000
_BYTE = UNSIGNED.range(0, 255)


def _DESTINATION(text: str, args: Args | None) -> bytes | None:
    """An IP address, or DST_ANNO (None)."""
    if text.strip() == DST_ANNO:
        return None
    try:
        return IPADDR(text, args)
    except ValueError:
        raise ValueError("expected IP address or 'DST_ANNO'") from None


def unparse_destination(dst: bytes | None) -> str:
    """A DST setting: an IP address, or DST_ANNO."""
    return DST_ANNO if dst is None else unparse_ip(dst)


def _ECT(text: str, args: Args) -> int:
    """A boolean (true: ECN bits 1), or 2 (ECN bits 2)."""
    if text.strip() == "2":
        return ECN_ECT2
    try:
        return ECN_ECT1 if BOOL(text, args) else 0
    except ValueError:
        raise ValueError("expected boolean or 2") from None


class IPEncap(Element):
    """IPEncap(PROTO, SRC, DST, KEYWORDS) -- encapsulates packets in static IP header

    Description
    Puts an IP header in front of each packet: protocol PROTO, source SRC,
    destination DST, the total length of the packet, an ID counting up
    from 0, and a correct checksum; the header becomes the packet's
    network header annotation and DST its destination IP address
    annotation. When DST is DST_ANNO, the destination is each packet's
    destination annotation instead. Most useful for IP-in-IP (protocol 4,
    ipip); StripIPHeader takes the header off again.

    PROTO is a number from 0 to 255 or a name: icmp, igmp, ipip, tcp, udp,
    gre, esp, ah, icmp6, sctp.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    PROTO -- the IP protocol; mandatory
    SRC -- the source address; mandatory
    DST -- the destination address, or DST_ANNO; mandatory
    TTL -- the time to live, 0 to 255; default 250
    TOS -- the whole TOS byte, 0 to 255, or -1 for none (not with DSCP, ECT or CE); default 0
    DSCP -- the DSCP, 0 to 63, or -1 for none; default 0
    ECT -- ECN capable transport: true sets the ECN bits to 1, 2 to 2; default false
    CE -- set the ECN bits to 3 (congestion experienced); default false
    DF -- set the don't fragment bit; default false

    Element handlers
    src, dst (read/write) -- the SRC and DST settings; a write sets the
    argument in config too

    Example
    FromDump(trace.pcap, STOP true) -> IPEncap(ipip, 18.26.4.24, 140.247.60.147) -> Discard;
    """

    can_live_reconfigure = True
    live_state = ("_id",)
    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.protocol = args.read_mp("PROTO", IP_PROTO)
        self.src = args.read_mp("SRC", IPADDR)
        self.dst = args.read_mp("DST", _DESTINATION)
        # -1 is Click's "not set" for TOS and DSCP.
        tos = _none_if_unset(args.read("TOS", INT.range(-1, 255)))
        self.ttl = args.read("TTL", _BYTE, 250)
        dscp = _none_if_unset(args.read("DSCP", INT.range(-1, 63)))
        ect = args.read("ECT", _ECT, 0)
        ce = args.read("CE", BOOL, False)
        self.dont_fragment = args.read("DF", BOOL, False)
        if tos is not None and dscp is not None:
            args.error("cannot set both TOS and DSCP")
        if tos is not None and (ect or ce):
            args.error("cannot set both TOS and ECN bits")
        if ect and ce:
            args.error("can set at most one ECN option")
        args.complete()
        self.tos = tos if tos is not None else (dscp or 0) << 2 | (ECN_CE if ce else ect)
        self._id = 0

    def simple_action(self, packet: Packet) -> Packet:
        dst = packet.dst_ip if self.dst is None else self.dst
        packet.push(20)
        packet.write(0, ipv4_header(len(packet) & 0xFFFF, self._id, self.ttl, self.protocol,
                                    self.src, dst, tos=self.tos,
                                    fragment=DONT_FRAGMENT if self.dont_fragment else 0))
        self._id = (self._id + 1) & 0xFFFF
        packet.set_network_header(0, 20)
        packet.dst_ip = dst
        return packet

    _read_src, _write_src = setting_handlers("src", IPADDR, unparse_ip, argument=(1, "SRC"))
    _read_dst, _write_dst = setting_handlers("dst", _DESTINATION, unparse_destination,
                                             argument=(2, "DST"))


class StripIPHeader(Element):
    """StripIPHeader -- strips outermost IP header

    Description
    Removes everything up to the transport header annotation: the
    outermost IP header of packets whose network header annotation is set
    (CheckIPHeader, MarkIPHeader). Annotations stay as they were, so they
    still point at the header that is now out of the packet: follow
    StripIPHeader with CheckIPHeader or MarkIPHeader to mark an inner IP
    header. Packets without the annotation pass unchanged.

    Ports
    one agnostic input, one agnostic output

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader -> StripIPHeader
        -> CheckIPHeader -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def simple_action(self, packet: Packet) -> Packet:
        offset = packet.transport_header_offset
        if offset is not None and offset > 0:
            packet.pull(offset)
        return packet


class UnstripIPHeader(Element):
    """UnstripIPHeader -- restores outermost IP header

    Description
    Puts back what StripIPHeader took off: the packet's data starts again at
    its network header annotation, when that lies before the data. Packets
    without the annotation, or whose data starts at or before it, pass
    unchanged.

    Ports
    one agnostic input, one agnostic output

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader -> StripIPHeader
        -> UnstripIPHeader -> IPPrint -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def simple_action(self, packet: Packet) -> Packet:
        offset = packet.network_header_offset
        if offset is not None and offset < 0:
            packet.push(-offset)
        return packet


def _none_if_unset(value: int | None) -> int | None:
    """A TOS or DSCP argument: -1, as none given, is None."""
    return None if value == -1 else value
