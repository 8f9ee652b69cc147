"""Packet sources: InfiniteSource (generated packets) and FromDump (pcap replay).

Both emit from a task, a burst per run, so they share the router's threads
with the rest of the configuration; both can stop the driver or call a
handler when they run out. RatedSource and TimedSource (their own modules)
make packets the same way, with :func:`packet_bytes`.
"""

from __future__ import annotations

import os
from array import array
from typing import TYPE_CHECKING, ClassVar

from pyclick.args import BOOL, FILENAME, INT, STRING, TIME, UNSIGNED, Args, Number
from pyclick.element import AGNOSTIC, PROCESSING_A_AH, read_handler, write_handler
from pyclick.elements.clickargs import (DATA, DATE, SAMPLING, SAMPLING_SHIFT, nanoseconds,
                                        to_bytes, unparse_fixed)
from pyclick.elements.inet import (ETHERTYPE_IPV4, ETHERTYPE_IPV6, mark_ip_header,
                                   mark_ip_header_at)
from pyclick.elements.handlercall import HANDLER_CALL, HandlerCall, parse_value
from pyclick.elements.switchable import Switchable
from pyclick.errors import ConfigError
from pyclick.packet import Packet, fresh_batch
from pyclick.runtime.handlers import HandlerError
from pyclick.runtime.notifier import EMPTY, Notifier, downstream_full_signal
from pyclick.runtime.timers import Timer

if TYPE_CHECKING:
    from pyclick.sim.pcap import PcapReader, PcapRecord, RecordBatch

#: The generated packets' contents when DATA is not given: Click's (69 bytes),
#: so that byte counts match Click's.
DEFAULT_DATA = b"Random bullshit in a packet, at least 64 bytes long. Well, now it is."

_LINKTYPE_NAMES = {1: "ETHER", 101: "IP", 113: "LINUX_SLL", 228: "IP4", 229: "IP6"}
_LINKTYPE_ETHER, _LINKTYPE_RAW, _LINKTYPE_SLL = 1, 101, 113
#: Raw IP under another number; FromDump reads it as _LINKTYPE_RAW, as Click does.
_LINKTYPE_HOST_RAW = 12
#: The link types whose IP headers FORCE_IP finds.
_FORCE_IP_LINKTYPES = (_LINKTYPE_ETHER, _LINKTYPE_RAW, _LINKTYPE_SLL)
#: A Linux cooked capture header: the protocol (an ethertype) in its last two bytes.
_SLL_HEADER = 16
_IP_ETHERTYPES = (ETHERTYPE_IPV4, ETHERTYPE_IPV6)
#: A classic pcap file's header, and each record's, in bytes.
_PCAP_HEADER, _RECORD_HEADER = 24, 16
#: What FromDump's reading of a record gives besides a record to emit.
_SKIPPED, _HALTED, _EOF = -1, -2, -3

#: Longest packet InfiniteSource makes (LENGTH): an IP datagram's maximum.
MAX_LENGTH = 65535
#: Most packets a source emits in one task run (BURST).
MAX_BURST = 65536
_LENGTH = INT.range(-1, MAX_LENGTH)
_BURST = INT.range(1, MAX_BURST)
_LIMIT = INT.range(None, 2**63 - 1)


def _mark_ip(packet: Packet, linktype: int) -> bool:
    """FORCE_IP: set the network header of the IP header a frame of that link type holds."""
    if linktype == _LINKTYPE_ETHER:
        return mark_ip_header(packet)
    if linktype == _LINKTYPE_SLL:
        data = packet.data
        return (len(data) >= _SLL_HEADER
                and int.from_bytes(data[_SLL_HEADER - 2:_SLL_HEADER], "big") in _IP_ETHERTYPES
                and mark_ip_header_at(packet, _SLL_HEADER))
    return mark_ip_header_at(packet, 0)


def packet_bytes(data: bytes, length: int) -> bytes:
    """DATA cut to LENGTH, or repeated to fill it; LENGTH negative keeps DATA."""
    if length < 0 or length == len(data):
        return data
    if length < len(data):
        return data[:length]
    if not data:
        return bytes(length)
    return (data * (length // len(data) + 1))[:length]


class _Source(Switchable):
    """What the sources share besides ``active`` and ``count``: the ending (STOP / END_CALL)."""

    registered = False
    port_count = "0/1"

    def _read_ending(self, args: Args) -> None:
        self._ended = False
        self.stop_when_done = args.read("STOP", BOOL, False)
        self.end_call: HandlerCall | None = args.read("END_CALL", HANDLER_CALL)
        if self.stop_when_done and self.end_call is not None:
            args.error("STOP and END_CALL are mutually exclusive")

    def initialize(self) -> None:
        if self.end_call is not None:
            self.end_call.check(self)

    def _finished(self) -> None:
        """The source ran out: a driver stop event or the END_CALL, once per run-out."""
        if self._ended:
            return
        self._ended = True
        self._end_action("all packets sent")

    def _end_action(self, reason: str) -> None:
        """What STOP or END_CALL asks for; ``reason`` is the driver stop's."""
        if self.stop_when_done:
            self.router.please_stop_driver(f"{self.name}: {reason}")
        elif self.end_call is not None:
            try:
                self.end_call.write(self)
            except HandlerError as err:
                self.log.error("%s: END_CALL %s: %s", self.declaration(), self.end_call.name,
                               err.message)

    def _wake(self) -> None:
        """Resume emitting after a handler changed what remains to do."""
        raise NotImplementedError


class _GeneratingSource(_Source):
    """What the sources that make packets of DATA share: LIMIT and the
    ``reset``, ``data`` and ``limit`` handlers.

    A subclass sets ``self.data`` and ``self.limit`` in configure();
    :meth:`_remake` runs after ``data`` was written.
    """

    registered = False
    data: bytes
    limit: int
    #: How the ``limit`` handler reads its value.
    limit_type: ClassVar[Number] = INT

    def _done(self) -> bool:
        return 0 <= self.limit <= self.count

    def _remake(self) -> None:
        """Rebuild what is made from DATA; nothing by default."""

    @write_handler("reset")
    def _write_reset(self, value: str) -> None:
        self.count = 0
        self._wake()

    @read_handler("data", raw=True)
    def _read_data(self) -> str:
        return self.data.decode("latin-1")

    @write_handler("data")
    def _write_data(self, value: str) -> None:
        self.data = to_bytes(parse_value(STRING, value))
        self._remake()

    @read_handler("limit")
    def _read_limit(self) -> str:
        return str(self.limit)

    @write_handler("limit")
    def _write_limit(self, value: str) -> None:
        self.limit = parse_value(self.limit_type, value)
        self._wake()


class _SizedSource(_GeneratingSource):
    """A generating source whose packets are DATA cut or padded to LENGTH
    (``packet_bytes``): the LENGTH keyword and DATASIZE, Click's older name
    for it, the packets' bytes, and the ``length`` and ``datasize``
    handlers."""

    registered = False
    length: int
    _bytes: bytes

    def _read_size(self, args: Args) -> None:
        self.length = args.read("LENGTH", _LENGTH, -1)
        # Click's older name for LENGTH, still read there.
        self.length = args.read("DATASIZE", _LENGTH, self.length)

    def _remake(self) -> None:
        self._bytes = packet_bytes(self.data, self.length)

    @read_handler("length")
    @read_handler("datasize")
    def _read_length(self) -> str:
        return str(self.length)

    @write_handler("length")
    @write_handler("datasize")
    def _write_length(self, value: str) -> None:
        self.length = parse_value(_LENGTH, value)
        self._remake()


class InfiniteSource(_SizedSource):
    """InfiniteSource(DATA, LIMIT, BURST, ACTIVE, KEYWORDS) -- generates packets whenever scheduled

    Description
    Creates packets consisting of DATA. In push context, its task pushes
    BURST such packets (as one batch) every time it runs, which is often;
    in pull context, every pull gets one. Stops after LIMIT packets (never
    when LIMIT is negative); sends only while ACTIVE. Each packet's
    timestamp is the router's clock when it was made. The packets share
    DATA's bytes until an element changes them.

    In push context, InfiniteSource listens for downstream full
    notification: it waits while the Queue it feeds is full. Once LIMIT
    packets are sent, its next run stops the driver (STOP) or calls
    END_CALL.

    Ports
    one agnostic output

    Keyword arguments
    DATA -- packet contents (a string; Click's \\<0800> hex data allowed); default 69 bytes of text
    LIMIT -- packets to send, negative for no limit (at most 2^63-1); default -1
    BURST -- packets per task run, 1 to 65536; default 1
    ACTIVE -- send only while true; default true
    LENGTH, DATASIZE -- packet length, up to 65535: DATA cut, or repeated to fill; default DATA's length (-1)
    STOP -- stop the driver once LIMIT packets are sent; default false
    END_CALL -- write handler (with value) called once LIMIT packets are sent; default none
    TIMESTAMP -- set packet timestamps; default true

    Element handlers
    count (read) -- packets sent
    reset (write) -- sets count to 0, so LIMIT more packets will be sent
    data, length, limit, burst, active (read/write) -- the settings of the same names
    datasize, burstsize (read/write) -- the same as length and burst (deprecated)

    Example
    InfiniteSource(LIMIT 10, STOP true) -> c :: Counter -> Discard;
    InfiniteSource(\\<0800>) -> Queue -> Unqueue -> Discard;
    """

    processing = AGNOSTIC
    flags = "S1"
    limit_type = _LIMIT

    can_live_reconfigure = True

    def configure(self, args: Args) -> None:
        self._read_settings(args)
        self._task = self.own_task(self._run)
        self._notifier = Notifier(active=self.active)

    def live_reconfigure(self, args: Args) -> None:
        # As Click: new settings and a count from 0; the task and the
        # notification, which other elements hold, stay.
        self._read_settings(args)
        self._wake()

    def _read_settings(self, args: Args) -> None:
        self.data = args.read_p("DATA", DATA, DEFAULT_DATA)
        self._read_pace(args)
        self._read_size(args)
        self._read_ending(args)
        args.complete()
        self._made()

    def _read_pace(self, args: Args) -> None:
        """LIMIT, BURST and ACTIVE (positional after the first argument), TIMESTAMP."""
        self.limit = args.read_p("LIMIT", _LIMIT, -1)
        self.burst = args.read_p("BURST", _BURST, 1)
        self.active = args.read_p("ACTIVE", BOOL, True)
        self.timestamp = args.read("TIMESTAMP", BOOL, True)

    def _made(self) -> None:
        """What the settings make: the packets' bytes, a count from 0."""
        self._remake()
        self.count = 0

    def initialize(self) -> None:
        super().initialize()
        if self.output_is_push(0):
            self._nonfull = downstream_full_signal(self, 0, self._task.reschedule)
            if self.active:
                self._task.reschedule()

    def port_notifier(self, isoutput: bool, port: int, which: str) -> Notifier | None:
        return self._notifier if isoutput and which == EMPTY else None

    def _make(self, n: int) -> list[Packet]:
        data = self._bytes
        now = self.router.now() if self.timestamp else 0.0
        self.count += n
        return fresh_batch(data, n, now)

    def _run(self) -> bool:
        if not self.active or not self._nonfull:
            return False
        n = self.burst
        if self.limit >= 0:
            n = max(0, min(n, self.limit - self.count))
        if n > 0:
            self.output_push(0, self._make(n))
            self._task.reschedule()
            return True
        if self._done():
            self._finished()
        return False

    def pull(self, port: int) -> Packet | None:
        batch = self.pull_batch(port, 1)
        return batch[0] if batch else None

    def pull_batch(self, port: int, max_packets: int) -> list[Packet]:
        n = max_packets if self.active else 0
        if self.limit >= 0:
            n = max(0, min(n, self.limit - self.count))
        if n > 0:
            return self._make(n)
        if self.active and self._done():
            self._finished()
        self._notifier.sleep()
        return []

    def _wake(self) -> None:
        if not self.active or self._done() or self.scheduling.scheduler is None:
            return
        self._ended = False
        if self.output_is_push(0):
            self._task.reschedule()
        else:
            self._notifier.wake()

    @read_handler("burst")
    @read_handler("burstsize")
    def _read_burst(self) -> str:
        return str(self.burst)

    @write_handler("burst")
    @write_handler("burstsize")
    def _write_burst(self, value: str) -> None:
        self.burst = parse_value(_BURST, value)


class FromDump(_Source):
    """FromDump(FILENAME, KEYWORDS) -- reads packets from a pcap file

    Description
    Emits the packets of a classic pcap file (as written by tcpdump -w; both
    byte orders, micro- or nanosecond timestamps). Each packet holds the
    captured bytes, its MAC header annotation at their start, its extra
    length annotation the bytes the capture left out (ToDump writes the
    original length back), and its timestamp is the one recorded in the file
    (a date; elements that delay packets by their timestamp, DelayShaper
    for one, see how long ago it was).
    Without TIMING, a push output sends packets as fast as the task runs,
    BURST at a time; with TIMING, the gaps between packets are kept,
    measured on the router's clock (real or simulated) from the first packet
    read. A pull output hands out packets as they are pulled (with TIMING,
    once they are due). With SAMPLE, each packet is emitted with that
    probability (kept to 2^-28, as Click keeps it), the others skipped.
    With STOP, FromDump becomes inactive when the file is done, and stops
    the driver; the end of the file is found by the task run after the last
    packet's, as in Click.

    BURST 1 (the default) is Click's pace: a packet a task run, so that a
    Queue downstream is drained as fast as FromDump fills it. A larger BURST
    replays a file several times faster, but such a Queue then fills BURST
    times faster than it is drained, and overflows.

    The file is read a few megabytes at a time as its packets go out, so a
    capture of any size starts at once and holds little memory. A file that
    is not a pcap file is an error. A file that ends in the middle of a
    record (a capture cut short when tcpdump was killed), or that holds an
    impossible record, is done at that record: the packets before it are
    emitted, as Click and tcpdump do, and a warning names the file and the
    byte where the damage starts when FromDump reaches it.

    START or START_AFTER skips the packets recorded before a date, up to
    the first one at or after it (the later ones are not checked). END,
    END_AFTER or INTERVAL sets an end date: at the first packet recorded at
    or after it, FromDump calls END_CALL, or stops the driver and becomes
    inactive with STOP, or else becomes inactive. If it is then inactive,
    that packet is skipped (writing active true goes on with the next one);
    if not, that packet and the rest of the file are emitted. When the file
    is done, FromDump does the same (END_CALL, STOP, or without them,
    becoming inactive if an end date was set).
    START_AFTER and END_AFTER count from the date of the first packet read,
    INTERVAL from the start date (START_AFTER's, START, or the first
    packet's). A time of 0 sets nothing. At most one of START and
    START_AFTER may be given, and one of END, END_AFTER and INTERVAL.

    With FORCE_IP, a packet goes out of output 0 only if it holds a whole
    IPv4 or IPv6 header, with the network header (and, for IPv4, the
    destination IP annotation) set: after the Ethernet header (one 802.1Q
    tag allowed) of an ETHER file, at the start of an IP file, after the
    16-byte header of a LINUX_SLL file whose protocol field says IPv4 or
    IPv6. The other packets go out of output 1 if FromDump has one, else
    are dropped; they are not counted. FORCE_IP is refused for the files of
    other link types. IP files (link type 101, or 12) are read with FORCE_IP
    whatever its setting, as in Click.

    Ports
    no inputs; agnostic output 0, optional push output 1 (non-IP packets with FORCE_IP)

    Keyword arguments
    FILENAME -- the pcap file; mandatory
    STOP -- stop the router when the file is done or the end date reached; default false
    END_CALL -- write handler (with value) called when the file is done or the end date reached; default none
    ACTIVE -- emit only while true; default true
    TIMING -- keep the file's timing; default false
    BURST -- packets per task run of a push output without TIMING, 1 to 65536; default 1
    SAMPLE -- the probability that a packet is emitted, 0 to 1; default 1
    FORCE_IP -- emit only IP packets, their network header set; default false (true for IP files)
    START -- skip the packets before this date (seconds since the epoch); default none
    START_AFTER -- skip the packets less than this long after the first one; default none
    END -- end date (seconds since the epoch); default none
    END_AFTER -- end this long after the first packet's date; default none
    INTERVAL -- end this long after the start date; default none
    FILEPOS -- start at this byte of the file, where a packet starts (as the filepos handler reads it); default the first packet
    MMAP -- boolean, Click's choice of mmap(2) over read(2); read either way, a few megabytes at a time (see above); default true

    Element handlers
    count (read) -- packets emitted (out of output 0)
    reset_counts (write) -- sets count to 0
    active (read/write) -- the ACTIVE setting
    stop (write) -- makes FromDump inactive and stops the driver
    filename (read) -- the file name
    filesize (read) -- the file's size in bytes
    filepos (read/write) -- where the next packet is read from, in bytes (the file's end once it is done);
    writing the start of a packet (or the end) moves there (the file is read again from its start to
    find a place behind or far ahead)
    packet_filepos (read) -- where the last packet read started (the file's end once it is done; 0 before)
    sampling_prob (read) -- the SAMPLE setting
    encap (read) -- the file's link type (ETHER, IP, LINUX_SLL or the number)
    reset_timing (write) -- with TIMING: the next packet goes out at once, the later ones keep their gaps from it
    extend_interval (write) -- a time: moves the end date that much later; with an end date, STOP or
    END_CALL, also makes FromDump active and looks for the end date again

    Example
    FromDump(trace.pcap, STOP true, BURST 32) -> c :: Counter -> Discard;
    f :: FromDump(trace.pcap, FORCE_IP true, START_AFTER 10s, INTERVAL 1min) -> IPPrint -> Discard;
    f[1] -> Discard;
    FromDump(trace.pcap, TIMING true, STOP true) -> Queue -> ToDevice(eth0);
    """

    port_count = "0/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        self.filename = args.read_mp("FILENAME", FILENAME)
        self.active = args.read("ACTIVE", BOOL, True)
        self.timing = args.read("TIMING", BOOL, False)
        self.burst = args.read("BURST", _BURST, 1)
        self.sampling = args.read("SAMPLE", SAMPLING, 1 << SAMPLING_SHIFT)
        self.force_ip = args.read("FORCE_IP", BOOL, False)
        start = args.read("START", DATE, 0.0)
        start_after = args.read("START_AFTER", DATE, 0.0)
        end = args.read("END", DATE, 0.0)
        end_after = args.read("END_AFTER", DATE, 0.0)
        interval = args.read("INTERVAL", DATE, 0.0)
        self._start_pos = args.read("FILEPOS", UNSIGNED.range(0, 2**63 - 1), 0)
        # How Click maps the file changes nothing a configuration sees.
        args.read("MMAP", BOOL, True)
        self._read_ending(args)
        # As in Click, a time of 0 is no time.
        if start and start_after:
            args.error("START and START_AFTER are mutually exclusive")
        if bool(end) + bool(end_after) + bool(interval) > 1:
            args.error("END, END_AFTER and INTERVAL are mutually exclusive")
        args.complete()
        # The dates (in nanoseconds) packets are checked against. The
        # relative ones become dates at the first packet read.
        self._first_time = nanoseconds(start or start_after)
        self._have_first_time = bool(start or start_after)
        self._first_time_relative = not start
        self._last_time = nanoseconds(end or end_after or interval)
        self._have_last_time = self._end_date_given = bool(end or end_after or interval)
        self._last_time_relative = bool(end_after)
        self._last_time_interval = bool(interval)
        self._times_ready = False
        self.count = 0
        self.linktype = 0
        self._emit_ip_only = False
        # The file is read a batch of records at a time, as the packets go
        # out: a window of records, ``_next`` the next one to read in it.
        self._reader: PcapReader | None = None
        self._records: list[PcapRecord] = []
        #: Each record's date in nanoseconds, exactly as the file has it.
        self._dates = array("q")
        #: Where each record starts in the file, and where the last one ends.
        self._offsets = array("q")
        self._end = _PCAP_HEADER
        self._next = 0
        #: How many records of the file come before the window.
        self._before = 0
        #: With TIMING: the record read and waiting for its time.
        self._held: int | None = None
        self._out: list[Packet] = []
        self._non_ip: list[Packet] = []
        self.packet_filepos = 0
        self._time_origin: float | None = None
        self._time_anchor = 0.0
        self._random = self.router.random_source(self)
        self._task = self.own_task(self._run)
        self._timer = Timer(self, self._on_timer)
        # A pull output: read when pulled, the notifier asleep at the end.
        self._pulled = False
        self._notifier = Notifier(active=self.active)

    def initialize(self) -> None:
        super().initialize()
        self._pulled = self.output_is_pull(0)
        # The capture reader brings numpy: loaded by a FromDump only, when it starts.
        from pyclick.sim.pcap import PcapError

        try:
            self._reader = self._open()
        except (OSError, PcapError) as err:
            raise ConfigError(f"{self.declaration()}: {self._problem(err)}",
                              self.landmark) from None
        self.linktype = self._reader.format.linktype
        if self.linktype == _LINKTYPE_HOST_RAW:
            self.linktype = _LINKTYPE_RAW
        if self.force_ip and self.linktype not in _FORCE_IP_LINKTYPES:
            name = _LINKTYPE_NAMES.get(self.linktype)
            raise ConfigError(f"{self.declaration()}: FORCE_IP: '{self.filename}' has link type "
                              f"{self.linktype}{f' ({name})' if name else ''}: can't force IP "
                              "packets (ETHER, IP or LINUX_SLL only)", self.landmark)
        self._emit_ip_only = self.force_ip or self.linktype == _LINKTYPE_RAW
        if self._start_pos:
            try:
                self._seek(self._start_pos)
            except ValueError as err:
                raise ConfigError(f"{self.declaration()}: FILEPOS: {err}", self.landmark) from None
        else:
            # The first records: a file damaged from its start says so now.
            self._fill()
        self._wake()

    def _open(self) -> PcapReader:
        """A reader of the file, its header checked (OSError, PcapError)."""
        from pyclick.sim.pcap import PcapReader

        return PcapReader(self.filename)

    def _problem(self, err: Exception) -> str:
        """What ``_open``'s failure says, for a message."""
        if isinstance(err, OSError):
            return f"cannot read '{self.filename}': {err.strerror or err}"
        return str(err)

    def _fill(self) -> bool:
        """Whether there is a record to read at ``_next``: once the window's
        records are all read, the file's next batch becomes the window. False
        at the end of the file, or at a damaged record (the file ends there:
        a warning says where)."""
        if self._next < len(self._records):
            return True
        if self._reader is None:
            return False
        from pyclick.sim.pcap import PcapError

        try:
            batch = self._reader.read_batch()
        except PcapError as damage:
            self._reader = None
            self.log.warning("%s: %s; the %d packets before it are emitted",
                             self.declaration(), damage, self._before + len(self._records))
            return False
        if batch is None:
            self._reader = None
            return False
        self._before += len(self._records)
        self._take_window(batch)
        return True

    def _take_window(self, batch: RecordBatch) -> None:
        """Make ``batch`` the window of records, read from its first."""
        assert self._reader is not None
        fmt = self._reader.format
        unit = 1 if fmt.nanoseconds else 1000
        self._records = batch.records(fmt.scale)
        # 64-bit integers: a date in nanoseconds, with seconds below 2^32, fits.
        self._dates = array("q", (batch.seconds * 1_000_000_000 + batch.fractions * unit)
                            .astype("=i8").tobytes())
        self._offsets = array("q", (batch.offset + batch.starts - _RECORD_HEADER)
                              .astype("=i8").tobytes())
        self._end = batch.offset + int(batch.starts[-1] + batch.lengths[-1])
        self._next = 0

    def _wake(self) -> None:
        if not self.active or self.scheduling.scheduler is None:
            return
        if self._pulled:
            self._notifier.wake()
        elif self.timing:
            self._timer.schedule_at(self.router.now())
        else:
            self._task.reschedule()

    def port_notifier(self, isoutput: bool, port: int, which: str) -> Notifier | None:
        return self._notifier if isoutput and port == 0 and which == EMPTY else None

    # --- reading the file, a record at a time, as Click's FromDump does
    def _prepare_times(self, index: int) -> None:
        """Turn the relative START_AFTER, END_AFTER and INTERVAL into dates,
        and start TIMING's clock, at the first record read."""
        date = self._dates[index]
        if self._first_time_relative:
            self._first_time += date
        if self._last_time_relative:
            self._last_time += date
        elif self._last_time_interval:
            self._last_time += self._first_time
        if self.timing:
            self._time_origin = self.router.now()
            self._time_anchor = self._records[index].timestamp
        self._times_ready = True

    def _read_one(self) -> int:
        """Read the next record: its index if it is to be emitted, else
        _SKIPPED, _HALTED (the end date made FromDump inactive) or _EOF."""
        if not self._fill():
            self.packet_filepos = self._end
            return _EOF
        index = self._next
        self.packet_filepos = self._offsets[index]
        self._next = index + 1
        if not self._times_ready:
            self._prepare_times(index)
        date = self._dates[index]
        if self._have_first_time:
            if date < self._first_time:
                return _SKIPPED
            self._have_first_time = False
        # Checked again after the end action: it may have moved the end date.
        while self._have_last_time and date >= self._last_time:
            self._have_last_time = False
            self._flush()
            self._end_action("end date reached")
            if not self.active:
                return _HALTED
        if (self.sampling < 1 << SAMPLING_SHIFT
                and self._random.random() >= self.sampling / (1 << SAMPLING_SHIFT)):
            return _SKIPPED
        return index

    def _take(self, index: int) -> None:
        """Make record ``index``'s packet and queue it for its output."""
        record = self._records[index]
        # The file holds dates; packets carry the router's time (ToDump writes
        # the same dates back).
        packet = Packet(data=record.frame, timestamp=self.router.from_epoch(record.timestamp))
        # The link-level header starts the frame, as Click's FromDump marks it
        # (an Ethernet header stripped later can still be found).
        packet.set_mac_header(0, None)
        if record.extra_length:
            # What the capture left out, as Click's FromDump says it (ToDump writes
            # the packet's original length back).
            packet.extra_length = record.extra_length
        # Each batch holds packets of one output, so that they leave in the
        # file's order (pulled packets leave when they are pulled).
        if self._emit_ip_only and not _mark_ip(packet, self.linktype):
            if self._out and not self._pulled:
                self._flush()
            self._non_ip.append(packet)
        else:
            if self._non_ip:
                self._flush()
            self._out.append(packet)

    def _flush(self) -> None:
        """Push the packets taken so far: output 0 (counted; pulled, it keeps
        them for the pull), the non-IP ones output 1."""
        non_ip = self._non_ip
        self._non_ip = []
        if not self._pulled:
            out = self._out
            self._out = []
            self.count += len(out)
            if out:
                self.output_push(0, out)
        if non_ip:
            self.output_push(1, non_ip)

    def _end_action(self, reason: str) -> None:
        # Click's FromDump calls its stop handler for STOP, and without STOP
        # or END_CALL becomes inactive at an end date.
        if self.stop_when_done or (self.end_call is None and self._end_date_given):
            self.active = False
        super()._end_action(reason)

    def _filepos(self) -> int:
        """Where the next record starts: the end after the last one."""
        return self._offsets[self._next] if self._next < len(self._records) else self._end

    def _run(self) -> bool:
        if not self.active:
            self._task.unschedule()
            return False
        if self.timing:
            # Only after the last packet: finding the end of the file.
            self._on_timer()
            return False
        # Records read so far, counted from the file's first.
        start = self._before + self._next
        status = _SKIPPED
        if (self._times_ready and not (self._have_first_time or self._have_last_time)
                and self.sampling >= 1 << SAMPLING_SHIFT):
            # Nothing left to check: the next BURST records as they are.
            wanted = self.burst
            while wanted and self._fill():
                first = self._next
                end = min(first + wanted, len(self._records))
                for index in range(first, end):
                    self._take(index)
                self._next, self.packet_filepos = end, self._offsets[end - 1]
                wanted -= end - first
            if wanted == self.burst:
                status = self._read_one()
        else:
            status = self._read_some(self.burst)
        self._flush()
        # The end of the file is found by the run after the last packet's, as
        # in Click: the elements downstream have had their turn in between
        # (an Unqueue has taken the last packet from its Queue before STOP).
        if status == _EOF:
            self._finished()
        if self.active and status != _EOF:
            self._task.reschedule()
        else:
            self._task.unschedule()
        return self._before + self._next > start

    def _read_some(self, count: int) -> int:
        """Take up to ``count`` records (the records skipped count too); the
        last reading's status."""
        status = _SKIPPED
        for _ in range(count):
            status = self._read_one()
            if status >= 0:
                self._take(status)
            elif status != _SKIPPED:
                break
        return status

    # --- a pull output: packets read as they are pulled
    def pull(self, port: int) -> Packet | None:
        batch = self.pull_batch(port, 1)
        return batch[0] if batch else None

    def pull_batch(self, port: int, max_packets: int) -> list[Packet]:
        if not self.active:
            self._notifier.sleep()
            return []
        status = self._read_timed() if self.timing else self._read_some(max_packets)
        self._flush()
        out, self._out = self._out, []
        self.count += len(out)
        if status == _EOF and not out:
            self._notifier.sleep()
            self._finished()
        elif status == _HALTED or not self.active:
            self._notifier.sleep()
        return out

    # --- TIMING: a timer fires at each packet's due time on the router's clock
    def _due(self, index: int) -> float:
        assert self._time_origin is not None
        return self._time_origin + self._records[index].timestamp - self._time_anchor

    def _on_timer(self) -> None:
        if not self.active:
            return
        if self._pulled:
            self._notifier.wake()
            return
        status = self._read_timed()
        emitted = bool(self._out or self._non_ip)
        self._flush()
        if status == _EOF:
            if emitted:
                # As without TIMING, the end is found by a later run.
                self._task.reschedule()
            else:
                self._finished()

    def _read_timed(self) -> int:
        """Take the records that are due; schedule the timer for the next one
        (pulled: its notifier sleeps until then). The last reading's status."""
        now = self.router.now()
        status = _SKIPPED
        while self.active:
            if self._held is None:
                status = self._read_one()
                if status == _SKIPPED:
                    continue
                if status < 0:
                    return status
                self._held = status
            if self._time_origin is None:
                self._time_origin, self._time_anchor = now, self._records[self._held].timestamp
            due = self._due(self._held)
            if due > now:
                self._timer.schedule_at(due)
                if self._pulled and not self._out:
                    self._notifier.sleep()
                return status
            self._take(self._held)
            self._held = None
        return status

    # --- handlers
    @write_handler("reset_counts")
    def _write_reset_counts(self, value: str) -> None:
        self.count = 0

    @read_handler("filename")
    def _read_filename(self) -> str:
        return self.filename

    @read_handler("filesize")
    def _read_filesize(self) -> str:
        try:
            return str(os.path.getsize(self.filename))
        except OSError:
            return "-"

    @write_handler("stop")
    def _write_stop(self, value: str) -> None:
        self.active = False
        self.router.please_stop_driver(f"{self.name}: stop handler written")

    @read_handler("filepos")
    def _read_filepos(self) -> str:
        return str(self._filepos())

    @write_handler("filepos")
    def _write_filepos(self, value: str) -> None:
        position = parse_value(UNSIGNED, value)
        if position == self._end:
            self._next = len(self._records)
        elif position in self._offsets:
            self._next = self._offsets.index(position)
            self._ended = False
        else:
            self._seek(position)
            self._ended = False
        self._held = None

    def _seek(self, position: int) -> None:
        """Make the batch holding the record that starts at ``position`` the
        window, read from there (the last batch, read to its end, for the end
        of the file); ValueError if no record starts there. The file is read
        from its start: the records' lengths are what say where they start."""
        from pyclick.sim.pcap import PcapError

        try:
            reader = self._open()
        except (OSError, PcapError) as err:
            raise ValueError(self._problem(err)) from None
        before, last = 0, None
        try:
            while (batch := reader.read_batch()) is not None:
                if position < reader.offset:
                    starts = (batch.offset + batch.starts - _RECORD_HEADER).tolist()
                    if position not in starts:
                        break
                    self._window_at(reader, batch, before, starts.index(position))
                    return
                before, last = before + len(batch), batch
        except PcapError:
            # A damaged record ends the file: its end is where the last good one ends.
            batch = None
        if batch is None and last is not None and position == reader.offset:
            self._window_at(reader, last, before - len(last), len(last))
            return
        raise ValueError(f"no packet starts at {position}")

    def _window_at(self, reader: PcapReader, batch: RecordBatch, before: int, index: int
                   ) -> None:
        """Read on from record ``index`` of ``batch``, which ``before`` records precede."""
        self._reader, self._before = reader, before
        self._take_window(batch)
        self._next = index

    @read_handler("packet_filepos")
    def _read_packet_filepos(self) -> str:
        return str(self.packet_filepos)

    @read_handler("sampling_prob")
    def _read_sampling_prob(self) -> str:
        return unparse_fixed(self.sampling, SAMPLING_SHIFT)

    @write_handler("reset_timing")
    def _write_reset_timing(self, value: str) -> None:
        self._time_origin = None
        if self.timing and self._timer.scheduled:
            self._timer.unschedule()
            self._wake()

    @write_handler("extend_interval")
    def _write_extend_interval(self, value: str) -> None:
        self._last_time += nanoseconds(parse_value(TIME, value))
        if self.stop_when_done or self.end_call is not None or self._end_date_given:
            self._have_last_time = True
            self.active = True
            self._wake()

    @read_handler("encap")
    def _read_encap(self) -> str:
        return _LINKTYPE_NAMES.get(self.linktype, str(self.linktype))
