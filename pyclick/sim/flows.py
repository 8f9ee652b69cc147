"""Flow tables for the traffic models: 5-tuples, RSS hashes, packet frames.

A ``FlowSet`` holds many flows as parallel numpy arrays so that a traffic
model can create, expire and hash thousands of flows per step cheaply.
Addresses are kept as 16-byte rows; an IPv4 flow uses the first 4 bytes.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, fields

import numpy as np

from pyclick.rss.toeplitz import toeplitz_hashes, tuple_rows

TCP = 6
UDP = 17

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD

#: Server ports drawn for generated flows, with their weights.
_SERVER_PORTS = np.array([443, 80, 53, 8080, 22, 25, 123, 3478])
_SERVER_PORT_WEIGHTS = np.array([0.45, 0.25, 0.08, 0.05, 0.03, 0.02, 0.02, 0.10])

FlowTuple = tuple[str, str, int, int, int]


@dataclass
class FlowSet:
    """Flows as parallel arrays; every array has one entry per flow."""

    ident: np.ndarray      # int64, unique per generator
    src: np.ndarray        # uint8 (n, 16)
    dst: np.ndarray        # uint8 (n, 16)
    ipv6: np.ndarray       # bool
    sport: np.ndarray      # uint16
    dport: np.ndarray      # uint16
    proto: np.ndarray      # uint8
    rss_hash: np.ndarray   # uint32

    def __len__(self) -> int:
        return len(self.ident)

    @classmethod
    def empty(cls) -> "FlowSet":
        return cls(np.zeros(0, np.int64), np.zeros((0, 16), np.uint8),
                   np.zeros((0, 16), np.uint8), np.zeros(0, bool), np.zeros(0, np.uint16),
                   np.zeros(0, np.uint16), np.zeros(0, np.uint8), np.zeros(0, np.uint32))

    def select(self, which: np.ndarray | slice) -> "FlowSet":
        """The flows picked by a boolean mask, index array or slice."""
        return FlowSet(**{f.name: getattr(self, f.name)[which] for f in fields(self)})

    def joined(self, other: "FlowSet") -> "FlowSet":
        """These flows followed by ``other``'s."""
        return FlowSet(**{f.name: np.concatenate([getattr(self, f.name), getattr(other, f.name)])
                          for f in fields(self)})

    def assign(self, slots: np.ndarray, other: "FlowSet") -> None:
        """Overwrite the flows at ``slots`` with ``other``'s, in order."""
        for f in fields(self):
            _whole_rows(getattr(self, f.name))[slots] = _whole_rows(getattr(other, f.name))

    def resized(self, capacity: int) -> "FlowSet":
        """A copy with room for ``capacity`` flows (new room zero-filled)."""
        grown = {}
        for f in fields(self):
            old = getattr(self, f.name)
            new = np.zeros((capacity,) + old.shape[1:], dtype=old.dtype)
            new[:len(old)] = old
            grown[f.name] = new
        return FlowSet(**grown)

    def flow_tuple(self, i: int) -> FlowTuple:
        """Flow ``i`` as (src, dst, sport, dport, proto) with printable addresses."""
        width = 16 if self.ipv6[i] else 4
        src = ipaddress.ip_address(bytes(self.src[i, :width]))
        dst = ipaddress.ip_address(bytes(self.dst[i, :width]))
        return (str(src), str(dst), int(self.sport[i]), int(self.dport[i]), int(self.proto[i]))

    def frame(self, i: int) -> bytes:
        """A minimal Ethernet frame of flow ``i`` (headers only, padded to 60 bytes)."""
        width = 16 if self.ipv6[i] else 4
        return build_frame(bytes(self.src[i, :width]), bytes(self.dst[i, :width]),
                           int(self.sport[i]), int(self.dport[i]), int(self.proto[i]))


def _whole_rows(array: np.ndarray) -> np.ndarray:
    """A view of ``array`` with each row as one opaque item: numpy moves a picked row
    of a 2-D array element by element, an opaque item at once."""
    if array.ndim == 1:
        return array
    return array.view(f"V{array.shape[1] * array.itemsize}")[:, 0]


def _picked_rows(array: np.ndarray, which: np.ndarray) -> np.ndarray:
    """``array[which]`` of a 2-D array, its rows moved whole."""
    return _whole_rows(array)[which].view(array.dtype).reshape(-1, array.shape[1])


def hash_flows(key: bytes, src: np.ndarray, dst: np.ndarray, ipv6: np.ndarray,
               sport: np.ndarray, dport: np.ndarray) -> np.ndarray:
    """RSS 4-tuple hashes of flows given as 16-byte address rows."""
    hashes = np.zeros(len(src), dtype=np.uint32)
    v4 = ~ipv6
    if v4.any():
        hashes[v4] = toeplitz_hashes(key, tuple_rows(_picked_rows(src[:, :4], v4),
                                                     _picked_rows(dst[:, :4], v4),
                                                     sport[v4], dport[v4]))
    if ipv6.any():
        hashes[ipv6] = toeplitz_hashes(key, tuple_rows(_picked_rows(src, ipv6),
                                                       _picked_rows(dst, ipv6),
                                                       sport[ipv6], dport[ipv6]))
    return hashes


def random_flows(rng: np.random.Generator, count: int, first_ident: int, key: bytes,
                 ipv6_fraction: float, udp_fraction: float) -> FlowSet:
    """``count`` new client-to-server flows with random addresses and ports.

    Clients come from 10.0.0.0/8 (or 2001:db8:1::/48), servers from a
    /16 (or 2001:db8:2::/48) so that many flows share a server, as in an
    access network's ingress traffic.
    """
    ipv6 = rng.random(count) < ipv6_fraction
    src = np.zeros((count, 16), np.uint8)
    dst = np.zeros((count, 16), np.uint8)
    client4 = (10 << 24) | rng.integers(0, 1 << 24, count, dtype=np.uint32)
    server4 = (198 << 24) | (18 << 16) | rng.integers(0, 1 << 16, count, dtype=np.uint32)
    src[:, :4] = client4.astype(">u4").view(np.uint8).reshape(-1, 4)
    dst[:, :4] = server4.astype(">u4").view(np.uint8).reshape(-1, 4)
    if ipv6.any():
        n6 = int(ipv6.sum())
        prefix = np.frombuffer(bytes.fromhex("20010db8"), np.uint8)
        src[ipv6, :4] = prefix
        src[ipv6, 4:6] = (0, 1)
        src[ipv6, 6:] = rng.integers(0, 256, (n6, 10), dtype=np.uint8)
        dst[ipv6, :4] = prefix
        dst[ipv6, 4:6] = (0, 2)
        dst[ipv6, 6:14] = 0
        dst[ipv6, 14:] = rng.integers(0, 256, (n6, 2), dtype=np.uint8)
    sport = rng.integers(1024, 65536, count).astype(np.uint16)
    dport = rng.choice(_SERVER_PORTS, count, p=_SERVER_PORT_WEIGHTS).astype(np.uint16)
    unlisted = rng.random(count) < 0.1
    dport[unlisted] = rng.integers(1024, 65536, int(unlisted.sum())).astype(np.uint16)
    proto = np.where(rng.random(count) < udp_fraction, UDP, TCP).astype(np.uint8)
    ident = np.arange(first_ident, first_ident + count, dtype=np.int64)
    return FlowSet(ident, src, dst, ipv6, sport, dport, proto,
                   hash_flows(key, src, dst, ipv6, sport, dport))


def build_frame(src: bytes, dst: bytes, sport: int, dport: int, proto: int,
                payload: bytes = b"") -> bytes:
    """An Ethernet + IPv4/IPv6 + TCP/UDP frame (checksums left zero)."""
    if proto == TCP:
        l4 = struct.pack("!HHIIBBHHH", sport, dport, 0, 0, 5 << 4, 0x10, 65535, 0, 0)
    else:
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    body = l4 + payload
    if len(src) == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 0, 0x4000, 64, proto, 0,
                         src, dst)
        ethertype = ETH_IPV4
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(body), proto, 64, src, dst)
        ethertype = ETH_IPV6
    eth = struct.pack("!6s6sH", b"\x02\x00\x00\x00\x00\x02", b"\x02\x00\x00\x00\x00\x01",
                      ethertype)
    frame = eth + ip + body
    return frame.ljust(60, b"\x00")
