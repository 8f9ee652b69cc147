"""Block: sends packets whose rate annotation is above a threshold out a second output."""

from __future__ import annotations

from pyclick.args import Args, UNSIGNED
from pyclick.element import PUSH, Element, read_handler, write_handler
from pyclick.elements.handlercall import parse_value
from pyclick.packet import ANNOTATIONS, Packet

#: The forward rate annotation, set by a rate monitor (IPRateMonitor).
FWD_RATE = ANNOTATIONS["FWD_RATE"][0]
THRESH = UNSIGNED.range(0, 2**32 - 1)


class Block(Element):
    """Block(THRESH) -- drops packets with high rate

    Description
    Splits packets by their forward rate annotation, which a rate monitor
    (such as IPRateMonitor) sets: packets whose rate is at most THRESH go
    out output 0, the others out output 1. With THRESH 0 every packet goes
    out output 0.

    Ports
    one push input, two push outputs

    Keyword arguments
    THRESH -- the highest rate let through output 0, 0 to 2^32-1; mandatory

    Element handlers
    thresh (read/write) -- the THRESH setting

    Example
    b :: Block(500);
    InfiniteSource(LIMIT 3) -> b -> c :: Counter -> Discard;
    b[1] -> Discard;
    """

    can_live_reconfigure = True
    port_count = "1/2"
    processing = PUSH

    def configure(self, args: Args) -> None:
        self.thresh = args.read_mp("THRESH", THRESH)
        args.complete()

    def push(self, port: int, batch: list[Packet]) -> None:
        thresh = self.thresh
        if not thresh:
            self.output_push(0, batch)
            return
        passed, blocked = [], []
        for packet in batch:
            (passed if packet.anno_u32(FWD_RATE) <= thresh else blocked).append(packet)
        if passed:
            self.output_push(0, passed)
        if blocked:
            self.output_push(1, blocked)

    @read_handler("thresh")
    def _read_thresh(self) -> str:
        return str(self.thresh)

    @write_handler("thresh")
    def _write_thresh(self, value: str) -> None:
        self.thresh = parse_value(THRESH, value)
