"""The indirection table a NIC starts from (buckets dealt round-robin), and the
bucket each hash falls in.

A table is an int array of length RETA size whose entries name cores
(queue numbers); a packet's hash modulo that length is its bucket. Static
RSS never changes the even table; the balancers start from it and the
simulator's statistics compare against it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def even_table(reta_size: int, cores: Sequence[int]) -> np.ndarray:
    """Bucket ``i`` goes to ``cores[i % len(cores)]``, as static RSS does.

    ``range(n)`` gives the table of a NIC whose queues are numbered 0 to n - 1.
    """
    if not len(cores):
        raise ValueError("an indirection table needs at least one core")
    return np.asarray(cores, dtype=np.int64)[np.arange(reta_size) % len(cores)]


def buckets_of(hashes: np.ndarray, reta_size: int) -> np.ndarray:
    """The bucket of each hash in a table of ``reta_size`` entries: hash mod size (int64).

    Tables are mostly a power of two long, where the remainder is the hash's
    low bits: a mask gives the same numbers for a fraction of a division's cost.
    """
    if reta_size & (reta_size - 1) == 0:
        return np.bitwise_and(hashes, reta_size - 1, dtype=np.int64)
    return np.remainder(hashes, reta_size, dtype=np.int64)
