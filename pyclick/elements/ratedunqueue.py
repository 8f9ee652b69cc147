"""RatedUnqueue: pulls packets at a given rate and pushes them on."""

from __future__ import annotations

from pyclick.args import BOOL, TIME, UNSIGNED, Args
from pyclick.element import PULL_TO_PUSH, read_handler, write_handler
from pyclick.elements.handlercall import parse_value
from pyclick.elements.switchable import Switchable
from pyclick.elements.tokenbucket import TokenBucket
from pyclick.runtime.notifier import upstream_empty_signal
from pyclick.runtime.tasks import Task
from pyclick.runtime.timers import Timer

#: Default BURST_DURATION: the bucket holds this long's worth of tokens.
DEFAULT_BURST_DURATION = 0.020


class RatedUnqueue(Switchable):
    """RatedUnqueue(RATE, KEYWORDS) -- pull-to-push converter

    Description
    Pulls packets at the given RATE in packets per second, and pushes them
    out its single output. It is implemented with a token bucket on the
    router's clock, full at the start. The capacity of the bucket defaults
    to 20 milliseconds worth of tokens (at least one), but can be set with
    BURST_DURATION or BURST_SIZE. Like Unqueue, it sleeps while the elements
    upstream say nothing will come.

    Ports
    one pull input, one push output

    Keyword arguments
    RATE -- packets per second, 0 to 10^9; mandatory
    BURST_DURATION -- the bucket holds RATE times this many tokens, 0 to 1 hour; default 20ms
    BURST_SIZE -- the bucket holds this many tokens, 1 to 2^20 (not with BURST_DURATION)
    ACTIVE -- pull only while true; default true

    Element handlers
    rate (read/write) -- the RATE setting
    config (read) -- the same as rate
    active (read/write) -- the ACTIVE setting
    count (read) -- packets pulled so far

    Example
    InfiniteSource(LIMIT 20) -> Queue -> RatedUnqueue(10) -> c :: Counter -> Discard;
    """

    port_count = "1/1"
    processing = PULL_TO_PUSH

    def configure(self, args: Args) -> None:
        rate = args.read_mp("RATE", UNSIGNED.range(0, 10**9))
        duration = args.read("BURST_DURATION", TIME.range(0, 3600))
        size = args.read("BURST_SIZE", UNSIGNED.range(1, 2**20))
        self.active = args.read("ACTIVE", BOOL, True)
        if duration is not None and size is not None:
            args.error("cannot specify both BURST_DURATION and BURST_SIZE")
        args.complete()
        self._duration = DEFAULT_BURST_DURATION if duration is None else duration
        self._size = size
        self.rate = rate
        self.count = 0
        self._bucket = TokenBucket(rate, self._capacity(rate))
        self._task = Task(self, self._run)
        self._timer = Timer(self, self._task.reschedule)

    def _capacity(self, rate: int) -> int:
        tokens = self._size if self._size is not None else int(rate * self._duration)
        return max(tokens, 1)

    def initialize(self) -> None:
        self._bucket = TokenBucket(self.rate, self._capacity(self.rate), now=self.router.now())
        self._signal = upstream_empty_signal(self, 0, self._task.reschedule)
        if self.active:
            self._task.reschedule()

    def _run(self) -> bool:
        if not self.active:
            return False
        bucket = self._bucket
        bucket.refill(self.router.now())
        if not bucket.contains(1):
            if self.rate > 0:
                self._timer.schedule_after(bucket.time_until_contains(1))
            return False
        batch = self.input_pull_batch(0, int(bucket.tokens + 1e-9))
        if not batch:
            if not self._signal:
                return False
        else:
            bucket.remove(len(batch))
            self.count += len(batch)
            self.output_push(0, batch)
        self._task.reschedule()
        return bool(batch)

    @read_handler("rate")
    @read_handler("config")
    def _read_rate(self) -> str:
        return str(self.rate)

    @write_handler("rate")
    def _write_rate(self, value: str) -> None:
        self.rate = parse_value(UNSIGNED, value)
        self._bucket.assign(self.rate, self._capacity(self.rate))
        self._wake()

    def _wake(self) -> None:
        if self.active and self.scheduling.scheduler is not None:
            self._task.reschedule()
