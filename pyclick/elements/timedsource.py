"""TimedSource: a packet every INTERVAL."""

from __future__ import annotations

from pyclick.args import BOOL, INT, TIME, UNSIGNED, Args
from pyclick.element import PUSH, read_handler, write_handler
from pyclick.elements.clickargs import DATA
from pyclick.elements.handlercall import parse_value
from pyclick.elements.intervals import unparse_interval
from pyclick.elements.sources import DEFAULT_DATA, _GeneratingSource
from pyclick.packet import DEFAULT_HEADROOM, Packet
from pyclick.runtime.timers import Timer


#: INTERVAL: a packet at the same instant for ever would hold the clock.
_INTERVAL = TIME.range(1e-6, 86400)
#: HEADROOM: bytes before the data.
_HEADROOM = UNSIGNED.range(0, 65535)


class TimedSource(_GeneratingSource):
    """TimedSource(INTERVAL, DATA, KEYWORDS) -- periodically generates a packet

    Description
    Creates packets consisting of DATA, and pushes one out its output every
    INTERVAL on the router's clock, the first one INTERVAL after the start.
    Stops after LIMIT packets; with STOP, the tick after the last packet
    stops the driver. Each packet has HEADROOM bytes of headroom.

    Ports
    one push output

    Keyword arguments
    INTERVAL -- time between packets, 1 µs to 1 day; default 500ms
    DATA -- packet contents (a string); default 69 bytes of text
    LIMIT -- packets to send, at most 2^63-1, negative for no limit; default -1
    ACTIVE -- send only while true; default true
    STOP -- stop the driver once LIMIT packets are sent; default false
    HEADROOM -- headroom of each packet, bytes, 0 to 65535; default 28

    Element handlers
    count (read) -- packets sent
    reset (write) -- sets count to 0
    data, interval, limit, active, headroom (read/write) -- the settings of the same names

    Example
    TimedSource(INTERVAL 0.333, LIMIT 3, STOP true) -> Print -> Discard;
    """

    processing = PUSH

    def configure(self, args: Args) -> None:
        self.interval = args.read_p("INTERVAL", _INTERVAL, 0.5)
        self.data = args.read_p("DATA", DATA, DEFAULT_DATA)
        self.limit = args.read("LIMIT", INT.range(None, 2**63 - 1), -1)
        self.active = args.read("ACTIVE", BOOL, True)
        self.stop_when_done = args.read("STOP", BOOL, False)
        self.headroom = args.read("HEADROOM", _HEADROOM, DEFAULT_HEADROOM)
        self.end_call = None
        self._ended = False
        args.complete()
        self.count = 0
        self._timer = Timer(self, self._tick)

    def initialize(self) -> None:
        super().initialize()
        if self.active:
            self._timer.schedule_after(self.interval)

    def _tick(self) -> None:
        if not self.active:
            return
        if not self._done():
            packet = Packet.make(self.data, headroom=self.headroom, timestamp=self.router.now())
            self.count += 1
            self.output_push(0, [packet])
            self._timer.reschedule_after(self.interval)
        elif self.stop_when_done:
            self._finished()

    def _wake(self) -> None:
        if self.active and not self._timer.scheduled and self.scheduling.scheduler is not None:
            self._ended = False
            self._timer.schedule_after(self.interval)

    @read_handler("interval")
    def _read_interval(self) -> str:
        return unparse_interval(self.interval)

    @write_handler("interval")
    def _write_interval(self, value: str) -> None:
        self.interval = parse_value(_INTERVAL, value)

    @read_handler("headroom")
    def _read_headroom(self) -> str:
        return str(self.headroom)

    @write_handler("headroom")
    def _write_headroom(self, value: str) -> None:
        self.headroom = parse_value(_HEADROOM, value)
