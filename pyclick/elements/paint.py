"""Paint, CheckPaint and PaintSwitch: a one-byte colour carried by each packet."""

from __future__ import annotations

from pyclick.args import Args
from pyclick.element import AGNOSTIC, PROCESSING_A_AH, PUSH, Element
from pyclick.elements.clickargs import ANNO1
from pyclick.elements.settinghandlers import setting_handlers
from pyclick.packet import ANNOTATIONS, Packet

#: Offset of the PAINT annotation, the default ANNO.
PAINT = ANNOTATIONS["PAINT"][0]


def COLOR(text: str, args: Args) -> int:
    try:
        value = int(text.strip(), 0)
    except ValueError:
        value = -1
    if not 0 <= value <= 255:
        raise ValueError("expected color (an integer 0..255)")
    return value


class Colored(Element):
    """The COLOR and ANNO arguments and the color handler of Paint, CheckPaint
    and PaintTee (no manual: not an element class of its own)."""

    registered = False

    def configure(self, args: Args) -> None:
        self.color = args.read_mp("COLOR", COLOR)
        self.anno = args.read_p("ANNO", ANNO1, PAINT)
        args.complete()

    _read_color, _write_color = setting_handlers("color", COLOR)


class Paint(Colored):
    """Paint(COLOR, ANNO) -- sets packet paint annotations

    Description
    Sets each packet's paint annotation to COLOR, an integer 0..255. Paint
    sets the packet's PAINT annotation by default, but the ANNO argument can
    name any one-byte annotation (by name, or by its offset in the
    annotation area).

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    COLOR -- the color; mandatory
    ANNO -- the annotation to set; default PAINT

    Element handlers
    color (read/write) -- the COLOR setting

    Example
    InfiniteSource(LIMIT 4) -> Paint(2) -> s :: PaintSwitch;
    s[0] -> Discard; s[1] -> Discard; s[2] -> c :: Counter -> Discard;
    """

    can_live_reconfigure = True
    port_count = "1/1"
    processing = AGNOSTIC

    def simple_action(self, packet: Packet) -> Packet:
        packet.set_anno_u8(self.anno, self.color)
        return packet

    def simple_action_batch(self, batch: list[Packet]) -> list[Packet]:
        anno, color = self.anno, self.color
        for packet in batch:
            packet.set_anno_u8(anno, color)
        return batch


class CheckPaint(Colored):
    """CheckPaint(COLOR, ANNO) -- checks packets' paint annotation

    Description
    Checks that incoming packets have paint annotation equal to COLOR.
    Packets of another color are dropped, or pushed out output 1 when it
    exists. CheckPaint uses the packet's PAINT annotation by default, but
    the ANNO argument can name any one-byte annotation.

    Ports
    one agnostic input; output 0 agnostic, optional output 1 push

    Keyword arguments
    COLOR -- the color packets must have; mandatory
    ANNO -- the annotation to check; default PAINT

    Element handlers
    color (read/write) -- the COLOR setting

    Example
    InfiniteSource(LIMIT 3) -> Paint(1) -> c :: CheckPaint(1) -> Discard;
    c[1] -> bad :: Counter -> Discard;
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def simple_action_batch(self, batch: list[Packet]) -> list[Packet]:
        anno, color = self.anno, self.color
        good, other = [], []
        for packet in batch:
            (good if packet.anno_u8(anno) == color else other).append(packet)
        if other:
            self.output_push(1, other)
        return good

    def simple_action(self, packet: Packet) -> Packet | None:
        if packet.anno_u8(self.anno) == self.color:
            return packet
        self.output_push(1, [packet])
        return None


class PaintSwitch(Element):
    """PaintSwitch(ANNO) -- sends packet stream to output chosen per-packet

    Description
    Sends every incoming packet to output K, where K is the value of the
    packet's paint annotation. A packet painted 255 is copied to every
    output. Since there are only 256 colors, including the special 255,
    PaintSwitch can have up to 255 outputs. A packet whose output does not
    exist is dropped. PaintSwitch uses the PAINT annotation by default, but
    the ANNO argument can name any one-byte annotation.

    Ports
    one push input, any number of push outputs

    Keyword arguments
    ANNO -- the annotation to read; default PAINT

    Example
    InfiniteSource(LIMIT 4) -> Paint(1) -> s :: PaintSwitch;
    s[0] -> Discard; s[1] -> c :: Counter -> Discard;
    """

    port_count = "1/-"
    processing = PUSH

    def configure(self, args: Args) -> None:
        self.anno = args.read_p("ANNO", ANNO1, PAINT)
        args.complete()

    def push(self, port: int, batch: list[Packet]) -> None:
        anno = self.anno
        by_output: dict[int, list[Packet]] = {}
        for packet in batch:
            by_output.setdefault(packet.anno_u8(anno), []).append(packet)
        everywhere = by_output.pop(255, None)
        for out, packets in by_output.items():
            self.output_push(out, packets)
        if everywhere:
            last = self.noutputs - 1
            for out in range(last):
                self.output_push(out, [p.clone() for p in everywhere])
            self.output_push(last, everywhere)
