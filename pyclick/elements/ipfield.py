"""Click's names for parts of IP packets: ``ip src/24``, ``tcp sport``,
``ip[8:2] & 0x3F0``, ``transp {4:3}`` (what AggregateIP reads).

A field is a header, then a field name or a bit range, then optionally
``/PREFIX`` and ``& MASK``. It is kept as Click keeps it, one packed 32-bit
word (protocol, offset, length, in bits or, when large, in bytes): the
packing decides which fields exist, and a field that does not fit is the
word -1, whose offset and length lie far outside any header.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from typing import Any, Callable

#: Pseudo-protocols naming a header rather than an IP protocol.
TCP_OR_UDP, TRANSP, PAYLOAD = 256, 258, 259

_PROTO_SHIFT, _MAX_PROTO = 20, 0x1FF
_OFFSET_SHIFT, _MAX_OFFSET = 6, 0x1FFF
_MAX_LENGTH = 0x3F
_IN_BYTES = 0x80000
_MARKER = 0x40000000

#: Click's built-in protocol names, in Click's order (a number prints as its first name).
PROTOCOL_NAMES = {"dccp": 33, "gre": 47, "icmp": 1, "igmp": 2, "ipip": 4, "payload": PAYLOAD,
                  "sctp": 132, "tcp": 6, "tcpudp": TCP_OR_UDP, "transp": TRANSP, "udp": 17}

_MESSAGES = ("expected 'HEADER [NAME] [{OFFSET:LENGTH}] [/PREFIX] [& MASK]'",
             "bad offset or length in TCP/IP field",
             "bad prefix or mask in TCP/IP field")
_SPACE = " \t\n\r\f\v"
_UNSIGNED = re.compile(r"\+?(?:0[xX][0-9a-fA-F](?:_?[0-9a-fA-F])*|0[bB][01](?:_?[01])*"
                       r"|0(?:_?[0-7])*|[1-9](?:_?[0-9])*)")


def _int32(value: int) -> int:
    """``value`` wrapped to a signed 32-bit integer, as C stores it."""
    return (value + 2**31) % 2**32 - 2**31


@dataclass(frozen=True)
class IPField:
    """One field, as Click's packed word."""

    word: int

    @classmethod
    def of(cls, proto: int, bit_offset: int, bit_length: int) -> IPField:
        """The field of ``bit_length`` bits ``bit_offset`` bits into the header of
        ``proto``; the word -1 when the packing cannot hold it."""
        if not (0 <= proto <= _MAX_PROTO and bit_offset >= 0 and bit_length >= 0):
            return cls(-1)
        if bit_offset <= _MAX_OFFSET and bit_length <= _MAX_LENGTH + 1:
            word = (proto << _PROTO_SHIFT) | (bit_offset << _OFFSET_SHIFT) | (bit_length - 1)
        elif bit_offset % 8 == 0 and bit_length % 8 == 0 and bit_length <= (_MAX_LENGTH + 1) * 8:
            word = (proto << _PROTO_SHIFT) | _IN_BYTES | ((bit_offset >> 3) << _OFFSET_SHIFT) \
                | ((bit_length >> 3) - 1)
        else:
            return cls(-1)
        return cls(_int32(word | _MARKER))

    @property
    def ok(self) -> bool:
        return self.word >= 0

    @property
    def proto(self) -> int:
        return (self.word >> _PROTO_SHIFT) & _MAX_PROTO

    @property
    def bit_offset(self) -> int:
        offset = (self.word >> _OFFSET_SHIFT) & _MAX_OFFSET
        return offset << 3 if self.word & _IN_BYTES else offset

    @property
    def bit_length(self) -> int:
        length = (self.word & _MAX_LENGTH) + 1
        return length << 3 if self.word & _IN_BYTES else length


def _named(proto: int, fields: dict[str, tuple[int, int]]) -> dict[str, IPField]:
    return {name: IPField.of(proto, offset, length) for name, (offset, length) in fields.items()}


#: Field names by header protocol, in Click's order (a field prints as its first name).
FIELD_NAMES: dict[int, dict[str, IPField]] = {
    0: {"df": IPField.of(0, 49, 1), "dport": IPField.of(TCP_OR_UDP, 16, 16),
        "dscp": IPField.of(0, 8, 6), "dst": IPField.of(0, 128, 32), "ecn": IPField.of(0, 14, 2),
        "fragoff": IPField.of(0, 51, 13), "hl": IPField.of(0, 4, 4), "id": IPField.of(0, 32, 16),
        "len": IPField.of(0, 16, 16), "mf": IPField.of(0, 50, 1), "off": IPField.of(0, 48, 16),
        "proto": IPField.of(0, 72, 8), "rf": IPField.of(0, 48, 1),
        "sport": IPField.of(TCP_OR_UDP, 0, 16), "src": IPField.of(0, 96, 32),
        "sum": IPField.of(0, 80, 16), "tos": IPField.of(0, 8, 8), "ttl": IPField.of(0, 64, 8),
        "vers": IPField.of(0, 0, 4)},
    1: _named(1, {"code": (8, 8), "sum": (16, 16), "type": (0, 8)}),
    6: _named(6, {"ack": (107, 1), "ackno": (64, 32), "dport": (16, 16), "fin": (111, 1),
                  "flags": (104, 8), "hl": (96, 4), "psh": (108, 1), "push": (108, 1),
                  "rst": (109, 1), "seq": (32, 32), "seqno": (32, 32), "sport": (0, 16),
                  "sum": (128, 16), "syn": (110, 1), "urg": (106, 1), "urp": (144, 16),
                  "win": (112, 16)}),
    17: _named(17, {"dport": (16, 16), "len": (32, 16), "sport": (0, 16), "sum": (48, 16)}),
    TCP_OR_UDP: _named(TCP_OR_UDP, {"dport": (16, 16), "sport": (0, 16)}),
}


def protocol_number(name: str) -> int | None:
    """An IP protocol by name: Click's own names, then the system's (``/etc/protocols``)."""
    if name in PROTOCOL_NAMES:
        return PROTOCOL_NAMES[name]
    try:
        return socket.getprotobyname(name)
    except (OSError, UnicodeError, ValueError):
        return None


def protocol_name(proto: int) -> str:
    """Click's own name of protocol ``proto``, or ''."""
    return next((name for name, number in PROTOCOL_NAMES.items() if number == proto), "")


def _field_name(field: IPField) -> str:
    names = FIELD_NAMES.get(field.proto, {})
    return next((name for name, known in names.items() if known == field), "")


def _unsigned_at(text: str, pos: int) -> tuple[int, int] | None:
    """Click's unsigned integer at ``pos`` (base by prefix, ``_`` between digits,
    saturating at 2^32-1), and where it ends."""
    m = _UNSIGNED.match(text, pos)
    if m is None:
        return None
    digits = m.group().lstrip("+").replace("_", "")
    if digits[:2] in ("0x", "0X", "0b", "0B"):
        value = int(digits[2:], 16 if digits[1] in "xX" else 2)
    else:
        value = int(digits, 8 if digits.startswith("0") else 10)
    return min(value, 2**32 - 1), m.end()


def _scan(text: str, pos: int, pattern: str, *lookups: Callable[[str], Any]
          ) -> tuple[int, list[Any]] | None:
    """Match Click's scanning pattern at ``pos``: a space skips spaces (and
    must find one between two literal characters), ``%u`` an unsigned
    integer, ``%N`` a name found by the next lookup, ``%D`` makes the
    following characters end names, ``%B`` needs a word to end here.
    The position after the match and the numbers read, or None."""
    values: list[Any] = []
    lookup_queue = list(lookups)
    must_space = False
    ends = ""
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == " ":
            if must_space and pattern[i + 1:i + 2] != "%" \
                    and (pos == len(text) or text[pos] not in _SPACE):
                return None
            while pos < len(text) and text[pos] in _SPACE:
                pos += 1
            must_space = False
        elif c == "%":
            i += 1
            code = pattern[i]
            if code == "u":
                number = _unsigned_at(text, pos)
                if number is None:
                    return None
                values.append(number[0])
                pos = number[1]
            elif code == "N":
                start = pos
                while pos < len(text) and text[pos] not in _SPACE and text[pos] not in ends:
                    pos += 1
                value = lookup_queue.pop(0)(text[start:pos]) if pos > start else None
                if value is None:
                    return None
                values.append(value)
            elif code == "D":
                i += 1
                while i < len(pattern) and pattern[i] != "%":
                    ends += pattern[i]
                    i += 1
                continue
            elif code == "B" and pos < len(text) and (text[pos].isascii() and text[pos].isalnum()
                                                      or text[pos] == "_"):
                return None
            if code != "B":
                must_space = False
        else:
            if pos == len(text) or text[pos] != c:
                return None
            pos += 1
            must_space = True
        i += 1
    return pos, values


def _byte_span(first: int, last: int) -> tuple[int, int]:
    # As Click computes it: the length from the first offset already in bits
    # ("ip[1-9]" is 2 bytes from byte 1).
    offset = _int32(first * 8)
    return offset, (last - offset + 1) * 8


#: The bit ranges after a header or name: pattern, numbers -> (bit offset, bit length).
_LIMITS: tuple[tuple[str, Callable[[list[int]], tuple[int, int]]], ...] = (
    (" [ %u ]", lambda v: (v[0] * 8, 8)),
    (" [ %u : %u ]", lambda v: (v[0] * 8, v[1] * 8)),
    (" [ %u - %u ]", lambda v: _byte_span(v[0], v[1])),
    (" { %u }", lambda v: (v[0], 1)),
    (" { %u : %u }", lambda v: (v[0], v[1])),
    (" { %u - %u }", lambda v: (v[0], v[1] - v[0] + 1)),
)


def parse_ip_field(text: str) -> tuple[IPField, int]:
    """The field at the start of ``text`` and where it ends; ValueError with
    Click's message when there is none."""
    header: int | None = None
    for pattern, lookups in (("ip proto %u", ()), ("ip%B", ()), ("%N", (protocol_number,))):
        found = _scan(text, 0, pattern, *lookups)
        if found is not None:
            pos, values = found
            header = _int32(values[0]) if values else 0
            break
    if header is None:
        raise ValueError(_MESSAGES[0])
    field = IPField(-1)
    named = _scan(text, pos, " %D/[{&%N", FIELD_NAMES.get(header, {}).get)
    if named is not None:
        pos, field = named[0], named[1][0]
    offset = length = -1
    for pattern, limits in _LIMITS:
        found = _scan(text, pos, pattern)
        if found is not None:
            pos = found[0]
            offset, length = (_int32(v) for v in limits([_int32(v) for v in found[1]]))
            break
    else:
        if not field.ok:
            raise ValueError(_MESSAGES[0])
    if offset >= 0 and length <= 0:
        raise ValueError(_MESSAGES[1])
    if field.ok and (offset >= field.bit_length or offset + length > field.bit_length):
        raise ValueError(_MESSAGES[1])
    if field.ok and offset >= 0:
        field = IPField.of(field.proto, field.bit_offset + offset, length)
    elif offset >= 0:
        field = IPField.of(header, offset, length)
    elif not field.ok:
        raise ValueError(_MESSAGES[1])
    found = _scan(text, pos, " / %u")
    if found is not None:
        pos, prefix = found[0], _int32(found[1][0])
        if prefix > field.bit_length:
            raise ValueError(_MESSAGES[2])
        field = IPField.of(field.proto, field.bit_offset, prefix)
    found = _scan(text, pos, " & %u")
    if found is not None:
        pos, mask = found[0], found[1][0]
        low = mask & -mask
        # Click's test: the mask plus its lowest bit is a power of two (or wraps to 0).
        top = (mask + low) & 0xFFFFFFFF
        high = top.bit_length() - 1
        if mask == 0 or top & (top - 1) or high > field.bit_length:
            raise ValueError(_MESSAGES[2])
        field = IPField.of(field.proto, field.bit_offset + field.bit_length - high,
                           high - (low.bit_length() - 1))
    return field, pos


def unparse_ip_field(field: IPField) -> str:
    """The field as Click writes it: ``ip src/8``, ``tcp sport``, ``transp[4]``."""
    if not field.ok:
        return "<bad>"
    proto = field.proto
    text = "ip" if proto == 0 else protocol_name(proto) or f"ip proto {proto}"
    name = _field_name(field)
    if name:
        return f"{text} {name}"
    bo, bl = field.bit_offset, field.bit_length
    for container in (8, 16, 32):
        if bo // container == (bo + bl - 1) // container:
            name = _field_name(IPField.of(proto, bo & ~(container - 1), container))
            if name:
                text += " " + name
                bo &= container - 1
                if bo == 0:
                    return f"{text}/{bl}"
                break
    if bo % 8 == 0 and bl == 8:
        return f"{text}[{bo // 8}]"
    if bo % 8 == 0 and bl % 8 == 0:
        return f"{text}[{bo // 8}:{bl // 8}]"
    if bl == 1:
        return f"{text}{{{bo}}}"
    return f"{text}{{{bo}:{bl}}}"
