"""The router's clocks: real (monotonic) time and simulated time.

Simulated time starts at 0 and moves only when the event loop jumps to the
next due timer, so a simulation runs as fast as its events can be handled
and gives the same result on every run.

Packets carry the router's time; what leaves the router as a date (a
capture's records, a printed timestamp) and what enters it as one (a
capture read back) goes through ``to_epoch`` and ``from_epoch``.
"""

from __future__ import annotations

import time


class RealClock:
    """Seconds from the monotonic clock."""

    simulated = False

    def __init__(self) -> None:
        # Measured once: the router's times keep their spacing however the
        # wall clock is set meanwhile.
        self._epoch = time.time() - time.monotonic()

    def now(self) -> float:
        return time.monotonic()

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

    def to_epoch(self, t: float) -> float:
        """Simulated time is its own calendar: second ``t`` is ``t`` after the epoch."""
        return t

    def from_epoch(self, seconds: float) -> float:
        return seconds

    def advance_to(self, t: float) -> None:
        # Timers due in the past fire "now": simulated time never runs backwards.
        self._now = max(self._now, t)
