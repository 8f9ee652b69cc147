"""The four seams between the balancer and the world.

DeviceBalancer talks only to these protocols. The simulated NIC
(``pyclick.sim``) and the Linux adapters (``pyclick.kernel``) both implement
them, so the same configuration runs on either.
"""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np


@runtime_checkable
class RssDevice(Protocol):
    """A device whose RSS indirection table can be read and written."""

    def reta_size(self) -> int:
        """Number of buckets in the indirection table."""

    def queue_count(self) -> int:
        """Number of RX queues (one per core) the table may name."""

    def read_table(self) -> np.ndarray:
        """The current table: int array of length reta_size(), queue per bucket."""

    def write_table(self, table: np.ndarray) -> None:
        """Install a table (same length as reta_size(); entries < queue_count())."""

    def hash_key(self) -> bytes:
        """The Toeplitz hash key (usually 40 bytes)."""


@runtime_checkable
class BucketCounter(Protocol):
    """Packets received per bucket."""

    def read_counts(self) -> np.ndarray:
        """Packets per bucket since the previous call (int64, length = table size)."""


@runtime_checkable
class LoadSource(Protocol):
    """Load of each core."""

    def read_loads(self, cores: Sequence[int]) -> np.ndarray:
        """Load of each named core in 0..1 since the previous call (float64)."""


@runtime_checkable
class MigrationListener(Protocol):
    """Told around every table write which buckets change owner.

    Order is always: pre_migrate (per source core) -> device write ->
    post_migrate. init_assignment is called once with the first table.
    """

    def init_assignment(self, table: np.ndarray) -> None: ...

    def pre_migrate(self, source_core: int, moves: Sequence[tuple[int, int]]) -> None:
        """``moves`` are (bucket, new_core) pairs leaving ``source_core``."""

    def post_migrate(self, moves: Sequence[tuple[int, int, int]]) -> None:
        """All moves of this tick as (bucket, old_core, new_core), now live."""
