"""The seams between the balancer and the world.

DeviceBalancer talks only to these protocols. The simulated NIC
(``pyclick.sim`` through SimNIC) and the Linux adapters (``pyclick.kernel``
through FromDevice and XDPLoader) both implement them, so the same
configuration runs on either.

Every device is an :class:`RssDevice`. What only some devices can do is an
optional capability, a protocol of its own, which the balancer checks once
when it starts: :class:`QueueDescription`, :class:`ResizableTable`,
:class:`NumaTopology`, :class:`OwnLoadSource`, :class:`MoveListener`,
:class:`TargetListener` and :class:`ServiceMeter`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, Sequence, runtime_checkable

if TYPE_CHECKING:  # numpy is only loaded once a device or a balancer starts
    import numpy as np

#: How a balancer measures the load of a core (DeviceBalancer's CYCLES).
CYCLES_MODES = ("realcpu", "cycles", "cpu", "queue", "cyclesqueue")
#: Modes measuring the busy time of the router's own threads.
THREAD_MODES = ("cycles", "cpu")
#: Modes needing the fill level of the device's RX queues.
QUEUE_MODES = ("queue", "cyclesqueue")


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
        """Packets per bucket since the previous call (int64, one per bucket of the table)."""


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


@runtime_checkable
class TableBalancer(Protocol):
    """An element that balances a device's table (DeviceBalancer).

    A device that changes an interface to offer a table (FromDevice) does
    so only when one of the router's elements balances it.
    """

    def balances(self, device: object) -> bool:
        """Whether this element balances ``device``'s table."""


# --- optional capabilities of an RssDevice

@runtime_checkable
class QueueDescription(Protocol):
    """A device that can say where its queue count comes from."""

    def describe_queues(self) -> str:
        """One clause for error messages: the count, and how to change it."""


@runtime_checkable
class ResizableTable(Protocol):
    """A device whose indirection table can change size."""

    def set_reta_size(self, size: int) -> None:
        """Resize the table to ``size`` buckets; ValueError or OSError when it cannot."""


@runtime_checkable
class NumaTopology(Protocol):
    """A device that knows the NUMA socket of the core serving each queue."""

    def core_sockets(self) -> Sequence[int]:
        """Socket of the core serving each queue, one entry per queue."""


@runtime_checkable
class OwnLoadSource(Protocol):
    """A device that measures the load of the cores serving its queues itself.

    Its load source numbers cores like the table does (queue q is core q).
    """

    def load_source(self, cycles: str) -> LoadSource:
        """The load source for ``cycles``, one of CYCLES_MODES."""


@runtime_checkable
class MoveListener(Protocol):
    """A device told how many buckets each balancer moves on its table."""

    def moves_applied(self, balancer: str, moves: int) -> None:
        """``balancer`` moved ``moves`` buckets since its previous notice (0 when it starts)."""


@runtime_checkable
class TargetListener(Protocol):
    """A device told the load per core each balancer of its table aims for."""

    def target_load_set(self, balancer: str, target_load: float) -> None:
        """``balancer`` keeps the cores it uses under ``target_load`` (0..1) when it can."""


@runtime_checkable
class ServiceMeter(RssDevice, Protocol):
    """A device that measures how its cores serve packets: delays and drops."""

    def latency_histogram(self) -> tuple[np.ndarray, np.ndarray]:
        """Bin edges (µs) and packets per bin of every delay (arrival to end of
        service) since the start; one more edge than bins."""

    def packets_dropped(self) -> int:
        """Packets dropped since the start."""

    def core_capacity(self) -> float:
        """Packets per second one core serves."""
