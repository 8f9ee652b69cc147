"""RatedUnqueue and BandwidthRatedUnqueue: pull packets at a rate and push them on."""

from __future__ import annotations

from typing import ClassVar

from pyclick.args import BOOL, Args
from pyclick.element import PULL_TO_PUSH, read_handler, write_handler
from pyclick.elements.ratebucket import RateBucket
from pyclick.elements.switchable import Switchable
from pyclick.runtime.notifier import upstream_empty_signal
from pyclick.runtime.timers import Timer


class RatedUnqueue(Switchable):
    """RatedUnqueue(RATE, KEYWORDS) -- pull-to-push converter

    Description
    Pulls packets at the given RATE in packets per second, and pushes them
    out its single output. It is implemented with a token bucket on the
    router's clock, full at the start (empty, and staying so, at RATE 0).
    The capacity of the bucket defaults to 20 milliseconds worth of tokens
    (at least one, and at least a millisecond's worth), but can be set with
    BURST_DURATION or BURST_SIZE. The bucket counts as Click's does, in
    fixed point refilled once a millisecond, so the spacing of packets is
    rounded as in Click (at RATE 10, a packet every 101 milliseconds).
    Every run of its task pulls one packet, when the bucket holds a token,
    and pushes it on. Like Unqueue, it sleeps while the elements upstream
    say nothing will come.

    Ports
    one pull input, one push output

    Keyword arguments
    RATE -- packets per second, 0 to 10^9; mandatory
    BURST_DURATION -- the bucket holds RATE times this many tokens, 0 to 1 hour; default 20ms
    BURST_SIZE -- the bucket holds this many tokens, 1 to 2^20 (not with BURST_DURATION)
    ACTIVE -- pull only while true; default true

    Element handlers
    rate (read/write) -- the RATE setting, read back as the bucket keeps it (tokens are added in whole fractions once a millisecond, so it may differ a little); a write sets the burst back to 20 milliseconds worth, as Click's
    config (read) -- the same as rate
    active (read/write) -- the ACTIVE setting
    count (read) -- packets pulled so far
    calls (read) -- four lines: task runs, runs that pushed nothing, packets pushed and pulls that found no packet

    Example
    InfiniteSource(LIMIT 20) -> Queue -> RatedUnqueue(10) -> c :: Counter -> Discard;
    """

    port_count = "1/1"
    processing = PULL_TO_PUSH
    #: Whether RATE is a bandwidth (the bucket counts bytes).
    bandwidth: ClassVar[bool] = False

    can_live_reconfigure = True

    def configure(self, args: Args) -> None:
        self._read_settings(args)
        self.count = 0
        self._runs = self._empty_runs = self._failed_pulls = 0
        self._task = self.own_task(self._run)
        self._timer = Timer(self, self._task.reschedule)

    def _read_settings(self, args: Args) -> None:
        self._rate = RateBucket(args, self.bandwidth)
        self.active = args.read("ACTIVE", BOOL, True)
        args.complete()

    def live_reconfigure(self, args: Args) -> None:
        # The new bucket starts full, as at initialize; the count, the task
        # and its timer stay.
        self._read_settings(args)
        self._rate.start(self.router.now())
        self._wake()

    def initialize(self) -> None:
        self._rate.start(self.router.now())
        self._signal = upstream_empty_signal(self, 0, self._task.reschedule)
        if self.active:
            self._task.reschedule()

    def _run(self) -> bool:
        self._runs += 1
        if not self.active:
            return False
        rate = self._rate
        now = self.router.now()
        if not rate.allows(now):
            at = rate.when_allowed(now)
            if at is not None:
                self._timer.schedule_at(at)
            self._empty_runs += 1
            return False
        # One packet a run, as Click's: a Queue upstream fills and drops as there.
        packet = self.input_pull(0)
        if packet is not None:
            rate.take(packet)
            self.count += 1
            self.output_push(0, [packet])
        else:
            self._failed_pulls += 1
            if not self._signal:
                return False
            self._empty_runs += 1
        self._task.reschedule()
        return packet is not None

    @read_handler("rate")
    @read_handler("config")
    def _read_rate(self) -> str:
        return self._rate.unparse()

    @write_handler("rate")
    def _write_rate(self, value: str) -> None:
        self._rate.set_rate(value)
        self._wake()

    @read_handler("calls")
    def _read_calls(self) -> str:
        return (f"{self._runs} calls to run_task()\n{self._empty_runs} empty runs\n"
                f"{self.count} pushes\n{self._failed_pulls} failed pulls\n")

    def _wake(self) -> None:
        if self.active and self.scheduling.scheduler is not None:
            self._task.reschedule()


class BandwidthRatedUnqueue(RatedUnqueue):
    """BandwidthRatedUnqueue(RATE, KEYWORDS) -- pull-to-push converter

    Description
    Pulls packets at the given RATE, a bandwidth, and pushes them out its
    single output. Its token bucket counts bytes: a packet is pulled
    whenever the bucket holds at least 131072 bytes worth of tokens, and
    its length is then taken from the bucket. The bucket holds 131072
    bytes more than the burst, which defaults to 20 milliseconds worth of
    bytes and can be set with BURST_DURATION or BURST_BYTES; it is full at
    the start, so a burst of about that many bytes (the last packet
    overshooting) goes out at once, then RATE bytes per second. It pulls
    one packet per run of its task, and sleeps while the elements upstream
    say nothing will come.

    Ports
    one pull input, one push output

    Keyword arguments
    RATE -- bytes per second, as a bandwidth (1Mbps, 20kBps, 131072B/s; a bare number is bytes per second), below 2^32; mandatory
    BURST_DURATION -- the burst is RATE times this many bytes, 0 to 1 hour; default 20ms
    BURST_BYTES -- the burst in bytes, below 2^32 (not with BURST_DURATION)
    ACTIVE -- pull only while true; default true

    Element handlers
    rate (read/write) -- the RATE setting as a bandwidth (8kbps), read back as the bucket keeps it, which may differ a little; a write sets the burst back to 20 milliseconds worth, as Click's
    config (read) -- the same as rate
    active (read/write) -- the ACTIVE setting
    count (read) -- packets pulled so far
    calls (read) -- four lines: task runs, runs that pushed nothing, packets pushed and pulls that found no packet

    Example
    InfiniteSource(LIMIT 50, LENGTH 100) -> Queue -> BandwidthRatedUnqueue(8kbps)
        -> c :: Counter -> Discard;
    """

    bandwidth = True
