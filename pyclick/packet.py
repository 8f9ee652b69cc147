"""Packets as they travel between elements: bytes with headroom, and Click's annotations.

A packet is a window ``[head, tail)`` on a buffer. Moving the window is
free: :meth:`Packet.pull` (what Strip does) and :meth:`Packet.push` when
there is headroom (Unstrip, or an encapsulation after a strip) only move
``head``; the bytes outside the window stay in the buffer, so pushing back
what was pulled restores it, as in Click.

Buffers are shared copy-on-write. A packet made from ``bytes`` and every
:meth:`Packet.clone` share their buffer; the first write
(:meth:`Packet.write`, :meth:`Packet.writable_data`, or a push that needs
more headroom) gives the writing packet a private ``bytearray`` with
:data:`DEFAULT_HEADROOM` bytes in front, the rest of Click's
``uniqueify``. Reading :attr:`Packet.data` never copies the buffer when the
window covers all of an immutable one (a packet fresh from a source).

Annotations:

- ``timestamp`` (seconds, the router's clock: ``router.to_epoch`` makes it
  the date a capture records or a print shows), ``rss_hash``, ``flow`` (the
  parsed 5-tuple, when known) and ``anno`` (a dict for Python-level
  annotations such as the flow state) are plain attributes;
- Click's annotation area, :data:`ANNO_SIZE` bytes, with Click's layout
  (:data:`ANNOTATIONS`): read and written with :meth:`anno_u8`,
  :meth:`set_anno_u8`, ``..._u16``, ``..._u32`` (host byte order, as Click)
  and through the properties :attr:`paint`, :attr:`dst_ip` (4 bytes,
  network order), :attr:`vlan_tci`, :attr:`aggregate`, :attr:`extra_length`,
  :attr:`first_timestamp`;
- ``packet_type`` (Click's packet type annotation, :data:`HOST` ...);
- header offsets: :meth:`set_mac_header`, :meth:`set_network_header`
  (CheckIPHeader, MarkIPHeader) and :meth:`set_network_header_length`,
  read back as offsets from the start of the data (negative once the
  header was pulled off), or None when not set.

Construction stays what it was: ``Packet(data, timestamp, rss_hash, flow,
anno)``, every argument optional; :meth:`Packet.make` builds a writable
packet with headroom, :func:`fresh_batch` many packets of the same bytes.

Batch loops. Elements that touch every packet of a batch (Strip, Counter,
CheckIPHeader, the classifiers) would spend most of their time in method
and property calls, so this module gives them whole-batch functions
(:func:`pull_batch`, :func:`push_batch`, :func:`batch_length`) and states
the layout their own per-packet loops may read and set directly, slot by
slot, keeping the invariants below:

- ``_buf``: the buffer; never written while ``_shared`` is true;
- ``_head``, ``_tail``: the data is ``_buf[_head:_tail]``,
  ``0 <= _head <= _tail <= len(_buf)``;
- ``_mac``, ``_nh``, ``_th``: absolute positions in ``_buf`` of the MAC,
  network and transport headers, -1 when not set;
- ``_annos``: Click's annotation area: None for all zeros; ``bytes`` of at
  most :data:`ANNO_SIZE` bytes, zeros after them (shared by clones, copied
  on the first write); or a private ``bytearray`` of :data:`ANNO_SIZE` bytes.
"""

from __future__ import annotations

import struct
import sys
from typing import Any

#: Headroom of a writable buffer (Click's default at user level).
DEFAULT_HEADROOM = 28
#: Bytes in Click's annotation area.
ANNO_SIZE = 48

#: Click's named annotations: name -> (offset, size) in the annotation area.
ANNOTATIONS: dict[str, tuple[int, int]] = {
    "DST_IP": (0, 4),
    "DST_IP6": (0, 16),
    "PAINT": (16, 1),
    "ICMP_PARAMPROB": (17, 1),
    "FIX_IP_SRC": (19, 1),
    "VLAN_TCI": (20, 2),
    "AGGREGATE": (20, 4),
    "FWD_RATE": (20, 4),
    "MISC_IP": (20, 4),
    "EXTRA_PACKETS": (24, 4),
    "REV_RATE": (24, 4),
    "SEND_ERR": (26, 1),
    "EXTRA_LENGTH": (28, 4),
    "FIRST_TIMESTAMP": (32, 8),
    "PACKET_NUMBER": (32, 4),
    "SEQUENCE_NUMBER": (36, 4),
}

# Click's packet types (the packet type annotation).
HOST = 0
BROADCAST = 1
MULTICAST = 2
OTHERHOST = 3
OUTGOING = 4
LOOPBACK = 5
FASTROUTE = 6

_ORDER = sys.byteorder
_DOUBLE = struct.Struct("=d")


class Packet:
    """A packet (see the module docstring)."""

    __slots__ = ("_buf", "_head", "_tail", "_shared", "_annos", "_mac", "_nh", "_th",
                 "_anno", "timestamp", "rss_hash", "flow", "packet_type")

    def __init__(self, data: bytes | bytearray | memoryview = b"", timestamp: float = 0.0,
                 rss_hash: int = 0, flow: tuple[Any, ...] | None = None,
                 anno: dict[str, Any] | None = None) -> None:
        buf = data if type(data) is bytes else bytes(data)
        self._buf: bytes | bytearray = buf
        self._head = 0
        self._tail = len(buf)
        #: The buffer may be seen by another packet: copy before writing.
        self._shared = True
        self._annos: bytes | bytearray | None = None
        self._mac = self._nh = self._th = -1
        self.timestamp = timestamp
        self.rss_hash = rss_hash
        self.flow = flow
        self._anno = anno
        self.packet_type = HOST

    @property
    def anno(self) -> dict[str, Any]:
        """Python-level annotations (the flow state...), a dict made on first use."""
        anno = self._anno
        if anno is None:
            anno = self._anno = {}
        return anno

    @anno.setter
    def anno(self, value: dict[str, Any]) -> None:
        self._anno = value

    @classmethod
    def make(cls, data: bytes | bytearray = b"", *, headroom: int = DEFAULT_HEADROOM,
             tailroom: int = 0, timestamp: float = 0.0) -> Packet:
        """A packet with a private, writable buffer and the given head- and tailroom."""
        packet = cls(b"", timestamp)
        buf = bytearray(headroom + len(data) + tailroom)
        buf[headroom:headroom + len(data)] = data
        packet._buf = buf
        packet._head = headroom
        packet._tail = headroom + len(data)
        packet._shared = False
        return packet

    # --- the data
    @property
    def data(self) -> bytes:
        """The packet's bytes (a copy unless the packet covers a whole immutable buffer)."""
        buf = self._buf
        if self._head == 0 and self._tail == len(buf) and type(buf) is bytes:
            return buf
        return bytes(memoryview(buf)[self._head:self._tail])

    @data.setter
    def data(self, value: bytes | bytearray) -> None:
        """Replace the contents; header offsets are cleared."""
        self._buf = bytes(value)
        self._head, self._tail, self._shared = 0, len(self._buf), True
        self._mac = self._nh = self._th = -1

    def __len__(self) -> int:
        return self._tail - self._head

    @property
    def length(self) -> int:
        """Bytes of data (Click's ``length()``)."""
        return self._tail - self._head

    @property
    def headroom(self) -> int:
        """Bytes available in front of the data without copying."""
        return self._head

    @property
    def tailroom(self) -> int:
        """Bytes available after the data without copying."""
        return len(self._buf) - self._tail

    @property
    def buffer(self) -> bytes | bytearray:
        """The whole buffer, for reading without a copy: the data is
        ``buffer[data_offset:data_offset + len(packet)]``. Never write into it."""
        return self._buf

    @property
    def data_offset(self) -> int:
        """Where the data starts in :attr:`buffer`."""
        return self._head

    def byte(self, offset: int) -> int:
        """The data byte at ``offset`` (no copy)."""
        if not 0 <= offset < self._tail - self._head:
            raise IndexError("packet byte offset out of range")
        return self._buf[self._head + offset]

    # --- moving the window (Click's pull, push, take, put)
    def pull(self, n: int) -> Packet:
        """Remove ``n`` bytes from the front (all of them if the packet is shorter)."""
        if n > 0:
            head = self._head + n
            self._head = head if head < self._tail else self._tail
        return self

    def push(self, n: int) -> Packet:
        """Add ``n`` bytes in front: the bytes pulled off before, if the buffer has
        them; otherwise the packet gets a new buffer, with zeros in front."""
        if 0 < n <= self._head:
            self._head -= n
        elif n > 0:
            self._reallocate(n, 0)
            self._head -= n
        return self

    def take(self, n: int) -> Packet:
        """Remove ``n`` bytes from the end (all of them if the packet is shorter)."""
        self._tail -= min(max(n, 0), self._tail - self._head)
        return self

    def put(self, n: int) -> Packet:
        """Add ``n`` zero bytes at the end."""
        if n <= 0:
            return self
        if self._shared or len(self._buf) - self._tail < n:
            self._reallocate(0, n)
        self._buf[self._tail:self._tail + n] = bytes(n)
        self._tail += n
        return self

    # --- writing
    def uniqueify(self) -> Packet:
        """Make the buffer private and writable (a copy when it is shared)."""
        if self._shared:
            self._reallocate(0, 0)
        return self

    def writable_data(self) -> memoryview:
        """A writable view of the data. Valid until the next push, put or uniqueify."""
        self.uniqueify()
        return memoryview(self._buf)[self._head:self._tail]

    def write(self, offset: int, value: bytes | bytearray) -> None:
        """Overwrite the data from ``offset`` (which must lie inside the packet)."""
        end = offset + len(value)
        if offset < 0 or end > self._tail - self._head:
            raise IndexError("write outside the packet")
        self.uniqueify()
        self._buf[self._head + offset:self._head + end] = value

    def _reallocate(self, front: int, back: int) -> None:
        """A private buffer with room for ``front`` more bytes in front and ``back``
        at the end; header offsets follow the data."""
        old = self._buf
        # The old buffer is kept whole (bytes pulled off stay restorable).
        shift = max(self._head, DEFAULT_HEADROOM + front) - self._head
        extra = max(0, back - (len(old) - self._tail))
        buf = bytearray(shift + len(old) + extra)
        buf[shift:shift + len(old)] = old
        self._buf, self._shared = buf, False
        self._head += shift
        self._tail += shift
        if self._mac >= 0:
            self._mac += shift
        if self._nh >= 0:
            self._nh += shift
        if self._th >= 0:
            self._th += shift

    # --- copies
    def clone(self) -> Packet:
        """A packet with the same data (shared until either writes) and annotations."""
        twin = Packet.__new__(Packet)
        twin._buf = self._buf
        twin._head, twin._tail = self._head, self._tail
        twin._shared = self._shared = True
        annos = self._annos
        twin._annos = annos if type(annos) is not bytearray else bytes(annos)
        twin._mac, twin._nh, twin._th = self._mac, self._nh, self._th
        twin.timestamp = self.timestamp
        twin.rss_hash = self.rss_hash
        twin.flow = self.flow
        twin._anno = dict(self._anno) if self._anno else None
        twin.packet_type = self.packet_type
        return twin

    def with_data(self, data: bytes | bytearray, headroom: int = DEFAULT_HEADROOM) -> Packet:
        """A packet with this one's annotations and ``data`` in a private buffer,
        ``headroom`` bytes free in front of it; no header offsets set."""
        shared = self._shared
        twin = self.clone()
        # The twin gets a buffer of its own: this packet's is no more shared than before.
        self._shared = shared
        buf = bytearray(headroom + len(data))
        buf[headroom:] = data
        twin._buf, twin._head, twin._tail, twin._shared = buf, headroom, len(buf), False
        twin._mac = twin._nh = twin._th = -1
        return twin

    # --- header offsets
    def set_mac_header(self, offset: int, length: int | None = 14) -> None:
        """The MAC header starts ``offset`` bytes into the data; the network header
        follows it, ``length`` bytes on (None: it stays where it is)."""
        self._mac = self._head + offset
        if length is not None:
            self._nh = self._mac + length

    def set_network_header(self, offset: int, length: int) -> None:
        """The network header starts at ``offset`` and is ``length`` bytes long; the
        transport header follows it."""
        self._nh = self._head + offset
        self._th = self._nh + length

    def set_network_header_length(self, length: int) -> None:
        """The network header is ``length`` bytes long (it must be set)."""
        if self._nh < 0:
            raise ValueError("no network header")
        self._th = self._nh + length

    def clear_headers(self) -> None:
        self._mac = self._nh = self._th = -1

    @property
    def mac_header_offset(self) -> int | None:
        return None if self._mac < 0 else self._mac - self._head

    @property
    def network_header_offset(self) -> int | None:
        return None if self._nh < 0 else self._nh - self._head

    @property
    def transport_header_offset(self) -> int | None:
        return None if self._th < 0 else self._th - self._head

    @property
    def network_header_length(self) -> int | None:
        return None if self._nh < 0 or self._th < 0 else self._th - self._nh

    def network_header(self) -> bytes:
        """The bytes of the network header (empty when it is not set)."""
        if self._nh < 0 or self._th < 0:
            return b""
        return bytes(memoryview(self._buf)[self._nh:self._th])

    # --- Click's annotation area
    def _area(self) -> bytearray:
        """The annotation area, private and writable."""
        area = self._annos
        if type(area) is not bytearray:
            area = bytearray(ANNO_SIZE) if area is None else bytearray(area.ljust(ANNO_SIZE, b"\0"))
            self._annos = area
        return area

    def anno_bytes(self, offset: int, size: int) -> bytes:
        area = self._annos
        if area is None:
            _check_anno(offset, size)
            return bytes(size)
        chunk = bytes(area[offset:offset + size])
        if len(chunk) < size:
            _check_anno(offset, size)
            chunk += bytes(size - len(chunk))
        return chunk

    def set_anno_bytes(self, offset: int, value: bytes) -> None:
        _check_anno(offset, len(value))
        self._area()[offset:offset + len(value)] = value

    def anno_u8(self, offset: int) -> int:
        if not 0 <= offset < ANNO_SIZE:
            _check_anno(offset, 1)
        area = self._annos
        return 0 if area is None or offset >= len(area) else area[offset]

    def set_anno_u8(self, offset: int, value: int) -> None:
        if not 0 <= offset < ANNO_SIZE:
            _check_anno(offset, 1)
        area = self._annos
        if area is None:
            area = self._annos = bytearray(ANNO_SIZE)
        elif type(area) is not bytearray:
            area = self._area()
        area[offset] = value & 0xFF

    def anno_u16(self, offset: int) -> int:
        return int.from_bytes(self.anno_bytes(offset, 2), _ORDER)

    def set_anno_u16(self, offset: int, value: int) -> None:
        self.set_anno_bytes(offset, (value & 0xFFFF).to_bytes(2, _ORDER))

    def anno_u32(self, offset: int) -> int:
        return int.from_bytes(self.anno_bytes(offset, 4), _ORDER)

    def set_anno_u32(self, offset: int, value: int) -> None:
        self.set_anno_bytes(offset, (value & 0xFFFFFFFF).to_bytes(4, _ORDER))

    def clear_annotations(self) -> None:
        """Zero Click's annotation area."""
        self._annos = None

    @property
    def paint(self) -> int:
        area = self._annos
        return 0 if area is None or len(area) <= 16 else area[16]

    @paint.setter
    def paint(self, value: int) -> None:
        area = self._annos
        if area is None:
            area = self._annos = bytearray(ANNO_SIZE)
        elif type(area) is not bytearray:
            area = self._area()
        area[16] = value & 0xFF

    @property
    def dst_ip(self) -> bytes:
        """The destination IP annotation: 4 bytes in network order."""
        return self.anno_bytes(0, 4)

    @dst_ip.setter
    def dst_ip(self, value: bytes) -> None:
        if len(value) != 4:
            raise ValueError("an IPv4 address is 4 bytes")
        self._area()[0:4] = value

    @property
    def vlan_tci(self) -> int:
        return self.anno_u16(20)

    @vlan_tci.setter
    def vlan_tci(self, value: int) -> None:
        self.set_anno_u16(20, value)

    @property
    def aggregate(self) -> int:
        return self.anno_u32(20)

    @aggregate.setter
    def aggregate(self, value: int) -> None:
        self.set_anno_u32(20, value)

    @property
    def extra_length(self) -> int:
        return self.anno_u32(28)

    @extra_length.setter
    def extra_length(self, value: int) -> None:
        self.set_anno_u32(28, value)

    @property
    def first_timestamp(self) -> float:
        return _DOUBLE.unpack(self.anno_bytes(32, 8))[0]

    @first_timestamp.setter
    def first_timestamp(self, value: float) -> None:
        self.set_anno_bytes(32, _DOUBLE.pack(value))

    def __repr__(self) -> str:
        return f"<Packet {len(self)} bytes>"


def fresh_batch(data: bytes, count: int, timestamp: float = 0.0) -> list[Packet]:
    """``count`` packets of ``data`` (shared copy-on-write), each as
    ``Packet(data, timestamp)`` makes it, without a call per packet."""
    new, cls, end = object.__new__, Packet, len(data)
    batch = []
    append = batch.append
    for _ in range(count):
        packet = new(cls)
        packet._buf = data
        packet._head = 0
        packet._tail = end
        packet._shared = True
        packet._annos = packet.flow = packet._anno = None
        packet._mac = packet._nh = packet._th = -1
        packet.timestamp = timestamp
        packet.rss_hash = packet.packet_type = 0
        append(packet)
    return batch


def pull_batch(batch: list[Packet], n: int) -> None:
    """:meth:`Packet.pull` of ``n`` bytes on every packet of ``batch``."""
    if n <= 0:
        return
    for packet in batch:
        head = packet._head + n
        tail = packet._tail
        packet._head = head if head < tail else tail


def push_batch(batch: list[Packet], n: int) -> None:
    """:meth:`Packet.push` of ``n`` bytes on every packet of ``batch``."""
    if n <= 0:
        return
    for packet in batch:
        if n <= packet._head:
            packet._head -= n
        else:
            packet.push(n)


def batch_length(batch: list[Packet]) -> int:
    """The bytes of data in all the packets of ``batch``."""
    return sum([packet._tail - packet._head for packet in batch])


def _check_anno(offset: int, size: int) -> None:
    if offset < 0 or offset + size > ANNO_SIZE:
        raise IndexError(f"annotation bytes {offset}..{offset + size} outside 0..{ANNO_SIZE}")
