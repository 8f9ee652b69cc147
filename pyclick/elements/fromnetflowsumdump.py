"""FromNetFlowSummaryDump: packets made from the flows of a NetFlow summary file."""

from __future__ import annotations

import os

from pyclick.args import BOOL, FILENAME, WORD, Args
from pyclick.elements.clickargs import SAMPLING_SHIFT
from pyclick.elements.fromipsumdump import FromIPSummaryDump
from pyclick.elements.inet import IPADDR
from pyclick.elements.ipsumreaders import parse_number
from pyclick.packet import Packet
from pyclick.runtime.notifier import Notifier
from pyclick.runtime.timers import Timer

_LINKS = {"input": 0, "output": 1, "both": 2}
_FIELDS = 15
_TCP, _UDP = 6, 17
_MASK32 = 0xFFFFFFFF


def _fields(line: bytes) -> list[str]:
    """The line's first 15 '|'-separated fields (the last keeps the line's end)."""
    text = line.decode("latin-1")
    words: list[str] = []
    at = 0
    while at < len(text) and len(words) < _FIELDS:
        bar = text.find("|", at)
        end = len(text) if bar < 0 else bar
        words.append(text[at:end])
        at = end + 1
    return words


def address_of(word: str) -> bytes | None:
    """An IPv4 address written exactly (no spaces around it), or None."""
    if not word or word != word.strip():
        return None
    try:
        return IPADDR(word)
    except ValueError:
        return None


class LineSource(FromIPSummaryDump):
    """A FromIPSummaryDump that reads lines of another format, each parsed
    by its own ``_read_packet``."""

    registered = False

    def _start_reading(self) -> None:
        """The reading state, set as FromIPSummaryDump's configure() sets it."""
        self.allow_nonexistent = self.multipacket = False
        self.data = None
        self._fields, self._order = [], []
        self._have_flowid = self._binary = self._eof = self._complained = False
        self._lineno = 0
        self._stream = None
        self._work = None
        self._time_offset = None
        self._random = self.router.random_source(self)
        self._task = self.own_task(self._run)
        self._timer = Timer(self, self._on_timer)
        self._notifier = Notifier(active=self.active)

    def _check_sampling(self) -> None:
        """Lower a SAMPLE above 1, as Click does, and warn of one of 0."""
        if self.sampling > 1 << SAMPLING_SHIFT:
            self.log.warning("%s: SAMPLE probability reduced to 1", self.declaration())
            self.sampling = 1 << SAMPLING_SHIFT
        elif self.sampling == 0:
            self.log.warning("%s: SAMPLE probability is 0; emitting no packets",
                             self.declaration())

    def _next_line(self, skipped: bytes) -> bytes | None:
        """The next line that does not start with a byte of ``skipped``; None at the end."""
        if self._stream is None or self._eof:
            return None
        while True:
            line = self._stream.readline()
            if line is None:
                self._done_with_file()
                return None
            self._lineno += 1
            if line[:1] not in skipped:
                return line

    def _read_filesize(self) -> str:
        # Click keeps these files open to the end, the file done or not.
        if self._stream is None or self.filename == "-":
            return "-"
        try:
            return str(os.path.getsize(self.filename))
        except OSError:
            return "-"


class FromNetFlowSummaryDump(LineSource):
    """FromNetFlowSummaryDump(FILENAME, KEYWORDS) -- makes packets from a NetFlow summary file

    Description
    Reads a file of NetFlow flow records, one a line, and emits a packet for
    each flow (or, with MULTIPACKET, for each of its packets). Lines that
    start with '!' or '#' are skipped. A record is at least 15 fields
    separated by '|'; these are read (counting from 0):

      0  source IP address         7  first date (seconds since the epoch)
      1  destination IP address    8  last date (0: the first one)
      3  input interface           9  source port
      4  output interface          10 destination port
      5  packets in the flow       12 TCP flags (the OR of the packets')
      6  bytes in the flow         13 IP protocol
                                   14 IP TOS byte

    Numbers are written as Click reads unsigned integers (decimal, 0x hex,
    0 octal). When the 15 fields are not there, or fewer than 10 of these
    12 readings succeed (the two interfaces count as one), the line is bad:
    the first bad line is reported with the file name and line number, and
    the element then stops as at the end of the file (writing active true
    goes on with the next line). A blank line is bad, as in Click. The
    field 14 of a line with exactly 15 fields holds the line's end, so its
    TOS is not read, as in Click.

    The packet is an IPv4 header (version 4, header length 20 bytes, IP
    length the flow's bytes, at most 65535) with the addresses, protocol and
    TOS, then for TCP a 20-byte TCP header (ports, flags, data offset 5), for
    UDP an 8-byte UDP header (ports, length the IP length less 20), for
    other protocols nothing; the other bytes are 0. Its timestamp is the
    last date, its first timestamp annotation the first date, its extra
    packets annotation the packet count less 1, its extra length annotation
    the flow's bytes less the packet's length (modulo 2^32, as in Click). Its
    paint annotation is the input interface (LINK input), the output
    interface (LINK output), both at most 255, or the input interface times
    16 plus the output interface, both at most 15 (LINK both).

    With MULTIPACKET, a flow of N packets leaves as N packets, one a task
    run, each taking an equal part of the bytes (the last the rest), their
    timestamps spread evenly from the first date to the last. With TIMING,
    packets leave with the gaps between their timestamps, measured on the
    router's clock from the first packet. A push output emits a packet a
    task run; a pull output hands one out when pulled. When the file is
    done, the element stops the driver if STOP is true.

    FILENAME '-' is standard input; a file compressed with gzip or bzip2 is
    uncompressed as it is read. A file that cannot be read is an error.

    Ports
    no inputs; one agnostic output

    Keyword arguments
    FILENAME -- the NetFlow summary file, or '-'; mandatory
    STOP -- stop the driver when the file is done; default false
    ACTIVE -- emit packets; default true
    ZERO -- bytes the file does not set are 0 (always so here); default true
    MULTIPACKET -- emit a packet for each of a flow's packets; default false
    LINK -- what the paint annotation holds: input, output or both; default input
    TIMING -- keep the gaps between the packets' timestamps; default false

    Element handlers
    active (read/write) -- the ACTIVE setting
    encap (read) -- IP
    filename (read) -- the file name
    filesize (read) -- the file's size in bytes ('-' when it is not a regular file)
    filepos (read) -- how far the file has been read, in bytes

    Example
    FromNetFlowSummaryDump(flows.txt, STOP true, MULTIPACKET true) -> ToDump(flows.pcap, ENCAP IP);
    """

    read_handlers = {name: attr for name, attr in FromIPSummaryDump.read_handlers.items()
                     if name != "sampling_prob"}
    write_handlers = {name: attr for name, attr in FromIPSummaryDump.write_handlers.items()
                      if name != "stop"}

    def configure(self, args: Args) -> None:
        self.filename = args.read_mp("FILENAME", FILENAME)
        self.stop_when_done = args.read("STOP", BOOL, False)
        self.active = args.read("ACTIVE", BOOL, True)
        # As for FromIPSummaryDump, unset bytes are always 0 here.
        args.read("ZERO", BOOL, True)
        multipacket = args.read("MULTIPACKET", BOOL, False)
        link = args.read("LINK", WORD, "input")
        self.timing = args.read("TIMING", BOOL, False)
        args.complete()
        if link.lower() not in _LINKS:
            args.error("'LINK' should be 'input', 'output', or 'both'")
        self._link = _LINKS.get(link.lower(), 0)
        self.checksum = False
        self.sampling = 1 << SAMPLING_SHIFT
        self._start_reading()
        self.multipacket = multipacket
        #: With MULTIPACKET, the next part of a flow, waiting for its time (TIMING).
        self._pending: Packet | None = None

    def _read_banner(self) -> None:
        """Any first line is accepted."""

    def _read_packet(self) -> Packet | None | bool:
        """The next flow's packet; False at the end of the file or at a bad line."""
        line = self._next_line(b"!#")
        if line is None:
            return False
        packet = self._flow_packet(_fields(line))
        if packet is None:
            if not self._complained:
                self._complain("bad format")
                self._complained = True
            return False
        return packet

    def _flow_packet(self, words: list[str]) -> Packet | None:
        """The packet of a record's fields; None when the record is bad."""
        if len(words) < _FIELDS:
            return None
        number = [parse_number(word) for word in words]
        header = bytearray(40)
        header[0] = 0x45
        packet = Packet(b"")
        ok = 0
        first = last = 0
        if number[7] is not None:
            first, ok = number[7], ok + 1
        if number[8] is not None:
            last, ok = number[8] or first, ok + 1
        extra_packets = (number[5] - 1) & _MASK32 if number[5] is not None else 0
        ok += number[5] is not None
        byte_count = number[6] or 0
        ok += number[6] is not None
        paint = 0
        link_in = number[3] if self._link != 1 else 0
        link_out = number[4] if self._link != 0 else 0
        if link_in is not None and link_out is not None:
            ok += 1
            most = 15 if self._link == 2 else 255
            paint = (min(link_in, most) << (4 if self._link == 2 else 0)) | min(link_out, most)
        for word, at in ((words[0], 12), (words[1], 16)):
            address = address_of(word)
            if address is not None:
                header[at:at + 4] = address
                ok += 1
        for index, at, limit in ((13, 9, 0xFF), (14, 1, 0xFF), (9, 20, 0xFFFF),
                                 (10, 22, 0xFFFF), (12, 33, 0xFF)):
            value = number[index]
            if value is not None and value <= limit:
                header[at:at + (2 if limit > 0xFF else 1)] = \
                    value.to_bytes(2 if limit > 0xFF else 1, "big")
                ok += 1
        if ok < 10:
            return None
        ip_len = min(byte_count, 0xFFFF)
        header[2:4] = ip_len.to_bytes(2, "big")
        if header[9] == _TCP:
            header[32] = 0x50
            size = 40
        elif header[9] == _UDP:
            header[24:26] = ((ip_len - 20) & 0xFFFF).to_bytes(2, "big")
            size = 28
        else:
            size = 20
        packet = Packet(bytes(header[:size]))
        packet.set_network_header(0, 20)
        packet.timestamp = self.router.from_epoch(float(last))
        packet.first_timestamp = self.router.from_epoch(float(first))
        packet.set_anno_u32(24, extra_packets)
        packet.paint = paint
        packet.extra_length = (byte_count - size) & _MASK32
        return packet

    def _next(self) -> Packet | None | bool:
        """As in Click, a flow is split first, and each part waits for its own time."""
        if self._pending is None:
            packet = self._work if self._work is not None else self._read_packet()
            if packet is False or packet is None:
                return packet
            assert isinstance(packet, Packet)
            self._pending = self._split(packet) if self.multipacket else packet
        if self.timing and not self._part_due(self._pending):
            return None
        packet, self._pending = self._pending, None
        return packet

    def _part_due(self, packet: Packet) -> bool:
        """Whether ``packet``'s time has come; if not, the timer is set for it."""
        work = self._work
        due = self._due(packet)
        self._work = work
        return due
