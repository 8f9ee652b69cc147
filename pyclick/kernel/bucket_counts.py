"""Packets per RSS bucket, read from a per-CPU BPF counter array.

The XDP programs only ever add to their counters; readers keep the previous
totals and hand out differences, so several readers never disturb each
other and no counter is reset under the program's feet.
"""

from __future__ import annotations

import numpy as np

from pyclick.kernel import bpf_syscall


def fold(counts: np.ndarray, size: int) -> np.ndarray:
    """Counts of a table of ``len(counts)`` buckets seen as one of ``size``.

    Bucket ``hash % len(counts)`` falls in ``hash % size`` when ``size``
    divides ``len(counts)``, so bucket j adds to bucket ``j % size``.
    """
    if size <= 0 or len(counts) % size:
        raise ValueError(f"cannot fold {len(counts)} buckets into {size}: "
                         f"the table size must divide the counter size")
    return counts.reshape(-1, size).sum(axis=0)


class BucketCounts:
    """Deltas of a per-CPU u64 array map with one entry per bucket."""

    def __init__(self, map_fd: int, entries: int) -> None:
        self.map_fd = map_fd
        self.entries = entries
        self._last = np.zeros(entries, dtype=np.int64)

    def per_cpu(self) -> np.ndarray:
        """Cumulative counts, shape (possible CPUs, entries)."""
        return bpf_syscall.read_array(self.map_fd, self.entries, np.uint64,
                                      per_cpu=True).astype(np.int64)

    def totals(self) -> np.ndarray:
        """Cumulative counts per bucket, all CPUs together."""
        return self.per_cpu().sum(axis=0)

    def read(self, size: int | None = None) -> np.ndarray:
        """Packets per bucket since the previous read, folded to ``size`` buckets."""
        totals = self.totals()
        delta = totals - self._last
        self._last = totals
        return delta if size is None or size == self.entries else fold(delta, size)
