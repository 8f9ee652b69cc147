"""CoDel: Controlled Delay, dropping packets that waited too long in their queue."""

from __future__ import annotations

from math import isqrt

from pyclick.args import ELEMENT, TIME, Args, ListOf
from pyclick.element import PULL, Element, read_handler, reconfigures, write_handler
from pyclick.elements.clickargs import nanoseconds
from pyclick.elements.handlercall import parse_value
from pyclick.elements.intervals import unparse_timestamp
from pyclick.elements.queue import SimpleQueue
from pyclick.elements.red import watched_queues
from pyclick.packet import Packet

_NSEC = 1_000_000_000
_U32 = 0xFFFFFFFF
#: TARGET and INTERVAL: times, 0 or more.
WAIT = TIME.range(0)
#: The control law's fixed point: 4 fraction bits on the interval, 8 under the square root.
_SCALE = 1 << 4


class CoDel(Element):
    """CoDel(TARGET, INTERVAL, KEYWORDS) -- drops packets according to CoDel

    Description
    Controlled Delay active queue management. CoDel sits downstream of one
    or more queues and measures how long each packet pulled through it
    waited: the router's clock minus the packet's first timestamp
    annotation, which SetTimestamp(FIRST true) sets just before the queue.
    A packet whose first timestamp is unset (0) passes and ends any
    dropping.

    While waits stay below TARGET nothing happens. The first packet that
    waited TARGET or more starts a clock; if waits have not fallen below
    TARGET by INTERVAL later (or an empty queue reset the clock), CoDel
    starts dropping: it drops the packet in hand, pulls the next, and
    schedules the next drop INTERVAL/sqrt(n) after the last, n counting the
    drops of this dropping spell, until a packet waited less than TARGET
    or the queue is empty. A spell entered within INTERVAL of the last
    scheduled drop resumes with n less two rather than 1. Dropped packets
    are freed.

    The queues are those named by QUEUES, or else the nearest ones
    upstream; their lengths are only reported by stats.

    Ports
    one pull input, one pull output

    Keyword arguments
    TARGET -- the wait accepted, a time (5ms, 0.005); default 5ms
    INTERVAL -- how long waits may stay above TARGET before drops start, a time; default 100ms
    QUEUES -- names of the queues; default the nearest upstream

    Element handlers
    codel_target, codel_interval (read/write) -- TARGET and INTERVAL, in seconds (0.005000s)
    drops (read) -- packets dropped so far
    queues (read) -- the queues, one name per line
    stats (read) -- current queue length and drops
    config (read) -- TARGET and INTERVAL, as Click prints them (0.005000s, 0.100000 s, )

    Example
    InfiniteSource(LIMIT 100) -> SetTimestamp(FIRST true) -> q :: Queue(200)
        -> c :: CoDel(5ms, 100ms) -> RatedUnqueue(50) -> Discard;
    """

    port_count = "1/1"
    processing = PULL

    can_live_reconfigure = True
    #: As Click: a new target and interval; the queues watched and the
    #: dropping state kept.
    live_state = ("_named", "queues", "drops", "_spell_drops", "_dropping", "_ok_to_drop",
                  "_first_above", "_drop_next")

    def configure(self, args: Args) -> None:
        self.target = nanoseconds(args.read_p("TARGET", WAIT, 0.005))
        self.interval = nanoseconds(args.read_p("INTERVAL", WAIT, 0.1))
        self._named: list[Element] = args.read("QUEUES", ListOf(ELEMENT), [])
        args.complete()
        self.queues: list[SimpleQueue] = []
        self.drops = 0
        self._spell_drops = 0
        self._dropping = False
        self._ok_to_drop = False
        # Times in nanoseconds of the router's clock, 0 for none.
        self._first_above = 0
        self._drop_next = 0

    def initialize(self) -> None:
        self.queues = watched_queues(self, self._named, downstream=False)

    def _control_law(self, t: int) -> int:
        """``t`` plus INTERVAL over the square root of the spell's drops, in
        Click's 32-bit steps (an INTERVAL above 268ms wraps as Click's does)."""
        scaled_interval = ((self.interval // 1_000_000) * _SCALE * 1_000_000) & _U32
        root = isqrt((self._spell_drops * _SCALE * _SCALE) & _U32)
        return t + scaled_interval // max(root, 1)

    def _dequeue(self, now: int) -> tuple[Packet | None, bool]:
        """The next packet, and whether its wait was measured (a packet with a
        first timestamp)."""
        self._ok_to_drop = False
        packet = self.input_pull(0)
        if packet is None:
            self._first_above = 0
            return None, False
        first = packet.first_timestamp
        if not first:
            return packet, False
        if now - round(first * _NSEC) < self.target:
            self._first_above = 0
        elif not self._first_above:
            self._first_above = now + self.interval
        elif now >= self._first_above:
            self._ok_to_drop = True
        return packet, True

    def pull(self, port: int) -> Packet | None:
        now = round(self.router.now() * _NSEC)
        packet, measured = self._dequeue(now)
        if not measured:
            self._dropping = False
        elif self._dropping:
            if not self._ok_to_drop:
                self._dropping = False
            while self._dropping and now >= self._drop_next:
                self.drops += 1
                self._spell_drops += 1
                packet, _ = self._dequeue(now)
                if self._ok_to_drop:
                    self._drop_next = self._control_law(self._drop_next)
                else:
                    self._dropping = False
        elif self._ok_to_drop and (now - self._drop_next < self.interval
                                   or now - self._first_above >= self.interval):
            self.drops += 1
            packet, _ = self._dequeue(now)
            self._dropping = True
            if now - self._drop_next < self.interval:
                self._spell_drops = self._spell_drops - 2 if self._spell_drops > 2 else 1
            else:
                self._spell_drops = 1
            self._drop_next = self._control_law(now)
        return packet

    @read_handler("drops")
    def _read_drops(self) -> str:
        return str(self.drops)

    @read_handler("codel_target")
    def _read_target(self) -> str:
        return f"{unparse_timestamp(self.target)}s"

    @write_handler("codel_target")
    @reconfigures(0, "TARGET")
    def _write_target(self, value: str) -> None:
        self.target = nanoseconds(parse_value(WAIT, value))

    @read_handler("codel_interval")
    def _read_interval(self) -> str:
        return f"{unparse_timestamp(self.interval)}s"

    @write_handler("codel_interval")
    @reconfigures(1, "INTERVAL")
    def _write_interval(self, value: str) -> None:
        self.interval = nanoseconds(parse_value(WAIT, value))

    @read_handler("queues")
    def _read_queues(self) -> str:
        return "".join(f"{queue.name}\n" for queue in self.queues)

    @read_handler("stats")
    def _read_stats(self) -> str:
        length = sum(queue.length for queue in self.queues)
        return f"{length} current queue\n{self.drops} drops\n"

    @read_handler("config")
    def _read_config(self) -> str:
        return f"{unparse_timestamp(self.target)}s, {unparse_timestamp(self.interval)} s, "
