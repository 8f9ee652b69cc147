"""ToDump: packets written to a classic pcap file, as tcpdump -w writes them."""

from __future__ import annotations

import struct
import sys
from typing import BinaryIO

from pyclick.args import BOOL, ELEMENT, FILENAME, UNSIGNED, Args, ListOf
from pyclick.element import AGNOSTIC, CONFIGURE_PHASE_DEFAULT, Element, read_handler, write_handler
from pyclick.errors import ConfigError
from pyclick.packet import Packet
from pyclick.runtime.handlers import HandlerError
from pyclick.runtime.notifier import upstream_empty_signal
from pyclick.runtime.tasks import Task

#: ENCAP names and the link types written in the file header.
ENCAPS = {"ETHER": 1, "IP": 101, "SLL": 113, "LINUX_SLL": 113, "NULL": 0, "PPP": 9,
          "FDDI": 10, "ATM": 100, "HDLC": 104, "PPP_HDLC": 50, "802_11": 105, "PRISM": 119,
          "AIRONET": 120, "SUNATM": 123, "IP4": 228, "IP6": 229}
_MAGIC_USEC, _MAGIC_NSEC = 0xA1B2C3D4, 0xA1B23C4D
#: The snapshot length written in the header when SNAPLEN is 0 (whole packets).
WHOLE_SNAPLEN = 262_144
#: Packets pulled per task run in pull context.
PULL_BURST = 32


def ENCAP(text: str, args: Args | None) -> str:
    word = text.strip().upper()
    if word not in ENCAPS:
        raise ValueError(f"expected encapsulation ({', '.join(ENCAPS)})")
    return word


class ToDump(Element):
    """ToDump(FILENAME, KEYWORDS) -- writes packets to a tcpdump file

    Description
    Writes incoming packets to FILENAME in classic pcap format ('tcpdump
    -w'): tcpdump -r reads the file, and so does FromDump on a later run.
    FILENAME '-' writes to standard output. At most SNAPLEN bytes of each
    packet are written (the whole packet when SNAPLEN is 0); the recorded
    length is the packet's length, plus its extra length annotation when
    EXTRA_LENGTH is true. Each record's time is the packet's timestamp as a
    date (the wall clock's; in simulated time, the simulated seconds); a
    packet without a timestamp is dated when it is written, as in Click.
    The file's link type comes from ENCAP, or from the encap handlers of
    the USE_ENCAP_FROM elements (FromDump has one), which must agree.
    Records are in this machine's byte order, with microsecond timestamps
    unless NANO is true. The file is opened at initialization and closed
    when the router stops. A write that fails (a full disk) ends the file
    with one error; the packets still go on.

    ToDump has zero or one output; with one, every packet goes on through
    it after it was written. In pull context with no output, its task
    pulls packets whenever the elements upstream have some.

    Ports
    one agnostic input, zero or one agnostic output

    Keyword arguments
    FILENAME -- the file to write, or '-'; mandatory
    SNAPLEN -- bytes of each packet written, 0 for all; default 2000
    ENCAP -- the link type: ETHER, IP, SLL, NULL, PPP, FDDI, ATM, HDLC, PPP_HDLC, 802_11, PRISM, AIRONET, SUNATM, IP4, IP6; default ETHER
    USE_ENCAP_FROM -- elements whose encap handlers give the link type (instead of ENCAP)
    EXTRA_LENGTH -- add the extra length annotation to the recorded length; default true
    UNBUFFERED -- write each record through at once; default false
    NANO -- nanosecond timestamps; default false

    Element handlers
    count (read) -- packets written
    reset_counts (write) -- sets count to 0
    filename (read) -- the file name

    Example
    FromDump(in.pcap, STOP true) -> Strip(14) -> CheckIPHeader -> IPClassifier(tcp) -> Unstrip(14) -> ToDump(tcp.pcap);
    """

    port_count = "1/0-1"
    processing = AGNOSTIC
    # Click's: after the elements whose packets it captures.
    configure_phase = CONFIGURE_PHASE_DEFAULT + 100

    def configure(self, args: Args) -> None:
        self.filename = args.read_mp("FILENAME", FILENAME)
        self.snaplen = args.read("SNAPLEN", UNSIGNED.range(0, 1 << 24), 2000)
        self.encap = args.read("ENCAP", ENCAP)
        self.encap_from: list[Element] | None = args.read("USE_ENCAP_FROM", ListOf(ELEMENT))
        self.extra_length = args.read("EXTRA_LENGTH", BOOL, True)
        self.unbuffered = args.read("UNBUFFERED", BOOL, False)
        self.nano = args.read("NANO", BOOL, False)
        if self.encap is not None and self.encap_from is not None:
            args.error("ENCAP and USE_ENCAP_FROM are mutually exclusive")
        args.complete()
        self.count = 0
        self._out: BinaryIO | None = None
        self._task: Task | None = None
        self._record = struct.Struct("=IIII")

    def initialize(self) -> None:
        encap = self.encap or self._encap_from_elements() or "ETHER"
        try:
            self._out = sys.stdout.buffer if self.filename == "-" else \
                open(self.filename, "wb", buffering=0 if self.unbuffered else -1)
        except OSError as err:
            raise ConfigError(f"{self.declaration()}: {self.filename}: {err.strerror}",
                              self.landmark) from None
        magic = _MAGIC_NSEC if self.nano else _MAGIC_USEC
        snaplen = self.snaplen or WHOLE_SNAPLEN
        self._write(struct.pack("=IHHiIII", magic, 2, 4, 0, 0, snaplen, ENCAPS[encap]))
        if self.noutputs == 0 and self.input_is_pull(0):
            self._task = self.own_task(self._run)
            self._signal = upstream_empty_signal(self, 0, self._task.reschedule)
            self._task.reschedule()

    def _encap_from_elements(self) -> str | None:
        if not self.encap_from:
            return None
        found = set()
        for element in self.encap_from:
            try:
                found.add(self.router.handlers.read(f"{element.name}.encap").strip().upper())
            except HandlerError as err:
                raise ConfigError(f"{self.declaration()}: USE_ENCAP_FROM: {err.message}",
                                  self.landmark) from None
        if len(found) != 1 or next(iter(found)) not in ENCAPS:
            raise ConfigError(f"{self.declaration()}: USE_ENCAP_FROM elements disagree or "
                              f"give an unknown encapsulation ({', '.join(sorted(found))})",
                              self.landmark)
        return found.pop()

    def cleanup(self) -> None:
        out = self._out
        if out is None:
            return
        try:
            out.flush()
        except OSError as err:
            self._end(out, err)
        else:
            self._end(out)

    def _end(self, out: BinaryIO, err: OSError | None = None) -> None:
        """Write no more to ``out``: closed unless it is standard output. ``err``, a
        write that failed (a full disk, a closed pipe), is said once; the packets
        go on."""
        self._out = None
        if err is not None:
            self.log.error("%s: %s: cannot write: %s; the file ends here", self.declaration(),
                           self.filename, err.strerror or err)
        if out is not sys.stdout.buffer:
            try:
                out.close()
            except OSError:
                pass    # what is buffered fails again; said already

    def _write(self, data: bytes) -> None:
        assert self._out is not None
        self._out.write(data)

    def _dump(self, batch: list[Packet]) -> None:
        out = self._out
        if out is None:
            return
        snaplen, record, to_epoch = self.snaplen, self._record, self.router.to_epoch
        scale = 1e9 if self.nano else 1e6
        chunks = []
        for packet in batch:
            data = packet.data
            captured = data if not snaplen or len(data) <= snaplen else data[:snaplen]
            length = len(data) + (packet.extra_length if self.extra_length else 0)
            # The record holds a date; the packet, the router's time (none: now).
            when = to_epoch(packet.timestamp or self.router.now())
            seconds = int(when)
            fraction = min(int(round((when - seconds) * scale)), int(scale) - 1)
            chunks.append(record.pack(seconds, fraction, len(captured), length))
            chunks.append(captured)
        try:
            out.write(b"".join(chunks))
        except OSError as err:
            self._end(out, err)
            return
        self.count += len(batch)

    def push(self, port: int, batch: list[Packet]) -> None:
        self._dump(batch)
        if self.noutputs:
            self.output_push(0, batch)

    def pull(self, port: int) -> Packet | None:
        packet = self.input_pull(0)
        if packet is not None:
            self._dump([packet])
        return packet

    def pull_batch(self, port: int, max_packets: int) -> list[Packet]:
        batch = self.input_pull_batch(0, max_packets)
        if batch:
            self._dump(batch)
        return batch

    def _run(self) -> bool:
        assert self._task is not None
        batch = self.input_pull_batch(0, PULL_BURST)
        if batch:
            self._dump(batch)
        if batch or self._signal:
            self._task.reschedule()
        return bool(batch)

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)

    @write_handler("reset_counts")
    def _write_reset_counts(self, value: str) -> None:
        self.count = 0

    @read_handler("filename")
    def _read_filename(self) -> str:
        return self.filename
