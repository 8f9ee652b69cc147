"""The fields of Click's IP summary dumps read back: how each is parsed and put into a packet."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping

from pyclick.classify.ippatterns import ICMP_CODES, ICMP_TYPES, PROTOCOLS
from pyclick.elements.inet import ETHERADDR, IPADDR, checksum, transport_checksum
from pyclick.elements.ipsumfields import FIELDS, ICMP_WITH_FLOW, PORT_PROTOCOLS, \
    TCP_FLAG_LETTERS, find_field
from pyclick.lang.configstr import unquote

TCP, UDP, ICMP, UDPLITE, DCCP = 6, 17, 1, 136, 33
IP_DF, IP_MF, IP_OFFMASK = 0x4000, 0x2000, 0x1FFF
#: Headroom of a packet being built, as Click's: room for an Ethernet header.
HEADROOM = 16
#: The dump format version FromIPSummaryDump expects (1.3); 1.0 gave fragment offsets in 8-byte units.
MINOR_VERSION = 3
#: Where each field's value goes in, relative to the others (Click's order: annotations,
#: link, IP, transport, payload; a header's size before what it holds).
ORDER_ANNO, ORDER_LINK, ORDER_NET, ORDER_TRANSP, ORDER_PAYLOAD = 100, 200, 300, 400, 500

_NUMBER = re.compile(r"[+]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\Z")
# Either part may be empty (".5", "3."), not both.
_TIME = re.compile(r"(?=\.?[0-9])([0-9]*)(?:\.([0-9]*))?\Z")


def parse_number(text: str, limit: int = 0xFFFFFFFF) -> int | None:
    """An unsigned number as Click reads one (decimal, 0x hex, 0 octal), None
    unless it is one no greater than ``limit``."""
    match = _NUMBER.match(text)
    if not match:
        return None
    digits = match.group(1)
    value = int(digits, 16 if digits[:2].lower() == "0x" else 8 if digits[0] == "0" else 10)
    return value if value <= limit else None


def scan_number(text: str, at: int, base: int = 0) -> tuple[int | None, int]:
    """The digits at ``at`` (``base`` 0: 0x for hex): their value (None when
    there are none) and where they end."""
    if base == 0 and text[at:at + 2].lower() == "0x" and at + 2 < len(text) \
            and text[at + 2] in "0123456789abcdefABCDEF":
        at, base = at + 2, 16
    digits = "0123456789abcdef"[:base or 10]
    end = at
    while end < len(text) and text[end].lower() in digits:
        end += 1
    return (int(text[at:end], base or 10) if end > at else None), end


class PacketMaker:
    """A packet built from a summary line, as Click builds it: its buffer
    (positions are absolute, the data from ``head`` to ``tail``), the MAC,
    network and transport header positions, and the annotations the fields set."""

    def __init__(self, default_proto: int, flowid: bool, minor_version: int) -> None:
        self.buf = bytearray(HEADROOM)
        self.head = self.tail = HEADROOM
        self.mac: int | None = None
        self.nh: int | None = None
        self.th: int | None = None
        self.is_ip = True
        self.have_icmp_type = self.have_icmp_code = False
        self.have_ip_hl = self.have_tcp_hl = False
        self.default_proto = default_proto
        #: Click gives a '!flowid' line's packets a flow of zero addresses and ports.
        self.flowid = flowid
        self.minor_version = minor_version
        #: The length the packet had on the wire (0: unknown).
        self.want_len = 0
        self.ts_sec = self.ts_nsec = 0
        self.first_ns = 0
        self.extra_packets = self.paint = self.aggregate = 0

    # --- the buffer; the bytes beyond the data (tailroom) keep what was written there
    def _room(self, end: int) -> None:
        if len(self.buf) < end:
            self.buf.extend(bytes(end - len(self.buf)))

    def get(self, at: int, size: int) -> int:
        self._room(at + size)
        return int.from_bytes(self.buf[at:at + size], "big")

    def set(self, at: int, size: int, value: int) -> None:
        self._room(at + size)
        self.buf[at:at + size] = (value & ((1 << 8 * size) - 1)).to_bytes(size, "big")

    def write(self, at: int, data: bytes) -> None:
        self._room(at + len(data))
        self.buf[at:at + len(data)] = data

    def put(self, n: int) -> None:
        self.tail += n
        self._room(self.tail)

    def take(self, n: int) -> None:
        self.tail -= n

    @property
    def length(self) -> int:
        return self.tail - self.head

    @property
    def network_length(self) -> int:
        assert self.nh is not None
        return self.tail - self.nh

    @property
    def transport_length(self) -> int:
        assert self.th is not None
        return self.tail - self.th

    @property
    def ip_proto(self) -> int:
        assert self.nh is not None
        return self.get(self.nh + 9, 1)

    @property
    def first_fragment(self) -> bool:
        assert self.nh is not None
        return self.get(self.nh + 6, 2) & IP_OFFMASK == 0

    # --- headers made as the fields need them
    def make_ip(self, proto: int = 0) -> bool:
        """Whether there is an IP header (made when missing), of protocol
        ``proto`` or of none yet (0 for any)."""
        if self.nh is None or not self.is_ip or self.network_length < 20:
            if not self._make_ip():
                return False
        return not proto or not self.ip_proto or self.ip_proto == proto

    def _make_ip(self) -> bool:
        if not self.is_ip:
            return False
        if self.nh is None:
            self.nh = self.th = self.head
        if self.network_length < 20:
            self.put(20 - self.network_length)
            self.th = self.nh + 20
            nh = self.nh
            self.set(nh, 1, 0x45)
            self.set(nh + 9, 1, self.default_proto)
            self.set(nh + 2, 2, 0)
            self.set(nh + 6, 2, 0)
            self.set(nh + 8, 1, 100)
            if self.flowid:
                self.write(nh + 12, bytes(8))
        return True

    def make_transport(self) -> bool:
        """Whether the IP packet's transport header (made when shorter than 8
        bytes) can be written: not in a later fragment."""
        if not self.first_fragment:
            return False
        assert self.th is not None
        if self.transport_length >= 8:
            return True
        size = {TCP: 20, UDP: 8, UDPLITE: 8, DCCP: 12, ICMP: 8}.get(self.ip_proto)
        if size is None:
            return True
        offset = self.th - self.head
        if 0 < self.want_len < offset + size:
            size = self.want_len - offset
        if self.transport_length < size:
            room = max(size, 4)
            self.put(room - self.transport_length)
            if self.ip_proto == TCP and size >= 13:
                self.set_nibble(self.th + 12, True, 5)
            if self.flowid:
                self.set(self.th, 4, 0)
            self.take(room - size)
        return True

    def grow_transport(self, size: int) -> None:
        """Make the transport header at least ``size`` bytes long."""
        if self.transport_length < size:
            self.put(size - self.transport_length)

    def set_nibble(self, at: int, high: bool, value: int) -> None:
        """Set one half of the byte at ``at`` (a header length, a version)."""
        byte = self.get(at, 1)
        self.set(at, 1, byte & 15 | (value & 15) << 4 if high else byte & 0xF0 | value & 15)

    # --- the packet's lengths and checksums, once every field is in
    def finish(self, checksums: bool) -> None:
        """What Click does after the fields: the IP length (from the wire
        length when no field gave one), the UDP length, the checksums."""
        if self.flowid:
            self.make_ip()
        if not (self.is_ip and self.nh is not None):
            return
        self.make_transport()
        nh, th = self.nh, self.th
        assert th is not None
        ip_len = self.get(nh + 2, 2)
        if not ip_len:
            ip_len = self.want_len
            if ip_len >= nh - self.head:
                ip_len -= nh - self.head
            if ip_len > 0xFFFF:
                ip_len = 0xFFFF
            elif ip_len == 0:
                ip_len = self.network_length
            self.set(nh + 2, 2, ip_len)
        if self.ip_proto == UDP and self.first_fragment and not self.get(th + 4, 2):
            self.set(th + 4, 2, ip_len - (th - nh))
        if checksums:
            if ip_len > self.network_length:
                more = ip_len - self.network_length
                self.put(more)
                self.write(self.tail - more, bytes(more))
            self._checksums()

    def _checksums(self) -> None:
        nh, th = self.nh, self.th
        assert nh is not None and th is not None
        hl = (self.get(nh, 1) & 15) << 2
        self.set(nh + 10, 2, 0)
        self.set(nh + 10, 2, checksum(self.buf[nh:nh + hl]))
        if self.get(nh + 6, 2) & (IP_MF | IP_OFFMASK):
            return
        at = {TCP: 16, UDP: 6, ICMP: 2}.get(self.ip_proto)
        if at is None:
            return
        self.set(th + at, 2, 0)
        segment = self.buf[th:self.tail]
        if self.ip_proto == ICMP:
            self.set(th + at, 2, checksum(segment))
        else:
            src, dst = bytes(self.buf[nh + 12:nh + 16]), bytes(self.buf[nh + 16:nh + 20])
            self.set(th + at, 2, transport_checksum(src, dst, self.ip_proto, segment))

    def data(self) -> bytes:
        return bytes(self.buf[self.head:self.tail])


Parse = Callable[[str, PacketMaker], Any]
Inject = Callable[[PacketMaker, Any], None]


@dataclass(frozen=True)
class Reader:
    """How a field is read back: ``parse`` its text (None when it is not a
    value), ``unpack`` its binary form (the Field's size of bytes; None:
    the number they hold), ``inject`` the value into the packet, after the
    fields of lower ``order``."""

    order: int
    parse: Parse
    inject: Inject
    unpack: Callable[[bytes], Any] | None = None


def _number(limit: int) -> Parse:
    return lambda text, maker: parse_number(text, limit)


U8, U16, U32, U64 = _number(0xFF), _number(0xFFFF), _number(0xFFFFFFFF), _number(2**64 - 1)


# --- annotations

def _parse_time(text: str, maker: PacketMaker) -> tuple[int, int] | None:
    match = _TIME.match(text)
    if not match:
        return None
    fraction = (match.group(2) or "")[:9].ljust(9, "0")
    return int(match.group(1) or "0") & 0xFFFFFFFF, int(fraction)


def _usec_time(data: bytes) -> tuple[int, int]:
    sec, usec = struct.unpack(">II", data)
    return sec, usec * 1000 & 0xFFFFFFFF


def _nsec_time(data: bytes) -> tuple[int, int]:
    nsec, sec = struct.unpack(">II", data)
    return sec, nsec


def _set_time(maker: PacketMaker, value: tuple[int, int]) -> None:
    sec, nsec = value
    maker.ts_sec, maker.ts_nsec = sec + nsec // 1_000_000_000, nsec % 1_000_000_000


def _set_first_time(maker: PacketMaker, value: tuple[int, int]) -> None:
    maker.first_ns = value[0] * 1_000_000_000 + value[1]


def _set_usec1(maker: PacketMaker, value: int) -> None:
    maker.ts_sec, maker.ts_nsec = value // 1_000_000 & 0xFFFFFFFF, value % 1_000_000 * 1000


def _set_usec(maker: PacketMaker, value: int) -> None:
    _set_time(maker, (maker.ts_sec, value * 1000))


def _parse_direction(text: str, maker: PacketMaker) -> int | None:
    return {">": 0, "<": 1}.get(text, parse_number(text))


def _set_attribute(name: str, mask: int = 0xFFFFFFFF) -> Inject:
    def inject(maker: PacketMaker, value: int) -> None:
        setattr(maker, name, value & mask)
    return inject


def _set_count(maker: PacketMaker, value: int) -> None:
    maker.extra_packets = value - 1 if value else 0


def _anno_readers() -> dict[str, Reader]:
    time_reader = Reader(ORDER_ANNO, _parse_time, _set_time, _usec_time)
    first_time_reader = Reader(ORDER_ANNO, _parse_time, _set_first_time, _usec_time)
    paint = Reader(ORDER_ANNO, _parse_direction, _set_attribute("paint", 0xFF))
    return {
        "timestamp": time_reader,
        "ntimestamp": Reader(ORDER_ANNO, _parse_time, _set_time, _nsec_time),
        "ts_sec": Reader(ORDER_ANNO, U32, _set_attribute("ts_sec")),
        "ts_usec": Reader(ORDER_ANNO, U32, _set_usec),
        "ts_usec1": Reader(ORDER_ANNO, U64, _set_usec1),
        "first_timestamp": first_time_reader,
        "first_ntimestamp": Reader(ORDER_ANNO, _parse_time, _set_first_time, _nsec_time),
        "count": Reader(ORDER_ANNO, U32, _set_count),
        "link": paint,
        "paint": paint,
        "direction": paint,
        "aggregate": Reader(ORDER_ANNO, U32, _set_attribute("aggregate")),
        "wire_len": Reader(ORDER_ANNO, U32, _set_attribute("want_len")),
    }


# --- link

def _link_inject(offset: int) -> Inject:
    def inject(maker: PacketMaker, value: bytes) -> None:
        if maker.mac is None:
            maker.head -= 14
            maker.mac, maker.nh = maker.head, maker.head + 14
            maker.th = maker.nh
            maker.set(maker.mac + 12, 2, 0x0800)
        maker.write(maker.mac + offset, value)
        if offset == 12 and int.from_bytes(value, "big") not in (0x0800, 0x86DD):
            maker.is_ip = False
    return inject


def _parse_ether(text: str, maker: PacketMaker) -> bytes | None:
    try:
        return ETHERADDR(text)
    except ValueError:
        return None


def _parse_ethertype(text: str, maker: PacketMaker) -> bytes | None:
    if not re.fullmatch(r"[0-9a-fA-F]+", text) or int(text, 16) > 0xFFFF:
        return None
    return int(text, 16).to_bytes(2, "big")


# --- IP

def _ip_inject(offset: int, size: int) -> Inject:
    """Set the ``size``-byte number at ``offset`` of the IP header."""
    def inject(maker: PacketMaker, value: int) -> None:
        if maker.make_ip():
            assert maker.nh is not None
            maker.set(maker.nh + offset, size, value)
    return inject


def _tos_part(mask: int, shift: int) -> Inject:
    """Set the bits ``mask`` of the TOS byte to ``value << shift``."""
    def inject(maker: PacketMaker, value: int) -> None:
        if maker.make_ip():
            assert maker.nh is not None
            tos = maker.get(maker.nh + 1, 1)
            maker.set(maker.nh + 1, 1, tos & ~mask | (value << shift) & mask)
    return inject


def _parse_address(text: str, maker: PacketMaker) -> int | None:
    try:
        return int.from_bytes(IPADDR(text), "big")
    except ValueError:
        return None


def _parse_ecn(text: str, maker: PacketMaker) -> int | None:
    if len(text) == 1 and "0" <= text <= "3":
        return int(text)
    return {"no": 0, "-": 0, "ect1": 1, "ECT(1)": 1, "ect2": 2, "ECT(0)": 2, "ce": 3,
            "CE": 3}.get(text)


def _parse_frag(text: str, maker: PacketMaker) -> int | None:
    single = {".": 0, "!": IP_DF, "F": IP_MF, "f": 100}.get(text)
    if single is not None:
        return single
    value, at = scan_number(text, 0)
    value = value or 0
    if maker.minor_version > 0:
        value >>= 3
    for letter in text[at:]:
        if letter not in "!+":
            return None
        value |= IP_DF if letter == "!" else IP_MF
    return value if text else None


def _parse_proto(text: str, maker: PacketMaker) -> int | None:
    return {"T": TCP, "U": UDP, "I": ICMP}.get(text, parse_number(text, 0xFF))


def _set_ip_hl(maker: PacketMaker, value: int) -> None:
    if not maker.make_ip():
        return
    nh = maker.nh
    assert nh is not None
    maker.have_ip_hl = True
    value = (value + 3) & ~3
    hl = (maker.get(nh, 1) & 15) << 2
    if value > hl:
        more = value - hl
        maker.put(more)
        maker.th = nh + value
        maker.write(maker.th - more, bytes(more))
    maker.set_nibble(nh, False, value >> 2)


def _set_ip_opt(maker: PacketMaker, value: bytes) -> None:
    if not maker.make_ip():
        return
    nh = maker.nh
    assert nh is not None
    maker.have_ip_hl = True
    if not value:
        return
    hl = (20 + len(value) + 3) & ~3
    if maker.network_length < hl:
        maker.put(hl - maker.network_length)
    if hl > (maker.get(nh, 1) & 15) << 2:
        maker.th = nh + hl
        maker.set_nibble(nh, False, hl >> 2)
    # Click clears as many bytes after the options as the header has beyond
    # them (past the header's end, what follows is written later).
    maker.write(nh + 20, value + bytes(hl - len(value)))


def _set_ip_len(maker: PacketMaker, value: int) -> None:
    if maker.make_ip():
        assert maker.nh is not None
        maker.want_len = maker.nh - maker.head + value


def _ignore(maker: PacketMaker, value: Any) -> None:
    """ip_capture_len: read, but the packet holds what the other fields say."""
    maker.make_ip()


def _port_inject(offset: int) -> Inject:
    def inject(maker: PacketMaker, value: int) -> None:
        if not (maker.make_ip() and maker.make_transport()):
            return
        if maker.ip_proto and maker.ip_proto not in PORT_PROTOCOLS:
            return
        assert maker.th is not None
        maker.set(maker.th + offset, 2, value)
    return inject


def _counted(data: bytes) -> bytes:
    """A length byte and that many option bytes."""
    return data[1:1 + data[0]]


def _ip_readers() -> dict[str, Reader]:
    def ip(parse: Parse, offset: int, size: int, order: int = ORDER_NET) -> Reader:
        return Reader(order, parse, _ip_inject(offset, size))
    address = int.from_bytes
    return {
        "ip_src": Reader(ORDER_NET, _parse_address, _ip_inject(12, 4), address),
        "ip_dst": Reader(ORDER_NET, _parse_address, _ip_inject(16, 4), address),
        "ip_tos": ip(U8, 1, 1),
        "ip_dscp": Reader(ORDER_NET, U8, _tos_part(0xFC, 2)),
        "ip_ecn": Reader(ORDER_NET, _parse_ecn, _tos_part(3, 0)),
        "ip_ttl": ip(U8, 8, 1),
        "ip_frag": ip(_parse_frag, 6, 2, ORDER_NET - 2),
        "ip_fragoff": ip(_parse_frag, 6, 2, ORDER_NET - 1),
        "ip_id": ip(U16, 4, 2),
        "ip_sum": ip(U16, 10, 2, ORDER_NET + 2),
        "ip_proto": ip(_parse_proto, 9, 1),
        "ip_hl": Reader(ORDER_NET - 1, U8, _set_ip_hl),
        "ip_len": Reader(ORDER_NET + 1, U32, _set_ip_len),
        "ip_capture_len": Reader(ORDER_PAYLOAD + 2, U32, _ignore),
        "ip_opt": Reader(ORDER_NET, parse_ip_options, _set_ip_opt, _counted),
        "sport": Reader(ORDER_TRANSP, U16, _port_inject(0)),
        "dport": Reader(ORDER_TRANSP, U16, _port_inject(2)),
    }


# --- option text, as the writers write it

def _address_at(text: str, at: int) -> tuple[bytes, int] | None:
    """A dotted IP address at ``at`` and where it ends."""
    out = bytearray()
    for part in range(4):
        value, at = scan_number(text, at, 10)
        if value is None or value > 255:
            return None
        out.append(value)
        if part < 3:
            if at >= len(text) or text[at] != ".":
                return None
            at += 1
    return bytes(out), at


def _route_option(text: str, at: int, kind: int, out: bytearray) -> int | None:
    """A route option's '{A,B^C}+N' from ``at``: appended to ``out``; where it ends."""
    start = len(out)
    out += bytes((kind, 0, 0))
    pointer = -1
    while True:
        if at < len(text) and text[at] == "^" and pointer < 0:
            pointer, at = len(out) - start + 1, at + 1
        if at >= len(text) or not text[at].isdigit():
            break
        found = _address_at(text, at)
        if found is None:
            return None
        out += found[0]
        at = found[1]
        if at < len(text) and text[at] == ",":
            at += 1
    if at >= len(text) or text[at] != "}":
        return None
    out[start + 2] = (pointer if pointer >= 0 else len(out) - start + 1) & 0xFF
    if text[at + 1:at + 2] == "+" and text[at + 2:at + 3].isdigit():
        more, at = scan_number(text, at + 2)
        if more is not None and more < 64:
            out += bytes(more * 4)
    else:
        at += 1
    if len(out) - start > 255:
        return None
    out[start + 1] = len(out) - start
    return at


def _timestamp_option(text: str, at: int, out: bytearray) -> int | None:
    """An IP timestamp option ('ts{1,2}', 'ts.ip{1.0.0.1=5}', 'ts.preip{...}',
    'ts.N{...}', then '+N' and '++N') from ``at``; where it ends."""
    start = len(out)
    out += bytes((68, 0, 0, 0))
    flag = -1
    if text[at + 2] == ".":
        if text.startswith("ip{", at + 3):
            flag, at = 1, at + 6
        elif text.startswith("preip{", at + 3):
            flag, at = 3, at + 9
        else:
            flag_value, end = scan_number(text, at + 3)
            if flag_value is None or flag_value > 15 or text[end:end + 1] != "{":
                return None
            flag, at = flag_value, end + 1
    else:
        at += 3
    pointer = -1
    while True:
        if at < len(text) and text[at] == "^" and pointer < 0:
            pointer, at = len(out) - start + 1, at + 1
        if at >= len(text) or not (text[at].isdigit() or text[at] == "!"):
            break
        entry = at
        while True:
            if flag in (1, 3, -2):
                found = _address_at(text, at)
                if found is None:
                    return None
                out += found[0]
                at = found[1]
                if pointer >= 0 and flag == -2:
                    flag = 3
                if text[at:at + 1] == "=" and at + 1 < len(text):
                    if text[at + 1] == "?" and pointer >= 0:
                        out += bytes(4)
                        at += 2
                        break
                    if not (text[at + 1].isdigit() or text[at + 1] == "!"):
                        return None
                    at += 1
                elif pointer >= 0:
                    out += bytes(4)
                    break
                else:
                    return None
            top = 0
            if text[at:at + 1] == "!":
                top, at = 0x80000000, at + 1
            value, at = scan_number(text, at)
            if value is None:
                return None
            if text[at:at + 1] == "." and flag == -1:
                flag, at = -2, entry
                continue
            if flag == -1:
                flag = 0
            out += ((value | top) & 0xFFFFFFFF).to_bytes(4, "big")
            break
        if text[at:at + 1] == ",":
            at += 1
    if at < len(text):
        if text[at] != "}":
            return None
        at += 1
    if flag == -2:
        flag = 1
    out[start + 2] = (pointer if pointer >= 0 else len(out) - start + 1) & 0xFF
    if text[at:at + 1] == "+" and text[at + 1:at + 2].isdigit():
        more, at = scan_number(text, at + 1)
        if more is not None and more < 64:
            out += bytes(more * (8 if flag in (1, 3) else 4))
    overflow = 0
    if text[at:at + 2] == "++" and text[at + 2:at + 3].isdigit():
        value, at = scan_number(text, at + 2)
        if value is not None and value < 16:
            overflow = value
    out[start + 3] = (overflow << 4 | flag) & 0xFF
    if len(out) - start > 255:
        return None
    out[start + 1] = len(out) - start
    return at


def _generic_option(text: str, at: int, out: bytearray) -> int | None:
    """An option written by its number ('98', '98=1:2'); where it ends."""
    kind, at = scan_number(text, at)
    if kind is None or kind >= 256:
        return None
    out.append(kind)
    if text[at:at + 1] == "=" and text[at + 1:at + 2].isdigit():
        length_at = len(out)
        out.append(0)
        while True:
            value, at = scan_number(text, at + 1)
            if value is None or value >= 256:
                return None
            out.append(value)
            if not (text[at:at + 1] == ":" and text[at + 1:at + 2].isdigit()):
                break
        if len(out) > length_at + 254:
            return None
        out[length_at] = len(out) - length_at + 1
    return at


def _padding(text: str, at: int, out: bytearray) -> int | None:
    """'nop' or 'eol' (not followed by a comma); where it ends."""
    if text.startswith("nop", at):
        out.append(1)
        return at + 3
    if text.startswith("eol", at) and text[at + 3:at + 4] != ",":
        out.append(0)
        return at + 3
    return None


def _options_done(out: bytearray) -> bytes | None:
    """The options, NOP padding dropped from the front past 40 bytes; None if still too long."""
    while len(out) > 40 and out[0] == 1:
        del out[0]
    return None if len(out) > 40 else bytes(out)


def parse_ip_options(text: str, maker: PacketMaker | None = None) -> bytes | None:
    """IP options as the ip_opt field writes them: their bytes (none for
    '.'), None when they cannot be read."""
    if text in ("", "."):
        return b""
    out, at = bytearray(), 0
    while True:
        end: int | None
        if text.startswith("rr{", at) and at + 3 < len(text):
            end = _route_option(text, at + 3, 7, out)
        elif text.startswith(("ssrr{", "lsrr{"), at) and at + 5 < len(text):
            end = _route_option(text, at + 5, 137 if text[at] == "s" else 131, out)
        elif text.startswith(("ts{", "ts."), at) and at + 3 < len(text):
            end = _timestamp_option(text, at, out)
        elif at < len(text) and text[at].isdigit():
            end = _generic_option(text, at, out)
        else:
            end = _padding(text, at, out)
        if end is None:
            return None
        at = end
        if at >= len(text):
            return _options_done(out)
        if text[at] not in ",;":
            return None
        at += 1


#: TCP option groups a field reads: MSS, window scale, SACK, timestamp, others and padding.
_TCP_ALL, _TCP_NOT_TS, _TCP_SACK = "mwstop", "mwso", "s"


def parse_tcp_options(text: str, groups: str) -> bytes | None:
    """TCP options as the tcp_opt fields write them, those of ``groups``:
    their bytes (none for '.'), None when they cannot be read."""
    if text in ("", "."):
        return b""
    out, at = bytearray(), 0
    while True:
        end: int | None = None
        if text.startswith("mss", at) and at + 3 < len(text) and "m" in groups:
            value, end = scan_number(text, at + 3)
            if value is None or value > 0xFFFF:
                return None
            out += bytes((2, 4)) + value.to_bytes(2, "big")
        elif text.startswith("wscale", at) and at + 6 < len(text) and "w" in groups:
            value, end = scan_number(text, at + 6)
            if value is None or value > 255:
                return None
            out += bytes((3, 3, value))
        elif text.startswith("sackok", at) and "s" in groups:
            out += bytes((4, 2))
            end = at + 6
        elif text.startswith("sack", at) and at + 4 < len(text) and "s" in groups:
            end = _sack_blocks(text, at + 4, out)
        elif text.startswith("ts", at) and at + 2 < len(text) and "t" in groups:
            end = _tcp_timestamp(text, at, out)
        elif at < len(text) and text[at].isdigit() and "o" in groups:
            end = _generic_option(text, at, out)
        elif "p" in groups:
            end = _padding(text, at, out)
        if end is None:
            return None
        at = end
        if at >= len(text) or text[at].isspace():
            return _options_done(out)
        if text[at] not in ",;":
            return None
        at += 1


def _sack_blocks(text: str, at: int, out: bytearray) -> int | None:
    """SACK blocks 'L-R', adjacent ',sackL-R' ones joined in one option."""
    start = len(out)
    out += bytes((5, 0))
    while True:
        left, end = scan_number(text, at)
        if end >= len(text) or text[end] not in ":-":
            return None
        right, end = scan_number(text, end + 1)
        if left is None or right is None:
            return None
        out += (left & 0xFFFFFFFF).to_bytes(4, "big") + (right & 0xFFFFFFFF).to_bytes(4, "big")
        at = end
        if not (text.startswith(",sack", at) and at + 5 < len(text)):
            break
        at += 5
    out[start + 1] = (len(out) - start) & 0xFF
    return at


def _tcp_timestamp(text: str, at: int, out: bytearray) -> int | None:
    value, end = scan_number(text, at + 2)
    if end >= len(text) or text[end] != ":":
        return None
    echo, end = scan_number(text, end + 1)
    if value is None or echo is None:
        return None
    if not out:
        out += bytes((1, 1))
    out += bytes((8, 10)) + (value & 0xFFFFFFFF).to_bytes(4, "big") \
        + (echo & 0xFFFFFFFF).to_bytes(4, "big")
    return end


# --- TCP, UDP, ICMP

def _tcp_inject(offset: int, size: int) -> Inject:
    def inject(maker: PacketMaker, value: int) -> None:
        if maker.make_ip(TCP) and maker.make_transport():
            assert maker.th is not None
            maker.set(maker.th + offset, size, value)
    return inject


def _set_tcp_flags(maker: PacketMaker, value: int) -> None:
    if maker.make_ip(TCP) and maker.make_transport():
        assert maker.th is not None
        maker.set(maker.th + 13, 1, value)
        maker.set_nibble(maker.th + 12, False, value >> 8)


def _set_tcp_off(maker: PacketMaker, value: int) -> None:
    if not (maker.make_ip(TCP) and maker.make_transport()):
        return
    th = maker.th
    assert th is not None
    value = (value + 3) & ~3
    off = (maker.get(th + 12, 1) >> 4) << 2
    if value > off:
        more = value - off
        maker.put(more)
        maker.write(th + value - more, bytes(more))
    maker.set_nibble(th + 12, True, value >> 2)


def _set_tcp_options(maker: PacketMaker, value: bytes) -> None:
    if not (maker.make_ip(TCP) and maker.make_transport()):
        return
    maker.have_tcp_hl = True
    if not value:
        return
    th = maker.th
    assert th is not None
    off = (20 + len(value) + 3) & ~3
    maker.grow_transport(off)
    if off > (maker.get(th + 12, 1) >> 4) << 2:
        maker.set_nibble(th + 12, True, off >> 2)
    maker.write(th + 20, value + bytes(off - len(value)))


def _parse_tcp_flags(text: str, maker: PacketMaker) -> int | None:
    if text == ".":
        return 0
    if not text:
        return None
    if text[0].isdigit():
        return parse_number(text, 0xFFF)
    flags = 0
    for letter in text:
        # 'W' and 'X' are older names of CWR and ECE ('C' and 'E').
        bit = TCP_FLAG_LETTERS.find({"W": "C", "X": "E"}.get(letter, letter))
        if bit < 0:
            return None
        flags |= 1 << bit
    return flags


def _tcp_options_reader(order: int, groups: str) -> Reader:
    def parse(text: str, maker: PacketMaker) -> bytes | None:
        return parse_tcp_options(text, groups)
    return Reader(order, parse, _set_tcp_options, _counted)


def _set_udp_len(maker: PacketMaker, value: int) -> None:
    if not (maker.make_ip() and maker.make_transport()):
        return
    if maker.ip_proto not in (0, UDP, UDPLITE):
        return
    maker.grow_transport(8)
    assert maker.th is not None
    maker.set(maker.th + 4, 2, value)


def _icmp_ready(maker: PacketMaker) -> bool:
    """Whether there is an ICMP header of 8 bytes (made when missing)."""
    if not (maker.make_ip(ICMP) and maker.make_transport()):
        return False
    maker.grow_transport(8)
    return True


def _set_icmp_type(maker: PacketMaker, value: int) -> None:
    if _icmp_ready(maker):
        assert maker.th is not None
        maker.set(maker.th, 1, value)
        maker.have_icmp_type = True
        # Timestamp requests and replies have a 20-byte header.
        maker.grow_transport(20 if value in (13, 14) else 8)


def _set_icmp_code(maker: PacketMaker, value: int) -> None:
    if _icmp_ready(maker):
        assert maker.th is not None
        maker.set(maker.th + 1, 1, value)
        maker.have_icmp_code = True


def _icmp_word(offset: int, applies: Callable[[PacketMaker], bool]) -> Inject:
    """Set the word at ``offset`` of the ICMP header, if ``applies`` to its type and code."""
    def inject(maker: PacketMaker, value: int) -> None:
        if _icmp_ready(maker) and applies(maker):
            assert maker.th is not None
            maker.set(maker.th + offset, 2, value)
    return inject


def _has_flow(maker: PacketMaker) -> bool:
    assert maker.th is not None
    return not maker.have_icmp_type or maker.get(maker.th, 1) in ICMP_WITH_FLOW


def _needs_frag(maker: PacketMaker) -> bool:
    assert maker.th is not None
    return ((not maker.have_icmp_type or maker.get(maker.th, 1) == 3)
            and (not maker.have_icmp_code or maker.get(maker.th + 1, 1) == 4))


def _parse_icmp_type(text: str, maker: PacketMaker) -> int | None:
    return ICMP_TYPES.get(text, parse_number(text, 0xFF))


def _parse_icmp_code(text: str, maker: PacketMaker) -> int | None:
    if maker.have_icmp_type:
        assert maker.th is not None
        code = ICMP_CODES.get(maker.get(maker.th, 1), {}).get(text)
        if code is not None:
            return code
    return parse_number(text, 0xFF)


def _tcp_readers() -> dict[str, Reader]:
    def tcp(parse: Parse, offset: int, size: int) -> Reader:
        return Reader(ORDER_TRANSP, parse, _tcp_inject(offset, size))
    icmp_type = Reader(ORDER_TRANSP, _parse_icmp_type, _set_icmp_type)
    icmp_code = Reader(ORDER_TRANSP + 1, _parse_icmp_code, _set_icmp_code)
    return {
        "tcp_seq": tcp(U32, 4, 4),
        "tcp_ack": tcp(U32, 8, 4),
        "tcp_off": Reader(ORDER_TRANSP - 1, U8, _set_tcp_off),
        "tcp_flags": Reader(ORDER_TRANSP, _parse_tcp_flags, _set_tcp_flags),
        "tcp_window": tcp(U16, 14, 2),
        "tcp_urp": tcp(U16, 18, 2),
        "tcp_opt": _tcp_options_reader(ORDER_TRANSP + 3, _TCP_ALL),
        "tcp_ntopt": _tcp_options_reader(ORDER_TRANSP + 2, _TCP_NOT_TS),
        "tcp_sack": _tcp_options_reader(ORDER_TRANSP + 1, _TCP_SACK),
        "udp_len": Reader(ORDER_TRANSP, U32, _set_udp_len),
        "icmp_type": icmp_type,
        "icmp_type_name": icmp_type,
        "icmp_code": icmp_code,
        "icmp_code_name": icmp_code,
        "icmp_flowid": Reader(ORDER_TRANSP + 2, U16, _icmp_word(4, _has_flow)),
        "icmp_seq": Reader(ORDER_TRANSP + 2, U16, _icmp_word(6, _has_flow)),
        "icmp_nextmtu": Reader(ORDER_TRANSP + 2, U16, _icmp_word(6, _needs_frag)),
    }


# --- payload

def _payload_place(maker: PacketMaker) -> int:
    """Where the payload starts, from the start of the data (Click's guess
    from the headers; 0 without IP)."""
    if not maker.is_ip or maker.nh is None:
        return 0
    assert maker.th is not None
    off = maker.th - maker.head
    if maker.first_fragment:
        proto = maker.ip_proto
        if proto == TCP:
            hl = (maker.get(maker.th + 12, 1) >> 4) << 2
            off += hl if maker.transport_length >= 13 and hl >= 20 else 20
        elif proto in (UDP, UDPLITE):
            off += 8
    return off


def _account_payload(maker: PacketMaker, off: int, length: int) -> None:
    """Set the wire length from a payload ``length`` at ``off``; when the IP
    length says the headers are longer than they are, pad the TCP header
    (then the IP header) with options, as Click does."""
    nh = maker.nh
    if not maker.is_ip or nh is None or (not maker.get(nh + 2, 2) and not maker.want_len):
        maker.want_len = off + length
        return
    ip_len = (maker.get(nh + 2, 2) or maker.want_len) + nh - maker.head
    delta = ip_len - (off + length)
    th = maker.th
    assert th is not None
    if (delta > 0 and maker.first_fragment and maker.ip_proto == TCP and not maker.have_tcp_hl
            and maker.get(th + 12, 1) >> 4 == 5):
        grow = min(delta - (delta & 3), 40)
        _insert_padding(maker, th + 20, grow)
        maker.set_nibble(th + 12, True, (20 + grow) >> 2)
        delta -= grow
    if delta > 0 and not maker.have_ip_hl and maker.get(nh, 1) & 15 == 5:
        grow = min(delta - (delta & 3), 40)
        _insert_padding(maker, nh + 20, grow)
        maker.set_nibble(nh, False, (20 + grow) >> 2)
        maker.th = nh + 20 + grow


def _insert_padding(maker: PacketMaker, at: int, size: int) -> None:
    """``size`` zero bytes (end-of-list options) at ``at``, the bytes after moved on."""
    maker.put(size)
    moved = bytes(maker.buf[at:maker.tail - size])
    maker.write(at + size, moved)
    maker.write(at, bytes(size))


def _set_payload(maker: PacketMaker, value: bytes) -> None:
    if maker.make_ip():
        maker.make_transport()
    if not value:
        return
    off = _payload_place(maker)
    _account_payload(maker, off, len(value))
    if maker.length - off < len(value):
        maker.put(len(value) - (maker.length - off))
    maker.write(maker.head + off, value)


def _set_payload_len(maker: PacketMaker, value: int) -> None:
    if maker.make_ip():
        maker.make_transport()
    _account_payload(maker, _payload_place(maker), value)


def _parse_payload(text: str, maker: PacketMaker) -> bytes:
    return bytes(ord(char) & 0xFF for char in unquote(text))


def _readers() -> dict[str, Reader]:
    link = {name: Reader(ORDER_LINK, _parse_ether, _link_inject(offset), bytes)
            for name, offset in (("eth_src", 6), ("eth_dst", 0))}
    link["eth_type"] = Reader(ORDER_LINK, _parse_ethertype, _link_inject(12), bytes)
    return {
        **_anno_readers(), **link, **_ip_readers(), **_tcp_readers(),
        "payload_len": Reader(ORDER_PAYLOAD + 1, U32, _set_payload_len),
        "payload": Reader(ORDER_PAYLOAD, _parse_payload, _set_payload),
    }


#: The fields that can be read back, by the name of their Field in ``FIELDS``.
READERS: Mapping[str, Reader] = MappingProxyType(_readers())
assert READERS.keys() <= FIELDS.keys()


def binary_size(name: str) -> int | None:
    """How many bytes the field takes in a binary record (0: a length byte
    then the data; None: it has no binary form)."""
    field = FIELDS[name]
    return field.size if field.binary is not None else None


def find_reader(name: str) -> tuple[str, Reader | None] | None:
    """The field called ``name`` (Click's names and synonyms): its name and
    its reader (None: the field is not read back); None: no such field."""
    field = find_field(name)
    if field is None:
        return None
    return field.name, READERS.get(field.name)


def parse_protocol(word: str) -> int | None:
    """A protocol as '!proto' gives it: a name, a number below 256, or T, U, I."""
    found = PROTOCOLS.get(word.lower(), parse_number(word, 0xFF))
    return found if found is not None else {"T": TCP, "U": UDP, "I": ICMP}.get(word)
