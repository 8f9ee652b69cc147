"""RatedSource: generates packets at a given rate."""

from __future__ import annotations

from pyclick.args import BOOL, INT, UNSIGNED, Args
from pyclick.element import AGNOSTIC, read_handler, write_handler
from pyclick.elements.clickargs import BANDWIDTH, DATA
from pyclick.elements.handlercall import parse_value
from pyclick.elements.sources import DEFAULT_DATA, _SizedSource
from pyclick.elements.tokenbucket import TokenBucket
from pyclick.packet import Packet
from pyclick.runtime.notifier import EMPTY, Notifier
from pyclick.runtime.timers import Timer


#: RATE: packets a second.
_RATE = UNSIGNED.range(0, 10**9)


def _burst(rate: float) -> float:
    """The token bucket's capacity for ``rate`` (Click's: 2, or a hundredth of a
    second's worth, in whole packets)."""
    return 2 if rate < 200 else int(rate) // 100


class RatedSource(_SizedSource):
    """RatedSource(DATA, RATE, LIMIT, ACTIVE, KEYWORDS) -- generates packets at specified rate

    Description
    Creates packets consisting of DATA, emitting at most LIMIT of them at a
    rate of RATE packets per second on the router's clock. Its token bucket
    (2 packets below RATE 200, else a hundredth of a second's worth in whole
    packets) starts full, so that many go in a row; it counts as Click's
    does, in fixed point refilled once a millisecond (at RATE 10, a packet
    every 101 then 100 milliseconds). In push context each run of its task
    pushes one packet while the token bucket allows, and it sleeps on a
    timer in between; in pull context a pull gets a packet only when the
    rate allows, and pullers sleep in between. Sends only while ACTIVE.
    Once LIMIT packets are sent, STOP stops the driver, on the next run
    in push context.

    Ports
    one agnostic output

    Keyword arguments
    DATA -- packet contents (a string); default 69 bytes of text
    RATE -- packets per second, 0 to 10^9; default 10
    LIMIT -- packets to send, at most 2^63-1, negative for no limit; default -1
    ACTIVE -- send only while true; default true
    LENGTH, DATASIZE -- packet length, up to 65535: DATA cut, or repeated to fill; -1 for DATA's length, the default
    BANDWIDTH -- sets RATE from a bandwidth (above 0, at most 10^12 bytes/s) and the packet length (e.g. 1Mbps)
    STOP -- stop the driver once LIMIT packets are sent; default false

    Element handlers
    count (read) -- packets sent
    reset (write) -- sets count to 0, so LIMIT more packets will be sent; like making it active again, puts a token in the bucket so that one goes at once
    data, length, rate, limit, active (read/write) -- the settings of the same names
    datasize (read/write) -- the same as length (deprecated)

    Example
    RatedSource(\\<0800>, 10, 1000) -> Queue -> Unqueue -> Discard;
    """

    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.data = args.read_p("DATA", DATA, DEFAULT_DATA)
        rate = args.read_p("RATE", _RATE, 10)
        self.limit = args.read_p("LIMIT", INT.range(None, 2**63 - 1), -1)
        self.active = args.read_p("ACTIVE", BOOL, True)
        self._read_size(args)
        bandwidth = args.read("BANDWIDTH", BANDWIDTH.range(0, 1e12, open_low=True))
        self.stop_when_done = args.read("STOP", BOOL, False)
        self.end_call = None
        self._ended = False
        args.complete()
        self._remake()
        if bandwidth is not None and bandwidth > 0:
            rate = int(bandwidth // max(len(self._bytes), 1))
        self.rate = rate
        self.count = 0
        self._bucket = TokenBucket(rate, _burst(rate))
        self._task = self.own_task(self._run)
        self._timer = Timer(self, self._on_timer)
        self._notifier = Notifier(active=self.active)

    def initialize(self) -> None:
        super().initialize()
        # Click sets one token, but its bucket's clock starts at 0, so the
        # first refill fills it: the first burst is the whole capacity.
        self._bucket.start(self.router.now())
        if self.output_is_push(0) and self.active:
            self._task.reschedule()

    def port_notifier(self, isoutput: bool, port: int, which: str) -> Notifier | None:
        return self._notifier if isoutput and which == EMPTY else None

    def _ready(self) -> int:
        """How many packets may go now (0 schedules the timer for the next one)."""
        if not self.active:
            return 0
        if self._done():
            self._finished()
            return 0
        bucket = self._bucket
        now = self.router.now()
        if not bucket.allows(now):
            at = bucket.when_allowed(now)
            if at is not None:
                self._timer.schedule_at(at)
            return 0
        n = bucket.whole_tokens()
        if self.limit >= 0:
            n = min(n, self.limit - self.count)
        return max(n, 0)

    def _make(self, n: int) -> list[Packet]:
        self._bucket.remove(n)
        self.count += n
        now = self.router.now()
        return [Packet(self._bytes, now) for _ in range(n)]

    def _run(self) -> bool:
        # One packet a run, as Click's: a full bucket's worth does not reach
        # a Queue at once.
        if self._ready() == 0:
            return False
        self.output_push(0, self._make(1))
        self._task.reschedule()
        return True

    def _on_timer(self) -> None:
        if self.output_is_push(0):
            self._task.reschedule()
        else:
            self._notifier.wake()

    def pull(self, port: int) -> Packet | None:
        batch = self.pull_batch(port, 1)
        return batch[0] if batch else None

    def pull_batch(self, port: int, max_packets: int) -> list[Packet]:
        n = min(self._ready(), max_packets)
        if n == 0:
            self._notifier.sleep()
            return []
        return self._make(n)

    def _wake(self) -> None:
        if not self.active or self._done() or self.scheduling.scheduler is None:
            return
        self._ended = False
        if self.output_is_push(0) and not self._task.scheduled:
            # Started again (active, reset): one token, so a packet goes at
            # once, as Click's does.
            self._bucket.set(1)
        self._on_timer()

    @read_handler("rate")
    def _read_rate(self) -> str:
        return str(self.rate)

    @write_handler("rate")
    def _write_rate(self, value: str) -> None:
        self.rate = parse_value(_RATE, value)
        self._bucket.assign_adjust(self.rate, _burst(self.rate))
        self._wake()
