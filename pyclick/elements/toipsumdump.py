"""ToIPSummaryDump: one line of chosen fields per packet, Click's IP summary dump format."""

from __future__ import annotations

import socket
import struct
import sys
import time
from typing import BinaryIO

from pyclick.args import ANY, BOOL, FILENAME, WORD, Args, shorten, split_words, unquote
from pyclick.element import Element, write_handler
from pyclick.elements.ipsumfields import Field, PacketView, click_quote, find_field, split_time, \
    time_text
from pyclick.elements.todump import PULL_BURST
from pyclick.errors import ConfigError
from pyclick.packet import ANNOTATIONS, Packet
from pyclick.runtime.notifier import upstream_empty_signal
from pyclick.runtime.tasks import Task

#: The format version written in the first line.
VERSION = "1.3"
_EXTRA_PACKETS = ANNOTATIONS["EXTRA_PACKETS"][0]


class ToIPSummaryDump(Element):
    """ToIPSummaryDump(FILENAME, KEYWORDS) -- writes a summary line per packet

    Description
    Writes one line for each packet to FILENAME ('-' for standard output),
    holding the FIELDS asked for, separated by spaces, in Click's IP summary
    dump format (which Click's FromIPSummaryDump and ipsumdump read). A
    field that does not apply to a packet (a port of an ICMP packet) or that
    the packet is too short to hold is written '-'. IP, TCP, UDP and ICMP
    fields need the network header annotation (CheckIPHeader and
    MarkIPHeader set it). Ethernet fields need a MAC header annotation 14
    bytes before the network header; without that annotation, the first 14
    bytes of the packet serve when the network header follows them.

    With HEADER, the file starts with '!IPSummaryDump 1.3', then
    '!creator "BANNER"' when BANNER is given, then with VERBOSE '!host' and
    '!runtime' lines (host name, time of start), then '!data' and the field
    names. Lengths (ip_len, payload_len) count the packet's extra length
    annotation when EXTRA_LENGTH is true. As in Click, reading the IP fields
    also sets that annotation: padding after the IP length is added to it,
    then it is cleared, but for what lies beyond a 65535-byte IP length.
    With MULTIPACKET, a packet whose extra packets annotation is N gives N+1
    lines, its length spread over them and its timestamps stepped from its
    first timestamp annotation to its timestamp (unless FIELDS has count).

    With BAD_PACKETS, a packet with a broken IP, TCP or UDP header is
    preceded by a line '!bad' and what is wrong; with CAREFUL_TRUNC too,
    a packet shorter than its IP length (extra length included) gets a
    '!bad truncated IP missing N' line.

    BINARY true writes the records in binary after a '!binary' line: each
    is a 4-byte length (itself included, network byte order), then the
    fields, numbers in network byte order (a nanosecond timestamp as
    nanoseconds then seconds), options as a length byte then the option
    bytes (ip_opt and tcp_opt, as in Click, twice: as they are, then up to
    an end-of-list option); '!bad' lines become records with the length's
    top bit set. The payload field has no binary form.

    Fields: timestamp (seconds and microseconds, nanoseconds when not
    whole), ntimestamp, ts_sec, ts_usec, ts_usec1 (the time in
    microseconds, where Click swaps the number's 32-bit halves),
    first_timestamp, first_ntimestamp, count (1 + extra
    packets annotation), link and paint (the paint annotation), direction
    (paint written '>' for 0, '<' for 1), aggregate, wire_len (the packet's
    length), ip_src, ip_dst, ip_tos, ip_dscp, ip_ecn (no, ect1, ect2, ce),
    ip_ttl, ip_frag ('F' first fragment, 'f' a later one, '!' don't
    fragment, '.'), ip_fragoff (offset in bytes, '+' more fragments, '!'
    don't fragment), ip_id, ip_sum, ip_proto (T, U, I or the number), ip_hl,
    ip_len, ip_capture_len (bytes of the IP length captured), ip_opt, sport,
    dport, tcp_seq, tcp_ack, tcp_off, tcp_flags (letters FSRPAUECN, '.' for
    none), tcp_window, tcp_urp, tcp_opt, tcp_ntopt (without padding and
    timestamps), tcp_sack (SACK options only), udp_len, icmp_type,
    icmp_code, icmp_type_name, icmp_code_name (names where Click has one),
    icmp_flowid, icmp_seq, icmp_nextmtu, payload (quoted), payload_len,
    payload_md5 (22 characters), payload_md5_hex, eth_src, eth_dst,
    eth_type. Options are written 'mss1460;sackok;ts1:2;wscale7',
    'sack1-2', 'rr{1.0.0.1}+2', 'ts{1,2}', 'ssrr{1.0.0.1^1.0.0.2}', '98=1:2'
    for others; '.' for none, '?' when one is malformed. Click's other names
    work too (src, len, 'tcp seq' quoted with a space for tcp_seq...).

    ToIPSummaryDump has zero or one output; with one, every packet goes on
    through it. In pull context its task pulls packets whenever the elements
    upstream have some.

    Ports
    one agnostic input, zero or one push output

    Keyword arguments
    FILENAME -- the file to write, or '-'; mandatory
    FIELDS -- the fields, space-separated; default 'timestamp ip_src'
    CONTENTS, DATA -- the same as FIELDS (DATA is deprecated)
    HEADER -- write the '!' lines first; default true
    VERBOSE -- add '!host' and '!runtime' to them; default false
    BANNER -- text of a '!creator' line, one word (quote text holding
    spaces); default none
    MULTIPACKET -- a line for each packet the extra packets annotation counts; default false
    BAD_PACKETS -- write '!bad' lines; default false
    CAREFUL_TRUNC -- with BAD_PACKETS, mark packets shorter than their IP length; default true
    EXTRA_LENGTH -- count the extra length annotation in lengths; default true
    BINARY -- write binary records; default false

    Element handlers
    flush (write) -- writes out what is buffered

    Example
    FromDump(in.pcap, STOP true) -> Strip(14) -> CheckIPHeader
        -> ToIPSummaryDump(-, FIELDS ip_src sport ip_dst dport ip_proto tcp_flags);
    """

    port_count = "1/0-1"
    processing = "a/h"

    def configure(self, args: Args) -> None:
        self.filename = args.read_mp("FILENAME", FILENAME)
        fields, given_as = "timestamp ip_src", "FIELDS"
        # Three names of one setting, as in Click; errors name the one given.
        # Given several, the one Click reads first counts (its Args sets them
        # in reverse reading order).
        for key in reversed(("FIELDS", "CONTENTS", "DATA")):
            if args.has(key):
                fields, given_as = args.read(key, ANY, fields), key
        if args.has("DATA"):
            self.log.warning("%s: DATA is deprecated, use FIELDS", self.declaration())
        self.verbose = args.read("VERBOSE", BOOL, False)
        self.header = args.read("HEADER", BOOL, True)
        self.banner = args.read("BANNER", WORD, "")
        self.multipacket = args.read("MULTIPACKET", BOOL, False)
        self.bad_packets = args.read("BAD_PACKETS", BOOL, False)
        self.careful_trunc = args.read("CAREFUL_TRUNC", BOOL, True)
        self.extra_length = args.read("EXTRA_LENGTH", BOOL, True)
        self.binary = args.read("BINARY", BOOL, False)
        self.fields: list[Field] = []
        for word in split_words(fields):
            name = unquote(word)
            field = find_field(name)
            if field is None:
                args.error(f"{given_as}: unknown field '{shorten(name)}'")
            elif self.binary and field.binary is None:
                args.error(f"{given_as}: field '{name}' has no binary form (BINARY true)")
            else:
                self.fields.append(field)
        if not self.fields:
            args.error(f"{given_as}: no fields given")
        args.complete()
        if any(field.name == "count" for field in self.fields):
            self.multipacket = False
        self._needs_ip = any(field.needs_ip for field in self.fields)
        self._out: BinaryIO | None = None
        self._task: Task | None = None

    def initialize(self) -> None:
        try:
            self._out = sys.stdout.buffer if self.filename == "-" else open(self.filename, "wb")
        except OSError as err:
            raise ConfigError(f"{self.declaration()}: {self.filename}: {err.strerror}",
                              self.landmark) from None
        if self.header:
            self._write(self._header_lines().encode("utf-8", "surrogateescape"))
        if self.input_is_pull(0):
            self._task = self.own_task(self._run)
            self._signal = upstream_empty_signal(self, 0, self._task.reschedule)
            self._task.reschedule()

    def _header_lines(self) -> str:
        lines = [f"!IPSummaryDump {VERSION}"]
        if self.banner:
            lines.append("!creator " + click_quote(self.banner.encode("utf-8", "surrogateescape")))
        if self.verbose:
            lines.append(f"!host {socket.gethostname()}")
            now = self.router.now()
            started = time_text(*split_time(now, self.router.to_epoch))
            lines.append(f"!runtime {started} ({time.ctime(self.router.to_epoch(now))})")
        names = [field.name for field in self.fields]
        if not self.binary:
            # A nanosecond timestamp reads back as a timestamp in text.
            names = ["timestamp" if name == "ntimestamp" else name for name in names]
        lines.append("!data " + " ".join(names))
        if self.binary:
            lines.append("!binary")
        return "".join(line + "\n" for line in lines)

    def cleanup(self) -> None:
        out, self._out = self._out, None
        if out is None:
            return
        try:
            out.flush()
            if out is not sys.stdout.buffer:
                out.close()
        except OSError as err:
            self._failed(err)

    def _failed(self, err: OSError) -> None:
        """A write failed (a full disk, a closed pipe): said once, nothing more is
        written; the packets still go on."""
        self._out = None
        self.log.error("%s: %s: cannot write: %s; the file ends here", self.declaration(),
                       self.filename, err.strerror or err)

    def _write(self, data: bytes) -> None:
        if self._out is None:
            return
        try:
            self._out.write(data)
        except OSError as err:
            self._failed(err)

    # --- the records
    def _summary(self, packet: Packet) -> bytes:
        """The bytes written for ``packet``: its '!bad' line, if any, and its record."""
        bad: list[str] | None = [] if self.bad_packets else None
        view = PacketView(packet, self.router.to_epoch, bad=bad,
                          careful_trunc=self.careful_trunc, extra_length=self.extra_length)
        if self._needs_ip:
            view.parse_ip()
        if self.binary:
            parts = []
            for field in self.fields:
                value = field.extract(view)
                assert field.binary is not None
                parts.append(field.missing_binary() if value is None else field.binary(value))
            body = b"".join(parts)
            record = struct.pack(">I", len(body) + 4) + body
            if bad:
                note = bad[0].encode()
                record = struct.pack(">I", len(note) | 0x80000000) + note + record
            return record
        texts = []
        for field in self.fields:
            value = field.extract(view)
            texts.append("-" if value is None else field.text(value))
        line = " ".join(texts) + "\n"
        return ((bad[0] if bad else "") + line).encode("latin-1")

    def _records(self, packet: Packet) -> list[bytes]:
        extra_packets = packet.anno_u32(_EXTRA_PACKETS)
        if not self.multipacket or not extra_packets:
            return [self._summary(packet)]
        # The packet stands for several: its length is shared out among them
        # and their times step from the first timestamp to the timestamp.
        count = 1 + extra_packets
        length = len(packet)
        total = length + (packet.extra_length if self.extra_length else 0)
        total = max(total, count * length)
        end_time, first = packet.timestamp, packet.first_timestamp
        step = (end_time - first) / (count - 1) if first else 0.0
        if first:
            packet.timestamp = first
        packet.set_anno_u32(_EXTRA_PACKETS, 0)
        records = []
        for left in range(count, 0, -1):
            share = total // left
            packet.extra_length = share - length
            total -= share
            records.append(self._summary(packet))
            packet.timestamp = end_time if left == 1 else packet.timestamp + step
        return records

    def _dump(self, batch: list[Packet]) -> None:
        if self._out is None:
            return
        self._write(b"".join(record for packet in batch for record in self._records(packet)))

    def push(self, port: int, batch: list[Packet]) -> None:
        self._dump(batch)
        if self.noutputs:
            self.output_push(0, batch)

    def _run(self) -> bool:
        assert self._task is not None
        batch = self.input_pull_batch(0, PULL_BURST)
        if batch:
            self._dump(batch)
            if self.noutputs:
                self.output_push(0, batch)
        if batch or self._signal:
            self._task.reschedule()
        return bool(batch)

    @write_handler("flush")
    def _write_flush(self, value: str) -> None:
        if self._out is not None:
            try:
                self._out.flush()
            except OSError as err:
                self._failed(err)
