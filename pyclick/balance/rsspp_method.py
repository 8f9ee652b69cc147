"""``rsspp`` (aliases ``pianorss``, ``rss++``): our RSS++ decision.

It keeps the reference's frame (autoscale, dancers, NUMA groups, buckets
leave only overloaded cores, a core that just received is left alone) and
differs in what it predicts, which buckets it moves and how it paces
itself:

- prediction: each bucket's next-tick packet rate is a slow level plus the
  share of its last deviation that persists (learnt from the traffic
  itself), times one cost per packet shared by the cores (the median of
  each core's, learnt while unsaturated: ``pyclick.balance.estimate``).
  The reference weighs buckets by last tick's counts alone, so it chases
  deviations that have already faded, and it cannot see demand beyond
  100% on a saturated core;
- moves: for the most overloaded core, the (bucket, receiver) pair that
  best lowers the squared deviations from the average, net of a risk
  charge on buckets whose rate is hard to predict, and only when the gain
  is worth a migration (``pyclick.balance.solver``): the squared
  imbalance it removes, over the time the traffic's imbalances are
  measured to last, must outweigh MOVE_COST (``BalanceParams.move_cost``)
  by more than the noise of the predictions, and a bucket goes back to the
  core it just left only for a gain that persists
  (``pyclick.balance.move_price``);
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
from operator import mul
from time import perf_counter
from typing import ClassVar

import numpy as np

from pyclick.balance import autoscale
from pyclick.balance.estimate import CoreCosts, PersistentRates, ServedExcess, median
from pyclick.balance.method import DANCER_SHARE, Outcome
from pyclick.balance.move_price import MovePrice
from pyclick.balance.numa import socket_groups
from pyclick.balance.params import BalanceParams
from pyclick.balance.reference_greedy import RunStat
from pyclick.balance.solver import (Relief, busy_buckets, fixed_half_gain, no_gain,
                                    receivers_below, relieve_candidates,
                                    relieve_overloaded_per_core)
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
    ``risk_weight``: how much of a
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
    risk_weight: float = 1.0
    excess_horizon: float = 0.5
    excess_weight: float = 2.0
    per_core_costs: bool = False


class Rsspp:
    """Our RSS++ method (see the module docstring).

    Per-core quantities are plain float lists (a machine has few cores and a
    list costs less than an array call there); per-bucket ones are arrays.
    """

    name: ClassVar[str] = "rsspp"

    def __init__(self, params: BalanceParams, tuning: RssppTuning = RssppTuning()) -> None:
        self.params = params
        self.tuning = tuning
        self.rates = PersistentRates(params.reta_size, tuning.level_horizon,
                                     tuning.jump_sigmas, tuning.persistence_horizon)
        self.costs = CoreCosts(params.cpus, tuning.cost_horizon)
        self.excess = ServedExcess(params.cpus, tuning.excess_horizon)
        self.price = MovePrice(params.reta_size, params.move_cost)

    def cores_added(self, state: BalancerState) -> None:
        """New cores start empty; the next tick fills them as underloaded cores."""
        self.excess.forget(state.active)

    def rebalance(self, state: BalancerState, loads: np.ndarray, counts: np.ndarray,
                  elapsed: float) -> Outcome:
        p = self.params
        active = state.active
        where = state.bucket_positions()
        # Converted once: the estimates below would each convert integer counts again.
        counts = np.asarray(counts, dtype=np.float64)
        packets = np.bincount(where, weights=counts, minlength=len(active)).tolist()
        self.costs.update(active, loads.tolist(), packets, elapsed)
        cost = self._cost(active)
        self.excess.update(active, [k * c for k, c in zip(packets, cost)], elapsed)
        self.rates.update(counts, elapsed)
        self.price.observe(counts, elapsed)
        load = self._bucket_loads(where, cost)
        demand = np.bincount(where, weights=load, minlength=len(cost)).tolist()
        numa = p.numa and p.sockets is not None

        if p.autoscale:
            # How many cores are needed is an absolute question: each core's own cost.
            needed = self._demand(where, self.costs.of(active))
            if autoscale.should_remove(np.asarray(needed), p.target_load):
                return self._remove_core(state, needed)
            if autoscale.should_add(np.asarray(needed), p.target_load) \
                    and state.add_core() is not None:
                demand.append(0.0)
                self.excess.forget(state.active[-1:])
                cost = self._cost(state.active)
                load = self._bucket_loads(where, cost)
                numa = False
        danced = p.dancer and self._move_dancers(state, demand, cost)
        if danced:
            where = state.bucket_positions()
        groups = socket_groups(state.active, demand, p.sockets if numa else None,
                               p.imbalance_threshold)
        outcome = self._balance(state, demand, where, groups, cost, load)
        outcome.table_kept = outcome.table_kept and not danced
        return outcome

    def _cost(self, cores: list[int]) -> list[float]:
        """Load per packet/s of each named core."""
        cost = self.costs.of(cores)
        if self.tuning.per_core_costs or not cost:
            return cost
        # Cores of one machine cost the same per packet; per-core ratios of
        # load to arrivals are noisy (a queue draining after saturation
        # inflates them), and the median is robust to the few that are off.
        return [median(cost)] * len(cost)

    def _bucket_loads(self, where: np.ndarray, cost: list[float]) -> np.ndarray:
        """Predicted load of each bucket: its rate x its core's cost per packet."""
        if min(cost) == max(cost):
            return self.rates.rate * cost[0]
        return self.rates.rate * np.asarray(cost)[where]

    def _demand(self, where: np.ndarray, cost: list[float]) -> list[float]:
        """Predicted load of each core position: its buckets' rates x its cost per packet."""
        return np.bincount(where, weights=self._bucket_loads(where, cost),
                           minlength=len(cost)).tolist()

    def _balance(self, state: BalancerState, demand: list[float], where: np.ndarray,
                 groups: list[list[int]], cost: list[float], load: np.ndarray) -> Outcome:
        """``load`` is each bucket's predicted load (``_bucket_loads``) at ``cost``."""
        p, t = self.params, self.tuning
        active = state.active
        resting = state.receivers
        state.receivers = set()
        # A core that served more than its share lately is due less now.
        owed = self.excess.added(active, demand, t.excess_weight)
        alpha, threshold = p.imbalance_alpha, p.imbalance_threshold
        if len(groups) == 1:
            # One group: every core's target is the one average.
            average = sum(owed) / len(owed)
            excess = [alpha * (o - average) for o in owed]
        else:
            target = self._targets(owed, groups)
            average = sum(target) / len(target)
            excess = [alpha * (o - a) for o, a in zip(owed, target)]
        # Any core found beyond the threshold calls for the shortest tick.
        urgency = 2 * RESET_IMBALANCE if max(map(abs, excess)) > threshold else 0.0
        givers = [k for k, e in enumerate(excess) if e > threshold and active[k] not in resting]
        if not givers:
            return Outcome(sum(map(abs, excess)), core_loads=owed,
                           tick_imbalance=urgency, table_kept=True)
        least_gain = self.price.least_gain(average)
        # One cost for every core (the default): a number, not an array of it.
        per_packet = np.asarray(cost)[where] if t.per_core_costs else cost[0]
        began = perf_counter()
        moves: list[tuple[int, int]] = []
        for group in groups:
            if len(groups) > 1:
                members = set(group)
                relief = self._relieve(excess, [g for g in givers if g in members], group,
                                       where, cost, per_packet, load, least_gain)
            else:
                relief = self._relieve(excess, givers, group, where, cost, per_packet, load,
                                       least_gain)
            if relief.moves:
                relief = self.price.hold(relief, active, where, self.rates, per_packet, group,
                                         alpha, least_gain)
            excess = relief.excess
            moves += relief.moves
        spent = perf_counter() - began
        if moves:
            table = state.table
            self.price.record([(bucket, int(table[bucket])) for bucket, _ in moves])
            for bucket, receiver in moves:
                table[bucket] = active[receiver]
                state.receivers.add(active[receiver])
        runs = [RunStat(sum(map(mul, excess, excess)), spent)]
        return Outcome(sum(map(abs, excess)), runs=runs, core_loads=owed,
                       tick_imbalance=urgency, table_kept=not moves)

    @staticmethod
    def _targets(owed: list[float], groups: list[list[int]]) -> list[float]:
        """Each core position's target: the average of its group (several groups)."""
        target = [0.0] * len(owed)
        for group in groups:
            average = sum([owed[k] for k in group]) / len(group)
            for k in group:
                target[k] = average
        return target

    def _relieve(self, excess: list[float], givers: list[int], receivers: list[int],
                 where: np.ndarray, cost: list[float], per_packet: np.ndarray | float,
                 load: np.ndarray, min_gain: float) -> Relief:
        t, threshold = self.tuning, self.params.imbalance_threshold
        rates = self.rates
        if t.per_core_costs:
            # The solver charges variance x risk_weight x cost^2 per bucket; the
            # noise charge enters in those units, risk_weight folded in.
            charges = self.price.noise_charges(rates, where, per_packet, receivers, len(excess))
            risk = t.risk_weight * rates.variance
            risk += np.divide(charges, per_packet * per_packet, out=np.zeros_like(charges),
                              where=per_packet > 0)
            return relieve_overloaded_per_core(excess, givers, receivers, where, rates.rate,
                                               risk, cost, 1.0, threshold, min_gain)
        # The noise shifts only lower the givers' excesses: a tick the bound
        # settles without them needs no per-core variances.
        if not givers or no_gain(excess, givers, min_gain):
            return Relief([], excess)
        shift = self.price.noise_shift(rates, where, per_packet, receivers, givers,
                                       len(excess))
        below = receivers_below(excess, givers, receivers, min_gain, shift)
        if not below:
            return Relief([], excess)
        # Only the givers' busy buckets can move.
        candidates, source = busy_buckets(where, rates.rate, givers, len(excess))
        if not candidates.size:
            return Relief([], excess)
        # One cost for every core: the loads already are rate x per_packet.
        weight = load[candidates]
        fixed = fixed_half_gain(weight, rates.variance[candidates],
                                t.risk_weight * per_packet * per_packet)
        return relieve_candidates(excess, givers, below, candidates, source, weight, fixed,
                                  shift, threshold, min_gain)

    def _move_dancers(self, state: BalancerState, demand: list[float], cost: list[float]) -> bool:
        """Move every bucket carrying over half a core off a core above target."""
        active = state.active
        where = state.bucket_positions()
        rate = self.rates.rate
        weight = rate * np.asarray(cost)[where]
        held = np.bincount(where, weights=(rate > 0).astype(np.float64),
                           minlength=len(active)).tolist()
        high = np.asarray(demand) > self.params.target_load
        moved = False
        for bucket in np.flatnonzero(high[where] & (weight > DANCER_SHARE)).tolist():
            core = int(where[bucket])
            least = min(range(len(demand)), key=demand.__getitem__)
            if held[core] <= 1 or least == core:
                continue
            demand[core] -= float(weight[bucket])
            demand[least] += float(rate[bucket]) * cost[least]
            held[core] -= 1
            held[least] += 1
            state.table[bucket] = active[least]
            moved = True
        return moved

    def _remove_core(self, state: BalancerState, demand: list[float]) -> Outcome:
        victim = min(range(len(demand)), key=demand.__getitem__)
        core = state.active[victim]
        cost = self.costs.of(state.active)
        leaving = np.flatnonzero(state.table == core)
        keep = [i for i in range(len(demand)) if i != victim]
        remaining = np.array([demand[i] for i in keep])
        weight = self.rates.rate[leaving] * cost[victim]
        receiver = autoscale.spread_heaviest_first(weight, remaining)
        np.add.at(remaining, receiver, weight)
        kept_cores = np.asarray([state.active[i] for i in keep], dtype=np.int64)
        state.table[leaving] = kept_cores[receiver]
        state.remove_core(core)
        self.excess.forget([core])
        state.receivers = {int(c) for c in kept_cores[np.unique(receiver)]}
        residual = float(np.abs(remaining.mean() - remaining).sum())
        return Outcome(residual, core_loads=np.asarray(demand))
