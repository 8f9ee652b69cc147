"""SetAnnoByte: one byte of each packet's annotation area set to a value (Paint's older form)."""

from __future__ import annotations

from pyclick.args import UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element, read_handler
from pyclick.elements.clickargs import ANNO1
from pyclick.elements.settinghandlers import setting_handlers
from pyclick.packet import Packet

BYTE = UNSIGNED.range(0, 255)


class SetAnnoByte(Element):
    """SetAnnoByte(ANNO, VALUE) -- sets packet user annotations

    Description
    Sets the byte at ANNO in each packet's annotation area to VALUE, an
    integer 0..255. ANNO is an offset in the annotation area, 0 to 47, or
    the name of a one-byte annotation (PAINT, or one an AnnotationInfo
    defines). As in Click, configuring it warns that it is obsolete:
    Paint(VALUE, ANNO) does the same.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    ANNO -- the annotation byte to set; mandatory
    VALUE -- the value, 0 to 255; mandatory

    Element handlers
    anno (read) -- ANNO, as an offset
    value (read/write) -- the VALUE setting

    Example
    InfiniteSource(LIMIT 3) -> SetAnnoByte(PAINT, 1) -> s :: PaintSwitch;
    s[0] -> Discard; s[1] -> c :: Counter -> Discard;
    """

    can_live_reconfigure = True
    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.log.warning("%s: SetAnnoByte(ANNO, VALUE) is obsolete, use Paint(VALUE, ANNO) "
                         "instead", self.declaration())
        self.anno = args.read_mp("ANNO", ANNO1)
        self.value = args.read_mp("VALUE", BYTE)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        packet.set_anno_u8(self.anno, self.value)
        return packet

    @read_handler("anno")
    def _read_anno(self) -> str:
        return str(self.anno)

    _read_value, _write_value = setting_handlers("value", BYTE)
