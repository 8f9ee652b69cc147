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
ten runs. The assignment with the lowest sum of squared residuals is kept.

Ties between equal loads are broken by the lower index so that results do
not depend on heap internals.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field

import numpy as np

#: A core whose remaining room or excess falls to this is considered done.
DONE_TOLERANCE = 0.01
#: Overshoot allowed in the first run: slightly negative, i.e. stop short.
FIRST_OVERSHOOT = -0.01
MAX_RUNS = 10


@dataclass
class RunStat:
    """One solver run: its sum of squared residual imbalances and CPU seconds."""

    square_imbalance: float
    seconds: float


@dataclass
class GreedyResult:
    """transfer[i] is the underloaded index bucket i goes to, or -1."""

    transfer: np.ndarray
    square_imbalance: float
    runs: list[RunStat] = field(default_factory=list)


def _one_run(loads: list[float], owner: list[int], excess: list[float],
             room: list[float], over_allowed: float, under_allowed: float
             ) -> tuple[list[int], float, float, float]:
    stacks: list[list[tuple[float, int]]] = [[] for _ in excess]
    for i, (load, o) in enumerate(zip(loads, owner)):
        stacks[o].append((-load, i))
    for stack in stacks:
        heapq.heapify(stack)
    overloaded = [(-e, k) for k, e in enumerate(excess)]
    underloaded = [(-r, k) for k, r in enumerate(room)]
    heapq.heapify(overloaded)
    heapq.heapify(underloaded)
    transfer = [-1] * len(loads)
    residual_over = residual_under = square = 0.0

    while overloaded and underloaded:
        neg_excess, o = heapq.heappop(overloaded)
        left = -neg_excess
        neg_bucket, b = heapq.heappop(stacks[o])
        bucket = -neg_bucket
        skipped = []
        while underloaded:
            neg_room, u = heapq.heappop(underloaded)
            space = -neg_room
            if bucket < space + under_allowed:
                space -= bucket
                left -= bucket
                transfer[b] = u
                if space > DONE_TOLERANCE:
                    heapq.heappush(underloaded, (-space, u))
                else:
                    residual_under += abs(space)
                    square += space * space
                break
            skipped.append((neg_room, u))
        for entry in skipped:
            heapq.heappush(underloaded, entry)
        if left > -over_allowed and stacks[o]:
            heapq.heappush(overloaded, (-left, o))
        else:
            residual_over += abs(left)
            square += left * left

    for neg_value, _ in overloaded:
        residual_over += abs(neg_value)
        square += neg_value * neg_value
    for neg_value, _ in underloaded:
        residual_under += abs(neg_value)
        square += neg_value * neg_value
    return transfer, square, residual_over, residual_under


class _OvershootSearch:
    """The reference's walk over (overload, underload) overshoot allowances."""

    def __init__(self) -> None:
        self.over = self.under = FIRST_OVERSHOOT
        self.bottom = (FIRST_OVERSHOOT, FIRST_OVERSHOOT)
        self.top = (0.0, 0.0)
        self.bottom_square = self.top_square = float("inf")
        self.last_square = float("inf")
        self.phase = 0
        self.m = -1.0

    def _between(self, m: float) -> None:
        self.over = self.bottom[0] + (self.top[0] - self.bottom[0]) * m
        self.under = self.bottom[1] + (self.top[1] - self.bottom[1]) * m

    def advance(self, square: float, residual_over: float, residual_under: float,
                best_square: float) -> bool:
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
                self.bottom_square = square
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
                self.top_square = square
                self.m = 0.5
                self._between(0.5)
        if self.top_square == self.bottom_square == square == best_square:
            return False
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
    load_list = [float(x) for x in loads]
    owner_list = [int(x) for x in owner]
    excess_list = [float(x) for x in excess]
    room_list = [float(x) for x in room]
    search = _OvershootSearch()
    best_transfer: list[int] = [-1] * len(load_list)
    best_square = float("inf")
    runs: list[RunStat] = []
    for run in range(1, max_runs + 1):
        began = time.thread_time()
        transfer, square, residual_over, residual_under = _one_run(
            load_list, owner_list, excess_list, room_list, search.over, search.under)
        runs.append(RunStat(square, time.thread_time() - began))
        if square < best_square:
            best_square, best_transfer = square, transfer
        if run == max_runs or square < DONE_TOLERANCE:
            break
        if not search.advance(square, residual_over, residual_under, best_square):
            break
    return GreedyResult(np.asarray(best_transfer, dtype=np.int64), best_square, runs)
