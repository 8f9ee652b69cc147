"""Offered-load profiles: their syntax, their levels, and traffic that follows them."""

import pytest

from pyclick.errors import Landmark
from pyclick.rss.toeplitz import MICROSOFT_KEY
from pyclick.sim.profile import LoadProfile, Point, parse_profile
from pyclick.sim.traffic import TrafficConfig, TrafficGenerator
from tests.helpers import config_error_of, configured_router

EXAMPLE = "0s 0.2, 10s 0.8 ramp, 20s 0.3"


@pytest.mark.parametrize("t, level", [
    (0.0, 0.2), (5.0, 0.2), (9.999, 0.2),     # held until the next point
    (10.0, 0.8), (15.0, 0.55), (17.5, 0.425),  # 0.8 falling by 0.05 a second
    (20.0, 0.3), (100.0, 0.3),                 # the last level holds
])
def test_steps_and_ramps(t, level):
    assert parse_profile(EXAMPLE).level(t) == pytest.approx(level)


def test_mean_level_over_an_interval():
    profile = parse_profile(EXAMPLE)
    # 10 s at 0.2, then a ramp averaging (0.8 + 0.3) / 2 for 10 s.
    assert profile.mean(0.0, 20.0) == pytest.approx((2.0 + 5.5) / 20)
    assert profile.mean(12.0, 18.0) == pytest.approx(0.55)
    # Across the step: 1 s at 0.2 and 1 s ramping from 0.8 to 0.75.
    assert profile.mean(9.0, 11.0) == pytest.approx((0.2 + 0.775) / 2)


def test_before_the_first_point_its_level_holds():
    profile = LoadProfile([Point(5.0, 0.4), Point(6.0, 0.9)])
    assert profile.level(1.0) == 0.4
    assert profile.mean(0.0, 6.0) == pytest.approx(0.4)


def test_time_units():
    profile = parse_profile("0 1, 500ms 2, 1min 3, 1h 4")
    assert [profile.level(t) for t in (0.4, 0.5, 59.0, 60.0, 3599.0, 3600.0)] == \
        [1, 2, 2, 3, 3, 4]


def test_a_day_compressed_into_minutes():
    day = parse_profile("day 24min")          # one hour of the day per minute
    low, high = 0.2, 1.0
    assert day.level(4 * 60) == pytest.approx(low)              # 4 am, the quietest
    assert day.level(20 * 60) == pytest.approx(high)            # 8 pm, the busiest
    assert day.level(9 * 60) == pytest.approx(low + 0.8 * 0.50)  # 9 am: 0.50 of the range
    # Half-way from 11 pm (0.50) back to midnight (0.30).
    assert day.level(23.5 * 60) == pytest.approx(low + 0.8 * 0.40)
    # It repeats: the next day at 4 am and 8 pm.
    assert day.level(24 * 60 + 4 * 60) == pytest.approx(low)
    assert day.level(2 * 24 * 60 + 20 * 60) == pytest.approx(high)
    # The hourly levels sum to 12.13 of the range: the day's mean is their mean.
    assert day.mean(0, 24 * 60) == pytest.approx(low + 0.8 * 12.13 / 24)
    assert day.mean(24 * 60, 48 * 60) == pytest.approx(day.mean(0, 24 * 60))


def test_a_day_between_given_levels():
    day = parse_profile("day 2min 0.5 0.9")
    assert day.level(2 * 60 * 4 / 24) == pytest.approx(0.5)
    assert day.level(2 * 60 * 20 / 24) == pytest.approx(0.9)


@pytest.mark.parametrize("text, message", [
    ("0s", "point 1 '0s': expected 'TIME LEVEL'"),
    ("0s 0.2, 10s", "point 2 '10s'"),
    ("0s 0.2, 10s 0.5 slope", "point 2"),
    ("0s fast", "level 'fast' is not a number"),
    ("soon 0.2", "'soon' is not a time"),
    ("-1s 0.2", "'-1s' is not a time"),
    ("0s 0.2, 5s 0.3, 5s 0.4", "times must increase"),
    ("0s -0.5", "level -0.5: must be finite and not negative"),
    ("0s nan", "must be finite"),
    ("0s 0.2 ramp", "the last point has no next point to ramp to"),
    ("day", "expected 'day PERIOD'"),
    ("day 0s", "PERIOD must be positive"),
    ("day 1min 0.9 0.5", "need 0 <= LOW <= HIGH"),
])
def test_malformed_profiles_are_explained(text, message):
    with pytest.raises(ValueError, match=message):
        parse_profile(text)


def traffic(profile: str, **overrides) -> TrafficGenerator:
    # No elephants and no flicker: the buckets' rates add up to the offered rate exactly.
    config = TrafficConfig(seed=4, rate_pps=100_000.0, elephants=0, elephant_share=0.0,
                           flicker=0.0, profile=parse_profile(profile), **overrides)
    return TrafficGenerator(config, MICROSOFT_KEY, 128)


def test_the_offered_rate_follows_the_profile():
    generator = traffic(EXAMPLE)
    # Each 10 ms epoch offers the profile's mean over it.
    expected = {0.0: 20_000, 5.0: 20_000, 10.0: 100_000 * (0.8 + 0.7995) / 2,
                15.0: 100_000 * (0.55 + 0.5495) / 2, 25.0: 30_000}
    for t, rate in expected.items():
        generator.window(t, 0.001)
        assert generator.bucket_rates().sum() == pytest.approx(rate)
    assert generator.offered_rate(10.0, 20.0) == pytest.approx(55_000)


def test_the_packets_counted_follow_the_profile():
    generator = traffic("0s 0.5, 1s 1, 2s 0.1")
    per_second = [generator.windows(float(s), 0.001, 1000).sum() for s in range(3)]
    # Poisson counts: a standard deviation of at most sqrt(100000) = 316 packets.
    assert per_second == pytest.approx([50_000, 100_000, 10_000], rel=0.03)


def test_packets_follow_the_profile_too():
    generator = traffic("0s 0.1, 1s 1")
    quiet = len(generator.packets(0.5, 0.05))     # 0.1 x 100000 x 0.05 = 500
    busy = len(generator.packets(1.5, 0.05))      # 5000
    assert quiet == pytest.approx(500, rel=0.2) and busy == pytest.approx(5000, rel=0.1)


def test_without_a_profile_the_rate_is_constant():
    config = TrafficConfig(seed=4, rate_pps=100_000.0, elephants=0, elephant_share=0.0,
                           flicker=0.0)
    generator = TrafficGenerator(config, MICROSOFT_KEY, 128)
    generator.window(7.0, 0.001)
    assert generator.bucket_rates().sum() == pytest.approx(100_000)
    assert generator.offered_rate(0.0, 60.0) == 100_000


def sim_router(config: str):
    return configured_router([("fd", "SimNIC", config)], at=Landmark("p.click", 2))


def test_simnic_offers_the_profile(capsys):
    router = sim_router("CORES 4, CAPACITY 100000, LOAD 1, DURATION 3, FLOWS 2000, "
                        "ELEPHANTS 0, PROFILE \"0s 0.2, 1s 0.8 ramp, 2s 0.4\"")
    router.run()
    received = router.element("fd").nic.stats.received.sum(axis=1)
    # Of 400000 packets/s: 0.2, then the ramp from 0.8 to 0.4 (mean 0.6), then 0.4.
    assert received == pytest.approx([80_000, 240_000, 160_000], rel=0.05)


@pytest.mark.parametrize("config, message", [
    ("PROFILE \"0s 0.2, 1s\"",
     "p.click:2: While configuring 'fd :: SimNIC': PROFILE: point 2 '1s'"),
    ("PROFILE \"day 1min 2 1\"", "PROFILE: day: need 0 <= LOW <= HIGH"),
    ("PCAP x.pcap, PROFILE \"0s 1\"", "TRAFFIC and PROFILE apply to synthetic traffic"),
])
def test_simnic_profile_errors(config, message):
    assert message in str(config_error_of(sim_router, config))
