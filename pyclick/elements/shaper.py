"""Shaper and BandwidthShaper: pull elements that let packets through at a rate."""

from __future__ import annotations

import math

from pyclick.args import UNSIGNED, Args
from pyclick.element import PULL, Element, read_handler, write_handler
from pyclick.elements.clickargs import BANDWIDTH, unparse_bandwidth
from pyclick.elements.handlercall import parse_value
from pyclick.packet import Packet
from pyclick.runtime.notifier import BUSY, EMPTY, Notifier, NotifierSignal, upstream_empty_signal
from pyclick.runtime.timers import NANOSECONDS, Timer


class Shaper(Element):
    """Shaper(RATE) -- shapes traffic to maximum rate (pkt/s)

    Description
    Shaper is a pull element that lets at most RATE packets per second
    through, on the router's clock: a pull on output 0 pulls its input only
    when the packets let through so far are fewer than RATE times the time
    since the first one. It depends on the timing of its pull requests:
    pulled sporadically, it emits sporadically; pulled often and evenly, it
    emits at RATE with little burstiness.

    A pull on the optional output 1 returns a packet that does not meet
    the shaping condition at the time of the pull (pulled from upstream
    without shaping).

    Unlike Click's, Shaper tells the puller downstream when to pull: it
    reports itself empty until the rate allows the next packet (or while
    the elements upstream are empty), so an Unqueue behind it sleeps
    instead of polling, in real and in simulated time.

    Ports
    one pull input, one or two pull outputs

    Keyword arguments
    RATE -- packets per second, 0 to 10^9; mandatory

    Element handlers
    rate (read/write) -- the RATE setting
    config (read) -- the same as rate
    reset (write) -- starts counting the rate afresh

    Example
    InfiniteSource -> Queue -> Shaper(10) -> Unqueue -> c :: Counter -> Discard;
    """

    port_count = "1/1-2"
    processing = PULL

    can_live_reconfigure = True
    live_state = ("_note", "_timer", "_upstream")

    def configure(self, args: Args) -> None:
        self.rate = args.read_mp("RATE", self._rate_type())
        args.complete()
        self._reset()
        self._note = Notifier(active=True)
        self._timer = Timer(self, self._on_timer)
        self._upstream: NotifierSignal = BUSY

    def live_reconfigure(self, args: Args) -> None:
        # As a write of rate: the rate is counted afresh.
        super().live_reconfigure(args)
        self._maybe_wake()

    def initialize(self) -> None:
        self._upstream = upstream_empty_signal(self, 0, self._maybe_wake)

    def port_notifier(self, isoutput: bool, port: int, which: str) -> Notifier | None:
        return self._note if isoutput and port == 0 and which == EMPTY else None

    def _maybe_wake(self) -> None:
        if self._upstream and self._may_send():
            self._note.wake()

    def _on_timer(self) -> None:
        # Due now, or a hair before (see _wake_time): the pullers look again.
        if self._upstream:
            self._note.wake()

    @staticmethod
    def _rate_type():
        return UNSIGNED.range(0, 10**9)

    def _reset(self) -> None:
        self._start: float | None = None
        self._sent = 0.0

    def _wake_after_change(self) -> None:
        self._reset()
        self._maybe_wake()

    def _cost(self, packet: Packet) -> float:
        """What one packet uses of the rate."""
        return 1.0

    def _may_send(self) -> bool:
        """Whether what was let through is within RATE since the first packet."""
        now = self.router.now()
        if self._start is None:
            self._start = now
        if not self.rate:
            return not self._sent
        return now >= self._next_time()

    def _next_time(self) -> float:
        """When the rate lets the next packet through: start + sent / RATE,
        counted in whole nanoseconds as periodic timers count, so that it
        falls due together with a sink pulling at the rate, not a rounding
        error after it."""
        assert self._start is not None
        due_ns = round(self._start * NANOSECONDS) + round(self._sent * NANOSECONDS / self.rate)
        return due_ns / NANOSECONDS

    def _wake_time(self) -> float:
        """When the timer wakes the pullers: a hair before the next packet is
        allowed, so that a puller whose own timer is due at that very time,
        and fires first, finds the element awake; once that hair is past,
        the time itself."""
        due = self._next_time()
        early = math.nextafter(due, -math.inf)
        return early if self.router.now() < early else due

    def pull(self, port: int) -> Packet | None:
        allowed = self._may_send()
        if port == 1:
            return None if allowed else self.input_pull(0)
        if not allowed:
            self._note.sleep()
            if not self._timer.scheduled and self.rate > 0:
                self._timer.schedule_at(self._wake_time())
            return None
        packet = self.input_pull(0)
        if packet is None:
            if not self._upstream:
                self._note.sleep()
            return None
        self._sent += self._cost(packet)
        return packet

    @read_handler("rate")
    @read_handler("config")
    def _read_rate(self) -> str:
        return str(self.rate)

    @write_handler("rate")
    def _write_rate(self, value: str) -> None:
        self.rate = parse_value(self._rate_type(), value)
        self._wake_after_change()

    @write_handler("reset")
    def _write_reset(self, value: str) -> None:
        self._wake_after_change()


class BandwidthShaper(Shaper):
    """BandwidthShaper(RATE) -- shapes traffic to maximum rate (bytes/s)

    Description
    BandwidthShaper is a pull element that lets at most RATE bytes per
    second through, on the router's clock (RATE is a bandwidth with
    Click's units: 1Mbps, 8000b/s, 20kBps, 131072B/s; a bare number is
    bytes per second). A pull on output 0 pulls its input only while the bytes let
    through so far are within RATE times the time since the first packet.
    Pulled often and evenly, it emits at RATE with little burstiness. A
    pull on the optional output 1 returns a packet that does not meet the
    condition.

    Ports
    one pull input, one or two pull outputs

    Keyword arguments
    RATE -- bytes per second, as a bandwidth, 0 to 10^12 (8 Tbps); mandatory

    Element handlers
    rate (read/write) -- the RATE setting
    config (read) -- the same as rate
    reset (write) -- starts counting the rate afresh

    Example
    InfiniteSource(LENGTH 100) -> Queue -> BandwidthShaper(8kbps) -> Unqueue -> Discard;
    """

    @staticmethod
    def _rate_type():
        return BANDWIDTH.range(0, 1e12)

    def _cost(self, packet: Packet) -> float:
        return float(len(packet))

    @read_handler("rate")
    @read_handler("config")
    def _read_rate(self) -> str:
        return unparse_bandwidth(self.rate)
