"""Run recordings: one record per balancer tick, in a compact file or in JSON lines.

A record holds ``t`` (router time, seconds), ``tick`` (seconds until the
next tick), ``cores`` (the cores the loads belong to), ``loads``,
``counts`` (packets per bucket), ``table`` (after the tick),
``moves`` ([bucket, old_core, new_core], ...), ``imbalance`` and
``solver_us``; ``in_use``, the cores in use after the tick. When the
device measures how its cores serve packets (a SimNIC does), a record also
holds ``ideal``, the fewest cores that would keep the tick's offered load
under TARGET_LOAD, ceil(offered / (TARGET_LOAD x core capacity)) (at most
the device's cores),
``drops``, the packets dropped during the tick, and ``latency_us``, the
p50, p95 and p99 delay of the tick's packets (empty when none was
served). ``pyclick-plot`` draws them.

A file whose name ends in ``.jsonl`` or ``.json`` gets one JSON object per
tick, every tick with its own counts. Any other name gets the compact
format of ``pyclick.recordcodec``, a twentieth of the size or less: there,
each bucket's counts are summed over the ticks of one second during which
the table kept it on one core, and given at the tick that moves it or at
the second's last tick (other ticks hold 0 for it, or no counts at all),
which keeps every per-second figure, per bucket and per core, exact
(``CompactWriter``). ``pyclick-plot --to-json FILE`` turns either into
JSON lines.

Given a size, a recording is rotated: FILE is renamed FILE.1 (FILE.1 to
FILE.2, ..., the oldest beyond FILE.KEEP removed) and a new FILE started,
each file readable alone. ``read_recording`` reads a rotated set in order.
"""


from __future__ import annotations

import json
import math
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable, Iterator, Protocol

import numpy as np

from pyclick.balance import Decision
from pyclick.recordcodec import MAGIC, MAGIC_1, FrameError, FrameState, decode, encode, get_varint
from pyclick.seams import ServiceMeter
from pyclick.sim.histogram import quantiles

LATENCY_QUANTILES = (0.5, 0.95, 0.99)


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
    in_use: int = 0
    ideal: int | None = None
    drops: int | None = None
    latency_us: list[float] = field(default_factory=list)

    @classmethod
    def of(cls, t: float, decision: Decision) -> "TickRecord":
        """The record of ``decision``, taken at router time ``t``."""
        return cls(t=round(t, 6), tick=decision.next_tick, cores=list(decision.cores),
                   loads=[round(float(x), 4) for x in decision.loads],
                   counts=[int(x) for x in decision.counts], table=[int(x) for x in decision.table],
                   moves=[[int(b), int(o), int(n)] for b, o, n in decision.moves],
                   imbalance=round(float(decision.imbalance), 5),
                   solver_us=round(decision.solver_time * 1e6, 1), in_use=len(decision.active))


class ServiceRecorder:
    """What a device that meters its service adds to each record: drops, delays, ideal cores.

    It keeps the device's totals at the previous record, so that each
    record tells about its own tick.
    """

    def __init__(self, device: ServiceMeter, target_load: float) -> None:
        self.device = device
        self.target_load = target_load
        self._dropped = device.packets_dropped()
        self._latency = device.latency_histogram()[1].copy()

    def complete(self, record: TickRecord, decision: Decision) -> None:
        dropped = self.device.packets_dropped()
        edges, latency = self.device.latency_histogram()
        record.drops = dropped - self._dropped
        tick = latency - self._latency
        if tick.sum() > 0:
            record.latency_us = [round(x, 2) for x in quantiles(edges, tick, LATENCY_QUANTILES)]
        self._dropped, self._latency = dropped, latency.copy()
        if decision.elapsed > 0:
            offered = float(np.sum(decision.counts)) / decision.elapsed
            record.ideal = min(self.device.queue_count(), math.ceil(
                offered / (self.target_load * self.device.core_capacity()) - 1e-9))


#: Rotated files kept beside the one being written (FILE.1 ... FILE.KEEP).
KEEP = 9

#: Where a reader tells how many bytes of its file it has read.
BytesRead = Callable[[int], None]


class Rotation:
    """Size-based rotation of ``path``: past ``max_bytes`` (0: never), FILE becomes FILE.1."""

    def __init__(self, path: Path, max_bytes: int = 0, keep: int = KEEP) -> None:
        self.path, self.max_bytes, self.keep = path, max_bytes, keep

    def due(self, size: int) -> bool:
        return self.max_bytes > 0 and size >= self.max_bytes

    def rotate(self) -> None:
        for index in range(self.keep - 1, 0, -1):
            older = rotated(self.path, index)
            if older.exists():
                os.replace(older, rotated(self.path, index + 1))
        if self.keep > 0:
            os.replace(self.path, rotated(self.path, 1))


def rotated(path: Path, index: int) -> Path:
    return path.with_name(f"{path.name}.{index}")


class RecordWriter(Protocol):
    def write(self, record: TickRecord) -> None: ...

    def close(self) -> None: ...


class JsonLinesWriter:
    """One JSON object per line, flushed at each so that a crash loses none."""

    def __init__(self, rotation: Rotation) -> None:
        self.rotation = rotation
        self._file: IO[str] = open(rotation.path, "w", encoding="utf-8")

    def write(self, record: TickRecord) -> None:
        self._file.write(json.dumps(record.__dict__, separators=(",", ":")) + "\n")
        self._file.flush()
        if self.rotation.due(self._file.tell()):
            self._file.close()
            self.rotation.rotate()
            self._file = open(self.rotation.path, "w", encoding="utf-8")

    def close(self) -> None:
        self._file.close()


class CompactWriter:
    """Frames of ``pyclick.recordcodec``, each bucket's counts summed while its core stays.

    A bucket's packets are summed over the ticks during which the table
    kept it on one core, within one second: the record of a tick that moves
    buckets holds the sums of those buckets (its others read 0), the last
    record of a second holds every bucket's, and so does a record after
    which the cores or the table size change. Every per-second figure, per
    bucket and per core, is kept exactly, each bucket's packets under the
    core that served them (the table of the record before the one holding
    them). The stream is flushed once a second, at the record holding every
    bucket's sums, so a crash loses at most the last second; rotation
    happens there too.
    """

    def __init__(self, rotation: Rotation) -> None:
        self.rotation = rotation
        self._pending: TickRecord | None = None
        self._sums: np.ndarray | None = None
        self._start()

    def _start(self) -> None:
        self._file: IO[bytes] = open(self.rotation.path, "wb")
        self._file.write(MAGIC)
        self._deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
        self._state = FrameState()

    def write(self, record: TickRecord) -> None:
        if self._pending is not None:
            self._emit(self._pending, self._ends_block(self._pending, record))
        counts = np.array(record.counts, dtype=np.int64)
        if self._sums is None or self._sums.shape != counts.shape:
            self._sums = counts
        else:
            self._sums += counts
        self._pending = record

    def _ends_block(self, last: TickRecord, following: TickRecord) -> bool:
        return (int(following.t) != int(last.t) or following.cores != last.cores
                or len(following.counts) != len(last.counts))

    def _emit(self, record: TickRecord, ends_block: bool) -> None:
        fields = dict(record.__dict__)
        previous = self._state.table
        sums = self._sums
        partial = (not ends_block and sums is not None and len(previous) == len(record.table)
                   == len(sums))
        if not partial:
            fields["counts"] = [] if sums is None else sums.tolist()
            self._sums = None
            frame = encode(fields, self._state)
        else:
            changed = np.flatnonzero(np.asarray(previous) != np.asarray(record.table))
            counts = np.zeros_like(sums)
            counts[changed] = sums[changed]
            sums[changed] = 0
            fields["counts"] = counts.tolist() if changed.size else []
            frame = encode(fields, self._state, some_counts=bool(changed.size))
        self._file.write(self._deflate.compress(frame))
        if not partial:
            self._file.write(self._deflate.flush(zlib.Z_SYNC_FLUSH))
            self._file.flush()
            if self.rotation.due(self._file.tell()):
                self._finish()
                self.rotation.rotate()
                self._start()

    def _finish(self) -> None:
        try:
            self._file.write(self._deflate.flush(zlib.Z_FINISH))
        finally:
            self._file.close()

    def close(self) -> None:
        if self._pending is not None:
            self._emit(self._pending, True)
            self._pending = None
        self._finish()


def compact(path: str | Path) -> bool:
    """Whether RECORD ``path`` gets the compact format (every name but .jsonl and .json)."""
    return Path(path).suffix.lower() not in (".jsonl", ".json")


class Recorder:
    """Writes TickRecords to a recording (compact, or JSON lines by the file's name).

    It observes a balancer: called with each decision, it records it at the
    time ``now()`` tells. Given the balanced ``device`` and the balancer's
    ``target_load``, it also records what the device measures of its
    service when it does (``seams.ServiceMeter``). Past ``max_bytes`` (0:
    never) the file is rotated, ``keep`` older files kept.
    """

    def __init__(self, path: str | Path, now: Callable[[], float], device: object = None,
                 target_load: float = 1.0, max_bytes: int = 0, keep: int = KEEP) -> None:
        self.path = Path(path)
        self.now = now
        self.service = (ServiceRecorder(device, target_load) if isinstance(device, ServiceMeter)
                        else None)
        rotation = Rotation(self.path, max_bytes, keep)
        self._writer: RecordWriter | None = (CompactWriter(rotation) if compact(self.path)
                                             else JsonLinesWriter(rotation))

    def __call__(self, decision: Decision) -> None:
        record = TickRecord.of(self.now(), decision)
        if self.service is not None:
            self.service.complete(record, decision)
        self.write(record)

    def write(self, record: TickRecord) -> None:
        if self._writer is None:
            raise ValueError(f"recording {self.path} is closed")
        self._writer.write(record)

    def close(self) -> None:
        # Closed once, even when closing fails (its last write on a full disk).
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()


def read_records(path: str | Path, progress: BytesRead | None = None) -> Iterator[TickRecord]:
    """The records of one recording file, in either format.

    A last record cut short (the writer died while writing it) is left
    out; a malformed record elsewhere raises ValueError naming it.
    ``progress`` hears how many bytes have been read.
    """
    with open(path, "rb") as f:
        start = f.read(len(MAGIC))
        if start in (MAGIC, MAGIC_1):
            yield from _compact_records(path, f, progress or _ignore)
        else:
            f.seek(0)
            yield from _json_records(path, f, progress or _ignore)


def recording_files(path: str | Path) -> list[Path]:
    """A rotated set, oldest first: FILE.N, ..., FILE.1, FILE (those that exist)."""
    path = Path(path)
    older = []
    while rotated(path, len(older) + 1).exists():
        older.append(rotated(path, len(older) + 1))
    return older[::-1] + ([path] if path.exists() or not older else [])


def read_recording(path: str | Path, progress: BytesRead | None = None) -> Iterator[TickRecord]:
    """The records of ``path`` and of the files rotated out of it, oldest first."""
    done = 0
    for file in recording_files(path):
        size = file.stat().st_size if file.exists() else 0
        yield from read_records(file, None if progress is None
                                else lambda n, base=done: progress(base + n))
        done += size


def _ignore(_: int) -> None:
    pass


def _json_records(path: str | Path, f: IO[bytes], progress: BytesRead) -> Iterator[TickRecord]:
    done = 0
    for number, raw in enumerate(f, 1):
        done += len(raw)
        if number % 256 == 0:
            progress(done)
        try:
            line = raw.decode("utf-8")
            if not line.strip():
                continue
            yield TickRecord(**json.loads(line))
        except (UnicodeDecodeError, json.JSONDecodeError, TypeError) as err:
            if not raw.endswith(b"\n"):
                break   # the last line, cut short
            raise ValueError(f"{path}:{number}: not a tick record: {err}") from None
    progress(done)


def _compact_records(path: str | Path, f: IO[bytes], progress: BytesRead) -> Iterator[TickRecord]:
    inflate = zlib.decompressobj(-15)
    state = FrameState()
    pending = b""
    offset = len(MAGIC)
    number = 0
    while chunk := f.read(1 << 20):
        try:
            data = pending + inflate.decompress(chunk)
        except zlib.error as err:
            raise ValueError(f"{path}: corrupt data between bytes {offset} and "
                             f"{offset + len(chunk)}: {err}") from None
        offset += len(chunk)
        view, pos = memoryview(data), 0
        while True:
            try:
                size, body = get_varint(view, pos)
            except FrameError:
                break
            if body + size > len(view):
                break
            number += 1
            try:
                yield TickRecord(**decode(view[body:body + size], state))
            except FrameError as err:
                raise ValueError(f"{path}: record {number}: {err}") from None
            pos = body + size
        pending = bytes(view[pos:])
        progress(offset)
