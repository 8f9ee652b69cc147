"""CheckLength: packets longer than a maximum leave apart."""

from __future__ import annotations

from pyclick.args import UNSIGNED, Args
from pyclick.element import PROCESSING_A_AH, Element
from pyclick.packet import Packet


class CheckLength(Element):
    """CheckLength(MAX) -- drops large packets

    Description
    Checks every packet's length against MAX. A packet of MAX bytes or
    fewer leaves by output 0; a longer one by output 1 when it is
    connected, and is dropped otherwise.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (longer packets)

    Keyword arguments
    MAX -- the longest length passed, 0 to 2^32-1 bytes; mandatory

    Example
    FromDump(trace.pcap, STOP true) -> c :: CheckLength(1500) -> Discard;
    c[1] -> long :: Counter -> Discard;
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        self.max = args.read_mp("MAX", UNSIGNED.range(0, 2**32 - 1))
        args.complete()

    def simple_action_batch(self, batch: list[Packet]) -> list[Packet]:
        most = self.max
        if all(len(packet) <= most for packet in batch):
            return batch
        short, long = [], []
        for packet in batch:
            (short if len(packet) <= most else long).append(packet)
        self.output_push(1, long)
        return short

    def simple_action(self, packet: Packet) -> Packet | None:
        if len(packet) <= self.max:
            return packet
        self.output_push(1, [packet])
        return None
