"""Flow keys: the IP 5-tuple a packet belongs to.

The key is the packet's ``flow`` field when a source already filled it (the
simulator and pcap replay do); otherwise the 5-tuple is read from the
packet's Ethernet frame. Both give ``(src, dst, sport, dport, proto)`` with
printable addresses, so packets of one flow get the same key either way.
"""

from __future__ import annotations

import socket
import struct
from typing import Hashable

from pyclick.packet import Packet

_ETH_HEADER = 14
_VLAN_TAGS = (0x8100, 0x88A8)
_ETH_IPV4 = 0x0800
_ETH_IPV6 = 0x86DD
_PORT_PROTOCOLS = (6, 17, 132)  # TCP, UDP, SCTP: the protocols whose first 4 bytes are ports
_PORTS = struct.Struct("!HH")


def flow_key(packet: Packet) -> Hashable | None:
    """The packet's 5-tuple, or None when it is not an IPv4/IPv6 packet."""
    if packet.flow is not None:
        return packet.flow
    return parse_frame(packet.data)


def parse_frame(frame: bytes) -> tuple[str, str, int, int, int] | None:
    """The 5-tuple of an Ethernet frame (ports 0 for other protocols and fragments)."""
    offset = _ETH_HEADER
    if len(frame) < offset:
        return None
    ethertype = int.from_bytes(frame[12:14], "big")
    while ethertype in _VLAN_TAGS and len(frame) >= offset + 4:
        ethertype = int.from_bytes(frame[offset + 2:offset + 4], "big")
        offset += 4
    if ethertype == _ETH_IPV4:
        return _parse_ipv4(frame, offset)
    if ethertype == _ETH_IPV6:
        return _parse_ipv6(frame, offset)
    return None


def _parse_ipv4(frame: bytes, at: int) -> tuple[str, str, int, int, int] | None:
    if len(frame) < at + 20 or frame[at] >> 4 != 4:
        return None
    header = (frame[at] & 0x0F) * 4
    proto = frame[at + 9]
    src = socket.inet_ntop(socket.AF_INET, frame[at + 12:at + 16])
    dst = socket.inet_ntop(socket.AF_INET, frame[at + 16:at + 20])
    # Only the first fragment carries the ports; later ones are keyed without them.
    first_fragment = int.from_bytes(frame[at + 6:at + 8], "big") & 0x1FFF == 0
    return (src, dst) + _ports(frame, at + header, proto if first_fragment else -1) + (proto,)


def _parse_ipv6(frame: bytes, at: int) -> tuple[str, str, int, int, int] | None:
    if len(frame) < at + 40 or frame[at] >> 4 != 6:
        return None
    proto = frame[at + 6]
    src = socket.inet_ntop(socket.AF_INET6, frame[at + 8:at + 24])
    dst = socket.inet_ntop(socket.AF_INET6, frame[at + 24:at + 40])
    return (src, dst) + _ports(frame, at + 40, proto) + (proto,)


def _ports(frame: bytes, at: int, proto: int) -> tuple[int, int]:
    if proto in _PORT_PROTOCOLS and len(frame) >= at + 4:
        return _PORTS.unpack_from(frame, at)
    return (0, 0)
