"""The Toeplitz hash NICs use for RSS, scalar and vectorised.

The hash of an input byte string walks its bits from the most significant
bit of the first byte on; for every set bit it XORs in the 32-bit window of
the key that starts at that bit position. A key of ``k`` bytes therefore
hashes inputs of at most ``k - 4`` bytes (36 for the usual 40-byte key, just
enough for an IPv6 4-tuple).

The input layout is the NIC's: source address, destination address, source
port, destination port, all in network byte order; without the ports for the
address-only (2-tuple) hash.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

import numpy as np

# The default key, read here by the hash's users.
from pyclick.rss.keys import MICROSOFT_KEY  # noqa: F401

Address = str | bytes | int | ipaddress.IPv4Address | ipaddress.IPv6Address


def max_input_length(key: bytes) -> int:
    """The longest input (bytes) ``key`` can hash."""
    return len(key) - 4


def _check_length(key: bytes, length: int) -> None:
    if length > max_input_length(key):
        raise ValueError(f"a {len(key)}-byte key hashes at most {max_input_length(key)} "
                         f"input bytes, got {length}")


def toeplitz_hash(key: bytes, data: bytes) -> int:
    """The Toeplitz hash of ``data`` under ``key``, bit by bit (the definition)."""
    _check_length(key, len(data))
    key_bits = len(key) * 8
    key_int = int.from_bytes(key, "big")
    result = 0
    for position in range(len(data) * 8):
        if data[position // 8] & (0x80 >> (position % 8)):
            result ^= (key_int >> (key_bits - 32 - position)) & 0xFFFFFFFF
    return result


@lru_cache(maxsize=16)
def byte_tables(key: bytes) -> np.ndarray:
    """Per-byte lookup tables: ``tables[i, v]`` is what byte value v at input offset i
    XORs into the hash (read-only uint32, shape (len(key) - 4, 256))."""
    length = max_input_length(key)
    key_bits = len(key) * 8
    key_int = int.from_bytes(key, "big")
    windows = np.array([(key_int >> (key_bits - 32 - p)) & 0xFFFFFFFF for p in range(length * 8)],
                       dtype=np.uint32).reshape(length, 8)
    values = np.arange(256, dtype=np.uint32)
    tables = np.zeros((length, 256), dtype=np.uint32)
    for bit in range(8):
        is_set = (values >> (7 - bit)) & 1
        tables ^= np.where(is_set.astype(bool), windows[:, bit:bit + 1], np.uint32(0))
    tables.setflags(write=False)
    return tables


#: From this many rows on, ``toeplitz_hashes`` XORs column by column.
_MANY_ROWS = 64


def toeplitz_hashes(key: bytes, data: np.ndarray) -> np.ndarray:
    """Hash every row of ``data`` (uint8, shape (n, length)); returns uint32 (n,)."""
    rows = np.asarray(data, dtype=np.uint8)
    if rows.ndim != 2:
        raise ValueError("expected a 2-D array of input bytes, one row per input")
    _check_length(key, rows.shape[1])
    if rows.shape[1] == 0:
        return np.zeros(rows.shape[0], dtype=np.uint32)
    # One gather from the flattened tables (byte i's table starts at 256 x i)
    # costs less than a gather over two index arrays.
    offsets = np.arange(0, 256 * rows.shape[1], 256, dtype=np.intp)
    contributions = byte_tables(key).ravel()[rows + offsets]
    if len(rows) < _MANY_ROWS:
        return np.bitwise_xor.reduce(contributions, axis=1)
    # Many rows: one XOR per column runs along contiguous memory, where a
    # reduction along each row's few bytes does not.
    hashes = contributions[:, 0].copy()
    for column in range(1, rows.shape[1]):
        hashes ^= contributions[:, column]
    return hashes


def address_bytes(address: Address) -> bytes:
    """An IPv4 or IPv6 address as its 4 or 16 network-order bytes."""
    if isinstance(address, bytes):
        if len(address) not in (4, 16):
            raise ValueError(f"an address has 4 or 16 bytes, got {len(address)}")
        return address
    return ipaddress.ip_address(address).packed


def tuple_bytes(src: Address, dst: Address, sport: int | None = None,
                dport: int | None = None) -> bytes:
    """The hash input for a flow: src, dst[, sport, dport] (2- or 4-tuple).

    Both addresses must be of the same family; give both ports or none.
    """
    src_b, dst_b = address_bytes(src), address_bytes(dst)
    if len(src_b) != len(dst_b):
        raise ValueError("source and destination addresses are of different families")
    if (sport is None) != (dport is None):
        raise ValueError("give both ports or neither")
    if sport is None:
        return src_b + dst_b
    return src_b + dst_b + int(sport).to_bytes(2, "big") + int(dport).to_bytes(2, "big")


def tuple_rows(src: np.ndarray, dst: np.ndarray, sport: np.ndarray | None = None,
               dport: np.ndarray | None = None) -> np.ndarray:
    """Vectorised ``tuple_bytes``: hash-input rows for many flows at once.

    ``src`` and ``dst`` are uint32 arrays (IPv4, host integers) or uint8
    arrays of shape (n, 16) (IPv6); ports are integer arrays or None for
    the 2-tuple.
    """
    src_a, dst_a = np.asarray(src), np.asarray(dst)
    if src_a.ndim == 1:
        src_rows = src_a.astype(">u4").view(np.uint8).reshape(-1, 4)
        dst_rows = dst_a.astype(">u4").view(np.uint8).reshape(-1, 4)
    else:
        src_rows, dst_rows = src_a.astype(np.uint8), dst_a.astype(np.uint8)
    parts = [src_rows, dst_rows]
    if sport is not None and dport is not None:
        parts.append(np.asarray(sport).astype(">u2").view(np.uint8).reshape(-1, 2))
        parts.append(np.asarray(dport).astype(">u2").view(np.uint8).reshape(-1, 2))
    return np.concatenate(parts, axis=1)
