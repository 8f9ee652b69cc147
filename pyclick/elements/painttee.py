"""PaintTee: a copy of each packet of one colour out of a second output."""

from __future__ import annotations

from pyclick.element import PROCESSING_A_AH
from pyclick.elements.paint import Colored
from pyclick.packet import Packet


class PaintTee(Colored):
    """PaintTee(COLOR, ANNO) -- duplicates packets with given paint annotation

    Description
    Sends every packet out output 0, and a copy of each packet whose paint
    annotation is COLOR out output 1 (the copy first). ANNO names another
    one-byte annotation to test instead of PAINT. With Paint and ICMPError
    it makes ICMP redirects: packets routed back out of the interface they
    came in on (painted there) also go to an ICMPError.

    Ports
    one agnostic input; agnostic output 0, push output 1

    Keyword arguments
    COLOR -- the color, 0 to 255; mandatory
    ANNO -- the annotation tested; default PAINT

    Element handlers
    color (read/write) -- the COLOR setting

    Example
    InfiniteSource(LIMIT 2) -> Paint(7) -> pt :: PaintTee(7) -> Discard;
    pt[1] -> c :: Counter -> Discard;
    """

    port_count = "1/2"
    processing = PROCESSING_A_AH

    def simple_action_batch(self, batch: list[Packet]) -> list[Packet]:
        anno, color = self.anno, self.color
        copies = [packet.clone() for packet in batch if packet.anno_u8(anno) == color]
        if copies:
            self.output_push(1, copies)
        return batch

    def simple_action(self, packet: Packet) -> Packet:
        return self.simple_action_batch([packet])[0]
