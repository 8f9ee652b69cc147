"""StoreEtherAddress: an Ethernet address written into packets."""

from __future__ import annotations

from pyclick.args import UNSIGNED, Args
from pyclick.element import PROCESSING_A_AH, Element
from pyclick.elements.clickargs import ANNO6
from pyclick.elements.inet import ETHERADDR, reject, unparse_ether
from pyclick.elements.settinghandlers import setting_handlers
from pyclick.packet import Packet

#: Where the two addresses of an Ethernet header are.
FIELDS = {"dst": 0, "src": 6}


def _offset(text: str, args: Args | None) -> int:
    word = text.strip()
    if word.lower() in FIELDS:
        return FIELDS[word.lower()]
    try:
        return UNSIGNED.range(0, 65535)(word, args)
    except ValueError:
        raise ValueError("expected offset (0-65535), 'src' or 'dst'") from None


class StoreEtherAddress(Element):
    """StoreEtherAddress(ADDR, OFFSET, KEYWORDS) -- stores Ethernet address in packet

    Description
    Writes an Ethernet address into each packet, OFFSET bytes in: ADDR, or
    the 6 bytes of the annotation ANNO (give exactly one of them). OFFSET
    may be dst (0) or src (6), the addresses of an Ethernet header at the
    start of the packet. A packet too short for the address leaves by
    output 1 when it is connected, and is dropped otherwise.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (packets too short)

    Keyword arguments
    ADDR -- the address to store; default none (ANNO)
    OFFSET -- where to store it: 0 to 65535, src or dst; mandatory
    ANNO -- a 6-byte annotation whose bytes are stored; default none

    Element handlers
    addr (read/write) -- the ADDR setting

    Example
    FromDump(trace.pcap, STOP true) -> StoreEtherAddress(0:1:2:3:4:5, src) -> Discard;
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        self.addr = args.read_p("ADDR", ETHERADDR)
        self.offset = args.read_mp("OFFSET", _offset)
        self.anno = args.read("ANNO", ANNO6)
        if (self.addr is None) == (self.anno is None):
            args.error("must specify exactly one of ADDR/ANNO")
        args.complete()

    def simple_action(self, packet: Packet) -> Packet | None:
        if self.offset + 6 > len(packet):
            reject(self, packet)
            return None
        address = packet.anno_bytes(self.anno, 6) if self.anno is not None else self.addr
        packet.write(self.offset, address)
        return packet

    _read_addr, _write_addr = setting_handlers("addr", ETHERADDR, unparse_ether)
