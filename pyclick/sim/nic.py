"""A simulated multi-queue NIC and the cores serving its queues.

Time advances in fixed steps. In each step the traffic source says how many
packets land in each RSS bucket; the indirection table sends each bucket's
packets to one core's queue; each core serves up to ``capacity * step``
packets (its per-packet cost is ``1 / capacity``); what does not fit in a
full queue is dropped. The model implements the balancer's three device
seams: ``RssDevice`` (the table), ``BucketCounter`` (packets per bucket,
counted as they arrive at the NIC) and ``LoadSource`` (each core's busy
fraction).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from pyclick.sim.stats import SimStats
from pyclick.sim.traffic import Traffic

#: Steps simulated per batch at most; bounds the arrival matrix's memory.
_MAX_BATCH = 1000


def even_table(reta_size: int, cores: int) -> np.ndarray:
    """The static RSS table: bucket i served by core i mod cores."""
    return np.arange(reta_size, dtype=np.int64) % cores


class SimulatedNIC:
    """An RSS NIC with ``cores`` queues, fed by ``traffic``, in simulated time."""

    def __init__(self, cores: int, reta_size: int, traffic: Traffic,
                 capacity_pps: float | Sequence[float], queue_packets: int, key: bytes,
                 step: float = 0.001) -> None:
        if cores < 1:
            raise ValueError("cores must be at least 1")
        if reta_size < 1:
            raise ValueError("reta_size must be at least 1")
        capacity = np.broadcast_to(np.asarray(capacity_pps, dtype=float), (cores,)).copy()
        if not (capacity > 0).all():
            raise ValueError("capacity must be positive")
        if queue_packets < 1:
            raise ValueError("queue_packets must be at least 1")
        if not step > 0:
            raise ValueError("step must be positive")
        steps_per_second = round(1.0 / step)
        if abs(steps_per_second * step - 1.0) > 1e-9:
            raise ValueError(f"step must divide one second evenly, got {step}")
        self.cores = cores
        self.traffic = traffic
        self.capacity = capacity
        self.queue_packets = queue_packets
        self.key = bytes(key)
        self.step = step
        self._steps_per_second = steps_per_second
        self._index = 0
        self._set_table(even_table(reta_size, cores))
        traffic.set_reta_size(reta_size)
        self.queued = np.zeros(cores, np.int64)
        self._carry = np.zeros(cores)
        self._bucket_counts = np.zeros(reta_size, np.int64)
        #: Packets that arrived in each bucket since the start (or the last resize).
        self.bucket_totals = np.zeros(reta_size, np.int64)
        self._busy_packets = np.zeros(cores, np.int64)
        self._load_read_index = 0
        self.received_total = np.zeros(cores, np.int64)
        self.processed_total = np.zeros(cores, np.int64)
        self.dropped_total = np.zeros(cores, np.int64)
        self.stats = SimStats(cores, capacity)
        self._second = self._zero_second()

    def _zero_second(self) -> dict[str, np.ndarray]:
        return {"received": np.zeros(self.cores, np.int64),
                "processed": np.zeros(self.cores, np.int64),
                "dropped": np.zeros(self.cores, np.int64),
                "active": np.zeros(self.cores, bool),
                "buckets": np.zeros(len(self._table), np.int64)}

    # --- time
    @property
    def now(self) -> float:
        """Simulated time reached, seconds."""
        return self._index * self.step

    def advance_to(self, t: float) -> None:
        """Run the model up to simulated time ``t`` (whole steps; never backwards)."""
        target = math.floor(t / self.step + 1e-9)
        while self._index < target:
            to_second = self._steps_per_second - self._index % self._steps_per_second
            count = min(target - self._index, to_second, _MAX_BATCH)
            self._run_steps(count)
            if self._index % self._steps_per_second == 0:
                self._close_second()

    def receive(self, per_bucket: np.ndarray) -> None:
        """Run one step whose arrivals are given: packets per bucket.

        For callers that draw the packets themselves (a data path that
        handles Packet objects); the traffic source is not asked.
        """
        arrivals = np.asarray(per_bucket, dtype=np.int64)
        if arrivals.shape != self._table.shape:
            raise ValueError(f"expected {len(self._table)} bucket counts, got {arrivals.size}")
        per_core = np.bincount(self._table, weights=arrivals, minlength=self.cores)
        self._account(np.rint(per_core).astype(np.int64)[None, :], arrivals)
        if self._index % self._steps_per_second == 0:
            self._close_second()

    def _run_steps(self, count: int) -> None:
        per_core, per_bucket = self.traffic.steered(self.now, self.step, count, self._table,
                                                    self.cores)
        self._account(per_core, per_bucket)

    def _account(self, per_core: np.ndarray, per_bucket: np.ndarray) -> None:
        """Queue and count the arrivals of ``len(per_core)`` steps."""
        count = len(per_core)
        self._bucket_counts += per_bucket
        self.bucket_totals += per_bucket
        served, dropped = self._serve(per_core)
        received = per_core.sum(axis=0)
        self.received_total += received
        self.processed_total += served
        self.dropped_total += dropped
        self._busy_packets += served
        self._second["received"] += received
        self._second["processed"] += served
        self._second["dropped"] += dropped
        self._second["active"] |= self._in_table
        self._second["buckets"] += per_bucket
        self._index += count

    def _budgets(self, count: int) -> np.ndarray:
        """Whole packets each core may serve in each of the next ``count`` steps."""
        # The fraction of a packet left at the end of a step carries over,
        # so that the long-run rate is exactly the capacity.
        credit = self._carry + self.capacity * self.step * np.arange(1, count + 1)[:, None]
        whole = np.floor(credit)
        self._carry = credit[-1] - whole[-1]
        return np.diff(whole, axis=0, prepend=np.zeros((1, self.cores))).astype(np.int64)

    def _serve(self, per_core: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Queue dynamics for a batch of steps; returns packets served and dropped per core."""
        budget = self._budgets(len(per_core))
        # Without a length limit the queue follows Lindley's recursion
        # q_k = max(0, q_(k-1) + a_k - b_k), whose closed form is the walk of
        # cumulative (arrivals - budget) minus its running minimum. Only the
        # cores whose queue would overflow need the step loop that drops.
        walk = self.queued + np.cumsum(per_core - budget, axis=0)
        queue = walk - np.minimum(np.minimum.accumulate(walk, axis=0), 0)
        fits = queue.max(axis=0) <= self.queue_packets
        served = self.queued + per_core.sum(axis=0) - queue[-1]
        dropped = np.zeros(self.cores, np.int64)
        overflow = np.flatnonzero(~fits)
        if len(overflow):
            served[overflow], dropped[overflow], queue[-1, overflow] = self._serve_dropping(
                self.queued[overflow], per_core[:, overflow], budget[:, overflow])
        self.queued = queue[-1].copy()
        return served, dropped

    def _serve_dropping(self, queue: np.ndarray, arrivals: np.ndarray,
                        budget: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Step by step with a full queue refusing packets: (served, dropped, final queue)."""
        queue = queue.copy()
        served = np.zeros(len(queue), np.int64)
        dropped = np.zeros(len(queue), np.int64)
        for arriving, allowed in zip(arrivals, budget):
            queue += arriving
            done = np.minimum(queue, allowed)
            queue -= done
            over = np.maximum(queue - self.queue_packets, 0)
            queue -= over
            served += done
            dropped += over
        return served, dropped, queue

    def _close_second(self) -> None:
        second = self._second
        self.stats.add_second(second["received"], second["processed"], second["dropped"],
                              second["active"], second["buckets"])
        self._second = self._zero_second()

    # --- RssDevice
    def reta_size(self) -> int:
        return len(self._table)

    def queue_count(self) -> int:
        return self.cores

    def read_table(self) -> np.ndarray:
        return self._table.copy()

    def write_table(self, table: np.ndarray) -> None:
        new = np.asarray(table)
        if new.shape != self._table.shape:
            raise ValueError(f"table must have {len(self._table)} entries, got {new.size}")
        if not np.issubdtype(new.dtype, np.integer):
            raise ValueError("table entries must be integers")
        if len(new) and (new.min() < 0 or new.max() >= self.cores):
            raise ValueError(f"table entries must be queues 0..{self.cores - 1}")
        moved = int((new != self._table).sum())
        if moved:
            self.stats.table_writes += 1
            self.stats.buckets_moved += moved
        self._set_table(new.astype(np.int64))

    def hash_key(self) -> bytes:
        return self.key

    def _set_table(self, table: np.ndarray) -> None:
        self._table = table
        # The cores that receive traffic: a second's imbalance is taken over them.
        self._in_table = np.bincount(table, minlength=self.cores) > 0

    def set_reta_size(self, reta_size: int) -> None:
        """Resize the table (even spread again); per-bucket counts restart."""
        if reta_size < 1:
            raise ValueError("reta_size must be at least 1")
        self.traffic.set_reta_size(reta_size)
        self._set_table(even_table(reta_size, self.cores))
        self._bucket_counts = np.zeros(reta_size, np.int64)
        self.bucket_totals = np.zeros(reta_size, np.int64)
        # The static-table baseline of this second restarts with the new size.
        self._second["buckets"] = np.zeros(reta_size, np.int64)

    # --- BucketCounter
    def read_counts(self) -> np.ndarray:
        """Packets that arrived in each bucket since the previous call."""
        counts = self._bucket_counts
        self._bucket_counts = np.zeros_like(counts)
        return counts

    # --- LoadSource
    def read_loads(self, cores: Sequence[int]) -> np.ndarray:
        """Busy fraction of each named core since the previous call (0..1)."""
        which = np.asarray(cores, dtype=np.int64)
        elapsed = (self._index - self._load_read_index) * self.step
        if elapsed > 0:
            loads = self._busy_packets[which] / (self.capacity[which] * elapsed)
        else:
            loads = np.zeros(len(which))
        self._busy_packets = np.zeros(self.cores, np.int64)
        self._load_read_index = self._index
        return np.minimum(loads, 1.0)
