"""Meter and BandwidthMeter: packets out of the output that matches the current rate."""

from __future__ import annotations

import re

from pyclick.args import FLOAT, Args
from pyclick.element import PUSH, Element, read_handler
from pyclick.elements.clickargs import BANDWIDTH, unparse_fixed
from pyclick.elements.rateewma import EPOCHS_PER_SECOND, RateEWMA, jiffies
from pyclick.packet import Packet, batch_length

#: Click keeps the rates per epoch in fixed point with this many fraction bits...
SCALE = 10
#: ... in unsigned 32-bit words, so a rate may be at most this many units per second.
WORD = 0xFFFFFFFF
MAX_RATE = WORD >> SCALE


class Meter(Element):
    """Meter(RATE1, RATE2, ..., RATEn) -- classifies packet stream by rate (pkt/s)

    Description
    Classifies packets by the rate at which they arrive, in packets per
    second, measured as Click measures it: packets are
    counted per millisecond of the router's clock, and each millisecond's
    count is folded into a moving average, weighing 1/16, when a later
    millisecond starts; it starts from 0 and 100 idle milliseconds clear it.
    A packet first counts in its millisecond, then is classified by the
    average of the milliseconds before. A Meter with n rates has
    n+1 outputs: a packet goes to output 0 while the rate is below RATE1, to
    output 1 while it is at least RATE1 but below RATE2, and so on, to
    output n at RATEn or more. The rates must increase. The whole stream
    goes to the output of the current rate; RatedSplitter splits a stream
    instead. As in Click, each RATE is a whole number, at most 4194303, and
    the RATEs and the average are kept per millisecond to 2^-10 (7 becomes
    6.836 a second), in 32-bit words.

    Ports
    one push input, two or more push outputs

    Element handlers
    rate (read) -- the current rate estimate (wraps around beyond 4194303 a second, as in Click)
    meters (read) -- the rates as kept, one per line

    Example
    InfiniteSource -> m :: Meter(10000) -> Queue -> Unqueue -> Discard;
    m[1] -> Discard;
    """

    port_count = "1/2-"
    processing = PUSH

    def configure(self, args: Args) -> None:
        texts = args.rest()
        rates: list[int] = []
        for number, text in enumerate(texts, 1):
            rate = args.convert(f"RATE{number}", text, self._rate_type(args, number, text))
            if rate is None:
                continue
            whole = int(rate + 0.5)
            if rates and whole <= rates[-1]:
                args.error(f"rate {number} must be > rate {number - 1}")
            elif whole > MAX_RATE:
                args.error(f"rate {number} too large (max {MAX_RATE})")
            rates.append(whole)
        if not texts:
            args.error(f"too few arguments to {self.class_name()}(RATE1, ...)")
        elif len(texts) + 1 != self.noutputs:
            args.error(f"need {self.noutputs - 1} arguments, one less than the number of "
                       "output ports")
        args.complete()
        # Per epoch, in fixed point, as Click keeps them; and back to units per second.
        self._scaled = [(rate << SCALE) // EPOCHS_PER_SECOND for rate in rates]
        self.meters = [scaled * EPOCHS_PER_SECOND / (1 << SCALE) for scaled in self._scaled]
        self._rate = RateEWMA(SCALE, jiffies(self.router.now()), bits=32)

    def _rate_type(self, args: Args, number: int, text: str):
        return FLOAT

    def _amount(self, batch: list[Packet]) -> int:
        return len(batch)

    def push(self, port: int, batch: list[Packet]) -> None:
        # The packet counts in its epoch before the comparison, but the
        # average holds only the epochs before it: a batch arrives in one
        # epoch, so all its packets see the same average and share an output.
        self._rate.update(jiffies(self.router.now()), self._amount(batch))
        average = self._rate.scaled_average()
        scaled = self._scaled
        out = next((i for i, limit in enumerate(scaled) if average < limit), len(scaled))
        self.output_push(out, batch)

    @read_handler("rate")
    def _read_rate(self) -> str:
        # Reading moves the average to the current epoch (the rate drops when
        # idle); Click multiplies in its 32-bit word, which wraps above about
        # 4.19 million units a second.
        self._rate.update(jiffies(self.router.now()), 0)
        return unparse_fixed((self._rate.scaled_average() * EPOCHS_PER_SECOND) & WORD, SCALE)

    @read_handler("meters")
    def _read_meters(self) -> str:
        return "\n".join(unparse_fixed(scaled * EPOCHS_PER_SECOND, SCALE) for scaled in self._scaled)


class BandwidthMeter(Meter):
    """BandwidthMeter(RATE1, RATE2, ..., RATEn) -- classifies packet stream by arrival rate

    Description
    Classifies packets by the rate at which bytes arrive, in bytes per
    second, measured as Meter measures packets (a moving average over
    millisecond epochs, each weighing 1/16, from 0; a millisecond's bytes
    beyond 4 MB overflow Click's 32-bit average, here as there). Each RATE is a bandwidth
    (384kbps, 20kBps; a bare number is bytes per second, with a warning). A
    BandwidthMeter with n rates has n+1 outputs: a packet goes to output 0
    while the rate is below RATE1, to output 1 while it is at least RATE1
    but below RATE2, and so on. The rates must increase.

    Ports
    one push input, two or more push outputs

    Element handlers
    rate (read) -- the current rate estimate, bytes per second
    meters (read) -- the rates as kept (see Meter), bytes per second, one per line

    Example
    InfiniteSource -> m :: BandwidthMeter(20kBps) -> Queue -> Unqueue -> Discard;
    m[1] -> Discard;
    """

    def _rate_type(self, args: Args, number: int, text: str):
        if re.fullmatch(r"\s*[0-9.eE+-]+\s*", text):
            self.log.warning("%s: no units for bandwidth argument %d, assuming Bps",
                             self.landmark, number)
        return BANDWIDTH

    def _amount(self, batch: list[Packet]) -> int:
        return batch_length(batch)
