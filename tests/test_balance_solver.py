"""Our solver (relieve_overloaded) and our estimators, on hand-made and seeded inputs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pyclick.balance.estimate import (CoreCostArray, CoreCosts, PersistentRates, ServedExcess,
                                      ServedExcessArray, median, share_of_core_load)
from pyclick.balance.solver import (Below, _candidates, _giver_rows, relieve_overloaded,
                                   relieve_overloaded_per_core)


def objective(excess):
    return float(np.sum(np.square(excess)))


def relieve(demand, owner, rate, givers, threshold, min_gain, variance=None, risk_weight=1.0,
            cost=1.0):
    """relieve_overloaded around the group average, every core allowed to receive."""
    excess = (demand - demand.mean()).tolist()
    variance = np.zeros(len(owner)) if variance is None else variance
    return relieve_overloaded(excess, list(givers), list(range(len(demand))), owner, rate,
                              variance, cost, risk_weight, threshold, min_gain)


def brute_force_best(demand, owner, rate, givers, receivers):
    """Best single move by exhaustive search (equal costs, no risk)."""
    target = demand.mean()
    best, choice = -np.inf, None
    for bucket, receiver in itertools.product(range(len(owner)), receivers):
        if owner[bucket] not in givers or rate[bucket] == 0:
            continue
        after = demand.copy()
        after[owner[bucket]] -= rate[bucket]
        after[receiver] += rate[bucket]
        gain = objective(demand - target) - objective(after - target)
        if gain > best:
            best, choice = gain, (bucket, receiver)
    return choice


def test_first_move_is_the_best_single_move():
    owner = np.array([0, 0, 0, 0, 1, 2, 3, 3])
    rate = np.array([0.2, 0.15, 0.3, 0.35, 0.5, 0.6, 0.4, 0.3])
    demand = np.bincount(owner, weights=rate, minlength=4)
    relief = relieve(demand, owner, rate, [0, 3], 0.02, 1e-6)
    below = np.flatnonzero(demand < demand.mean())
    assert relief.moves[0] == brute_force_best(demand, owner, rate, {0, 3}, below)
    assert objective(relief.excess) < objective(demand - demand.mean())


@pytest.mark.parametrize("seed", range(20))
def test_moves_respect_the_rules(seed):
    rng = np.random.default_rng(seed)
    cores, reta = 6, 48
    owner = rng.integers(0, cores, reta)
    rate = rng.pareto(2.0, reta) * rng.integers(0, 2, reta)
    demand = np.bincount(owner, weights=rate, minlength=cores)
    target = demand.mean()
    givers = np.flatnonzero(demand - target > 0.05)
    relief = relieve(demand, owner, rate, givers, 0.05, 1e-3)
    moved = [bucket for bucket, _ in relief.moves]
    assert len(moved) == len(set(moved))
    assert all(owner[b] in givers and rate[b] > 0 for b in moved)
    assert all(demand[r] < target for _, r in relief.moves)
    busy_left = np.bincount(np.delete(owner, moved)[np.delete(rate, moved) > 0],
                            minlength=cores)
    busy_before = np.bincount(owner[rate > 0], minlength=cores)
    assert all(busy_left[g] >= 1 for g in givers if busy_before[g] >= 1)
    assert objective(relief.excess) <= objective(demand - target) + 1e-12
    # The excesses returned are those the moves leave.
    after = demand.copy()
    for bucket, receiver in relief.moves:
        after[owner[bucket]] -= rate[bucket]
        after[receiver] += rate[bucket]
    assert np.allclose(relief.excess, after - target)


def test_a_move_must_gain_its_price():
    # Giver 0.1 above the average, receiver 0.1 below: moving the 0.1
    # bucket gains 2 x 0.1 x 0.2 - 2 x 0.1^2 = 0.02, the most any move
    # between them can gain ((0.1 + 0.1)^2 / 2).
    owner = np.array([0, 0, 1])
    rate = np.array([0.1, 0.35, 0.25])
    demand = np.bincount(owner, weights=rate)
    assert relieve(demand, owner, rate, [0], 0.02, 0.019).moves == [(0, 1)]
    assert relieve(demand, owner, rate, [0], 0.02, 0.021).moves == []


def test_nothing_moves_when_no_move_is_worth_its_price():
    owner = np.array([0, 0, 1, 1])
    rate = np.array([0.5, 0.1, 0.2, 0.2])
    demand = np.bincount(owner, weights=rate)
    assert relieve(demand, owner, rate, [0], 0.02, 0.001).moves
    assert not relieve(demand, owner, rate, [0], 0.02, 1.0).moves


def test_risk_charge_prefers_the_steady_bucket():
    owner = np.array([0, 0, 0, 1, 1])
    rate = np.array([0.1, 0.1, 0.5, 0.25, 0.25])
    demand = np.bincount(owner, weights=rate)
    risky_first = np.array([0.05, 0.0, 0.0, 0.0, 0.0])
    relief = relieve(demand, owner, rate, [0], 0.02, 1e-6, variance=risky_first)
    assert relief.moves[0] == (1, 1)


def test_a_single_busy_bucket_is_never_moved():
    owner = np.array([0, 0, 1, 2])
    rate = np.array([0.9, 0.0, 0.1, 0.1])
    demand = np.bincount(owner, weights=rate)
    assert relieve(demand, owner, rate, [0], 0.02, 1e-6).moves == []


def test_only_the_receivers_named_receive():
    # Cores 1 and 2 are both below the average; only cores 0 and 2 may
    # receive, and core 0 is above it.
    owner = np.array([0, 0, 0, 1, 2])
    rate = np.array([0.3, 0.3, 0.3, 0.1, 0.2])
    demand = np.bincount(owner, weights=rate)
    excess = (demand - demand.mean()).tolist()
    relief = relieve_overloaded(excess, [0], [0, 2], owner, rate, np.zeros(5), 1.0, 1.0,
                                0.02, 1e-6)
    assert relief.moves and all(receiver == 2 for _, receiver in relief.moves)


@pytest.mark.parametrize("seed", range(10))
def test_costs_per_core_search_agrees_when_every_core_costs_the_same(seed):
    rng = np.random.default_rng(100 + seed)
    cores, reta = 8, 64
    owner = rng.integers(0, cores, reta)
    rate = rng.pareto(2.0, reta) * rng.integers(0, 2, reta) * 0.1
    variance = rng.uniform(0, 0.02, reta)
    demand = np.bincount(owner, weights=rate * 2.0, minlength=cores)
    excess = (demand - demand.mean()).tolist()
    givers = np.flatnonzero(demand - demand.mean() > 0.02).tolist()
    below = np.flatnonzero(demand < demand.mean()).tolist()
    shared = relieve_overloaded(excess, givers, below, owner, rate, variance, 2.0, 0.5, 0.02,
                                1e-4)
    per_core = relieve_overloaded_per_core(excess, givers, below, owner, rate, variance,
                                           [2.0] * cores, 0.5, 0.02, 1e-4)
    assert shared.moves == per_core.moves
    assert np.allclose(shared.excess, per_core.excess)


def test_costs_per_core_weigh_a_bucket_by_the_core_it_lands_on():
    # Core 0 (cost 1) is 0.2 over its target and holds buckets of rate 0.2
    # and 0.3. Core 1 (cost 1) is 0.2 under, core 2 (cost 3) 0.25 under.
    # Bucket 0 to core 1: (2*0.2 - 0.2)*0.2 - (2*-0.2 + 0.2)*0.2 = 0.04 + 0.04 = 0.08;
    # to core 2 it weighs 0.6: 0.04 - (2*-0.25 + 0.6)*0.6 = -0.02. Bucket 1
    # to core 1: (0.4 - 0.3)*0.3 - (-0.4 + 0.3)*0.3 = 0.06. With one shared
    # cost, core 2 (furthest below) would have been the receiver.
    owner = np.array([0, 0, 1, 2])
    rate = np.array([0.2, 0.3, 0.0, 0.0])
    relief = relieve_overloaded_per_core([0.2, -0.2, -0.25], [0], [1, 2], owner, rate,
                                         np.zeros(4), [1.0, 1.0, 3.0], 0.0, 0.02, 1e-6)
    assert relief.moves == [(0, 1)]
    assert relief.excess == pytest.approx([0.0, 0.0, -0.25])
    shared = relieve_overloaded([0.2, -0.2, -0.25], [0], [1, 2], owner, rate, np.zeros(4),
                                1.0, 0.0, 0.02, 1e-6)
    assert shared.moves == [(0, 2)]


def test_share_of_core_load_splits_each_core_by_packets():
    table = np.array([0, 0, 1, 2])
    positions = np.array([0, 1, -1])
    weights = share_of_core_load(table, np.array([30.0, 10.0, 50.0, 7.0]), positions,
                                 np.array([0.8, 0.5]))
    assert np.allclose(weights, [0.6, 0.2, 0.5, 0.0])


def test_persistent_rates_learn_how_much_of_a_deviation_survives():
    rng = np.random.default_rng(1)
    level = rng.uniform(5e5, 1e6, 256)
    deviation = np.zeros(256)
    rates = PersistentRates(256, horizon=2.0, persistence_horizon=2.0)
    for _ in range(2000):
        deviation = 0.6 * deviation + rng.normal(0, 0.1, 256) * level
        rates.update(rng.poisson((level + deviation) * 0.01), 0.01)
    assert rates.persistence == pytest.approx(0.6, abs=0.1)


def test_persistent_rates_jump_to_a_new_level_at_once():
    rng = np.random.default_rng(2)
    rates = PersistentRates(8, horizon=1.0)
    steady = np.full(8, 1e5)
    for _ in range(200):
        rates.update(rng.poisson(steady * 0.01), 0.01)
    shifted = steady.copy()
    shifted[3] = 6e5
    rates.update(rng.poisson(shifted * 0.01), 0.01)
    assert rates.rate[3] == pytest.approx(6e5, rel=0.1)
    assert rates.rate[0] == pytest.approx(1e5, rel=0.1)


@pytest.mark.parametrize("kind", [CoreCosts, CoreCostArray])
def test_core_costs_learn_from_unsaturated_cores_and_bound_saturated_ones(kind):
    costs = kind(4, horizon=0.1)
    cores = np.array([0, 1, 2])
    # Core 2 is saturated from the start: 20000 packets in 10 ms would need
    # 2 s of work at 1 µs each, it reports 100% busy.
    costs.update(cores, np.array([0.5, 0.25, 1.0]), np.array([5000.0, 2500.0, 20000.0]), 0.01)
    assert costs.of(np.array([2]))[0] == pytest.approx(0.5e-6)
    for _ in range(100):
        costs.update(cores, np.array([0.5, 0.25, 0.6]), np.array([5000.0, 2500.0, 6000.0]),
                     0.01)
        costs.update(cores, np.array([0.5, 0.25, 1.0]), np.array([5000.0, 2500.0, 20000.0]),
                     0.01)
    learnt = costs.of(np.array([0, 1, 2, 3]))
    assert learnt[0] == pytest.approx(1e-6) and learnt[1] == pytest.approx(1e-6)
    # Saturated ticks never drag core 2 below what its unsaturated ones taught.
    assert learnt[2] == pytest.approx(1e-6, rel=0.01)
    # Core 3 was never seen: it borrows the median.
    assert learnt[3] == pytest.approx(1e-6)


@pytest.mark.parametrize("kind", [CoreCosts, CoreCostArray])
def test_core_costs_of_a_core_first_seen_late_are_its_own(kind):
    costs = kind(2, horizon=0.1)
    cores = np.array([0, 1])
    # 0.5 busy over 10 ms for 5,000 packets: 1 µs each; core 1 idle, no packets.
    costs.update(cores, np.array([0.5, 0.0]), np.array([5000.0, 0.0]), 0.01)
    assert list(costs.of(cores)) == [pytest.approx(1e-6), pytest.approx(1e-6)]
    # Core 1 then takes 1,000 packets at 0.2 busy: 2 µs each, its own from now on.
    costs.update(cores, np.array([0.5, 0.2]), np.array([5000.0, 1000.0]), 0.01)
    assert list(costs.of(cores)) == [pytest.approx(1e-6), pytest.approx(2e-6)]


def test_core_costs_in_an_array_are_the_lists_floats():
    # Saturated, idle and first-seen cores on the same ticks, in a scrambled core order.
    rng = np.random.default_rng(4)
    lists, arrays = CoreCosts(6, horizon=0.2), CoreCostArray(6, horizon=0.2)
    cores = np.array([4, 0, 5, 2, 1])
    for tick in range(60):
        loads = rng.choice([0.3, 0.6, 0.97, 1.0], size=5)
        packets = rng.integers(0, 3, size=5) * rng.uniform(1e3, 9e3, size=5)
        elapsed = 0.01 * (1 + tick % 3)
        lists.update(cores.tolist(), loads.tolist(), packets.tolist(), elapsed)
        arrays.update(cores, loads, packets, elapsed)
        assert arrays.of(np.arange(6)).tolist() == lists.of(range(6))
    assert arrays.cost[cores].tolist() == [lists.cost[c] for c in cores]


def test_served_excess_in_an_array_is_the_lists_floats():
    rng = np.random.default_rng(5)
    lists, arrays = ServedExcess(5, horizon=0.5), ServedExcessArray(5, horizon=0.5)
    cores = np.array([3, 1, 4, 0])
    for tick in range(40):
        served = rng.uniform(0.0, 0.02, size=4)
        lists.update(cores.tolist(), served.tolist(), 0.01)
        arrays.update(cores, served, 0.01)
        loads = rng.uniform(0.0, 1.0, size=4)
        assert arrays.added(cores, loads, 2.0).tolist() == \
            lists.added(cores.tolist(), loads.tolist(), 2.0)
        if tick == 20:
            lists.forget([1])
            arrays.forget([1])
    assert arrays.of(cores).tolist() == lists.of(cores.tolist())


@pytest.mark.parametrize("kind", [ServedExcess, ServedExcessArray])
def test_served_excess_remembers_who_served_more_and_forgets_with_time(kind):
    excess = kind(4, horizon=0.5)
    cores = np.array([0, 1, 2])
    excess.update(cores, np.array([0.012, 0.009, 0.009]), 0.01)
    recent = excess.of(cores)
    assert recent[0] == pytest.approx(0.002 / 0.5) and recent[1] == pytest.approx(-0.001 / 0.5)
    assert sum(recent) == pytest.approx(0.0)
    excess.update(cores, np.array([0.01, 0.01, 0.01]), 0.5)
    assert excess.of(cores)[0] == pytest.approx(recent[0] * np.exp(-1))
    excess.forget(np.array([0]))
    assert list(excess.of([0, 3])) == [0.0, 0.0]


def test_median_of_odd_and_even_counts():
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
    values = np.array([4.0, 1.0, 3.0, 2.0])
    assert median(values) == 2.5 and median(values[:3]) == 3.0
    # The array's own order is left alone.
    assert values.tolist() == [4.0, 1.0, 3.0, 2.0]


def test_candidates_of_one_giver_and_of_several_are_grouped_alike():
    # Buckets 0, 2 and 4 are on core 2, bucket 2 idle; bucket 1 is on core 0.
    owner = np.array([2, 0, 2, 1, 2])
    rate = np.array([1.0, 1.0, 0.0, 1.0, 2.0])
    candidates, source = _candidates(owner, rate, [2], 3)
    assert candidates.tolist() == [0, 4] and source.tolist() == [2, 2]
    candidates, source = _candidates(owner, rate, [2, 0], 3)
    assert candidates.tolist() == [1, 0, 4] and source.tolist() == [0, 2, 2]
    assert _giver_rows(np.array([2, 2]), [2], 3)[1:] == ([0, 0, 2], [0, 0, 2])
    assert _giver_rows(np.array([0, 2, 2]), [2, 0], 3) == ([0, 1, 1], [1, 1, 3], [1, 0, 2])


def test_the_sums_of_the_excesses_add_in_the_order_a_list_adds():
    # In doubles 0.1 + 0.2 + 0.3, left to right as ``sum`` adds the tick's
    # lists, is 0.6000000000000001; 0.1 + (0.2 + 0.3) is 0.6.
    below = Below(-0.2, np.array([0.1, -0.2, 0.3]))
    assert below.magnitude() == 0.6000000000000001
    # 0.010000000000000002 + 0.04000000000000001 + 0.09
    assert below.squares() == 0.14
    assert below.squares() == sum(x * x for x in [0.1, -0.2, 0.3])
