"""FromNLANRDump: packets read from NLANR trace files (TSH, FR+); and the
reading of fixed-size trace records it shares with FromDAGDump."""

from __future__ import annotations

from pyclick.args import BOOL, FILENAME, UNSIGNED, WORD, Args
from pyclick.element import PROCESSING_A_AH, read_handler, write_handler
from pyclick.elements.clickargs import DATE, nanoseconds
from pyclick.elements.fromipsumdump import SAMPLE_PROBABILITY
from pyclick.elements.fromnetflowsumdump import LineSource
from pyclick.elements.handlercall import HANDLER_CALL, HandlerCall, parse_value
from pyclick.elements.inet import mark_ip_header_at
from pyclick.errors import ConfigError
from pyclick.packet import Packet
from pyclick.runtime.handlers import HandlerError
from pyclick.runtime.notifier import Notifier

_ONE = 1 << 28
_CELL = 44
_FORMATS = {"fr": 24, "fr+": _CELL, "tsh": _CELL}


class CellSource(LineSource):
    """A reader of a file of trace records, as Click's FromNLANRDump and
    FromDAGDump read them: START/END times, END_CALL, SAMPLE, TIMING, a
    packet read ahead, and the ``extend_interval`` handler. A subclass reads
    a record (``_read_cell``) and makes its packet (``_cell_packet``)."""

    registered = False
    port_count = "0/1-2"
    processing = PROCESSING_A_AH

    def _read_times(self, args: Args, exclusive_start: str) -> None:
        """The keywords both read, in Click's order, around the subclass's own."""
        self._packet_pos = 0
        self.stop_when_done = args.read("STOP", BOOL, False)
        self.active = args.read("ACTIVE", BOOL, True)
        self.force_ip = args.read("FORCE_IP", BOOL, self.force_ip_default)
        first = args.read("START", DATE, 0.0)
        first_off = args.read("START_AFTER", DATE, 0.0)
        last = args.read("END", DATE, 0.0)
        last_off = args.read("END_AFTER", DATE, 0.0)
        interval = args.read("INTERVAL", DATE, 0.0)
        end_call: HandlerCall | None = args.read("END_CALL", HANDLER_CALL)
        if self.has_filepos:
            self._packet_pos = args.read("FILEPOS", UNSIGNED.range(0, 2**63 - 1), 0)
        self.sampling = args.read("SAMPLE", SAMPLE_PROBABILITY, _ONE)
        self.timing = args.read("TIMING", BOOL, False)
        self._extra_keywords(args)
        # Click's file reader takes MMAP; how it reads changes nothing seen.
        args.read("MMAP", BOOL, True)
        args.complete()
        self._check_sampling()
        # As in Click, a time of 0 is no time.
        if first and first_off:
            args.error(exclusive_start)
        if bool(last) + bool(last_off) + bool(interval) > 1:
            args.error("END, END_AFTER, and INTERVAL are mutually exclusive")
        self._first_time = nanoseconds(first or first_off)
        self._have_first_time = bool(first or first_off)
        self._first_time_relative = not first
        self._last_time = nanoseconds(last or last_off or interval)
        self._have_last_time = bool(last or last_off or interval)
        self._last_time_relative = bool(last_off)
        self._last_time_interval = bool(interval) and not last_off and not last
        if self.stop_when_done and end_call is not None:
            args.error("END_CALL and STOP are mutually exclusive")
        elif self.stop_when_done:
            end_call = HandlerCall(f"{self.name}.stop")
        elif end_call is None and self._have_last_time:
            end_call = HandlerCall(f"{self.name}.active", "false")
        self.end_call = end_call
        self._have_any_times = False
        self._packet: Packet | None = None
        self._time_offset: float | None = None
        self._start_reading()

    #: Whether FILEPOS is read, and FORCE_IP's default.
    has_filepos = False
    force_ip_default = True

    def _extra_keywords(self, args: Args) -> None:
        """A subclass's own keywords."""

    def initialize(self) -> None:
        if self.end_call is not None:
            try:
                self.end_call.check(self)
            except ValueError as err:
                raise ConfigError(f"{self.declaration()}: END_CALL: {err}",
                                  self.landmark) from None
        super().initialize()

    def _read_banner(self) -> None:
        """Read the first packet ahead, as Click does when it starts."""
        if self._read_ahead() and self._packet is not None:
            self._time_offset = self.router.now() - self._packet.timestamp
        # As in Click: FILEPOS's value is overwritten by the read-ahead before
        # it is used, so the file goes back to the start of the last record read.
        if self.has_filepos and self._packet_pos:
            self._seek(self._packet_pos)

    def _seek(self, pos: int) -> None:
        assert self._stream is not None
        self._stream.file.seek(pos)
        self._stream.pending = b""
        self._stream.pos = pos

    def port_notifier(self, isoutput: bool, port: int, which: str) -> Notifier | None:
        return None

    # --- reading records
    def _read_cell(self) -> tuple[bytes, int] | None:
        """The next record and its date in nanoseconds; None at the end."""
        raise NotImplementedError

    def _cell_packet(self, cell: bytes, when: int) -> Packet | None:
        """The record's packet (network header set when it is IP); None ends the file."""
        raise NotImplementedError

    def _is_ip(self, packet: Packet) -> bool:
        raise NotImplementedError

    def _read_exact(self, size: int) -> bytes | None:
        """``size`` bytes of the file; None at its end (a warning when a record is cut short)."""
        assert self._stream is not None
        data = self._stream.read(size)
        if len(data) == size:
            return data
        if data or self._stream.pos > self._packet_pos:
            self.log.warning("%s: %s: truncated record at byte %d; the file ends there",
                             self.declaration(), self.filename, self._packet_pos)
        return None

    def _read_ahead(self) -> bool:
        """Read the next packet to emit into ``_packet``; whether to go on
        after it (False at the end, or when the end time made the element inactive)."""
        self._packet = None
        more = True
        while more:
            if self._stream is None:
                return False
            self._packet_pos = self._stream.pos
            read = self._read_cell()
            if read is None:
                return False
            cell, when = read
            if not self._have_any_times:
                self._prepare_times(when)
            if self._have_first_time:
                if when < self._first_time:
                    continue
                self._have_first_time = False
            while self._have_last_time and when >= self._last_time:
                self._have_last_time = False
                self._call_end()
                if not self.active:
                    more = False
            if self.sampling < _ONE and self._random.getrandbits(28) >= self.sampling:
                continue
            packet = self._cell_packet(cell, when)
            if packet is None:
                return False
            if not self._is_ip(packet):
                if self.noutputs > 1:
                    self.output_push(1, [packet])
                continue
            self._packet = packet
            return more
        return False

    def _prepare_times(self, when: int) -> None:
        if self._first_time_relative:
            self._first_time += when
        if self._last_time_relative:
            self._last_time += when
        elif self._last_time_interval:
            self._last_time += self._first_time
        self._have_any_times = True

    def _call_end(self) -> None:
        assert self.end_call is not None
        try:
            self.end_call.write(self)
        except HandlerError as err:
            self.log.error("%s: END_CALL %s: %s", self.declaration(), self.end_call.name,
                           err.message)

    # --- emitting
    def _not_due(self) -> bool:
        """With TIMING: whether the packet read ahead must wait (the timer is then set)."""
        assert self._packet is not None
        if not self.timing or self._time_offset is None:
            return False
        due = self._packet.timestamp + self._time_offset
        if due <= self.router.now():
            return False
        self._timer.schedule_at(due)
        return True

    def _run(self) -> bool:
        if not self.active:
            return False
        if self._packet is not None or self._read_ahead():
            if self._not_due():
                return False
            assert self._packet is not None
            self.output_push(0, [self._packet])
            more = self._read_ahead()
        else:
            more = False
        if more:
            self._task.reschedule()
        elif self.end_call is not None:
            self._call_end()
        return True

    def pull(self, port: int) -> Packet | None:
        if not self.active:
            return None
        packet = None
        if self._packet is not None or self._read_ahead():
            if self._not_due():
                return None
            packet = self._packet
            more = self._read_ahead()
        else:
            more = False
        if not more and self.end_call is not None:
            self._call_end()
        return packet

    # --- handlers
    @write_handler("extend_interval")
    def _write_extend_interval(self, value: str) -> None:
        try:
            self._last_time += nanoseconds(parse_value(DATE, value))
        except HandlerError:
            raise HandlerError("'extend_interval' takes a time interval") from None
        if self.end_call is not None:
            self._have_last_time = True
            self.active = True
            self._wake()


class FromNLANRDump(CellSource):
    """FromNLANRDump(FILENAME, KEYWORDS) -- reads packets from an NLANR trace file

    Description
    Reads the IP packet headers of an NLANR trace: TSH or FR+ records of 44
    bytes each (FR records of 24 bytes are read but, as in Click, give no
    packets: the file ends at its first). A record is a 4-byte date in
    seconds, a 4-byte microsecond count (in TSH, only its low 24 bits; the
    high 8 bits are the link number, which becomes the paint annotation),
    then the first 36 bytes of the packet from its IP header, all in network
    byte order. Each packet is those 36 bytes, its timestamp the record's
    date, its network header and destination IP annotation set. A packet
    whose IP header is not a plain 20-byte IPv4 header (IP options, IPv6,
    not IP) goes out of output 1 when FromNLANRDump has one, and is dropped
    otherwise.

    FORMAT names the format; 'guess' (the default) takes it from the file
    name's ending (.tsh or .fr, before any .gz, .z or .bz2), and otherwise
    warns and reads TSH (a '.fr+' name too, as in Click: give FORMAT fr+).
    The file may be compressed with gzip or bzip2. A record cut short ends
    the file, with a warning naming the file and the byte where the record
    starts.

    START skips the packets dated before it, START_AFTER those less than
    that long after the first record. END, END_AFTER (counted from the first
    record) or INTERVAL (counted from the start date) sets an end date: at
    the first record dated at or after it, FromNLANRDump calls END_CALL
    (which is, with STOP, 'NAME.stop'; with neither, 'NAME.active false');
    if that made it inactive, the packet waits (writing active true emits
    it). When the file is done, END_CALL is called (again, as in Click), if
    there is one. With TIMING, packets leave with the gaps between their
    dates, measured on the router's clock from the first record. With
    SAMPLE, each packet is emitted with that probability (kept to 2^-28).
    FILEPOS is read but, as in Click, has no effect: once the first packet
    is read, the file goes back to where that packet's record starts (Click
    keeps the record's position where it kept FILEPOS), so that a first
    packet that is not the file's first record is emitted twice. A push output emits a
    packet a task run; a pull output hands one out when pulled.

    Ports
    no inputs; agnostic output 0, optional push output 1 (packets with no plain IPv4 header)

    Keyword arguments
    FILENAME -- the trace file; mandatory
    FORMAT -- fr, fr+, tsh or guess; default guess
    STOP -- stop the driver when the file is done or the end date reached; default false
    ACTIVE -- emit packets; default true
    FORCE_IP -- ignored (IP packets only, always); default true
    START -- skip the packets before this date (seconds since the epoch); default none
    START_AFTER -- skip the packets less than this long after the first one; default none
    END -- end date (seconds since the epoch); default none
    END_AFTER -- end this long after the first record's date; default none
    INTERVAL -- end this long after the start date; default none
    END_CALL -- write handler (with value) called at the end date and when the file is done; default as above
    FILEPOS -- a byte of the file; no effect (see above); default 0
    SAMPLE -- the probability that a packet is emitted, 0 to 1; default 1
    TIMING -- keep the gaps between the packets' dates; default false
    MMAP -- boolean, Click's choice of mmap(2); the file is read the same either way; default true

    Element handlers
    sampling_prob (read) -- the SAMPLE setting
    active (read/write) -- the ACTIVE setting
    encap (read) -- IP
    stop (write) -- makes the element inactive and stops the driver
    packet_filepos (read) -- where the last record read starts, in bytes (a packet is read ahead
    of the one emitted)
    extend_interval (write) -- a time: moves the end date that much later; with an END_CALL, also
    makes the element active and looks for the end date again
    filename (read) -- the file name
    filesize (read) -- the file's size in bytes ('-' when it is not a regular file)
    filepos (read) -- how far the file has been read, in bytes

    Example
    FromNLANRDump(trace.tsh, STOP true)
      -> ToIPSummaryDump(trace.ipsum, CONTENTS timestamp ip_src ip_dst link);
    """

    has_filepos = True

    def configure(self, args: Args) -> None:
        self.filename = args.read_mp("FILENAME", FILENAME)
        self._format = args.read("FORMAT", WORD, "guess").lower()
        self._read_times(args, "START and START_AFTER are mutually exclusive")
        if self._format == "guess":
            self._format = _guess_format(self.filename)
            if self._format is None:
                self.log.warning("%s: cannot guess file format from filename, assuming 'tsh'",
                                 self.declaration())
                self._format = "tsh"
        elif self._format not in _FORMATS:
            args.error("bad FORMAT")

    def _read_cell(self) -> tuple[bytes, int] | None:
        cell = self._read_exact(_FORMATS.get(self._format, _CELL))
        if cell is None:
            return None
        usec = int.from_bytes(cell[4:8], "big")
        if self._format == "tsh":
            usec &= 0xFFFFFF
        return cell, int.from_bytes(cell[:4], "big") * 1_000_000_000 + usec * 1000

    def _cell_packet(self, cell: bytes, when: int) -> Packet | None:
        if self._format == "fr":
            return None
        packet = Packet(cell[8:])
        packet.timestamp = self.router.from_epoch(when / 1e9)
        if self._format == "tsh":
            packet.paint = cell[4]
        return packet

    def _is_ip(self, packet: Packet) -> bool:
        # Only a plain IPv4 header passes: Click checks the header length is 20.
        return mark_ip_header_at(packet, 0) and packet.transport_header_offset == 20

    @read_handler("packet_filepos")
    def _read_packet_filepos(self) -> str:
        return str(self._packet_pos)


def _guess_format(filename: str) -> str | None:
    """The format a file name's ending names. As in Click, '.fr+' is not
    recognized (Click compares it with the name's last 3 characters)."""
    name = filename.lower()
    for ending in (".gz", ".z", ".bz2"):
        if name.endswith(ending):
            name = name[:-len(ending)]
            break
    if name.endswith(".fr"):
        return "fr"
    return "tsh" if name.endswith(".tsh") else None
