"""StoreData: bytes written into packets at an offset."""

from __future__ import annotations

from pyclick.args import UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.elements.clickargs import DATA
from pyclick.packet import Packet


class StoreData(Element):
    """StoreData(OFFSET, DATA) -- changes packet data

    Description
    Writes DATA into each packet, starting OFFSET bytes in. A packet that
    ends before OFFSET passes unchanged; one that ends inside DATA gets the
    part of DATA that fits. Packets that shared their bytes get a copy
    first.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    OFFSET -- where DATA starts, 0 to 65535; mandatory
    DATA -- the bytes to write (a string; Click's \\<0800> hex data allowed); mandatory

    Example
    InfiniteSource(LIMIT 1) -> StoreData(12, \\<86dd>) -> Print -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.offset = args.read_mp("OFFSET", UNSIGNED.range(0, 65535))
        self.data = args.read_mp("DATA", DATA)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        room = len(packet) - self.offset
        if room > 0 and self.data:
            packet.write(self.offset, self.data[:room])
        return packet
