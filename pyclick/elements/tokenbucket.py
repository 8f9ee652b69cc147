"""A token bucket on the router's clock, in floats, for RatedSource (the rated
elements that count as Click's does use ``ratebucket``)."""

from __future__ import annotations

#: Tokens short of a whole count by less than this still count (float time steps).
_SLACK = 1e-9


class TokenBucket:
    """Tokens accumulate at ``rate`` per second up to ``capacity``.

    ``tokens`` is the initial content (full by default, as Click's).
    """

    def __init__(self, rate: float, capacity: float, tokens: float | None = None,
                 now: float = 0.0) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity if tokens is None else min(tokens, capacity)
        self._last = now

    def refill(self, now: float) -> None:
        if now > self._last:
            self.tokens = min(self.capacity, self.tokens + (now - self._last) * self.rate)
            self._last = now

    def contains(self, n: float) -> bool:
        return self.tokens + _SLACK >= n

    def remove(self, n: float) -> None:
        self.tokens = max(0.0, self.tokens - n)

    def remove_if(self, n: float) -> bool:
        if not self.contains(n):
            return False
        self.remove(n)
        return True

    def time_until_contains(self, n: float) -> float:
        """Seconds until ``n`` tokens are in the bucket (0 when they are)."""
        missing = n - self.tokens
        if missing <= _SLACK:
            return 0.0
        return missing / self.rate if self.rate > 0 else float("inf")

    def assign(self, rate: float, capacity: float) -> None:
        """A new rate and capacity, keeping how full the bucket is (as a fraction)."""
        fraction = self.tokens / self.capacity if self.capacity else 1.0
        self.rate, self.capacity = rate, capacity
        self.tokens = fraction * capacity

    def assign_adjust(self, rate: float, capacity: float) -> None:
        """A new rate and capacity, keeping the token count."""
        self.rate, self.capacity = rate, capacity
        self.tokens = min(self.tokens, capacity)
