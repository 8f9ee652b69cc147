"""EtherMirror: sends Ethernet frames back where they came from."""

from __future__ import annotations

from pyclick.element import AGNOSTIC, Element
from pyclick.packet import Packet


class EtherMirror(Element):
    """EtherMirror() -- swaps Ethernet source and destination

    Description
    Incoming packets are Ethernet frames. Their source and destination
    Ethernet addresses are swapped before they are output. A frame shorter
    than the two addresses (12 bytes) goes out too, its missing bytes read
    as zeros: a 3-byte frame comes out as 3 zero bytes.

    Ports
    one agnostic input, one agnostic output

    Example
    InfiniteSource(\\<aaaaaaaaaaaa bbbbbbbbbbbb 0800>, LIMIT 1) -> EtherMirror -> Print -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def simple_action(self, packet: Packet) -> Packet:
        data = packet.writable_data()
        # As Click, which swaps whatever lies there, a short frame is swapped
        # whole; the bytes it lacks read as zeros.
        addresses = bytes(data[0:12]).ljust(12, b"\0")
        swapped = addresses[6:12] + addresses[0:6]
        size = min(len(data), 12)
        data[0:size] = swapped[:size]
        return packet
