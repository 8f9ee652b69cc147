"""Timers: run an owner's callback at a given time on its home thread.

::

    self.timer = Timer(self, self.tick)     # in configure() or initialize()
    self.timer.schedule_after(0.1)          # from initialize() on

    def tick(self) -> None:
        ...
        self.timer.reschedule_after(0.1)    # periodic, without drift

The owner (an element, see :class:`~pyclick.runtime.host.Owner`) carries the
scheduling handle through which the timer reaches its scheduler. Times are
in the router's clock (``router.now()``), simulated or real. Timers of one
thread due at the same time fire in the order they were first scheduled
(a period added by ``reschedule_after`` keeps its timer's place).

Like Click's Timestamps, a timer's period is counted in whole nanoseconds:
``reschedule_after`` adds to the previous expiry in integer nanoseconds, so
the ten-thousandth 10 ms period ends exactly 100 s after the first expiry,
where adding floats drifts by picoseconds and can put an expiry just before
a boundary that a simulated device counts up to.
"""

from __future__ import annotations

import heapq
import itertools
import math
from typing import Callable

from pyclick.runtime.host import Owner

#: Nanoseconds per second: the grain of a timer's periods.
NANOSECONDS = 1_000_000_000
#: How far behind the router's clock a periodic expiry may fall, as in Click.
MAX_BEHIND_NS = 2 * NANOSECONDS


class Timer:
    """A one-shot timer owned by ``owner``; ``callback()`` runs when it expires."""

    def __init__(self, owner: Owner, callback: Callable[[], object]) -> None:
        self.owner = owner
        self.callback = callback
        #: Due time while scheduled; the last expiry once it has fired.
        self.expiry: float | None = None
        self.scheduled = False
        self._generation = 0
        # The expiry reschedule_after set, in whole nanoseconds: periods add here.
        self._expiry_ns: int | None = None
        #: Rank among timers due at the same time (set by the heap); None
        #: asks for a new one, ranking after every timer scheduled so far.
        self._tie: int | None = None

    def schedule_at(self, t: float) -> None:
        """Fire at router time ``t`` (replaces any pending expiry)."""
        self._expiry_ns = None
        self._tie = None
        self.owner.scheduling.active().add_timer(self, t)

    def schedule_after(self, seconds: float) -> None:
        """Fire ``seconds`` from now; a positive wait always later than now."""
        now = self.owner.scheduling.now()
        when = now + seconds
        if seconds > 0 and when <= now:
            # A wait shorter than the clock's float can add (a few hundred
            # nanoseconds at a date of today's size) would fire now again and
            # again, the simulated clock never moving on.
            when = math.nextafter(now, math.inf)
        self.schedule_at(when)

    def reschedule_after(self, seconds: float) -> None:
        """Fire ``seconds`` after the previous expiry (from now if there was none).

        An expiry more than two seconds behind the clock becomes now.
        """
        now = round(self.owner.scheduling.now() * NANOSECONDS)
        base = self._expiry_ns
        if base is None:
            base = now if self.expiry is None else round(self.expiry * NANOSECONDS)
        if self.expiry is None:
            self._tie = None
        # A timer that fell far behind (a stalled thread, a suspended host)
        # starts again from now rather than firing every missed period.
        expiry = base + round(seconds * NANOSECONDS)
        if expiry < now - MAX_BEHIND_NS:
            expiry = now
            self._tie = None
        self._expiry_ns = expiry
        self.owner.scheduling.active().add_timer(self, self._expiry_ns / NANOSECONDS)

    def unschedule(self) -> None:
        """Cancel a pending expiry (no effect when not scheduled)."""
        scheduler = self.owner.scheduling.scheduler
        if scheduler is not None:
            scheduler.remove_timer(self)
        self.scheduled = False

    def __repr__(self) -> str:
        state = f"at {self.expiry}" if self.scheduled else "idle"
        return f"<Timer of {self.owner.name} {state}>"


class TimerHeap:
    """Timers by (expiry, rank). Not thread safe: the owner locks.

    Click's simulated clock moves on a nanosecond at every reading, so two
    timers set for the same time from different readings expire apart, in
    the order of those readings, and a period added to the previous expiry
    keeps its timer's place. A timer's rank copies that: a new one at each
    scheduling from now, the same one along a chain of periods.

    Cancelled or moved timers leave stale entries behind, recognised by
    their generation and skipped.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, int, int, Timer]] = []
        self._order = itertools.count()
        # Breaks the rare tie of rank (a timer ranked on another thread's heap).
        self._pushes = itertools.count()

    def push(self, timer: Timer, t: float) -> None:
        timer._generation += 1
        timer.expiry = t
        timer.scheduled = True
        if timer._tie is None:
            timer._tie = next(self._order)
        heapq.heappush(self._heap, (t, timer._tie, next(self._pushes), timer._generation, timer))

    def remove(self, timer: Timer) -> None:
        timer._generation += 1
        timer.scheduled = False

    def next_expiry(self) -> float | None:
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> Timer | None:
        """The earliest timer due at ``now``, marked unscheduled; None if none is due."""
        self._drop_stale()
        if not self._heap or self._heap[0][0] > now:
            return None
        timer = heapq.heappop(self._heap)[4]
        timer.scheduled = False
        return timer

    def _drop_stale(self) -> None:
        heap = self._heap
        while heap and heap[0][3] != heap[0][4]._generation:
            heapq.heappop(heap)
