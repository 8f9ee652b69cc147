"""MarkMACHeader: where the link-level header of a packet is."""

from __future__ import annotations

from pyclick.args import UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.packet import Packet


class MarkMACHeader(Element):
    """MarkMACHeader(OFFSET, LENGTH) -- sets MAC header annotation

    Description
    Marks packets as having a link-level header LENGTH bytes long, OFFSET
    bytes in: sets the MAC header annotation there, and the network header
    annotation right after it. Checks nothing and changes no byte.
    EtherEncap marks the headers it adds itself.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    OFFSET -- where the MAC header starts, 0 to 65535; default 0
    LENGTH -- its length, 0 to 65535; default 14 (Ethernet)

    Example
    FromDump(trace.pcap, STOP true) -> MarkMACHeader -> EtherMirror -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.offset = args.read_p("OFFSET", UNSIGNED.range(0, 65535), 0)
        self.length = args.read_p("LENGTH", UNSIGNED.range(0, 65535), 14)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        packet.set_mac_header(self.offset, self.length)
        return packet
