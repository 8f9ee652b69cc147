"""AdaptiveRED: RED whose MAX_P follows the average queue length."""

from __future__ import annotations

from typing import ClassVar

from pyclick.args import ELEMENT, UNSIGNED, Args, ListOf
from pyclick.elements.red import P_BITS, RED, STABILITY, _max_p
from pyclick.runtime.timers import Timer

#: How often MAX_P adapts, in seconds.
ADAPT_INTERVAL = 0.5
#: The smallest TARGET; a smaller one counts as this.
MIN_TARGET = 10
#: The largest TARGET: RED's thresholds stay below 2^16 (MAX_THRESH = 3/2 TARGET).
MAX_TARGET = 43690
# MAX_P's steps and bounds, in RED's fixed point (2^-16), Click's values.
ONE_HUNDREDTH = 655
NINE_TENTHS = 58982
HALF = 1 << (P_BITS - 1)


class AdaptiveRED(RED):
    """AdaptiveRED(TARGET, MAX_P, KEYWORDS) -- drops packets according to Adaptive RED

    Description
    Random Early Detection as RED does it, with its thresholds set from a
    target average queue length and its MAX_P adjusted while the router
    runs. MIN_THRESH is TARGET/2 and MAX_THRESH is TARGET plus that
    (integer halves; a TARGET below 10 counts as 10), and GENTLE is on.

    Every half second, starting half a second after the router starts,
    the average queue length (rounded to the nearest packet; the current
    length with STABILITY 0) is compared with the midpoint of the
    thresholds (MIN_THRESH plus half their distance, rounded down; MAX_THRESH
    minus the same). Below it, MAX_P is multiplied by 0.9 unless it is
    0.01 or less; above it, MAX_P grows by 0.01 (or by a quarter of itself
    if that is less) unless it is already 0.5 or more. MAX_P is kept to
    2^-16 as RED keeps it. With MAX_P 1, every packet above MAX_THRESH is
    dropped, whatever MAX_P becomes.

    The queues watched, the drops and output 1 are as RED's. The
    adaptation goes on for as long as the router runs: in simulated time
    too, something must stop a router holding an AdaptiveRED (a source's
    STOP, a Script).

    Ports
    one agnostic input; agnostic output 0, optional push output 1

    Keyword arguments
    TARGET -- the average queue length aimed at, up to 43690; mandatory
    MAX_P -- the initial drop probability at MAX_THRESH, 0 to 1; mandatory
    QUEUES -- names of the queues to watch; default the nearest
    STABILITY -- -log2 of the average's weight, 0 to 16; default 4

    Element handlers
    min_thresh, max_thresh, max_p (read) -- the thresholds and the current MAX_P
    drops, queues, avg_queue_size, stats, config (read) -- as RED's

    Example
    InfiniteSource(LIMIT 20, STOP true) -> r :: AdaptiveRED(20, 0.1) -> q :: Queue(20) -> Discard;
    """

    # The thresholds follow from TARGET: nothing to set one by one.
    write_handlers: ClassVar[dict[str, str]] = {}

    live_state = RED.live_state + ("_timer",)

    def configure(self, args: Args) -> None:
        target = args.read_mp("TARGET", UNSIGNED.range(0, MAX_TARGET))
        self.max_p = args.read_mp("MAX_P", _max_p)
        self._named = args.read("QUEUES", ListOf(ELEMENT), [])
        self.stability = args.read("STABILITY", STABILITY, 4)
        args.complete()
        target = max(target, MIN_TARGET)
        self.min_thresh = target // 2
        self.max_thresh = target + self.min_thresh
        self.gentle = True
        self._kills_above_max = self.max_p == 1
        self.queues = []
        self._random = self.router.random_source(self)
        self._reset()
        self._timer = Timer(self, self._adapt)

    def initialize(self) -> None:
        super().initialize()
        self._timer.schedule_after(ADAPT_INTERVAL)

    def cleanup(self) -> None:
        self._timer.unschedule()

    def probability(self) -> float:
        if self._kills_above_max and self.average > self.max_thresh:
            return 1.0
        return super().probability()

    def _adapt(self) -> None:
        if self.stability == 0:
            average = self.queue_length()
        else:
            average = int(self.average + 0.5)
        band = (self.max_thresh - self.min_thresh) // 2
        fixed = round(self.max_p * (1 << P_BITS))
        if average < self.min_thresh + band and fixed > ONE_HUNDREDTH:
            fixed = (fixed * NINE_TENTHS) >> P_BITS
        elif average > self.max_thresh - band and fixed < HALF:
            fixed += min(ONE_HUNDREDTH, fixed // 4)
        self.max_p = fixed / (1 << P_BITS)
        self._timer.reschedule_after(ADAPT_INTERVAL)
