"""The fields of Click's IP summary dumps: how each is read from a packet and written."""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Iterator, Mapping

from pyclick.classify.ippatterns import ICMP_CODE_NAMES, ICMP_TYPE_NAMES
from pyclick.elements.intervals import unparse_timestamp
from pyclick.lang.configstr import quote_inside_double
from pyclick.packet import ANNOTATIONS, Packet

#: ICMP types whose header carries an identifier and a sequence number.
ICMP_WITH_FLOW = frozenset((0, 8, 13, 14, 15, 16))
#: Protocols whose first four transport bytes are ports (TCP, UDP, DCCP, UDP-Lite).
PORT_PROTOCOLS = frozenset((6, 17, 33, 136))
TCP_FLAG_LETTERS = "FSRPAUECN"
ECN_NAMES = ("no", "ect1", "ect2", "ce")
_EXTRA_PACKETS = ANNOTATIONS["EXTRA_PACKETS"][0]
_MD5_TEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@"

# What a missing field lacks, for the '!bad' line it may cause.
NEED_IP, NEED_ETHER, TCP, UDP, ICMP, TCP_OR_UDP = "IP", "Ethernet", 6, 17, 1, 256
_PROTOCOL_WORDS = {TCP: "TCP", UDP: "UDP", ICMP: "ICMP", TCP_OR_UDP: "TCP/UDP"}


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def split_time(t: float, to_epoch: Callable[[float], float]) -> tuple[int, int]:
    """Router time ``t`` as a date, (seconds, nanoseconds) as Click keeps a
    timestamp: the seconds rounded down and the nanoseconds after them, from 0
    up, also before 1970 (-0.25 is (-1, 750000000)). A float date is not exact
    to the nanosecond: a value within its rounding error of a whole
    microsecond is taken as that microsecond (what the capture said)."""
    when = to_epoch(t)
    seconds = math.floor(abs(when))
    nsec = round((abs(when) - seconds) * 1e9)
    slack = (math.ulp(t) + math.ulp(when)) * 1e9
    usec = round(nsec / 1000)
    if abs(nsec - usec * 1000) <= max(slack, 0.5):
        nsec = usec * 1000
    total = seconds * 1_000_000_000 + nsec
    return divmod(-total if when < 0 else total, 1_000_000_000)


def time_text(sec: int, nsec: int) -> str:
    """A ``split_time`` as Click writes a time."""
    return unparse_timestamp(sec * 1_000_000_000 + nsec)


def click_quote(data: bytes) -> str:
    """``data`` in double quotes, escaped as Click quotes a string (bytes
    outside printable ASCII as three octal digits)."""
    return '"' + quote_inside_double(data.decode("latin-1"), ascii_only=True) + '"'


class PacketView:
    """One packet as the fields see it: positions in its buffer, the IP,
    TCP, UDP and ICMP headers found by :meth:`parse_ip` (None when absent or
    bad), and the first '!bad' message when those are collected."""

    def __init__(self, packet: Packet, to_epoch: Callable[[float], float], *,
                 bad: list[str] | None, careful_trunc: bool, extra_length: bool) -> None:
        self.packet = packet
        self.to_epoch = to_epoch
        self.buf = packet.buffer
        self.head = packet.data_offset
        self.end = self.head + len(packet)
        self.bad = bad
        self.careful_trunc = careful_trunc
        self.force_extra_length = extra_length
        self.extra = packet.extra_length
        #: Bytes after the IP length (link padding), left out of every length.
        self.tailpad = 0
        self.iph: int | None = None
        self.tcph: int | None = None
        self.udph: int | None = None
        self.icmph: int | None = None

    # --- reading the buffer (bytes beyond it read as 0)
    def u8(self, at: int) -> int:
        return self.buf[at] if 0 <= at < len(self.buf) else 0

    def u16(self, at: int) -> int:
        return self.u8(at) << 8 | self.u8(at + 1)

    def u32(self, at: int) -> int:
        return self.u16(at) << 16 | self.u16(at + 2)

    def chunk(self, start: int, stop: int) -> bytes:
        return bytes(self.buf[max(start, 0):max(stop, 0)])

    # --- lengths, without the padding after the IP length
    @property
    def length(self) -> int:
        return self.end - self.head - self.tailpad

    @property
    def network_length(self) -> int:
        assert self.iph is not None
        return self.end - self.iph - self.tailpad

    @property
    def transport_length(self) -> int:
        th = self.packet.transport_header_offset
        return 0 if th is None else _signed32(self.end - (self.head + th) - self.tailpad)

    @property
    def ip_hl(self) -> int:
        assert self.iph is not None
        return (self.u8(self.iph) & 15) << 2

    @property
    def ip_len(self) -> int:
        assert self.iph is not None
        return self.u16(self.iph + 2)

    @property
    def first_fragment(self) -> bool:
        assert self.iph is not None
        return self.u16(self.iph + 6) & 0x1FFF == 0

    def note_bad(self, message: str) -> None:
        if self.bad is not None and not self.bad:
            self.bad.append(f"!bad {message}\n")

    def parse_ip(self) -> None:
        """Find and check the headers (Click's ip_prepare). Like Click, this
        also sets the packet's extra length annotation: padding after the IP
        length is added to it, then it is cleared (only what lies beyond a
        65535-byte IP length stays)."""
        packet = self.packet
        nh, th = packet.network_header_offset, packet.transport_header_offset
        iph = None if nh is None else self.head + nh
        if th is not None:
            self.tcph = self.udph = self.icmph = self.head + th
        self.iph = iph
        if iph is not None:
            have = self.end - iph
            version, hl = self.u8(iph) >> 4, (self.u8(iph) & 15) << 2
            if have < 4:
                self.note_bad("truncated IP header")
                self.iph = None
            elif version != 4:
                self.note_bad(f"IP version {version}")
                self.iph = None
            elif hl < 20:
                self.note_bad(f"IP header length {hl >> 2}")
                self.iph = None
            elif self.ip_len < hl:
                self.note_bad(f"IP length {self.ip_len}")
                self.iph = None
            elif have > self.ip_len:
                self.tailpad = have - self.ip_len
                self.extra += self.tailpad
            elif self.careful_trunc and have + self.extra < self.ip_len:
                self.note_bad(f"truncated IP missing {self.ip_len - have - self.extra}")
        iph = self.iph
        beyond_ip = iph is not None and self.network_length > self.ip_hl and self.first_fragment
        proto = self.u8(iph + 9) if iph is not None else -1
        if not (beyond_ip and self.tcph is not None and proto == TCP):
            self.tcph = None
        elif self.transport_length > 12 and self.u8(self.tcph + 12) >> 4 < 5:
            self.note_bad(f"TCP header length {self.u8(self.tcph + 12) >> 4}")
            self.tcph = None
        if not (beyond_ip and proto == UDP):
            self.udph = None
        if not (beyond_ip and proto == ICMP):
            self.icmph = None
        if iph is not None and self.extra > 0:
            full = self.network_length + self.extra
            self.extra = full - 0xFFFF if self.ip_len == 0xFFFF and full > 0xFFFF else 0
        if self.extra != packet.extra_length:
            packet.extra_length = self.extra

    def missing(self, need: int | str, length: int) -> None:
        """A field that is not there: None, after noting why in a '!bad' line
        when the packet is broken (a field of another protocol is just absent)."""
        if self.bad is None or self.bad:
            return None
        iph = self.iph
        if need == NEED_ETHER:
            self.note_bad("Ethernet header")
        elif iph is None:
            self.note_bad("no IP header")
        elif need == NEED_IP:
            self.note_bad("truncated IP header capture")
        elif self.network_length > 9 and (
                (need != TCP_OR_UDP and self.u8(iph + 9) != need)
                or (need == TCP_OR_UDP and self.u8(iph + 9) not in (TCP, UDP))):
            return None
        elif not self.first_fragment:
            self.note_bad(f"fragmented {_PROTOCOL_WORDS[need]} header")
        elif _signed32(self.transport_length + self.extra) >= length:
            self.note_bad(f"truncated {_PROTOCOL_WORDS[need]} header capture")
        else:
            self.note_bad(f"truncated {_PROTOCOL_WORDS[need]} header")
        return None


Extract = Callable[[PacketView], Any]


@dataclass(frozen=True)
class Field:
    """A summary field: ``extract`` gives its value for a packet (None: the
    field does not apply, written '-'), ``text`` writes a value in ASCII,
    ``binary`` packs it (None: no binary form); ``size`` is the binary size,
    0 for a variable-length field (one length byte, then the data);
    ``absent`` is written in binary when the field does not apply (zeros by
    default). ``needs_ip``: the IP headers must be parsed first."""

    name: str
    extract: Extract
    text: Callable[[Any], str] = str
    binary: Callable[[Any], bytes] | None = None
    size: int = 0
    needs_ip: bool = True
    absent: bytes | None = None

    def missing_binary(self) -> bytes:
        return bytes(self.size or 1) if self.absent is None else self.absent


def _packer(fmt: str) -> Callable[[Any], bytes]:
    return struct.Struct(fmt).pack


U8, U16, U32, U64 = _packer(">B"), _packer(">H"), _packer(">I"), _packer(">Q")


def _raw(value: bytes) -> bytes:
    return value


def _counted(value: bytes) -> bytes:
    return bytes((len(value),)) + value


def _usec_time(value: tuple[int, int]) -> bytes:
    return struct.pack(">II", value[0] & 0xFFFFFFFF, value[1] // 1000)


def _nsec_time(value: tuple[int, int]) -> bytes:
    # Nanoseconds first: the order Click writes and reads back.
    return struct.pack(">II", value[1], value[0] & 0xFFFFFFFF)


# --- annotations

def _timestamp(view: PacketView) -> tuple[int, int]:
    return split_time(view.packet.timestamp, view.to_epoch)


def _first_timestamp(view: PacketView) -> tuple[int, int]:
    return split_time(view.packet.first_timestamp, view.to_epoch)


def _time_text(value: tuple[int, int]) -> str:
    return time_text(*value)


def _usec1(view: PacketView) -> int:
    sec, nsec = _timestamp(view)
    return (sec * 1_000_000 + nsec // 1000) & 0xFFFFFFFFFFFFFFFF


def _direction_text(paint: int) -> str:
    return {0: ">", 1: "<"}.get(paint, str(paint))


def _anno_fields() -> list[Field]:
    def time_field(name: str, extract: Extract, binary: Callable[[Any], bytes]) -> Field:
        return Field(name, extract, _time_text, binary, 8, needs_ip=False)

    def number(name: str, extract: Extract, binary: Callable[[Any], bytes], size: int,
               text: Callable[[Any], str] = str) -> Field:
        return Field(name, extract, text, binary, size, needs_ip=False)

    return [
        time_field("timestamp", _timestamp, _usec_time),
        time_field("ntimestamp", _timestamp, _nsec_time),
        number("ts_sec", lambda v: _timestamp(v)[0] & 0xFFFFFFFF, U32, 4),
        number("ts_usec", lambda v: _timestamp(v)[1] // 1000, U32, 4),
        number("ts_usec1", _usec1, U64, 8),
        time_field("first_timestamp", _first_timestamp, _usec_time),
        time_field("first_ntimestamp", _first_timestamp, _nsec_time),
        number("count", lambda v: (1 + v.packet.anno_u32(_EXTRA_PACKETS)) & 0xFFFFFFFF, U32, 4),
        number("link", lambda v: v.packet.paint, U8, 1),
        number("paint", lambda v: v.packet.paint, U8, 1),
        number("direction", lambda v: v.packet.paint, U8, 1, _direction_text),
        number("aggregate", lambda v: v.packet.aggregate, U32, 4),
        number("wire_len", lambda v: len(v.packet), U32, 4),
    ]


# --- IP

def _ip_header(offset: int, size: int, need: int) -> Extract:
    """The ``size``-byte number at ``offset`` of the IP header, which must
    hold ``need`` bytes."""
    def extract(view: PacketView) -> int | None:
        if view.iph is None or view.network_length < need:
            return view.missing(NEED_IP, need)
        at = view.iph + offset
        return view.u8(at) if size == 1 else view.u16(at)
    return extract


def _ip_address(offset: int) -> Extract:
    def extract(view: PacketView) -> bytes | None:
        if view.iph is None or view.network_length < offset + 4:
            return view.missing(NEED_IP, offset + 4)
        return view.chunk(view.iph + offset, view.iph + offset + 4)
    return extract


def _address_text(value: bytes) -> str:
    return ".".join(str(b) for b in value)


def _frag(view: PacketView) -> int | None:
    off = _ip_header(6, 2, 8)(view)
    if off is None:
        return None
    if off & 0x3FFF == 0:
        return ord("!") if off & 0x4000 else ord(".")
    return ord("F") if off & 0x1FFF == 0 else ord("f")


def _fragoff_text(off: int) -> str:
    return f"{(off & 0x1FFF) << 3}{'+' if off & 0x2000 else ''}{'!' if off & 0x4000 else ''}"


def _proto_text(proto: int) -> str:
    return {TCP: "T", UDP: "U", ICMP: "I"}.get(proto, str(proto))


def _ip_options(view: PacketView) -> tuple[PacketView, int, bytes] | None:
    """The IP options: (view, start in the buffer, bytes)."""
    iph = view.iph
    if iph is None or (view.ip_hl > 20 and view.network_length < view.ip_hl):
        return view.missing(NEED_IP, view.ip_hl if iph is not None else 20)
    return view, iph + 20, view.chunk(iph + 20, iph + view.ip_hl)


def _ip_options_text(value: tuple[PacketView, int, bytes]) -> str:
    view, start, options = value
    return ip_options_text(options, view, start) if options else "."


def _options_binary(value: tuple[PacketView, int, bytes]) -> bytes:
    """All the options, as Click writes them: counted once as they are, then
    once more up to an end-of-list option (or a malformed one)."""
    options = value[2]
    if not options:
        return b"\0"
    return _counted(options) + _counted(filtered_options(options, ~0, {}, padding=True))


def _ip_len(view: PacketView) -> int:
    value = view.ip_len if view.iph is not None else view.length
    if view.force_extra_length:
        value += view.extra
    return value & 0xFFFFFFFF


def _ip_capture_len(view: PacketView) -> int:
    if view.iph is None:
        return view.length
    return min(view.ip_len, view.network_length)


def _port(offset: int) -> Extract:
    def extract(view: PacketView) -> int | None:
        iph, th = view.iph, view.packet.transport_header_offset
        if (iph is not None and th is not None and view.network_length > view.ip_hl
                and view.first_fragment and view.u8(iph + 9) in PORT_PROTOCOLS
                and view.transport_length >= offset + 2):
            return view.u16(view.head + th + offset)
        return view.missing(TCP_OR_UDP, offset + 2)
    return extract


def _route(opt: bytes, kind: int) -> str:
    """A record route or source route option ('rr{...}+N', 'lsrr{A^B}')."""
    pointer, end = opt[2] - 1, len(opt)
    parts, sep, at = [], "", 3
    while at + 4 <= end:
        if at == pointer:
            if kind == 7:
                break
            sep = "^"
        parts.append(sep + _address_text(opt[at:at + 4]))
        sep = ","
        at += 4
    if at == end and at == pointer and kind != 7:
        parts.append("^")
    text = "{" + "".join(parts) + "}"
    if at + 4 <= end and at == pointer and kind == 7:
        text += f"+{(end - at) // 4}"
    return text


def _ip_timestamps(opt: bytes) -> str:
    """The timestamp option ('ts{1,!45}+2++3', 'ts.ip{...}', 'ts.preip{...}')."""
    flag = opt[3] & 15
    size = 8 if 1 <= flag <= 3 else 4
    pointer, end = opt[2] - 1, len(opt)
    text = "ts" + {0: "", 1: ".ip", 3: ".preip"}.get(flag, f".{flag}") + "{"
    sep, at = "", 4
    while at + size <= end:
        if at == pointer:
            if flag != 3:
                break
            sep = "^"
        if flag != 0:
            text += sep + _address_text(opt[at:at + 4]) + "="
            at += 4
        else:
            text += sep
        if flag == 3 and at > pointer:
            text = text[:-1]
        else:
            stamp = int.from_bytes(opt[at:at + 4].ljust(4, b"\0"), "big")
            text += ("!" if stamp & 0x80000000 else "") + str(stamp & 0x7FFFFFFF)
        sep = ","
        at += 4
    if at == end and at == pointer:
        text += "^"
    text += "}"
    if at + size <= end and at == pointer:
        text += f"+{(end - at) // size}"
    if opt[3] & 0xF0:
        text += f"++{opt[3] >> 4}"
    return text


def _generic_option(opt: bytes) -> str:
    return str(opt[0]) + "".join(("=" if i == 0 else ":") + str(b) for i, b in enumerate(opt[2:]))


def _walk_options(options: bytes, view: PacketView, start: int
                  ) -> Iterator[tuple[int, int, int]]:
    """(kind, position, size) of each option before an end-of-list, no-ops
    skipped. ``start`` is where ``options`` lie in the view's buffer: a length
    byte may be read beyond them, as Click does. The walk ends after an
    option shorter than 2 bytes, which the caller refuses."""
    at, end = 0, len(options)
    while at < end:
        kind = options[at]
        if kind == 0:
            return
        if kind == 1:
            at += 1
            continue
        size = view.u8(start + at + 1)
        yield kind, at, size
        if size < 2:
            return
        at += size


def ip_options_text(options: bytes, view: PacketView, start: int) -> str:
    """IP options as Click writes them: 'rr{...}', 'ts{...}', '130=1:2'...
    separated by ';', '.' for none, '?' when one is malformed. ``start`` is
    where ``options`` lie in the view's buffer (a length byte may be read
    beyond them, as Click does)."""
    parts, end = [], len(options)
    for kind, at, size in _walk_options(options, view, start):
        if kind in (7, 131, 137):
            if at + size > end or size < 3 or options[at + 2] < 4:
                return "?"
            parts.append({7: "rr", 131: "lsrr", 137: "ssrr"}[kind]
                         + _route(options[at:at + size], kind))
        elif kind == 68:
            if at + size > end or size < 4 or options[at + 2] < 5:
                return "?"
            parts.append(_ip_timestamps(options[at:at + size]))
        else:
            if at + size > end or size < 2:
                return "?"
            parts.append(_generic_option(options[at:at + size]))
    return ";".join(parts) or "."


# --- TCP, UDP, ICMP

def _transport(need: int, offset: int, size: int, check: int) -> Extract:
    """The ``size``-byte number at ``offset`` of the ``need`` header (TCP,
    UDP, ICMP), which must hold ``check`` bytes."""
    read = {1: PacketView.u8, 2: PacketView.u16, 4: PacketView.u32}[size]

    def extract(view: PacketView) -> int | None:
        th = {TCP: view.tcph, UDP: view.udph, ICMP: view.icmph}[need]
        if th is None or view.transport_length < check:
            return view.missing(need, check)
        return read(view, th + offset)
    return extract


def _mapped(extract: Extract, convert: Callable[[int], int]) -> Extract:
    """``extract``, its value (when there is one) passed through ``convert``."""
    def mapped(view: PacketView) -> int | None:
        value = extract(view)
        return None if value is None else convert(value)
    return mapped


def _tcp_flags(view: PacketView) -> int | None:
    tcph = view.tcph
    if tcph is None or view.transport_length < 14:
        return view.missing(TCP, 14)
    return view.u8(tcph + 13) | (view.u8(tcph + 12) & 15) << 8


def _tcp_flags_text(flags: int) -> str:
    if flags in (0x18, 0x10, 0):
        return {0x18: "PA", 0x10: "A", 0: "."}[flags]
    return "".join(letter for bit, letter in enumerate(TCP_FLAG_LETTERS) if flags >> bit & 1)


def _tcp_off(view: PacketView) -> int | None:
    tcph = view.tcph
    if tcph is None or view.transport_length < 13:
        return view.missing(TCP, 13)
    return (view.u8(tcph + 12) >> 4) << 2


def _tcp_options(skip_timestamp_only: bool) -> Extract:
    """The TCP options: (view, start in the buffer, bytes). With
    ``skip_timestamp_only``, a header holding just NOP NOP timestamp has none."""
    def extract(view: PacketView) -> tuple[PacketView, int, bytes] | None:
        tcph, length = view.tcph, view.transport_length
        if tcph is None or length < 13:
            return view.missing(TCP, length + 1)
        hl = (view.u8(tcph + 12) >> 4) << 2
        if hl <= 20 or (skip_timestamp_only and hl == 32 and length >= 24
                        and view.u32(tcph + 20) == 0x0101080A):
            return view, tcph + 20, b""
        if length < hl:
            return view.missing(TCP, length + 1)
        return view, tcph + 20, view.chunk(tcph + 20, tcph + hl)
    return extract


# Which TCP options a field writes.
TCPOPT_MSS, TCPOPT_WSCALE, TCPOPT_SACK, TCPOPT_TIMESTAMP, TCPOPT_OTHER = 1, 2, 4, 8, 16
TCPOPT_ALL = 31
TCPOPT_NOT_TIMESTAMP = TCPOPT_ALL & ~TCPOPT_TIMESTAMP


def tcp_options_text(options: bytes, view: PacketView, start: int, which: int) -> str:
    """TCP options as Click writes them ('mss1460;sackok;ts1:2;wscale7;sack1-2',
    '98=1:2' for others) separated by ';', only those in ``which``; '.' for
    none, '?' when one is malformed."""
    parts, end = [], len(options)
    for kind, at, size in _walk_options(options, view, start):
        opt = options[at:at + size]
        fixed = {2: 4, 3: 3, 4: 2, 8: 10}.get(kind)
        if at + size > end or (fixed is not None and size != fixed) \
                or (kind == 5 and size % 8 != 2) or size < 2:
            return "?"
        group = {2: TCPOPT_MSS, 3: TCPOPT_WSCALE, 4: TCPOPT_SACK, 5: TCPOPT_SACK,
                 8: TCPOPT_TIMESTAMP}.get(kind, TCPOPT_OTHER)
        if which & group:
            parts += tcp_option_words(opt)
    return ";".join(parts) or "."


def tcp_option_words(opt: bytes) -> list[str]:
    """One well-formed TCP option (kind, length, data) as Click's summary dumps
    write it: 'mss1460', 'wscale7', 'sackok', 'sack1-2' per block, 'ts1:2',
    '98=1:2' for others."""
    kind, size = opt[0], len(opt)
    if kind == 2:
        return [f"mss{int.from_bytes(opt[2:4], 'big')}"]
    if kind == 3:
        return [f"wscale{opt[2]}"]
    if kind == 4:
        return ["sackok"]
    if kind == 5:
        return [f"sack{int.from_bytes(opt[i:i + 4], 'big')}-{int.from_bytes(opt[i + 4:i + 8], 'big')}"
                for i in range(2, size, 8)]
    if kind == 8:
        return [f"ts{int.from_bytes(opt[2:6], 'big')}:{int.from_bytes(opt[6:10], 'big')}"]
    return [_generic_option(opt)]


def _tcp_options_field(name: str, skip_timestamp_only: bool, which: int) -> Field:
    def text(value: tuple[PacketView, int, bytes]) -> str:
        view, start, options = value
        return tcp_options_text(options, view, start, which) if options else "."

    def binary(value: tuple[PacketView, int, bytes]) -> bytes:
        options = value[2]
        if not options:
            return b"\0"
        return _counted(filtered_options(options, which, TCP_BINARY_GROUPS, padding=False))
    return Field(name, _tcp_options(skip_timestamp_only), text,
                 _options_binary if which == TCPOPT_ALL else binary)


#: Option kind -> group, for the binary form (kinds not listed: "other").
TCP_BINARY_GROUPS = {2: TCPOPT_MSS, 3: TCPOPT_WSCALE, 4: TCPOPT_SACK, 5: TCPOPT_SACK,
                     8: TCPOPT_TIMESTAMP}


def filtered_options(options: bytes, which: int, groups: dict[int, int], *,
                      padding: bool) -> bytes:
    """The options of the groups in ``which`` (``groups`` maps kinds to groups,
    other kinds are TCPOPT_OTHER), bytes as they are, stopping after an
    end-of-list option or before a malformed one; NOP and end-of-list kept
    with ``padding``."""
    out, at, end = bytearray(), 0, len(options)
    while at < end:
        kind = options[at]
        if kind <= 1:
            if padding:
                out.append(kind)
            if kind == 0:
                break
            at += 1
            continue
        size = options[at + 1] if at + 1 < end else 0
        if size < 2 or at + size > end:
            break
        if which & groups.get(kind, TCPOPT_OTHER):
            out += options[at:at + size]
        at += size
    return bytes(out)


def _icmp_flow(offset: int) -> Extract:
    def extract(view: PacketView) -> int | None:
        icmph = view.icmph
        if icmph is None or view.transport_length < 1:
            return view.missing(ICMP, 1)
        if view.u8(icmph) not in ICMP_WITH_FLOW:
            return None
        if view.transport_length < offset + 2:
            return view.missing(ICMP, offset + 2)
        return view.u16(icmph + offset)
    return extract


def _icmp_nextmtu(view: PacketView) -> int | None:
    icmph = view.icmph
    if icmph is None or view.transport_length < 2:
        return view.missing(ICMP, 2)
    if view.u8(icmph) != 3 or view.u8(icmph + 1) != 4:
        return None
    if view.transport_length < 8:
        return view.missing(ICMP, 8)
    return view.u16(icmph + 6)


def _icmp_code_name(view: PacketView) -> tuple[int, int] | None:
    code = _transport(ICMP, 1, 1, 2)(view)
    if code is None:
        return None
    assert view.icmph is not None
    return view.u8(view.icmph), code


def _icmp_code_name_text(value: tuple[int, int]) -> str:
    return ICMP_CODE_NAMES.get(value[0], {}).get(value[1], str(value[1]))


# --- payload

def _payload_place(view: PacketView) -> tuple[int, int]:
    """Where the payload starts (from the start of the data) and its length
    by the headers, as unsigned 32-bit numbers as Click computes them."""
    iph = view.iph
    if iph is None:
        return 0, view.length
    nh = iph - view.head
    th = view.packet.transport_header_offset
    off = nh + view.ip_hl if th is None else th
    if view.first_fragment:
        proto = view.u8(iph + 9)
        if proto == TCP:
            hl = (view.u8(view.head + off + 12) >> 4) << 2
            off += hl if view.transport_length >= 13 and hl >= 20 else 20
        elif proto in (UDP, 136):
            off += 8
    return off, (view.ip_len - (off - nh)) & 0xFFFFFFFF


def _payload_len(view: PacketView) -> int:
    length = _payload_place(view)[1]
    if view.iph is None or view.force_extra_length:
        length += view.extra
    return length & 0xFFFFFFFF


def _payload(view: PacketView) -> bytes | None:
    off, length = _payload_place(view)
    if length and off & 0xFFFFFFFF >= len(view.packet):
        return None
    if (off + length) & 0xFFFFFFFF > view.length:
        length = (view.length - off) & 0xFFFFFFFF
    start = view.head + off
    return view.chunk(start, min(start + length, view.end))


def _md5(view: PacketView) -> bytes | None:
    payload = _payload(view)
    return None if payload is None else hashlib.md5(payload, usedforsecurity=False).digest()


EMPTY_MD5 = hashlib.md5(b"", usedforsecurity=False).digest()


def md5_text(digest: bytes) -> str:
    """Click's 22-character form of an MD5 digest: six bits a character,
    from the low bits of the first byte up."""
    number = int.from_bytes(digest, "little")
    return "".join(_MD5_TEXT[(number >> bit) & 63] for bit in range(0, 128, 6))


# --- link

def _ether(offset: int, size: int) -> Extract:
    def extract(view: PacketView) -> bytes | None:
        packet = view.packet
        mac, nh = packet.mac_header_offset, packet.network_header_offset
        if mac is None:
            mac = 0 if nh is None or nh > 0 else None
        network = len(packet) if nh is None else nh
        if mac is None or mac + 14 != network:
            return view.missing(NEED_ETHER, 0)
        return view.chunk(view.head + mac + offset, view.head + mac + offset + size)
    return extract


def _ether_text(value: bytes) -> str:
    return "-".join(f"{b:02X}" for b in value)


def _fields() -> list[Field]:
    def ip(name: str, extract: Extract, binary: Callable[[Any], bytes], size: int,
           text: Callable[[Any], str] = str) -> Field:
        return Field(name, extract, text, binary, size)

    def ether(name: str, offset: int, size: int, text: Callable[[bytes], str],
              binary: Callable[[Any], bytes]) -> Field:
        return Field(name, _ether(offset, size), text, binary, size, needs_ip=False)

    return _anno_fields() + [
        ip("ip_src", _ip_address(12), _raw, 4, _address_text),
        ip("ip_dst", _ip_address(16), _raw, 4, _address_text),
        ip("ip_tos", _ip_header(1, 1, 2), U8, 1),
        ip("ip_dscp", _mapped(_ip_header(1, 1, 2), lambda tos: tos >> 2), U8, 1),
        ip("ip_ecn", _mapped(_ip_header(1, 1, 2), lambda tos: tos & 3), U8, 1,
           ECN_NAMES.__getitem__),
        ip("ip_ttl", _ip_header(8, 1, 9), U8, 1),
        ip("ip_frag", _frag, U8, 1, chr),
        ip("ip_fragoff", _ip_header(6, 2, 8), U16, 2, _fragoff_text),
        ip("ip_id", _ip_header(4, 2, 6), U16, 2),
        ip("ip_sum", _ip_header(10, 2, 12), U16, 2),
        ip("ip_proto", _ip_header(9, 1, 10), U8, 1, _proto_text),
        ip("ip_hl", _mapped(_ip_header(0, 1, 1), lambda first: (first & 15) << 2), U8, 1),
        ip("ip_len", _ip_len, U32, 4),
        ip("ip_capture_len", _ip_capture_len, U32, 4),
        Field("ip_opt", _ip_options, _ip_options_text, _options_binary),
        ip("sport", _port(0), U16, 2),
        ip("dport", _port(2), U16, 2),
        ip("tcp_seq", _transport(TCP, 4, 4, 8), U32, 4),
        ip("tcp_ack", _transport(TCP, 8, 4, 12), U32, 4),
        ip("tcp_off", _tcp_off, U8, 1),
        ip("tcp_flags", _tcp_flags, lambda flags: U8(flags & 0xFF), 1, _tcp_flags_text),
        ip("tcp_window", _transport(TCP, 14, 2, 16), U16, 2),
        ip("tcp_urp", _transport(TCP, 18, 2, 20), U16, 2),
        _tcp_options_field("tcp_opt", False, TCPOPT_ALL),
        _tcp_options_field("tcp_ntopt", True, TCPOPT_NOT_TIMESTAMP),
        _tcp_options_field("tcp_sack", True, TCPOPT_SACK),
        ip("udp_len", _transport(UDP, 4, 2, 6), U32, 4),
        ip("icmp_type", _transport(ICMP, 0, 1, 1), U8, 1),
        ip("icmp_code", _transport(ICMP, 1, 1, 2), U8, 1),
        ip("icmp_type_name", _transport(ICMP, 0, 1, 1), U8, 1,
           lambda kind: ICMP_TYPE_NAMES.get(kind, str(kind))),
        ip("icmp_code_name", _icmp_code_name, lambda value: U8(value[1]), 1,
           _icmp_code_name_text),
        ip("icmp_flowid", _icmp_flow(4), U16, 2),
        ip("icmp_seq", _icmp_flow(6), U16, 2),
        ip("icmp_nextmtu", _icmp_nextmtu, U16, 2),
        ip("payload_len", _payload_len, U32, 4),
        Field("payload", _payload, click_quote),
        # Click writes the digest of no bytes for a payload beyond the capture.
        Field("payload_md5", _md5, md5_text, _raw, 16, absent=EMPTY_MD5),
        Field("payload_md5_hex", _md5, bytes.hex, _raw, 16, absent=EMPTY_MD5),
        ether("eth_src", 6, 6, _ether_text, _raw),
        ether("eth_dst", 0, 6, _ether_text, _raw),
        ether("eth_type", 12, 2, lambda value: f"{int.from_bytes(value, 'big'):04X}", _raw),
    ]


#: Every field by name.
FIELDS: Mapping[str, Field] = MappingProxyType({field.name: field for field in _fields()})
#: Other names Click accepts for fields (a synonym may name another synonym).
SYNONYMS: Mapping[str, str] = MappingProxyType({
    "utimestamp": "timestamp", "ts": "utimestamp", "sec": "ts_sec", "usec": "ts_usec",
    "usec1": "ts_usec1", "first_utimestamp": "first_timestamp", "first_ts": "first_utimestamp",
    "pkt_count": "count", "packet_count": "count", "agg": "aggregate",
    "wire_length": "wire_len", "length": "ip_len", "ip_p": "ip_proto", "tcp_seqno": "tcp_seq",
    "tcp_ackno": "tcp_ack", "tcp_win": "tcp_window", "payload_length": "payload_len",
    "ether_src": "eth_src", "ether_dst": "eth_dst", "ether_type": "eth_type"})


def find_field(name: str) -> Field | None:
    """The field called ``name``, as Click finds it: a synonym, or the name
    itself; failing both, the name with its first space made an underscore
    (so 'tcp seq' is tcp_seq), or, without any underscore, with 'ip_' in
    front ('src' is ip_src)."""
    while name in SYNONYMS:
        name = SYNONYMS[name]
    if name in FIELDS:
        return FIELDS[name]
    if " " in name:
        return find_field(name.replace(" ", "_", 1))
    if "_" not in name:
        return find_field("ip_" + name)
    return None
