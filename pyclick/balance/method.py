"""What a balancing method is: one decision per tick over a BalancerState."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Protocol, Sequence

import numpy as np

from pyclick.balance.params import BalanceParams
from pyclick.balance.reference_greedy import RunStat
from pyclick.balance.state import BalancerState
from pyclick.balance.tables import Move

#: DANCER: a bucket carrying more than this share of a core's load is moved
#: off a core above TARGET_LOAD.
DANCER_SHARE = 0.5


@dataclass(slots=True)
class Outcome:
    """What a method reports about its decision besides the new table.

    ``residual_imbalance`` is the sum over cores of |average - load| the
    method expects after its moves; ``tick_imbalance`` the imbalance the
    tick rule reacts to (None: the residual); ``adapt_tick`` False keeps
    the tick at TIMER (the static methods). ``core_loads`` are the per-core
    loads the method balanced (aligned with the active cores before the
    decision), as an array or a list of floats. ``table_kept`` True says
    the method wrote nothing into the table (the controller then looks for
    no changed bucket); False, that it may have. ``moved``: every change
    the method made to the table, as (bucket, old core, new core) in
    bucket order, when it knows them (the controller then compares no
    tables); None when it does not.
    """

    residual_imbalance: float = 0.0
    runs: list[RunStat] = field(default_factory=list)
    adapt_tick: bool = True
    core_loads: Sequence[float] | None = None
    tick_imbalance: float | None = None
    table_kept: bool = False
    moved: list[Move] | None = None


class Method(Protocol):
    """A balancing method: mutates ``state.table``/``state.active``/``state.receivers``."""

    name: ClassVar[str]

    def __init__(self, params: BalanceParams) -> None: ...

    def rebalance(self, state: BalancerState, loads: np.ndarray, counts: np.ndarray,
                  elapsed: float) -> Outcome:
        """Decide this tick. ``loads`` are aligned with ``state.active``."""

    def cores_added(self, state: BalancerState) -> None:
        """React to cores brought into use from outside (the ``cpus`` handler)."""


def spread_imbalance(loads: np.ndarray) -> float:
    """Sum over cores of |average - load|: the reference's total imbalance."""
    return float(np.abs(loads.mean() - loads).sum()) if loads.size else 0.0
