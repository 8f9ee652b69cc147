"""The compact recording format: tick records as varint frames in one deflate stream.

A file is the header ``MAGIC`` followed by a raw deflate stream, flushed
(``Z_SYNC_FLUSH``) at the end of each block of frames (a second of
records, see ``record.CompactWriter``), so that a reader gets every
flushed frame back when the writer died mid-write: a stream cut short only
loses its last block. Inside the stream each frame is its length (a
varint) followed by the frame.

A frame holds what changed since the previous frame of the same file: the
time as a difference of microseconds, the cores only when they change,
the moves (the table follows from the previous one), the whole table only
in the first frame or when it changed other than by the moves. Decimal
values (loads, imbalance, delays) are stored as integers scaled to the
digits they were rounded to, and a value that is not (NaN, a value with
more digits) as an 8-byte double, so that what is read back is equal to
what was written.

Counts are packets per bucket and are the bulk of a record: a frame holds
them for every bucket, for the buckets whose entry it changes in the table
(the others read as 0), or for none; each value is a bucket's packets
summed over the ticks since its last value (see ``record.CompactWriter``).
Files of ``MAGIC_1``, whose frames hold counts for every bucket or none,
read the same way.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

MAGIC = b"PYCLICK-RECORD 2\n"
#: The first version's header: its frames are those of this one without ``_SOME_COUNTS``.
MAGIC_1 = b"PYCLICK-RECORD 1\n"

_CORES, _TABLE, _COUNTS, _IDEAL, _DROPS, _LATENCY, _RAW_TIME, _SOME_COUNTS = (
    1 << i for i in range(8))
_DOUBLE = struct.Struct("<d")


class FrameError(ValueError):
    """A frame that does not decode."""


def put_varint(out: bytearray, value: int) -> None:
    if value < 0:
        raise ValueError(f"a varint is not negative, got {value}")
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)


def get_varint(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it."""
    value = shift = 0
    while True:
        if pos >= len(data):
            raise FrameError("a frame ends inside a number")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _zigzag(value: int) -> int:
    return value * 2 if value >= 0 else -value * 2 - 1


def _unzigzag(value: int) -> int:
    return value // 2 if value % 2 == 0 else -(value + 1) // 2


def put_decimal(out: bytearray, value: float, digits: int) -> None:
    """``value`` as an integer of 10^-digits when that gives it back exactly, else a double."""
    if math.isfinite(value):
        scaled = round(value * 10 ** digits)
        if round(scaled / 10 ** digits, digits) == value:
            put_varint(out, _zigzag(scaled) * 2)
            return
    put_varint(out, 1)
    out += _DOUBLE.pack(value)


def get_decimal(data: bytes | memoryview, pos: int, digits: int) -> tuple[float, int]:
    tag, pos = get_varint(data, pos)
    if tag & 1:
        if pos + 8 > len(data):
            raise FrameError("a frame ends inside a number")
        return _DOUBLE.unpack_from(data, pos)[0], pos + 8
    return round(_unzigzag(tag >> 1) / 10 ** digits, digits), pos


def _put_list(out: bytearray, values: list[int]) -> None:
    put_varint(out, len(values))
    for value in values:
        put_varint(out, value)


def _get_list(data: bytes | memoryview, pos: int) -> tuple[list[int], int]:
    count, pos = get_varint(data, pos)
    values = []
    for _ in range(count):
        value, pos = get_varint(data, pos)
        values.append(value)
    return values, pos


def changed_buckets(old: list[int], new: list[int]) -> list[int]:
    """The buckets whose entry differs between two tables of one size."""
    if len(old) != len(new):
        raise FrameError(f"a table of {len(new)} buckets follows one of {len(old)}")
    return [bucket for bucket, (a, b) in enumerate(zip(old, new)) if a != b]


@dataclass
class FrameState:
    """What the frames of one file so far leave behind: each frame is read against it."""

    micros: int = 0
    cores: list[int] | None = None
    table: list[int] = field(default_factory=list)


def encode(fields: dict, state: FrameState, some_counts: bool = False) -> bytes:
    """One frame of a tick record's ``fields`` (``TickRecord.__dict__``), updating ``state``.

    With ``some_counts``, the counts are those of the buckets whose entry
    this record changes in the table, every other bucket's count being 0.
    """
    body = bytearray()
    flags = 0
    micros = round(fields["t"] * 1e6)
    if round(micros / 1e6, 6) != fields["t"]:
        flags |= _RAW_TIME
    cores, table, moves = fields["cores"], fields["table"], fields["moves"]
    if cores != state.cores:
        flags |= _CORES
    moved = list(state.table)
    for bucket, old, new in moves:
        if not 0 <= bucket < len(moved) or moved[bucket] != old:
            moved = None
            break
        moved[bucket] = new
    if moved != table:
        flags |= _TABLE
    counts = fields["counts"]
    if some_counts:
        changed = changed_buckets(state.table, table)
        if len(counts) != len(table) or sum(counts) != sum(counts[b] for b in changed):
            raise ValueError("counts of buckets this record does not move")
        flags |= _SOME_COUNTS
    elif counts:
        flags |= _COUNTS
    flags |= ((_IDEAL if fields["ideal"] is not None else 0)
              | (_DROPS if fields["drops"] is not None else 0)
              | (_LATENCY if fields["latency_us"] else 0))
    put_varint(body, flags)
    if flags & _RAW_TIME:
        body += _DOUBLE.pack(fields["t"])
    else:
        put_varint(body, _zigzag(micros - state.micros))
        state.micros = micros
    put_decimal(body, fields["tick"], 6)
    if flags & _CORES:
        _put_list(body, cores)
        state.cores = list(cores)
    put_varint(body, len(fields["loads"]))
    for load in fields["loads"]:
        put_decimal(body, load, 4)
    put_varint(body, len(moves))
    for move in moves:
        for value in move:
            put_varint(body, value)
    if flags & _TABLE:
        _put_list(body, table)
    state.table = list(table)
    if flags & _SOME_COUNTS:
        _put_list(body, [counts[b] for b in changed])
    put_decimal(body, fields["imbalance"], 5)
    put_decimal(body, fields["solver_us"], 1)
    put_varint(body, fields["in_use"])
    if flags & _COUNTS:
        _put_list(body, counts)
    if flags & _IDEAL:
        put_varint(body, fields["ideal"])
    if flags & _DROPS:
        put_varint(body, fields["drops"])
    if flags & _LATENCY:
        put_varint(body, len(fields["latency_us"]))
        for value in fields["latency_us"]:
            put_decimal(body, value, 2)
    frame = bytearray()
    put_varint(frame, len(body))
    return bytes(frame + body)


def decode(body: bytes | memoryview, state: FrameState) -> dict:
    """The fields of one frame (without its length), read against and updating ``state``."""
    flags, pos = get_varint(body, 0)
    if flags & _RAW_TIME:
        t = _DOUBLE.unpack_from(body, pos)[0]
        pos += 8
    else:
        delta, pos = get_varint(body, pos)
        state.micros += _unzigzag(delta)
        t = round(state.micros / 1e6, 6)
    tick, pos = get_decimal(body, pos, 6)
    if flags & _CORES:
        state.cores, pos = _get_list(body, pos)
    if state.cores is None:
        raise FrameError("the first frame of a file does not name its cores")
    count, pos = get_varint(body, pos)
    loads = []
    for _ in range(count):
        load, pos = get_decimal(body, pos, 4)
        loads.append(load)
    count, pos = get_varint(body, pos)
    moves = []
    for _ in range(count):
        move = []
        for _ in range(3):
            value, pos = get_varint(body, pos)
            move.append(value)
        moves.append(move)
    before = state.table
    if flags & _TABLE:
        state.table, pos = _get_list(body, pos)
    else:
        state.table = list(before)
        for bucket, _, new in moves:
            if bucket >= len(state.table):
                raise FrameError(f"a move of bucket {bucket} outside the table")
            state.table[bucket] = new
    counts: list[int] = []
    if flags & _SOME_COUNTS:
        changed = changed_buckets(before, state.table)
        values, pos = _get_list(body, pos)
        if len(values) != len(changed):
            raise FrameError(f"{len(values)} counts for {len(changed)} changed buckets")
        counts = [0] * len(state.table)
        for bucket, value in zip(changed, values):
            counts[bucket] = value
    imbalance, pos = get_decimal(body, pos, 5)
    solver_us, pos = get_decimal(body, pos, 1)
    in_use, pos = get_varint(body, pos)
    if flags & _COUNTS:
        counts, pos = _get_list(body, pos)
    ideal = drops = None
    if flags & _IDEAL:
        ideal, pos = get_varint(body, pos)
    if flags & _DROPS:
        drops, pos = get_varint(body, pos)
    latency = []
    if flags & _LATENCY:
        count, pos = get_varint(body, pos)
        for _ in range(count):
            value, pos = get_decimal(body, pos, 2)
            latency.append(value)
    if pos != len(body):
        raise FrameError(f"{len(body) - pos} bytes left over in a frame")
    return dict(t=t, tick=tick, cores=list(state.cores), loads=loads, counts=counts,
                table=list(state.table), moves=moves, imbalance=imbalance, solver_us=solver_us,
                in_use=in_use, ideal=ideal, drops=drops, latency_us=latency)
