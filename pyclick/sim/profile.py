"""Offered-load profiles: how the offered rate of synthetic traffic changes over time.

A profile gives a level, a factor applied to the offered rate, at every
simulated time. It is piecewise linear: a list of points, each a time and a
level; from a point on the level holds until the next point, or, when the
point is marked ``ramp``, moves linearly to the next point's level. Before
the first point the first level holds, after the last point the last one.

The text form (SimNIC's PROFILE) lists the points separated by commas::

    0s 0.2, 10s 0.8 ramp, 20s 0.3

reads: 0.2 of the rate for the first ten seconds, then 0.8 falling
linearly to 0.3 at 20 s, then 0.3. Times take the units s, ms, min and h
(seconds without a unit) and must increase; levels are non-negative.

A day compressed into minutes is written ``day PERIOD [LOW HIGH]``: the
level follows the shape of a day of Internet traffic (lowest around 4 am,
highest around 8 pm) once every PERIOD, between LOW and HIGH (default 0.2
and 1). ``day 10min 0.3 0.9`` makes every ten minutes a day.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

#: A day of traffic at each hour from midnight, relative to its range (0 at the
#: quietest hour, 1 at the busiest): quiet before dawn, a climb through the
#: morning, a plateau in the afternoon, the peak in the evening.
DAY_SHAPE = (0.30, 0.18, 0.08, 0.02, 0.00, 0.03, 0.10, 0.25, 0.40, 0.50, 0.56, 0.60,
             0.64, 0.65, 0.64, 0.66, 0.70, 0.78, 0.88, 0.96, 1.00, 0.95, 0.75, 0.50)
DAY_LOW = 0.2
DAY_HIGH = 1.0

_UNITS = {"": 1.0, "s": 1.0, "sec": 1.0, "ms": 1e-3, "min": 60.0, "h": 3600.0}
_TIME = re.compile(r"([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)([a-z]*)")


@dataclass(frozen=True)
class Point:
    """The level from ``time`` on; with ``ramp`` it moves linearly to the next point's."""

    time: float
    level: float
    ramp: bool = False


class LoadProfile:
    """A piecewise-linear level over time, optionally repeating every ``period``."""

    def __init__(self, points: Sequence[Point], period: float | None = None) -> None:
        if not points:
            raise ValueError("a profile needs at least one point")
        for point in points:
            if not (math.isfinite(point.time) and point.time >= 0):
                raise ValueError(f"time {point.time:g}s: must be finite and not negative")
            if not (math.isfinite(point.level) and point.level >= 0):
                raise ValueError(f"level {point.level:g}: must be finite and not negative")
        for before, after in zip(points, points[1:]):
            if not after.time > before.time:
                raise ValueError(f"times must increase: {after.time:g}s comes after "
                                 f"{before.time:g}s")
        if period is not None:
            if not (math.isfinite(period) and period > 0):
                raise ValueError("the period must be positive and finite")
            if points[0].time != 0 or points[-1].time >= period:
                raise ValueError("a repeating profile's points lie in [0, period)")
            # Closing the cycle: the last point leads to the first one's level again.
            points = list(points) + [Point(period, points[0].level)]
        self.points = tuple(points)
        self.period = period
        # The integral of the level from the first point to each point.
        self._area = [0.0]
        for here, following in zip(self.points, self.points[1:]):
            self._area.append(self._area[-1] + self._segment_area(here, following,
                                                                  following.time))

    @staticmethod
    def _segment_area(here: Point, following: Point, until: float) -> float:
        """Integral of the level from ``here.time`` to ``until`` (at most the next point)."""
        width = until - here.time
        if not here.ramp:
            return here.level * width
        end = here.level + (following.level - here.level) * width / (following.time - here.time)
        return (here.level + end) / 2 * width

    def _cycle(self, t: float) -> tuple[int, float]:
        """Whole periods before ``t`` and the time within the period."""
        if self.period is None:
            return 0, t
        turns = math.floor(t / self.period)
        return turns, t - turns * self.period

    def _locate(self, t: float) -> int:
        """Index of the last point at or before ``t`` (-1 before the first)."""
        low, high = -1, len(self.points) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if self.points[middle].time <= t:
                low = middle
            else:
                high = middle - 1
        return low

    def level(self, t: float) -> float:
        """The level at time ``t``."""
        _, t = self._cycle(t)
        index = self._locate(t)
        if index < 0:
            return self.points[0].level
        here = self.points[index]
        if index == len(self.points) - 1 or not here.ramp:
            return here.level
        following = self.points[index + 1]
        share = (t - here.time) / (following.time - here.time)
        return here.level + (following.level - here.level) * share

    def _integral(self, t: float) -> float:
        """Integral of the level from time 0 (or the first point) to ``t``."""
        turns, t = self._cycle(t)
        whole = turns * self._area[-1] if turns else 0.0
        first = self.points[0]
        index = self._locate(t)
        if index < 0:
            return whole - first.level * (first.time - t)
        here = self.points[index]
        if index == len(self.points) - 1:
            return whole + self._area[index] + here.level * (t - here.time)
        return whole + self._area[index] + self._segment_area(here, self.points[index + 1], t)

    def mean(self, start: float, stop: float) -> float:
        """The mean level over ``[start, stop)``."""
        if not stop > start:
            return self.level(start)
        return (self._integral(stop) - self._integral(start)) / (stop - start)


def day_profile(period: float, low: float = DAY_LOW, high: float = DAY_HIGH) -> LoadProfile:
    """A day of traffic compressed into ``period`` seconds, between ``low`` and ``high``."""
    if not (math.isfinite(period) and period > 0):
        raise ValueError("day: PERIOD must be positive and finite")
    if not 0 <= low <= high:
        raise ValueError(f"day: need 0 <= LOW <= HIGH, got {low:g} and {high:g}")
    hour = period / 24
    return LoadProfile([Point(h * hour, low + (high - low) * shape, ramp=True)
                        for h, shape in enumerate(DAY_SHAPE)], period=period)


def _time(word: str) -> float:
    match = _TIME.fullmatch(word)
    if match is None or match.group(2) not in _UNITS:
        raise ValueError(f"'{word}' is not a time (e.g. 10s, 500ms, 2min)")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _number(word: str, what: str) -> float:
    try:
        value = float(word)
    except ValueError:
        raise ValueError(f"{what} '{word}' is not a number") from None
    return value


def parse_profile(text: str) -> LoadProfile:
    """A profile from its text form (see the module documentation); ValueError if malformed."""
    words = text.split()
    if words[:1] == ["day"]:
        if len(words) not in (2, 4):
            raise ValueError("expected 'day PERIOD' or 'day PERIOD LOW HIGH'")
        period = _time(words[1])
        if len(words) == 2:
            return day_profile(period)
        return day_profile(period, _number(words[2], "LOW"), _number(words[3], "HIGH"))
    points = []
    for number, item in enumerate(text.split(","), 1):
        parts = item.split()
        if len(parts) == 3 and parts[2] == "ramp":
            ramp = True
        elif len(parts) == 2:
            ramp = False
        else:
            raise ValueError(f"point {number} '{item.strip()}': expected 'TIME LEVEL' "
                             "or 'TIME LEVEL ramp'")
        points.append(Point(_time(parts[0]), _number(parts[1], "level"), ramp))
    if points[-1].ramp:
        raise ValueError("the last point has no next point to ramp to")
    return LoadProfile(points)
