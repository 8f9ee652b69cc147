"""Per-core load from /proc/stat: DeviceBalancer's ``CYCLES realcpu``.

Each ``cpuN`` line of /proc/stat counts the jiffies core N spent in user,
nice, system, idle, iowait, irq, softirq and steal time (then guest and
guest_nice, which are already part of user and nice and so are left out).
A core's load over an interval is the share of its jiffies that were
neither idle nor iowait.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Sequence

import numpy as np

_CPU_LINE = re.compile(rb"^cpu(\d+)\s+(.*)$", re.MULTILINE)
# user nice system idle iowait irq softirq steal
_COUNTED_FIELDS = 8
_IDLE, _IOWAIT = 3, 4


def parse_proc_stat(text: bytes) -> dict[int, tuple[int, int]]:
    """(busy, total) jiffies of every core listed, by core number.

    Kernels older than 2.6.11 print fewer fields; missing ones count as 0.
    """
    cores: dict[int, tuple[int, int]] = {}
    for match in _CPU_LINE.finditer(text):
        fields = [int(v) for v in match.group(2).split()[:_COUNTED_FIELDS]]
        fields += [0] * (_COUNTED_FIELDS - len(fields))
        total = sum(fields)
        cores[int(match.group(1))] = (total - fields[_IDLE] - fields[_IOWAIT], total)
    return cores


class ProcStatLoad:
    """A LoadSource reading /proc/stat: load of each core since the last read.

    The first read measures from the moment the object was made. A core
    whose counters did not move since the last read (two reads within one
    jiffy) keeps the load it last had.
    """

    def __init__(self, path: str | os.PathLike[str] = "/proc/stat"):
        self.path = Path(path)
        self._previous = self._snapshot()
        self._last_load: dict[int, float] = {}

    def _snapshot(self) -> dict[int, tuple[int, int]]:
        return parse_proc_stat(self.path.read_bytes())

    def read_loads(self, cores: Sequence[int]) -> np.ndarray:
        """Load (0..1) of each named core since the previous call."""
        now = self._snapshot()
        loads = np.empty(len(cores), dtype=np.float64)
        for i, core in enumerate(cores):
            loads[i] = self._load(core, now)
        self._previous = now
        return loads

    def _load(self, core: int, now: dict[int, tuple[int, int]]) -> float:
        if core not in now:
            raise ValueError(f"core {core} is not listed in {self.path} "
                             f"(offline, or beyond the {len(now)} cores listed)")
        busy, total = now[core]
        busy_before, total_before = self._previous.get(core, (0, 0))
        elapsed = total - total_before
        if elapsed <= 0:
            return self._last_load.get(core, 0.0)
        load = min(max((busy - busy_before) / elapsed, 0.0), 1.0)
        self._last_load[core] = load
        return load
