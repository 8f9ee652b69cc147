"""The synthetic traffic model: determinism, load, churn, shifts, packets."""

import numpy as np
import pytest

from pyclick.rss.toeplitz import MICROSOFT_KEY, toeplitz_hash, tuple_bytes
from pyclick.sim.flows import TCP, UDP
from pyclick.sim.traffic import TrafficConfig, TrafficGenerator


def generator(reta_size=128, **overrides):
    return TrafficGenerator(TrafficConfig(**overrides), MICROSOFT_KEY, reta_size)


def test_same_seed_same_traffic_other_seed_other_traffic():
    a, b, c = generator(seed=5), generator(seed=5), generator(seed=6)
    first = a.windows(0.0, 0.001, 300)
    assert np.array_equal(first, b.windows(0.0, 0.001, 300))
    assert not np.array_equal(first, c.windows(0.0, 0.001, 300))


def test_batching_windows_does_not_change_the_draws():
    batched, single = generator(seed=2), generator(seed=2)
    together = batched.windows(0.0, 0.001, 50)
    one_by_one = np.array([single.window(i * 0.001, 0.001) for i in range(50)])
    assert np.array_equal(together, one_by_one)


def test_offered_load_is_the_configured_rate_on_average():
    traffic = generator(seed=3, rate_pps=200_000)
    total = traffic.windows(0.0, 0.001, 5000).sum()
    assert total / 5.0 == pytest.approx(200_000, rel=0.05)


def test_windows_are_nonnegative_counts_per_bucket():
    counts = generator(reta_size=64, seed=4).windows(0.0, 0.001, 20)
    assert counts.shape == (20, 64) and counts.dtype == np.int64
    assert (counts >= 0).all()


def test_time_only_moves_forward():
    traffic = generator(seed=1)
    traffic.windows(1.0, 0.001, 10)
    with pytest.raises(ValueError, match="forward"):
        traffic.window(0.5, 0.001)


def test_flows_live_finite_lifetimes_and_the_population_is_steady():
    traffic = generator(seed=8, flows=2000, mean_lifetime=1.0, elephants=4)
    initial = set(traffic.flow_ids().tolist())
    traffic.windows(0.0, 0.01, 500)     # 5 seconds: 5 mean lifetimes
    alive = set(traffic.flow_ids().tolist())
    survivors = len(initial & alive) / len(initial)
    assert survivors < 0.03             # e^-5 = 0.7%
    assert 1800 < traffic.flow_count < 2200


def test_last_tick_only_partly_predicts_the_next():
    traffic = generator(seed=9)
    ticks = np.array([traffic.windows(i * 0.1, 0.001, 100).sum(axis=0) for i in range(30)],
                     dtype=float)
    errors = np.abs(ticks[1:] - ticks[:-1]).sum(axis=1) / ticks[1:].sum(axis=1)
    correlations = [np.corrcoef(ticks[i], ticks[i + 1])[0, 1] for i in range(29)]
    assert 0.1 < np.median(errors) < 0.5
    assert 0.5 < np.median(correlations) < 0.98


def test_shift_replaces_the_elephants_at_once():
    config = dict(seed=10, elephants=8, elephant_share=0.5, elephant_lifetime=1000.0,
                  flicker=0.0, shift_at=1.0)
    traffic = generator(**config)
    traffic.windows(0.0, 0.01, 99)
    before_elephants = set(traffic.flow_ids(elephants=True).tolist())
    before = traffic.bucket_rates()
    traffic.windows(0.99, 0.01, 1)
    just_before = traffic.bucket_rates()
    traffic.windows(1.0, 0.01, 1)
    after = traffic.bucket_rates()
    after_elephants = set(traffic.flow_ids(elephants=True).tolist())
    assert len(after_elephants) == 8 and not before_elephants & after_elephants
    calm_change = np.abs(just_before - before).sum()
    shift_change = np.abs(after - just_before).sum()
    assert shift_change > 3 * calm_change


def test_elephants_burst():
    traffic = generator(seed=11, elephants=10, burst_on=0.1, burst_off=0.1)
    seen = set()
    for i in range(100):
        traffic.windows(i * 0.01, 0.01, 1)
        seen.add(traffic.bursting)
    assert len(seen) > 3


def test_rates_are_heavy_tailed():
    traffic = generator(seed=12, elephants=0, elephant_share=0.0, flicker=0.0)
    weights = traffic.flow_weights()
    top = np.sort(weights)[::-1]
    # The top 1% of flows carry several times their share of the load.
    assert top[:len(top) // 100].sum() / top.sum() > 0.04


def test_packets_carry_their_flow_hash_and_time_in_order():
    traffic = generator(seed=13, rate_pps=50_000, ipv6_fraction=0.5)
    packets = traffic.packets(0.0, 0.01)
    assert 400 < len(packets) < 600
    times = [p.timestamp for p in packets]
    assert times == sorted(times) and 0.0 <= times[0] and times[-1] < 0.01
    families = set()
    for packet in packets[:100]:
        src, dst, sport, dport, proto = packet.flow
        assert proto in (TCP, UDP)
        assert packet.rss_hash == toeplitz_hash(MICROSOFT_KEY, tuple_bytes(src, dst, sport, dport))
        families.add(":" in src)
        assert len(packet.data) >= 60
    assert families == {True, False}


def test_packets_follow_the_same_flows_as_the_counts():
    traffic = generator(seed=14, rate_pps=100_000)
    rates = traffic.bucket_rates()
    packets = traffic.packets(0.0, 0.01)
    buckets = np.bincount([p.rss_hash % 128 for p in packets], minlength=128)
    # Buckets expected to be busy get packets, and the totals agree.
    assert buckets.sum() == pytest.approx(rates.sum() * 0.01, rel=0.1)
    assert np.corrcoef(buckets, rates)[0, 1] > 0.8


def test_steered_counts_agree_with_the_table():
    traffic = generator(seed=15)
    table = np.arange(128) % 5
    per_core, per_bucket = traffic.steered(0.0, 0.001, 25, table, 5)
    assert per_core.shape == (25, 5)
    assert np.array_equal(per_core.sum(axis=0), np.bincount(table, weights=per_bucket,
                                                            minlength=5).astype(np.int64))


def test_cores_far_below_the_hint_get_an_even_spread_and_hot_ones_a_random_one():
    # 100 kpps on 4 cores: about 250 packets per core in each 10 ms epoch,
    # 25 per 1 ms step. Core 0 takes a hint it cannot reach (10,000 per
    # step), core 1 one it could (20 per step: a mean of 25 is above it).
    traffic = generator(seed=17, rate_pps=100_000)
    table = np.arange(128) % 4
    calm = np.array([10_000.0, 20.0, 10_000.0, 10_000.0])
    per_core, per_bucket = traffic.steered(0.0, 0.001, 10, table, 4, calm)
    totals = np.bincount(table, weights=per_bucket, minlength=4).astype(np.int64)
    assert np.array_equal(per_core.sum(axis=0), totals)
    even = per_core[:, [0, 2, 3]]
    assert (even.max(axis=0) - even.min(axis=0) <= 1).all()
    # Even would put totals // 10 or one more in every step; a random spread
    # of about 250 packets over 10 steps (standard deviation 4.7) almost never does.
    assert per_core[:, 1].max() - per_core[:, 1].min() > 1


def test_counts_per_bucket_do_not_depend_on_the_table():
    one, other = generator(seed=18), generator(seed=18)
    for tick in range(20):
        _, first = one.steered(tick * 0.01, 0.001, 10, np.arange(128) % 2, 2)
        _, second = other.steered(tick * 0.01, 0.001, 10, np.arange(128) % 7, 7,
                                  np.full(7, 50.0))
        assert np.array_equal(first, second)


def test_resizing_the_table_rebuckets_the_flows():
    traffic = generator(reta_size=128, seed=16)
    traffic.set_reta_size(512)
    assert traffic.window(0.0, 0.001).shape == (512,)
    assert traffic.bucket_rates().shape == (512,)


@pytest.mark.parametrize("field, value, message", [
    ("pareto_shape", 1.0, "pareto_shape"),
    ("rate_pps", 0.0, "rate_pps"),
    ("flows", 0, "flows"),
    ("elephant_share", 1.5, "elephant_share"),
])
def test_bad_configuration_is_named(field, value, message):
    with pytest.raises(ValueError, match=message):
        generator(**{field: value})


def test_heavy_tailed_lives_keep_the_number_of_flows():
    # Weibull lives of shape 0.5: most flows are short, a few very long; by
    # Little's law the population stays at its mean whatever the shape.
    traffic = generator(seed=17, flows=4000, mean_lifetime=1.0, lifetime_shape=0.5,
                        elephants=0, elephant_share=0.0)
    counts = []
    for second in range(8):
        traffic.windows(float(second), 0.01, 100)
        counts.append(traffic.flow_count)
    assert np.mean(counts) == pytest.approx(4000, rel=0.04)


def test_flows_that_live_forever_never_change():
    traffic = generator(seed=18, flows=300, mean_lifetime=float("inf"), elephants=2,
                        elephant_lifetime=float("inf"))
    mice, elephants = traffic.flow_ids(), traffic.flow_ids(elephants=True)
    traffic.windows(0.0, 0.01, 1000)
    assert np.array_equal(np.sort(traffic.flow_ids()), np.sort(mice))
    assert np.array_equal(np.sort(traffic.flow_ids(elephants=True)), np.sort(elephants))


def test_calm_on_off_elephants_send_nothing():
    # Elephants only (they carry all the load), no flicker: when none bursts, silence.
    traffic = generator(seed=19, elephants=3, elephant_lifetime=float("inf"),
                        elephant_share=1.0, calm_factor=0.0,
                        burst_factor=1.0, burst_on=0.05, burst_off=0.05, flicker=0.0,
                        rate_pps=10_000)
    totals = {}
    for i in range(400):
        traffic.windows(i * 0.01, 0.01, 1)
        totals.setdefault(traffic.bursting, []).append(traffic.bucket_rates().sum())
    assert set(totals) == {0, 1, 2, 3}
    assert max(totals[0]) == 0.0 and min(totals[3]) > 0.0


def test_elephants_change_every_shift_period():
    traffic = generator(seed=20, elephants=4, elephant_lifetime=float("inf"), shift_every=2.0)
    herds = []
    for t in (0.0, 1.99, 2.0, 3.99, 4.0):
        traffic.windows(t, 0.01, 1)
        herds.append(frozenset(traffic.flow_ids(elephants=True).tolist()))
    assert herds[0] == herds[1] and herds[2] == herds[3]
    assert len({herds[0], herds[2], herds[4]}) == 3 and all(len(h) == 4 for h in herds)


def test_lognormal_rates():
    traffic = generator(seed=21, rate_law="lognormal", lognormal_sigma=0.8, elephants=0,
                        elephant_share=0.0)
    logs = np.log(traffic.flow_weights())
    assert np.median(logs) == pytest.approx(0.0, abs=0.05)
    assert np.std(logs) == pytest.approx(0.8, rel=0.05)


@pytest.mark.parametrize("field, value, message", [
    ("rate_law", "zipf", "rate_law must be one of pareto, lognormal"),
    ("lifetime_shape", 0.0, "lifetime_shape"),
    ("calm_factor", -1.0, "calm_factor"),
    ("shift_at", float("inf"), "shift_at must be a finite time"),
    ("shift_every", 0.001, "shift_every must be at least one epoch"),
    ("rate_pps", float("inf"), "rate_pps must be positive and finite"),
])
def test_bad_new_settings_are_named(field, value, message):
    with pytest.raises(ValueError, match=message):
        generator(**{field: value})
