"""SetEtherAddress and GetEtherAddress: Ethernet addresses in annotations."""

from __future__ import annotations

from pyclick.args import Args
from pyclick.element import AGNOSTIC, PROCESSING_A_AH, Element
from pyclick.elements.clickargs import ANNO6
from pyclick.elements.inet import ETHERADDR, reject, unparse_ether
from pyclick.elements.settinghandlers import setting_handlers
from pyclick.elements.storeetheraddress import _offset
from pyclick.packet import Packet


class SetEtherAddress(Element):
    """SetEtherAddress(ADDR, ANNO) -- sets Ethernet address annotations

    Description
    Sets the 6-byte annotation ANNO of each packet to the Ethernet address
    ADDR. ANNO is an offset in the annotation area, 0 to 42 (no named
    annotation is 6 bytes long). StoreEtherAddress(ANNO ...) writes such an
    annotation into the packet.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    ADDR -- the Ethernet address; mandatory
    ANNO -- the annotation to set, an offset; mandatory

    Element handlers
    addr (read/write) -- the ADDR setting

    Example
    InfiniteSource(LIMIT 1) -> SetEtherAddress(0:1:2:3:4:5, 36)
        -> StoreEtherAddress(ANNO 36, OFFSET dst) -> Print -> Discard;
    """

    can_live_reconfigure = True
    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.addr = args.read_mp("ADDR", ETHERADDR)
        self.anno = args.read_mp("ANNO", ANNO6)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        packet.set_anno_bytes(self.anno, self.addr)
        return packet

    _read_addr, _write_addr = setting_handlers("addr", ETHERADDR, unparse_ether)


class GetEtherAddress(Element):
    """GetEtherAddress(ANNO, OFFSET) -- copies an Ethernet address from packets into an annotation

    Description
    Copies the 6 bytes found OFFSET bytes into each packet into its 6-byte
    annotation ANNO (an offset in the annotation area, 0 to 42). OFFSET may
    be dst (0) or src (6), the addresses of an Ethernet header at the start
    of the packet. A packet too short for the address leaves by output 1
    when it is connected, and is dropped otherwise.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (packets too short)

    Keyword arguments
    ANNO -- the annotation to set, an offset; mandatory
    OFFSET -- where the address is: 0 to 65535, src or dst; mandatory

    Example
    FromDump(trace.pcap, STOP true) -> GetEtherAddress(36, src)
        -> StoreEtherAddress(ANNO 36, OFFSET dst) -> Discard;
    """

    can_live_reconfigure = True
    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        self.anno = args.read_mp("ANNO", ANNO6)
        self.offset = args.read_mp("OFFSET", _offset)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet | None:
        offset = self.offset
        if offset + 6 > len(packet):
            reject(self, packet)
            return None
        start = packet.data_offset + offset
        packet.set_anno_bytes(self.anno, bytes(packet.buffer[start:start + 6]))
        return packet
