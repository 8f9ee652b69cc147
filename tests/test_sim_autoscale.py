"""Autoscaling measured on the simulated NIC: cores in use against the ideal along a ramp."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pyclick.lang import flatten
from pyclick.record import read_records
from pyclick.router import Router

# 8 cores of 100,000 packets/s; the offered rate is 600,000 packets/s times
# the profile's level: 0.2 (120,000/s), up to 1 (600,000/s), down to 0.2.
# At TARGET_LOAD 0.75 a core should carry 75,000/s: the ideal is
# ceil(120,000 / 75,000) = 2 cores at the ends and 8 at the top.
RAMP = ('fd :: SimNIC(CORES 8, CAPACITY 100000, RATE 600000, SEED 2, DURATION 24, QUIET true,'
        ' PROFILE "0s 0.2, 2s 0.2 ramp, 10s 1, 12s 1 ramp, 20s 0.2") -> Discard;'
        'db :: DeviceBalancer(METHOD rsspp, DEV fd, RSSCOUNTER xdp, CYCLES realcpu, TIMER 10,'
        ' TIMER_MAX 1000, TARGET_LOAD 0.75, AUTOSCALE true, STARTCPU 2, VERBOSE 0{extra});'
        'xdp :: SimCounter(DEV fd);')


def run(text: str) -> Router:
    router = Router(flatten(text, "ramp.click"))
    router.configure()
    assert router.run(handle_signals=False) == 0
    return router


@pytest.fixture(scope="module")
def ramp(tmp_path_factory):
    record = tmp_path_factory.mktemp("ramp") / "ramp.jsonl"
    router = run(RAMP.format(extra=f", RECORD {record}"))
    return router, list(read_records(record))


def test_autoscale_adds_cores_up_the_ramp_and_removes_them_down(ramp):
    router, _ = ramp
    stats = router.element("fd").nic.stats
    in_use = stats.cores_in_use_per_second()
    assert len(in_use) == 24
    assert in_use[:2].max() <= 3                   # 2 ideal
    assert in_use[11] >= 7                          # 8 ideal at the top
    assert in_use[-2:].max() <= 3                   # back to 2
    # Up the ramp every second uses at least as many cores as the one before, give or take one.
    assert (np.diff(in_use[2:11]) > -1).all()
    assert (np.diff(in_use[12:22]) < 1).all()
    assert stats.core_changes >= 2 * (7 - 3)
    assert stats.fewest_cores == 2 and stats.most_cores == 8


def test_core_seconds_against_the_ideal(ramp):
    router, _ = ramp
    stats = router.element("fd").nic.stats
    offered = stats.offered_per_second()
    ideal = [min(8, math.ceil(x / 75_000 - 1e-9)) for x in offered]
    assert stats.ideal_core_seconds == pytest.approx(sum(ideal))
    assert stats.core_seconds == pytest.approx(stats.cores_in_use_per_second().sum())
    assert 1.0 <= stats.core_seconds / stats.ideal_core_seconds <= 1.3
    text = stats.summary()
    assert "cores in use: mean " in text and "ideal at TARGET_LOAD 0.75" in text
    assert f"core changes {stats.core_changes}" in text


def test_the_recording_has_cores_in_use_and_the_ideal_at_every_tick(ramp):
    router, records = ramp
    assert all(r.in_use >= 2 and r.ideal is not None and r.drops is not None for r in records)
    # The ideal follows the tick's offered load: 2 at the start, 8 at the top.
    start = [r.ideal for r in records if r.t < 2]
    top = [r.ideal for r in records if 10.5 < r.t < 11.5]
    assert np.median(start) == 2 and np.median(top) == 8
    assert max(r.in_use for r in records) == 8 and records[-1].in_use <= 3
    assert sum(r.drops for r in records) <= router.element("fd").nic.packets_dropped()
    delays = [r.latency_us for r in records if r.latency_us]
    assert len(delays) > len(records) / 2
    assert all(p50 <= p95 <= p99 for p50, p95, p99 in delays)


def test_imbalance_is_taken_over_the_cores_in_use():
    # At 0.3 of 8 cores' capacity autoscale settles on 4 cores and leaves 4
    # idle: the seconds a core is removed in must not count it.
    router = run("fd :: SimNIC(CORES 8, CAPACITY 100000, LOAD 0.3, SEED 1, DURATION 10, QUIET true)"
                 " -> Discard; db :: DeviceBalancer(METHOD rsspp, DEV fd, RSSCOUNTER xdp,"
                 " CYCLES realcpu, TIMER 10, TIMER_MAX 1000, TARGET_LOAD 0.75, AUTOSCALE true,"
                 " VERBOSE 0); xdp :: SimCounter(DEV fd);")
    stats = router.element("fd").nic.stats
    assert stats.cores_in_use_per_second()[-1] == 4
    assert stats.active[-1].sum() == 4
    imbalance = stats.imbalance_per_second()
    assert np.isfinite(imbalance).all() and imbalance.max() < 0.5
