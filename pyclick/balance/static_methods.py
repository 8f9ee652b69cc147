"""The two static baselines: plain RSS and round-robin RSS."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from pyclick.balance.method import Outcome, spread_imbalance
from pyclick.balance.params import BalanceParams
from pyclick.balance.state import BalancerState
from pyclick.balance.tables import rotate_table
from pyclick.rss.indirection import even_table


class StaticRss:
    """``rss``: the even table of a NIC's default RSS, never changed by load."""

    name: ClassVar[str] = "rss"

    def __init__(self, params: BalanceParams) -> None:
        self.params = params

    def rebalance(self, state: BalancerState, loads: np.ndarray, counts: np.ndarray,
                  elapsed: float) -> Outcome:
        return Outcome(spread_imbalance(loads), adapt_tick=False, core_loads=loads)

    def cores_added(self, state: BalancerState) -> None:
        state.table = even_table(len(state.table), state.active)


class RoundRobinRss(StaticRss):
    """``rssrr``: every entry moves to the next core at every tick."""

    name: ClassVar[str] = "rssrr"

    def rebalance(self, state: BalancerState, loads: np.ndarray, counts: np.ndarray,
                  elapsed: float) -> Outcome:
        state.table = rotate_table(state.table, state.active)
        return Outcome(spread_imbalance(loads), adapt_tick=False, core_loads=loads)
