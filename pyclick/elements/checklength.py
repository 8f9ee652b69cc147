"""CheckLength: packets longer than a maximum leave apart."""

from __future__ import annotations

from pyclick.args import UNSIGNED, Args
from pyclick.element import PROCESSING_A_AH, Element
from pyclick.elements.settinghandlers import setting_handlers
from pyclick.packet import Packet

_LENGTH = UNSIGNED.range(0, 2**32 - 1)


class CheckLength(Element):
    """CheckLength(LENGTH) -- drops large packets

    Description
    Checks every packet's length against LENGTH. A packet of LENGTH bytes or
    fewer leaves by output 0; a longer one by output 1 when it is
    connected, and is dropped otherwise.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (longer packets)

    Keyword arguments
    LENGTH -- the longest length passed, 0 to 2^32-1 bytes; mandatory

    Element handlers
    length (read/write) -- the LENGTH setting

    Example
    FromDump(trace.pcap, STOP true) -> c :: CheckLength(1500) -> Discard;
    c[1] -> long :: Counter -> Discard;
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        self.length = args.read_mp("LENGTH", _LENGTH)
        args.complete()

    _read_length, _write_length = setting_handlers("length", _LENGTH)

    def simple_action_batch(self, batch: list[Packet]) -> list[Packet]:
        most = self.length
        if all(len(packet) <= most for packet in batch):
            return batch
        short, long = [], []
        for packet in batch:
            (short if len(packet) <= most else long).append(packet)
        self.output_push(1, long)
        return short

    def simple_action(self, packet: Packet) -> Packet | None:
        if len(packet) <= self.length:
            return packet
        self.output_push(1, [packet])
        return None
