"""A simulated multi-queue NIC and the cores serving its queues.

Time advances in fixed steps. In each step the traffic source says how many
packets land in each RSS bucket; the indirection table sends each bucket's
packets to one core's queue; each core serves up to ``capacity * step``
packets (its per-packet cost is ``1 / capacity``); what does not fit in a
full queue is dropped. Every packet's delay, from its arrival to the end
of its service, follows from the queue it finds (``pyclick.sim.queueing``).
Beside the run, the same arrivals meet a static, even table over as many
cores, in queues of their own: the baseline the statistics compare with.

The model implements the balancer's three device seams: ``RssDevice`` (the
table), ``BucketCounter`` (packets per bucket, counted as they arrive at
the NIC) and ``LoadSource`` (each core's busy fraction).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from pyclick.rss.indirection import even_table
from pyclick.sim import queueing
from pyclick.sim.histogram import LogHistogram, quantiles
from pyclick.sim.stats import DELAY_EDGES_US, HISTORY_SECONDS, LATENCY_QUANTILES, Second, SimStats
from pyclick.sim.traffic import Traffic

#: Steps whose per-step counts are kept before their delays are worked out.
_CHUNK_STEPS = 1000
#: A batch of steps covers at most this much time: the static baseline spreads a
#: batch's arrivals over its steps, which is faithful while the traffic's rates
#: hold still (the synthetic traffic changes them every 10 ms).
_BATCH_SECONDS = 0.01


class SimulatedNIC:
    """An RSS NIC with ``cores`` queues, fed by ``traffic``, in simulated time.

    ``seed`` drives the only randomness of the model itself: how the static
    baseline's arrivals spread over the steps of a batch. ``history`` is the
    number of recent seconds the statistics keep whole.
    """

    def __init__(self, cores: int, reta_size: int, traffic: Traffic,
                 capacity_pps: float | Sequence[float], queue_packets: int, key: bytes,
                 step: float = 0.001, *, seed: int = 0, history: int = HISTORY_SECONDS) -> None:
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
        self._every_core = list(range(cores))
        self.traffic = traffic
        self.capacity = capacity
        self.queue_packets = queue_packets
        self.key = bytes(key)
        self.step = step
        self._steps_per_second = steps_per_second
        self._batch_steps = max(1, round(_BATCH_SECONDS * steps_per_second))
        self._service_us = 1e6 / capacity
        #: The fewest whole packets a core serves in a step.
        self._least_budget = np.floor(capacity / steps_per_second)
        self._rng = np.random.default_rng(seed)
        self._index = 0
        self.queued = np.zeros(cores, np.int64)
        self._idle = True      # every queue is empty
        self.received_total = np.zeros(cores, np.int64)
        self.dropped_total = np.zeros(cores, np.int64)
        self.stats = SimStats(cores, capacity, history)
        self._static_queue = np.zeros(cores, np.int64)
        self._in_table = np.zeros(cores, bool)
        self._named_throughout = self._in_table.copy()
        self._core_steps = self._named_since = self._second_first = 0
        self._named_range = (cores, cores)
        self._table = np.zeros(0, np.int64)
        #: Delays of the current second's packets, in the run and with the static table.
        self.latency = LogHistogram(DELAY_EDGES_US)
        self.static_latency = LogHistogram(DELAY_EDGES_US)
        self._set_table(even_table(reta_size, range(cores)))
        traffic.set_reta_size(reta_size)
        self._reset_buckets(reta_size)
        self._load_read = (0, self.processed_total)
        self._start_second()
        self._chunk = _Chunk(self)

    # --- time
    @property
    def now(self) -> float:
        """Simulated time reached, seconds."""
        return self._index * self.step

    def advance_to(self, t: float) -> None:
        """Run the model up to simulated time ``t`` (whole steps; never backwards)."""
        target = math.floor(t / self.step + 1e-9)
        while self._index < target:
            count = min(target - self._index, self._chunk.room(), self._batch_steps)
            per_core, per_bucket = self.traffic.steered(self.now, self.step, count, self._table,
                                                        self.cores, self._least_budget)
            self._account(per_core, per_bucket)

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

    def _account(self, per_core: np.ndarray, per_bucket: np.ndarray) -> None:
        """Queue and count the arrivals of ``len(per_core)`` steps (within one chunk).

        The per-tick path of a run: kept to a few whole-array operations.
        """
        chunk = self._chunk
        first, end = chunk.filled, chunk.filled + len(per_core)
        budget = chunk.budget[first:end]
        # Empty queues stay empty through steps whose arrivals all fit in the budget:
        # the usual step below capacity needs no queueing (the step buffer holds zeros).
        if not (self._idle and (per_core <= budget).all()):
            queue, dropped = queueing.serve(self.queued, per_core, budget, self.queue_packets,
                                            out=chunk.queue[first:end])
            if dropped is not None:
                self.dropped_total += dropped
            self.queued = queue[-1]
            self._idle = not self.queued.any()
        self.received_total += per_core.sum(axis=0)
        self._bucket_totals += per_bucket
        chunk.append(per_core, np.bincount(self._static_table, weights=per_bucket,
                                           minlength=self.cores))
        self._index += len(per_core)
        if chunk.room() == 0:
            chunk.flush()
            if self._index % self._steps_per_second == 0:
                self._close_second()
            self._chunk = _Chunk(self)

    @property
    def processed_total(self) -> np.ndarray:
        """Packets each core served since the start: what it received, less what it
        dropped and what is still queued."""
        return self.received_total - self.dropped_total - self.queued

    # --- seconds
    def _start_second(self) -> None:
        self._second_marks = (self.received_total.copy(), self.processed_total,
                              self.dropped_total.copy(), self._bucket_totals.copy())
        self._named_throughout = self._in_table.copy()
        self._core_steps = 0
        self._named_since = self._second_first = self._index
        named = int(self._in_table.sum())
        self._named_range = (named, named)
        self.latency.clear()
        self.static_latency.clear()
        self.static_dropped = 0

    def _close_second(self) -> None:
        received, processed, dropped, buckets = self._second_marks
        self._count_named_steps()
        self.stats.add_second(Second(
            self.received_total - received, self.processed_total - processed,
            self.dropped_total - dropped, self._named_throughout, self._bucket_totals - buckets,
            self._core_steps / self._steps_per_second, self._named_range, self.latency,
            self.static_latency, self.static_dropped))
        self._start_second()

    def _count_named_steps(self) -> None:
        self._core_steps += int(self._in_table.sum()) * (self._index - self._named_since)
        self._named_since = self._index

    def summary(self) -> str:
        """The run's summary (``SimStats.summary``, over complete seconds), and what
        arrived after the last complete second, which its figures leave out: a
        capture's replay ends within a second, one step after its last packet."""
        text = self.stats.summary()
        received, processed, dropped, _ = self._second_marks
        tail = int((self.received_total - received).sum())
        if not tail:
            return text
        length = (self._index - self._second_first) * self.step
        return (f"{text}\nafter the last complete second, {length:g} s left out of the "
                f"figures above: received {tail}, processed "
                f"{int((self.processed_total - processed).sum())}, dropped "
                f"{int((self.dropped_total - dropped).sum())}")

    def latency_histogram(self) -> tuple[np.ndarray, np.ndarray]:
        """Bin edges (µs) and packets per bin of every delay so far (seams.ServiceMeter)."""
        self._chunk.flush()
        return DELAY_EDGES_US, self.stats.latency.counts + self.latency.counts

    def latency_summary(self) -> str:
        """``p50 X p95 Y p99 Z``: quantiles of every delay so far, µs."""
        p50, p95, p99 = quantiles(*self.latency_histogram(), LATENCY_QUANTILES)
        return f"p50 {p50:.2f} p95 {p95:.2f} p99 {p99:.2f}"

    def packets_dropped(self) -> int:
        """Packets dropped since the start (seams.ServiceMeter)."""
        return int(self.dropped_total.sum())

    def core_capacity(self) -> float:
        """Packets per second a core serves (the mean over cores; seams.ServiceMeter)."""
        return float(self.capacity.mean())

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
        if new.dtype.kind not in "iu":
            raise ValueError("table entries must be integers")
        changed = new != self._table
        # A balancer's write moves a few buckets: only their new queues need checking,
        # the others are the current table's.
        queues = new[changed].tolist()
        if not queues:
            return
        if min(queues) < 0 or max(queues) >= self.cores:
            raise ValueError(f"table entries must be queues 0..{self.cores - 1}")
        self.stats.table_writes += 1
        self.stats.buckets_moved += len(queues)
        self._set_table(new.astype(np.int64))

    def hash_key(self) -> bytes:
        return self.key

    def _set_table(self, table: np.ndarray) -> None:
        resized = len(table) != len(self._table)
        self._table = table
        in_table = np.bincount(table, minlength=self.cores) > 0
        # Most writes move buckets between cores that stay in use.
        changed = (0 if in_table.tobytes() == self._in_table.tobytes()
                   else int(np.count_nonzero(in_table != self._in_table)))
        if changed:
            # The table a balancer installs as it starts is not a change of cores.
            if self._index:
                self.stats.core_changes += changed
            self._count_named_steps()
            self._named_throughout &= in_table
            self._in_table = in_table
            named = int(in_table.sum())
            fewest, most = self._named_range
            # A table written before the second's first step replaces the one before it.
            self._named_range = ((named, named) if self._index == self._second_first
                                 else (min(fewest, named), max(most, named)))
        if changed or resized:
            # The baseline: a static table over as many cores as this one names.
            self._static_table = even_table(len(table), range(int(in_table.sum())))

    def named_cores(self) -> np.ndarray:
        """Which cores the table names (a copy)."""
        return self._in_table.copy()

    def set_reta_size(self, reta_size: int) -> None:
        """Resize the table (even spread again); per-bucket counts restart."""
        if reta_size < 1:
            raise ValueError("reta_size must be at least 1")
        self.traffic.set_reta_size(reta_size)
        self._set_table(even_table(reta_size, range(self.cores)))
        self._reset_buckets(reta_size)
        # The static-table baseline of this second restarts with the new size.
        marks = self._second_marks
        self._second_marks = (*marks[:3], self._bucket_totals.copy())

    def _reset_buckets(self, reta_size: int) -> None:
        #: Packets that arrived in each bucket since the start (or the last resize).
        self._bucket_totals = np.zeros(reta_size, np.int64)
        self._counts_read = self._bucket_totals.copy()

    @property
    def bucket_totals(self) -> np.ndarray:
        """Packets that arrived in each bucket since the start (or the last resize)."""
        return self._bucket_totals.copy()

    # --- BucketCounter
    def read_counts(self) -> np.ndarray:
        """Packets that arrived in each bucket since the previous call."""
        counts = self._bucket_totals - self._counts_read
        self._counts_read = self._bucket_totals.copy()
        return counts

    # --- LoadSource
    def read_loads(self, cores: Sequence[int]) -> np.ndarray:
        """Busy fraction of each named core since the previous call (0..1)."""
        index, processed = self._load_read
        now = self.processed_total
        self._load_read = (self._index, now)
        elapsed = (self._index - index) * self.step
        if not elapsed > 0:
            return np.zeros(len(cores))
        # Divided for every core, then picked: the same values in fewer operations.
        loads = (now - processed) / self.capacity
        # A balancer of every core names them all, in order: nothing to pick then.
        if list(cores) != self._every_core:
            loads = loads[np.asarray(cores, dtype=np.int64)]
        loads *= 1.0 / elapsed
        return np.minimum(loads, 1.0, out=loads)


class _Chunk:
    """The steps since the last chunk boundary, kept per step until their delays are added.

    A chunk ends at a second's end or after ``_CHUNK_STEPS`` steps. It
    holds each step's arrivals and end-of-step queue for every core, and
    each batch's arrivals per core of the static baseline.
    """

    def __init__(self, nic: SimulatedNIC) -> None:
        self.nic = nic
        first = nic._index
        per_second = nic._steps_per_second
        length = min(_CHUNK_STEPS, per_second - first % per_second)
        # Whole packets served per step: the fraction of a packet left at the
        # end of a step carries over, so the long-run rate is the capacity.
        credit = np.floor(nic.capacity * (first + np.arange(length + 1))[:, None] / per_second)
        self.budget = np.diff(credit, axis=0).astype(np.int64)
        self.least_budget = self.budget.min(axis=0)
        self.arrivals = np.zeros((length, nic.cores), np.int64)
        self.queue = np.zeros((length, nic.cores), np.int64)
        # Per batch: its first step, its steps, the static baseline's arrivals per core.
        self.batch_first = np.zeros(length, np.int64)
        self.batch_steps = np.zeros(length, np.int64)
        self.batch_static = np.zeros((length, nic.cores))
        self.length = length
        self.filled = 0
        self.batches = 0
        self.flushed = 0
        self.flushed_batches = 0
        self.start_queue = nic.queued.copy()

    def room(self) -> int:
        return self.length - self.filled

    def append(self, arrivals: np.ndarray, static_arrivals: np.ndarray) -> None:
        """Keep a batch's arrivals (its end-of-step queues are already in ``queue``)."""
        first, end, batch = self.filled, self.filled + len(arrivals), self.batches
        self.arrivals[first:end] = arrivals
        self.batch_first[batch] = first
        self.batch_steps[batch] = end - first
        self.batch_static[batch] = static_arrivals
        self.filled = end
        self.batches = batch + 1

    def flush(self) -> None:
        """Add the delays of the steps not yet added, in the run and in the static baseline."""
        first, end = self.flushed, self.filled
        if end == first:
            return
        nic = self.nic
        limit = nic.queue_packets
        budget = self.budget[first:end]
        start = np.vstack([self.start_queue[None, :], self.queue[first:end - 1]])
        queueing.add_delays(nic.latency, start, self.arrivals[first:end], budget, limit,
                            nic._service_us)
        self.start_queue = self.queue[end - 1].copy()
        static = self._static_arrivals(first, end)
        queue, dropped = queueing.serve(nic._static_queue, static, budget, limit)
        if dropped is not None:
            nic.static_dropped += int(dropped.sum())
        start = np.vstack([nic._static_queue[None, :], queue[:-1]])
        queueing.add_delays(nic.static_latency, start, static, budget, limit, nic._service_us)
        nic._static_queue = queue[-1].copy()
        self.flushed, self.flushed_batches = end, self.batches

    def _static_arrivals(self, first: int, end: int) -> np.ndarray:
        """The baseline's arrivals per step: each batch's spread over its steps.

        They spread at random, as a Poisson process does given its total,
        where it matters: a core whose batch is so far under its budget
        that no step of it could fill the core gets its packets evenly
        (every spread then gives the same delays), which spares most of
        the random draws.
        """
        arrivals = np.zeros((end - first, self.nic.cores), np.int64)
        batches = slice(self.flushed_batches, self.batches)
        starts = self.batch_first[batches] - first
        steps = self.batch_steps[batches]
        totals = np.rint(self.batch_static[batches]).astype(np.int64)
        # The few distinct step counts in Python: np.unique would import numpy.ma.
        for count in sorted(set(steps.tolist())):
            which = steps == count
            rows = starts[which][:, None] + np.arange(count)
            group = totals[which]
            spread = group[:, None, :] // count + (
                np.arange(count)[None, :, None] < (group % count)[:, None, :])
            mean = group / count
            # Five standard deviations above the mean step still fits the budget.
            batch, core = np.nonzero(mean + 5 * np.sqrt(mean) >= self.least_budget)
            if count > 1 and len(batch):
                spread[batch, :, core] = self.nic._rng.multinomial(group[batch, core],
                                                                   np.full(count, 1.0 / count))
            arrivals[rows] = spread
        return arrivals
