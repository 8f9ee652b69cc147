"""Traffic families: named settings of the synthetic flow model.

Each family is a ``TrafficConfig`` with a few fields changed, described in
one sentence. They differ in what makes balancing hard: the distribution of
flow rates (Pareto or log-normal), how long flows live (exponential, a
heavy-tailed Weibull, forever), how the load bursts (elephants bursting or
switching on and off, buckets flickering), how many elephants there are,
what share they carry and when they change, and how many flows run at once
(1,000 to 100,000). ``campus`` is the model's default and SimNIC's.

The offered rate, the seed and the time-varying profile are not part of a
family: ``family_config`` adds them, with the counts of flows and elephants
and the time of a shift when the user gives them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Mapping

from pyclick.sim.profile import LoadProfile
from pyclick.sim.trafficconfig import TrafficConfig

#: When a run has no end, a family that shifts its elephants "mid-run" does so here.
OPEN_RUN_SHIFT = 30.0


@dataclass(frozen=True)
class Family:
    """A named traffic model: the TrafficConfig fields it changes, and a sentence about it."""

    name: str
    sentence: str
    settings: Mapping[str, object]
    #: Whether the elephants are all replaced half-way through the run.
    shift_mid_run: bool = False


FAMILIES: tuple[Family, ...] = (
    Family("campus",
           "about 8,000 short-lived flows with Pareto rates plus 16 elephants carrying 14% of "
           "the load in bursts, over a flickering background: tuned to the campus trace of the "
           "RSS++ paper, and the default",
           MappingProxyType({})),
    Family("shift",
           "20,000 flows with log-normal rates and heavy-tailed (Weibull) lives, plus six "
           "steady elephants carrying 12% of the load, all replaced by new ones half-way "
           "through the run",
           MappingProxyType({"flows": 20_000, "rate_law": "lognormal", "lognormal_sigma": 1.2,
                             "mean_lifetime": 3.0, "lifetime_shape": 0.5,
                             "elephants": 6, "elephant_share": 0.12,
                             "elephant_lifetime": math.inf, "burst_factor": 1.0,
                             "flicker": 0.2}),
           shift_mid_run=True),
    Family("onoff",
           "30,000 short-lived mice with Pareto rates plus ten elephants that live the whole "
           "run and carry 20% of the load, each switching on and off every second or two",
           MappingProxyType({"flows": 30_000, "mean_lifetime": 0.5, "pareto_shape": 1.5,
                             "elephants": 10, "elephant_share": 0.2,
                             "elephant_lifetime": math.inf, "burst_factor": 1.0,
                             "calm_factor": 0.0, "burst_on": 1.0, "burst_off": 1.5,
                             "flicker": 0.1})),
    Family("steady",
           "1,000 flows that live the whole run with log-normal rates, no elephants and "
           "little flicker: a balanced table stays balanced",
           MappingProxyType({"flows": 1000, "rate_law": "lognormal", "lognormal_sigma": 1.0,
                             "mean_lifetime": math.inf, "elephants": 0,
                             "elephant_share": 0.0, "flicker": 0.05})),
    Family("dense",
           "100,000 flows living a second on average with Pareto rates, 32 elephants "
           "carrying 10% in strong bursts, and fast, deep flicker of every bucket",
           MappingProxyType({"flows": 100_000, "mean_lifetime": 1.0, "elephants": 32,
                             "elephant_share": 0.1, "elephant_lifetime": 2.0,
                             "burst_factor": 5.0, "burst_on": 0.2, "burst_off": 1.0,
                             "flicker": 0.5, "flicker_time": 0.03})),
)

DEFAULT_FAMILY = "campus"

#: The families by name.
BY_NAME: Mapping[str, Family] = MappingProxyType({f.name: f for f in FAMILIES})


def family(name: str) -> Family:
    """The family called ``name``; ValueError naming the known ones otherwise."""
    found = BY_NAME.get(name)
    if found is None:
        raise ValueError(f"unknown traffic family '{name}' (known: {', '.join(BY_NAME)})")
    return found


def family_config(name: str, *, seed: int, rate_pps: float, flows: int | None = None,
                  elephants: int | None = None, shift_at: float | None = None,
                  duration: float = 0.0, profile: LoadProfile | None = None) -> TrafficConfig:
    """The TrafficConfig of family ``name`` for a run of ``duration`` seconds (0: no end).

    ``flows``, ``elephants`` and ``shift_at`` replace the family's own when
    given; without elephants the family's elephant share goes to the mice.
    A family that shifts mid-run does so at half of ``duration``.
    """
    chosen = family(name)
    config = replace(TrafficConfig(), **chosen.settings)
    changes: dict[str, object] = {"seed": seed, "rate_pps": rate_pps, "profile": profile}
    if flows is not None:
        changes["flows"] = flows
    if elephants is not None:
        changes["elephants"] = elephants
    if shift_at is not None:
        changes["shift_at"] = shift_at
    elif chosen.shift_mid_run:
        changes["shift_at"] = duration / 2 if duration > 0 else OPEN_RUN_SHIFT
    if changes.get("elephants", config.elephants) == 0:
        changes["elephant_share"] = 0.0
    return replace(config, **changes)
