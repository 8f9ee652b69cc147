"""Packet sources: InfiniteSource (generated packets) and FromDump (pcap replay).

Both emit from a task, a burst per run, so they share the router's threads
with the rest of the configuration; both can stop the driver or call a
handler when they run out. RatedSource and TimedSource (their own modules)
make packets the same way, with :func:`packet_bytes`.
"""

from __future__ import annotations

import os
import random
from typing import TYPE_CHECKING, ClassVar

from pyclick.args import BOOL, INT, STRING, TIME, UNSIGNED, Args, Number
from pyclick.element import AGNOSTIC, read_handler, write_handler
from pyclick.elements.clickargs import DATA, SAMPLING, SAMPLING_SHIFT, to_bytes, unparse_fixed
from pyclick.elements.handlercall import HANDLER_CALL, HandlerCall, parse_value
from pyclick.elements.switchable import Switchable
from pyclick.errors import ConfigError
from pyclick.packet import Packet, fresh_batch
from pyclick.runtime.handlers import HandlerError
from pyclick.runtime.notifier import EMPTY, Notifier, downstream_full_signal
from pyclick.runtime.tasks import Task
from pyclick.runtime.timers import Timer

if TYPE_CHECKING:
    from pyclick.sim.pcap import PcapRecord

#: The generated packets' contents when DATA is not given: Click's (69 bytes),
#: so that byte counts match Click's.
DEFAULT_DATA = b"Random bullshit in a packet, at least 64 bytes long. Well, now it is."

_LINKTYPE_NAMES = {1: "ETHER", 101: "IP", 113: "LINUX_SLL", 228: "IP4", 229: "IP6"}
#: A classic pcap file's header, and each record's, in bytes.
_PCAP_HEADER, _RECORD_HEADER = 24, 16

#: Longest packet InfiniteSource makes (LENGTH): an IP datagram's maximum.
MAX_LENGTH = 65535
#: Most packets a source emits in one task run (BURST).
MAX_BURST = 65536
_LENGTH = INT.range(-1, MAX_LENGTH)
_BURST = INT.range(1, MAX_BURST)
_LIMIT = INT.range(None, 2**63 - 1)


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

    def _finished(self) -> None:
        """The source ran out: a driver stop event or the END_CALL, once per run-out."""
        if self._ended:
            return
        self._ended = True
        if self.stop_when_done:
            self.router.please_stop_driver(f"{self.name}: all packets sent")
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


class InfiniteSource(_GeneratingSource):
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
    LENGTH -- packet length, up to 65535: DATA cut, or repeated to fill; default DATA's length (-1)
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

    def configure(self, args: Args) -> None:
        self.data = args.read_p("DATA", DATA, DEFAULT_DATA)
        self._read_pace(args)
        self.length = args.read("LENGTH", _LENGTH, -1)
        if args.has("DATASIZE"):
            self.length = args.read("DATASIZE", _LENGTH, -1)
        self._read_ending(args)
        args.complete()
        self._start()

    def _read_pace(self, args: Args) -> None:
        """LIMIT, BURST and ACTIVE (positional after the first argument), TIMESTAMP."""
        self.limit = args.read_p("LIMIT", _LIMIT, -1)
        self.burst = args.read_p("BURST", _BURST, 1)
        self.active = args.read_p("ACTIVE", BOOL, True)
        self.timestamp = args.read("TIMESTAMP", BOOL, True)

    def _start(self) -> None:
        """The state of a source about to run, once its arguments are read."""
        self._bytes = packet_bytes(self.data, self.length)
        self.count = 0
        self._task = Task(self, self._run)
        self._notifier = Notifier(active=self.active)

    def initialize(self) -> None:
        if self.output_is_push(0):
            self._nonfull = downstream_full_signal(self, 0, self._task.reschedule)
            if self.active:
                self._task.reschedule()

    def port_notifier(self, isoutput: bool, port: int, which: str) -> Notifier | None:
        return self._notifier if isoutput and which == EMPTY else None

    def _remake(self) -> None:
        self._bytes = packet_bytes(self.data, self.length)

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

    @read_handler("length")
    @read_handler("datasize")
    def _read_length(self) -> str:
        return str(self.length)

    @write_handler("length")
    @write_handler("datasize")
    def _write_length(self, value: str) -> None:
        self.length = parse_value(_LENGTH, value)
        self._remake()

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
    captured bytes, and its timestamp is the one recorded in the file
    (a date; elements that delay packets by their timestamp, DelayShaper
    for one, see how long ago it was).
    Without TIMING, packets go out BURST at a time as fast as the task runs;
    with TIMING, the gaps between packets are kept, measured on the
    router's clock (real or simulated). With SAMPLE, each packet is emitted
    with that probability (kept to 2^-28, as Click keeps it), the others
    skipped. With STOP, FromDump becomes inactive when the file is done.

    Keyword arguments
    FILENAME -- the pcap file; mandatory
    STOP -- stop the router when the file is done; default false
    END_CALL -- write handler (with value) called when the file is done; default none
    ACTIVE -- emit only while true; default true
    TIMING -- keep the file's timing; default false
    BURST -- packets per task run without TIMING, 1 to 65536; default 32
    SAMPLE -- the probability that a packet is emitted, 0 to 1; default 1
    END_AFTER -- stop at the first packet this long after the file's first one; default none

    Element handlers
    count (read) -- packets emitted
    reset_counts (write) -- sets count to 0
    active (read/write) -- the ACTIVE setting
    stop (write) -- makes FromDump inactive and stops the driver
    filename (read) -- the file name
    filesize (read) -- the file's size in bytes
    filepos (read/write) -- where the next packet is read from, in bytes (the file's end once it is done);
    writing the start of a packet (or the end) moves there
    packet_filepos (read) -- where the last packet read started (the file's end once it is done; 0 before)
    sampling_prob (read) -- the SAMPLE setting
    encap (read) -- the file's link type (ETHER, IP, LINUX_SLL or the number)
    reset_timing (write) -- with TIMING: the next packet goes out at once, the later ones keep their gaps from it

    Example
    FromDump(trace.pcap, STOP true) -> c :: Counter -> Discard;
    """

    def configure(self, args: Args) -> None:
        self.filename = args.read_mp("FILENAME", STRING)
        self.active = args.read("ACTIVE", BOOL, True)
        self.timing = args.read("TIMING", BOOL, False)
        self.burst = args.read("BURST", _BURST, 32)
        self.end_after = args.read("END_AFTER", TIME.range(0))
        self.sampling = args.read("SAMPLE", SAMPLING, 1 << SAMPLING_SHIFT)
        self._read_ending(args)
        args.complete()
        self.count = 0
        self.linktype = 0
        self._records: list[PcapRecord] = []
        #: Where each record starts in the file, and where the last one ends.
        self._offsets: list[int] = []
        self._end = _PCAP_HEADER
        self._next = 0
        self.packet_filepos = 0
        self._time_origin: float | None = None
        self._time_anchor = 0.0
        self._random = random.Random()
        self._task = Task(self, self._run)
        self._timer = Timer(self, self._on_timer)

    def initialize(self) -> None:
        # The capture reader brings numpy: loaded by a FromDump only, when it starts.
        from pyclick.sim.pcap import PcapError, read_pcap

        try:
            self.linktype, records = read_pcap(self.filename)
        except OSError as err:
            raise ConfigError(f"{self.declaration()}: cannot read '{self.filename}': "
                              f"{err.strerror or err}", self.landmark) from None
        except PcapError as err:
            raise ConfigError(f"{self.declaration()}: {err}", self.landmark) from None
        position = _PCAP_HEADER
        for record in records:
            self._offsets.append(position)
            position += _RECORD_HEADER + len(record.frame)
        self._end = position
        if self.end_after is not None and records:
            last = records[0].timestamp + self.end_after
            records = [r for r in records if r.timestamp < last]
        self._records = records
        self._wake()

    def _wake(self) -> None:
        if not self.active or self.scheduling.scheduler is None:
            return
        if self.timing:
            self._schedule_next()
        else:
            self._task.reschedule()

    def _packet(self, record: PcapRecord) -> Packet:
        # The file holds dates; packets carry the router's time (ToDump writes
        # the same dates back).
        return Packet(data=record.frame, timestamp=self.router.from_epoch(record.timestamp))

    def _emit(self, end: int) -> None:
        """Push records up to index ``end`` and note when the file is done."""
        records = self._records[self._next:end]
        if self.sampling < 1 << SAMPLING_SHIFT:
            draw, limit = self._random.random, self.sampling / (1 << SAMPLING_SHIFT)
            records = [r for r in records if draw() < limit]
        batch = [self._packet(r) for r in records]
        if end > self._next:
            self.packet_filepos = self._offsets[end - 1]
        self._next = end
        self.count += len(batch)
        if batch:
            self.output_push(0, batch)
        if self._next >= len(self._records):
            self.packet_filepos = self._filepos()
            self._finished()

    def _finished(self) -> None:
        if self.stop_when_done and not self._ended:
            self.active = False
        super()._finished()

    def _filepos(self) -> int:
        """Where the next record starts: the end after the last one (or END_AFTER's)."""
        return self._offsets[self._next] if self._next < len(self._records) else self._end

    def _run(self) -> bool:
        if not self.active:
            self._task.unschedule()
            return False
        start = self._next
        self._emit(min(self._next + self.burst, len(self._records)))
        if self.active and self._next < len(self._records):
            self._task.reschedule()
        else:
            self._task.unschedule()
        return self._next > start

    # --- TIMING: a timer fires at each packet's due time on the router's clock
    def _due(self, index: int) -> float:
        assert self._time_origin is not None
        return self._time_origin + self._records[index].timestamp - self._time_anchor

    def _schedule_next(self) -> None:
        if self._next >= len(self._records):
            self._emit(self._next)
            return
        if self._time_origin is None:
            self._time_origin = self.router.now()
            self._time_anchor = self._records[self._next].timestamp
        self._timer.schedule_at(self._due(self._next))

    def _on_timer(self) -> None:
        if not self.active:
            return
        now = self.router.now()
        end = self._next + 1
        while end < len(self._records) and self._due(end) <= now:
            end += 1
        self._emit(end)
        self._schedule_next()

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
        elif position in self._offsets[:len(self._records)]:
            self._next = self._offsets.index(position)
            self._ended = False
        else:
            raise ValueError(f"no packet starts at {position}")

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

    @read_handler("encap")
    def _read_encap(self) -> str:
        return _LINKTYPE_NAMES.get(self.linktype, str(self.linktype))
