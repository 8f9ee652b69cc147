"""``rsspp-ref``: the reference RSS++ decision, kept as the baseline to beat.

Per tick, as the reference does it:
1. each core's imbalance is (average load - its load) x IMBALANCE_ALPHA
   (positive: room to take); with NUMA the average is the socket's, unless
   some socket's average is more than 2 x IMBALANCE_THRESHOLD away from the
   machine's, in which case the whole machine is one group;
2. with AUTOSCALE, the autoscale rules may remove the least loaded core
   (its buckets are spread heaviest first, and nothing else happens this
   tick) or add one (it starts empty and takes buckets in this very tick);
3. with DANCER, on cores above TARGET_LOAD holding several buckets, a
   bucket carrying over half a core moves to the least loaded core;
4. a core that received buckets at the last tick sits this tick out;
5. underloaded cores (imbalance above IMBALANCE_THRESHOLD) may receive,
   overloaded ones (below -IMBALANCE_THRESHOLD, with more than one busy
   bucket) give their busy buckets, weighed by their share of the core's
   load in the last tick; the reference greedy chooses the moves;
6. the tick follows the reference rule on the residual imbalance.

The greedy's overshoot search applies its last run, as the reference's
code does (``pyclick.balance.reference_greedy``), even where an earlier run
left less imbalance: this is the baseline as it runs, not as it was meant.
Two departures remain, where the original's code and its documented intent
differ and the intent is followed: a removed core's buckets go to the least
loaded cores (not merely to the least served so far), and moves made by
DANCER are announced like every other move.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from pyclick.balance import autoscale
from pyclick.balance.estimate import share_of_core_load
from pyclick.balance.method import DANCER_SHARE, Outcome
from pyclick.balance.numa import socket_groups
from pyclick.balance.params import BalanceParams
from pyclick.balance.reference_greedy import RunStat, reference_greedy
from pyclick.balance.state import BalancerState
from pyclick.rss.indirection import even_table


class RssppReference:
    """The reference RSS++ method (see the module docstring)."""

    name: ClassVar[str] = "rsspp-ref"

    def __init__(self, params: BalanceParams) -> None:
        self.params = params

    def cores_added(self, state: BalancerState) -> None:
        state.table = even_table(len(state.table), state.active)

    def rebalance(self, state: BalancerState, loads: np.ndarray, counts: np.ndarray,
                  elapsed: float) -> Outcome:
        p = self.params
        load = np.asarray(loads, dtype=np.float64).copy()
        counts = np.asarray(counts, dtype=np.float64)
        numa = p.numa and p.sockets is not None

        if p.autoscale:
            if autoscale.should_remove(load, p.target_load):
                return self._remove_core(state, load, counts)
            if autoscale.should_add(load, p.target_load) and state.add_core() is not None:
                load = np.append(load, 0.0)
                numa = False

        positions = state.core_positions()
        where = positions[state.table]
        if p.dancer:
            self._move_dancers(state, load, counts, where)

        busy = np.bincount(where, weights=(counts > 0).astype(np.float64), minlength=len(load))
        groups = socket_groups(state.active, load, p.sockets if numa else None,
                               p.imbalance_threshold)
        imbalance = np.zeros(len(load))
        for group in groups:
            members = load[group]
            imbalance[group] = (members.mean() - members) * p.imbalance_alpha
        resting = state.resting_mask()
        imbalance[resting] = 0.0
        state.receivers = set()

        bucket_load = share_of_core_load(state.table, counts, positions, load)
        runs: list[RunStat] = []
        for group in groups:
            runs += self._balance_group(state, group, imbalance, busy, resting,
                                        bucket_load, where, counts)
        return Outcome(float(np.abs(imbalance).sum()), runs, core_loads=load)

    def _balance_group(self, state: BalancerState, group: list[int],
                       imbalance: np.ndarray, busy: np.ndarray, resting: np.ndarray,
                       bucket_load: np.ndarray, where: np.ndarray,
                       counts: np.ndarray) -> list[RunStat]:
        threshold = self.params.imbalance_threshold
        members = np.asarray(group, dtype=np.int64)
        live = members[~resting[members]]
        under = live[imbalance[live] > threshold]
        over = live[(imbalance[live] < -threshold) & (busy[live] > 1)]
        if not len(under) or not len(over):
            return []
        over_slot = np.full(len(imbalance), -1)
        over_slot[over] = np.arange(len(over))
        candidates = np.flatnonzero((counts > 0) & (over_slot[where] >= 0))
        if not len(candidates):
            return []
        result = reference_greedy(bucket_load[candidates], over_slot[where[candidates]],
                                  -imbalance[over], imbalance[under])
        moved = result.transfer >= 0
        buckets = candidates[moved]
        receivers = under[result.transfer[moved]]
        weights = bucket_load[buckets]
        for source, receiver, weight in zip(where[buckets].tolist(), receivers.tolist(),
                                            weights.tolist()):
            imbalance[source] += weight
            imbalance[receiver] -= weight
        cores = np.asarray(state.active, dtype=np.int64)[receivers]
        state.table[buckets] = cores
        state.receivers.update(cores.tolist())
        return result.runs

    def _move_dancers(self, state: BalancerState, load: np.ndarray, counts: np.ndarray,
                      where: np.ndarray) -> None:
        packets = np.bincount(where, weights=counts, minlength=len(load))
        nbuckets = np.bincount(where, minlength=len(load))
        high = load > self.params.target_load
        for bucket in range(len(state.table)):
            core = where[bucket]
            if not high[core] or packets[core] == 0 or nbuckets[core] <= 1:
                continue
            share = counts[bucket] / packets[core] * load[core]
            if share <= DANCER_SHARE:
                continue
            least = int(np.argmin(load))
            if least == core:
                continue
            load[least] += share
            load[core] -= share
            packets[least] += counts[bucket]
            packets[core] -= counts[bucket]
            nbuckets[least] += 1
            nbuckets[core] -= 1
            where[bucket] = least
            state.table[bucket] = state.active[least]

    def _remove_core(self, state: BalancerState, load: np.ndarray,
                     counts: np.ndarray) -> Outcome:
        victim = int(np.argmin(load))
        core = state.active[victim]
        positions = state.core_positions()
        bucket_load = share_of_core_load(state.table, counts, positions, load)
        leaving = np.flatnonzero(state.table == core)
        keep = [i for i in range(len(load)) if i != victim]
        remaining = load[keep]
        receiver = autoscale.spread_heaviest_first(bucket_load[leaving], remaining)
        np.add.at(remaining, receiver, bucket_load[leaving])
        kept_cores = [state.active[i] for i in keep]
        state.table[leaving] = np.asarray(kept_cores, dtype=np.int64)[receiver]
        state.remove_core(core)
        state.receivers = set()
        residual = float(np.abs(remaining.mean() - remaining).sum())
        return Outcome(residual, core_loads=load)
