"""Log-spaced histograms that hold a whole run in fixed memory, and their quantiles.

The simulator never keeps one value per packet or per second for the whole
run: what it reports over a run (latency quantiles, the median and 95th
percentile of the per-second imbalance) comes from histograms whose bins
grow geometrically, so that every quantile is known to the bin's relative
width whatever the range of the values.
"""

from __future__ import annotations

import numpy as np


def log_edges(low: float, high: float, ratio: float) -> np.ndarray:
    """Bin edges from ``low`` to at least ``high``, each ``ratio`` times the previous
    (read-only)."""
    if not (0 < low < high and ratio > 1):
        raise ValueError("expected 0 < low < high and ratio > 1")
    count = int(np.ceil(np.log(high / low) / np.log(ratio)))
    edges = low * ratio ** np.arange(count + 1)
    # Edges are shared by every histogram over them: never written.
    edges.setflags(write=False)
    return edges


def quantiles(edges: np.ndarray, counts: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    """Quantiles of a histogram, values spread evenly within each bin; NaN when empty.

    ``counts`` may be fractional (a bin may hold part of a packet's
    probability); ``qs`` are in (0, 1].
    """
    cumulative = np.cumsum(counts)
    total = cumulative[-1] if len(cumulative) else 0.0
    if not total > 0:
        return [float("nan")] * len(qs)
    ranks = np.asarray(qs, dtype=float) * total
    # The first bin whose running count reaches the rank: it holds some mass,
    # since the one before it fell short.
    k = np.minimum(np.searchsorted(cumulative, ranks, side="left"), len(counts) - 1)
    mass = counts[k]
    inside = np.clip((ranks - (cumulative[k] - mass)) / np.where(mass > 0, mass, 1.0), 0.0, 1.0)
    return (edges[k] + inside * (edges[k + 1] - edges[k])).tolist()


class LogHistogram:
    """Masses over log-spaced bins; values outside the edges land in the end bins.

    Masses are added as points or as mass spread evenly over an interval
    (the delays of packets that arrive evenly while a queue grows or
    drains), in whole arrays at a time.
    """

    def __init__(self, edges: np.ndarray) -> None:
        self.edges = np.asarray(edges, dtype=float)
        self.widths = np.diff(self.edges)
        self.counts = np.zeros(len(self.edges) - 1)

    def _bin(self, values: np.ndarray) -> np.ndarray:
        index = np.searchsorted(self.edges, values, side="right") - 1
        return np.clip(index, 0, len(self.counts) - 1)

    def add_point(self, value: float, mass: float = 1.0) -> None:
        """Add ``mass`` at ``value``."""
        index = int(np.searchsorted(self.edges, value, side="right")) - 1
        self.counts[min(max(index, 0), len(self.counts) - 1)] += mass

    def add_points(self, values: np.ndarray, masses: np.ndarray) -> None:
        """Add ``masses[i]`` at ``values[i]``."""
        if len(values):
            self.counts += np.bincount(self._bin(values), weights=masses,
                                       minlength=len(self.counts))

    def add_spread(self, low: np.ndarray, high: np.ndarray, masses: np.ndarray) -> None:
        """Add ``masses[i]`` spread evenly over ``[low[i], high[i]]`` (``low < high``)."""
        if not len(low):
            return
        size = len(self.counts)
        first, last = self._bin(low), self._bin(high)
        density = masses / (high - low)
        same = first == last
        # The end bins take their overlap with the interval; the bins between
        # take the density times their width, through a running sum.
        head = np.where(same, masses, density * (self.edges[first + 1] - low))
        tail = np.where(same, 0.0, density * (high - self.edges[last]))
        between = np.where(last > first + 1, density, 0.0)
        counts = np.bincount(first, weights=head, minlength=size)
        counts += np.bincount(last, weights=tail, minlength=size)
        steps = np.bincount(first + 1, weights=between, minlength=size + 1)
        steps -= np.bincount(last, weights=between, minlength=size + 1)
        counts += np.cumsum(steps[:size]) * self.widths
        self.counts += counts

    def add(self, other: "LogHistogram") -> None:
        self.counts += other.counts

    def clear(self) -> None:
        self.counts[:] = 0.0

    @property
    def total(self) -> float:
        return float(self.counts.sum())

    def quantiles(self, qs: tuple[float, ...]) -> list[float]:
        return quantiles(self.edges, self.counts, qs)
