"""The state and decision loop of one balancer, free of any router.

``Controller.step(loads, counts)`` is one tick: the method decides, its
moves (as it names them, or the table's diff) become the move list, the
tick adapts. DeviceBalancer, the
benchmarks and the tests all drive this same object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from time import perf_counter
from typing import Sequence

import numpy as np

from pyclick.balance.method import Method
from pyclick.balance.methods import canonical_name, method_class
from pyclick.balance.params import BalanceParams
from pyclick.balance.reference_greedy import RunStat
from pyclick.balance.state import BalancerState
from pyclick.balance.tables import Move, table_moves
from pyclick.balance.tick import next_tick

#: TARGET balance: below this average load the cores are reported half busy.
BALANCE_IDLE = 0.1


@dataclass(slots=True)
class Decision:
    """What one tick decided.

    ``table`` is the new table (a copy); ``moves`` every changed bucket as
    (bucket, old_core, new_core) in bucket order; ``next_tick`` seconds to
    wait; ``imbalance`` the residual imbalance the method expects (sum over
    cores of |average - load|); ``solver_time`` the seconds the decision took
    on the monotonic clock (a thread's CPU clock is a system call, which
    would cost a few percent of a small decision);
    ``runs`` the solver's runs; ``loads`` the per-core loads the method
    balanced for ``cores`` (the cores in use when the tick began; an array
    or a list of floats);
    ``active`` the cores in use after it, ``added``/``removed`` the change;
    ``counts`` the packets per bucket the tick was decided on and
    ``elapsed`` the seconds they cover.
    """

    table: np.ndarray
    moves: list[Move]
    next_tick: float
    imbalance: float
    solver_time: float
    runs: list[RunStat] = field(default_factory=list)
    loads: Sequence[float] = field(default_factory=list)
    cores: list[int] = field(default_factory=list)
    active: list[int] = field(default_factory=list)
    added: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    elapsed: float = 0.0


def balance_target_loads(loads: np.ndarray, max_cpus: int) -> np.ndarray:
    """TARGET balance: loads relative to the average over all usable cores.

    A core at the average reads 0.5, at twice the average 1 (clamped to
    [0, 1]); when the average is below 10% every core reads 0.5.
    """
    average = float(np.sum(loads)) / max_cpus
    if average < BALANCE_IDLE:
        return np.full(len(loads), 0.5)
    return np.clip(loads / average / 2, 0.0, 1.0)


class Controller:
    """One balancer: its table, cores in use, tick and method."""

    def __init__(self, params: BalanceParams, method: Method | None = None) -> None:
        problems = params.problems()
        if problems:
            raise ValueError("; ".join(f"{k}: {m}" for k, m in problems))
        self.method_name = canonical_name(params.method)
        self.params = params
        self.method = method or method_class(self.method_name)(params)
        self.state = BalancerState.fresh(params)

    @property
    def table(self) -> np.ndarray:
        return self.state.table

    @property
    def active(self) -> list[int]:
        return list(self.state.active)

    @property
    def tick(self) -> float:
        return self.state.tick

    def step(self, loads: np.ndarray, counts: np.ndarray,
             elapsed: float | None = None) -> Decision:
        """Decide one tick from per-core loads (aligned with ``active``) and bucket counts.

        ``elapsed`` is the time the counts cover (default: the current tick).
        """
        state = self.state
        loads = np.asarray(loads, dtype=np.float64)
        counts = np.asarray(counts)
        if loads.shape != (len(state.active),):
            raise ValueError(f"expected {len(state.active)} loads (one per core in use), "
                             f"got {loads.shape}")
        if counts.shape != (len(state.table),):
            raise ValueError(f"expected {len(state.table)} bucket counts, got {counts.shape}")
        if self.params.target == "balance":
            loads = balance_target_loads(loads, self.params.cpus)
        before_table = state.table.copy()
        before_cores = list(state.active)
        began = perf_counter()
        if elapsed is None:
            elapsed = state.tick
        outcome = self.method.rebalance(state, loads, counts, elapsed)
        spent = perf_counter() - began
        if outcome.moved is not None:
            moves = outcome.moved
        elif outcome.table_kept:
            moves = []
        else:
            # One comparison finds the changes (``nonzero`` on the flat mask:
            # ``np.flatnonzero`` adds a reshape and a Python call).
            changed = (before_table != state.table).nonzero()[0]
            moves = table_moves(before_table, state.table, changed) if changed.size else []
        if outcome.adapt_tick:
            signal = outcome.residual_imbalance if outcome.tick_imbalance is None \
                else outcome.tick_imbalance
            state.tick = next_tick(state.tick, signal, bool(moves),
                                   self.params.timer, self.params.longest_tick)
        return Decision(
            # Unchanged, the table is the copy taken before: no second one.
            table=state.table.copy() if moves else before_table, moves=moves,
            next_tick=state.tick,
            imbalance=outcome.residual_imbalance, solver_time=spent, runs=outcome.runs,
            loads=loads if outcome.core_loads is None else outcome.core_loads,
            cores=before_cores, active=list(state.active),
            added=_missing(state.active, before_cores),
            removed=_missing(before_cores, state.active), counts=counts, elapsed=elapsed)

    def set_cpus(self, count: int) -> Decision:
        """Bring cores into use until ``count`` are (the ``cpus`` handler)."""
        state = self.state
        if count < len(state.active):
            raise ValueError(f"cannot go down from {len(state.active)} to {count} cores "
                             "by hand; AUTOSCALE removes cores")
        if count > self.params.cpus:
            raise ValueError(f"{count} cores asked, CPUS allows {self.params.cpus}")
        before_table = state.table.copy()
        before_cores = list(state.active)
        while len(state.active) < count:
            state.add_core()
        if len(state.active) != len(before_cores):
            self.method.cores_added(state)
            state.tick = self.params.timer
        return Decision(
            table=state.table.copy(), moves=table_moves(before_table, state.table),
            next_tick=state.tick, imbalance=0.0, solver_time=0.0, cores=before_cores,
            active=list(state.active), added=_missing(state.active, before_cores))


def _missing(cores: list[int], reference: list[int]) -> list[int]:
    """The cores of ``cores`` absent from ``reference``, in order."""
    if cores == reference:
        return []
    known = set(reference)
    return [c for c in cores if c not in known]
