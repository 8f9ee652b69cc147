"""What the IP and Ethernet elements share: the Internet checksum, address
argument types, and where a packet's IP header is.

- :func:`checksum`: the Internet checksum (RFC 1071) of some bytes;
- :func:`IPADDR`, :func:`IPPREFIX` (``10.0.0.1/24`` or ``10.0.0.1
  255.255.255.0``), :func:`ETHERADDR`: argument types returning bytes in
  network order (and the prefix length);
- :func:`ip_header_offset`: the IP header's offset in a packet's data, from
  its network header annotation, 0 when no element set it;
- :func:`reject`: where the elements with an optional output for refused
  packets send them.
"""

from __future__ import annotations

import ipaddress
import re
import struct
from typing import TYPE_CHECKING

from pyclick.packet import Packet

if TYPE_CHECKING:
    from pyclick.args import Args
    from pyclick.element import Element

_ETHER = re.compile(r"[0-9A-Fa-f]{1,2}([:-])[0-9A-Fa-f]{1,2}(\1[0-9A-Fa-f]{1,2}){4}\Z")


def checksum(data: bytes | bytearray | memoryview) -> int:
    """The Internet checksum of ``data`` (0 when ``data`` holds a correct one)."""
    if len(data) % 2:
        data = bytes(data) + b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def IPADDR(text: str, args: Args | None = None) -> bytes:
    """An IPv4 address, as 4 bytes."""
    try:
        return ipaddress.IPv4Address(text.strip()).packed
    except ValueError:
        raise ValueError("expected IP address") from None


def IPPREFIX(text: str, args: Args | None = None) -> tuple[bytes, int]:
    """An address with a prefix length: ``18.26.4.9/24`` or ``18.26.4.9 255.255.255.0``."""
    words = text.split()
    try:
        if len(words) == 2:
            address, mask = ipaddress.IPv4Address(words[0]), ipaddress.IPv4Address(words[1])
            length = ipaddress.IPv4Network(f"0.0.0.0/{mask}").prefixlen
            return address.packed, length
        interface = ipaddress.IPv4Interface(text.strip())
        return interface.ip.packed, interface.network.prefixlen
    except ValueError:
        raise ValueError("expected IP address with prefix (e.g. 10.0.0.1/24)") from None


def ETHERADDR(text: str, args: Args | None = None) -> bytes:
    """An Ethernet address (``00:11:22:33:44:55`` or with dashes), as 6 bytes."""
    word = text.strip()
    if not _ETHER.match(word):
        raise ValueError("expected Ethernet address (e.g. 00:11:22:33:44:55)")
    return bytes(int(part, 16) for part in re.split("[:-]", word))


def unparse_ether(address: bytes) -> str:
    """``00-11-22-33-44-55`` (Click's way of printing an Ethernet address)."""
    return "-".join(f"{b:02X}" for b in address)


def unparse_ip(address: bytes) -> str:
    return str(ipaddress.IPv4Address(address))


def ip_header_offset(packet: Packet) -> int:
    """Where the IP header starts in the packet's data (the network header
    annotation, or 0 when no element set it)."""
    offset = packet.network_header_offset
    return 0 if offset is None else offset


def reject(element: Element, packet: Packet) -> None:
    """Send a refused packet out of output 1 when it is connected; drop it otherwise."""
    if element.noutputs > 1:
        element.output_push(1, [packet])
