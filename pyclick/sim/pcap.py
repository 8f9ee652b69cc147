"""Classic pcap files: reading, writing, and dissecting frames to flow keys.

Only the classic format is handled (microsecond or nanosecond timestamps,
either byte order); pcapng files are recognised and refused with a clear
message. Link types: Ethernet (with 802.1Q/802.1ad tags), raw IP (either
version, or IPv4 or IPv6 only) and Linux cooked capture.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229

_MAGIC_USEC = 0xA1B2C3D4
_MAGIC_NSEC = 0xA1B23C4D
_PCAPNG_MAGIC = 0x0A0D0D0A

_VLAN_TYPES = (0x8100, 0x88A8, 0x9100)
_IPV6_SKIPPABLE = (0, 43, 60)   # hop-by-hop, routing, destination options
_IPV6_FRAGMENT = 44
_PORTED = (6, 17, 132)          # TCP, UDP, SCTP carry ports first


class PcapError(ValueError):
    """The file is not a readable classic pcap."""


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


@dataclass(frozen=True)
class PcapRecord:
    timestamp: float
    frame: bytes


def read_pcap(path: str | Path) -> tuple[int, list[PcapRecord]]:
    """The link type and every record of a classic pcap file."""
    data = Path(path).read_bytes()
    if len(data) < 24:
        raise PcapError(f"{path}: too short for a pcap header")
    (magic_le,) = struct.unpack("<I", data[:4])
    if magic_le == _PCAPNG_MAGIC:
        raise PcapError(f"{path}: pcapng is not supported; convert it with "
                        "'editcap -F pcap in.pcapng out.pcap'")
    for order in ("<", ">"):
        (magic,) = struct.unpack(order + "I", data[:4])
        if magic in (_MAGIC_USEC, _MAGIC_NSEC):
            break
    else:
        raise PcapError(f"{path}: not a pcap file (bad magic {data[:4].hex()})")
    scale = 1e-6 if magic == _MAGIC_USEC else 1e-9
    linktype = struct.unpack(order + "I", data[20:24])[0] & 0xFFFF
    header = struct.Struct(order + "IIII")
    records = []
    offset = 24
    while offset < len(data):
        if offset + 16 > len(data):
            raise PcapError(f"{path}: truncated record header at byte {offset}")
        sec, frac, caplen, _ = header.unpack_from(data, offset)
        offset += 16
        if offset + caplen > len(data):
            raise PcapError(f"{path}: truncated record at byte {offset}")
        records.append(PcapRecord(sec + frac * scale, data[offset:offset + caplen]))
        offset += caplen
    return linktype, records


def write_pcap(path: str | Path, records: Iterable[tuple[float, bytes]],
               linktype: int = LINKTYPE_ETHERNET) -> None:
    """Write (timestamp, frame) pairs as a microsecond classic pcap."""
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", _MAGIC_USEC, 2, 4, 0, 0, 65535, linktype))
        for timestamp, frame in records:
            sec = int(timestamp)
            usec = int(round((timestamp - sec) * 1e6))
            if usec == 1_000_000:
                sec, usec = sec + 1, 0
            out.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
            out.write(frame)


def dissect(frame: bytes, linktype: int = LINKTYPE_ETHERNET) -> FlowKey | None:
    """The flow key of a frame, or None when it carries no IP packet."""
    located = _network_layer(frame, linktype)
    if located is None:
        return None
    ethertype, offset = located
    try:
        if ethertype == 0x0800:
            return _ipv4_key(frame, offset)
        if ethertype == 0x86DD:
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
        return {4: 0x0800, 6: 0x86DD}.get(version, 0), 0
    if linktype == LINKTYPE_IPV4:
        return 0x0800, 0
    if linktype == LINKTYPE_IPV6:
        return 0x86DD, 0
    raise PcapError(f"unsupported pcap link type {linktype}")


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

