"""EtherRewrite: fixed Ethernet addresses in every frame."""

from __future__ import annotations

from pyclick.args import Args
from pyclick.element import AGNOSTIC, Element
from pyclick.elements.inet import ETHERADDR, unparse_ether
from pyclick.elements.settinghandlers import setting_handlers
from pyclick.packet import Packet


class EtherRewrite(Element):
    """EtherRewrite(SRC, DST) -- rewrites source and destination Ethernet address

    Description
    Overwrites the first 12 bytes of each packet's Ethernet header, the
    one its MAC header annotation points to (the start of the packet when
    that is not set), with destination DST and source SRC. The Ethernet
    type stays as it is. Bytes of the addresses that would lie past the end
    of the packet are not written. Useful on a link with one possible next
    hop, where a frame's addresses are always the same.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    SRC -- the source Ethernet address; mandatory
    DST -- the destination Ethernet address; mandatory

    Element handlers
    src, dst (read/write) -- the SRC and DST addresses; a write sets the
    argument in config too

    Example
    FromDump(trace.pcap, STOP true) -> EtherRewrite(1:1:1:1:1:1, 2:2:2:2:2:2) -> Discard;
    """

    can_live_reconfigure = True
    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.src = args.read_mp("SRC", ETHERADDR)
        self.dst = args.read_mp("DST", ETHERADDR)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        mac = packet.mac_header_offset or 0
        # A MAC header before the data (stripped off) is rewritten in place:
        # uncovering it reaches the bytes still in the buffer.
        before = max(0, -mac)
        packet.push(before)
        start = mac + before
        size = min(12, len(packet) - start)
        if size > 0:
            packet.write(start, (self.dst + self.src)[:size])
        packet.pull(before)
        return packet

    _read_src, _write_src = setting_handlers("src", ETHERADDR, unparse_ether, (0, "SRC"))
    _read_dst, _write_dst = setting_handlers("dst", ETHERADDR, unparse_ether, (1, "DST"))
