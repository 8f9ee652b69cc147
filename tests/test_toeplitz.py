"""Toeplitz hashing against Microsoft's published RSS verification vectors."""

import ipaddress

import numpy as np
import pytest

from pyclick.rss.indirection import buckets_of
from pyclick.rss.toeplitz import (MICROSOFT_KEY, toeplitz_hash, toeplitz_hashes, tuple_bytes,
                                  tuple_rows)

# Microsoft, "Verifying the RSS Hash Calculation": destination (port),
# source (port), hash of the addresses only, hash with the TCP ports.
IPV4_VECTORS = [
    ("161.142.100.80", 1766, "66.9.149.187", 2794, 0x323E8FC2, 0x51CCC178),
    ("65.69.140.83", 4739, "199.92.111.2", 14230, 0xD718262A, 0xC626B0EA),
    ("12.22.207.184", 38024, "24.19.198.95", 12898, 0xD2D0A5DE, 0x5C2B394A),
    ("209.142.163.6", 2217, "38.27.205.30", 48228, 0x82989176, 0xAFC7327F),
    ("202.188.127.2", 1303, "153.39.163.191", 44251, 0x5D1809C5, 0x10E828A2),
]
IPV6_VECTORS = [
    ("3ffe:2501:200:3::1", 1766, "3ffe:2501:200:1fff::7", 2794, 0x2CC18CD5, 0x40207D3D),
    ("ff02::1", 4739, "3ffe:501:8::260:97ff:fe40:efab", 14230, 0x0F0C461C, 0xDDE51BBF),
    ("fe80::200:f8ff:fe21:67cf", 38024, "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 44251,
     0x4B61E985, 0x02D1FEEF),
]
ALL_VECTORS = IPV4_VECTORS + IPV6_VECTORS


def test_key_is_the_verification_key():
    assert len(MICROSOFT_KEY) == 40
    assert MICROSOFT_KEY[:4] == bytes([0x6D, 0x5A, 0x56, 0xDA])
    assert MICROSOFT_KEY[-4:] == bytes([0xBE, 0xAC, 0x01, 0xFA])


@pytest.mark.parametrize("dst, dport, src, sport, addresses_only, with_ports", ALL_VECTORS)
def test_scalar_hash_matches_published_vectors(dst, dport, src, sport, addresses_only,
                                               with_ports):
    assert toeplitz_hash(MICROSOFT_KEY, tuple_bytes(src, dst)) == addresses_only
    assert toeplitz_hash(MICROSOFT_KEY, tuple_bytes(src, dst, sport, dport)) == with_ports


@pytest.mark.parametrize("vectors, width", [(IPV4_VECTORS, 4), (IPV6_VECTORS, 16)])
def test_vectorised_hash_matches_published_vectors(vectors, width):
    src = np.array([list(ipaddress.ip_address(v[2]).packed) for v in vectors], np.uint8)
    dst = np.array([list(ipaddress.ip_address(v[0]).packed) for v in vectors], np.uint8)
    sport = np.array([v[3] for v in vectors])
    dport = np.array([v[1] for v in vectors])
    if width == 4:
        src = src.view(">u4").ravel().astype(np.uint32)
        dst = dst.view(">u4").ravel().astype(np.uint32)
    assert toeplitz_hashes(MICROSOFT_KEY, tuple_rows(src, dst)).tolist() == \
        [v[4] for v in vectors]
    assert toeplitz_hashes(MICROSOFT_KEY, tuple_rows(src, dst, sport, dport)).tolist() == \
        [v[5] for v in vectors]


@pytest.mark.parametrize("count", [1, 50, 200])
@pytest.mark.parametrize("length", [1, 8, 12, 32, 36])
def test_vectorised_equals_scalar_on_random_inputs_and_keys(length, count):
    # A few rows and many rows take different paths.
    rng = np.random.default_rng(length)
    for _ in range(5):
        key = rng.integers(0, 256, 40, dtype=np.uint8).tobytes()
        rows = rng.integers(0, 256, (count, length), dtype=np.uint8)
        expected = [toeplitz_hash(key, row.tobytes()) for row in rows]
        assert toeplitz_hashes(key, rows).tolist() == expected


def test_tuple_rows_match_tuple_bytes():
    rng = np.random.default_rng(7)
    src = rng.integers(0, 2**32, 20, dtype=np.uint32)
    dst = rng.integers(0, 2**32, 20, dtype=np.uint32)
    sport = rng.integers(0, 65536, 20)
    dport = rng.integers(0, 65536, 20)
    rows = tuple_rows(src, dst, sport, dport)
    for i in range(20):
        expected = tuple_bytes(int(src[i]).to_bytes(4, "big"), int(dst[i]).to_bytes(4, "big"),
                               int(sport[i]), int(dport[i]))
        assert rows[i].tobytes() == expected


def test_longer_key_hashes_the_same_prefix_windows():
    data = tuple_bytes("66.9.149.187", "161.142.100.80", 2794, 1766)
    assert toeplitz_hash(MICROSOFT_KEY + b"\x00" * 12, data) == 0x51CCC178


def test_input_longer_than_the_key_allows_is_refused():
    with pytest.raises(ValueError, match="at most 12 input bytes"):
        toeplitz_hash(MICROSOFT_KEY[:16], bytes(13))
    with pytest.raises(ValueError, match="at most 12 input bytes"):
        toeplitz_hashes(MICROSOFT_KEY[:16], np.zeros((2, 13), np.uint8))


def test_mixed_families_and_half_ports_are_refused():
    with pytest.raises(ValueError, match="different families"):
        tuple_bytes("10.0.0.1", "::1")
    with pytest.raises(ValueError, match="both ports"):
        tuple_bytes("10.0.0.1", "10.0.0.2", 80)


def test_buckets_are_the_hashes_remainders_for_any_table_size():
    hashes = np.array([0, 5, 511, 512, 1027, 2**32 - 1], dtype=np.uint32)
    # 512 entries: the low nine bits; 3 entries: 2**32 - 1 is a multiple of 3.
    assert buckets_of(hashes, 512).tolist() == [0, 5, 511, 0, 3, 511]
    assert buckets_of(hashes, 3).tolist() == [0, 2, 1, 2, 1, 0]
    assert buckets_of(hashes, 1).tolist() == [0] * 6
    assert buckets_of(hashes, 512).dtype == np.int64
