"""Per-second statistics of the simulated NIC, in memory that does not grow with the run.

The most recent seconds are kept whole, in a ring (``history`` seconds);
the whole run is kept as running sums and histograms: per-core packet
totals, the distribution of the per-second imbalance, of every packet's
delay, and the core-seconds used. A day-long run takes the memory of a
minute-long one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pyclick.rss.indirection import even_table
from pyclick.sim.histogram import LogHistogram, log_edges

#: Seconds kept whole by default (ten minutes).
HISTORY_SECONDS = 600
#: Per-second imbalance is binned from 0.001% to 10^6 %, bins 0.2% apart.
IMBALANCE_EDGES = log_edges(1e-5, 1e4, 1.002)
#: Packet delays are binned from 1 ns to 1000 s (in µs), bins 1% apart.
DELAY_EDGES_US = log_edges(1e-3, 1e9, 1.01)
LATENCY_QUANTILES = (0.5, 0.95, 0.99)

# Columns of the per-second scalars.
_IMBALANCE, _STATIC_IMBALANCE, _CORES_IN_USE, _OFFERED, _STATIC_DROPPED = range(5)
_LATENCY = slice(5, 8)
_STATIC_LATENCY = slice(8, 11)
_SCALARS = 11


@dataclass
class Second:
    """What one simulated second measured, per core unless said otherwise.

    ``received`` counts the packets the table steered to each core,
    ``processed`` those the core served, ``dropped`` those its full queue
    refused; ``active`` marks the cores the table named throughout the
    second, ``buckets`` the packets that arrived in each bucket.
    ``core_seconds`` is the count of cores the table named, weighted by
    time, ``cores_range`` the fewest and most it named. ``latency`` holds
    the delays of the second's packets; ``static_latency`` and
    ``static_dropped`` what a static table over as many cores did with the
    same arrivals.
    """

    received: np.ndarray
    processed: np.ndarray
    dropped: np.ndarray
    active: np.ndarray
    buckets: np.ndarray
    core_seconds: float
    cores_range: tuple[int, int]
    latency: LogHistogram
    static_latency: LogHistogram
    static_dropped: int


class SimStats:
    """Per-second, per-core packet counts of a simulated run.

    Of the arrays, row ``i`` covers one simulated second; they hold the
    last ``history`` seconds, oldest first. ``received`` counts packets the
    table steered to each core, ``processed`` those the core served,
    ``dropped`` those its full queue refused. ``active`` marks the cores in
    use in that second: those the table named throughout it.
    """

    def __init__(self, cores: int, capacity_pps: np.ndarray, history: int = HISTORY_SECONDS) -> None:
        if history < 1:
            raise ValueError("history must be at least 1 second")
        self.cores = cores
        self.capacity_pps = np.asarray(capacity_pps, dtype=float)
        self.history = history
        self._received = np.zeros((history, cores), np.int64)
        self._processed = np.zeros((history, cores), np.int64)
        self._dropped = np.zeros((history, cores), np.int64)
        self._active = np.zeros((history, cores), bool)
        self._scalars = np.full((history, _SCALARS), np.nan)
        #: Complete seconds so far.
        self.seconds = 0
        #: Table writes that changed at least one bucket, and buckets changed.
        self.table_writes = 0
        self.buckets_moved = 0
        #: Cores the table started or stopped naming, over the run.
        self.core_changes = 0
        #: The load per core the balancers of the table aim for, once one said it.
        self.target_load: float | None = None
        # The whole run.
        self.received_sum = np.zeros(cores, np.int64)
        self.processed_sum = np.zeros(cores, np.int64)
        self.dropped_sum = np.zeros(cores, np.int64)
        self.static_dropped_sum = 0
        self.core_seconds = 0.0
        self.ideal_core_seconds = 0.0
        self.fewest_cores = cores
        self.most_cores = 0
        self.imbalance = LogHistogram(IMBALANCE_EDGES)
        self.static_imbalance = LogHistogram(IMBALANCE_EDGES)
        self.latency = LogHistogram(DELAY_EDGES_US)
        self.static_latency = LogHistogram(DELAY_EDGES_US)

    def add_second(self, second: "Second") -> None:
        """Close one second: keep it in the ring, add it to the run."""
        row = self.seconds % self.history
        self._received[row] = second.received
        self._processed[row] = second.processed
        self._dropped[row] = second.dropped
        self._active[row] = second.active
        scalars = self._scalars[row]
        in_use = second.received[second.active]
        scalars[_IMBALANCE] = imbalance(in_use) if len(in_use) else np.nan
        scalars[_STATIC_IMBALANCE] = static_imbalance(second.buckets, int(second.active.sum()))
        scalars[_CORES_IN_USE] = second.core_seconds
        offered = int(second.received.sum())
        scalars[_OFFERED] = offered
        scalars[_STATIC_DROPPED] = second.static_dropped
        scalars[_LATENCY] = second.latency.quantiles(LATENCY_QUANTILES)
        scalars[_STATIC_LATENCY] = second.static_latency.quantiles(LATENCY_QUANTILES)
        self.seconds += 1
        self.received_sum += second.received
        self.processed_sum += second.processed
        self.dropped_sum += second.dropped
        self.static_dropped_sum += second.static_dropped
        self.core_seconds += second.core_seconds
        self.fewest_cores = min(self.fewest_cores, second.cores_range[0])
        self.most_cores = max(self.most_cores, second.cores_range[1])
        if self.target_load is not None:
            self.ideal_core_seconds += self.ideal_cores(offered)
        for value, histogram in ((scalars[_IMBALANCE], self.imbalance),
                                 (scalars[_STATIC_IMBALANCE], self.static_imbalance)):
            if np.isfinite(value):
                histogram.add_point(value)
        self.latency.add(second.latency)
        self.static_latency.add(second.static_latency)

    def ideal_cores(self, offered_pps: float) -> int:
        """The fewest cores that keep the target: ceil(offered / (TARGET_LOAD x capacity
        of a core)), at most all of them."""
        if self.target_load is None:
            raise ValueError("no balancer said its target load")
        needed = offered_pps / (self.target_load * float(self.capacity_pps.mean()))
        return min(self.cores, math.ceil(needed - 1e-9))

    # --- the seconds in the ring, oldest first
    def _rows(self, ring: np.ndarray) -> np.ndarray:
        if self.seconds <= self.history:
            return ring[:self.seconds].copy()
        start = self.seconds % self.history
        return np.concatenate([ring[start:], ring[:start]])

    @property
    def received(self) -> np.ndarray:
        return self._rows(self._received)

    @property
    def processed(self) -> np.ndarray:
        return self._rows(self._processed)

    @property
    def dropped(self) -> np.ndarray:
        return self._rows(self._dropped)

    @property
    def active(self) -> np.ndarray:
        return self._rows(self._active)

    def loads_per_second(self) -> np.ndarray:
        """Busy fraction of each core in each second (processed / capacity)."""
        return self.processed / self.capacity_pps

    def imbalance_per_second(self) -> np.ndarray:
        """(max - min) / min of per-core received packets, per second.

        Only the cores in use that second count (a core the table did not
        name throughout the second is idle by design, or was added or
        removed during it: not imbalanced). A second where a core in use
        received nothing is infinitely imbalanced.
        """
        return self._rows(self._scalars)[:, _IMBALANCE]

    def static_imbalance_per_second(self) -> np.ndarray:
        """The paper's metric had the same arrivals met a static, even table.

        Each second's per-bucket arrivals are spread over as many cores as
        were in use that second, bucket ``b`` to core ``b % n``, as static
        RSS does: the baseline a balancer's imbalance is compared with.
        """
        return self._rows(self._scalars)[:, _STATIC_IMBALANCE]

    def latency_per_second(self, static: bool = False) -> np.ndarray:
        """p50, p95 and p99 of the delay (µs) of the packets of each second: (seconds, 3)."""
        return self._rows(self._scalars)[:, _STATIC_LATENCY if static else _LATENCY]

    def cores_in_use_per_second(self) -> np.ndarray:
        """Cores the table named in each second, weighted by the time it named them."""
        return self._rows(self._scalars)[:, _CORES_IN_USE]

    def offered_per_second(self) -> np.ndarray:
        """Packets that arrived in each second, whatever became of them."""
        return self._rows(self._scalars)[:, _OFFERED]

    # --- the whole run
    def drop_ratio(self) -> float:
        """Dropped packets over received packets, whole run."""
        received = self.received_sum.sum()
        return float(self.dropped_sum.sum() / received) if received else 0.0

    def static_drop_ratio(self) -> float:
        """The same, had a static table met the same arrivals."""
        received = self.received_sum.sum()
        return float(self.static_dropped_sum / received) if received else 0.0

    def summary(self) -> str:
        """Human-readable report: loads; imbalance, latency and drops against a static
        table; packets; moves; cores in use."""
        if self.seconds == 0:
            return "no complete simulated second yet"
        loads = self.processed_sum / (self.capacity_pps * self.seconds)
        moves_per_second = self.buckets_moved / self.seconds
        lines = [
            f"simulated seconds: {self.seconds}",
            "mean load per core: " + " ".join(f"{x:.2f}" for x in loads),
            "imbalance (max-min)/min per second: " + _median_p95(self.imbalance)
            + "; latency " + _latency(self.latency) + f"; drops {self.drop_ratio() * 100:.3f}%",
            "the same traffic on a static RSS table: " + _median_p95(self.static_imbalance)
            + "; latency " + _latency(self.static_latency)
            + f"; drops {self.static_drop_ratio() * 100:.3f}%",
            f"packets: received {self.received_sum.sum()}, processed {self.processed_sum.sum()}, "
            f"dropped {self.dropped_sum.sum()} ({self.drop_ratio() * 100:.3f}%)",
            f"table writes: {self.table_writes}, buckets moved: {self.buckets_moved} "
            f"({moves_per_second:.1f} per second)",
        ]
        if self.target_load is not None:
            lines.append(self.scaling_summary())
        return "\n".join(lines)

    def scaling_summary(self) -> str:
        """Cores in use against the fewest that would keep TARGET_LOAD, over the run."""
        used, ideal = self.core_seconds, self.ideal_core_seconds
        ratio = f"{used / ideal:.2f}" if ideal else "undefined"
        return (f"cores in use: mean {used / self.seconds:.2f} ({self.fewest_cores} to "
                f"{self.most_cores}), ideal at TARGET_LOAD {self.target_load:g}: mean "
                f"{ideal / self.seconds:.2f}; core-seconds used / ideal {ratio}; "
                f"core changes {self.core_changes}")


def imbalance(counts: np.ndarray) -> float:
    """(max - min) / min of per-core counts; infinite when a core got nothing."""
    low = counts.min()
    return np.inf if low == 0 else float((counts.max() - low) / low)


def static_imbalance(buckets: np.ndarray, cores: int) -> float:
    """The imbalance of ``buckets``' arrivals on an even table over ``cores`` cores."""
    if cores == 0:
        return np.nan
    return imbalance(np.bincount(even_table(len(buckets), range(cores)), weights=buckets,
                                 minlength=cores))


def _median_p95(histogram: LogHistogram) -> str:
    median, p95 = histogram.quantiles((0.5, 0.95))
    if math.isnan(median):
        return "undefined"
    return f"median {median * 100:.1f}%, p95 {p95 * 100:.1f}%"


def _latency(histogram: LogHistogram) -> str:
    p50, p95, p99 = histogram.quantiles(LATENCY_QUANTILES)
    if math.isnan(p50):
        return "undefined"
    return f"p50 {p50:.1f} µs, p95 {p95:.1f} µs, p99 {p99:.1f} µs"
