"""What a bucket weighs: turning per-bucket packet counts into load.

Two estimators live here. The reference one splits each core's measured
load among its buckets in proportion to their packet counts of the last
tick. Ours keeps, per bucket, a smoothed packet rate and its variance
(jumping to a new level at once when a change is far beyond the noise),
and, per core, a smoothed cost per packet learnt while the core was not
saturated; a bucket's predicted load on a core is rate x cost. A saturated
core reports a load of 1 whatever its demand, so the cost learnt before
saturation is what reveals how far over capacity it really is.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

#: A core at or above this load is saturated: its load no longer grows with
#: its packets, so it teaches nothing about the cost of a packet.
SATURATED_LOAD = 0.97


def share_of_core_load(table: np.ndarray, counts: np.ndarray, core_index: np.ndarray,
                       loads: np.ndarray) -> np.ndarray:
    """Reference estimate: bucket load = core load x bucket count / core count.

    ``core_index[c]`` maps core id c to its position in ``loads`` (-1 for a
    core not in use; its buckets weigh 0).
    """
    where = core_index[table]
    served = where >= 0
    if not served.all():
        # Buckets of cores not in use weigh nothing (parked on position 0).
        counts = np.where(served, counts, 0)
        where = np.where(served, where, 0)
    packets = np.bincount(where, weights=counts, minlength=len(loads)).tolist()
    per_packet = np.array([load / count if count > 0 else 0.0
                           for load, count in zip(loads.tolist(), packets)])
    return counts * per_packet[where]


def median(values: Sequence[float] | np.ndarray) -> float:
    """The middle value (the mean of the two middle ones for an even count)."""
    middle = len(values) // 2
    if isinstance(values, np.ndarray):
        # The array's own sort (``np.sort`` adds a Python layer), its middle
        # values read as floats rather than the whole array converted.
        ordered = values.copy()
        ordered.sort()
        return ordered.item(middle) if len(values) % 2 else \
            (ordered.item(middle - 1) + ordered.item(middle)) / 2
    ordered = sorted(values)
    return ordered[middle] if len(values) % 2 else \
        (ordered[middle - 1] + ordered[middle]) / 2


def operand(value: float) -> np.ndarray:
    """``value`` in a 0-d array, to give an array operation as a number: numpy takes
    a Python or numpy float through a slower path than an array (about 0.2 µs of a
    call on a tick's small arrays), and the arithmetic is the same. Set it anew
    with ``held[...] = value``."""
    return np.array(value, dtype=np.float64)


class CoreCosts:
    """Smoothed load per packet/s of every core (busy fraction x seconds per packet).

    Learnt from cores below SATURATED_LOAD that received packets. A
    saturated core only says its cost is at least its load over its packets
    (it would have been busier had it been able to): that bound raises its
    estimate but never lowers it. A core with no estimate at all borrows the
    median of the others. Per-core values are plain floats: a machine has
    few cores, and a per-core loop costs less than array calls there.
    """

    def __init__(self, ncores: int, horizon: float) -> None:
        self.horizon = horizon
        self.cost = [math.nan] * ncores
        # How many cores have no estimate yet: once none, ``of`` needs no scan for them.
        self._unknown = ncores

    def update(self, cores: Sequence[int], loads: Sequence[float], packets: Sequence[float],
               elapsed: float) -> None:
        weight = 1.0 - math.exp(-elapsed / self.horizon)
        cost = self.cost
        for core, load, count in zip(cores, loads, packets):
            if count <= 0:
                continue
            observed = load * elapsed / count
            previous = cost[core]
            # NaN, the one value unequal to itself: no call per core.
            if previous != previous:
                cost[core] = observed
                self._unknown -= 1
            elif load < SATURATED_LOAD:
                cost[core] = previous + weight * (observed - previous)
            elif observed > previous:
                cost[core] = observed

    def of(self, cores: Sequence[int]) -> list[float]:
        """Cost of each named core, filling unknown ones with the median known cost."""
        cost = self.cost
        costs = [cost[c] for c in cores]
        if self._unknown and any(map(math.isnan, costs)):
            known = [c for c in cost if not math.isnan(c)]
            fill = median(known) if known else 0.0
            costs = [fill if math.isnan(c) else c for c in costs]
        return costs


class CoreCostArray:
    """``CoreCosts`` in one array, updated by array operations.

    The same floats, operation for operation; from a few dozen cores on, a
    dozen array calls cost less than a Python loop over the cores. ``cores``
    are arrays of core ids, ``loads`` and ``packets`` arrays aligned with
    them, and ``of`` returns an array. The least packet count is read at
    ``argmin`` (a fifth of the time of ``min`` on a few dozen values).
    Numbers go to the operations as 0-d arrays (``operand``); operations
    write into one of their operands, their output a positional argument (a
    keyword ``out`` or an in-place operator costs a tenth of a call more).
    """

    def __init__(self, ncores: int, horizon: float) -> None:
        self.horizon = horizon
        self.cost = np.full(ncores, math.nan)
        self._unknown = ncores
        self._saturated = operand(SATURATED_LOAD)
        # The elapsed time and the weight it gives, made again when it changes.
        self._weighed = math.nan
        self._elapsed, self._weight = operand(math.nan), operand(math.nan)

    def update(self, cores: np.ndarray, loads: np.ndarray, packets: np.ndarray,
               elapsed: float) -> None:
        if elapsed != self._weighed:
            self._elapsed[...] = elapsed
            self._weight[...] = 1.0 - math.exp(-elapsed / self.horizon)
            self._weighed = elapsed
        previous = self.cost[cores]
        observed = np.multiply(loads, self._elapsed)
        seen = None
        if packets.item(packets.argmin()) > 0:
            np.divide(observed, packets, observed)
        else:
            seen = packets > 0
            np.divide(observed, packets, out=observed, where=seen)
        # previous + weight x (observed - previous), as the loop computes it.
        learnt = np.subtract(observed, previous)
        np.multiply(learnt, self._weight, learnt)
        np.add(learnt, previous, learnt)
        # A saturated core's observation only raises its cost (a NaN
        # observation, which no comparison passes, leaves it). Some core is
        # saturated on most ticks of a loaded machine: no test for none.
        cost = np.fmax(previous, observed)
        np.putmask(cost, np.less(loads, self._saturated), learnt)
        if self._unknown:
            fresh = np.isnan(previous)
            if seen is not None:
                fresh &= seen
            np.putmask(cost, fresh, observed)
            self._unknown -= int(np.count_nonzero(fresh))
        if seen is not None:
            np.putmask(cost, ~seen, previous)
        self.cost[cores] = cost

    def of(self, cores: np.ndarray | Sequence[int]) -> np.ndarray:
        """Cost of each named core, filling unknown ones with the median known cost."""
        costs = self.cost[cores]
        if self._unknown:
            unknown = np.isnan(costs)
            if unknown.any():
                known = self.cost[~np.isnan(self.cost)]
                costs[unknown] = median(known) if known.size else 0.0
        return costs


class PersistentRates:
    """Bucket rates as a slow level plus a deviation that partly persists.

    Each bucket's rate is a level (smoothed over ``horizon``, jumping at
    once on a change far beyond noise) and the last tick's deviation from
    it. How much of a deviation survives one tick is learnt across all
    buckets (the regression of this tick's deviations on the last tick's,
    smoothed over ``persistence_horizon``); the prediction is the level
    plus that share of the last deviation. ``variance`` is the smoothed
    squared error of the predictions.
    """

    def __init__(self, reta_size: int, horizon: float, jump_sigmas: float = 4.0,
                 persistence_horizon: float = 1.0) -> None:
        self.horizon = horizon
        self.jump_sigmas = jump_sigmas
        self.persistence_horizon = persistence_horizon
        # Written into, not made anew: a tick pays for numpy's calls, and a
        # call that allocates its result costs more than one writing into a
        # buffer. Read them anew every tick (``variance`` alternates between
        # two buffers on ticks where some bucket jumps).
        self.level = np.zeros(reta_size)
        self.rate = np.zeros(reta_size)
        self.variance = np.zeros(reta_size)
        self.persistence = 0.5
        # Each tick's deviation sits in the first half of a pair whose second
        # half holds the squared errors, so that one multiplication weighs
        # both; two pairs alternate, as the last deviation is still read.
        self._pairs = (np.zeros(2 * reta_size), np.zeros(2 * reta_size))
        self._halves = tuple((pair[:reta_size], pair[reta_size:]) for pair in self._pairs)
        self._deviation = self._pairs[0][:reta_size]
        self._tick = 0
        # Operands as arrays: numpy takes a Python float operand through a
        # slower path than an array of it. Made again when the elapsed time
        # changes: the elapsed time itself, and (1 - weight) over the first
        # half, weight over the second.
        self._elapsed = np.zeros(reta_size)
        self._weights = np.zeros(2 * reta_size)
        self._kept_share = self._weights[:reta_size]
        # The weight over both halves of a pair.
        self._weight = np.zeros(2 * reta_size)
        self._weighed = math.nan
        self._learn = 0.0
        self._jump_bound = np.full(reta_size, jump_sigmas ** 2)
        self._observed = np.zeros(reta_size)
        self._noise = np.zeros(reta_size)
        self._spare = np.zeros(reta_size)
        self._jumped = np.zeros(reta_size, dtype=bool)
        # The last deviation's squared norm, kept from the tick that made it.
        self._last_spread = 0.0
        self._covariance = 0.0
        self._spread = 0.0
        # ``persistence`` as an operand (``operand``).
        self._persistence = operand(self.persistence)
        self.seen = False

    def update(self, counts: np.ndarray, elapsed: float) -> None:
        # Every line below is one array operation: there are few buckets
        # and the calls, not the arithmetic, are what a tick pays for.
        level, variance = self.level, self.variance
        if not self.seen:
            np.divide(counts, elapsed, out=level)
            np.copyto(self.rate, level)
            np.divide(level, elapsed, out=variance)
            self.seen = True
            return
        # The ufuncs with their output as a positional argument: a keyword
        # ``out`` or an in-place operator costs a tenth of a call more.
        divide, subtract, multiply, add = np.divide, np.subtract, np.multiply, np.add
        self._tick ^= 1
        pair = self._pairs[self._tick]
        deviation, square = self._halves[self._tick]
        if elapsed != self._weighed:
            self._weigh(elapsed)
        observed = divide(counts, self._elapsed, self._observed)
        subtract(observed, level, deviation)
        learn = self._learn
        self._covariance += learn * (float(self._deviation.dot(deviation)) - self._covariance)
        self._spread += learn * (self._last_spread - self._spread)
        if self._spread > 0:
            self.persistence = min(max(self._covariance / self._spread, 0.0), 1.0)
            self._persistence[...] = self.persistence
        subtract(observed, self.rate, square)
        multiply(square, square, square)
        noise = divide(observed, self._elapsed, self._noise)
        add(noise, variance, noise)
        multiply(noise, self._jump_bound, noise)
        jumped = np.greater(square, noise, self._jumped)
        # 1 - weight, over the buckets.
        kept_share = self._kept_share
        # Whether any bucket jumped, read at the first True (``argmax``): less
        # than half the time of ``count_nonzero``, which adds a Python layer.
        if jumped.item(jumped.argmax()):
            # Jumped buckets take the observed rate as their level and keep
            # their variance; the others move as below, by weight x deviation.
            multiply(pair, self._weight, pair)
            add(level, deviation, level)
            np.putmask(level, jumped, observed)
            kept = add(variance, square, self._spare)
            multiply(kept, kept_share, kept)
            np.putmask(kept, jumped, variance)
            self.variance, self._spare = kept, variance
            subtract(observed, level, deviation)
        else:
            # The level moves by weight x deviation: what it leaves of the
            # deviation is the rest.
            multiply(pair, self._weights, pair)
            subtract(observed, deviation, level)
            add(variance, square, variance)
            multiply(variance, kept_share, variance)
        self._deviation = deviation
        self._last_spread = float(deviation.dot(deviation))
        rate = multiply(deviation, self._persistence, self.rate)
        add(rate, level, rate)

    def _weigh(self, elapsed: float) -> None:
        size = len(self._elapsed)
        weight = 1.0 - math.exp(-elapsed / self.horizon)
        self._elapsed.fill(elapsed)
        self._weights[:size] = 1 - weight
        self._weights[size:] = weight
        self._weight.fill(weight)
        self._learn = 1.0 - math.exp(-elapsed / self.persistence_horizon)
        self._weighed = elapsed


class ServedExcess:
    """How much more than the average each core has served lately, in load x seconds.

    Every tick adds each core's served load x elapsed minus the average
    over the cores in use, and the sum forgets with time constant
    ``horizon``. Divided by ``horizon`` it is the core's recent excess
    load: balancing the next ticks against it evens out the work each
    core does over a second, which is what per-second packet counts see,
    instead of only the next tick's prediction, whose errors would
    otherwise add up on the same cores. A core entering or leaving use
    starts afresh (``forget``), so only the cores in use are kept up.
    """

    def __init__(self, ncores: int, horizon: float) -> None:
        self.horizon = horizon
        self.excess = [0.0] * ncores

    def update(self, cores: Sequence[int], served: Sequence[float], elapsed: float) -> None:
        """``served``: load x seconds each of ``cores`` served during the last ``elapsed``."""
        if not len(served):
            return
        decay = math.exp(-elapsed / self.horizon)
        average = sum(served) / len(served)
        excess = self.excess
        for core, work in zip(cores, served):
            excess[core] = excess[core] * decay + (work - average)

    def forget(self, cores: Sequence[int]) -> None:
        """Cores leaving or entering use start with a clean slate."""
        for core in cores:
            self.excess[core] = 0.0

    def of(self, cores: Sequence[int]) -> list[float]:
        """Recent excess load of each named core (load units)."""
        return [self.excess[c] / self.horizon for c in cores]

    def added(self, cores: Sequence[int], loads: Sequence[float], weight: float) -> list[float]:
        """``loads`` (one per named core) plus ``weight`` x each core's recent excess
        load: ``of`` and the sum in one pass."""
        excess, horizon = self.excess, self.horizon
        return [load + weight * (excess[c] / horizon) for c, load in zip(cores, loads)]


class ServedExcessArray:
    """``ServedExcess`` in one array, updated by array operations (the same floats;
    ``cores`` arrays of core ids, ``served`` and ``loads`` arrays aligned with them)."""

    def __init__(self, ncores: int, horizon: float) -> None:
        self.horizon = horizon
        self.excess = np.zeros(ncores)
        # Numbers as operands (``operand``): the decay over the elapsed time
        # (made again when that changes), a tick's average, the horizon and
        # the weight ``added`` is given.
        self._decayed = math.nan
        self._decay, self._average = operand(math.nan), operand(math.nan)
        self._horizon, self._weight = operand(horizon), operand(math.nan)

    def update(self, cores: np.ndarray, served: np.ndarray, elapsed: float) -> None:
        if not len(served):
            return
        if elapsed != self._decayed:
            self._decay[...] = math.exp(-elapsed / self.horizon)
            self._decayed = elapsed
        # A running sum adds in order, as ``sum`` does (``np.sum`` adds pairwise).
        self._average[...] = np.add.accumulate(served).item(-1) / len(served)
        # (A gathered copy, written into.)
        excess = self.excess[cores]
        np.multiply(excess, self._decay, excess)
        np.add(excess, np.subtract(served, self._average), excess)
        self.excess[cores] = excess

    def forget(self, cores: Sequence[int]) -> None:
        self.excess[cores] = 0.0

    def of(self, cores: np.ndarray | Sequence[int]) -> np.ndarray:
        return self.excess[cores] / self.horizon

    def added(self, cores: np.ndarray, loads: np.ndarray, weight: float) -> np.ndarray:
        """As ``ServedExcess.added``: loads + weight x each core's recent excess load."""
        owed = self.excess[cores]
        np.divide(owed, self._horizon, owed)
        self._weight[...] = weight
        np.multiply(owed, self._weight, owed)
        np.add(owed, loads, owed)
        return owed
