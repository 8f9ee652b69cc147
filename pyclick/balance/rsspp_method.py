"""``rsspp`` (aliases ``pianorss``, ``rss++``): our RSS++ decision.

It follows the reference's structure (autoscale, dancers, a rest tick for
cores that just received, moves only out of overloaded cores) but differs
in what it predicts, which buckets it moves and how it paces itself:

- prediction: each bucket's smoothed packet rate (jumping at once to a new
  level when a change is far beyond noise) times the smoothed cost per
  packet of its core, learnt while that core was unsaturated. Unlike the
  reference's "share of last tick's load", this keeps seeing demand above
  100% on a saturated core and does not chase last tick's noise;
- moves: the best (bucket, receiver) pair for the most overloaded core,
  net of a risk charge on volatile buckets and only when worth a minimum
  gain (see ``pyclick.balance.solver``), which favours stable heavy
  buckets and spends no migration on noise;
- pace: the reference's tick rule, fed with the imbalance found at the
  start of the tick rather than the one expected after the moves, so the
  tick stays short while traffic keeps unbalancing the cores and grows
  only once they stay balanced.

IMBALANCE_ALPHA is the fraction of each core's deviation from the average
that a tick corrects, as in the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter
from typing import ClassVar

import numpy as np

from pyclick.balance import autoscale
from pyclick.balance.estimate import BucketRates, CoreCosts, PersistentRates
from pyclick.balance.method import Outcome
from pyclick.balance.params import BalanceParams
from pyclick.balance.reference_greedy import RunStat
from pyclick.balance.reference_method import DANCER_SHARE, socket_groups
from pyclick.balance.solver import relieve_overloaded
from pyclick.balance.state import BalancerState


@dataclass(frozen=True)
class RssppTuning:
    """Knobs of our method that the reference does not have.

    ``rate_horizon``/``cost_horizon``: time constants (seconds) of the rate
    and cost smoothing; ``jump_sigmas``: how far (in standard deviations) an
    observation must fall to replace the smoothed rate; ``min_gain``: the
    least drop of the squared-deviation objective, in units of
    IMBALANCE_THRESHOLD squared, that justifies a move; ``risk_weight``:
    how much of a bucket's load variance is charged against its move.
    """

    rate_horizon: float = 0.3
    cost_horizon: float = 1.0
    jump_sigmas: float = 4.0
    min_gain: float = 2.0
    risk_weight: float = 1.0
    tick_mode: str = "any"
    rest_mode: str = 'both'
    predictor: str = 'ewma'
    level_horizon: float = 1.0
    significance: float = 0.0
    relative: bool = False


class Rsspp:
    """Our RSS++ method (see the module docstring)."""

    name: ClassVar[str] = "rsspp"

    def __init__(self, params: BalanceParams, tuning: RssppTuning = RssppTuning()) -> None:
        self.params = params
        self.tuning = tuning
        if tuning.predictor == 'ar':
            self.rates = PersistentRates(params.reta_size, tuning.level_horizon, tuning.jump_sigmas)
        else:
            self.rates = BucketRates(params.reta_size, tuning.rate_horizon, tuning.jump_sigmas)
        self.costs = CoreCosts(params.cpus, tuning.cost_horizon)

    def cores_added(self, state: BalancerState) -> None:
        """New cores start empty; the next tick fills them as underloaded cores."""

    def rebalance(self, state: BalancerState, loads: np.ndarray, counts: np.ndarray,
                  elapsed: float) -> Outcome:
        p = self.params
        where = state.bucket_positions()
        counts = np.asarray(counts, dtype=np.float64)
        cores = np.asarray(state.active)
        packets = np.bincount(where, weights=counts, minlength=len(cores))
        self.costs.update(cores, np.asarray(loads, dtype=np.float64), packets, elapsed)
        self.rates.update(counts, elapsed)
        demand = self._demand(state, where)
        measured = demand.copy()
        numa = p.numa and p.sockets is not None

        if p.autoscale:
            if autoscale.should_remove(demand, p.target_load):
                return self._remove_core(state, demand)
            if autoscale.should_add(demand, p.target_load) and state.add_core() is not None:
                demand = np.append(demand, 0.0)
                numa = False
        if p.dancer and self._move_dancers(state, demand):
            where = state.bucket_positions()
        groups = socket_groups(state.active, demand, p.sockets if numa else None,
                               p.imbalance_threshold)
        return self._balance(state, demand, where, groups, measured)

    def _demand(self, state: BalancerState, where: np.ndarray) -> np.ndarray:
        cost = self.costs.of(np.asarray(state.active))
        return np.bincount(where, weights=self.rates.rate * cost[where],
                           minlength=len(state.active))

    def _balance(self, state: BalancerState, demand: np.ndarray, where: np.ndarray,
                 groups: list[np.ndarray], measured: np.ndarray) -> Outcome:
        p, t = self.params, self.tuning
        cores = np.asarray(state.active)
        cost = self.costs.of(cores)
        resting = state.resting_mask()
        target = np.empty(len(demand))
        for group in groups:
            target[group] = demand[group].mean()
        scaled = target + p.imbalance_alpha * (demand - target)
        spread = cost * np.sqrt(np.bincount(where, weights=self.rates.variance, minlength=len(cores)))
        trigger = p.imbalance_threshold + t.significance * spread
        givers = np.flatnonzero((~resting if t.rest_mode in ('both','give') else True) & (scaled - target > trigger))
        began = perf_counter()
        relief = relieve_overloaded(
            scaled, target, where, self.rates.rate,
            t.risk_weight * self.rates.variance * cost[where] ** 2, cost,
            givers, (~resting if t.rest_mode in ('both','receive') else np.ones(len(resting), bool)), p.imbalance_threshold,
            t.min_gain * p.imbalance_threshold ** 2 * ((float(target.mean()) / 0.75) ** 2 if t.relative else 1.0))
        spent = perf_counter() - began
        state.receivers = set()
        for bucket, receiver in relief.moves:
            state.table[bucket] = cores[receiver]
            state.receivers.add(int(cores[receiver]))
        after = np.abs(relief.demand - target)
        after[resting] = 0.0
        before = np.abs(scaled - target)
        before[resting] = 0.0
        if t.tick_mode == "pre":
            signal = float(before.sum())
        elif t.tick_mode == "any":
            signal = 1.0 if (before > p.imbalance_threshold).any() else 0.0
        elif t.tick_mode == "any2":
            signal = 1.0 if (before > 2 * p.imbalance_threshold).any() else 0.0
        else:
            signal = None
        return Outcome(float(after.sum()), runs=[RunStat(float(np.sum(after ** 2)), spent)],
                       core_loads=measured, tick_imbalance=signal)

    def _move_dancers(self, state: BalancerState, demand: np.ndarray) -> bool:
        """Move every bucket carrying over half a core off a core above target."""
        cores = np.asarray(state.active)
        where = state.bucket_positions()
        cost = self.costs.of(cores)
        weight = self.rates.rate * cost[where]
        held = np.bincount(where, weights=(self.rates.rate > 0).astype(np.float64),
                           minlength=len(cores))
        high = demand > self.params.target_load
        moved = False
        for bucket in np.flatnonzero(high[where] & (weight > DANCER_SHARE)):
            core = where[bucket]
            least = int(np.argmin(demand))
            if held[core] <= 1 or least == core:
                continue
            demand[core] -= weight[bucket]
            demand[least] += self.rates.rate[bucket] * cost[least]
            held[core] -= 1
            held[least] += 1
            state.table[bucket] = cores[least]
            moved = True
        return moved

    def _remove_core(self, state: BalancerState, demand: np.ndarray) -> Outcome:
        victim = int(np.argmin(demand))
        core = state.active[victim]
        cost = self.costs.of(np.asarray(state.active))
        leaving = np.flatnonzero(state.table == core)
        keep = [i for i in range(len(demand)) if i != victim]
        remaining = demand[keep]
        weight = self.rates.rate[leaving] * cost[victim]
        receiver = autoscale.spread_heaviest_first(weight, remaining)
        np.add.at(remaining, receiver, weight)
        kept_cores = np.asarray([state.active[i] for i in keep], dtype=np.int64)
        state.table[leaving] = kept_cores[receiver]
        state.remove_core(core)
        state.receivers = {int(c) for c in kept_cores[np.unique(receiver)]}
        residual = float(np.abs(remaining.mean() - remaining).sum())
        return Outcome(residual, core_loads=demand)
