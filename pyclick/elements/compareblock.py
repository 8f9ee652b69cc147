"""CompareBlock: packets whose forward rate outweighs their reverse rate leave apart."""

from __future__ import annotations

from pyclick.args import INT, Args
from pyclick.element import PUSH, Element
from pyclick.elements.settinghandlers import setting_handlers
from pyclick.packet import ANNOTATIONS, Packet

FWD_RATE = ANNOTATIONS["FWD_RATE"][0]
REV_RATE = ANNOTATIONS["REV_RATE"][0]
_INT32 = INT.range(-2**31, 2**31 - 1)


def _rate(packet: Packet, offset: int) -> int:
    """A rate annotation, as the signed number a rate monitor stores, at least 1."""
    value = packet.anno_u32(offset)
    return max(value - (1 << 32) if value >= 1 << 31 else value, 1)


class CompareBlock(Element):
    """CompareBlock(FWD_WEIGHT, REV_WEIGHT, THRESH) -- drops packets out of rate range

    Description
    Splits packets by the forward and reverse rate annotations a rate
    monitor (such as IPRateMonitor) sets; a rate below 1 counts as 1. A
    packet leaves by output 1 when either rate is above THRESH and
    FWD_WEIGHT times its forward rate is above REV_WEIGHT times its reverse
    rate; every other packet leaves by output 0.

    Ports
    one push input, two push outputs

    Keyword arguments
    FWD_WEIGHT -- the weight of the forward rate, an integer; mandatory
    REV_WEIGHT -- the weight of the reverse rate, an integer; mandatory
    THRESH -- the rate one of the two must pass, an integer; mandatory

    Element handlers
    fwd_weight (read/write) -- the FWD_WEIGHT setting
    rev_weight (read/write) -- the REV_WEIGHT setting

    Example
    b :: CompareBlock(5, 2, 100);
    InfiniteSource(LIMIT 3) -> b -> c :: Counter -> Discard;
    b[1] -> Discard;
    """

    port_count = "1/2"
    processing = PUSH

    def configure(self, args: Args) -> None:
        self.fwd_weight = args.read_mp("FWD_WEIGHT", _INT32)
        self.rev_weight = args.read_mp("REV_WEIGHT", _INT32)
        self.thresh = args.read_mp("THRESH", _INT32)
        args.complete()

    def push(self, port: int, batch: list[Packet]) -> None:
        thresh, fwd_weight, rev_weight = self.thresh, self.fwd_weight, self.rev_weight
        passed, blocked = [], []
        for packet in batch:
            fwd, rev = _rate(packet, FWD_RATE), _rate(packet, REV_RATE)
            outweighs = (fwd > thresh or rev > thresh) and fwd_weight * fwd > rev_weight * rev
            (blocked if outweighs else passed).append(packet)
        if passed:
            self.output_push(0, passed)
        if blocked:
            self.output_push(1, blocked)

    _read_fwd_weight, _write_fwd_weight = setting_handlers("fwd_weight", _INT32)
    _read_rev_weight, _write_rev_weight = setting_handlers("rev_weight", _INT32)
