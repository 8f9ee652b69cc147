"""Traffic families: what sets each apart, determinism, and their keyword in SimNIC."""

from pathlib import Path

import numpy as np
import pytest

from pyclick.elements.simnic import SimNIC
from pyclick.errors import Landmark
from pyclick.rss.toeplitz import MICROSOFT_KEY
from pyclick.sim.families import FAMILIES, family_config
from pyclick.sim.traffic import TrafficConfig, TrafficGenerator
from tests.helpers import config_error_of, configured_router

NAMES = [f.name for f in FAMILIES]
DOCS = Path(__file__).resolve().parents[1] / "docs" / "traffic.md"


def generator(name: str, seed: int = 1, rate: float = 1e6, **overrides) -> TrafficGenerator:
    return TrafficGenerator(family_config(name, seed=seed, rate_pps=rate, **overrides),
                            MICROSOFT_KEY, 128)


def test_at_least_four_families_besides_the_default():
    assert len(NAMES) >= 5 and NAMES[0] == "campus"


@pytest.mark.parametrize("name", NAMES)
def test_families_are_deterministic_under_the_seed(name):
    first = generator(name, seed=5).windows(0.0, 0.001, 200)
    assert np.array_equal(first, generator(name, seed=5).windows(0.0, 0.001, 200))
    assert not np.array_equal(first, generator(name, seed=6).windows(0.0, 0.001, 200))


@pytest.mark.parametrize("name", NAMES)
def test_families_offer_the_rate_asked(name):
    # Two seconds at 200000 packets/s; bursts and flicker keep the mean.
    total = generator(name, seed=2, rate=200_000).windows(0.0, 0.01, 200).sum()
    assert total / 2 == pytest.approx(200_000, rel=0.15)


def test_campus_is_the_models_default():
    assert family_config("campus", seed=3, rate_pps=5e5) == TrafficConfig(seed=3, rate_pps=5e5)


def test_shift_has_lognormal_rates_heavy_tailed_lives_and_changes_its_elephants_mid_run():
    traffic = generator("shift", duration=4.0)
    config = traffic.config
    assert config.shift_at == 2.0 and config.elephants == 6
    weights = traffic.flow_weights()
    assert np.std(np.log(weights)) == pytest.approx(config.lognormal_sigma, rel=0.05)
    first_mice = set(traffic.flow_ids().tolist())
    elephants = set(traffic.flow_ids(elephants=True).tolist())
    traffic.windows(0.0, 0.01, 199)
    assert set(traffic.flow_ids(elephants=True).tolist()) == elephants   # steady until...
    traffic.windows(1.99, 0.01, 801)                                     # ... t = 10 s
    after = set(traffic.flow_ids(elephants=True).tolist())
    assert len(after) == 6 and not after & elephants
    # Weibull lives of shape 0.5 and mean 3 s (scale 1.5 s): a flow seen under way
    # is still alive t later with probability (u + 1) e^-u, u = sqrt(t / 1.5); at
    # t = 10 s that is 27.1% (exponential lives of the same mean: e^(-10/3) = 3.6%).
    survivors = len(first_mice & set(traffic.flow_ids().tolist())) / len(first_mice)
    assert survivors == pytest.approx(0.271, abs=0.02)
    assert traffic.flow_count == pytest.approx(20_006, rel=0.05)


def test_onoff_elephants_live_the_whole_run_and_switch_on_and_off():
    traffic = generator("onoff")
    elephants = set(traffic.flow_ids(elephants=True).tolist())
    seen = []
    for i in range(3000):                   # 30 s in 10 ms epochs
        traffic.windows(i * 0.01, 0.01, 1)
        seen.append(traffic.bursting)
    assert set(traffic.flow_ids(elephants=True).tolist()) == elephants
    # On 1 s, off 1.5 s on average: 40% of the ten are on, from none to most of them.
    assert np.mean(seen) == pytest.approx(4.0, abs=1.0)
    assert min(seen) <= 1 and max(seen) >= 7


def test_steady_flows_never_change():
    traffic = generator("steady")
    flows = traffic.flow_ids()
    traffic.windows(0.0, 0.01, 3000)
    assert len(flows) == 1000 and np.array_equal(np.sort(traffic.flow_ids()), np.sort(flows))
    assert len(traffic.flow_ids(elephants=True)) == 0


def test_dense_runs_a_hundred_thousand_flows():
    traffic = generator("dense")
    traffic.windows(0.0, 0.01, 200)
    assert traffic.flow_count == pytest.approx(100_032, rel=0.02)


def test_given_counts_and_shift_replace_the_familys():
    config = family_config("shift", seed=1, rate_pps=1e6, flows=500, elephants=0,
                           shift_at=7.0, duration=60.0)
    assert (config.flows, config.elephants, config.elephant_share, config.shift_at) == \
        (500, 0, 0.0, 7.0)
    # A run without an end shifts at 30 s.
    assert family_config("shift", seed=1, rate_pps=1e6).shift_at == 30.0


def test_unknown_family():
    with pytest.raises(ValueError, match="unknown traffic family 'web' .known: campus, "):
        family_config("web", seed=1, rate_pps=1e6)


def sim_router(config: str):
    return configured_router([("fd", "SimNIC", config)], at=Landmark("f.click", 3))


def test_simnic_runs_a_family(capsys):
    router = sim_router("CORES 4, TRAFFIC steady, DURATION 2, LOAD 0.5, CAPACITY 100000")
    traffic = router.element("fd").nic.traffic
    assert traffic.config.flows == 1000 and traffic.config.mean_lifetime == float("inf")
    router.run()
    assert router.element("fd").nic.stats.received.sum() == pytest.approx(400_000, rel=0.05)


def test_simnic_shifts_a_mid_run_family_at_half_its_duration():
    traffic = sim_router("TRAFFIC shift, DURATION 40").element("fd").nic.traffic
    assert traffic.config.shift_at == 20.0


def test_simnic_default_traffic_is_unchanged():
    traffic = sim_router("SEED 9, CORES 8").element("fd").nic.traffic
    assert traffic.config == TrafficConfig(seed=9, rate_pps=0.6 * 8 * 1e6)


@pytest.mark.parametrize("config, message", [
    ("TRAFFIC web", "f.click:3: While configuring 'fd :: SimNIC': TRAFFIC: expected one of "
                    "campus, shift, onoff, steady, dense"),
    ("PCAP x.pcap, TRAFFIC onoff", "TRAFFIC and PROFILE apply to synthetic traffic, not to PCAP"),
])
def test_simnic_traffic_errors(config, message):
    assert message in str(config_error_of(sim_router, config))


@pytest.mark.parametrize("name", NAMES)
def test_every_family_is_documented(name):
    assert f"\n    {name}: " in SimNIC.__doc__
    assert f"\n- `{name}`" in DOCS.read_text()
