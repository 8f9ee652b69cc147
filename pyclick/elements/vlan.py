"""802.1Q tags onto and off Ethernet frames: VLANEncap, VLANDecap, EtherVLANEncap
and StripEtherVLANHeader."""

from __future__ import annotations

import struct

from pyclick.args import BOOL, INT, UNSIGNED, Args, unquote
from pyclick.element import AGNOSTIC, PROCESSING_A_AH, Element, read_handler, write_handler
from pyclick.elements.etherencap import ETHERTYPE, EtherAddresses, read_ether_header
from pyclick.elements.handlercall import parse_value
from pyclick.elements.inet import ETHERTYPE_VLAN, reject, unparse_ether
from pyclick.packet import Packet

_TAG = struct.Struct("!HH")
_PCP = INT.range(0, 7)
_VLAN_ID = INT.range(0, 0xFFF)
_NATIVE_VLAN = INT.range(-1, 0xFFF)


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
    pcp = args.read_p("VLAN_PCP", _PCP, 0)
    vlan_id = args.read("VLAN_ID", _VLAN_ID, 0)
    native = args.read("NATIVE_VLAN", _NATIVE_VLAN, 0)
    whole = vlan_id if tci is None or tci < 0 else tci
    return (whole | (pcp << 13)) & 0xFFFF, tci is None, native


class VLANTagging(Element):
    """What VLANEncap and EtherVLANEncap share: one agnostic input and
    output, the VLAN settings and their handlers."""

    registered = False
    port_count = "1/1"
    processing = AGNOSTIC

    tci: int
    use_anno: bool
    native_vlan: int
    ethertype: int

    def vlan_config(self) -> str:
        """The VLAN part of the config handler's value, as Click writes it."""
        text = "ANNO" if self.use_anno else \
            f"VLAN_ID {self.tci & 0xFFF}, VLAN_PCP {self.tci >> 13}"
        return text + (f", NATIVE_VLAN {self.native_vlan}" if self.native_vlan else "")

    @read_handler("vlan_tci")
    def _read_vlan_tci(self) -> str:
        return "ANNO" if self.use_anno else str(self.tci)

    @write_handler("vlan_tci")
    def _write_vlan_tci(self, value: str) -> None:
        tci = parse_value(_tci, value)
        self.use_anno = tci is None
        if tci is not None:
            self.tci = tci

    # As Click's, vlan_id and vlan_pcp read empty with ANNO: they are not in the config.
    @read_handler("vlan_id")
    def _read_vlan_id(self) -> str:
        return "" if self.use_anno else str(self.tci & 0xFFF)

    @write_handler("vlan_id")
    def _write_vlan_id(self, value: str) -> None:
        self.tci = (self.tci & 0xF000) | parse_value(_VLAN_ID, value)

    @read_handler("vlan_pcp")
    def _read_vlan_pcp(self) -> str:
        return "" if self.use_anno else str(self.tci >> 13)

    @write_handler("vlan_pcp")
    def _write_vlan_pcp(self, value: str) -> None:
        self.tci = (self.tci & 0x1FFF) | (parse_value(_PCP, value) << 13)

    # Click's reads empty for the default 0, which its config leaves out.
    @read_handler("native_vlan")
    def _read_native_vlan(self) -> str:
        return str(self.native_vlan) if self.native_vlan else ""

    @write_handler("native_vlan")
    def _write_native_vlan(self, value: str) -> None:
        self.native_vlan = parse_value(_NATIVE_VLAN, value)

    @read_handler("ethertype")
    def _read_ethertype(self) -> str:
        return str(self.ethertype)

    @write_handler("ethertype")
    def _write_ethertype(self, value: str) -> None:
        self.ethertype = parse_value(ETHERTYPE, value)


class VLANEncap(VLANTagging):
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

    Element handlers
    config (read) -- the settings, as ANNO or VLAN_ID and VLAN_PCP, then
        NATIVE_VLAN unless it is 0
    vlan_tci (read/write) -- the TCI in decimal, or ANNO; a write takes
        the whole TCI (0 to 0xFFFF) or ANNO
    vlan_id (read/write) -- the VLAN ID in the TCI (empty with ANNO); a
        write changes only those 12 bits
    vlan_pcp (read/write) -- the priority code point in the TCI (empty with
        ANNO); a write changes only those 3 bits
    native_vlan (read/write) -- the NATIVE_VLAN setting (empty when 0)
    ethertype (read/write) -- the ETHERTYPE setting, in decimal
    While VLAN_TCI is ANNO, writes to vlan_id and vlan_pcp do not change
    the frames. Every write applies to the frames that come after it.

    Example
    InfiniteSource(LIMIT 1, STOP true) -> EtherEncap(0x0800, 0:1:2:3:4:5, 6:7:8:9:a:b)
        -> VLANEncap(VLAN_ID 7) -> Print -> Discard;
    """

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

    @read_handler("config")
    def _read_config(self) -> str:
        return self.vlan_config()


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


class EtherVLANEncap(VLANTagging, EtherAddresses):
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

    Element handlers
    config (read) -- the settings: SRC, DST, ETHERTYPE in decimal, then ANNO
        or VLAN_ID and VLAN_PCP, then NATIVE_VLAN unless it is 0
    src, dst (read/write) -- the SRC and DST addresses
    ethertype (read/write) -- the ETHERTYPE setting, in decimal
    vlan_tci, vlan_id, vlan_pcp, native_vlan (read/write) -- as VLANEncap's
    Every write applies to the packets that come after it.

    Example
    InfiniteSource(LIMIT 1, STOP true) -> UDPIPEncap(10.0.0.1, 1, 10.0.0.2, 2)
        -> EtherVLANEncap(0x0800, 0:1:2:3:4:5, 6:7:8:9:a:b, VLAN_ID 7) -> Print -> Discard;
    """

    can_live_reconfigure = True

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

    @read_handler("config")
    def _read_config(self) -> str:
        return f"{unparse_ether(self.src)}, {unparse_ether(self.dst)}, {self.ethertype}, " \
            + self.vlan_config()


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

    can_live_reconfigure = True
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
