"""FromIPSummaryDump: packets made from the lines (or binary records) of an IP summary dump."""

from __future__ import annotations

import bz2
import errno
import gzip
import io
import os
import re
import sys
from typing import BinaryIO

from pyclick.args import ANY, BOOL, FILENAME, STRING, UNSIGNED, Args, split_words, unquote
from pyclick.element import read_handler, write_handler
from pyclick.elements.clickargs import SAMPLING_SHIFT, fixed_point, unparse_fixed
from pyclick.elements.inet import IPADDR
from pyclick.elements.ipsumreaders import MINOR_VERSION, TCP, PacketMaker, Reader, \
    binary_size, find_reader, parse_number, parse_protocol
from pyclick.elements.switchable import Activatable
from pyclick.errors import ConfigError
from pyclick.packet import ANNOTATIONS, Packet
from pyclick.runtime.notifier import EMPTY, Notifier
from pyclick.runtime.timers import Timer

_EXTRA_PACKETS = ANNOTATIONS["EXTRA_PACKETS"][0]
_LINE_END = re.compile(rb"\r\n|\r|\n")
_BANG_WORDS = (b"!data", b"!flowid", b"!proto", b"!aggregate", b"!binary", b"!contents")
_BANNER_STARTS = (b"!creator", b"!data", b"!contents", b"!proto", b"!flowid")
_ONE = 1 << SAMPLING_SHIFT


def SAMPLE_PROBABILITY(text: str, args: Args) -> int:
    """A probability in fixed point; above 1 is accepted (and lowered later), as in Click."""
    if text.strip().startswith("-"):
        raise ValueError("expected nonnegative real number")
    try:
        return fixed_point(text, SAMPLING_SHIFT)
    except ArithmeticError:
        raise ValueError("expected real number") from None


class _Stream:
    """A byte stream read by lines (ended by LF, CRLF or CR) or by counts,
    which knows how far it has been read."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.pending = b""
        self.pos = 0

    def readline(self) -> bytes | None:
        """The next line with its ending; None at the end."""
        while True:
            match = _LINE_END.search(self.pending)
            # A CR at the end of what is read may be the start of a CRLF.
            if match and not (match.group() == b"\r" and match.end() == len(self.pending)):
                return self._consume(match.end())
            more = self.file.readline()
            if not more:
                return self._consume(len(self.pending)) if self.pending else None
            self.pending += more

    def read(self, n: int) -> bytes:
        if len(self.pending) < n:
            self.pending += self.file.read(n - len(self.pending))
        return self._consume(min(n, len(self.pending)))

    def peek_line(self) -> bytes:
        line = self.readline() or b""
        self.pending, self.pos = line + self.pending, self.pos - len(line)
        return line

    def _consume(self, n: int) -> bytes:
        out, self.pending = self.pending[:n], self.pending[n:]
        self.pos += n
        return out


class FromIPSummaryDump(Activatable):
    """FromIPSummaryDump(FILENAME, KEYWORDS) -- makes packets from an IP summary dump

    Description
    Reads a file in Click's IP summary dump format (as ToIPSummaryDump
    writes it) and emits a packet for each line. The packet is an IPv4
    packet built from the line's fields: an IP header (version 4, header
    length 20 bytes, TTL 100, protocol PROTO, other bytes 0 unless a field
    sets them), then a TCP, UDP or ICMP header when the protocol is one of
    those (in a first fragment), then the payload if the payload field is
    there. Fields that are not in the line leave their bytes 0. The IP
    length, when no field gives it, comes from the wire length (wire_len,
    payload_len) or else is the packet's; a UDP length of 0 becomes the IP
    length less the IP header. The bytes the packet does not hold (an
    ip_len larger than the headers) are counted in its extra length
    annotation, so that ToDump writes the length on the wire. The
    destination IP annotation is set; with CHECKSUM, the IP, TCP, UDP and
    ICMP checksums are set (the packet then holds its whole IP length,
    padded with zeros). Ethernet fields put an Ethernet header first; an
    eth_type other than IPv4 or IPv6 makes no IP header.

    The fields are named by a '!data' line in the file (FIELDS gives them
    when there is none), the field names of ToIPSummaryDump; the payload
    digests are not read back. Fields are read in header order whatever
    their order in the line. A field written '-', or missing at the end of
    a line, is left out. A timestamp becomes the packet's timestamp (the
    router's time of that date). With count (MULTIPACKET), the packet
    stands for count packets: the extra packets annotation is count - 1.

    Lines starting with '#' are comments. '!IPSummaryDump 1.3' (the
    format version) may start the file; in a version 1.0 dump, fragment
    offsets are in units of 8 bytes. '!proto P' sets the protocol of
    packets with no ip_proto field. '!flowid SRC SPORT DST DPORT [PROTO]'
    must hold an address or '-', a port or '-', an address or '-', a port or
    '-' (and sets the protocol); as in Click, its addresses and ports are
    then not used, but every line becomes an IP packet, addresses and ports
    0. '!aggregate N' is checked and otherwise ignored, as in Click.
    '!binary' switches to binary records for the rest of the file: each is
    a 4-byte length (itself included, network byte order) then the fields
    in ToIPSummaryDump's binary form; a record with the length's top bit set
    is a text line ('!' lines, '!bad' lines). A line or record from which no
    field can be read is skipped, with an error message for the first one.

    With MULTIPACKET, a packet whose extra packets annotation is N leaves as
    N+1 packets, one a task run, each taking an equal part of the wire
    length (the last the rest), their timestamps spread evenly from the
    first timestamp annotation (when set) to the timestamp. With TIMING,
    packets leave with the gaps between their timestamps (measured on the
    router's clock from the first packet). With SAMPLE, each packet leaves
    with that probability (kept to 2^-28). A push output emits a packet a
    task run; a pull output hands one out when pulled. When the file is
    done, FromIPSummaryDump stops the driver if STOP is true.

    FILENAME '-' is standard input. A file compressed with gzip or bzip2 is
    uncompressed as it is read. DATA gives the dump itself instead of a
    file. A file that cannot be read is an error, unless it does not exist
    and ALLOW_NONEXISTENT is true (the element then emits nothing).

    Ports
    no inputs; one agnostic output

    Keyword arguments
    FILENAME -- the dump file, or '-'; mandatory unless DATA is given
    DATA -- the dump's text, read instead of a file; default none
    STOP -- stop the driver when the file is done; default false
    ACTIVE -- emit packets; default true
    ZERO -- bytes no field sets are 0 (always so here); default true
    TIMING -- keep the gaps between the packets' timestamps; default false
    CHECKSUM -- set the checksums; default false
    PROTO -- the IP protocol of packets with no ip_proto field, 0 to 255; default 6 (TCP)
    MULTIPACKET -- emit count packets for a line with count; default false
    SAMPLE -- the probability that a packet is emitted, 0 to 1; default 1
    FIELDS -- the fields of the lines before any '!data' line, space-separated; default none
    CONTENTS, DEFAULT_CONTENTS, DEFAULT_FIELDS -- the same as FIELDS
    FLOWID -- a '!flowid' line's words after a first one that is skipped
    (as Click reads it: 'x SRC SPORT DST DPORT'); default none
    DEFAULT_FLOWID -- the same as FLOWID
    ALLOW_NONEXISTENT -- a missing file is no error; default false

    Element handlers
    active (read/write) -- the ACTIVE setting
    sampling_prob (read) -- the SAMPLE setting
    encap (read) -- IP
    filename (read) -- the file name
    filesize (read) -- the file's size in bytes ('-' when it is not a regular file)
    filepos (read) -- how far the file has been read, in bytes
    stop (write) -- makes the element inactive and stops the driver

    Example
    FromIPSummaryDump(trace.ipsum, STOP true, CHECKSUM true) -> ToDump(trace.pcap, ENCAP IP);
    """

    port_count = "0/1"
    processing = "a"

    def configure(self, args: Args) -> None:
        self.filename = args.read_p("FILENAME", FILENAME, "")
        self.stop_when_done = args.read("STOP", BOOL, False)
        self.active = args.read("ACTIVE", BOOL, True)
        # Bytes no field sets are always 0 here: Click leaves them as the
        # allocator gave them with ZERO false, which nothing can rely on.
        args.read("ZERO", BOOL, True)
        self.timing = args.read("TIMING", BOOL, False)
        self.checksum = args.read("CHECKSUM", BOOL, False)
        self.sampling = args.read("SAMPLE", SAMPLE_PROBABILITY, _ONE)
        self.default_proto = args.read("PROTO", UNSIGNED, TCP, range=(0, 255))
        self.multipacket = args.read("MULTIPACKET", BOOL, False)
        fields = flowid = ""
        # Several names of one setting, as in Click: given several, the one
        # Click reads first counts (its Args sets them in reverse reading order).
        for key in reversed(("DEFAULT_CONTENTS", "DEFAULT_FIELDS", "DEFAULT_FLOWID", "CONTENTS",
                             "FIELDS", "FLOWID")):
            if args.has(key):
                if key.endswith("FLOWID"):
                    flowid = args.read(key, ANY)
                else:
                    fields = args.read(key, ANY)
        self.allow_nonexistent = args.read("ALLOW_NONEXISTENT", BOOL, False)
        # An empty DATA is none, as in Click.
        self.data: str | None = args.read("DATA", STRING) or None
        if self.data is not None and self.filename:
            args.error("FILENAME and DATA conflict")
        elif self.data is None and not self.filename:
            args.error("FILENAME: required argument missing")
        args.complete()
        if self.sampling > _ONE:
            self.log.warning("%s: SAMPLE probability reduced to 1", self.declaration())
            self.sampling = _ONE
        elif self.sampling == 0:
            self.log.warning("%s: SAMPLE probability is 0; emitting no packets",
                             self.declaration())
        self._fields: list[tuple[str, Reader | None]] = []
        #: The fields' indexes in the order their values go into a packet.
        self._order: list[int] = []
        self._have_flowid = self._binary = False
        self._lineno = 0
        self._stream: _Stream | None = None
        self._eof = False
        if fields:
            self._bang_data(fields)
        if flowid:
            self._bang_flowid(flowid)
        self._minor_version = MINOR_VERSION
        self._complained = False
        #: A packet that waits for its time (TIMING) or still stands for more (MULTIPACKET).
        self._work: Packet | None = None
        self._multi_length = 0
        self._multi_end = self._multi_step = 0.0
        self._time_offset: float | None = None
        self._random = self.router.random_source(self)
        self._task = self.own_task(self._run)
        self._timer = Timer(self, self._on_timer)
        self._notifier = Notifier(active=self.active)

    # --- the file
    def initialize(self) -> None:
        self._pulled = self.output_is_pull(0)
        try:
            self._stream = self._open()
        except OSError as err:
            if err.errno == errno.ENOENT and self.allow_nonexistent:
                self._stream = None
            else:
                raise ConfigError(f"{self.declaration()}: cannot read '{self.filename}': "
                                  f"{err.strerror or err}", self.landmark) from None
        if self._stream is not None:
            self._read_banner()
        if self.active and not self._pulled:
            self._task.reschedule()

    def _open(self) -> _Stream:
        """The dump's stream, uncompressed (OSError when it cannot be read,
        ENOENT when it is empty, as Click says)."""
        if self.data is not None:
            return _Stream(io.BytesIO(self.data.encode("latin-1", "replace")))
        if self.filename == "-":
            return _Stream(sys.stdin.buffer)
        file: BinaryIO = open(self.filename, "rb")
        start = file.peek(3)[:3] if isinstance(file, io.BufferedReader) else b""
        if not start:
            file.close()
            raise OSError(errno.ENOENT, "empty file")
        if start[:2] == b"\x1f\x8b":
            file = gzip.GzipFile(fileobj=file)
        elif start == b"BZh":
            file = bz2.BZ2File(file)
        return _Stream(file)

    def _read_banner(self) -> None:
        """Check the version line, or that the file looks like a dump."""
        assert self._stream is not None
        line = self._stream.peek_line()
        if line.startswith(b"!IPSummaryDump"):
            version = re.match(rb"\s*(\d+)\.(\d+)", line[14:])
            if version:
                major, minor = int(version.group(1)), int(version.group(2))
                self._minor_version = minor
                if major != 1 or minor > MINOR_VERSION:
                    self._complain(f"unexpected IPSummaryDump version {major}.{minor}",
                                   warning=True, lineno=1)
                    self._minor_version = MINOR_VERSION
            self._stream.readline()
            self._lineno = 1
        elif not line.startswith(_BANNER_STARTS) and not self._fields:
            self._complain("missing banner line; is this an IP summary dump?",
                           warning=True, lineno=1)

    def _complain(self, message: str, *, warning: bool = False, lineno: int | None = None
                  ) -> None:
        """An error (or a warning) about the file, at the current line or record."""
        where = self.filename or "<data>"
        line = self._lineno if lineno is None else lineno
        unit = "record " if self._binary else ""
        report = self.log.warning if warning else self.log.error
        report("%s: %s:%s%d: %s", self.declaration(), where, unit, line, message)

    def _done_with_file(self) -> None:
        assert self._stream is not None
        if self._stream.file is not sys.stdin.buffer:
            self._stream.file.close()
        self._eof = True

    # --- '!' lines
    def _bang_data(self, line: str) -> None:
        self._fields = []
        for index, word in enumerate(split_words(line)):
            name = unquote(word)
            if index == 0 and name in ("!data", "!contents"):
                continue
            found = find_reader(name)
            if found is None:
                self._complain(f"unknown content type '{name}'", warning=True)
                found = (name, None)
            elif found[1] is None:
                self._complain(f"content type '{name}' ignored on input", warning=True)
            self._fields.append(found)
        if not self._fields:
            self._complain("no contents specified")
        self._order = sorted(range(len(self._fields)),
                             key=lambda i: (self._reader_order(i), i))

    def _reader_order(self, index: int) -> int:
        reader = self._fields[index][1]
        # An unread field sorts with the annotations, as Click's null field does.
        return 100 if reader is None else reader.order

    def _bang_proto(self, words: list[str], what: str) -> None:
        proto = parse_protocol(words[1]) if len(words) == 2 else None
        if len(words) != 2:
            self._complain(f"bad {what}")
        elif proto is None:
            self._complain(f"bad protocol in {what}")
        else:
            self.default_proto = proto

    def _bang_flowid(self, line: str) -> None:
        words = split_words(line)
        if len(words) < 5 or not all(word == "-" or _is_address(word) for word in words[1:4:2]) \
                or not all(word == "-" or parse_number(word, 0xFFFF) is not None
                           for word in words[2:5:2]):
            self._complain("bad !flowid specification")
            self._have_flowid = False
            return
        if len(words) >= 6:
            self._bang_proto(["!", words[5]], "!flowid")
        self._have_flowid = True

    def _bang(self, text: str) -> None:
        raw = text.encode("latin-1")
        for word in _BANG_WORDS:
            if raw.startswith(word) and len(raw) > len(word) and raw[len(word):][:1].isspace():
                break
        else:
            return
        if word in (b"!data", b"!contents"):
            self._bang_data(text)
        elif word == b"!flowid":
            self._bang_flowid(text)
        elif word == b"!proto":
            self._bang_proto(split_words(text), "!proto")
        elif word == b"!aggregate":
            words = split_words(text)
            if len(words) != 2 or parse_number(words[1]) is None:
                self._complain("bad !aggregate specification")
        else:
            if len(split_words(text)) != 1:
                self._complain("bad !binary specification")
            self._binary = True
            self._lineno = 1

    # --- reading packets
    def _read_record(self) -> tuple[bytes, bool] | None:
        """The next binary record and whether it is a text line; None at the end."""
        assert self._stream is not None
        head = self._stream.read(4)
        if len(head) < 4:
            return None
        length = int.from_bytes(head, "big") & 0x7FFFFFFF
        if length < 4:
            self._complain("binary record too short")
            return None
        body = self._stream.read(length - 4)
        if len(body) < length - 4:
            return None
        self._lineno += 1
        textual = bool(head[0] & 0x80)
        return (body.rstrip(b"\0") if textual else body), textual

    def _read_packet(self) -> Packet | None | bool:
        """The next line's packet; None for a line that gives none; False at the end."""
        if self._stream is None or self._eof:
            return False
        while True:
            if self._binary:
                record = self._read_record()
                if record is None:
                    self._done_with_file()
                    return False
                raw, textual = record
            else:
                line = self._stream.readline()
                if line is None:
                    self._done_with_file()
                    return False
                self._lineno += 1
                raw, textual = line, True
            if raw and (not textual or raw[:1] not in b"!#"):
                break
            if raw[:1] == b"!":
                self._bang(raw.decode("latin-1"))
        maker = PacketMaker(self.default_proto, self._have_flowid, self._minor_version)
        if self._binary:
            count = self._inject_binary(maker, raw)
        else:
            count = self._inject_text(maker, raw.decode("latin-1"))
        if not count:
            # A blank line is no complaint.
            if not self._complained and (not textual or raw.strip()):
                self._complain("no '!data' provided" if not self._fields
                               else "packet parse error")
                self._complained = True
            return None
        maker.finish(self.checksum)
        return self._make_packet(maker)

    def _inject_text(self, maker: PacketMaker, line: str) -> int:
        """Put the line's fields into ``maker``; how many could be read."""
        words: list[str] = []
        at, end = 0, len(line)
        while len(words) < len(self._fields):
            start = at
            while at < end and not line[at].isspace():
                at = _skip_quote(line, at) if line[at] == '"' else at + 1
            words.append(line[start:at])
            while at < end and line[at].isspace():
                at += 1
        count = 0
        for index in self._order:
            reader, word = self._fields[index][1], words[index]
            if reader is None or not word or word == "-":
                continue
            value = reader.parse(word, maker)
            if value is not None:
                reader.inject(maker, value)
                count += 1
        return count

    def _inject_binary(self, maker: PacketMaker, record: bytes) -> int:
        """Put the record's fields into ``maker``; how many could be read."""
        values: list[bytes | None] = []
        at = 0
        for name, reader in self._fields:
            size = binary_size(name) if reader is not None else 0
            if size == 0 and reader is not None:
                size = 1 + record[at] if at < len(record) else 1
            if size is None or at + size > len(record):
                values.append(None)
                at = len(record)
            else:
                values.append(record[at:at + size])
                at += size
        count = 0
        for index in self._order:
            reader, data = self._fields[index][1], values[index]
            if reader is None or data is None:
                continue
            if reader.unpack is not None:
                reader.inject(maker, reader.unpack(data))
            else:
                reader.inject(maker, int.from_bytes(data, "big"))
            count += 1
        return count

    def _make_packet(self, maker: PacketMaker) -> Packet:
        packet = Packet(maker.data())
        head = maker.head
        if maker.mac is not None:
            packet.set_mac_header(maker.mac - head, None)
        if maker.nh is not None and maker.th is not None:
            packet.set_network_header(maker.nh - head, maker.th - maker.nh)
            if maker.is_ip:
                packet.dst_ip = bytes(maker.buf[maker.nh + 16:maker.nh + 20])
        when = maker.ts_sec + maker.ts_nsec / 1e9
        packet.timestamp = self.router.from_epoch(when)
        if maker.first_ns:
            packet.first_timestamp = self.router.from_epoch(maker.first_ns / 1e9)
        packet.set_anno_u32(_EXTRA_PACKETS, maker.extra_packets)
        packet.paint = maker.paint
        packet.aggregate = maker.aggregate
        if maker.want_len > len(packet):
            packet.extra_length = maker.want_len - len(packet)
        return packet

    # --- MULTIPACKET: a packet standing for several leaves as that many
    def _split(self, packet: Packet) -> Packet:
        count = 1 + packet.anno_u32(_EXTRA_PACKETS)
        if count == 1:
            self._work = None
            return packet
        if self._work is None:
            self._multi_length = (len(packet) + packet.extra_length) // count
            if self._multi_length < len(packet):
                self._multi_length = len(packet)
                packet.extra_length = self._multi_length * (count - 1)
            self._multi_end = packet.timestamp
            first = packet.first_timestamp
            self._multi_step = (packet.timestamp - first) / (count - 1) if first else 0.0
            if first:
                packet.timestamp = first
            _set_lengths(packet, self._multi_length - len(packet))
            self._work = packet
        out = packet.clone()
        out.set_anno_u32(_EXTRA_PACKETS, 0)
        out.extra_length = self._multi_length - len(out)
        packet.set_anno_u32(_EXTRA_PACKETS, count - 2)
        packet.extra_length = packet.extra_length - self._multi_length
        if count == 2:
            packet.timestamp = self._multi_end
            _set_lengths(packet, packet.extra_length)
        else:
            packet.timestamp += self._multi_step
        return out

    # --- emitting
    def _next(self) -> Packet | None | bool:
        """The next packet to emit; None: none now (not due, skipped); False: the end."""
        while True:
            packet = self._work if self._work is not None else self._read_packet()
            if packet is False or packet is None:
                return packet
            assert isinstance(packet, Packet)
            if self.timing and not self._due(packet):
                return None
            if self.multipacket:
                packet = self._split(packet)
            if self.sampling >= _ONE or self._random.getrandbits(SAMPLING_SHIFT) < self.sampling:
                return packet

    def _due(self, packet: Packet) -> bool:
        """With TIMING: whether ``packet``'s time has come (if not, it waits
        and the timer is set for it)."""
        now = self.router.now()
        if self._time_offset is None:
            self._time_offset = now - packet.timestamp
        due = packet.timestamp + self._time_offset
        if due > now:
            self._timer.schedule_at(due)
            if self._pulled:
                self._notifier.sleep()
            self._work = packet
            return False
        # As in Click, a packet in the middle of MULTIPACKET's split that was
        # due is split again as if it were new.
        self._work = None
        return True

    def _on_timer(self) -> None:
        if self.active:
            self._wake()

    def _run(self) -> bool:
        if not self.active:
            return False
        packet = self._next()
        if packet is False:
            if self.stop_when_done:
                self.router.please_stop_driver(f"{self.name}: all packets sent")
            return False
        if packet is None:
            if not self._timer.scheduled:
                self._task.reschedule()
            return False
        assert isinstance(packet, Packet)
        self.output_push(0, [packet])
        self._task.reschedule()
        return True

    def pull(self, port: int) -> Packet | None:
        if not self.active:
            return None
        packet = self._next()
        if packet is False:
            if self.stop_when_done:
                self.router.please_stop_driver(f"{self.name}: all packets sent")
            self._notifier.sleep()
            return None
        if packet is not None:
            self._notifier.wake()
            assert isinstance(packet, Packet)
            return packet
        return None

    def port_notifier(self, isoutput: bool, port: int, which: str) -> Notifier | None:
        return self._notifier if isoutput and which == EMPTY else None

    def _wake(self) -> None:
        if self.scheduling.scheduler is None:
            return
        if self._pulled:
            if self.active:
                self._notifier.wake()
            else:
                self._notifier.sleep()
        elif self.active:
            self._task.reschedule()

    # --- handlers
    @read_handler("sampling_prob")
    def _read_sampling_prob(self) -> str:
        return unparse_fixed(self.sampling, SAMPLING_SHIFT)

    @read_handler("encap")
    def _read_encap(self) -> str:
        return "IP"

    @read_handler("filename")
    def _read_filename(self) -> str:
        return self.filename

    @read_handler("filesize")
    def _read_filesize(self) -> str:
        # As in Click, only while the file is open.
        if self._stream is None or self._eof or self.data is not None or self.filename == "-":
            return "-"
        try:
            return str(os.path.getsize(self.filename))
        except OSError:
            return "-"

    @read_handler("filepos")
    def _read_filepos(self) -> str:
        return str(self._stream.pos if self._stream is not None else 0)

    @write_handler("stop")
    def _write_stop(self, value: str) -> None:
        self.active = False
        self.router.please_stop_driver(f"{self.name}: stop handler written")


def _is_address(word: str) -> bool:
    try:
        IPADDR(word)
    except ValueError:
        return False
    return True


def _skip_quote(line: str, at: int) -> int:
    """Past the double-quoted text starting at ``at`` (backslash escapes skipped)."""
    at += 1
    while at < len(line) and line[at] != '"':
        at += 2 if line[at] == "\\" else 1
    return min(at + 1, len(line))


def _set_lengths(packet: Packet, extra: int) -> None:
    """Make the IP (and UDP) length say the packet's length plus ``extra``."""
    nh, th = packet.network_header_offset, packet.transport_header_offset
    if nh is None or th is None:
        return
    length = (len(packet) + extra) & 0xFFFF
    if packet.data[nh + 2:nh + 4] == length.to_bytes(2, "big"):
        return
    packet.write(nh + 2, length.to_bytes(2, "big"))
    hl = (packet.byte(nh) & 15) << 2
    if packet.byte(nh + 9) == 17 and len(packet) >= th + 6:
        packet.write(th + 4, ((length - hl) & 0xFFFF).to_bytes(2, "big"))
