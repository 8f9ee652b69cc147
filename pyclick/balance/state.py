"""The mutable state of one balancer, shared by the controller and its method."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pyclick.balance.params import BalanceParams
from pyclick.rss.indirection import even_table


@dataclass
class BalancerState:
    """Table, cores in use and the tick of one balancer.

    ``available`` is a stack: the next core to bring into use is the last
    one, and a removed core goes back on top (the reference's order: the
    lowest unused core first, the most recently removed again first).
    ``receivers`` are the cores that received buckets at the last decision;
    the balancing methods leave them alone for one tick.
    """

    params: BalanceParams
    table: np.ndarray
    active: list[int]
    available: list[int]
    tick: float
    receivers: set[int] = field(default_factory=set)
    _positions: np.ndarray | None = field(default=None, repr=False)
    _index: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def fresh(cls, params: BalanceParams) -> "BalancerState":
        start = params.initial_cpus
        active = list(range(start))
        available = list(range(params.cpus - 1, start - 1, -1))
        return cls(params, even_table(params.reta_size, active), active, available, params.timer)

    def add_core(self) -> int | None:
        """Bring the next available core into use; None when all are in use."""
        if not self.available:
            return None
        core = self.available.pop()
        self.active.append(core)
        self._positions = self._index = None
        return core

    def remove_core(self, core: int) -> None:
        """Take ``core`` out of use; its buckets must already be elsewhere."""
        if np.any(self.table == core):
            raise ValueError(f"core {core} still holds buckets")
        self.active.remove(core)
        self.available.append(core)
        self._positions = self._index = None

    def core_positions(self) -> np.ndarray:
        """Map core id -> position in ``active`` (-1 for cores not in use)."""
        if self._positions is None:
            size = max(self.params.cpus, max(self.active) + 1)
            self._positions = np.full(size, -1, dtype=np.int64)
            self._positions[self.active] = np.arange(len(self.active))
        return self._positions

    def active_index(self) -> np.ndarray:
        """``active`` as an array, to index per-core arrays with."""
        if self._index is None:
            self._index = np.array(self.active, dtype=np.int64)
        return self._index

    def bucket_positions(self) -> np.ndarray:
        """Position in ``active`` of the core serving each bucket."""
        return self.core_positions()[self.table]

    def resting_mask(self) -> np.ndarray:
        """True at the positions of cores that received buckets at the last decision."""
        return np.array([c in self.receivers for c in self.active], dtype=bool)
