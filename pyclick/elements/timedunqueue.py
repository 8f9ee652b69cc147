"""TimedUnqueue and Burster: pull-to-push converters that pull a burst of
packets once an interval."""

from __future__ import annotations

from typing import ClassVar

from pyclick.args import INT, TIME, Args
from pyclick.elements.timedpuller import TimedPuller

#: Click keeps INTERVAL as a 32-bit count of milliseconds.
INTERVAL = TIME.range(0, 0xFFFFFFFF / 1000)
BURST = INT.range(1, 0x7FFFFFFF)


class TimedUnqueue(TimedPuller):
    """TimedUnqueue(INTERVAL, BURST) -- pull-to-push converter

    Description
    Pulls at most BURST packets once every INTERVAL, and pushes them out its
    single output. INTERVAL counts in whole milliseconds (rounded to the
    nearest). The intervals follow each other without drift while packets
    keep coming. When a pull finds no packet and the elements upstream say
    none will come (an empty Queue), TimedUnqueue sleeps; the first packet
    to arrive then goes out at once, and the intervals start again from
    there. A packet may so wait up to INTERVAL in the Queue, INTERVAL / 2
    on average. With BURST 1 and packets arriving less often than once an
    INTERVAL, it adds little delay.

    Ports
    one pull input, one push output

    Keyword arguments
    INTERVAL -- the time between pulls, to the millisecond; mandatory
    BURST -- packets pulled at most per INTERVAL, at least 1; default 1

    Example
    InfiniteSource(LIMIT 20) -> Queue -> TimedUnqueue(100ms, 4) -> c :: Counter -> Discard;
    """

    #: BURST when the configuration does not give one.
    default_burst: ClassVar[int] = 1

    def configure(self, args: Args) -> None:
        interval = args.read_mp("INTERVAL", INTERVAL)
        self.burst = args.read_p("BURST", BURST, self.default_burst)
        args.complete()
        # Rounded half up to the millisecond, as Click reads it.
        self.interval = int(interval * 1000 + 0.5) / 1000
        # True while the next interval starts afresh from now (at the start,
        # and after sleeping): otherwise it follows the last one without drift.
        self._restart = True
        self.make_task()

    def _run(self) -> bool:
        # An upstream Queue filling up while an interval runs changes nothing.
        if self._timer.scheduled:
            return False
        batch = self.input_pull_batch(0, self.burst)
        if not batch and not self._signal:
            self._restart = True
            return False
        if batch:
            self.output_push(0, batch)
        if self._restart:
            self._timer.schedule_after(self.interval)
            self._restart = False
        else:
            self._timer.reschedule_after(self.interval)
        return bool(batch)


class Burster(TimedUnqueue):
    """Burster(INTERVAL, BURST) -- pull-to-push converter

    Description
    TimedUnqueue with a default BURST of 8: pulls at most BURST packets once
    every INTERVAL (to the millisecond) and pushes them out its single
    output, sleeping while the elements upstream say nothing will come.

    Ports
    one pull input, one push output

    Keyword arguments
    INTERVAL -- the time between pulls, to the millisecond; mandatory
    BURST -- packets pulled at most per INTERVAL, at least 1; default 8

    Example
    InfiniteSource(LIMIT 20) -> Queue -> Burster(100ms) -> c :: Counter -> Discard;
    """

    default_burst = 8
