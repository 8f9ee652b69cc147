"""RandomSwitch: each packet to an output drawn at random."""

from __future__ import annotations


from pyclick.element import PUSH, Element
from pyclick.packet import Packet


class RandomSwitch(Element):
    """RandomSwitch() -- sends packets to random outputs

    Description
    Pushes each arriving packet to one of its N outputs, drawn uniformly at
    random for every packet. A batch is split among the outputs, each
    keeping its packets in the order they came.

    Ports
    one push input, one or more push outputs

    Example
    InfiniteSource(LIMIT 1000, STOP true) -> r :: RandomSwitch;
    r[0] -> a :: Counter -> Discard;
    r[1] -> b :: Counter -> Discard;
    """

    port_count = "1/1-"
    processing = PUSH

    def initialize(self) -> None:
        self._random = self.router.random_source(self)

    def push(self, port: int, batch: list[Packet]) -> None:
        n = self.noutputs
        if n == 1:
            self.output_push(0, batch)
            return
        draw = self._random.randrange
        outputs: list[list[Packet]] = [[] for _ in range(n)]
        for packet in batch:
            outputs[draw(n)].append(packet)
        for out, packets in enumerate(outputs):
            if packets:
                self.output_push(out, packets)
