"""TimeFilter, TimeRange, SetTimestampDelta and AdjustTimestamp: filter, watch, move timestamps."""

from __future__ import annotations

import re
from typing import Callable

from pyclick.args import BOOL, TIME, Args, Choice
from pyclick.element import AGNOSTIC, PROCESSING_A_AH, Element, read_handler, write_handler
from pyclick.elements.clickargs import DATE, nanoseconds
from pyclick.elements.handlercall import HANDLER_CALL, HandlerCall, parse_value
from pyclick.elements.intervals import unparse_interval, unparse_timestamp
from pyclick.packet import Packet
from pyclick.runtime.handlers import HandlerError

_NSEC = 1_000_000_000
#: TimeFilter's end when none is given: the last second Click's timestamps hold.
_NEVER = (2**31 - 1) * _NSEC
#: END_CALL's ``$t`` (or ``${t}``), not the start of a longer variable name.
_T_VARIABLE = re.compile(r"\$\{t\}|\$t(?![A-Za-z0-9_])")


def packet_date(element: Element, t: float) -> int:
    """Router time ``t`` (a timestamp annotation, the clock) as a date in
    nanoseconds, 0 staying 0. Read to the microsecond: a date the router
    carries as a float keeps no finer precision on the real clock."""
    return round(element.router.to_epoch(t) * 1_000_000) * 1000


def router_time(element: Element, ns: int) -> float:
    """A date (or a difference of dates) in nanoseconds as a timestamp annotation."""
    return element.router.from_epoch(ns / _NSEC)


def SIGNED_TIME(text: str, args: Args | None) -> float:
    """Argument type: a time that may be negative (``-1.5``, ``-20ms``)."""
    word = text.strip()
    if word.startswith("-"):
        return -TIME(word[1:], args)
    return TIME(word, args)


class TimeFilter(Element):
    """TimeFilter(START, END, KEYWORDS) -- filters packets by timestamp

    Description
    Lets through the packets whose timestamp annotation lies in a time
    range, from the start date (included) to the end date (excluded); the
    others leave by output 1 when it is connected, and are dropped
    otherwise.

    The start is START, a date in seconds since the epoch; START_AFTER,
    counted from the first packet's timestamp; or START_DELAY, counted from
    the router's clock when TimeFilter initializes. Without any, the start
    is the first packet's timestamp: later packets that carry an older one
    do not pass.

    The end is END, a date; END_AFTER, counted from the first packet's
    timestamp; END_DELAY, counted from initialization; or INTERVAL, counted
    from the start. Without any, the end is the date 2147483647 (early
    2038, the last second Click's timestamps count). A time of 0 sets
    nothing. At most one
    of START, START_AFTER and START_DELAY may be given, and one of END,
    END_AFTER, END_DELAY and INTERVAL.

    The first packet at or past the end calls END_CALL, or with STOP stops
    the driver; once only, unless the end, interval or extend_interval
    handler is written afterwards. In END_CALL's value, ``$t`` stands for
    the packet's timestamp. When the handler moves the end past the
    packet's timestamp (extend_interval), the packet passes, and the call
    is repeated while the end keeps moving and the packet is still past it.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (packets outside the range)

    Keyword arguments
    START -- start date, seconds since the epoch; default none
    END -- end date, seconds since the epoch; default none
    START_AFTER -- start this long after the first packet's timestamp; default none
    START_DELAY -- start this long after initialization; default none
    END_AFTER -- end this long after the first packet's timestamp; default none
    END_DELAY -- end this long after initialization; default none
    INTERVAL -- end this long after the start; default none
    STOP -- stop the driver at the first packet past the end; default false
    END_CALL -- write handler (with value, ``$t`` the packet's timestamp) called at the first packet past the end; default none

    Element handlers
    start (read/write) -- the start date; until the first packet, a START_AFTER as given
    end (read/write) -- the end date; until the first packet, a relative end as given
    interval (read/write) -- the end minus the start; writing it sets the end to the start plus the value
    extend_interval (write) -- moves the end later by the time written

    Example
    FromDump(trace.pcap, STOP true) -> t :: TimeFilter(START_AFTER 10s, INTERVAL 1min) -> c :: Counter -> Discard;
    t[1] -> Discard;
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        start = args.read_p("START", DATE, 0.0)
        end = args.read_p("END", DATE, 0.0)
        start_delay = args.read("START_DELAY", DATE, 0.0)
        end_delay = args.read("END_DELAY", DATE, 0.0)
        start_after = args.read("START_AFTER", DATE, 0.0)
        end_after = args.read("END_AFTER", DATE, 0.0)
        interval = args.read("INTERVAL", DATE, 0.0)
        self.stop_at_end = args.read("STOP", BOOL, False)
        self.end_call: HandlerCall | None = args.read("END_CALL", HANDLER_CALL)
        if sum(map(bool, (start, start_after, start_delay))) > 1:
            args.error("START, START_AFTER and START_DELAY are mutually exclusive")
        if sum(map(bool, (end, end_after, end_delay, interval))) > 1:
            args.error("END, END_AFTER, END_DELAY and INTERVAL are mutually exclusive")
        if self.stop_at_end and self.end_call is not None:
            args.error("STOP and END_CALL are mutually exclusive")
        args.complete()
        # Relative times stay durations until initialization or the first packet.
        self._first = nanoseconds(start or start_delay or start_after)
        self._first_relative = not start and not start_delay
        self._first_init_relative = bool(start_delay)
        last = end or end_after or end_delay or interval
        self._last = nanoseconds(last) if last else _NEVER
        self._last_relative = bool(end_after)
        self._last_init_relative = bool(end_delay)
        self._last_interval = bool(interval)
        self._ready = False
        self._has_end_action = self.stop_at_end or self.end_call is not None
        self._end_armed = False

    def initialize(self) -> None:
        if self.end_call is not None:
            self.end_call.check(self)
        now = packet_date(self, self.router.now())
        if self._first_init_relative:
            self._first += now
        if self._last_init_relative:
            self._last += now
        self._end_armed = self._has_end_action

    def _first_packet(self, tv: int) -> None:
        if self._first_relative:
            self._first += tv
        if self._last_relative:
            self._last += tv
        elif self._last_interval:
            self._last += self._first
        self._ready = True

    def _passes(self, packet: Packet, before_end_call: Callable[[], None]) -> bool:
        tv = packet_date(self, packet.timestamp)
        if not self._ready:
            self._first_packet(tv)
        if tv < self._first:
            return False
        if tv >= self._last and self._end_armed:
            before_end_call()
            self._end_reached(tv)
        return tv < self._last

    def _end_reached(self, tv: int) -> None:
        """STOP or END_CALL, again while the call keeps moving the end and
        re-arming it without getting past ``tv``."""
        while True:
            previous = self._last
            self._end_armed = False
            self._call_end(tv)
            if not (tv >= self._last and self._end_armed and self._last > previous):
                return

    def _call_end(self, tv: int) -> None:
        # Armed only with STOP or END_CALL: no END_CALL means STOP.
        if self.end_call is None:
            self.router.please_stop_driver(f"{self.name}: end time reached")
            return
        stamp = unparse_timestamp(tv)
        value = _T_VARIABLE.sub(lambda _: stamp, self.end_call.value)
        call = HandlerCall(self.end_call.name, value)
        try:
            call.write(self)
        except HandlerError as err:
            self.log.error("%s: END_CALL %s: %s", self.declaration(), call.name, err.message)

    def push(self, port: int, batch: list[Packet]) -> None:
        # Packets leave in order, and END_CALL runs after the packets before
        # its own went on, as if they came one at a time.
        run: list[Packet] = []
        run_output = 0

        def flush() -> None:
            nonlocal run
            if run:
                self.output_push(run_output, run)
                run = []

        for packet in batch:
            output = 0 if self._passes(packet, flush) else 1
            if output != run_output:
                flush()
                run_output = output
            run.append(packet)
        flush()

    def simple_action(self, packet: Packet) -> Packet | None:
        if self._passes(packet, lambda: None):
            return packet
        self.output_push(1, [packet])
        return None

    @read_handler("start")
    def _read_start(self) -> str:
        return unparse_timestamp(self._first)

    @read_handler("end")
    def _read_end(self) -> str:
        return unparse_timestamp(self._last)

    @read_handler("interval")
    def _read_interval(self) -> str:
        return unparse_timestamp(self._last - self._first)

    @write_handler("start")
    def _write_start(self, value: str) -> None:
        t = nanoseconds(parse_value(TIME, value))
        if not self._ready:
            self._first_packet(t)
        self._first = t

    @write_handler("end")
    def _write_end(self, value: str) -> None:
        self._last = nanoseconds(parse_value(TIME, value))
        self._last_relative = self._last_init_relative = self._last_interval = False
        self._end_armed = self._has_end_action

    @write_handler("interval")
    def _write_interval(self, value: str) -> None:
        self._last = self._first + nanoseconds(parse_value(TIME, value))
        self._end_armed = self._has_end_action

    @write_handler("extend_interval")
    def _write_extend_interval(self, value: str) -> None:
        self._last += nanoseconds(parse_value(TIME, value))
        self._end_armed = self._has_end_action


class TimeRange(Element):
    """TimeRange(KEYWORDS) -- monitors the range of packet timestamps

    Description
    Passes packets on unchanged, keeping the earliest and the latest
    timestamp annotation among them, for its handlers to tell. A range
    starts at the first packet with a nonzero timestamp. With SIMPLE, the
    packets are taken to come in timestamp order: the latest is simply
    the last one's.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    SIMPLE -- timestamps only grow: the last packet's is the latest; default false

    Element handlers
    first (read) -- the earliest timestamp, 0.000000 before any
    last (read) -- the latest timestamp, 0.000000 before any
    range (read) -- the earliest and the latest, separated by a space
    interval (read) -- the latest minus the earliest, in seconds
    reset (write) -- forgets the range: the next packet starts a new one

    Example
    FromDump(trace.pcap, STOP true) -> r :: TimeRange -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.simple = args.read("SIMPLE", BOOL, False)
        args.complete()
        self._first = self._last = 0

    def simple_action(self, packet: Packet) -> Packet:
        tv = packet_date(self, packet.timestamp)
        if not self._first:
            self._first = self._last = tv
        elif self.simple or tv > self._last:
            self._last = tv
        elif tv < self._first:
            self._first = tv
        return packet

    @read_handler("first")
    def _read_first(self) -> str:
        return unparse_timestamp(self._first)

    @read_handler("last")
    def _read_last(self) -> str:
        return unparse_timestamp(self._last)

    @read_handler("range")
    def _read_range(self) -> str:
        return f"{unparse_timestamp(self._first)} {unparse_timestamp(self._last)}"

    @read_handler("interval")
    def _read_interval(self) -> str:
        return unparse_timestamp(self._last - self._first)

    @write_handler("reset")
    def _write_reset(self, value: str) -> None:
        self._first = self._last = 0


class SetTimestampDelta(Element):
    """SetTimestampDelta(KEYWORDS) -- replaces packet timestamps with differences

    Description
    Replaces each nonzero timestamp annotation with a difference of
    times, by TYPE: with RANGE, the timestamp minus the first nonzero
    timestamp SetTimestampDelta saw (so the first such packet's becomes 0,
    that is, unset); with NOW, the router's clock minus the timestamp (how
    old the packet is); with FIRST, the timestamp minus the packet's first
    timestamp annotation. Packets without a timestamp keep none.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    TYPE -- RANGE, NOW or FIRST; default RANGE

    Element handlers
    first (read) -- the first nonzero timestamp seen (RANGE), 0.000000 before any
    reset (write) -- forgets it: the next nonzero timestamp is the new reference

    Example
    FromDump(trace.pcap, STOP true) -> SetTimestampDelta -> Print(TIMESTAMP true) -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.type = args.read("TYPE", Choice("RANGE", "NOW", "FIRST"), "RANGE")
        args.complete()
        self._first = 0

    def simple_action(self, packet: Packet) -> Packet:
        if not packet.timestamp:
            return packet
        tv = packet_date(self, packet.timestamp)
        if self.type == "RANGE":
            if not self._first:
                self._first = tv
            delta = tv - self._first
        elif self.type == "NOW":
            delta = packet_date(self, self.router.now()) - tv
        else:
            delta = tv - packet_date(self, packet.first_timestamp)
        packet.timestamp = router_time(self, delta)
        return packet

    @read_handler("first")
    def _read_first(self) -> str:
        # Click's value ends with a newline.
        return unparse_timestamp(self._first) + "\n"

    @write_handler("reset")
    def _write_reset(self, value: str) -> None:
        self._first = 0


class AdjustTimestamp(Element):
    """AdjustTimestamp(TIME, KEYWORDS) -- moves the packet's timestamp annotation

    Description
    Adds TIME, which may be negative, to each packet's timestamp
    annotation, or with FIRST to its first timestamp annotation. A zero
    (unset) annotation stays unset unless ALL is true.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    TIME -- the time added, seconds (negative: earlier); default 0
    FIRST -- move the first timestamp annotation instead; default false
    ALL -- move zero timestamps too; default false

    Element handlers
    time (read/write) -- the TIME setting

    Example
    FromDump(trace.pcap, STOP true) -> AdjustTimestamp(-1h) -> ToDump(earlier.pcap);
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self._delta = nanoseconds(args.read_p("TIME", SIGNED_TIME, 0.0))
        self.first = args.read("FIRST", BOOL, False)
        self.all = args.read("ALL", BOOL, False)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        current = packet.first_timestamp if self.first else packet.timestamp
        if current or self.all:
            moved = router_time(self, packet_date(self, current) + self._delta)
            if self.first:
                packet.first_timestamp = moved
            else:
                packet.timestamp = moved
        return packet

    @read_handler("time")
    def _read_time(self) -> str:
        if self._delta >= 0:
            return unparse_interval(self._delta / _NSEC)
        # Click prints a negative interval in full, whatever its size.
        return unparse_timestamp(self._delta) + "s"

    @write_handler("time")
    def _write_time(self, value: str) -> None:
        self._delta = nanoseconds(parse_value(SIGNED_TIME, value))
