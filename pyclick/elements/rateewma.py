"""RateEWMA and jiffies: Click's moving average of a rate over millisecond epochs."""

from __future__ import annotations

#: Click's clock ticks (jiffies) a second at user level: its rate averages
#: fold in the traffic of each millisecond of the router's clock.
EPOCHS_PER_SECOND = 1000


def jiffies(now: float) -> int:
    """Router time ``now`` in whole milliseconds, Click's user-level jiffies.

    Rounded to the microsecond before the milliseconds are cut off: far from
    0 a float can fall just short of an exact millisecond boundary, where
    Click's integer clock never does.
    """
    return round(now * 1_000_000) // 1000


class RateEWMA:
    """Click's rate average, in its fixed-point steps.

    Each epoch (millisecond) sums what arrived in it; when a later epoch
    starts, the sum is folded into a moving average kept with ``scale``
    fraction bits: ``avg += ((x << scale) + 8 - avg) >> 4`` (weight 1/16,
    the 8 compensating the shift's rounding down). Each idle epoch in
    between is a fold of 0, and 100 idle epochs or more clear the average.
    The rate is the average per epoch times the epochs a second. The
    arithmetic is Click's unsigned arithmetic of ``bits`` bits: Meter's
    32-bit average wraps when a millisecond's bytes, scaled, overflow it.
    """

    STABILITY = 4
    #: As many idle epochs as this take the average straight to 0.
    IDLE_CLEARS = 100

    def __init__(self, scale: int, epoch: int, bits: int = 64) -> None:
        self.scale = scale
        self._mask = (1 << bits) - 1
        self._sign = 1 << (bits - 1)
        self._average = 0
        self._epoch = epoch
        self._current = 0

    def _fold(self, amount: int) -> None:
        mask = self._mask
        scaled = ((amount << self.scale) + (1 << (self.STABILITY - 1))) & mask
        # The difference is taken as signed, and shifted arithmetically.
        difference = ((scaled - self._average + self._sign) & mask) - self._sign
        self._average = (self._average + (difference >> self.STABILITY)) & mask

    def update(self, epoch: int, amount: int) -> None:
        """Add ``amount`` to epoch ``epoch`` (0 just moves the average to it)."""
        if epoch != self._epoch:
            self._fold(self._current)
            idle = epoch - self._epoch - 1
            if idle >= self.IDLE_CLEARS:
                self._average = 0
            else:
                for _ in range(idle):
                    self._fold(0)
            self._current = 0
            self._epoch = epoch
        self._current = (self._current + amount) & self._mask

    def scaled_average(self) -> int:
        """Units an epoch, with ``scale`` fraction bits, as of the last update."""
        return self._average

    def scaled_rate(self) -> int:
        """Units a second, with ``scale`` fraction bits."""
        return self._average * EPOCHS_PER_SECOND
