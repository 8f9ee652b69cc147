"""Meter and BandwidthMeter: packets out of the output that matches the current rate."""

from __future__ import annotations

import re

from pyclick.args import FLOAT, Args
from pyclick.element import PUSH, Element, read_handler
from pyclick.elements.clickargs import BANDWIDTH, unparse_fixed
from pyclick.packet import Packet

#: The rate is averaged over epochs of this length (Click's jiffy)...
EPOCH = 0.001
#: ... each epoch weighing this much in the average (Click's stability shift of 4).
WEIGHT = 1 / 16
#: Click keeps the rates per epoch in fixed point with this many fraction bits...
SCALE = 10
#: ... so a rate may be at most this many units per second.
MAX_RATE = 0xFFFFFFFF >> SCALE
_EPOCHS = round(1 / EPOCH)


class EpochRate:
    """Click's rate average: per epoch, ``avg += (amount in the epoch - avg) * WEIGHT``,
    starting from 0; the rate is ``avg`` per epoch, in units per second."""

    def __init__(self) -> None:
        self._average = 0.0
        self._epoch = 0
        self._amount = 0.0

    def reset(self, now: float) -> None:
        self._average, self._amount = 0.0, 0.0
        self._epoch = int(now / EPOCH)

    def _fold(self, now: float) -> None:
        """Close the epochs before the one ``now`` is in."""
        epoch = int(now / EPOCH)
        if epoch > self._epoch:
            self._average += (self._amount - self._average) * WEIGHT
            self._average *= (1 - WEIGHT) ** (epoch - self._epoch - 1)
            self._epoch, self._amount = epoch, 0.0

    def add(self, now: float, amount: float) -> None:
        self._fold(now)
        self._amount += amount

    def rate(self, now: float) -> float:
        self._fold(now)
        return self._average / EPOCH


class Meter(Element):
    """Meter(RATE1, RATE2, ..., RATEn) -- classifies packet stream by rate (pkt/s)

    Description
    Classifies packets by the rate at which they arrive, in packets per
    second, measured as Click measures it: an exponentially weighted
    average over millisecond epochs of the router's clock, each epoch
    weighing 1/16, starting from 0. A Meter with n rates has
    n+1 outputs: a packet goes to output 0 while the rate is below RATE1, to
    output 1 while it is at least RATE1 but below RATE2, and so on, to
    output n at RATEn or more. The rates must increase. The whole stream
    goes to the output of the current rate; RatedSplitter splits a stream
    instead. As in Click, each RATE is a whole number, at most 4194303, kept
    per millisecond to 2^-10 (7 becomes 6.836 a second).

    Ports
    one push input, two or more push outputs

    Element handlers
    rate (read) -- the current rate estimate
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
        self._scaled = [(rate << SCALE) // _EPOCHS for rate in rates]
        self.meters = [scaled * _EPOCHS / (1 << SCALE) for scaled in self._scaled]
        self._rate = EpochRate()

    def _rate_type(self, args: Args, number: int, text: str):
        return FLOAT

    def initialize(self) -> None:
        self._rate.reset(self.router.now())

    def _amount(self, packet: Packet) -> float:
        return 1.0

    def push(self, port: int, batch: list[Packet]) -> None:
        now = self.router.now()
        rate, meters = self._rate, self.meters
        by_output: dict[int, list[Packet]] = {}
        for packet in batch:
            rate.add(now, self._amount(packet))
            current = rate.rate(now)
            out = next((i for i, limit in enumerate(meters) if current < limit), len(meters))
            by_output.setdefault(out, []).append(packet)
        for out, packets in by_output.items():
            self.output_push(out, packets)

    @read_handler("rate")
    def _read_rate(self) -> str:
        return f"{self._rate.rate(self.router.now()):.6g}"

    @read_handler("meters")
    def _read_meters(self) -> str:
        return "\n".join(unparse_fixed(scaled * _EPOCHS, SCALE) for scaled in self._scaled)


class BandwidthMeter(Meter):
    """BandwidthMeter(RATE1, RATE2, ..., RATEn) -- classifies packet stream by arrival rate

    Description
    Classifies packets by the rate at which bytes arrive, in bytes per
    second, measured as Meter measures packets (an exponentially weighted
    average over millisecond epochs, each weighing 1/16, from 0). Each RATE is a bandwidth
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

    def _amount(self, packet: Packet) -> float:
        return float(len(packet))
