"""The parameters of the synthetic flow model (``pyclick.sim.traffic``).

Kept apart from the model, and free of numpy, so that a configuration can
be checked (``pyclick -q``) without loading what runs it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pyclick.sim.profile import LoadProfile

#: The distributions of flow rates.
RATE_LAWS = ("pareto", "lognormal")


@dataclass
class TrafficConfig:
    """Parameters of the synthetic flow model.

    The defaults give, with an even indirection table of 128 buckets on 8
    cores, a median per-second imbalance ((max - min) / min of per-core
    packets) of 40 to 55% depending on the seed, close to the 54% RSS++'s
    authors measured on a campus trace (``bench/bench_sim.py`` measures it).
    """

    seed: int = 1
    #: Mean total offered load, packets per second.
    rate_pps: float = 1_000_000.0
    #: Mean number of concurrent mouse flows.
    flows: int = 8000
    #: Mean lifetime of a mouse flow, seconds; infinite: flows live forever.
    mean_lifetime: float = 2.0
    #: Shape of the Weibull distribution of mouse lifetimes: 1 is the
    #: exponential, below 1 a heavy tail (many short flows, a few very long).
    lifetime_shape: float = 1.0
    #: Distribution of flow rates: "pareto" or "lognormal".
    rate_law: str = "pareto"
    #: Shape of the Pareto distribution of flow rates (smaller = heavier tail).
    pareto_shape: float = 1.9
    #: Standard deviation of the log of a flow's rate, for "lognormal".
    lognormal_sigma: float = 1.0
    #: A single flow's rate weight is capped at this multiple of the smallest
    #: (Pareto) or of the median (log-normal).
    pareto_cap: float = 2000.0
    #: Number of concurrent elephant flows.
    elephants: int = 16
    #: Share of the mean load the elephants carry together.
    elephant_share: float = 0.14
    #: Mean lifetime (exponential) of an elephant, seconds; infinite: forever.
    elephant_lifetime: float = 5.0
    #: Rate multiplier of a bursting elephant, and of a calm one (0: on/off).
    burst_factor: float = 3.0
    calm_factor: float = 1.0
    #: Mean duration of a burst and of the calm between bursts, seconds.
    burst_on: float = 0.5
    burst_off: float = 2.0
    #: Time (seconds) when every elephant is replaced by a new one; None = never.
    shift_at: float | None = None
    #: Every elephant is also replaced every this many seconds; None = never.
    shift_every: float | None = None
    #: Share of flows that are IPv6, and of flows that are UDP.
    ipv6_fraction: float = 0.1
    udp_fraction: float = 0.2
    #: Short-term burstiness: each bucket's rate is modulated by a log-normal
    #: factor (this standard deviation of its log) that drifts with the
    #: given correlation time, seconds, as the flows of a bucket speed up
    #: and slow down together. 0 turns it off.
    flicker: float = 0.3
    flicker_time: float = 0.1
    #: Flow rates change only at multiples of this period, seconds.
    epoch: float = 0.01
    #: Scales the offered rate over time; None = constant.
    profile: LoadProfile | None = None

    def validate(self) -> None:
        """Raise ValueError naming the first out-of-range parameter."""
        positive = ("rate_pps", "burst_factor", "burst_on", "burst_off", "flicker_time", "epoch")
        for name in positive:
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be positive and finite")
        for name in ("mean_lifetime", "elephant_lifetime"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        if not 0.1 <= self.lifetime_shape <= 10:
            raise ValueError("lifetime_shape must be between 0.1 and 10")
        if self.rate_law not in RATE_LAWS:
            raise ValueError(f"rate_law must be one of {', '.join(RATE_LAWS)}")
        if not 0 <= self.lognormal_sigma <= 5:
            raise ValueError("lognormal_sigma must be between 0 and 5")
        if not (0 <= self.calm_factor and math.isfinite(self.calm_factor)):
            raise ValueError("calm_factor must not be negative")
        for name in ("shift_at", "shift_every"):
            value = getattr(self, name)
            if value is not None and not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a finite time")
        if self.shift_every is not None and not self.shift_every >= self.epoch:
            raise ValueError("shift_every must be at least one epoch")
        if self.flows < 1:
            raise ValueError("flows must be at least 1")
        if self.elephants < 0:
            raise ValueError("elephants must not be negative")
        if not self.pareto_shape > 1:
            raise ValueError("pareto_shape must be greater than 1")
        if self.flicker < 0:
            raise ValueError("flicker must not be negative")
        if not self.pareto_cap >= 1:
            raise ValueError("pareto_cap must be at least 1")
        for name in ("elephant_share", "ipv6_fraction", "udp_fraction"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.elephants == 0 and self.elephant_share > 0:
            raise ValueError("elephant_share needs at least one elephant")
