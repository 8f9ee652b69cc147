"""Replay of a classic pcap file as traffic for the simulated NIC."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import numpy as np

from pyclick.packet import Packet
from pyclick.sim.pcap import FlowKey, dissect, read_pcap
from pyclick.sim.toeplitz import toeplitz_hashes


class PcapTraffic:
    """Replays a classic pcap file as NIC arrivals.

    Time 0 is the first packet; ``speedup`` divides the file's inter-packet
    times (2.0 replays twice as fast). Packets without IP get hash 0, as
    NICs leave them unhashed; IP packets without ports (other protocols,
    fragments) get the address-only hash.
    """

    def __init__(self, path: str | Path, key: bytes, reta_size: int,
                 speedup: float = 1.0) -> None:
        if not speedup > 0:
            raise ValueError("speedup must be positive")
        self.key = key
        self.reta_size = reta_size
        linktype, records = read_pcap(path)
        if not records:
            raise ValueError(f"{path}: the capture holds no packets")
        first = records[0].timestamp
        self._times = np.array([(r.timestamp - first) / speedup for r in records])
        order = np.argsort(self._times, kind="stable")
        self._times = self._times[order]
        self._frames = [records[i].frame for i in order]
        keys = [dissect(frame, linktype) for frame in self._frames]
        self._hashes = self._hash_keys(keys)
        self._flows = [None if k is None else _printable(k) for k in keys]
        self._bucket = (self._hashes % reta_size).astype(np.int64)

    def _hash_keys(self, keys: list[FlowKey | None]) -> np.ndarray:
        inputs = [b"" if k is None else k.hash_input() for k in keys]
        distinct = sorted(set(inputs))
        hash_of: dict[bytes, int] = {b"": 0}
        by_length: dict[int, list[bytes]] = {}
        for data in distinct:
            if data:
                by_length.setdefault(len(data), []).append(data)
        for length, group in by_length.items():
            rows = np.frombuffer(b"".join(group), np.uint8).reshape(-1, length)
            for data, value in zip(group, toeplitz_hashes(self.key, rows)):
                hash_of[data] = int(value)
        return np.array([hash_of[data] for data in inputs], dtype=np.uint32)

    @property
    def duration(self) -> float:
        """Replay time from the first to the last packet, seconds."""
        return float(self._times[-1])

    def set_reta_size(self, reta_size: int) -> None:
        self.reta_size = reta_size
        self._bucket = (self._hashes % reta_size).astype(np.int64)

    def _select(self, t: float, dt: float, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the packets in ``count`` windows of ``dt`` from ``t``, and their window.

        Window edges are compared in units of ``dt`` with a small tolerance,
        so that consecutive calls agree on a packet that falls on an edge.
        """
        margin = dt * 1e-6
        lo, hi = np.searchsorted(self._times, [t - margin, t + count * dt + margin])
        window = np.floor((self._times[lo:hi] - t) / dt + 1e-9).astype(np.int64)
        inside = (window >= 0) & (window < count)
        return np.arange(lo, hi)[inside], window[inside]

    def windows(self, t: float, dt: float, count: int) -> np.ndarray:
        index, window = self._select(t, dt, count)
        cells = np.bincount(window * self.reta_size + self._bucket[index],
                            minlength=count * self.reta_size)
        return cells.reshape(count, self.reta_size).astype(np.int64)

    def window(self, t: float, dt: float) -> np.ndarray:
        return self.windows(t, dt, 1)[0]

    def steered(self, t: float, dt: float, count: int, table: np.ndarray,
                cores: int) -> tuple[np.ndarray, np.ndarray]:
        index, window = self._select(t, dt, count)
        bucket = self._bucket[index]
        per_core = np.bincount(window * cores + table[bucket], minlength=count * cores)
        per_bucket = np.bincount(bucket, minlength=self.reta_size)
        return per_core.reshape(count, cores).astype(np.int64), per_bucket.astype(np.int64)

    def packets(self, t: float, dt: float) -> list[Packet]:
        index, _ = self._select(t, dt, 1)
        return [Packet(data=self._frames[i], timestamp=float(self._times[i]),
                       rss_hash=int(self._hashes[i]), flow=self._flows[i])
                for i in index.tolist()]


def _printable(key: FlowKey) -> tuple:
    return (str(ipaddress.ip_address(key.src)), str(ipaddress.ip_address(key.dst)),
            key.sport or 0, key.dport or 0, key.proto)
