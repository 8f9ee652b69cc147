"""ToIPFlowDumps: a summary file for each TCP or UDP flow, as AggregateIPFlows numbers them."""

from __future__ import annotations

import gzip
import os
import shutil
import struct
import sys
from typing import Iterator

from pyclick.args import BOOL, FILENAME, UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element, write_handler
from pyclick.elements.aggregatemisc import AGGREGATE_NOTIFIER, DELETE_AGG
from pyclick.elements.intervals import unparse_timestamp
from pyclick.elements.ipsumfields import TCP_BINARY_GROUPS, TCPOPT_ALL, TCPOPT_MSS, TCPOPT_SACK, \
    TCPOPT_WSCALE, filtered_options, split_time, tcp_option_words
from pyclick.packet import ANNOTATIONS, Packet
from pyclick.runtime.notifier import upstream_empty_signal
from pyclick.runtime.tasks import Task
from pyclick.runtime.timers import Timer

_AGGREGATE = ANNOTATIONS["AGGREGATE"][0]
_TCP, _UDP, _ICMP = 6, 17, 1
_MASK32 = 0xFFFFFFFF
#: Packets and notes a flow keeps before it appends them to its file.
_NPKT, _NNOTE = 128, 32
#: Which TCP options are written (Click's masks).
_MSS, _WSCALE, _SACK, _TIMESTAMP, _UNKNOWN = 2, 4, 8, 16, 32
_ALL_NOPAD = 0xFFFFFFFE
_OPT_GROUPS = {2: _MSS, 3: _WSCALE, 4: _SACK, 5: _SACK, 8: _TIMESTAMP}
_FIXED = {2: 4, 3: 3, 4: 2, 8: 10}
_GC_DELAY = 0.25


def _u32(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 4], "big")


def _flags_text(flags: int) -> str:
    if flags == 0x10:
        return "A"
    if flags == 0x18:
        return "PA"
    if flags == 0:
        return "."
    # Click writes the first seven flags only.
    return "".join(letter for bit, letter in enumerate("FSRPAUE") if flags >> bit & 1)


def _each_option(opt: bytes) -> Iterator[tuple[int, int, int]]:
    """Each option but NOP: its kind, where it starts and its length byte (0
    when missing), up to an end-of-list option."""
    at, end = 0, len(opt)
    while at < end and opt[at] != 0:
        size = opt[at + 1] if at + 1 < end and opt[at] != 1 else 0
        if opt[at] != 1:
            yield opt[at], at, size
        at += max(size, 1)


def _options_text(opt: bytes, mask: int) -> str:
    """The options kept for a packet, as Click's summary dumps write them."""
    parts: list[str] = []
    for kind, at, size in _each_option(opt):
        fixed = _FIXED.get(kind)
        if at + size > len(opt) or (fixed is not None and size != fixed) \
                or (kind == 5 and size % 8 != 2) or (fixed is None and kind != 5 and size < 2):
            return "?"
        if not mask & _OPT_GROUPS.get(kind, _UNKNOWN):
            continue
        parts += tcp_option_words(opt[at:at + size])
    return ";".join(parts) or "."


def _options_binary(opt: bytes, mask: int) -> bytes:
    """The options kept for a packet in binary form: a count, then the options."""
    which = TCPOPT_ALL if mask & _TIMESTAMP else TCPOPT_MSS | TCPOPT_WSCALE | TCPOPT_SACK
    kept = filtered_options(opt, which, TCP_BINARY_GROUPS, padding=False)
    return bytes((len(kept) & 255,)) + kept


class _Flow:
    """One flow's file and the packets and notes waiting to be appended to it."""

    def __init__(self, owner: ToIPFlowDumps, packet: Packet, ip: bytes, ip_at: int,
                 filename: str) -> None:
        self.owner = owner
        self.filename = filename
        self.aggregate = packet.anno_u32(_AGGREGATE)
        self.proto = ip[9]
        flow_ip, at = ip, ip_at
        if self.proto == _ICMP:
            # An ICMP error belongs to the flow of the header it carries.
            at = ip_at + ((ip[0] & 15) << 2) + 8
            flow_ip = packet.data[at:at + 20]
            self.proto = flow_ip[9]
        ports_at = at + ((flow_ip[0] & 15) << 2)
        ports = packet.data[ports_at:ports_at + 4].ljust(4, b"\0")
        ends = [(flow_ip[12:16], ports[0:2]), (flow_ip[16:20], ports[2:4])]
        if packet.paint & 1:
            ends.reverse()
        self.flowid = ends
        self.have_first_seq = [owner.absolute_seq, owner.absolute_seq]
        self.first_seq = [0, 0]
        self.first_time = 0 if owner.absolute_time else owner.nanoseconds(packet) - 1
        self.count = 0
        self.outputted = False
        #: Waiting: (nanoseconds, direction, ip_id, flags, seq, payload_len, ack, window, options)
        self.packets: list[tuple[int, int, bytes, int, int, int, int, bytes, bytes | None]] = []
        #: Waiting notes: (the number of packets before it, text)
        self.notes: list[tuple[int, str]] = []

    def add_packet(self, packet: Packet, ip_at: int) -> None:
        owner, data = self.owner, packet.data
        when = owner.nanoseconds(packet)
        if packet.paint >= 2:
            # An ICMP error is a note, counted as a packet.
            self.count = min(self.count + 1, _MASK32)
            self.add_note(f"{unparse_timestamp(when)} {'>' if packet.paint & 1 else '<'} "
                          "ICMP_error")
            return
        if len(self.packets) >= _NPKT:
            self.output()
        way = packet.paint & 1
        hl = (data[ip_at] & 15) << 2
        ip_len = int.from_bytes(data[ip_at + 2:ip_at + 4], "big")
        ip_id = data[ip_at + 4:ip_at + 6]
        flags = seq = ack = 0
        window = b""
        options = None
        th = ip_at + hl
        if self.proto == _TCP:
            seq, ack, flags = _u32(data, th + 4), _u32(data, th + 8), data[th + 13]
            off = data[th + 12] >> 4
            if not self.have_first_seq[way]:
                self.first_seq[way], self.have_first_seq[way] = seq, True
            if not flags & 0x10:
                ack = self.first_seq[1 - way]
            elif not self.have_first_seq[1 - way]:
                self.first_seq[1 - way], self.have_first_seq[1 - way] = ack, True
            seq = (seq - self.first_seq[way]) & _MASK32
            ack = (ack - self.first_seq[1 - way]) & _MASK32
            payload = (ip_len - hl - (off << 2)) & 0xFFFF
            # Click skips a padded timestamp alone unless it keeps timestamps.
            if owner.tcp_opt and off > 5 and (off != 8 or owner.tcp_opt & _TIMESTAMP
                                             or data[th + 20:th + 24] != b"\x01\x01\x08\x0a"):
                options = self._kept_options(data[th + 20:th + (off << 2)], way)
            window = data[th + 14:th + 16]
        else:
            payload = (ip_len - 8) & 0xFFFF
        self.packets.append((when - self.first_time, way, ip_id, flags, seq, payload, ack,
                             window, options))
        self.count = min(self.count + 1, _MASK32)

    def _kept_options(self, opt: bytes, way: int) -> bytes | None:
        """The MSS, window scale, SACK (blocks made relative) and, with
        ALL_TCP_OPT, timestamp options; None when there are none or one is malformed."""
        kept, end = bytearray(), len(opt)
        for kind, at, size in _each_option(opt):
            fixed = _FIXED.get(kind)
            if kind == 5:
                if size % 8 != 2 or at + size > end:
                    return None
                kept += opt[at:at + 2]
                other = 1 - way
                for block in range(at + 2, at + size, 8):
                    if not self.have_first_seq[other]:
                        self.first_seq[other] = _u32(opt, block)
                        self.have_first_seq[other] = True
                    for edge in (block, block + 4):
                        kept += ((_u32(opt, edge) - self.first_seq[other]) & _MASK32
                                 ).to_bytes(4, "big")
            elif fixed is not None:
                if size != fixed or at + size > end:
                    return None
                if kind != 8 or self.owner.tcp_opt & _TIMESTAMP:
                    kept += opt[at:at + size]
            elif size == 0 or at + size > end:
                return None
        return bytes(kept) if kept else None

    def add_note(self, text: str) -> None:
        if len(self.notes) >= _NNOTE:
            self.output()
        self.notes.append((len(self.packets), text))

    # --- the file
    def _banner(self) -> str:
        owner, tcp = self.owner, self.proto == _TCP
        (src, sport), (dst, dport) = self.flowid
        lines = ["!IPSummaryDump 1.3",
                 f"!flowid {'.'.join(map(str, src))} {int.from_bytes(sport, 'big')} "
                 f"{'.'.join(map(str, dst))} {int.from_bytes(dport, 'big')} {'T' if tcp else 'U'}",
                 f"!aggregate {self.aggregate}"]
        opt_field = "tcp_opt" if owner.tcp_opt & _TIMESTAMP else "tcp_ntopt"
        if owner.binary:
            fields = ["tcp_seq payload_len tcp_ack" if tcp else "payload_len"]
            fields += ["ip_id"] * owner.ip_id + ["tcp_window"] * (owner.tcp_window and tcp)
            fields += ["tcp_flags direction", opt_field] if tcp else ["direction"]
        else:
            fields = ["direction"] + ["ip_id"] * owner.ip_id
            fields += ["tcp_flags tcp_seq payload_len tcp_ack", opt_field] if tcp \
                else ["payload_len"]
        lines.append("!data ntimestamp " + " ".join(fields))
        for way, sign in ((0, ">"), (1, "<")):
            if self.have_first_seq[way] and self.first_seq[way] and tcp:
                lines.append(f"!firstseq {sign} {self.first_seq[way]}")
        if self.first_time:
            lines.append(f"!firsttime {unparse_timestamp(self.first_time)}")
        if owner.binary:
            lines.append("!binary")
        return "\n".join(lines) + "\n"

    def _records(self) -> bytes:
        out = bytearray()
        notes = iter(self.notes)
        note = next(notes, None)
        for index, packet in enumerate(self.packets + [None]):
            while note is not None and note[0] <= index:
                out += self._note_record(note[1])
                note = next(notes, None)
            if packet is not None:
                out += self._packet_record(packet)
        return bytes(out)

    def _note_record(self, text: str) -> bytes:
        data = text.encode("latin-1")
        if not self.owner.binary:
            return b"#" + data + b"\n"
        return ((6 + len(data)) | 0x80000000).to_bytes(4, "big") + b"#" + data + b"\n"

    def _packet_record(self, packet: tuple[int, int, bytes, int, int, int, int, bytes,
                                           bytes | None]) -> bytes:
        when, way, ip_id, flags, seq, payload, ack, window, options = packet
        owner, tcp = self.owner, self.proto == _TCP
        if not owner.binary:
            words = [unparse_timestamp(when), "<" if way else ">"]
            words += [str(int.from_bytes(ip_id, "little"))] * owner.ip_id
            if tcp:
                words += [_flags_text(flags), str(seq), str(payload), str(ack)]
                words += [str(int.from_bytes(window, "big"))] * owner.tcp_window
                words += [_options_text(options, owner.tcp_opt)] if options else []
            else:
                words.append(str(payload))
            return (" ".join(words) + "\n").encode("latin-1")
        seconds, nsec = divmod(when, 1_000_000_000)
        body = struct.pack("!II", seconds & _MASK32, nsec)
        body += struct.pack("!III", seq, payload, ack) if tcp else struct.pack("!I", payload)
        body += ip_id * owner.ip_id + window * (owner.tcp_window and tcp)
        body += bytes((flags, way)) if tcp else bytes((way,))
        if options:
            body += _options_binary(options, owner.tcp_opt)
        return (4 + len(body)).to_bytes(4, "big") + body

    def output(self) -> None:
        """Append what waits to the file (made, with its directories, the first time)."""
        data = (b"" if self.outputted else self._banner().encode("latin-1")) + self._records()
        self.packets, self.notes = [], []
        try:
            if self.filename == "-":
                sys.stdout.flush()
                sys.stdout.buffer.write(data)
                sys.stdout.buffer.flush()
            else:
                if not self.outputted:
                    self._make_directories()
                with open(self.filename, "ab" if self.outputted else "wb") as file:
                    file.write(data)
        except OSError as err:
            self.owner.log.error("%s: %s: %s", self.owner.declaration(), self.filename,
                                 err.strerror or err)
        self.outputted = True

    def _make_directories(self) -> None:
        folder = os.path.dirname(self.filename)
        if folder and not os.path.exists(folder):
            os.makedirs(folder, 0o777)

    def remove(self) -> None:
        if self.outputted and self.filename != "-":
            try:
                os.unlink(self.filename)
            except OSError as err:
                self.owner.log.error("%s: %s: %s", self.owner.declaration(), self.filename,
                                     err.strerror or err)


def _pattern_piece(kind: str, precision: int, packet: Packet, ip: bytes, ip_at: int
                   ) -> str | None:
    """What a '%' escape of FILEPATTERN stands for; None for an unknown one."""
    data = packet.data
    if kind in "nxX":
        value = packet.anno_u32(_AGGREGATE)
        if 0 <= precision <= 3:
            value = value >> ((3 - precision) * 8) & 255
        elif 4 <= precision <= 5:
            value = value >> ((5 - precision) * 16) & 0xFFFF
        return {"n": str(value), "x": f"{value:x}", "X": f"{value:X}"}[kind]
    if kind in "sd":
        address = ip[12:16] if kind == "s" else ip[16:20]
        return str(address[precision]) if 0 <= precision <= 3 \
            else ".".join(map(str, address))
    if kind in "SD":
        at = ip_at + ((ip[0] & 15) << 2) + (0 if kind == "S" else 2)
        return str(int.from_bytes(data[at:at + 2], "big"))
    if kind == "p":
        return "T" if ip[9] == _TCP else "U"
    return "%" if kind == "%" else None


class ToIPFlowDumps(Element):
    """ToIPFlowDumps(FILEPATTERN, KEYWORDS) -- writes a summary file for each TCP or UDP flow

    Description
    Writes a summary of each flow's packets, in the IP summary dump format
    FromIPSummaryDump reads, to a file of its own. Flows are told apart by
    the aggregate annotation, as AggregateIPFlows sets it (with the paint
    annotation's low bit the packet's direction, and ICMP errors painted 2
    or 3); packets whose aggregate annotation is 0 are passed on untouched
    (at cleanup, a warning tells when no packet had one). A flow's packets
    must be TCP or UDP, or ICMP errors carrying a TCP or UDP header; other
    packets with an aggregate annotation are passed on untouched (Click
    stops on an assertion).

    FILEPATTERN names each flow's file: '%n' is the aggregate annotation in
    decimal, '%x' and '%X' in hexadecimal; with a precision, '%.0n' to
    '%.3n' its bytes from the highest, '%.4n' and '%.5n' its high and low 16
    bits; '%s' and '%d' the source and destination address ('%.0s' to
    '%.3s' one of its bytes), '%S' and '%D' the ports, '%p' T or U, '%%' a
    '%'. A width pads on the left with '_' ('%06n': with '0'). The
    directories are made when needed; '-' is standard output. A pattern
    with no '%' draws a warning.

    A file starts with '!IPSummaryDump 1.3', '!flowid SRC SPORT DST DPORT
    T|U' (the flow as its first packet went, reversed when that packet's
    paint is odd), '!aggregate N', '!data' naming the fields, then
    '!firstseq > N' and '!firstseq < N' (the first sequence number each
    way, nonzero ones, TCP only) and '!firsttime T'. Each packet is then a
    line: its time since 1 nanosecond before the flow's first packet (with
    ABSOLUTE_TIME, its date), its direction ('>' paint even, '<' odd), with
    IP_ID its IP ID (Click's: the two bytes read little-endian), and for
    TCP its flags ('A', 'PA', '.' or the letters FSRPAUE), sequence number,
    payload length and acknowledgment number, each number less the first of
    its direction (with ABSOLUTE_SEQ, as they are), with TCP_WINDOW the
    window (not named in '!data', as in Click), and the kept options; for
    UDP its IP length less 8 (as Click computes it). An ICMP error is a note
    line: '#DATE < ICMP_error' ('>' when its paint is odd; the date is not
    made relative). TCP_OPT keeps the MSS, window scale and SACK options
    (SACK blocks made relative), ALL_TCP_OPT the timestamp option too; a
    packet whose only option is a padded timestamp keeps none without
    ALL_TCP_OPT.

    With BINARY, '!binary' ends the banner and each packet is a record: a
    4-byte length (itself included), the time in seconds and nanoseconds,
    the sequence number, payload length and acknowledgment number (UDP: the
    payload length), the IP ID and window bytes as the packet has them (with
    IP_ID, TCP_WINDOW), the flags and direction bytes, then for a packet
    with kept options a count and the options. A note is a record whose
    length has the top bit set, holding '#', the note and a newline.

    A flow's packets are kept in memory and appended to its file 128 (or 32
    notes) at a time, and when the flow ends: at cleanup, when the clear
    handler is written, or, with NOTIFIER, a quarter second after the
    notifier reports the aggregate deleted. A flow with fewer than MINCOUNT
    packets writes nothing, and what it wrote already is removed. With GZIP,
    each file is compressed with gzip when its flow ends (FILE.gz replaces
    FILE).

    Ports
    one agnostic input; optional agnostic output (the packets, unchanged)

    Keyword arguments
    FILEPATTERN -- the file names' pattern; default '-'
    OUTPUT_PATTERN -- the same as FILEPATTERN
    NOTIFIER -- an AggregateNotifier (AggregateIPFlows) reporting the ends of flows; default none
    ABSOLUTE_TIME -- write dates, not times since the flow's start; default false
    ABSOLUTE_SEQ -- write sequence numbers as they are; default false
    BINARY -- write binary records; default false
    ALL_TCP_OPT -- keep the MSS, window scale, SACK and timestamp TCP options; default false
    TCP_OPT -- keep the MSS, window scale and SACK TCP options; default false
    TCP_WINDOW -- write TCP windows; default false
    GZIP -- compress each file when its flow ends; default false
    IP_ID -- write IP IDs; default false
    MINCOUNT -- the fewest packets a flow's file is kept for; default 0

    Element handlers
    clear (write) -- ends every flow: its file is written out (or removed, below MINCOUNT)

    Example
    FromDump(trace.pcap, STOP true, FORCE_IP true)
      -> a :: AggregateIPFlows
      -> ToIPFlowDumps(flows/%04n.txt, NOTIFIER a, TCP_OPT true);
    """

    port_count = "1/0-1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        pattern = args.read_p("FILEPATTERN", FILENAME, "")
        pattern = args.read("OUTPUT_PATTERN", FILENAME, pattern)
        self.notifier = args.read("NOTIFIER", AGGREGATE_NOTIFIER)
        self.absolute_time = args.read("ABSOLUTE_TIME", BOOL, False)
        self.absolute_seq = args.read("ABSOLUTE_SEQ", BOOL, False)
        self.binary = args.read("BINARY", BOOL, False)
        all_tcp_opt = args.read("ALL_TCP_OPT", BOOL, False)
        tcp_opt = args.read("TCP_OPT", BOOL, False)
        self.tcp_window = args.read("TCP_WINDOW", BOOL, False)
        self.gzip = args.read("GZIP", BOOL, False)
        self.ip_id = args.read("IP_ID", BOOL, False)
        self.mincount = args.read("MINCOUNT", UNSIGNED.range(0, _MASK32), 0)
        args.complete()
        self.pattern = pattern or "-"
        if "%" not in self.pattern:
            self.log.warning("%s: OUTPUT_PATTERN has no %% escapes, so output files will get "
                             "overwritten", self.declaration())
        self.tcp_opt = _ALL_NOPAD if all_tcp_opt else (_MSS | _WSCALE | _SACK) if tcp_opt else 0
        self._flows: dict[int, _Flow] = {}
        self._with_aggregate = self._without_aggregate = 0
        #: Aggregates the notifier deleted, and when.
        self._ended: list[tuple[int, float]] = []
        self._timer = Timer(self, self._end_deleted)
        self._task: Task | None = None

    def initialize(self) -> None:
        if self.input_is_pull(0) and self.noutputs == 0:
            self._task = self.own_task(self._run)
            self._signal = upstream_empty_signal(self, 0, self._task.reschedule)
            self._task.reschedule()
        if self.notifier is not None:
            self.notifier.add_aggregate_listener(self)

    def cleanup(self) -> None:
        self._end_all()
        if self._without_aggregate and not self._with_aggregate:
            self.log.warning("%s: saw no packets with aggregate annotations",
                             self.declaration())

    # --- packets
    def nanoseconds(self, packet: Packet) -> int:
        seconds, nsec = split_time(packet.timestamp, self.router.to_epoch)
        return seconds * 1_000_000_000 + nsec

    def _take(self, packet: Packet) -> None:
        flow = self._flow(packet)
        if flow is None:
            self._without_aggregate += 1
            return
        self._with_aggregate += 1
        flow.add_packet(packet, packet.network_header_offset or 0)

    def _flow(self, packet: Packet) -> _Flow | None:
        aggregate = packet.anno_u32(_AGGREGATE)
        flow = self._flows.get(aggregate)
        if flow is not None or not aggregate or packet.network_header_offset is None:
            return flow
        at = packet.network_header_offset
        ip = packet.data[at:at + 20]
        if len(ip) < 20:
            return None
        flow = _Flow(self, packet, ip, at, self._filename(packet, ip, at))
        if flow.proto not in (_TCP, _UDP):
            return None
        self._flows[aggregate] = flow
        return flow

    def _filename(self, packet: Packet, ip: bytes, ip_at: int) -> str:
        out, pattern, at = [], self.pattern, 0
        while at < len(pattern):
            if pattern[at] != "%":
                out.append(pattern[at])
                at += 1
                continue
            at += 1
            zero = at < len(pattern) and pattern[at] == "0"
            at += zero
            start = at
            while at < len(pattern) and pattern[at].isdigit():
                at += 1
            width = int(pattern[start:at]) if at > start else -1
            precision = -1
            if at < len(pattern) and pattern[at] == ".":
                start = at = at + 1
                while at < len(pattern) and pattern[at].isdigit():
                    at += 1
                precision = int(pattern[start:at] or "0")
            piece = _pattern_piece(pattern[at], precision, packet, ip, ip_at) \
                if at < len(pattern) else None
            if piece is None:
                self.log.error("%s: bad filename pattern%s", self.declaration(),
                               f" '%{pattern[at]}'" if at < len(pattern) else "")
                piece = ""
            out.append(("0" if zero else "_") * (width - len(piece)) + piece)
            at += 1
        return "".join(out)

    def push(self, port: int, batch: list[Packet]) -> None:
        for packet in batch:
            self._take(packet)
        if self.noutputs:
            self.output_push(0, batch)

    def pull(self, port: int) -> Packet | None:
        packet = self.input_pull(0)
        if packet is not None:
            self._take(packet)
        return packet

    def _run(self) -> bool:
        packet = self.input_pull(0)
        if packet is not None:
            self._take(packet)
        if packet is not None or self._signal:
            assert self._task is not None
            self._task.reschedule()
        return packet is not None

    # --- the ends of flows
    def _end(self, flow: _Flow) -> None:
        del self._flows[flow.aggregate]
        if flow.count < self.mincount:
            flow.remove()
            return
        flow.output()
        if self.gzip and flow.filename != "-":
            try:
                with open(flow.filename, "rb") as raw, \
                        gzip.open(flow.filename + ".gz", "wb") as packed:
                    shutil.copyfileobj(raw, packed)
                os.unlink(flow.filename)
            except OSError as err:
                self.log.error("%s: compressing %s: %s; cancelling compression",
                               self.declaration(), flow.filename, err.strerror or err)
                self.gzip = False

    def _end_all(self) -> None:
        for flow in list(self._flows.values()):
            self._end(flow)

    def aggregate_notify(self, aggregate: int, event: int, packet: Packet | None) -> None:
        if event == DELETE_AGG and aggregate in self._flows:
            self._ended.append((aggregate, self.router.now()))
            if not self._timer.scheduled:
                self._timer.schedule_after(_GC_DELAY)

    def _end_deleted(self) -> None:
        limit = self.router.now() - _GC_DELAY
        while self._ended and self._ended[0][1] <= limit:
            flow = self._flows.get(self._ended.pop(0)[0])
            if flow is not None:
                self._end(flow)
        if self._ended:
            self._timer.schedule_after(_GC_DELAY)

    @write_handler("clear")
    def _write_clear(self, value: str) -> None:
        self._end_all()
