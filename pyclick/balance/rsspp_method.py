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

import math
from dataclasses import dataclass
from operator import mul
from time import perf_counter
from typing import ClassVar

import numpy as np

from pyclick.balance import autoscale
from pyclick.balance.estimate import (CoreCostArray, CoreCosts, PersistentRates, ServedExcess,
                                      ServedExcessArray, median, operand)
from pyclick.balance.method import DANCER_SHARE, Outcome
from pyclick.balance.move_price import MovePrice
from pyclick.balance.numa import socket_groups
from pyclick.balance.params import BalanceParams
from pyclick.balance.reference_greedy import RunStat
from pyclick.balance.solver import (Below, Busy, Relief, fixed_half_gain, no_gain,
                                    receivers_under, relieve_candidates,
                                    relieve_overloaded_per_core)
from pyclick.balance.state import BalancerState
from pyclick.balance.tables import Move
from pyclick.balance.tick import RESET_IMBALANCE

#: From this many cores (CPUS) on, the passes over every core of a tick are
#: array operations: a Python loop's cost grows with the cores, an array
#: call's hardly. Measured on whole decisions (bench/bench_array_cores.py,
#: five traffic families, 128 and 512 buckets): lists faster by 1-6% at 16
#: cores, even at 20; arrays faster by 3-6% at 24, 8-12% at 32.
ARRAY_CORES = 24


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

    Per-bucket quantities are arrays. Per-core ones are plain float lists
    below ``array_cores`` cores (CPUS), where a list costs less than an array
    call, and arrays from there on; both give the same floats.
    """

    name: ClassVar[str] = "rsspp"

    def __init__(self, params: BalanceParams, tuning: RssppTuning = RssppTuning(),
                 array_cores: int = ARRAY_CORES) -> None:
        self.params = params
        self.tuning = tuning
        self.rates = PersistentRates(params.reta_size, tuning.level_horizon,
                                     tuning.jump_sigmas, tuning.persistence_horizon)
        self.arrays = params.cpus >= array_cores
        if self.arrays:
            self.costs: CoreCosts | CoreCostArray = CoreCostArray(params.cpus,
                                                                  tuning.cost_horizon)
            self.excess: ServedExcess | ServedExcessArray = ServedExcessArray(
                params.cpus, tuning.excess_horizon)
        else:
            self.costs = CoreCosts(params.cpus, tuning.cost_horizon)
            self.excess = ServedExcess(params.cpus, tuning.excess_horizon)
        self.price = MovePrice(params.reta_size, params.move_cost)
        self._everyone: list[int] = []
        # Numbers given to array operations, as operands (``operand``): a
        # tick's cost per packet, average load and threshold.
        self._per_packet, self._average = operand(math.nan), operand(math.nan)
        self._threshold = operand(math.nan)
        # Whether the test of a giver that can give comes before the noise
        # shifts in ``_relieve``: it does after it last settled a tick.
        self._lone_first = False

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
        packets = np.bincount(where, weights=counts, minlength=len(active))
        if self.arrays:
            cores = state.active_index()
            self.costs.update(cores, loads, packets, elapsed)
            cost = self._cost(cores)
            self.excess.update(cores, packets * cost, elapsed)
        else:
            packets = packets.tolist()
            self.costs.update(active, loads.tolist(), packets, elapsed)
            cost = self._cost(active)
            self.excess.update(active, [k * c for k, c in zip(packets, cost)], elapsed)
        self.rates.update(counts, elapsed)
        self.price.observe(counts, elapsed)
        load = self._bucket_loads(where, cost, self._uniform)
        demand = np.bincount(where, weights=load, minlength=len(cost))
        if not self.arrays:
            demand = demand.tolist()
        numa = p.numa and p.sockets is not None

        if p.autoscale:
            # How many cores are needed is an absolute question: each core's own cost.
            needed = self._demand(where, self.costs.of(active))
            if autoscale.should_remove(np.asarray(needed), p.target_load):
                return self._remove_core(state, needed)
            if autoscale.should_add(np.asarray(needed), p.target_load) \
                    and state.add_core() is not None:
                self.excess.forget(state.active[-1:])
                if self.arrays:
                    demand = np.append(demand, 0.0)
                    cost = self._cost(state.active_index())
                else:
                    demand.append(0.0)
                    cost = self._cost(state.active)
                load = self._bucket_loads(where, cost, self._uniform)
                numa = False
        danced = False
        if p.dancer:
            # The dancers' moves go core by core: on floats, whatever the cores.
            shifted = demand.tolist() if self.arrays else demand
            danced = self._move_dancers(state, shifted, cost)
            demand = np.asarray(shifted, dtype=np.float64) if self.arrays else shifted
        if danced:
            where = state.bucket_positions()
        if numa:
            groups = socket_groups(state.active, demand, p.sockets, p.imbalance_threshold)
        else:
            # One group of every position, made again only when the cores change.
            if len(self._everyone) != len(state.active):
                self._everyone = list(range(len(state.active)))
            groups = [self._everyone]
        outcome = self._balance(state, demand, where, groups, cost, load)
        if danced:
            # The dancers changed the table before the search: compared whole.
            outcome.table_kept = False
            outcome.moved = None
        return outcome

    def _cost(self, cores: list[int] | np.ndarray) -> list[float] | np.ndarray:
        """Load per packet/s of each named core (an array with ``arrays``)."""
        cost = self.costs.of(cores)
        if self.tuning.per_core_costs or not len(cost):
            return cost
        # Cores of one machine cost the same per packet; per-core ratios of
        # load to arrivals are noisy (a queue draining after saturation
        # inflates them), and the median is robust to the few that are off.
        if self.arrays:
            cost.fill(median(cost))
            return cost
        return [median(cost)] * len(cost)

    @property
    def _uniform(self) -> bool:
        """Whether ``_cost`` gives every core the same cost."""
        return not self.tuning.per_core_costs

    def _bucket_loads(self, where: np.ndarray, cost: list[float] | np.ndarray,
                      uniform: bool = False) -> np.ndarray:
        """Predicted load of each bucket: its rate x its core's cost per packet
        (``uniform``: every core's cost is the same, no need to look)."""
        if uniform or min(cost) == max(cost):
            self._per_packet[...] = cost[0]
            return np.multiply(self.rates.rate, self._per_packet)
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
        alpha, threshold = p.imbalance_alpha, p.imbalance_threshold
        # What the search may read of every core, when array operations found it.
        below: Below | None = None
        giving: np.ndarray | None = None
        # A core that served more than its share lately is due less now.
        if self.arrays:
            owed = self.excess.added(state.active_index(), demand, t.excess_weight)
        else:
            owed = self.excess.added(active, demand, t.excess_weight)
        if self.arrays and len(groups) == 1:
            average, excess, givers, beyond, below, giving = self._array_deviations(
                owed, alpha, threshold, active, resting)
        else:
            average, excess = self._deviations(owed.tolist() if self.arrays else owed,
                                               groups, alpha)
            beyond = max(map(abs, excess)) > threshold
            givers = [k for k, e in enumerate(excess)
                      if e > threshold and active[k] not in resting]
        # Any core found beyond the threshold calls for the shortest tick.
        urgency = 2 * RESET_IMBALANCE if beyond else 0.0
        if not givers:
            residual = sum(map(abs, excess)) if below is None else below.magnitude()
            return Outcome(residual, core_loads=owed,
                           tick_imbalance=urgency, table_kept=True)
        least_gain = self.price.least_gain(average)
        # One cost for every core (the default): a number, not an array of it.
        per_packet = np.asarray(cost)[where] if t.per_core_costs else float(cost[0])
        began = perf_counter()
        moves: list[tuple[int, int]] = []
        # Whether the search chose moves (kept or not, they changed the excesses).
        searched = False
        for group in groups:
            if len(groups) > 1:
                members = set(group)
                relief = self._relieve(excess, [g for g in givers if g in members], group,
                                       where, cost, per_packet, load, least_gain)
            else:
                relief = self._relieve(excess, givers, group, where, cost, per_packet, load,
                                       least_gain, below, giving)
            if relief.moves:
                searched = True
                relief = self.price.hold(relief, active, where, self.rates, per_packet, group,
                                         alpha, least_gain)
            excess = relief.excess
            moves += relief.moves
        spent = perf_counter() - began
        moved: list[Move] = []
        if moves:
            # A bucket moves at most once a tick, always to another core: the
            # moves, in bucket order, are the table's changes.
            table = state.table
            moved = sorted([(bucket, table.item(bucket), active[receiver])
                            for bucket, receiver in moves])
            self.price.record([(bucket, old) for bucket, old, _ in moved])
            for bucket, _, core in moved:
                table[bucket] = core
                state.receivers.add(core)
        if searched or below is None:
            residual, squares = sum(map(abs, excess)), sum(map(mul, excess, excess))
        else:
            # No move chosen: the excesses are still those ``below`` holds.
            residual, squares = below.magnitude(), below.squares()
        runs = [RunStat(squares, spent)]
        return Outcome(residual, runs=runs, core_loads=owed,
                       tick_imbalance=urgency, table_kept=not moves, moved=moved)

    def _deviations(self, owed: list[float], groups: list[list[int]], alpha: float
                    ) -> tuple[float, list[float]]:
        """The average target and alpha x each core position's load above its target."""
        if len(groups) == 1:
            # One group: every core's target is the one average.
            average = sum(owed) / len(owed)
            return average, [alpha * (o - average) for o in owed]
        target = self._targets(owed, groups)
        return (sum(target) / len(target),
                [alpha * (o - a) for o, a in zip(owed, target)])

    def _array_deviations(self, owed: np.ndarray, alpha: float, threshold: float,
                          active: list[int], resting: set[int]
                          ) -> tuple[float, list[float], list[int], bool, Below,
                                     np.ndarray | None]:
        """``_deviations`` for one group, by array operations, with what the search
        reads of them: the average, the deviations, the givers (beyond
        ``threshold`` and not ``resting``), whether any core is beyond the
        threshold, ``Below`` and True at the givers' positions (when those are
        all the cores beyond the threshold).

        The same floats as the lists' passes: the average is a running sum,
        which adds in order as ``sum`` does. The extremes are read at
        ``argmin`` and ``argmax``, a fifth of the time of ``min`` and ``max``
        on a few dozen values.
        """
        average = np.add.accumulate(owed).item(-1) / len(owed)
        self._average[...] = average
        deviation = np.subtract(owed, self._average)
        if alpha != 1.0:
            # (x 1.0 changes no float: the default skips the call.)
            deviation = deviation * alpha
        lowest = deviation.item(deviation.argmin())
        highest = deviation.item(deviation.argmax())
        beyond = highest > threshold or -lowest > threshold
        below = Below(lowest, deviation)
        if not highest > threshold:
            return average, deviation.tolist(), [], beyond, below, None
        self._threshold[...] = threshold
        giving: np.ndarray | None = np.greater(deviation, self._threshold)
        givers = giving.nonzero()[0].tolist()
        if resting:
            kept = [k for k in givers if active[k] not in resting]
            if len(kept) < len(givers):
                giving = None
            givers = kept
        return average, deviation.tolist(), givers, beyond, below, giving

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
                 load: np.ndarray, min_gain: float, below: Below | None = None,
                 giving: np.ndarray | None = None) -> Relief:
        """``below`` and ``giving`` (True at the givers' positions): when the caller
        knows them already."""
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
        if not givers or no_gain(excess, givers, min_gain, below=below):
            return Relief([], excess)
        # Two tests may settle the tick before the search: the bound again,
        # with the noise shifts (which only lower the givers' excesses), and
        # whether any giver holds more than one busy bucket (a giver keeps
        # its last one: on traffic of lone elephants, each alone on its
        # core, none can give). Their outcome does not depend on their order,
        # their cost does: whichever of them last settled a tick goes first,
        # as traffic keeps its shape for a while (lone elephants live for
        # seconds, hundreds of ticks).
        busy: Busy | None = None
        if self._lone_first:
            busy = Busy.of(where, rates.rate, givers, len(excess), giving)
            if not busy.able:
                return Relief([], excess)
        shift = self.price.noise_shift(rates, where, per_packet, receivers, givers,
                                       len(excess))
        if no_gain(excess, givers, min_gain, shift, below):
            self._lone_first = False
            return Relief([], excess)
        if busy is None:
            busy = Busy.of(where, rates.rate, givers, len(excess), giving)
            if not busy.able:
                self._lone_first = True
                return Relief([], excess)
        candidates, source, held, able = busy.candidates, busy.source, busy.held, busy.able
        # Without the givers that hold a lone busy bucket the bound settles
        # most ticks on many cores that one heavy lone bucket kept from settling.
        if len(able) < len(givers) and no_gain(excess, able, min_gain, shift, below):
            return Relief([], excess)
        receiving = receivers_under(excess, receivers, below)
        if not receiving:
            return Relief([], excess)
        # One cost for every core: the loads already are rate x per_packet.
        weight = load[candidates]
        fixed = fixed_half_gain(weight, rates.variance[candidates],
                                t.risk_weight * per_packet * per_packet)
        return relieve_candidates(excess, givers, receiving, candidates, source, weight, fixed,
                                  shift, threshold, min_gain, held, able)

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
