"""Click's token bucket on the router's clock, in its fixed-point steps, for
the rated elements (RatedSource, RatedUnqueue, RatedSplitter and their
bandwidth variants)."""

from __future__ import annotations

import math

_U32 = 0xFFFFFFFF
#: Click's buckets refill once a millisecond: they hold at least a millisecond's tokens.
TICKS_PER_SECOND = 1000


class TokenBucket:
    """Tokens accumulate at ``rate`` a second up to ``capacity``, as Click counts
    them, so that runs in simulated time go as Click's: the content is a
    32-bit fraction of the full bucket (a token is ``2^32-1 // capacity`` of
    it, so a full bucket holds a little more than the capacity), refilled
    once a millisecond of the router's clock by a whole number of fractions.
    ``threshold`` is what the bucket must hold to let a packet through.
    """

    def __init__(self, rate: int, capacity: int, threshold: int = 1) -> None:
        self.threshold = threshold
        self._fraction = 0
        self._tick = 0
        self.assign(rate, capacity)

    def assign(self, rate: int, capacity: int) -> None:
        """A new rate and capacity; the content, as a fraction of the full bucket, stays."""
        self.rate = rate
        # At least a millisecond's tokens, and one.
        self.capacity = max(capacity, 1, -(-rate // TICKS_PER_SECOND))
        self._scale = _U32 // self.capacity
        per_tick = rate * self._scale // TICKS_PER_SECOND
        # At rate 0 the bucket never refills; any other rate adds something each tick.
        self._per_tick = max(per_tick, 1) if rate else 0
        self._full_after = (_U32 - 1) // self._per_tick + 1 if self._per_tick else None

    def assign_adjust(self, rate: int, capacity: int) -> None:
        """A new rate and capacity, keeping the token count."""
        tokens = self.whole_tokens()
        self.assign(rate, capacity)
        self.set(tokens)

    @staticmethod
    def _tick_of(now: float) -> int:
        # A microsecond's slack: a float time that should fall on a tick may
        # come out a hair before it.
        return math.floor(now * TICKS_PER_SECOND + 1e-3)

    def start(self, now: float) -> None:
        """A full bucket (empty at rate 0) from router time ``now`` on."""
        self._fraction = _U32 if self._per_tick else 0
        self._tick = self._tick_of(now)

    def set(self, tokens: int) -> None:
        """Exactly ``tokens`` in the bucket (at most full)."""
        self._fraction = min(tokens * self._scale, _U32)

    def _refill(self, now: float) -> None:
        tick = self._tick_of(now)
        ticks = tick - self._tick
        if self._full_after is not None and ticks >= self._full_after:
            self._fraction = _U32
        elif ticks > 0:
            self._fraction = min(self._fraction + ticks * self._per_tick, _U32)
        self._tick = max(tick, self._tick)

    def allows(self, now: float) -> bool:
        """Refills the bucket to ``now``: whether it holds enough for a packet."""
        self._refill(now)
        return self.threshold * self._scale <= self._fraction

    def whole_tokens(self) -> int:
        return self._fraction // self._scale

    def when_allowed(self, now: float) -> float | None:
        """The router time at which the bucket, refilled at ``now``, will let a
        packet through: the start of a tick; None at rate 0."""
        wanted = self.threshold * self._scale
        if wanted > _U32 or not self._per_tick:
            return None
        ticks = (wanted - self._fraction - 1) // self._per_tick + 1
        return max(now, (self._tick + ticks) / TICKS_PER_SECOND)

    def remove(self, tokens: int) -> None:
        self._fraction = max(self._fraction - min(tokens * self._scale, _U32), 0)

    def stored_rate(self) -> int:
        """The rate as the bucket keeps it, per second: the fractions added per
        tick make it differ a little from the rate asked (2000 B/s in a bucket
        of 131112 bytes reads 2001)."""
        per_tick = self._per_tick
        return min((per_tick * TICKS_PER_SECOND + per_tick // 2) // self._scale, _U32)
