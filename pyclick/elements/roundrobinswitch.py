"""RoundRobinSwitch: packets to the outputs in turn."""

from __future__ import annotations

from pyclick.element import PUSH, Element
from pyclick.packet import Packet


class RoundRobinSwitch(Element):
    """RoundRobinSwitch() -- sends packets to round-robin outputs

    Description
    Pushes each arriving packet to one of its N outputs: the first packet
    to output 0, the next to output 1, and so on, back to output 0 after
    output N-1. A batch is split among the outputs in that order.

    Ports
    one push input, one or more push outputs

    Example
    InfiniteSource(LIMIT 10) -> r :: RoundRobinSwitch;
    r[0] -> a :: Counter -> Discard;
    r[1] -> b :: Counter -> Discard;
    r[2] -> c :: Counter -> Discard;
    """

    port_count = "1/1-"
    processing = PUSH

    def initialize(self) -> None:
        self._next = 0

    def push(self, port: int, batch: list[Packet]) -> None:
        n = self.noutputs
        start = self._next
        self._next = (start + len(batch)) % n
        if len(batch) == 1:
            self.output_push(start, batch)
            return
        for out in range(min(n, len(batch))):
            # Packets start+k*n... of the batch go to output (start + out) % n.
            self.output_push((start + out) % n, batch[out::n])
