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

from pyclick.rss.toeplitz import byte_tables, toeplitz_hashes

TCP = 6
UDP = 17

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD

#: Server ports drawn for generated flows, with their weights.
_SERVER_PORTS = np.array([443, 80, 53, 8080, 22, 25, 123, 3478], np.uint16)
_SERVER_PORT_WEIGHTS = (0.45, 0.25, 0.08, 0.05, 0.03, 0.02, 0.02, 0.10)

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


#: The fixed bytes of generated addresses: IPv4 clients in 10.0.0.0/8 and servers in
#: 198.18.0.0/16; IPv6 clients in 2001:db8:1::/48 and servers in 2001:db8:2::/48, with
#: only the last two bytes of a server's address drawn.
_CLIENT4, _SERVER4 = 10 << 24, (198 << 24) | (18 << 16)
_CLIENT6_PREFIX = bytes.fromhex("20010db80001")
_SERVER6_PREFIX = bytes.fromhex("20010db80002") + bytes(8)
#: Byte offsets, in the hash input, of the two-byte parts of a generated IPv4 flow drawn
#: at random: the client's last two bytes, the server's, the ports.
_PAIRS4 = (2, 6, 8, 10)
#: Byte offsets of an IPv6 flow's drawn client bytes, server bytes and ports.
_CLIENT6_AT, _SERVER6_AT, _PORTS6_AT = 6, 30, 32


class TupleHasher:
    """RSS 4-tuple hashes of generated flows, from their drawn parts.

    The Toeplitz hash is linear over XOR: a hash input's hash is the XOR of
    what each of its bytes contributes at its offset. The bytes a generated
    flow shares with every other (its address prefixes) contribute one
    constant. An IPv4 flow's drawn parts are looked up two bytes at a time,
    in a table of 65,536 contributions per offset: a few lookups per flow.
    The few IPv6 flows of a batch are looked up a byte at a time: their 16
    tables of 256 contributions stay in the cache, where eight tables of
    65,536 would be read from memory at nearly every lookup.
    """

    def __init__(self, key: bytes) -> None:
        self.key = key
        tables = byte_tables(key)
        self._byte = tables
        self._pairs = {offset: (tables[offset][:, None] ^ tables[offset + 1][None, :]).ravel()
                       for offset in _PAIRS4}
        prefix4 = np.zeros(12, np.uint8)
        prefix4[:4] = np.frombuffer(_CLIENT4.to_bytes(4, "big"), np.uint8)
        prefix4[4:8] = np.frombuffer(_SERVER4.to_bytes(4, "big"), np.uint8)
        self._fixed4 = toeplitz_hashes(key, prefix4[None, :])[0]
        self._fixed6: np.uint32 | None = None

    def _ipv6_fixed(self) -> np.uint32:
        """The IPv6 prefixes' contribution: made for the first IPv6 flow, as a short
        key cannot hash 36 bytes (ValueError then)."""
        if self._fixed6 is None:
            prefix = _CLIENT6_PREFIX + bytes(10) + _SERVER6_PREFIX + bytes(6)
            self._fixed6 = toeplitz_hashes(self.key, np.frombuffer(prefix, np.uint8)[None, :])[0]
        return self._fixed6

    def ipv4(self, client: np.ndarray, server: np.ndarray, sport: np.ndarray,
             dport: np.ndarray) -> np.ndarray:
        """Hashes of IPv4 flows: the drawn 24 bits of the client, 16 of the server."""
        pairs = self._pairs
        # The client's second byte is drawn too: one byte, looked up on its own.
        hashes = self._byte[1][client >> 16]
        hashes ^= pairs[2][client & 0xFFFF]
        hashes ^= pairs[6][server]
        hashes ^= pairs[8][sport]
        hashes ^= pairs[10][dport]
        hashes ^= self._fixed4
        return hashes

    def ipv6(self, client: np.ndarray, server: np.ndarray, sport: np.ndarray,
             dport: np.ndarray) -> np.ndarray:
        """Hashes of IPv6 flows: the drawn 10 bytes of the client, 2 of the server (uint8
        rows)."""
        fixed = self._ipv6_fixed()
        tables = self._byte
        hashes = tables[_PORTS6_AT][sport >> 8]
        hashes ^= tables[_PORTS6_AT + 1][sport & 0xFF]
        hashes ^= tables[_PORTS6_AT + 2][dport >> 8]
        hashes ^= tables[_PORTS6_AT + 3][dport & 0xFF]
        for column in range(client.shape[1]):
            hashes ^= tables[_CLIENT6_AT + column][client[:, column]]
        for column in range(server.shape[1]):
            hashes ^= tables[_SERVER6_AT + column][server[:, column]]
        hashes ^= fixed
        return hashes


def random_flows(rng: np.random.Generator, count: int, first_ident: int, hasher: TupleHasher,
                 ipv6_fraction: float, udp_fraction: float) -> FlowSet:
    """``count`` new client-to-server flows with random addresses and ports.

    Clients come from 10.0.0.0/8 (or 2001:db8:1::/48), servers from a
    /16 (or 2001:db8:2::/48) so that many flows share a server, as in an
    access network's ingress traffic.
    """
    ipv6 = rng.random(count) < ipv6_fraction
    client4 = rng.integers(0, 1 << 24, count, dtype=np.uint32)
    server4 = rng.integers(0, 1 << 16, count, dtype=np.uint32)
    # Addresses are built as four big-endian 32-bit words a row: 16 bytes.
    src = np.zeros((count, 4), ">u4")
    dst = np.zeros((count, 4), ">u4")
    src[:, 0] = client4 | _CLIENT4
    dst[:, 0] = server4 | _SERVER4
    src, dst = src.view(np.uint8), dst.view(np.uint8)
    v6 = np.flatnonzero(ipv6)
    if len(v6):
        client6 = rng.integers(0, 256, (len(v6), 10), dtype=np.uint8)
        server6 = rng.integers(0, 256, (len(v6), 2), dtype=np.uint8)
        rows = np.empty((len(v6), 16), np.uint8)
        rows[:, :6] = np.frombuffer(_CLIENT6_PREFIX, np.uint8)
        rows[:, 6:] = client6
        _whole_rows(src)[v6] = _whole_rows(rows)
        rows[:, :14] = np.frombuffer(_SERVER6_PREFIX, np.uint8)
        rows[:, 14:] = server6
        _whole_rows(dst)[v6] = _whole_rows(rows)
    sport = rng.integers(1024, 65536, count).astype(np.uint16)
    dport = weighted_choice(rng, _SERVER_PORTS, _SERVER_PORT_WEIGHTS, count)
    unlisted = rng.random(count) < 0.1
    dport[unlisted] = rng.integers(1024, 65536, int(unlisted.sum())).astype(np.uint16)
    # TCP, plus the difference where UDP is drawn: byte arithmetic on the draws' booleans.
    proto = (rng.random(count) < udp_fraction).view(np.uint8) * np.uint8(UDP - TCP)
    proto += np.uint8(TCP)
    ident = np.arange(first_ident, first_ident + count, dtype=np.int64)
    hashes = hasher.ipv4(client4, server4, sport, dport)
    if len(v6):
        hashes[v6] = hasher.ipv6(client6, server6, sport[v6], dport[v6])
    return FlowSet(ident, src, dst, ipv6, sport, dport, proto, hashes)


def weighted_choice(rng: np.random.Generator, items: np.ndarray, weights: tuple[float, ...],
                    count: int) -> np.ndarray:
    """``count`` items drawn with the given weights: ``rng.choice(items, count, p=weights)``.

    The same draws and the same numbers as numpy's: one uniform draw per item,
    placed among the weights' cumulative sums (scaled to end at 1). A uniform
    draw's place among a few sums is counted in a few whole-array comparisons,
    at a fraction of the cost of the binary search per draw numpy makes.
    """
    edges = np.cumsum(weights)
    edges /= edges[-1]
    draws = rng.random(count)
    # Counted in bytes (a few items): a comparison's booleans are bytes
    # already, and a narrow sum moves less memory. No draw reaches the last
    # sum, 1.
    index = np.zeros(count, np.uint8 if len(items) <= 256 else np.intp)
    passed = np.empty(count, bool)
    steps = passed.view(np.uint8)
    for edge in edges.tolist()[:-1]:
        np.greater_equal(draws, edge, out=passed)
        np.add(index, steps, out=index)
    return items.take(index)


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
