"""802.1Q tags onto and off Ethernet frames: VLANEncap, VLANDecap, EtherVLANEncap
and StripEtherVLANHeader."""

from __future__ import annotations

import struct

from pyclick.args import BOOL, INT, UNSIGNED, Args, unquote
from pyclick.element import AGNOSTIC, PROCESSING_A_AH, Element
from pyclick.elements.etherencap import ETHERTYPE, read_ether_header
from pyclick.elements.inet import ETHERTYPE_VLAN, reject
from pyclick.packet import Packet

_TAG = struct.Struct("!HH")


def _tci(text: str, args: Args | None) -> int | None:
    """A VLAN TCI, 0 to 0xFFFF, or ANNO (None): the packet's VLAN TCI annotation."""
    if unquote(text).strip() == "ANNO":
        return None
    return UNSIGNED.range(0, 0xFFFF)(text, args)


def read_tci(args: Args) -> tuple[int, bool, int]:
    """VLAN_TCI, VLAN_PCP, VLAN_ID and NATIVE_VLAN, read as Click reads them:
    the TCI (VLAN_TCI, or VLAN_ID with VLAN_PCP), whether VLAN_TCI is ANNO,
    and the native VLAN (-1 for none)."""
    tci = args.read_p("VLAN_TCI", _tci, -1)
    pcp = args.read_p("VLAN_PCP", INT.range(0, 7), 0)
    vlan_id = args.read("VLAN_ID", INT.range(0, 0xFFF), 0)
    native = args.read("NATIVE_VLAN", INT.range(-1, 0xFFF), 0)
    whole = vlan_id if tci is None or tci < 0 else tci
    return (whole | (pcp << 13)) & 0xFFFF, tci is None, native


class VLANEncap(Element):
    """VLANEncap(VLAN_TCI, VLAN_PCP, KEYWORDS) -- adds VLAN information to Ethernet packets

    Description
    Expects Ethernet frames. Inserts an 802.1Q tag after the two addresses
    of each one: ETHERTYPE, then the tag control information (TCI): the
    VLAN ID in its lower 12 bits, the priority code point (VLAN_PCP) in its
    upper 3. The TCI is VLAN_TCI, or VLAN_ID with VLAN_PCP; with VLAN_TCI
    ANNO, each packet's VLAN TCI annotation. A frame whose VLAN ID is
    NATIVE_VLAN is left untagged. The MAC header annotation is set to the
    frame. Packets shorter than an Ethernet header pass unchanged.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    VLAN_TCI -- the whole TCI, 0 to 0xFFFF, or ANNO; default none (VLAN_ID and VLAN_PCP)
    VLAN_PCP -- the priority code point, 0 to 7; default 0
    VLAN_ID -- the VLAN ID, 0 to 0xFFF; default 0
    NATIVE_VLAN -- the VLAN ID sent untagged, -1 to 0xFFF (-1: none); default 0
    ETHERTYPE -- the tag's ethertype (0x88a8 for 802.1ad); default 0x8100

    Example
    InfiniteSource(LIMIT 1, STOP true) -> EtherEncap(0x0800, 0:1:2:3:4:5, 6:7:8:9:a:b)
        -> VLANEncap(VLAN_ID 7) -> Print -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.tci, self.use_anno, self.native_vlan = read_tci(args)
        self.ethertype = args.read("ETHERTYPE", ETHERTYPE, ETHERTYPE_VLAN)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        if len(packet) < 14:
            return packet
        tci = packet.vlan_tci if self.use_anno else self.tci
        if tci & 0xFFF == self.native_vlan:
            packet.set_mac_header(0, 14)
            return packet
        packet.push(4)
        data = packet.writable_data()
        data[0:12] = data[4:16]
        _TAG.pack_into(data, 12, self.ethertype, tci)
        packet.set_mac_header(0, 18)
        return packet


class VLANDecap(Element):
    """VLANDecap(ANNO, KEYWORDS) -- removes VLAN information from Ethernet packets

    Description
    Expects Ethernet frames. Removes the 802.1Q tag of each tagged frame
    (one whose type is ETHERTYPE), so that it reads as the untagged frame,
    and with ANNO keeps the tag control information in the packet's VLAN
    TCI annotation (0 for an untagged frame). The MAC header annotation is
    set to the frame.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    ANNO -- keep the TCI in the VLAN TCI annotation; default true
    ETHERTYPE -- the tag's ethertype; default 0x8100

    Example
    FromDump(trace.pcap, STOP true) -> VLANDecap -> Classifier(12/0800) -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.anno = args.read_p("ANNO", BOOL, True)
        self.ethertype = args.read("ETHERTYPE", ETHERTYPE, ETHERTYPE_VLAN)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        tci = 0
        if len(packet) >= 18 and _TAG.unpack_from(packet.buffer, packet.data_offset + 12)[0] \
                == self.ethertype:
            data = packet.writable_data()
            tci = _TAG.unpack_from(data, 12)[1]
            data[4:16] = data[0:12]
            packet.pull(4)
        if len(packet) >= 14:
            packet.set_mac_header(0, 14)
        if self.anno:
            packet.vlan_tci = tci
        return packet


class EtherVLANEncap(Element):
    """EtherVLANEncap(ETHERTYPE, SRC, DST, VLAN_TCI, VLAN_PCP, KEYWORDS) -- encapsulates packets in 802.1Q VLAN Ethernet header

    Description
    Puts an 802.1Q Ethernet header in front of each packet: DST, SRC, type
    0x8100, the tag control information (as VLANEncap takes it: VLAN_TCI,
    or VLAN_ID with VLAN_PCP; ANNO for each packet's VLAN TCI annotation),
    then ETHERTYPE, the type of what follows. A packet whose VLAN ID is
    NATIVE_VLAN gets a plain Ethernet header (DST, SRC, ETHERTYPE) instead.
    The MAC header annotation is set to the new header.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    ETHERTYPE -- the type of the encapsulated packet (0x0800 for IPv4); mandatory
    SRC -- the source Ethernet address; mandatory
    DST -- the destination Ethernet address; mandatory
    VLAN_TCI -- the whole TCI, 0 to 0xFFFF, or ANNO; default none (VLAN_ID and VLAN_PCP)
    VLAN_PCP -- the priority code point, 0 to 7; default 0
    VLAN_ID -- the VLAN ID, 0 to 0xFFF; default 0
    NATIVE_VLAN -- the VLAN ID sent untagged, -1 to 0xFFF (-1: none); default 0

    Example
    InfiniteSource(LIMIT 1, STOP true) -> UDPIPEncap(10.0.0.1, 1, 10.0.0.2, 2)
        -> EtherVLANEncap(0x0800, 0:1:2:3:4:5, 6:7:8:9:a:b, VLAN_ID 7) -> Print -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.ethertype, self.src, self.dst = read_ether_header(args)
        self.tci, self.use_anno, self.native_vlan = read_tci(args)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        tci = packet.vlan_tci if self.use_anno else self.tci
        tag = b"" if tci & 0xFFF == self.native_vlan else _TAG.pack(ETHERTYPE_VLAN, tci)
        header = self.dst + self.src + tag + self.ethertype.to_bytes(2, "big")
        packet.push(len(header))
        packet.write(0, header)
        packet.set_mac_header(0, len(header))
        return packet


class StripEtherVLANHeader(Element):
    """StripEtherVLANHeader(NATIVE_VLAN) -- strips 802.1Q VLAN Ethernet header

    Description
    Removes the Ethernet header of each frame, keeping its VLAN in the
    packet's VLAN TCI annotation: an 802.1Q header (18 bytes) goes with its
    tag control information kept; a plain Ethernet header (14 bytes) goes
    too, as belonging to NATIVE_VLAN, unless NATIVE_VLAN is -1: such a frame
    (and a packet too short for an Ethernet header) then leaves by output 1
    when it is connected, and is dropped otherwise.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (untagged frames, with NATIVE_VLAN -1)

    Keyword arguments
    NATIVE_VLAN -- the VLAN of untagged frames, -1 to 0xFFF (-1: refuse them); default 0

    Example
    FromDump(trace.pcap, STOP true) -> StripEtherVLANHeader(-1) -> CheckIPHeader -> Discard;
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        self.native_vlan = args.read_p("NATIVE_VLAN", INT.range(-1, 0xFFF), 0)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet | None:
        if len(packet) >= 18 and _TAG.unpack_from(packet.buffer, packet.data_offset + 12)[0] \
                == ETHERTYPE_VLAN:
            packet.vlan_tci = _TAG.unpack_from(packet.buffer, packet.data_offset + 12)[1]
            return packet.pull(18)
        if self.native_vlan >= 0 and len(packet) >= 14:
            packet.vlan_tci = self.native_vlan
            return packet.pull(14)
        reject(self, packet)
        return None
