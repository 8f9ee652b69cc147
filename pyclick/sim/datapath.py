"""A threaded data path: one worker thread per RX queue, fed through an RSS table.

The steering stage plays the NIC. For every burst of packets it reads the
device's current indirection table and appends each packet to the FIFO
queue of the core that the packet's bucket (RSS hash modulo table size)
names. One worker thread per queue, bound to its core
(``pyclick.flow.bind_core``), takes batches from its queue in order and
pushes them into the entry (an element's input, in a router). A table
write, by DeviceBalancer or a test, applies to every burst steered after it.

The data path is the ``CoreFence`` of the flow managers attached to it: a
fence is a callback appended to a core's queue while holding the lock the
steering stage holds from reading the table to enqueuing the burst. A
post_migrate follows the table write, so every packet steered with the old
table is ahead of the fence in the old core's queue, and every packet
behind it was steered with the new table.

It also implements ``BucketCounter`` (packets steered per bucket) and
``LoadSource`` (busy fraction of each worker thread), so a balancer can
drive it directly.
"""

from __future__ import annotations

import threading
import time
from queue import Empty, SimpleQueue
from typing import Callable, Protocol, Sequence

import numpy as np

from pyclick.flow.cores import bind_core
from pyclick.flow.ownership import CoreFence
from pyclick.packet import Packet
from pyclick.seams import RssDevice

#: How long an idle worker waits for its queue before polling its managers, seconds.
IDLE_POLL = 0.001


class FlowManager(Protocol):
    """What the data path needs from a FlowIPManager."""

    reta_size: int

    def attach(self, fence: CoreFence, cores: int) -> None: ...

    def detach(self) -> None: ...

    def poll(self) -> None: ...

    def pending(self) -> int: ...


class PacketSink(Protocol):
    """Where the workers push their batches: an element's input port, in a router."""

    def push(self, port: int, batch: list[Packet]) -> None: ...


class PacketSource(Protocol):
    """A seeded packet stream, such as ``pyclick.sim.traffic.TrafficGenerator``."""

    def packets(self, t: float, dt: float) -> list[Packet]: ...


class DataPathError(RuntimeError):
    """A worker thread failed; the data path stopped accepting packets."""


_STOP = object()


class ThreadedDataPath:
    """Worker threads serving the queues of ``device``, pushing into ``entry``."""

    def __init__(self, device: RssDevice, entry: PacketSink, *, port: int = 0, burst: int = 32,
                 managers: Sequence[FlowManager] = (), backlog: int = 4096) -> None:
        self.device = device
        self.cores = device.queue_count()
        self.reta_size = device.reta_size()
        self.entry = entry
        self.port = port
        self.burst = burst
        self.managers = list(managers)
        self.backlog = backlog
        self._queues: list[SimpleQueue] = [SimpleQueue() for _ in range(self.cores)]
        self._steering = threading.Lock()
        self._bucket_counts = np.zeros(self.reta_size, np.int64)
        #: Per core, written only by its worker: packets pushed and seconds spent busy.
        self.processed = [0] * self.cores
        self._busy = [0.0] * self.cores
        self._load_mark = (time.perf_counter(), [0.0] * self.cores)
        self._threads: list[threading.Thread] = []
        self._errors: list[BaseException] = []

    # ---- lifecycle
    def start(self) -> "ThreadedDataPath":
        if self._threads:
            raise RuntimeError("the data path is already running")
        for manager in self.managers:
            if manager.reta_size != self.reta_size:
                raise ValueError(f"the device has {self.reta_size} buckets, a flow manager "
                                 f"{manager.reta_size} (its RETA_SIZE)")
        for manager in self.managers:
            manager.attach(self, self.cores)
        self._threads = [threading.Thread(target=self._work, args=(core,),
                                          name=f"datapath-core{core}", daemon=True)
                         for core in range(self.cores)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Let the workers finish their queues, join them, and report a worker's failure."""
        for queue in self._queues:
            queue.put(_STOP)
        for thread in self._threads:
            thread.join()
        self._threads = []
        for manager in self.managers:
            manager.detach()
        self._raise_failure()

    def __enter__(self) -> "ThreadedDataPath":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- the NIC side
    def inject(self, packets: Sequence[Packet]) -> None:
        """Steer packets (in arrival order) to the queues, a burst at a time."""
        for first in range(0, len(packets), self.burst):
            self._wait_for_room()
            self._steer(packets[first:first + self.burst])

    def _steer(self, burst: Sequence[Packet]) -> None:
        size = self.reta_size
        buckets = [packet.rss_hash % size for packet in burst]
        with self._steering:
            table = self.device.read_table().tolist()
            per_core: dict[int, list[Packet]] = {}
            for packet, bucket in zip(burst, buckets):
                core = table[bucket]
                batch = per_core.get(core)
                if batch is None:
                    per_core[core] = [packet]
                else:
                    batch.append(packet)
            for core, batch in per_core.items():
                self._queues[core].put(batch)
            self._bucket_counts += np.bincount(buckets, minlength=size)

    def _wait_for_room(self) -> None:
        while max(queue.qsize() for queue in self._queues) > self.backlog:
            self._raise_failure()
            time.sleep(IDLE_POLL)

    def feed(self, source: PacketSource, start: float, stop: float, step: float = 0.001,
             between: Callable[[float], None] | None = None) -> int:
        """Inject ``source``'s packets from ``start`` to ``stop`` in windows of ``step``.

        ``between(t)`` runs after each window (a balancer tick, a test's
        migration); returns the number of packets injected.
        """
        injected = 0
        windows = round((stop - start) / step)
        for index in range(windows):
            t = start + index * step
            packets = source.packets(t, step)
            self.inject(packets)
            injected += len(packets)
            if between is not None:
                between(t + step)
        return injected

    # ---- CoreFence
    def fence(self, core: int, callback: Callable[[], None]) -> None:
        """Run ``callback`` on ``core``'s worker after everything steered to it so far."""
        with self._steering:
            self._queues[core].put(callback)

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait until every queue is served and no bucket move is pending."""
        deadline = time.monotonic() + timeout
        while True:
            reached = [threading.Event() for _ in range(self.cores)]
            for core, event in enumerate(reached):
                self.fence(core, self._poll_then(event))
            for event in reached:
                while not event.wait(IDLE_POLL * 10):
                    self._raise_failure()
                    if time.monotonic() > deadline:
                        raise TimeoutError("the data path did not become idle")
            if all(manager.pending() == 0 for manager in self.managers):
                return
            if time.monotonic() > deadline:
                raise TimeoutError("bucket moves are still pending")

    def _poll_then(self, event: threading.Event) -> Callable[[], None]:
        def reached() -> None:
            self._poll_managers()
            event.set()
        return reached

    # ---- workers
    def _work(self, core: int) -> None:
        bind_core(core)
        queue = self._queues[core]
        entry, port = self.entry, self.port
        try:
            while True:
                try:
                    item = queue.get(timeout=IDLE_POLL)
                except Empty:
                    self._poll_managers()
                    continue
                if item is _STOP:
                    return
                began = time.perf_counter()
                if isinstance(item, list):
                    entry.push(port, item)
                    self.processed[core] += len(item)
                else:
                    item()
                self._busy[core] += time.perf_counter() - began
        except BaseException as err:  # reported by the controlling thread
            self._errors.append(err)
        finally:
            bind_core(None)

    def _poll_managers(self) -> None:
        for manager in self.managers:
            manager.poll()

    def _raise_failure(self) -> None:
        if self._errors:
            raise DataPathError(f"a worker thread failed: {self._errors[0]!r}") from self._errors[0]

    # ---- BucketCounter and LoadSource
    def read_counts(self) -> np.ndarray:
        """Packets steered to each bucket since the previous call."""
        with self._steering:
            counts, self._bucket_counts = self._bucket_counts, np.zeros(self.reta_size, np.int64)
        return counts

    def read_loads(self, cores: Sequence[int]) -> np.ndarray:
        """Busy fraction of each named core's worker since the previous call."""
        now, busy = time.perf_counter(), list(self._busy)
        then, before = self._load_mark
        self._load_mark = (now, busy)
        elapsed = now - then
        if elapsed <= 0:
            return np.zeros(len(cores))
        loads = np.array([(busy[core] - before[core]) / elapsed for core in cores])
        return np.clip(loads, 0.0, 1.0)
