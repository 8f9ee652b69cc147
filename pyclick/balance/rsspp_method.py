"""``rsspp`` (aliases ``pianorss``, ``rss++``): our RSS++ decision.

It keeps the reference's frame (autoscale, dancers, NUMA groups, buckets
leave only overloaded cores, a core that just received is left alone) and
differs in what it predicts, which buckets it moves and how it paces
itself:

- prediction: each bucket's next-tick packet rate is a slow level plus the
  share of its last deviation that persists (learnt from the traffic
  itself), times one cost per packet shared by the cores (the median of
  each core's, learnt while unsaturated: ``pyclick.balance.estimate``). The reference weighs buckets by last
  tick's counts alone, so it chases deviations that have already faded,
  and it cannot see demand beyond 100% on a saturated core;
- moves: for the most overloaded core, the (bucket, receiver) pair that
  best lowers the squared deviations from the average, net of a risk
  charge on buckets whose rate is hard to predict, and only when the gain
  is worth a migration (``pyclick.balance.solver``): the squared
  imbalance it removes until the next decision must outweigh a fixed
  price per move (``RssppTuning.move_cost``, cheaper on more cores and
  with smaller buckets). Gains are judged relative to the average load,
  like the imbalance itself, and the shorter the tick, the more a move
  must gain per tick;
- memory: a core that served more than the average over the last half
  second or so (``ServedExcess``) is treated as that much more loaded, so
  prediction errors do not pile up on the same cores: each core's work
  over a second, which per-second packet counts see, evens out, not only
  the next tick's prediction;
- pace: the tick returns to TIMER whenever some core was found beyond
  IMBALANCE_THRESHOLD and doubles (up to TIMER_MAX) only once every core
  is within it and nothing moved. Short ticks give fresh counts, and fresh
  counts are what make a move hit; the gain rule, not the tick, keeps the
  number of moves down;
- rest: a core that just received buckets gives none away at the next
  tick (so a bucket cannot bounce straight back) but may still receive:
  its prediction is made of per-bucket rates and does not depend on its
  own, still settling, load measurement.

IMBALANCE_ALPHA is the fraction of each core's deviation from the average
that a tick corrects, as in the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import thread_time
from typing import ClassVar

import numpy as np

from pyclick.balance import autoscale
from pyclick.balance.estimate import CoreCosts, PersistentRates, ServedExcess
from pyclick.balance.method import DANCER_SHARE, Outcome
from pyclick.balance.numa import socket_groups
from pyclick.balance.params import BalanceParams
from pyclick.balance.reference_greedy import RunStat
from pyclick.balance.solver import relieve_overloaded
from pyclick.balance.state import BalancerState
from pyclick.balance.tick import RESET_IMBALANCE


@dataclass(frozen=True)
class RssppTuning:
    """Constants of our method that the reference does not have.

    ``level_horizon``: time constant (s) of each bucket's rate level;
    ``persistence_horizon``: over how long (s) the persisting share of
    deviations is learnt; ``jump_sigmas``: how far beyond its expected
    error (in standard deviations) an observation resets the level;
    ``cost_horizon``: time constant (s) of the per-core packet cost;
    ``move_cost``: what a migration is worth, in seconds of a
    threshold-sized imbalance: a move must remove at least
    (IMBALANCE_THRESHOLD x average load)^2 x move_cost of squared imbalance
    x time before the next decision, which comes after TIMER whenever
    moves are considered, on ``price_cores`` cores and ``price_reta``
    buckets; ``price_power`` and ``reta_power``: how fast that price falls
    with more cores ((price_cores / cores) ** price_power, down to 3 x
    price_cores) and with more, smaller buckets ((price_reta / RETA_SIZE)
    ** reta_power); it never rises above ``move_cost``. More cores spread
    the same traffic over fewer buckets per core, so each core's per-second
    count wanders more and needs more corrections; smaller buckets gain
    less per move. The exponents are calibrated on bench_methods' traffic
    at 8 and 18 cores and RETA 128 and 512; ``risk_weight``: how much of a
    bucket's prediction variance is charged against moving it;
    ``excess_horizon``: time constant (s) over which each core's work above
    the average is remembered (``ServedExcess``); ``excess_weight``: how
    much of that recent excess load is added to the core's predicted load
    (0: balance the prediction alone); ``per_core_costs``: balance with each
    core's own learnt cost per packet instead of their median (for cores of
    unequal speed; autoscale always uses each core's own).
    """

    level_horizon: float = 1.0
    persistence_horizon: float = 1.0
    jump_sigmas: float = 4.0
    cost_horizon: float = 1.0
    move_cost: float = 2.0
    risk_weight: float = 1.0
    excess_horizon: float = 0.5
    excess_weight: float = 2.0
    per_core_costs: bool = False
    price_cores: int = 8
    price_power: float = 3.0
    price_reta: int = 128
    reta_power: float = 0.33


class Rsspp:
    """Our RSS++ method (see the module docstring)."""

    name: ClassVar[str] = "rsspp"

    def __init__(self, params: BalanceParams, tuning: RssppTuning = RssppTuning()) -> None:
        self.params = params
        self.tuning = tuning
        self.rates = PersistentRates(params.reta_size, tuning.level_horizon,
                                     tuning.jump_sigmas, tuning.persistence_horizon)
        self.costs = CoreCosts(params.cpus, tuning.cost_horizon)
        self.excess = ServedExcess(params.cpus, tuning.excess_horizon)

    def cores_added(self, state: BalancerState) -> None:
        """New cores start empty; the next tick fills them as underloaded cores."""
        self.excess.forget(np.asarray(state.active))

    def rebalance(self, state: BalancerState, loads: np.ndarray, counts: np.ndarray,
                  elapsed: float) -> Outcome:
        p = self.params
        where = state.bucket_positions()
        counts = np.asarray(counts, dtype=np.float64)
        cores = np.asarray(state.active)
        packets = np.bincount(where, weights=counts, minlength=len(cores))
        self.costs.update(cores, np.asarray(loads, dtype=np.float64), packets, elapsed)
        self.excess.update(cores, packets * self._cost(cores), elapsed)
        self.rates.update(counts, elapsed)
        demand = self._demand(state, where, self._cost(cores))
        numa = p.numa and p.sockets is not None

        if p.autoscale:
            # How many cores are needed is an absolute question: each core's own cost.
            needed = self._demand(state, where, self.costs.of(cores))
            if autoscale.should_remove(needed, p.target_load):
                return self._remove_core(state, needed)
            if autoscale.should_add(needed, p.target_load) and state.add_core() is not None:
                demand = np.append(demand, 0.0)
                self.excess.forget(np.asarray(state.active[-1:]))
                numa = False
        if p.dancer and self._move_dancers(state, demand):
            where = state.bucket_positions()
        groups = socket_groups(state.active, demand, p.sockets if numa else None,
                               p.imbalance_threshold)
        return self._balance(state, demand, where, groups)

    def _cost(self, cores: np.ndarray) -> np.ndarray:
        """Load per packet/s of each named core."""
        cost = self.costs.of(cores)
        if self.tuning.per_core_costs or not cost.size:
            return cost
        # Cores of one machine cost the same per packet; per-core ratios of
        # load to arrivals are noisy (a queue draining after saturation
        # inflates them), and the median is robust to the few that are off.
        return np.full_like(cost, np.median(cost))

    def _demand(self, state: BalancerState, where: np.ndarray, cost: np.ndarray) -> np.ndarray:
        return np.bincount(where, weights=self.rates.rate * cost[where],
                           minlength=len(state.active))

    def _balance(self, state: BalancerState, demand: np.ndarray, where: np.ndarray,
                 groups: list[np.ndarray]) -> Outcome:
        p, t = self.params, self.tuning
        cores = np.asarray(state.active)
        cost = self._cost(cores)
        resting = state.resting_mask()
        # A core that served more than its share lately is due less now.
        owed = demand + t.excess_weight * self.excess.of(cores)
        target = np.empty(len(demand))
        for group in groups:
            target[group] = owed[group].mean()
        load = target + p.imbalance_alpha * (owed - target)
        before = np.abs(load - target)
        overloaded = ~resting & (load - target > p.imbalance_threshold)
        risk = t.risk_weight * self.rates.variance * cost[where] ** 2
        min_gain = (p.imbalance_threshold * float(target.mean())) ** 2 * t.move_cost / p.timer \
            * self._price_scale(len(cores))
        began = thread_time()
        moves: list[tuple[int, int]] = []
        for group in groups:
            member = np.zeros(len(cores), dtype=bool)
            member[group] = True
            givers = (overloaded & member).nonzero()[0]
            if givers.size:
                relief = relieve_overloaded(load, target, where, self.rates.rate, risk, cost,
                                            givers, member, p.imbalance_threshold, min_gain)
                load = relief.demand
                moves += relief.moves
        spent = thread_time() - began
        state.receivers = set()
        for bucket, receiver in moves:
            state.table[bucket] = cores[receiver]
            state.receivers.add(int(cores[receiver]))
        after = np.abs(load - target)
        # Any core found beyond the threshold calls for the shortest tick.
        urgency = 2 * RESET_IMBALANCE if (before > p.imbalance_threshold).any() else 0.0
        runs = [RunStat(float(np.sum(after ** 2)), spent)] if overloaded.any() else []
        return Outcome(float(after.sum()), runs=runs, core_loads=owed,
                       tick_imbalance=urgency)

    def _price_scale(self, ncores: int) -> float:
        """How much cheaper a move is than ``move_cost`` on this many cores and buckets."""
        t = self.tuning
        # The price stops falling beyond 3 x price_cores: the search's time
        # grows with the moves it makes per tick.
        fewer_cores = min(1.0, t.price_cores / min(ncores, 3 * t.price_cores)) ** t.price_power
        smaller_buckets = min(1.0, t.price_reta / self.params.reta_size) ** t.reta_power
        return fewer_cores * smaller_buckets

    def _move_dancers(self, state: BalancerState, demand: np.ndarray) -> bool:
        """Move every bucket carrying over half a core off a core above target."""
        cores = np.asarray(state.active)
        where = state.bucket_positions()
        cost = self._cost(cores)
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
        self.excess.forget(np.asarray([core]))
        state.receivers = {int(c) for c in kept_cores[np.unique(receiver)]}
        residual = float(np.abs(remaining.mean() - remaining).sum())
        return Outcome(residual, core_loads=demand)
