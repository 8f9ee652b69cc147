"""Autoscale and tick adaptation, as rules and through the Controller."""

from __future__ import annotations

import numpy as np
import pytest

from pyclick.balance import BalanceParams, Controller
from pyclick.balance import autoscale
from pyclick.balance.params import BalanceParams as Params
from pyclick.balance.tick import next_tick


class Machine:
    """Cores of 1 Mpps each serving seeded bucket rates; the offered load can change."""

    def __init__(self, reta: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.share = self.rng.pareto(3.0, reta) + 1.0
        self.share /= self.share.sum()
        self.capacity = 1e6

    def tick(self, controller: Controller, cores_of_load: float, dt: float = 0.01):
        counts = self.rng.poisson(self.share * cores_of_load * self.capacity * dt)
        per_core = np.bincount(controller.table, weights=counts,
                               minlength=controller.params.cpus)
        loads = np.minimum(per_core[controller.active] / (self.capacity * dt), 1.0)
        return loads, counts


def run_phases(method: str, phases: list[tuple[int, float]], start: int) -> list[int]:
    """Cores in use after each phase of (ticks, offered load in cores)."""
    controller = Controller(BalanceParams(method=method, reta_size=128, cpus=8,
                                          start_cpus=start, timer=0.01, timer_max=0.08,
                                          target_load=0.8, autoscale=True))
    machine = Machine(128, seed=2)
    in_use = []
    for ticks, load in phases:
        for _ in range(ticks):
            decision = controller.step(*machine.tick(controller, load), 0.01)
            assert set(np.unique(decision.table)) <= set(decision.active)
        in_use.append(len(controller.active))
    return in_use


@pytest.mark.parametrize("method", ["rsspp", "rsspp-ref"])
def test_autoscale_adds_cores_as_load_rises_and_removes_them_as_it_falls(method):
    quiet, busy, quiet_again = run_phases(method, [(100, 2.0), (300, 5.0), (400, 1.0)],
                                          start=3)
    assert quiet == 3
    assert busy >= 7
    assert quiet_again <= 3


def test_added_and_removed_cores_are_reported():
    controller = Controller(BalanceParams(method="rsspp", reta_size=64, cpus=4, start_cpus=2,
                                          timer=0.01, target_load=0.8, autoscale=True))
    machine = Machine(64, seed=3)
    added, removed = [], []
    for load in [3.0] * 60 + [0.3] * 200:
        decision = controller.step(*machine.tick(controller, load), 0.01)
        added += decision.added
        removed += decision.removed
    assert added[:2] == [2, 3]
    assert removed


def test_without_autoscale_the_cores_stay():
    controller = Controller(BalanceParams(method="rsspp", reta_size=64, cpus=4, start_cpus=2,
                                          timer=0.01, target_load=0.8))
    machine = Machine(64, seed=3)
    for _ in range(50):
        controller.step(*machine.tick(controller, 3.0), 0.01)
    assert controller.active == [0, 1]


def test_autoscale_rules():
    assert autoscale.should_add(np.array([0.95, 0.9, 0.9]), 0.8)
    assert not autoscale.should_add(np.array([0.8, 0.8, 0.85]), 0.8)
    # Spare 8 x 0.7 = 5.6 cores, well above 1 + 0.2 + 9 x 0.05.
    assert autoscale.should_remove(np.full(8, 0.1), 0.8)
    # One spare core is not enough: the margin must be covered too.
    assert not autoscale.should_remove(np.full(8, 0.675), 0.8)
    assert not autoscale.should_remove(np.array([0.0]), 0.8)
    receiver = autoscale.spread_heaviest_first(np.array([0.1, 0.4, 0.2]),
                                               np.array([0.3, 0.2]))
    # 0.4 to the lighter core (0.2 -> 0.6), then 0.2 and 0.1 to the other.
    assert list(receiver) == [0, 1, 0]


def test_tick_rule():
    assert next_tick(0.08, 0.5, True, 0.01, 1.0) == 0.01
    assert next_tick(0.08, 0.3, True, 0.01, 1.0) == 0.04
    assert next_tick(0.08, 0.1, False, 0.01, 1.0) == 0.16
    assert next_tick(0.08, 0.1, True, 0.01, 1.0) == 0.08
    assert next_tick(0.8, 0.0, False, 0.01, 1.0) == 1.0
    assert next_tick(0.01, 0.3, True, 0.01, 1.0) == 0.01


def test_rsspp_tick_stretches_while_calm_and_snaps_back_when_imbalanced():
    controller = Controller(BalanceParams(method="rsspp", reta_size=64, cpus=4, timer=0.01,
                                          timer_max=0.16))
    even = np.full(64, 1000)
    ticks = [controller.step(np.full(4, 0.5), even, controller.tick).next_tick
             for _ in range(6)]
    assert ticks == [0.02, 0.04, 0.08, 0.16, 0.16, 0.16]
    skewed = even.copy()
    skewed[::4] = 5000
    decision = controller.step(np.array([0.9, 0.4, 0.4, 0.4]), skewed, controller.tick)
    assert decision.next_tick == 0.01


def test_static_methods_keep_the_shortest_tick():
    controller = Controller(BalanceParams(method="rss", reta_size=64, cpus=4, timer=0.01,
                                          timer_max=0.16))
    for _ in range(5):
        assert controller.step(np.full(4, 0.5), np.full(64, 10), 0.01).next_tick == 0.01


def test_parameter_problems_name_their_keyword():
    problems = dict(Params(cpus=4, start_cpus=6, timer=0.1, timer_max=0.05, target="x",
                           target_load=1.5, imbalance_alpha=0.0, imbalance_threshold=1.0,
                           reta_size=0, sockets=[0, 0]).problems())
    assert set(problems) == {"STARTCPU", "TIMER_MAX", "TARGET", "TARGET_LOAD",
                             "IMBALANCE_ALPHA", "IMBALANCE_THRESHOLD", "RETA_SIZE", "NUMA"}
    assert "shorter than TIMER 100 ms" in problems["TIMER_MAX"]
    assert Params().problems() == []
