"""The price of a move: how long imbalances last, the noise of a gain, hysteresis.

Every expected value below is worked out by hand in the comments.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pyclick.balance import BalanceParams, Controller
from pyclick.balance.move_price import (HOLD_SIGMAS, NOISE_SIGMAS, ImbalanceLife, MovePrice,
                                        RecentMoves, min_gain)
from pyclick.balance.solver import Relief
from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.router import Router


class Rates:
    """Per-bucket rates as the balancer predicts them (packets/s)."""

    def __init__(self, level, rate=None, variance=None) -> None:
        self.level = np.asarray(level, dtype=float)
        self.rate = self.level if rate is None else np.asarray(rate, dtype=float)
        self.variance = np.zeros(len(self.level)) if variance is None \
            else np.asarray(variance, dtype=float)


# --- how long an imbalance lasts


def test_a_deviation_halved_from_one_window_to_the_next_lives_1_over_ln_2_seconds():
    life = ImbalanceLife(4)
    # Window 1: rates 1000, 0, 500, 500 (mean 500): deviations 500, -500, 0, 0, whose
    # variance is 500000 / 4 = 125000, less the counting noise (mean / 1 s = 500): 124500.
    life.update(np.array([1000.0, 0.0, 500.0, 500.0]), 1.0)
    assert not life.known and life.life == 1.0
    # Window 2, in four ticks of 0.25 s: deviations 249, -249, 0, 0. Covariance with
    # window 1: (500 x 249 x 2) / 4 = 62250 = 0.5 x 124500: half of a deviation is left
    # after one second, so it fades as exp(-t ln 2).
    for _ in range(4):
        life.update(np.array([187.25, 62.75, 125.0, 125.0]), 0.25)
    assert life.known
    assert life.life == pytest.approx(1 / math.log(2))


def test_a_perfectly_predictable_bucket_lasts_a_thousand_windows():
    life = ImbalanceLife(4)
    # The same counts every window: deviations 200, -200/3 x 3 (mean 100); covariance
    # (40000 + 3 x 4444.4) / 4 = 13333.3 against a variance of 13333.3 - 100: the
    # share left exceeds 1, read as the bound exp(-0.001): 1000 windows.
    for _ in range(3):
        life.update(np.array([300.0, 100 / 3, 100 / 3, 100 / 3]), 1.0)
    assert life.life == pytest.approx(1000.0)


def test_a_deviation_that_flips_every_window_lasts_a_fifth_of_one():
    life = ImbalanceLife(4)
    # Deviations 150, -50, -50, -50 then -50, 150, -50, -50: covariance
    # (-7500 - 7500 + 2500 + 2500) / 4 < 0, read as the bound exp(-5): 1 / 5 s.
    life.update(np.array([300.0, 100.0, 100.0, 100.0]), 1.0)
    life.update(np.array([100.0, 300.0, 100.0, 100.0]), 1.0)
    assert life.life == pytest.approx(0.2)


def test_counting_noise_alone_is_no_imbalance():
    life = ImbalanceLife(2)
    # Rates 110 and 90 over 1 s: deviations +-10, variance 100, which is exactly the
    # counting noise of a mean of 100 packets: nothing to learn from, the life stays.
    life.update(np.array([110.0, 90.0]), 1.0)
    life.update(np.array([90.0, 110.0]), 1.0)
    assert life.known and life.life == 1.0


# --- the price and the noise of a gain


def test_the_price_is_move_cost_times_the_average_load_squared_over_the_life():
    # 0.01 x 0.75^2 / 0.5 s = 0.01125 (load^2).
    assert min_gain(0.01, 0.75, 0.5) == pytest.approx(0.01125)
    price = MovePrice(4, 0.01)
    assert price.least_gain(0.75) == pytest.approx(0.01 * 0.5625 / 1.0)


def test_a_perfectly_predictable_bucket_costs_nothing_beyond_the_price():
    rates = Rates([100.0, 100.0, 100.0, 100.0])
    charges = MovePrice.noise_charges(rates, np.array([0, 0, 1, 1]), np.full(4, 0.001),
                                      [0, 1], 2)
    assert np.array_equal(charges, np.zeros(4))


def test_a_noisy_bucket_makes_every_move_of_its_core_dearer():
    # Each bucket weighs 100 x 0.001 = 0.1. Bucket 1's prediction error has variance
    # 400 (packets/s)^2: core 0's load varies by 400 x 0.001^2 = 4e-4, core 1's by 0.
    # From core 0: 2 x 0.1 x sqrt(4e-4 + 4e-4) = 0.0056569; from core 1:
    # 2 x 0.1 x sqrt(0 + 4e-4) = 0.004.
    assert NOISE_SIGMAS == 1.0
    rates = Rates([100.0] * 4, variance=[0.0, 400.0, 0.0, 0.0])
    charges = MovePrice.noise_charges(rates, np.array([0, 0, 1, 1]), np.full(4, 0.001),
                                      [0, 1], 2)
    assert charges == pytest.approx([0.2 * math.sqrt(8e-4)] * 2 + [0.004] * 2)


# --- hysteresis


def test_a_bucket_is_returning_only_to_the_core_it_left_within_the_life():
    life = ImbalanceLife(4)
    recent = RecentMoves(4)
    recent.record([(2, 1)])
    # While the life is unknown, any return is held.
    recent.advance(5.0)
    assert recent.returning(2, 1, life)
    assert not recent.returning(2, 3, life) and not recent.returning(0, 1, life)
    life.known, life.life = True, 4.0
    assert not recent.returning(2, 1, life)
    recent.record([(2, 3)])
    recent.advance(3.9)
    assert recent.returning(2, 3, life)


def test_a_dominant_bucket_is_not_sent_back_on_the_work_a_core_owes():
    price = MovePrice(4, 0.01)
    # Bucket 0 (600 packets/s x 0.001 = 0.6) left core 1 for core 0. Level loads: core
    # 0 holds 0.6 + 0.1 = 0.7, core 1 0.2; their average is 0.45, so 0.25 and -0.25
    # persist. Sending bucket 0 back gains 2 x 0.6 x 0.5 - 2 x 0.36 = -0.12 for good:
    # only what core 0 owes made it look worth it, and it is dropped, its weight
    # given back to the excesses the search left (-0.25 + 0.6, 0.25 - 0.6).
    price.record([(0, 1)])
    rates = Rates([600.0, 100.0, 100.0, 100.0])
    relief = Relief([(0, 1)], [-0.25, 0.25])
    kept = price.hold(relief, [0, 1], np.array([0, 0, 1, 1]), rates, np.full(4, 0.001),
                      [0, 1], 1.0, 0.001)
    assert kept.moves == []
    assert kept.excess == pytest.approx([0.35, -0.35])


def test_a_return_that_fixes_a_lasting_imbalance_is_kept():
    price = MovePrice(4, 0.01)
    # Bucket 1 (0.1) came from core 1 but its neighbour on core 0 has since grown to
    # 0.9: level loads 1.0 and 0.2, average 0.6, lasting excesses 0.4 and -0.4. Going
    # back gains 2 x 0.1 x 0.8 - 2 x 0.01 = 0.14 for good. Its noise: variance 2500 x
    # 0.001^2 = 0.0025 on each core, 2 x 0.1 x 2 x sqrt(0.005) = 0.0283; with the
    # price of 0.1, 0.1283 < 0.14: kept. With a price of 0.12 it is not.
    assert HOLD_SIGMAS == 2.0
    price.record([(1, 1)])
    rates = Rates([900.0, 100.0, 100.0, 100.0], variance=[2500.0, 0.0, 2500.0, 0.0])
    args = ([0, 1], np.array([0, 0, 1, 1]), rates, np.full(4, 0.001), [0, 1], 1.0)
    relief = Relief([(1, 1)], [0.3, -0.3])
    assert price.hold(relief, *args, 0.1).moves == [(1, 1)]
    assert price.hold(relief, *args, 0.12).moves == []


def test_two_cores_do_not_hand_a_dominant_bucket_back_and_forth():
    """Two cores serving 10 Mpps each, 128 buckets, one carrying 40% of 12 Mpps.

    The core holding the big bucket serves 0.84, the other 0.36. Moving the big
    bucket only swaps which core is overloaded, but each time its core has served
    more than its share, the work owed made the move back look worth it: the bucket
    went back and forth every other tick. Now it moves at most once and never back,
    and the small buckets even the cores out (each within IMBALANCE_THRESHOLD, 0.02,
    of the average) once the traffic's imbalances are known to last.
    """
    rng = np.random.default_rng(1)
    params = BalanceParams(method="rsspp", reta_size=128, cpus=2, timer=0.01, timer_max=1.0,
                           target_load=0.75)
    controller = Controller(params)
    rates = np.full(128, 12e6 * 0.6 / 127)
    rates[5] = 12e6 * 0.4
    elapsed, big_moves, loads = 0.01, [], np.zeros(2)
    for _ in range(600):
        counts = rng.poisson(rates * elapsed)
        per_core = np.bincount(controller.table, weights=counts, minlength=2)
        loads = np.minimum(per_core / (10e6 * elapsed), 1.0)
        decision = controller.step(loads, counts, elapsed)
        big_moves += [(old, new) for bucket, old, new in decision.moves if bucket == 5]
        elapsed = decision.next_tick
    assert len(big_moves) <= 1
    assert abs(loads[0] - loads[1]) <= 2 * params.imbalance_threshold


# --- the knob


def test_move_cost_is_a_balancer_setting_never_negative():
    assert BalanceParams().move_cost == 0.01
    assert BalanceParams(move_cost=-1.0).problems() == [("MOVE_COST", "must be at least 0, "
                                                                      "got -1")]
    dearer = Controller(BalanceParams(move_cost=0.5))
    assert dearer.method.price.move_cost == 0.5


def configure(move_cost: str) -> Router:
    text = ("nic :: SimNIC(CORES 2) -> Discard;\ncounter :: SimCounter(DEV nic);\n"
            f"db :: DeviceBalancer(METHOD rsspp, DEV nic, RSSCOUNTER counter, {move_cost});\n")
    router = Router(flatten(text, "price.click"))
    router.configure()
    return router


def test_device_balancer_takes_move_cost():
    router = configure("MOVE_COST 0.3")
    assert router.find("db").params.move_cost == 0.3
    with pytest.raises(ConfigError) as caught:
        configure("MOVE_COST -0.1")
    message = "\n".join(caught.value.messages)
    assert "price.click:3: While configuring 'db :: DeviceBalancer'" in message
    assert "MOVE_COST: must be at least 0, got '-0.1'" in message
