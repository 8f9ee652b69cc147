"""Every balancing method driven through the Controller on seeded synthetic ticks."""

from __future__ import annotations

import numpy as np
import pytest

from pyclick.balance import BalanceParams, Controller, canonical_name
from pyclick.balance.controller import balance_target_loads
from pyclick.balance.rsspp_method import Rsspp, RssppTuning
from pyclick.balance.solver import (Relief, busy_buckets, fixed_half_gain, receivers_below,
                                    relieve_candidates)
from pyclick.balance.tables import moves_by_source, rotate_table, table_moves
from pyclick.rss.indirection import even_table

METHODS = ("rss", "rssrr", "rsspp", "rsspp-ref")


class Workload:
    """Seeded heavy-tailed bucket rates that wander around their means.

    Loads are proportional to each core's packets (capped at 1).
    """

    def __init__(self, reta: int, cores: int, load: float, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.mean = self.rng.pareto(2.5, reta) + 1.0
        self.drift = np.zeros(reta)
        self.weight = self.mean.copy()
        self.reta, self.cores, self.load = reta, cores, load
        self.capacity = 1e6

    def tick(self, controller: Controller, dt: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
        self.drift = 0.9 * self.drift + self.rng.normal(0.0, 0.1, self.reta)
        self.weight = self.mean * np.exp(self.drift)
        rate = self.weight / self.weight.sum() * self.load * self.capacity * self.cores
        counts = self.rng.poisson(rate * dt)
        per_core = np.bincount(controller.table, weights=counts,
                               minlength=max(controller.active) + 1)
        loads = np.minimum(per_core[controller.active] / (self.capacity * dt), 1.0)
        return loads, counts


def drive(method: str, ticks: int = 200, seed: int = 3,
          **params) -> tuple[Controller, list, Workload]:
    settings = dict(method=method, reta_size=128, cpus=8, timer=0.01, timer_max=0.08)
    settings.update(params)
    balance = BalanceParams(**settings)
    controller = Controller(balance)
    work = Workload(settings["reta_size"], settings["cpus"], 0.7, seed)
    decisions = []
    for _ in range(ticks):
        loads, counts = work.tick(controller)
        decisions.append(controller.step(loads, counts, 0.01))
    return controller, decisions, work


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("autoscale", [False, True])
def test_every_bucket_stays_on_a_core_in_use(method, autoscale):
    controller = Controller(BalanceParams(method=method, reta_size=128, cpus=8, start_cpus=4,
                                          timer=0.01, autoscale=autoscale, target_load=0.6))
    work = Workload(128, 8, 0.7, seed=11)
    for tick in range(150):
        if tick == 50 and len(controller.active) < 8:
            controller.set_cpus(len(controller.active) + 1)
        loads, counts = work.tick(controller)
        decision = controller.step(loads, counts, 0.01)
        assert set(np.unique(decision.table)) <= set(decision.active)
        assert len(set(decision.active)) == len(decision.active)
        assert all(0 <= core < 8 for core in decision.active)


@pytest.mark.parametrize("method", METHODS)
def test_same_seed_same_decisions(method):
    _, first, _ = drive(method, ticks=80, seed=5)
    _, second, _ = drive(method, ticks=80, seed=5)
    assert [d.moves for d in first] == [d.moves for d in second]
    assert [d.next_tick for d in first] == [d.next_tick for d in second]


def test_rsspp_moves_buckets_only_away_from_overloaded_cores():
    _, decisions, _ = drive("rsspp", ticks=300, seed=7)
    threshold = 0.02
    moved = 0
    for d in decisions:
        load = dict(zip(d.cores, d.loads))
        average = float(np.mean(d.loads))
        for _, old, new in d.moves:
            assert load[old] - average > threshold
            assert load[new] < load[old]
            moved += 1
    assert moved > 0


def test_rsspp_ref_moves_buckets_only_away_from_overloaded_cores():
    _, decisions, _ = drive("rsspp-ref", ticks=300, seed=7)
    moved = 0
    for d in decisions:
        load = dict(zip(d.cores, d.loads))
        average = float(np.mean(d.loads))
        for _, old, new in d.moves:
            assert average - load[old] < -0.02
            assert average - load[new] > 0.02
            moved += 1
    assert moved > 0


def test_rsspp_balances_better_than_static_rss_with_few_moves():
    def spread(method):
        controller, decisions, work = drive(method, ticks=400, seed=9, timer_max=0.01)
        per_core = np.bincount(controller.table, weights=work.mean, minlength=8)
        return per_core.max() / per_core.min() - 1, sum(len(d.moves) for d in decisions)

    rss_spread, _ = spread("rss")
    ours_spread, moves = spread("rsspp")
    assert ours_spread < rss_spread / 3
    assert moves < 400


@pytest.mark.parametrize("options", [
    {},
    {"autoscale": True, "start_cpus": 4, "target_load": 0.5},
    {"dancer": True, "reta_size": 16},
    {"numa": True, "sockets": [0, 0, 0, 0, 1, 1, 1, 1]},
    {"target": "balance"},
    {"per_core_costs": True},
], ids=["default", "autoscale", "dancer", "numa", "balance", "per-core-costs"])
def test_rsspp_decides_alike_on_core_lists_and_core_arrays(options):
    # Per-core quantities are float lists below Rsspp's array_cores, arrays from
    # there on: the same floats, so every decision and figure is the same.
    options = dict(options)
    tuning = RssppTuning(per_core_costs=options.pop("per_core_costs", False))
    settings = dict(method="rsspp", reta_size=128, cpus=8, timer=0.01, timer_max=0.08)
    settings.update(options)
    lists, arrays = (Controller(params, Rsspp(params, tuning, array_cores=cores))
                     for params, cores in ((BalanceParams(**settings), 9),
                                           (BalanceParams(**settings), 1)))
    assert not lists.method.arrays and arrays.method.arrays
    work = Workload(settings["reta_size"], 8, 0.8, seed=12)
    moved = 0
    for tick in range(200):
        if tick == 100 and len(lists.active) < 8:
            assert lists.set_cpus(8).moves == arrays.set_cpus(8).moves
        loads, counts = work.tick(lists)
        ours, theirs = lists.step(loads, counts, 0.01), arrays.step(loads, counts, 0.01)
        assert (ours.moves, ours.next_tick, ours.active) == \
            (theirs.moves, theirs.next_tick, theirs.active)
        assert ours.imbalance == theirs.imbalance
        assert [r.square_imbalance for r in ours.runs] == \
            [r.square_imbalance for r in theirs.runs]
        assert np.asarray(ours.loads).tolist() == np.asarray(theirs.loads).tolist()
        moved += len(ours.moves)
    assert moved > 0


@pytest.mark.parametrize("options", [
    {},
    {"autoscale": True, "start_cpus": 4, "target_load": 0.5},
    {"dancer": True, "reta_size": 16},
    {"numa": True, "sockets": [0, 0, 0, 0, 1, 1, 1, 1]},
], ids=["default", "autoscale", "dancer", "numa"])
def test_the_moves_a_method_reports_are_the_changes_of_its_table(options):
    # rsspp names its moves itself, and the controller then compares no
    # tables: each tick's moves must be the tables' difference, in bucket order.
    settings = dict(method="rsspp", reta_size=128, cpus=8, timer=0.01, timer_max=0.08)
    settings.update(options)
    controller = Controller(BalanceParams(**settings))
    work = Workload(settings["reta_size"], 8, 0.8, seed=13)
    before, moved = controller.table.copy(), 0
    for _ in range(200):
        decision = controller.step(*work.tick(controller), 0.01)
        assert decision.moves == table_moves(before, decision.table)
        before, moved = decision.table.copy(), moved + len(decision.moves)
    assert moved > 0


def test_a_dearer_move_buys_fewer_moves():
    moves = [sum(len(d.moves) for d in drive("rsspp", ticks=300, seed=6, move_cost=cost)[1])
             for cost in (0.001, 0.01, 0.1)]
    assert moves[0] > moves[1] > moves[2]


def test_a_core_that_just_received_gives_nothing_at_the_next_tick():
    _, decisions, _ = drive("rsspp", ticks=300, seed=4)
    for before, after in zip(decisions, decisions[1:]):
        receivers = {new for _, _, new in before.moves}
        assert not receivers & {old for _, old, _ in after.moves}


class SearchEveryTick(Rsspp):
    """rsspp whose search runs whenever the plain bounds leave a tick open, and
    which counts the ticks where a giver held a single busy bucket and nothing moved."""

    lone_and_still = 0

    def _relieve(self, excess, givers, receivers, where, cost, per_packet, load, min_gain,
                 below=None, giving=None):
        rates = self.rates
        shift = self.price.noise_shift(rates, where, per_packet, receivers, givers, len(excess))
        receiving = receivers_below(excess, givers, receivers, min_gain, shift, below)
        if not receiving:
            return Relief([], excess)
        candidates, source = busy_buckets(where, rates.rate, givers, len(excess), giving)
        if not candidates.size:
            return Relief([], excess)
        weight = load[candidates]
        fixed = fixed_half_gain(weight, rates.variance[candidates],
                                self.tuning.risk_weight * per_packet * per_packet)
        relief = relieve_candidates(excess, givers, receiving, candidates, source, weight,
                                    fixed, shift, self.params.imbalance_threshold, min_gain)
        held = np.bincount(source, minlength=len(excess))
        if not relief.moves and any(held[g] == 1 for g in givers):
            self.lone_and_still += 1
        return relief


class InOrder(Rsspp):
    """rsspp whose two tests before the search (the noise-shifted bound, a giver
    that can give) always come in one order: ``lone_first`` or the other."""

    def __init__(self, params, lone_first):
        self.fixed = lone_first
        super().__init__(params)

    @property
    def _lone_first(self):
        return self.fixed

    @_lone_first.setter
    def _lone_first(self, value):
        pass


def test_a_giver_down_to_one_bucket_settles_the_tick_as_the_search_would():
    # Few busy buckets on many cores, some of them elephants: a core often
    # holds one heavy bucket alone, which it keeps. The method settles such
    # ticks before its search when the other givers cannot gain the price;
    # every decision must be the one the search itself makes, whichever
    # test comes first.
    rng = np.random.default_rng(0)
    reta, cores = 64, 16
    mean = np.where(rng.random(reta) < 0.8, rng.pareto(1.2, reta) + 0.2, 0.0)
    params = BalanceParams(method="rsspp", reta_size=reta, cpus=cores, timer=0.01,
                           timer_max=0.01)
    ours, searching = Controller(params), Controller(params, SearchEveryTick(params))
    ordered = [Controller(params, InOrder(params, lone_first)) for lone_first in (True, False)]
    moved = 0
    for _ in range(400):
        weight = mean * np.exp(rng.normal(0.0, 1.0, reta))
        rate = weight / weight.sum() * 0.7 * 1e6 * cores
        counts = rng.poisson(rate * 0.01)
        per_core = np.bincount(ours.table, weights=counts, minlength=cores)
        loads = np.minimum(per_core / 1e4, 1.0)
        theirs = searching.step(loads, counts, 0.01)
        for controller in [ours] + ordered:
            mine = controller.step(loads, counts, 0.01)
            assert (mine.moves, mine.next_tick, mine.imbalance) == \
                (theirs.moves, theirs.next_tick, theirs.imbalance)
        moved += len(theirs.moves)
    # Both kinds of tick, many times.
    assert moved > 200 and searching.method.lone_and_still > 100


def test_rsspp_ref_leaves_a_core_that_just_received_out_entirely():
    _, decisions, _ = drive("rsspp-ref", ticks=300, seed=4)
    for before, after in zip(decisions, decisions[1:]):
        receivers = {new for _, _, new in before.moves}
        touched = {old for _, old, _ in after.moves} | {new for _, _, new in after.moves}
        assert not receivers & touched


def test_static_rss_never_moves_and_keeps_the_tick():
    _, decisions, _ = drive("rss", ticks=50)
    assert all(not d.moves for d in decisions)
    assert {d.next_tick for d in decisions} == {0.01}


def test_rssrr_rotates_every_entry_by_one_core_each_tick():
    controller, decisions, _ = drive("rssrr", ticks=3)
    first = even_table(128, range(8))
    assert np.array_equal(decisions[0].table, (first + 1) % 8)
    assert np.array_equal(decisions[2].table, (first + 3) % 8)
    assert len(decisions[0].moves) == 128


def test_aliases_name_our_method():
    assert canonical_name("pianorss") == canonical_name("rss++") == "rsspp"
    assert canonical_name("RSSPP-REF") == "rsspp-ref"
    with pytest.raises(ValueError, match="DPDK"):
        canonical_name("metron")
    with pytest.raises(ValueError, match="unknown method 'nope'.*rsspp"):
        canonical_name("nope")


def test_table_helpers():
    assert list(even_table(6, [2, 5])) == [2, 5, 2, 5, 2, 5]
    assert list(rotate_table(np.array([2, 5, 7]), [2, 5])) == [5, 2, 2]
    old, new = np.array([0, 1, 1, 2]), np.array([0, 2, 0, 2])
    assert table_moves(old, new) == [(1, 1, 2), (2, 1, 0)]
    assert moves_by_source([(1, 1, 2), (2, 1, 0), (5, 3, 0)]) == {1: [(1, 2), (2, 0)],
                                                                  3: [(5, 0)]}


def test_balance_target_reads_loads_relative_to_the_average():
    loads = balance_target_loads(np.array([0.2, 0.4, 0.6]), 3)
    assert np.allclose(loads, [0.25, 0.5, 0.75])
    assert np.allclose(balance_target_loads(np.array([0.05, 0.1]), 2), [0.5, 0.5])


def test_bad_inputs_are_refused_with_what_was_expected():
    controller = Controller(BalanceParams(method="rsspp", reta_size=16, cpus=4))
    with pytest.raises(ValueError, match="expected 4 loads"):
        controller.step(np.zeros(3), np.zeros(16))
    with pytest.raises(ValueError, match="expected 16 bucket counts"):
        controller.step(np.zeros(4), np.zeros(8))
    with pytest.raises(ValueError, match="TIMER_MAX"):
        Controller(BalanceParams(timer=0.1, timer_max=0.05))
    with pytest.raises(ValueError, match="cannot go down"):
        controller.set_cpus(2)
    with pytest.raises(ValueError, match="CPUS allows 4"):
        controller.set_cpus(5)
