"""The router's clocks: real (monotonic) time and simulated time.

Simulated time starts at 0 and moves only when the event loop jumps to the
next due timer, so a simulation runs as fast as its events can be handled
and gives the same result on every run.
"""

from __future__ import annotations

import time


class RealClock:
    """Seconds from the monotonic clock."""

    simulated = False

    def now(self) -> float:
        return time.monotonic()


class SimClock:
    """Seconds of simulated time, advanced by the simulated-time event loop."""

    simulated = True

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance_to(self, t: float) -> None:
        # Timers due in the past fire "now": simulated time never runs backwards.
        self._now = max(self._now, t)
