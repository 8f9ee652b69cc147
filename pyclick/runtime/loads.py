"""Where a balancer's core loads come from (DeviceBalancer's CYCLES).

A device that models its own cores (``seams.OwnLoadSource``) answers every
mode itself. Otherwise ``realcpu`` reads each CPU's busy time from
/proc/stat, and ``cycles`` and ``cpu`` the busy time of the router's worker
thread pinned to each CPU: the time it spent in timers and in task runs
that did work. The ``queue`` modes need a device that reports its RX queue
fill, which none of the devices here do.
"""

from __future__ import annotations

from typing import Callable, Protocol, Sequence

import numpy as np

from pyclick.kernel.procstat import ProcStatLoad
from pyclick.seams import THREAD_MODES, LoadSource, OwnLoadSource


class BusyWorker(Protocol):
    """A worker thread as a load source needs it."""

    #: The CPU the thread is pinned to; None when it is not pinned.
    cpu: int | None
    #: Seconds of useful work done so far (only ever grows).
    busy_seconds: float


class NoLoadSource(ValueError):
    """No load source can serve the CYCLES mode asked for."""


def load_source(cycles: str, device: object, device_name: str, core_offset: int,
                workers: Sequence[BusyWorker], now: Callable[[], float]
                ) -> tuple[LoadSource, int]:
    """The load source for ``cycles``, and the number it gives the core of queue 0.

    ``core_offset`` is the CPU serving queue 0; ``workers`` are the router's
    worker threads and ``now`` its clock.
    """
    if isinstance(device, OwnLoadSource):
        return device.load_source(cycles), 0
    if cycles == "realcpu":
        return ProcStatLoad(), core_offset
    if cycles not in THREAD_MODES:
        raise NoLoadSource(f"CYCLES {cycles} needs a device that reports its RX queue fill; "
                           f"DEV '{device_name}' does not (use CYCLES realcpu)")
    pinned = [worker for worker in workers if worker.cpu is not None]
    if not pinned:
        raise NoLoadSource(f"CYCLES {cycles} needs the busy time of router threads pinned to "
                           "the balanced CPUs (StaticThreadSched or -j); use CYCLES realcpu")
    return ThreadBusyLoad(pinned, now), core_offset


class ThreadBusyLoad:
    """A LoadSource: busy share of the thread pinned to each CPU since the previous read.

    A CPU without a pinned thread reads 0; the first read measures from the
    moment the object was made.
    """

    def __init__(self, workers: Sequence[BusyWorker], now: Callable[[], float]) -> None:
        self.workers = {worker.cpu: worker for worker in workers if worker.cpu is not None}
        self.now = now
        self.last_time = now()
        self.last_busy = {cpu: worker.busy_seconds for cpu, worker in self.workers.items()}

    def read_loads(self, cores: Sequence[int]) -> np.ndarray:
        now = self.now()
        elapsed = max(now - self.last_time, 1e-9)
        loads = np.zeros(len(cores))
        for i, cpu in enumerate(cores):
            worker = self.workers.get(cpu)
            if worker is not None:
                busy = worker.busy_seconds
                loads[i] = min(1.0, (busy - self.last_busy[cpu]) / elapsed)
                self.last_busy[cpu] = busy
        self.last_time = now
        return loads
