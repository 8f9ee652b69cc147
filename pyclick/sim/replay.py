"""Replay of a classic pcap file as traffic for the simulated NIC, streamed.

The capture is read and hashed a batch of records at a time as simulated
time advances, never whole: only the packets read but not yet replayed are
held, as arrays of times, hashes and file offsets (24 bytes a packet).
The frames themselves are read again from the file only when individual
packets are asked for (``packets``).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from pyclick.packet import Packet
from pyclick.rss.indirection import buckets_of
from pyclick.sim.dissect import FlowKey, batch_hashes, check_linktype, dissect
from pyclick.sim.pcap import CHUNK_BYTES, PcapError, PcapReader


class Held(NamedTuple):
    """Packets read from the capture: times, hashes, and where their frames are."""

    times: np.ndarray
    hashes: np.ndarray
    offsets: np.ndarray
    lengths: np.ndarray

    def picked(self, which: slice | np.ndarray) -> "Held":
        return Held(*(array[which] for array in self))


class PcapTraffic:
    """Replays a classic pcap file as NIC arrivals.

    Time 0 is the first packet of the file; ``speedup`` divides the file's
    inter-packet times (2.0 replays twice as fast). Packets without IP get
    hash 0, as NICs leave them unhashed; IP packets without ports (other
    protocols, fragments) get the address-only hash.

    Packets are replayed in time order within what has been read; a packet
    stamped earlier than time already replayed (a capture out of order
    across batches) arrives at the current time instead. The header is
    checked when the replay is made (PcapError); a damaged record raises
    PcapError when the replay reaches it, naming the file and byte offset.
    """

    def __init__(self, path: str | Path, key: bytes, reta_size: int,
                 speedup: float = 1.0, chunk_bytes: int = CHUNK_BYTES) -> None:
        if not speedup > 0:
            raise ValueError("speedup must be positive")
        self.path = Path(path)
        self.key = key
        self.reta_size = reta_size
        self.speedup = speedup
        self._reader = PcapReader(self.path, chunk_bytes)
        self.linktype = self._reader.format.linktype
        try:
            check_linktype(self.linktype)
        except PcapError as err:
            raise PcapError(f"{self.path}: {err}") from None
        first = self._reader.first_record_time()
        if first is None:
            raise PcapError(f"{self.path}: the capture holds no packets")
        self._origin = first
        self._duration: float | None = None
        # The packets read and not replayed yet, in time order.
        self._held = Held(np.zeros(0), np.zeros(0, np.uint32), np.zeros(0, np.int64),
                          np.zeros(0, np.int64))
        self._ended = False
        #: The latest time read from the file, and the time replayed up to.
        self._read_until = -np.inf
        self._replayed_until = 0.0

    # --- the file
    def _relative(self, seconds: np.ndarray | int, fractions: np.ndarray | int):
        sec0, frac0 = self._origin
        return ((seconds - sec0) + (fractions - frac0) * self._reader.format.scale) / self.speedup

    def capture_length(self, progress: Callable[[int], None] | None = None) -> float:
        """Replay time from the first to the last packet of the file, seconds.

        Found at the end of the file, or, when its end is damaged or
        unusual, by walking its record headers once (``progress`` hears
        the bytes walked).
        """
        if self._duration is None:
            last = self._reader.last_record_time(progress)
            self._duration = max(0.0, float(self._relative(*last))) if last else 0.0
        return self._duration

    @property
    def duration(self) -> float:
        """Replay time from the first to the last packet, seconds."""
        return self.capture_length()

    @property
    def size(self) -> int:
        """The capture's size in bytes."""
        return self._reader.size

    @property
    def bytes_read(self) -> int:
        """Bytes of the capture read so far."""
        return self._reader.offset

    def _read_batch(self) -> None:
        batch = self._reader.read_batch()
        if batch is None:
            self._ended = True
            return
        times = self._relative(batch.seconds, batch.fractions)
        self._read_until = max(self._read_until, float(times.max()))
        # Too late to be replayed at its time: it arrives now.
        np.maximum(times, self._replayed_until, out=times)
        fresh = Held(times, batch_hashes(self.key, batch.data, batch.starts, batch.lengths,
                                         self.linktype),
                     batch.starts + batch.offset, batch.lengths)
        held = Held(*(np.concatenate([old, new]) for old, new in zip(self._held, fresh)))
        self._held = held.picked(np.argsort(held.times, kind="stable"))

    def _read_through(self, until: float) -> None:
        """Read until every packet stamped before ``until`` is held."""
        while not self._ended and self._read_until <= until:
            self._read_batch()

    def _take(self, t: float, dt: float, count: int) -> tuple[Held, np.ndarray]:
        """The held packets of ``count`` windows of ``dt`` from ``t``, and their window;
        forgets them and any earlier ones.

        Window edges are compared in units of ``dt`` with a small tolerance,
        so that consecutive calls agree on a packet that falls on an edge.
        """
        end = t + count * dt
        margin = dt * 1e-6
        self._read_through(end + margin)
        times = self._held.times
        lo, hi = np.searchsorted(times, [t - margin, end + margin])
        window = np.floor((times[lo:hi] - t) / dt + 1e-9).astype(np.int64)
        # Sorted times give sorted windows: those past the last stay for later.
        stop = int(np.searchsorted(window, count))
        skip = int(np.searchsorted(window[:stop], 0))
        taken = self._held.picked(slice(lo + skip, lo + stop))
        self._held = self._held.picked(slice(lo + stop, None))
        self._replayed_until = max(self._replayed_until, end)
        return taken, window[skip:stop]

    # --- the questions the NIC asks
    def set_reta_size(self, reta_size: int) -> None:
        self.reta_size = reta_size

    def windows(self, t: float, dt: float, count: int) -> np.ndarray:
        taken, window = self._take(t, dt, count)
        bucket = buckets_of(taken.hashes, self.reta_size)
        cells = np.bincount(window * self.reta_size + bucket, minlength=count * self.reta_size)
        return cells.reshape(count, self.reta_size).astype(np.int64)

    def window(self, t: float, dt: float) -> np.ndarray:
        return self.windows(t, dt, 1)[0]

    def steered(self, t: float, dt: float, count: int, table: np.ndarray, cores: int,
                calm_below: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        # The capture's own timestamps spread the packets: the hint is not needed.
        taken, window = self._take(t, dt, count)
        bucket = buckets_of(taken.hashes, self.reta_size)
        per_core = np.bincount(window * cores + table[bucket], minlength=count * cores)
        per_bucket = np.bincount(bucket, minlength=self.reta_size)
        return per_core.reshape(count, cores).astype(np.int64), per_bucket.astype(np.int64)

    def packets(self, t: float, dt: float) -> list[Packet]:
        taken, _ = self._take(t, dt, 1)
        if not len(taken.times):
            return []
        try:
            with open(self.path, "rb") as capture:
                frames = []
                for offset, length in zip(taken.offsets.tolist(), taken.lengths.tolist()):
                    capture.seek(offset)
                    frames.append(capture.read(length))
        except OSError as err:
            raise PcapError(f"{self.path}: cannot read: {err.strerror or err}") from None
        packets = []
        for frame, stamp, rss_hash in zip(frames, taken.times.tolist(), taken.hashes.tolist()):
            key = dissect(frame, self.linktype)
            packets.append(Packet(data=frame, timestamp=stamp, rss_hash=int(rss_hash),
                                  flow=None if key is None else _printable(key)))
        return packets


def _printable(key: FlowKey) -> tuple:
    return (str(ipaddress.ip_address(key.src)), str(ipaddress.ip_address(key.dst)),
            key.sport or 0, key.dport or 0, key.proto)
