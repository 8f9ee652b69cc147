"""Per-second statistics of the simulated NIC and the paper's imbalance metric."""

from __future__ import annotations

import numpy as np


class SimStats:
    """Per-second, per-core packet counts of a simulated run.

    Row ``s`` of every array covers simulated second ``[s, s + 1)``.
    ``received`` counts packets the table steered to each core, ``processed``
    those the core served, ``dropped`` those its full queue refused.
    ``active`` marks the cores the table named at some point of that second.
    """

    def __init__(self, cores: int, capacity_pps: np.ndarray) -> None:
        self.cores = cores
        self.capacity_pps = np.asarray(capacity_pps, dtype=float)
        self._received: list[np.ndarray] = []
        self._processed: list[np.ndarray] = []
        self._dropped: list[np.ndarray] = []
        self._active: list[np.ndarray] = []
        self._buckets: list[np.ndarray] = []
        #: Table writes that changed at least one bucket, and buckets changed.
        self.table_writes = 0
        self.buckets_moved = 0

    def add_second(self, received: np.ndarray, processed: np.ndarray, dropped: np.ndarray,
                   active: np.ndarray, buckets: np.ndarray) -> None:
        self._buckets.append(buckets.copy())
        self._received.append(received.copy())
        self._processed.append(processed.copy())
        self._dropped.append(dropped.copy())
        self._active.append(active.copy())

    def _rows(self, rows: list[np.ndarray], dtype: type) -> np.ndarray:
        if not rows:
            return np.zeros((0, self.cores), dtype=dtype)
        return np.array(rows, dtype=dtype)

    @property
    def seconds(self) -> int:
        return len(self._received)

    @property
    def received(self) -> np.ndarray:
        return self._rows(self._received, np.int64)

    @property
    def processed(self) -> np.ndarray:
        return self._rows(self._processed, np.int64)

    @property
    def dropped(self) -> np.ndarray:
        return self._rows(self._dropped, np.int64)

    @property
    def active(self) -> np.ndarray:
        return self._rows(self._active, bool)

    def loads_per_second(self) -> np.ndarray:
        """Busy fraction of each core in each second (processed / capacity)."""
        return self.processed / self.capacity_pps

    def imbalance_per_second(self) -> np.ndarray:
        """(max - min) / min of per-core received packets, per second.

        Only the cores in use that second count (a core the table never
        named is idle by design, not imbalanced). A second where an active
        core received nothing is infinitely imbalanced.
        """
        received, active = self.received, self.active
        result = np.full(len(received), np.nan)
        for s in range(len(received)):
            counts = received[s][active[s]]
            if len(counts) == 0:
                continue
            low, high = counts.min(), counts.max()
            result[s] = np.inf if low == 0 else (high - low) / low
        return result

    def static_imbalance_per_second(self) -> np.ndarray:
        """The paper's metric had the same arrivals met a static, even table.

        Each second's per-bucket arrivals are spread over as many cores as
        were in use that second, bucket ``b`` to core ``b % n``, as static
        RSS does: the baseline a balancer's imbalance is compared with.
        """
        result = np.full(self.seconds, np.nan)
        for s, (buckets, active) in enumerate(zip(self._buckets, self._active)):
            n = int(active.sum())
            if n == 0:
                continue
            counts = np.bincount(np.arange(len(buckets)) % n, weights=buckets, minlength=n)
            low = counts.min()
            result[s] = np.inf if low == 0 else (counts.max() - low) / low
        return result

    def drop_ratio(self) -> float:
        """Dropped packets over received packets, whole run."""
        received = self.received.sum()
        return float(self.dropped.sum() / received) if received else 0.0

    def summary(self) -> str:
        """Human-readable report: per-core load, imbalance median/p95, drops."""
        if self.seconds == 0:
            return "no complete simulated second yet"
        loads = self.loads_per_second().mean(axis=0)
        lines = [
            f"simulated seconds: {self.seconds}",
            "mean load per core: " + " ".join(f"{x:.2f}" for x in loads),
            "imbalance (max-min)/min per second: "
            + _median_p95(self.imbalance_per_second()),
            "the same traffic on a static RSS table: "
            + _median_p95(self.static_imbalance_per_second()),
            f"packets: received {self.received.sum()}, processed {self.processed.sum()}, "
            f"dropped {self.dropped.sum()} ({self.drop_ratio() * 100:.3f}%)",
            f"table writes: {self.table_writes}, buckets moved: {self.buckets_moved}",
        ]
        return "\n".join(lines)


def _median_p95(values: np.ndarray) -> str:
    finite = values[np.isfinite(values)]
    if not len(finite):
        return "undefined"
    return f"median {np.median(finite) * 100:.1f}%, p95 {np.percentile(finite, 95) * 100:.1f}%"
