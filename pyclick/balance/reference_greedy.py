"""The reference RSS++ assignment greedy and its search over allowed overshoot.

Given the buckets of the overloaded cores (each with an estimated load and
the overloaded core it sits on), how much load each overloaded core should
shed and how much each underloaded core may take, the greedy repeatedly
takes the most overloaded core, pops its heaviest bucket for good, and hands
it to the underloaded core with the most room if it fits there (within an
allowed overshoot). A core leaves the game once it is within the tolerance.

The first run allows no overshoot (-0.01: give and take "just not enough");
the residual overload and underload of that run seed the overshoot
allowances of later runs, which are searched (grow by half while the sum of
squared residuals falls, then bisect between the best bracket) for at most
ten runs. As in the reference, the assignment of the *last* run is the one
applied, whatever the runs before it reached: the reference keeps a
best-so-far sum of squares that it never updates, so its "return to the best
allowances" step reruns the ninth run's allowances as the tenth, and its
stop on "all brackets equal the best" never fires. The residuals left at the
end of a run are summed in the order the reference pops them (largest
first); unlike the reference's single precision, sums are in doubles.

Ties between equal loads are broken by the lower index so that results do
not depend on heap internals.
"""

from __future__ import annotations

import heapq
import time
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np

#: A core whose remaining room or excess falls to this is considered done.
DONE_TOLERANCE = 0.01
#: Overshoot allowed in the first run: slightly negative, i.e. stop short.
FIRST_OVERSHOOT = -0.01
MAX_RUNS = 10


@dataclass(slots=True)
class RunStat:
    """One solver run: its sum of squared residual imbalances and seconds.

    Seconds are read on a steady clock, as the reference times its runs.
    ``over_allowed``/``under_allowed`` are the overshoot allowances a run of
    the reference greedy used (0 for solvers without them).
    """

    square_imbalance: float
    seconds: float
    over_allowed: float = 0.0
    under_allowed: float = 0.0


@dataclass
class GreedyResult:
    """transfer[i] is the underloaded index bucket i goes to, or -1 (from the last run)."""

    transfer: np.ndarray
    square_imbalance: float
    runs: list[RunStat] = field(default_factory=list)


class _Problem:
    """What every run starts from, ordered once.

    The buckets are grouped by overloaded core, heaviest first (ties: lower
    index): core k's are ``loads[start[k]:end[k]]``, ``negated`` holds the
    same loads negated (ascending, for bisection) and ``index`` the buckets'
    indices. The heaps hold (-excess, k) and (-room, u).
    """

    def __init__(self, loads: np.ndarray, owner: np.ndarray, excess: np.ndarray,
                 room: np.ndarray) -> None:
        self.nbuckets = len(loads)
        # lexsort is stable: equal loads keep the lower index first.
        order = np.lexsort((-loads, owner))
        ordered = loads[order]
        self.end = np.cumsum(np.bincount(owner, minlength=len(excess))).tolist()
        self.start = [0, *self.end[:-1]]
        self.loads = ordered.tolist()
        self.negated = (-ordered).tolist()
        self.index = order.tolist()
        self.lightest = min(self.loads, default=0.0)
        self.overloaded = [(-e, k) for k, e in enumerate(excess.tolist())]
        self.underloaded = [(-r, u) for u, r in enumerate(room.tolist())]
        heapq.heapify(self.overloaded)
        heapq.heapify(self.underloaded)


def _one_run(problem: _Problem, over_allowed: float, under_allowed: float
             ) -> tuple[list[int], float, float, float]:
    heappop, heapreplace = heapq.heappop, heapq.heapreplace
    overloaded = problem.overloaded.copy()
    underloaded = problem.underloaded.copy()
    loads, negated, index, end = problem.loads, problem.negated, problem.index, problem.end
    lightest = problem.lightest
    taken = problem.start.copy()
    transfer = [-1] * problem.nbuckets
    residual_over = residual_under = square = 0.0

    while overloaded and underloaded:
        neg_excess, o = overloaded[0]
        left = -neg_excess
        neg_room, u = underloaded[0]
        space = -neg_room
        limit = space + under_allowed
        i = taken[o]
        # Only the core with the most room can take a bucket: one that does
        # not fit there fits nowhere and is dropped. A core still in the
        # game stays the most overloaded and drops its next buckets the same
        # way, so skip straight to its first bucket that fits.
        if not loads[i] < limit:
            if not lightest < limit:
                # Nothing fits any more (room only shrinks): every core left
                # would drop its buckets and leave in turn, as summed below.
                break
            last = end[o]
            i = bisect_right(negated, -limit, i + 1, last) if left > -over_allowed else last
            if i == last:
                heappop(overloaded)
                residual_over += abs(left)
                square += left * left
                continue
        bucket = loads[i]
        space -= bucket
        left -= bucket
        transfer[index[i]] = u
        if space > DONE_TOLERANCE:
            heapreplace(underloaded, (-space, u))
        else:
            heappop(underloaded)
            residual_under += abs(space)
            square += space * space
        i += 1
        taken[o] = i
        if left > -over_allowed and i < end[o]:
            heapreplace(overloaded, (-left, o))
        else:
            heappop(overloaded)
            residual_over += abs(left)
            square += left * left

    for neg_value, _ in sorted(overloaded):
        residual_over += abs(neg_value)
        square += neg_value * neg_value
    for neg_value, _ in sorted(underloaded):
        residual_under += abs(neg_value)
        square += neg_value * neg_value
    return transfer, square, residual_over, residual_under


class _OvershootSearch:
    """The reference's walk over (overload, underload) overshoot allowances."""

    def __init__(self) -> None:
        self.over = self.under = FIRST_OVERSHOOT
        self.bottom = (FIRST_OVERSHOOT, FIRST_OVERSHOOT)
        self.top = (0.0, 0.0)
        self.last_square = float("inf")
        self.phase = 0
        self.m = -1.0

    def _between(self, m: float) -> None:
        self.over = self.bottom[0] + (self.top[0] - self.bottom[0]) * m
        self.under = self.bottom[1] + (self.top[1] - self.bottom[1]) * m

    def advance(self, square: float, residual_over: float, residual_under: float) -> bool:
        """Pick the next allowances from this run; False when the walk ends."""
        if self.phase == 0:
            self.over, self.under = residual_over, residual_under
            self.phase = 1
        elif self.phase == 1:
            if square <= self.last_square:
                self.over *= 1.5
                self.under *= 1.5
            else:
                self.phase = 2
                self.top = (self.over, self.under)
                self.m = 0.5
                self.over /= 2
                self.under /= 2
        elif self.phase == 2:
            if square <= self.last_square:
                self.m /= 2
                if self.m < 0.01:
                    return False
                self._between(self.m)
            else:
                self.bottom = (self.over, self.under)
                self.phase = 3
                self.m = 0.5
                self._between(0.5)
        else:
            if square <= self.last_square:
                self.m = (1 + self.m) / 2
                if self.m > 0.99:
                    return False
                self._between(self.m)
            else:
                self.phase = 2
                self.top = (self.over, self.under)
                self.m = 0.5
                self._between(0.5)
        self.last_square = square
        return True


def reference_greedy(loads: np.ndarray, owner: np.ndarray, excess: np.ndarray,
                     room: np.ndarray, max_runs: int = MAX_RUNS) -> GreedyResult:
    """Assign buckets of overloaded cores to underloaded ones, the reference way.

    ``loads[i]`` is bucket i's estimated load, ``owner[i]`` the index (into
    ``excess``) of the overloaded core holding it, ``excess[k]`` how much
    load overloaded core k should shed and ``room[u]`` how much underloaded
    core u should receive.
    """
    problem = _Problem(np.asarray(loads, dtype=np.float64), np.asarray(owner, dtype=np.int64),
                       np.asarray(excess, dtype=np.float64), np.asarray(room, dtype=np.float64))
    search = _OvershootSearch()
    runs: list[RunStat] = []
    transfer: list[int] = [-1] * problem.nbuckets
    square = float("inf")
    for run in range(1, max_runs + 1):
        began = time.perf_counter()
        transfer, square, residual_over, residual_under = _one_run(
            problem, search.over, search.under)
        runs.append(RunStat(square, time.perf_counter() - began, search.over, search.under))
        if run == max_runs or square < DONE_TOLERANCE:
            break
        allowed = search.over, search.under
        if not search.advance(square, residual_over, residual_under):
            break
        if run + 1 == max_runs:
            # The reference meant to return to its best run's allowances;
            # with its best never recorded, it repeats this run's.
            search.over, search.under = allowed
    return GreedyResult(np.asarray(transfer, dtype=np.int64), square, runs)
