"""IPReassembler: fragments put back together."""

from __future__ import annotations

import struct
from collections import OrderedDict
from dataclasses import dataclass, field

from pyclick.args import UNSIGNED, Args
from pyclick.element import PROCESSING_A_AH, Element, read_handler
from pyclick.elements.clickargs import ANNO2
from pyclick.elements.inet import checksum, ip_header_offset, reject, unparse_ip
from pyclick.packet import Packet
from pyclick.runtime.timers import Timer

#: Seconds an incomplete datagram waits for its missing fragments.
EXPIRY = 30.0
#: How often expired datagrams are looked for.
SWEEP_INTERVAL = 5.0
#: Bytes a datagram being reassembled costs besides its data.
OVERHEAD = 64


@dataclass
class _Datagram:
    """The fragments of one datagram received so far."""

    #: The fragment at offset 0, once it arrived: it gives the header and MAC header.
    first: Packet | None = None
    #: A fragment, for the header when the first is missing.
    any: Packet | None = None
    #: (start, bytes) of each fragment's data, in arrival order.
    pieces: list[tuple[int, bytes]] = field(default_factory=list)
    #: The datagram's data length, once the last fragment arrived.
    total: int | None = None
    largest: int = 0
    seen: float = 0.0
    size: int = OVERHEAD
    #: The order in which datagrams were first seen.
    number: int = 0

    def complete(self) -> bool:
        if self.total is None or self.first is None:
            return False
        covered = 0
        for start, data in sorted(self.pieces):
            if start > covered:
                return False
            covered = max(covered, start + len(data))
        return covered >= self.total

    def ranges(self) -> list[tuple[int, int]]:
        """The data received, as (start, end) ranges, touching ones joined."""
        joined: list[list[int]] = []
        for start, data in sorted(self.pieces):
            end = start + len(data)
            if joined and start <= joined[-1][1]:
                joined[-1][1] = max(joined[-1][1], end)
            else:
                joined.append([start, end])
        return [(start, end) for start, end in joined]

    def data(self) -> bytes:
        length = self.total if self.total is not None else \
            max(start + len(data) for start, data in self.pieces)
        out = bytearray(length)
        for start, data in self.pieces:
            out[start:start + len(data)] = data[:max(0, length - start)]
        return bytes(out)


class IPReassembler(Element):
    """IPReassembler(KEYWORDS) -- reassembles fragmented IP packets

    Description
    Expects IP packets (the network header annotation says where the header
    is; at the start of the packet when none is set). Packets that are not
    fragments leave by output 0 at once. Bad fragments are dropped: those
    whose data would end past 65535 or is empty, those shorter than their
    IP length, and those other than the last whose length is not a multiple
    of 8. Fragments are held, by source,
    destination, protocol and IP ID, until every byte of their datagram
    arrived; the datagram then leaves by output 0, with the header (and
    anything before it, such as a MAC header) and the annotations of the
    fragment at offset 0, its length, fragment field and checksum set,
    and the timestamp of the fragment that completed it.
    Overlapping fragments are taken in arrival order, later ones winning.

    A datagram still incomplete 30 seconds after its last fragment arrived
    is dropped; with two outputs, a packet holding its fragments at their
    offsets (zeros between) leaves by output 1 instead. When more than
    HIMEM bytes are held, the oldest datagrams are given up the same way
    until the memory held is below 3/4 HIMEM.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (incomplete datagrams)

    Keyword arguments
    HIMEM -- the most bytes held, at least 1024; default 256K (262144)
    MAX_MTU_ANNO -- a two-byte annotation set on reassembled packets to the largest fragment's IP length; default none

    Element handlers
    held (read) -- datagrams being reassembled
    memory (read) -- bytes held
    dump (read) -- fragments seen, datagrams reassembled, datagrams given up for
    memory, bad fragments; then one line per datagram held (ordered as Click's
    table holds them): its flow (ports 0 while the first fragment is missing),
    IP ID and the ranges of data received

    Example
    InfiniteSource(LENGTH 1400, LIMIT 3, STOP true) -> UDPIPEncap(1.0.0.1, 1, 2.0.0.2, 2)
        -> IPFragmenter(576) -> IPReassembler -> c :: Counter -> Discard;
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        self.himem = args.read("HIMEM", UNSIGNED.range(1024, 1 << 30), 256 * 1024)
        self.mtu_anno = args.read("MAX_MTU_ANNO", ANNO2)
        args.complete()
        self.datagrams: OrderedDict[tuple, _Datagram] = OrderedDict()
        self.memory = 0
        self.frags_seen = self.good = self.failed = self.bad = 0
        self._made = 0
        self._timer = Timer(self, self._sweep)

    def simple_action(self, packet: Packet) -> Packet | None:
        at = ip_header_offset(packet)
        data = packet.data
        if len(data) < at + 20:
            return packet
        ip = data[at:]
        (ip_len, ident, flags) = struct.unpack_from("!HHH", ip, 2)
        if not flags & 0x3FFF:
            return packet
        self.frags_seen += 1
        hlen = (ip[0] & 15) * 4
        start = (flags & 0x1FFF) * 8
        end = start + ip_len - hlen
        if end > 0xFFFF or end <= start or (end & 7 and flags & 0x2000) \
                or len(ip) < ip_len:
            self.bad += 1
            return None
        key = (ip[12:16], ip[16:20], ip[9], ident)
        datagram = self.datagrams.get(key)
        if datagram is None:
            self._made += 1
            datagram = self.datagrams[key] = _Datagram(number=self._made)
            self.memory += OVERHEAD
        self.datagrams.move_to_end(key)
        piece = ip[hlen:ip_len]
        datagram.pieces.append((start, piece))
        datagram.size += len(piece)
        self.memory += len(piece)
        datagram.largest = max(datagram.largest, ip_len)
        datagram.seen = self.router.now()
        datagram.any = datagram.any or packet
        if start == 0:
            datagram.first = packet
        if not flags & 0x2000:
            datagram.total = start + len(piece)
        if datagram.complete():
            del self.datagrams[key]
            self.memory -= datagram.size
            self.good += 1
            rebuilt = self._rebuilt(datagram, complete=True)
            # As in Click: the datagram is dated by the fragment that completed it.
            rebuilt.timestamp = packet.timestamp
            return rebuilt
        self._limit_memory()
        if self.datagrams and not self._timer.scheduled and \
                self.scheduling.scheduler is not None:
            self._timer.schedule_after(SWEEP_INTERVAL)
        return None

    def _rebuilt(self, datagram: _Datagram, complete: bool) -> Packet:
        source = datagram.first if datagram.first is not None else datagram.any
        assert source is not None
        at = ip_header_offset(source)
        data = source.data
        hlen = (data[at] & 15) * 4
        header = bytearray(data[at:at + hlen])
        body = datagram.data()
        header[2:4] = struct.pack("!H", hlen + len(body))
        header[6:8] = struct.pack("!H", struct.unpack_from("!H", header, 6)[0] & 0x4000)
        header[10:12] = b"\0\0"
        header[10:12] = struct.pack("!H", checksum(header))
        packet = source.clone()
        prefix = data[:at] if datagram.first is not None else b""
        packet.data = prefix + bytes(header) + body
        packet.set_network_header(len(prefix), hlen)
        if complete and self.mtu_anno is not None:
            packet.set_anno_u16(self.mtu_anno, datagram.largest)
        return packet

    def _give_up(self, key: tuple) -> None:
        datagram = self.datagrams.pop(key)
        self.memory -= datagram.size
        if self.noutputs > 1:
            reject(self, self._rebuilt(datagram, complete=False))

    def _limit_memory(self) -> None:
        if self.memory <= self.himem:
            return
        while self.datagrams and self.memory > self.himem * 3 // 4:
            self.failed += 1
            self._give_up(next(iter(self.datagrams)))

    def _sweep(self) -> None:
        now = self.router.now()
        for key in [k for k, d in self.datagrams.items() if now - d.seen >= EXPIRY]:
            self._give_up(key)
        if self.datagrams:
            self._timer.schedule_after(SWEEP_INTERVAL)

    @read_handler("held")
    def _read_held(self) -> str:
        return str(len(self.datagrams))

    @read_handler("memory")
    def _read_memory(self) -> str:
        return str(self.memory)

    @read_handler("dump")
    def _read_dump(self) -> str:
        lines = [f"frags seen total:    {self.frags_seen}",
                 f"good reassemblies:   {self.good}",
                 f"failed reassemblies: {self.failed}",
                 f"bad fragments seen:  {self.bad}",
                 "cached chunk data:"]
        # Click's table: 256 buckets by the high byte of the IP ID, the newest first in each.
        held = sorted(self.datagrams.items(), key=lambda kv: (kv[0][3] >> 8, -kv[1].number))
        for (src, dst, _, ident), datagram in held:
            sport = dport = 0
            if datagram.first is not None:
                at = ip_header_offset(datagram.first)
                data = datagram.first.data
                hlen = (data[at] & 15) * 4
                if len(data) >= at + hlen + 4:
                    sport, dport = struct.unpack_from("!HH", data, at + hlen)
            ranges = "".join(f" ({start},{end})" for start, end in datagram.ranges())
            lines.append(f" ({unparse_ip(src)}, {sport}, {unparse_ip(dst)}, {dport}) "
                         f"{ident}{ranges}")
        return "\n".join(lines) + "\n"
