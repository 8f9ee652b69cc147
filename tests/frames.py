"""Ethernet, IPv4, TCP, UDP and ICMP frames built field by field, for the tests."""

from __future__ import annotations

import socket
import struct


def checksum(data: bytes) -> int:
    """The Internet checksum of ``data``."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ip_header(src: str, dst: str, proto: int, payload_length: int, *, ttl: int = 64,
              tos: int = 0, ident: int = 0, frag: int = 0, options: bytes = b"",
              good_checksum: bool = True) -> bytes:
    """An IPv4 header (with a correct checksum unless told otherwise)."""
    ihl = 5 + len(options) // 4
    header = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, ihl * 4 + payload_length, ident,
                         frag, ttl, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    header += options
    csum = checksum(header) if good_checksum else 0xBEEF
    return header[:10] + struct.pack("!H", csum) + header[12:]


def tcp(sport: int, dport: int, flags: int = 0x10, window: int = 1024,
        payload: bytes = b"") -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, flags, window, 0, 0) + payload


def udp(sport: int, dport: int, payload: bytes = b"") -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def icmp(type_: int, code: int = 0, payload: bytes = b"\0\0\0\0") -> bytes:
    body = struct.pack("!BBH", type_, code, 0) + payload
    return body[:2] + struct.pack("!H", checksum(body)) + body[4:]


def ip_packet(src: str, dst: str, proto: int, transport: bytes, **fields) -> bytes:
    return ip_header(src, dst, proto, len(transport), **fields) + transport


def ether(dst: str, src: str, ethertype: int, payload: bytes) -> bytes:
    def mac(text: str) -> bytes:
        return bytes(int(x, 16) for x in text.split(":"))
    return mac(dst) + mac(src) + struct.pack("!H", ethertype) + payload


def click_hex(data: bytes) -> str:
    """``data`` as Click's ``\\<hex>`` data, for InfiniteSource(DATA ...)."""
    return "\\<" + data.hex() + ">"
