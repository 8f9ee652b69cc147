"""Frames to what RSS hashes: one frame at a time, or a whole batch with numpy.

The link types are those of classic pcap files: Ethernet (with 802.1Q/802.1ad
tags), raw IP (either version, or IPv4 or IPv6 only) and Linux cooked
capture. TCP, UDP and SCTP packets hash their 4-tuple; other IP packets,
and fragments, their addresses only; frames without IP are not hashed
(hash 0, as NICs leave them).

``batch_hashes`` gives the same hashes as ``dissect`` followed by the
Toeplitz hash, for many frames at once: it reads the headers of the usual
cases (IPv4 with or without options, IPv6 without extension headers, up
to four VLAN tags) as columns of one array, and hands the rare others to
``dissect``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from pyclick.rss.toeplitz import toeplitz_hashes
from pyclick.sim.pcap import (LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6,
                              LINKTYPE_LINUX_SLL, LINKTYPE_RAW, PcapError)

_VLAN_TYPES = (0x8100, 0x88A8, 0x9100)
_IPV6_SKIPPABLE = (0, 43, 60)   # hop-by-hop, routing, destination options
_IPV6_FRAGMENT = 44
_PORTED = (6, 17, 132)          # TCP, UDP, SCTP carry ports first
_ETH_IPV4 = 0x0800
_ETH_IPV6 = 0x86DD
#: Leading bytes of each frame read as columns: enough for four VLAN tags, an
#: IPv4 header with the longest options and the ports after it.
_WIDTH = 96
_MAX_TAGS = 4
#: Frames read as columns at a time (bounds the temporary arrays).
_SLICE = 16384


@dataclass(frozen=True)
class FlowKey:
    """What RSS hashes: addresses, and ports when the packet has them."""

    src: bytes
    dst: bytes
    proto: int
    sport: int | None = None
    dport: int | None = None

    def hash_input(self) -> bytes:
        """The Toeplitz input: 4-tuple when ports are known, else 2-tuple."""
        if self.sport is None or self.dport is None:
            return self.src + self.dst
        return self.src + self.dst + struct.pack("!HH", self.sport, self.dport)


def check_linktype(linktype: int) -> None:
    """PcapError unless frames of ``linktype`` can be dissected."""
    if linktype not in (LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_RAW, LINKTYPE_IPV4,
                        LINKTYPE_IPV6):
        raise PcapError(f"unsupported pcap link type {linktype}")


def dissect(frame: bytes, linktype: int = LINKTYPE_ETHERNET) -> FlowKey | None:
    """The flow key of a frame, or None when it carries no IP packet."""
    located = _network_layer(frame, linktype)
    if located is None:
        return None
    ethertype, offset = located
    try:
        if ethertype == _ETH_IPV4:
            return _ipv4_key(frame, offset)
        if ethertype == _ETH_IPV6:
            return _ipv6_key(frame, offset)
    except struct.error:
        return None
    return None


def _network_layer(frame: bytes, linktype: int) -> tuple[int, int] | None:
    if linktype == LINKTYPE_ETHERNET:
        if len(frame) < 14:
            return None
        offset = 12
        (ethertype,) = struct.unpack_from("!H", frame, offset)
        while ethertype in _VLAN_TYPES and len(frame) >= offset + 6:
            offset += 4
            (ethertype,) = struct.unpack_from("!H", frame, offset)
        return ethertype, offset + 2
    if linktype == LINKTYPE_LINUX_SLL:
        if len(frame) < 16:
            return None
        return struct.unpack_from("!H", frame, 14)[0], 16
    if linktype == LINKTYPE_RAW:
        if not frame:
            return None
        version = frame[0] >> 4
        return {4: _ETH_IPV4, 6: _ETH_IPV6}.get(version, 0), 0
    if linktype == LINKTYPE_IPV4:
        return _ETH_IPV4, 0
    if linktype == LINKTYPE_IPV6:
        return _ETH_IPV6, 0
    check_linktype(linktype)
    return None


def _ports(frame: bytes, offset: int) -> tuple[int, int] | tuple[None, None]:
    if len(frame) < offset + 4:
        return None, None
    return struct.unpack_from("!HH", frame, offset)


def _ipv4_key(frame: bytes, offset: int) -> FlowKey | None:
    if len(frame) < offset + 20:
        return None
    ihl = (frame[offset] & 0x0F) * 4
    flags_fragment = struct.unpack_from("!H", frame, offset + 6)[0]
    proto = frame[offset + 9]
    src, dst = frame[offset + 12:offset + 16], frame[offset + 16:offset + 20]
    fragmented = flags_fragment & 0x3FFF   # more-fragments flag or an offset
    if proto in _PORTED and not fragmented:
        sport, dport = _ports(frame, offset + ihl)
        return FlowKey(src, dst, proto, sport, dport)
    return FlowKey(src, dst, proto)


def _ipv6_key(frame: bytes, offset: int) -> FlowKey | None:
    if len(frame) < offset + 40:
        return None
    next_header = frame[offset + 6]
    src, dst = frame[offset + 8:offset + 24], frame[offset + 24:offset + 40]
    cursor = offset + 40
    while next_header in _IPV6_SKIPPABLE and len(frame) >= cursor + 2:
        next_header, length = frame[cursor], (frame[cursor + 1] + 1) * 8
        cursor += length
    if next_header == _IPV6_FRAGMENT:
        return FlowKey(src, dst, next_header)
    if next_header in _PORTED:
        sport, dport = _ports(frame, cursor)
        return FlowKey(src, dst, next_header, sport, dport)
    return FlowKey(src, dst, next_header)


def key_hash(key: bytes, flow: FlowKey | None) -> int:
    """The RSS hash of a flow key (0 for a frame without IP)."""
    if flow is None:
        return 0
    data = np.frombuffer(flow.hash_input(), np.uint8)[None, :]
    return int(toeplitz_hashes(key, data)[0])


def batch_hashes(key: bytes, data: bytes, starts: np.ndarray, lengths: np.ndarray,
                 linktype: int) -> np.ndarray:
    """The RSS hash of every frame ``data[starts[i]:starts[i] + lengths[i]]`` (uint32)."""
    check_linktype(linktype)
    starts, lengths = np.asarray(starts, np.int64), np.asarray(lengths, np.int64)
    hashes = np.zeros(len(starts), np.uint32)
    for first in range(0, len(starts), _SLICE):
        part = slice(first, first + _SLICE)
        hashes[part] = _slice_hashes(key, data, starts[part], lengths[part], linktype)
    return hashes


def _slice_hashes(key: bytes, data: bytes, starts: np.ndarray, lengths: np.ndarray,
                  linktype: int) -> np.ndarray:
    hashes = np.zeros(len(starts), np.uint32)
    head = _columns(data, starts, lengths)
    ethertype, l3, usual = _link_layer(head, lengths, linktype)
    rows = np.arange(len(starts))

    def byte(picked: np.ndarray, offset: np.ndarray, at: int) -> np.ndarray:
        return head[picked, offset + at].astype(np.int64)

    # IPv4: addresses at 12..19 of the header, ports after its IHL words.
    picked = rows[usual & (ethertype == _ETH_IPV4) & (lengths >= l3 + 20)]
    base = l3[picked]
    ihl = (byte(picked, base, 0) & 0x0F) * 4
    fragmented = ((byte(picked, base, 6) << 8) | byte(picked, base, 7)) & 0x3FFF
    ported = np.isin(byte(picked, base, 9), _PORTED) & (fragmented == 0)
    with_ports = ported & (lengths[picked] >= base + ihl + 4)
    _hash_groups(key, head, hashes, picked, base + 12, 8, with_ports, base + ihl)

    # IPv6 without extension headers: addresses at 8..39, ports right after.
    picked = rows[usual & (ethertype == _ETH_IPV6) & (lengths >= l3 + 40)]
    base = l3[picked]
    next_header = byte(picked, base, 6)
    extended = np.isin(next_header, _IPV6_SKIPPABLE)
    usual[picked[extended]] = False
    picked, base, next_header = picked[~extended], base[~extended], next_header[~extended]
    with_ports = np.isin(next_header, _PORTED) & (lengths[picked] >= base + 44)
    _hash_groups(key, head, hashes, picked, base + 8, 32, with_ports, base + 40)

    for i in np.flatnonzero(~usual).tolist():
        start = int(starts[i])
        frame = data[start:start + int(lengths[i])]
        hashes[i] = key_hash(key, dissect(frame, linktype))
    return hashes


def _columns(data: bytes, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The first _WIDTH bytes at every frame's start: (count, _WIDTH) uint8.

    Past a frame's end come the bytes that follow it (or zeros): every
    field read from these columns is guarded by a check of the frame's length.
    """
    block = np.frombuffer(data, np.uint8)
    padded = np.concatenate([block, np.zeros(_WIDTH, np.uint8)])
    return np.lib.stride_tricks.sliding_window_view(padded, _WIDTH)[starts]


def _link_layer(head: np.ndarray, lengths: np.ndarray,
                linktype: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each frame's ethertype and network header offset, and whether the batch
    reading handles it (False: leave it to ``dissect``)."""
    count = len(head)
    usual = np.ones(count, bool)
    if linktype == LINKTYPE_ETHERNET:
        position = np.full(count, 12, np.int64)
        ethertype = _word(head, position)
        for _ in range(_MAX_TAGS):
            tagged = np.isin(ethertype, _VLAN_TYPES) & (lengths >= position + 6)
            position = np.where(tagged, position + 4, position)
            ethertype = np.where(tagged, _word(head, np.minimum(position, _WIDTH - 2)), ethertype)
        usual &= ~(np.isin(ethertype, _VLAN_TYPES) & (lengths >= position + 6))
        ethertype = np.where(lengths >= 14, ethertype, 0)
        return ethertype, position + 2, usual
    if linktype == LINKTYPE_LINUX_SLL:
        ethertype = np.where(lengths >= 16, _word(head, np.full(count, 14, np.int64)), 0)
        return ethertype, np.full(count, 16, np.int64), usual
    zero = np.zeros(count, np.int64)
    if linktype == LINKTYPE_RAW:
        version = head[:, 0] >> 4
        ethertype = np.select([(version == 4) & (lengths >= 1), (version == 6) & (lengths >= 1)],
                              [_ETH_IPV4, _ETH_IPV6], 0)
        return ethertype, zero, usual
    return np.full(count, _ETH_IPV4 if linktype == LINKTYPE_IPV4 else _ETH_IPV6), zero, usual


def _word(head: np.ndarray, position: np.ndarray) -> np.ndarray:
    """The big-endian 16-bit word at ``position`` of each row."""
    rows = np.arange(len(head))
    return (head[rows, position].astype(np.int64) << 8) | head[rows, position + 1]


def _hash_groups(key: bytes, head: np.ndarray, hashes: np.ndarray, rows: np.ndarray,
                 addresses: np.ndarray, width: int, with_ports: np.ndarray,
                 ports: np.ndarray) -> None:
    """Hash ``rows``: their ``width`` address bytes, followed by 4 port bytes where
    ``with_ports``."""
    for has_ports in (True, False):
        pick = with_ports == has_ports
        if not pick.any():
            continue
        columns = addresses[pick][:, None] + np.arange(width)
        if has_ports:
            columns = np.concatenate([columns, ports[pick][:, None] + np.arange(4)], axis=1)
        inputs = np.take_along_axis(head[rows[pick]], columns, axis=1)
        hashes[rows[pick]] = toeplitz_hashes(key, inputs)
