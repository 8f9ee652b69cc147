"""The router's clocks: real (monotonic) time and simulated time.

Simulated time starts at 0 and moves only when the event loop jumps to the
next due timer, so a simulation runs as fast as its events can be handled
and gives the same result on every run.

Packets carry the router's time; what leaves the router as a date (a
capture's records, a printed timestamp) and what enters it as one (a
capture read back) goes through ``to_epoch`` and ``from_epoch``.
"""

from __future__ import annotations

import math
import time


class RealClock:
    """Seconds from the monotonic clock, possibly warped.

    A warp factor makes the router's time run that many times as fast as real
    time from the moment it is set (timers then fire sooner or later in real
    time); "nowait" makes an idle router skip ahead to its next timer.
    """

    simulated = False

    def __init__(self) -> None:
        # Measured once: the router's times keep their spacing however the
        # wall clock is set meanwhile.
        self._epoch = time.time() - time.monotonic()
        # (real time, router time, factor) at the last change of warp: one
        # tuple, so that a reader on another thread never sees half a change.
        self._warp = (0.0, 0.0, 1.0)
        #: Whether an idle router jumps to its next timer instead of waiting.
        self.nowait = False

    def now(self) -> float:
        return self._at(time.monotonic())

    def _at(self, real: float) -> float:
        """Router time at monotonic time ``real``, under the current warp."""
        real_base, base, factor = self._warp
        return base + (real - real_base) * factor

    def real_delay(self, seconds: float) -> float:
        """How long, in real time, ``seconds`` of router time take."""
        return seconds / self._warp[2]

    def skip_to(self, t: float) -> None:
        """Move router time on to ``t`` at once (never back)."""
        real = time.monotonic()
        self._warp = (real, max(t, self._at(real)), self._warp[2])

    def warp_text(self) -> str:
        """The ``timewarp`` handler's value: "nowait" or the factor."""
        return "nowait" if self.nowait else f"{self._warp[2]:.12g}"

    def set_warp(self, text: str) -> None:
        """Write ``timewarp``: "nowait", or a factor greater than 0 (1 is real time)."""
        word = text.strip()
        if word == "nowait":
            self.nowait = True
            return
        try:
            factor = float(word)
        except ValueError:
            raise ValueError("expected double") from None
        if not math.isfinite(factor) or factor <= 0:
            raise ValueError("timefactor must be > 0")
        real = time.monotonic()
        self._warp = (real, self._at(real), factor)
        self.nowait = False

    def to_epoch(self, t: float) -> float:
        """Router time ``t`` as seconds since the epoch (the wall clock's); 0, a
        packet's unset timestamp, stays 0."""
        return t + self._epoch if t else 0.0

    def from_epoch(self, seconds: float) -> float:
        """Seconds since the epoch as router time; 0 (unset) stays 0."""
        return seconds - self._epoch if seconds else 0.0


class SimClock:
    """Seconds of simulated time, advanced by the simulated-time event loop."""

    simulated = True

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def warp_text(self) -> str:
        """The ``timewarp`` handler's value: simulated time cannot be warped."""
        return "simulation"

    def to_epoch(self, t: float) -> float:
        """Simulated time is its own calendar: second ``t`` is ``t`` after the epoch."""
        return t

    def from_epoch(self, seconds: float) -> float:
        return seconds

    def advance_to(self, t: float) -> None:
        # Timers due in the past fire "now": simulated time never runs backwards.
        self._now = max(self._now, t)
