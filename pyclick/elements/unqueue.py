"""Unqueue: the pull-to-push converter that drives a pull chain from a task."""

from __future__ import annotations

from pyclick.args import BOOL, INT, Args
from pyclick.element import PULL_TO_PUSH, read_handler, write_handler
from pyclick.elements.handlercall import parse_value
from pyclick.elements.switchable import Switchable
from pyclick.runtime.notifier import upstream_empty_signal

#: BURST given as a negative number: pull until nothing comes back.
UNLIMITED_BURST = 0x7FFFFFFF


class Unqueue(Switchable):
    """Unqueue(BURST, KEYWORDS) -- pull-to-push converter

    Description
    Pulls packets whenever they are available, then pushes them out its
    single output. Its task pulls at most BURST packets every time it
    runs, and pushes them as one batch. When nothing comes back and the
    elements upstream say nothing will (an empty Queue), the task sleeps
    until a packet arrives.

    Ports
    one pull input, one push output

    Keyword arguments
    BURST -- packets pulled per task run, at most 65536; negative pulls until nothing comes back; default 1
    ACTIVE -- pull only while true; default true
    LIMIT -- stop after pulling this many packets, at most 2^63-1; negative for no limit; default -1

    Element handlers
    count (read) -- packets pulled so far
    reset (write) -- sets count to 0 (so LIMIT more packets may be pulled); also reset_counts
    active (read/write) -- the ACTIVE setting
    burst (read/write) -- the BURST setting
    limit (read/write) -- the LIMIT setting

    Example
    InfiniteSource(LIMIT 100) -> Queue -> Unqueue(BURST 8) -> c :: Counter -> Discard;
    """

    port_count = "1/1"
    processing = PULL_TO_PUSH

    def configure(self, args: Args) -> None:
        burst = args.read_p("BURST", INT.range(None, 65536), 1)
        self.active = args.read("ACTIVE", BOOL, True)
        self.limit = args.read("LIMIT", INT.range(None, 2**63 - 1), -1)
        args.complete()
        self.burst = UNLIMITED_BURST if burst < 0 else burst
        self.count = 0
        self._task = self.own_task(self._run)

    def initialize(self) -> None:
        self._signal = upstream_empty_signal(self, 0, self._task.reschedule)
        if self.burst == 0:
            self.log.warning("%s: BURST size 0, no packets will be pulled", self.declaration())
        if self.active:
            self._task.reschedule()

    def _run(self) -> bool:
        if not self.active:
            return False
        want = self.burst
        if self.limit >= 0:
            want = min(want, self.limit - self.count)
            if want <= 0:
                return False
        batch = self.input_pull_batch(0, want)
        if batch:
            self.count += len(batch)
            self.output_push(0, batch)
        if len(batch) < want and not self._signal:
            return bool(batch)
        self._task.reschedule()
        return bool(batch)

    def _wake(self) -> None:
        if self.scheduling.scheduler is None:
            return
        if self.active and (self.limit < 0 or self.count < self.limit):
            self._task.reschedule()

    @write_handler("reset")
    @write_handler("reset_counts")
    def _write_reset(self, value: str) -> None:
        self.count = 0
        self._wake()

    @read_handler("burst")
    def _read_burst(self) -> str:
        return str(self.burst)

    @write_handler("burst")
    def _write_burst(self, value: str) -> None:
        burst = parse_value(INT, value)
        self.burst = UNLIMITED_BURST if burst < 0 else burst
        self._wake()

    @read_handler("limit")
    def _read_limit(self) -> str:
        return str(self.limit)

    @write_handler("limit")
    def _write_limit(self, value: str) -> None:
        self.limit = parse_value(INT, value)
        self._wake()
