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
    packets = np.bincount(where[where >= 0], weights=counts[where >= 0],
                          minlength=len(loads))
    with np.errstate(divide="ignore", invalid="ignore"):
        per_packet = np.where(packets > 0, loads / packets, 0.0)
    return np.where(where >= 0, counts * per_packet[np.maximum(where, 0)], 0.0)


class CoreCosts:
    """Smoothed load per packet/s of every core (busy fraction x seconds per packet).

    Learnt from cores below SATURATED_LOAD that received packets. A
    saturated core only says its cost is at least its load over its packets
    (it would have been busier had it been able to): that bound raises its
    estimate but never lowers it. A core with no estimate at all borrows the
    median of the others.
    """

    def __init__(self, ncores: int, horizon: float) -> None:
        self.horizon = horizon
        self.cost = np.full(ncores, np.nan)

    def update(self, cores: np.ndarray, loads: np.ndarray, packets: np.ndarray,
               elapsed: float) -> None:
        seen = packets > 0
        if not seen.any():
            return
        ids = cores[seen]
        observed = loads[seen] * elapsed / packets[seen]
        previous = self.cost[ids]
        weight = 1.0 - np.exp(-elapsed / self.horizon)
        smoothed = np.where(np.isnan(previous), observed,
                            previous + weight * (observed - previous))
        bounded = np.fmax(previous, observed)
        self.cost[ids] = np.where(loads[seen] < SATURATED_LOAD, smoothed, bounded)

    def of(self, cores: np.ndarray) -> np.ndarray:
        """Cost of each named core, filling unknown ones with the median known cost."""
        costs = self.cost[cores]
        unknown = np.isnan(costs)
        if unknown.any():
            known = self.cost[~np.isnan(self.cost)]
            costs[unknown] = float(np.median(known)) if known.size else 0.0
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
        self.level = np.zeros(reta_size)
        self.rate = np.zeros(reta_size)
        self.variance = np.zeros(reta_size)
        self.persistence = 0.5
        self._deviation: np.ndarray | None = None
        self._covariance = 0.0
        self._spread = 0.0
        self.seen = False

    def update(self, counts: np.ndarray, elapsed: float) -> None:
        observed = np.asarray(counts, dtype=np.float64) / elapsed
        if not self.seen:
            self.level = observed
            self.rate = observed.copy()
            self.variance = observed / elapsed
            self._deviation = np.zeros_like(observed)
            self.seen = True
            return
        deviation = observed - self.level
        learn = 1.0 - np.exp(-elapsed / self.persistence_horizon)
        self._covariance += learn * (float(self._deviation @ deviation) - self._covariance)
        self._spread += learn * (float(self._deviation @ self._deviation) - self._spread)
        if self._spread > 0:
            self.persistence = min(max(self._covariance / self._spread, 0.0), 1.0)
        error = observed - self.rate
        square = error * error
        noise = self.variance + observed / elapsed
        jumped = square > (self.jump_sigmas ** 2) * noise
        weight = 1.0 - np.exp(-elapsed / self.horizon)
        self.level = np.where(jumped, observed, self.level + weight * deviation)
        self.variance = np.where(jumped, self.variance,
                                 (1 - weight) * (self.variance + weight * square))
        self._deviation = observed - self.level
        self.rate = self.level + self.persistence * self._deviation


class ServedExcess:
    """How much more than the average each core has served lately, in load x seconds.

    Every tick adds each core's served load x elapsed minus the average
    over the cores in use, and the sum forgets with time constant
    ``horizon``. Divided by ``horizon`` it is the core's recent excess
    load: balancing the next ticks against it evens out the work each
    core does over a second, which is what per-second packet counts see,
    instead of only the next tick's prediction, whose errors would
    otherwise add up on the same cores.
    """

    def __init__(self, ncores: int, horizon: float) -> None:
        self.horizon = horizon
        self.excess = np.zeros(ncores)

    def update(self, cores: np.ndarray, served: np.ndarray, elapsed: float) -> None:
        """``served``: load x seconds each of ``cores`` served during the last ``elapsed``."""
        self.excess *= np.exp(-elapsed / self.horizon)
        self.excess[cores] += served - served.mean()

    def forget(self, cores: np.ndarray) -> None:
        """Cores leaving or entering use start with a clean slate."""
        self.excess[cores] = 0.0

    def of(self, cores: np.ndarray) -> np.ndarray:
        """Recent excess load of each named core (load units)."""
        return self.excess[cores] / self.horizon
