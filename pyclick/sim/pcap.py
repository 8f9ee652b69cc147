"""Classic pcap files: their format, read whole or a batch of records at a time, and written.

Only the classic format is handled (microsecond or nanosecond timestamps,
either byte order); pcapng files are recognised and refused with a clear
message. A file that is cut short, or holds a record whose length no
capture can have, is reported with the file's name and the byte offset of
the record, when the reader reaches it. Frames are dissected to flow keys
by ``pyclick.sim.dissect``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPES = (LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL, LINKTYPE_IPV4,
             LINKTYPE_IPV6)

HEADER_BYTES = 24
RECORD_HEADER_BYTES = 16
#: The longest record accepted whatever the snapshot length says (libpcap's
#: own maximum), and the longest whatever the snapshot length says either.
MAX_RECORD_BYTES = 262_144
MAX_SNAPLEN = 1 << 24
#: Bytes read from the file at a time.
CHUNK_BYTES = 1 << 22
#: Bytes at the end of a file searched for its last record.
TAIL_BYTES = 1 << 20
#: Records that must chain up to the end of the file for the last one to be trusted.
TAIL_CHAIN = 4

_MAGIC_USEC = 0xA1B2C3D4
_MAGIC_NSEC = 0xA1B23C4D
_PCAPNG_MAGIC = 0x0A0D0D0A


class PcapError(ValueError):
    """The file is not a readable classic pcap, or is damaged where the reader got to."""


@dataclass(frozen=True)
class PcapFormat:
    """What the file header says: byte order, timestamp unit, link type, snapshot length."""

    order: str
    nanoseconds: bool
    linktype: int
    snaplen: int

    @property
    def scale(self) -> float:
        """Seconds per unit of the timestamps' fraction field."""
        return 1e-9 if self.nanoseconds else 1e-6

    @property
    def record_limit(self) -> int:
        """The longest captured length a record of this file may have."""
        return max(MAX_RECORD_BYTES, min(self.snaplen, MAX_SNAPLEN))


def parse_header(path: str | Path, head: bytes) -> PcapFormat:
    """The format of a capture from its first bytes; PcapError if it is not a classic pcap."""
    if len(head) < HEADER_BYTES:
        raise PcapError(f"{path}: {len(head)} bytes, too short for a pcap header "
                        f"({HEADER_BYTES} bytes)")
    (magic_le,) = struct.unpack("<I", head[:4])
    if magic_le == _PCAPNG_MAGIC:
        raise PcapError(f"{path}: pcapng is not supported; convert it with "
                        "'editcap -F pcap in.pcapng out.pcap'")
    for order in ("<", ">"):
        (magic,) = struct.unpack(order + "I", head[:4])
        if magic in (_MAGIC_USEC, _MAGIC_NSEC):
            break
    else:
        raise PcapError(f"{path}: not a pcap file (bad magic number {head[:4].hex()} at byte 0)")
    snaplen, linktype = struct.unpack(order + "II", head[16:24])
    return PcapFormat(order, magic == _MAGIC_NSEC, linktype & 0xFFFF, snaplen)


@dataclass(frozen=True, slots=True)
class PcapRecord:
    """One packet of a capture; ``extra_length``: the bytes the capture left out
    (its original length less the bytes captured)."""

    timestamp: float
    frame: bytes
    extra_length: int = 0


@dataclass
class RecordBatch:
    """Consecutive records of a capture, their frames inside one block of bytes."""

    data: bytes
    #: File offset of ``data[0]``.
    offset: int
    #: Where each frame starts in ``data``, and its captured length.
    starts: np.ndarray
    lengths: np.ndarray
    #: Each record's timestamp: whole seconds and the fraction (µs or ns).
    seconds: np.ndarray
    fractions: np.ndarray
    #: Each packet's original length (on the wire).
    wire_lengths: np.ndarray

    def records(self, scale: float) -> list[PcapRecord]:
        """Each record as a PcapRecord, its fraction of a second counted in ``scale``
        seconds; the bytes the capture left out are its extra length."""
        times = (self.seconds + self.fractions * scale).tolist()
        extras = np.maximum(self.wire_lengths - self.lengths, 0).tolist()
        return [PcapRecord(t, self.frame(i), extra)
                for i, (t, extra) in enumerate(zip(times, extras))]

    def __len__(self) -> int:
        return len(self.starts)

    def frame(self, i: int) -> bytes:
        start = int(self.starts[i])
        return self.data[start:start + int(self.lengths[i])]


class PcapReader:
    """Reads a classic pcap file a batch of records at a time.

    The header is read and checked when the reader is made; records are
    read on demand, ``chunk_bytes`` at a time (CHUNK_BYTES when not given,
    read when the reader is made). The file is opened for each
    read and closed again, so a reader holds no file open between reads.
    """

    def __init__(self, path: str | Path, chunk_bytes: int | None = None) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as f:
            self.format = parse_header(self.path, f.read(HEADER_BYTES))
            self.size = f.seek(0, 2)
        self.chunk_bytes = max(CHUNK_BYTES if chunk_bytes is None else chunk_bytes,
                               RECORD_HEADER_BYTES)
        #: File offset of the first byte not handed out in a batch yet.
        self.offset = HEADER_BYTES
        self._pending = b""
        self._header = struct.Struct(self.format.order + "I")

    def _read(self, offset: int, count: int) -> bytes:
        try:
            with open(self.path, "rb") as f:
                f.seek(offset)
                return f.read(count)
        except OSError as err:
            raise PcapError(f"{self.path}: cannot read at byte {offset}: "
                            f"{err.strerror or err}") from None

    def _walk(self, data: bytes) -> tuple[list[int], int, int | None]:
        """Record starts in ``data``, where the complete records end, and the
        captured length of the first impossible record (None if there is none)."""
        # The hot loop of reading a capture: names bound locally, one
        # comparison per record in the common case.
        length_at = self._header.unpack_from
        limit = self.format.record_limit
        starts: list[int] = []
        keep = starts.append
        pos, last = 0, len(data) - RECORD_HEADER_BYTES
        while pos <= last:
            (caplen,) = length_at(data, pos + 8)
            following = pos + RECORD_HEADER_BYTES + caplen
            if following > last + RECORD_HEADER_BYTES or caplen > limit:
                if caplen > limit:
                    return starts, pos, caplen
                break
            keep(pos)
            pos = following
        return starts, pos, None

    def _damage(self, offset: int, data: bytes, caplen: int | None) -> PcapError:
        if caplen is not None:
            return PcapError(f"{self.path}: bad record at byte {offset}: captured length "
                             f"{caplen} is over {self.format.record_limit} bytes")
        if len(data) < RECORD_HEADER_BYTES:
            return PcapError(f"{self.path}: truncated record header at byte {offset} "
                             f"({len(data)} of {RECORD_HEADER_BYTES} bytes)")
        (caplen,) = self._header.unpack_from(data, 8)
        return PcapError(f"{self.path}: truncated record at byte {offset} "
                         f"({len(data) - RECORD_HEADER_BYTES} of {caplen} bytes of packet data)")

    def read_batch(self) -> RecordBatch | None:
        """The next records (at least one), or None at the end of the file.

        Raises PcapError on reaching a truncated or impossible record; the
        records before it have been handed out by then.
        """
        while True:
            data = self._pending
            start = self.offset
            chunk = self._read(start + len(data), self.chunk_bytes)
            data += chunk
            starts, stop, bad = self._walk(data)
            if starts:
                break
            if bad is not None or not chunk:
                if not data:
                    return None
                raise self._damage(start, data, bad)
            # A record longer than what was read so far: read on.
            self._pending = data
        self._pending = data[stop:]
        self.offset = start + stop
        return self._batch(data, start, np.array(starts, np.int64))

    def _batch(self, data: bytes, offset: int, starts: np.ndarray) -> RecordBatch:
        block = np.frombuffer(data, np.uint8)
        fields = block[starts[:, None] + np.arange(RECORD_HEADER_BYTES)].copy().view(
            self.format.order + "u4")
        return RecordBatch(data, offset, starts + RECORD_HEADER_BYTES,
                           fields[:, 2].astype(np.int64), fields[:, 0].astype(np.int64),
                           fields[:, 1].astype(np.int64), fields[:, 3].astype(np.int64))

    def first_record_time(self) -> tuple[int, int] | None:
        """(seconds, fraction) of the first record, None for a file without records."""
        head = self._read(HEADER_BYTES, RECORD_HEADER_BYTES)
        if not head:
            return None
        if len(head) < RECORD_HEADER_BYTES:
            raise self._damage(HEADER_BYTES, head, None)
        seconds, fraction = struct.unpack(self.format.order + "II", head[:8])
        return seconds, fraction

    def last_record_time(self, progress: Callable[[int], None] | None = None
                         ) -> tuple[int, int] | None:
        """(seconds, fraction) of the last complete record before any damage.

        Found at the end of the file when the records there chain up to it
        exactly; otherwise (a damaged or unusual end) the file's record
        headers are walked once from the start, without keeping the
        packets, calling ``progress`` with the bytes walked so far.
        """
        found = self._last_from_tail()
        if found is not None:
            return found
        return self._last_by_walking(progress)

    def _last_from_tail(self) -> tuple[int, int] | None:
        body = self.size - HEADER_BYTES
        window = min(body, TAIL_BYTES)
        if window < RECORD_HEADER_BYTES:
            return None
        tail = np.frombuffer(self._read(self.size - window, window), np.uint8)
        if len(tail) != window:
            return None
        # The 32-bit word at every byte offset of the tail.
        words = np.zeros(window, np.int64)
        dtype = np.dtype(self.format.order + "u4")
        for shift in range(4):
            usable = (window - shift) // 4 * 4
            words[shift:shift + usable:4] = np.frombuffer(tail[shift:shift + usable].tobytes(),
                                                          dtype)
        positions = np.arange(window - RECORD_HEADER_BYTES + 1)
        seconds, fraction = words[positions], words[positions + 4]
        caplen, wirelen = words[positions + 8], words[positions + 12]
        plausible = ((caplen >= 1) & (caplen <= self.format.record_limit) & (wirelen >= caplen)
                     & (fraction < (10 ** 9 if self.format.nanoseconds else 10 ** 6)))
        ends = positions + RECORD_HEADER_BYTES + caplen
        candidates = positions[plausible]
        candidate_ends = ends[plausible]
        order = np.argsort(candidate_ends, kind="stable")
        by_end, end_keys = candidates[order], candidate_ends[order]

        def ending_at(place: int) -> np.ndarray:
            lo, hi = np.searchsorted(end_keys, [place, place + 1])
            return by_end[lo:hi]

        def chained(position: int, depth: int) -> bool:
            # A record is trusted when TAIL_CHAIN records end where the next
            # begins, or when the chain reaches the file header exactly.
            if depth == TAIL_CHAIN or (position == 0 and window == body):
                return True
            return any(chained(int(q), depth + 1) for q in ending_at(position)
                       if seconds[q] <= seconds[position] + 1)

        last = {(int(seconds[p]), int(fraction[p])) for p in ending_at(window)
                if chained(int(p), 1)}
        return last.pop() if len(last) == 1 else None

    def _last_by_walking(self, progress: Callable[[int], None] | None
                         ) -> tuple[int, int] | None:
        last = None
        offset, pending = HEADER_BYTES, b""
        while True:
            chunk = self._read(offset + len(pending), self.chunk_bytes)
            data = pending + chunk
            starts, stop, bad = self._walk(data)
            if starts:
                at = starts[-1]
                last = struct.unpack_from(self.format.order + "II", data, at)
            if progress is not None:
                progress(offset + stop)
            if bad is not None or not chunk:
                return last
            offset, pending = offset + stop, data[stop:]


def read_pcap(path: str | Path) -> tuple[int, list[PcapRecord]]:
    """The link type and every record of a classic pcap file."""
    reader = PcapReader(path)
    scale = reader.format.scale
    records = []
    while (batch := reader.read_batch()) is not None:
        records.extend(batch.records(scale))
    return reader.format.linktype, records


def write_pcap(path: str | Path, records: Iterable[tuple[float, bytes]],
               linktype: int = LINKTYPE_ETHERNET) -> None:
    """Write (timestamp, frame) pairs as a microsecond classic pcap."""
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", _MAGIC_USEC, 2, 4, 0, 0, 65535, linktype))
        for timestamp, frame in records:
            out.write(record_bytes(timestamp, frame))


def record_bytes(timestamp: float, frame: bytes) -> bytes:
    """One record of a microsecond little-endian capture."""
    sec = int(timestamp)
    usec = int(round((timestamp - sec) * 1e6))
    if usec == 1_000_000:
        sec, usec = sec + 1, 0
    return struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame
