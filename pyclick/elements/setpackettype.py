"""SetPacketType: the packet type annotation (host, broadcast, ...)."""

from __future__ import annotations

from pyclick.args import Args, unquote
from pyclick.element import AGNOSTIC, Element
from pyclick.packet import BROADCAST, HOST, LOOPBACK, MULTICAST, OTHERHOST, OUTGOING, Packet

#: Click's names of the packet types SetPacketType sets.
TYPES = {"HOST": HOST, "BROADCAST": BROADCAST, "MULTICAST": MULTICAST,
         "OTHERHOST": OTHERHOST, "OUTGOING": OUTGOING, "LOOPBACK": LOOPBACK}


def _packet_type(text: str, args: Args | None) -> int:
    word = unquote(text).strip().upper()
    if word not in TYPES:
        raise ValueError(f"expected packet type ({', '.join(TYPES)})")
    return TYPES[word]


class SetPacketType(Element):
    """SetPacketType(TYPE) -- sets packet type annotation

    Description
    Sets each packet's packet type annotation to TYPE, one of HOST,
    BROADCAST, MULTICAST, OTHERHOST, OUTGOING and LOOPBACK (any case): what
    a device element says of a frame it received (sent to this host, to
    everyone, to a group, to another host), which DropBroadcasts and
    ICMPError read.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    TYPE -- the packet type; mandatory

    Example
    InfiniteSource(LIMIT 3, STOP true) -> SetPacketType(BROADCAST) -> d :: DropBroadcasts
        -> Discard;
    """

    can_live_reconfigure = True
    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.type = args.read_mp("TYPE", _packet_type)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        packet.packet_type = self.type
        return packet
