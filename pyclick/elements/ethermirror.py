"""EtherMirror: sends Ethernet frames back where they came from."""

from __future__ import annotations

from pyclick.element import AGNOSTIC, Element
from pyclick.packet import Packet


class EtherMirror(Element):
    """EtherMirror() -- swaps Ethernet source and destination

    Description
    Incoming packets are Ethernet frames. Their source and destination
    Ethernet addresses are swapped before they are output. A frame shorter
    than the two addresses (12 bytes) is dropped.

    Ports
    one agnostic input, one agnostic output

    Example
    InfiniteSource(\\<aaaaaaaaaaaa bbbbbbbbbbbb 0800>, LIMIT 1) -> EtherMirror -> Print -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def simple_action(self, packet: Packet) -> Packet | None:
        if len(packet) < 12:
            return None
        data = packet.writable_data()
        data[0:12] = bytes(data[6:12]) + bytes(data[0:6])
        return packet
