"""DelayShaper: a pull element that holds each packet until it is old enough."""

from __future__ import annotations

from pyclick.args import TIME, Args
from pyclick.element import PULL, Element, read_handler, write_handler
from pyclick.elements.handlercall import parse_value
from pyclick.elements.intervals import unparse_interval
from pyclick.packet import Packet
from pyclick.runtime.notifier import BUSY, EMPTY, Notifier, NotifierSignal, upstream_empty_signal
from pyclick.runtime.timers import Timer

DELAY = TIME.range(0, 86400)


class DelaySetting(Element):
    """The ``delay`` (read/write) handler of the elements that hold packets
    for DELAY."""

    registered = False
    delay: float

    @read_handler("delay")
    def _read_delay(self) -> str:
        return unparse_interval(self.delay)

    @write_handler("delay")
    def _write_delay(self, value: str) -> None:
        self.delay = parse_value(DELAY, value)


class DelayShaper(DelaySetting):
    """DelayShaper(DELAY) -- shapes traffic to meet delay requirements

    Description
    A pull element that delays packets: a packet whose timestamp is T
    leaves no earlier than T + DELAY (a packet without timestamp is stamped
    with the time it is pulled from upstream). DelayShaper holds at most one
    packet: it pulls the next one only after the one it holds has left.
    Until then every pull returns nothing, and DelayShaper reports itself
    empty to the puller downstream until the packet is due, so an Unqueue
    behind it sleeps meanwhile. A packet leaves with its timestamp set to
    the time it left. Use SetTimestamp upstream to stamp packets when they
    arrive.

    Ports
    one pull input, one pull output

    Keyword arguments
    DELAY -- the least delay, 0 to a day; mandatory

    Element handlers
    delay (read/write) -- the DELAY setting

    Example
    InfiniteSource(LIMIT 3) -> SetTimestamp -> Queue -> DelayShaper(10ms)
        -> Unqueue -> c :: Counter -> Discard;
    """

    port_count = "1/1"
    processing = PULL

    def configure(self, args: Args) -> None:
        self.delay = args.read_mp("DELAY", DELAY)
        args.complete()
        self._held: Packet | None = None
        self._note = Notifier(active=True)
        self._timer = Timer(self, self._note.wake)
        self._upstream: NotifierSignal = BUSY

    def initialize(self) -> None:
        self._upstream = upstream_empty_signal(self, 0, self._note.wake)

    def cleanup(self) -> None:
        self._timer.unschedule()
        self._held = None

    def port_notifier(self, isoutput: bool, port: int, which: str) -> Notifier | None:
        return self._note if isoutput and which == EMPTY else None

    def pull(self, port: int) -> Packet | None:
        now = self.router.now()
        held = self._held
        if held is None:
            held = self.input_pull(0)
            if held is None:
                if not self._upstream:
                    self._note.sleep()
                return None
            held.timestamp = (held.timestamp or now) + self.delay
            self._held = held
        if held.timestamp <= now:
            self._held = None
            held.timestamp = now
            return held
        self._timer.schedule_at(held.timestamp)
        self._note.sleep()
        return None
