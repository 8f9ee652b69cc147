"""HostEtherFilter: what an Ethernet card of a given address would receive."""

from __future__ import annotations

from pyclick.args import BOOL, UNSIGNED, Args
from pyclick.element import PROCESSING_A_AH, Element, read_handler, write_handler
from pyclick.elements.handlercall import parse_value
from pyclick.elements.inet import ETHERADDR, reject, unparse_ether
from pyclick.packet import BROADCAST, HOST, MULTICAST, OTHERHOST, Packet

_BROADCAST = b"\xff" * 6


class HostEtherFilter(Element):
    """HostEtherFilter(ETHER, DROP_OWN, DROP_OTHER, KEYWORDS) -- drops Ethernet packets sent to other machines

    Description
    Expects Ethernet frames, and acts like the Ethernet input hardware of a
    device with address ETHER: sets each packet's packet type annotation
    to HOST (sent to ETHER), BROADCAST, MULTICAST or OTHERHOST from its
    destination address. With DROP_OWN, frames whose source is ETHER are
    filtered; with DROP_OTHER, frames sent to another host's unicast
    address. Filtered frames leave by output 1 when it is connected, and
    are dropped otherwise; the others leave by output 0.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (filtered frames)

    Keyword arguments
    ETHER -- this host's Ethernet address; mandatory
    DROP_OWN -- filter frames sent by ETHER; default false
    DROP_OTHER -- filter unicast frames sent to other hosts; default true
    OFFSET -- where the Ethernet header starts, 0 to 65535; default 0

    Element handlers
    ether (read/write) -- the ETHER address

    Example
    FromDump(trace.pcap, STOP true) -> HostEtherFilter(00:11:22:33:44:55) -> c :: Counter -> Discard;
    """

    can_live_reconfigure = True
    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        self.address = args.read_mp("ETHER", ETHERADDR)
        self.drop_own = args.read_p("DROP_OWN", BOOL, False)
        self.drop_other = args.read_p("DROP_OTHER", BOOL, True)
        self.offset = args.read("OFFSET", UNSIGNED.range(0, 65535), 0)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet | None:
        start = packet.data_offset + self.offset
        if len(packet) < self.offset + 12:
            reject(self, packet)
            return None
        buf = packet.buffer
        dst = bytes(buf[start:start + 6])
        if self.drop_own and bytes(buf[start + 6:start + 12]) == self.address:
            reject(self, packet)
            return None
        if dst == self.address:
            packet.packet_type = HOST
        elif dst == _BROADCAST:
            packet.packet_type = BROADCAST
        elif dst[0] & 0x01:
            packet.packet_type = MULTICAST
        else:
            packet.packet_type = OTHERHOST
            if self.drop_other:
                reject(self, packet)
                return None
        return packet

    @read_handler("ether")
    def _read_ether(self) -> str:
        return unparse_ether(self.address)

    @write_handler("ether")
    def _write_ether(self, value: str) -> None:
        self.address = parse_value(ETHERADDR, value)
