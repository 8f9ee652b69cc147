"""Run recordings: one JSON object per balancer tick, one per line.

A record holds ``t`` (router time, seconds), ``tick`` (seconds until the
next tick), ``cores`` (the cores the loads belong to), ``loads``,
``counts`` (packets per bucket in the tick), ``table`` (after the tick),
``moves`` ([bucket, old_core, new_core], ...), ``imbalance`` and
``solver_us``. ``pyclick-plot`` draws them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

from pyclick.balance import Decision


@dataclass
class TickRecord:
    t: float
    tick: float
    cores: list[int]
    loads: list[float]
    counts: list[int]
    table: list[int]
    moves: list[list[int]]
    imbalance: float
    solver_us: float

    @classmethod
    def of(cls, t: float, decision: Decision) -> "TickRecord":
        """The record of ``decision``, taken at router time ``t``."""
        return cls(t=round(t, 6), tick=decision.next_tick, cores=list(decision.cores),
                   loads=[round(float(x), 4) for x in decision.loads],
                   counts=[int(x) for x in decision.counts], table=[int(x) for x in decision.table],
                   moves=[[int(b), int(o), int(n)] for b, o, n in decision.moves],
                   imbalance=round(float(decision.imbalance), 5),
                   solver_us=round(decision.solver_time * 1e6, 1))


class Recorder:
    """Appends TickRecords to a file, flushing each line so a crash loses none."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: IO[str] | None = open(self.path, "w", encoding="utf-8")

    def write(self, record: TickRecord) -> None:
        if self._file is None:
            raise ValueError(f"recording {self.path} is closed")
        self._file.write(json.dumps(record.__dict__, separators=(",", ":")) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_records(path: str | Path) -> Iterator[TickRecord]:
    """The records of a recording; a malformed line raises ValueError naming it."""
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield TickRecord(**json.loads(line))
            except (json.JSONDecodeError, TypeError) as err:
                raise ValueError(f"{path}:{number}: not a tick record: {err}") from None
