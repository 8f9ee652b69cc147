"""rsspp-ref against the reference's documented behaviour, on hand-made cases."""

from __future__ import annotations

import heapq

import numpy as np
import pytest

from pyclick.balance import BalanceParams, Controller
from pyclick.balance.reference_greedy import DONE_TOLERANCE, _one_run, _Problem, reference_greedy


def ref_controller(table, cpus=4, **params) -> Controller:
    settings = dict(method="rsspp-ref", reta_size=len(table), cpus=cpus, timer=0.01,
                    timer_max=0.08)
    settings.update(params)
    controller = Controller(BalanceParams(**settings))
    controller.state.table = np.asarray(table, dtype=np.int64)
    return controller


def test_greedy_skips_a_bucket_that_fits_nowhere_then_overshoot_search_fills_the_room():
    # One overloaded core must shed 0.3; two underloaded cores have room
    # 0.2 and 0.1. Run 1 gives "just not enough": the 0.2 bucket does not
    # fit under 0.2 - 0.01. Its residuals become the allowed overshoot of
    # run 2, which places 0.2 and 0.1 exactly and leaves no imbalance.
    result = reference_greedy(np.array([0.2, 0.1, 0.05]), np.array([0, 0, 0]),
                              np.array([0.3]), np.array([0.2, 0.1]))
    assert list(result.transfer) == [0, 1, -1]
    assert result.square_imbalance == pytest.approx(0.0, abs=1e-12)
    assert len(result.runs) == 2
    assert result.runs[0].square_imbalance == pytest.approx(0.035)


def test_greedy_takes_the_most_overloaded_core_and_its_heaviest_bucket_first():
    # Core A sheds 0.3, core B 0.1; one receiver with room 0.25. A's
    # heaviest bucket (0.2) goes first and fills most of the room.
    result = reference_greedy(np.array([0.05, 0.2, 0.1, 0.08]), np.array([0, 0, 1, 1]),
                              np.array([0.3, 0.1]), np.array([0.25]), max_runs=1)
    assert list(result.transfer) == [-1, 0, -1, -1]


def test_greedy_applies_its_last_run_as_the_reference_does():
    # One core sheds 0.21 with buckets of 0.39 and 0.3; one receiver has
    # room 0.17.
    # Run 1, allowances (-0.01, -0.01): neither bucket fits under 0.16:
    #   0.21^2 + 0.17^2 = 0.073; residuals 0.21 over, 0.17 under.
    # Run 2, (0.21, 0.17): 0.39 does not fit under 0.34, 0.3 does, leaving
    #   the receiver at -0.13 and the core at -0.09: 0.0169 + 0.0081 = 0.025,
    #   the best run.
    # Run 3, (0.315, 0.255): 0.39 fits under 0.425, overshooting (-0.22 and
    #   -0.18): 0.0484 + 0.0324 = 0.0808, worse: the search bisects back.
    # Run 4, (0.1575, 0.1275): nothing fits under 0.2975: 0.073. Runs 5-9,
    #   m = 1/4 .. 1/64 of the way up from (-0.01, -0.01): 0.073 each, until
    #   m falls below 0.01.
    # The reference applies run 9: nothing moves.
    result = reference_greedy(np.array([0.39, 0.3]), np.array([0, 0]), np.array([0.21]),
                              np.array([0.17]))
    squares = [run.square_imbalance for run in result.runs]
    assert squares == pytest.approx([0.073, 0.025, 0.0808] + [0.073] * 6)
    over = [run.over_allowed for run in result.runs]
    under = [run.under_allowed for run in result.runs]
    assert over[:5] == pytest.approx([-0.01, 0.21, 0.315, 0.1575, 0.07125])
    assert under[:5] == pytest.approx([-0.01, 0.17, 0.255, 0.1275, 0.05625])
    assert list(result.transfer) == [-1, -1]
    assert result.square_imbalance == pytest.approx(0.073)


def test_greedy_runs_the_ninth_allowances_again_as_its_tenth_run():
    # A 0.1 bucket fits every run (core 0.4 over, receiver 0.25 of room):
    # 0.3^2 + 0.15^2 = 0.1125 each time, so the allowances grow by half
    # from (0.3, 0.15) for ever. Before its last run the reference returns
    # to the allowances of its best run, which it never recorded: it runs
    # the ninth allowances again.
    result = reference_greedy(np.array([0.1]), np.array([0]), np.array([0.4]), np.array([0.25]))
    assert len(result.runs) == 10
    over = [run.over_allowed for run in result.runs]
    under = [run.under_allowed for run in result.runs]
    assert [over[1], under[1]] == pytest.approx([0.3, 0.15])
    assert [over[8], under[8]] == pytest.approx([0.3 * 1.5 ** 7, 0.15 * 1.5 ** 7])
    assert (over[9], under[9]) == (over[8], under[8])
    assert list(result.transfer) == [0]


def plain_run(loads, owner, excess, room, over_allowed, under_allowed):
    """One greedy run as the reference writes it: every receiver is asked in turn."""
    stacks = [[(-load, i) for i, (load, o) in enumerate(zip(loads, owner)) if o == k]
              for k in range(len(excess))]
    for stack in stacks:
        heapq.heapify(stack)
    overloaded = [(-e, k) for k, e in enumerate(excess)]
    underloaded = [(-r, u) for u, r in enumerate(room)]
    heapq.heapify(overloaded)
    heapq.heapify(underloaded)
    transfer = [-1] * len(loads)
    square = 0.0
    while overloaded and underloaded:
        neg_left, o = heapq.heappop(overloaded)
        left = -neg_left
        neg_bucket, b = heapq.heappop(stacks[o])
        bucket, asked = -neg_bucket, []
        while underloaded:
            neg_room, u = heapq.heappop(underloaded)
            if bucket < -neg_room + under_allowed:
                space = -neg_room - bucket
                left -= bucket
                transfer[b] = u
                if space > DONE_TOLERANCE:
                    heapq.heappush(underloaded, (-space, u))
                else:
                    square += space * space
                break
            asked.append((neg_room, u))
        for entry in asked:
            heapq.heappush(underloaded, entry)
        if left > -over_allowed and stacks[o]:
            heapq.heappush(overloaded, (-left, o))
        else:
            square += left * left
    for neg_value, _ in sorted(overloaded) + sorted(underloaded):
        square += neg_value * neg_value
    return transfer, square


@pytest.mark.parametrize("seed", range(30))
def test_a_run_asks_only_the_roomiest_receiver_and_still_moves_what_the_plain_run_moves(seed):
    rng = np.random.default_rng(seed)
    over, under = rng.integers(1, 6), rng.integers(1, 6)
    owner = np.concatenate([np.arange(over), rng.integers(0, over, rng.integers(0, 30))])
    loads = rng.pareto(1.5, len(owner)) * 0.05
    excess, room = rng.uniform(0, 0.5, over), rng.uniform(0, 0.5, under)
    problem = _Problem(loads, owner, excess, room)
    for allowed in (-0.01, 0.0, 0.05, 0.3):
        transfer, square, _, _ = _one_run(problem, allowed, allowed / 2)
        expected, expected_square = plain_run(loads, owner, excess, room, allowed, allowed / 2)
        assert transfer == expected
        assert square == pytest.approx(expected_square, abs=1e-12)


def test_decision_moves_from_overloaded_cores_with_several_busy_buckets_only():
    # Core 0 (load 0.9) is overloaded with three busy buckets; core 1 (0.7,
    # over the 0.65 average too) holds a single busy bucket, which nothing
    # can help. The heaviest bucket of core 0 (0.6 of load) fits nowhere; the
    # next (0.2) goes to core 2, the core with the most room.
    controller = ref_controller([0, 0, 0, 1, 2, 2, 3, 3])
    counts = np.array([600, 200, 100, 500, 300, 100, 400, 200])
    decision = controller.step(np.array([0.9, 0.7, 0.4, 0.6]), counts, 0.01)
    assert decision.moves == [(1, 0, 2)]
    # Left: core 0 over by 0.05, core 1 untouched at -0.05, cores 2 and 3 under by 0.05.
    assert decision.imbalance == pytest.approx(0.2, abs=1e-9)


def test_a_core_that_received_sits_the_next_tick_out():
    controller = ref_controller([0, 0, 0, 1, 2, 2, 3, 3])
    counts = np.array([600, 200, 100, 500, 300, 100, 400, 200])
    loads = np.array([0.9, 0.7, 0.4, 0.6])
    controller.step(loads, counts, 0.01)
    second = controller.step(loads, counts, 0.01)
    assert all(2 not in (old, new) for _, old, new in second.moves)


def test_imbalance_alpha_scales_the_correction():
    counts = np.array([600, 200, 20, 500, 300, 100, 400, 200])
    loads = np.array([0.68, 0.65, 0.62, 0.65])
    assert ref_controller([0, 0, 0, 1, 2, 2, 3, 3]).step(loads, counts, 0.01).moves
    halved = ref_controller([0, 0, 0, 1, 2, 2, 3, 3], imbalance_alpha=0.5)
    assert not halved.step(loads, counts, 0.01).moves


def test_dancer_moves_a_bucket_carrying_over_half_a_core_to_the_least_loaded_core():
    controller = ref_controller([0, 0, 1, 1, 2, 2, 3, 3], dancer=True, target_load=0.8)
    counts = np.array([700, 300, 200, 200, 100, 100, 300, 300])
    decision = controller.step(np.array([0.95, 0.5, 0.3, 0.6]), counts, 0.01)
    assert (0, 0, 2) in decision.moves


def test_numa_balances_within_each_socket_while_sockets_are_even():
    table = [0, 0, 0, 1, 2, 3, 3, 3]
    counts = np.array([300, 300, 200, 500, 600, 300, 200, 200])
    loads = np.array([0.8, 0.5, 0.6, 0.7])
    decision = ref_controller(table, numa=True, sockets=[0, 0, 1, 1]).step(loads, counts, 0.01)
    socket = {0: 0, 1: 0, 2: 1, 3: 1}
    assert decision.moves
    assert all(socket[old] == socket[new] for _, old, new in decision.moves)


def test_numa_falls_back_to_the_whole_machine_when_sockets_are_uneven():
    table = [0, 0, 0, 1, 1, 1, 2, 3]
    counts = np.array([300, 300, 300, 300, 300, 200, 300, 400])
    loads = np.array([0.9, 0.8, 0.3, 0.4])
    decision = ref_controller(table, numa=True, sockets=[0, 0, 1, 1]).step(loads, counts, 0.01)
    socket = {0: 0, 1: 0, 2: 1, 3: 1}
    assert any(socket[old] != socket[new] for _, old, new in decision.moves)


def test_tick_follows_the_reference_rule():
    controller = ref_controller([0, 1, 2, 3] * 2)
    even = np.full(8, 100)
    calm = np.array([0.5, 0.5, 0.5, 0.5])
    ticks = [controller.step(calm, even, 0.01).next_tick for _ in range(4)]
    assert ticks == [0.02, 0.04, 0.08, 0.08]
    # Core 1 is overloaded but holds a single busy bucket: nothing moves and
    # the residual imbalance is the whole imbalance.
    stuck = ref_controller([0, 0, 1, 2, 2, 3, 3, 0])
    stuck.state.tick = 0.08
    counts = np.array([300, 300, 800, 250, 250, 300, 300, 0])
    halved = stuck.step(np.array([0.6, 0.8, 0.5, 0.6]), counts, 0.01)
    assert not halved.moves and halved.imbalance == pytest.approx(0.35)
    assert halved.next_tick == 0.04
    reset = stuck.step(np.array([0.6, 0.9, 0.5, 0.6]), counts, 0.01)
    assert reset.imbalance == pytest.approx(0.5) and reset.next_tick == 0.01
