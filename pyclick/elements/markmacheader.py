"""MarkMACHeader: where the link-level header of a packet is."""

from __future__ import annotations

from pyclick.args import UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.packet import Packet


class MarkMACHeader(Element):
    """MarkMACHeader(OFFSET, LENGTH) -- sets MAC header annotation

    Description
    Marks packets as having a link-level header OFFSET bytes in: sets the MAC
    header annotation there. With a LENGTH, the header is that long, and the
    network header annotation is set right after it; without (or with 0),
    the network header annotation stays as it was. Checks nothing and
    changes no byte. EtherEncap marks the headers it adds itself.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    OFFSET -- where the MAC header starts, 0 to 65535; default 0
    LENGTH -- its length, 0 to 65535 (0: unknown, the network header left alone); default 0

    Example
    FromDump(trace.pcap, STOP true) -> MarkMACHeader -> EtherMirror -> Discard;
    """

    can_live_reconfigure = True
    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.offset = args.read_p("OFFSET", UNSIGNED.range(0, 65535), 0)
        self.length = args.read_p("LENGTH", UNSIGNED.range(0, 65535), 0)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        packet.set_mac_header(self.offset, self.length or None)
        return packet
