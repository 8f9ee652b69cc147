"""TimedSink: pulls and drops one packet at a time, at a fixed interval."""

from __future__ import annotations

from pyclick.args import TIME, Args
from pyclick.element import PULL, Element, read_handler, write_handler
from pyclick.elements.handlercall import parse_value
from pyclick.elements.intervals import unparse_interval
from pyclick.runtime.timers import Timer

INTERVAL = TIME.range(1e-6, 86400)


class TimedSink(Element):
    """TimedSink(INTERVAL) -- periodically pulls and drops a packet

    Description
    Every INTERVAL, pulls one packet from its input and drops it. The first
    pull comes INTERVAL after the router starts. An input with nothing to
    give is simply pulled again INTERVAL later.

    Ports
    one pull input, no outputs

    Keyword arguments
    INTERVAL -- time between pulls, 1us to a day; default 500ms

    Element handlers
    interval (read/write) -- the INTERVAL setting
    count (read) -- packets pulled and dropped

    Example
    InfiniteSource(LIMIT 5) -> Queue -> TimedSink(100ms);
    """

    port_count = "1/0"
    processing = PULL

    def configure(self, args: Args) -> None:
        self.interval = args.read_p("INTERVAL", INTERVAL, 0.5)
        args.complete()
        self.count = 0
        self._timer = Timer(self, self._run)

    def initialize(self) -> None:
        self._timer.schedule_after(self.interval)

    def cleanup(self) -> None:
        self._timer.unschedule()

    def _run(self) -> None:
        if self.input_pull(0) is not None:
            self.count += 1
        self._timer.reschedule_after(self.interval)

    @read_handler("interval")
    def _read_interval(self) -> str:
        return unparse_interval(self.interval)

    @write_handler("interval")
    def _write_interval(self, value: str) -> None:
        self.interval = parse_value(INTERVAL, value)

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)
