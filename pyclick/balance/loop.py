"""One balancer at work, free of any router: read, decide, migrate, write, publish.

``BalancerLoop`` drives a :class:`~pyclick.balance.Controller` against the
seams of ``pyclick.seams``: every ``tick(now)`` reads the cores' loads and the
buckets' packet counts, asks the controller for a new table, tells the
migration listener which buckets leave which core (``pre_migrate``), writes
the table, tells it the moves are live (``post_migrate``) and hands the
decision to every observer. Whoever owns the loop (DeviceBalancer, a test,
a benchmark) only says when to tick.
"""

from __future__ import annotations

import logging

import numpy as np

from pyclick.balance.controller import Controller, Decision
from pyclick.balance.published import DecisionObserver, LoopCounters
from pyclick.balance.run_stats import RunStatsTable
from pyclick.balance.tables import moves_by_source
from pyclick.seams import BucketCounter, LoadSource, MigrationListener, RssDevice

_log = logging.getLogger("pyclick.balance")


#: With ``verbose`` 1, the moves of this many seconds of decisions make one line.
SUMMARY_SECONDS = 1.0


class DecisionLog:
    """An observer that logs decisions.

    ``verbose`` 2: every decision, one line each. ``verbose`` 1: what
    changes. A change of the cores in use is logged at once; moves are
    summed up over each SUMMARY_SECONDS of the time the decisions cover
    (their ``elapsed``), one line when some moved: at a tick of 10 ms a
    line per moving tick would be half a megabyte a minute. ``flush``
    writes the line of a period cut short (the balancer stopping).
    """

    def __init__(self, log: logging.Logger | logging.LoggerAdapter, verbose: int) -> None:
        self.log = log
        self.verbose = verbose
        self._period = _Period()

    def __call__(self, decision: Decision) -> None:
        if self.verbose >= 2:
            self.log.info("%s", describe(decision))
        elif self.verbose and (decision.added or decision.removed):
            self.flush()
            self.log.info("%s", describe(decision))
        elif self.verbose:
            self._period.add(decision)
            # Within rounding: ten ticks of 0.1 s add up to 0.9999999999999999.
            if self._period.seconds >= SUMMARY_SECONDS - 1e-9:
                self.flush()

    def flush(self) -> None:
        """Log the moves of the period so far, if any, and start a new one."""
        period, self._period = self._period, _Period()
        if period.moves:
            self.log.info("%s", period.describe())


class _Period:
    """What the decisions of one summary period did."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.ticks = self.moving_ticks = self.moves = 0
        self.highest = 0.0
        self.last: Decision | None = None

    def add(self, decision: Decision) -> None:
        self.seconds += decision.elapsed
        self.ticks += 1
        if decision.moves:
            self.moving_ticks += 1
            self.moves += len(decision.moves)
        self.highest = max(self.highest, decision.imbalance)
        self.last = decision

    def describe(self) -> str:
        return (f"{self.moves} moves in {self.moving_ticks} of {self.ticks} ticks over "
                f"{self.seconds:.2f} s; imbalance up to {self.highest:.3f}, last "
                f"{self.last.imbalance:.3f}; next tick {self.last.next_tick * 1000:g} ms")


def describe(decision: Decision) -> str:
    """One log line: what the method balanced, the moves, what is left and the next tick.

    The per-core figures are the ones the method balanced, in its own
    terms: the measured loads for some methods, for rsspp each core's
    predicted load corrected by what it served beyond its share lately
    (which may be negative). They are not the cores' loads, and are not
    called so.
    """
    figures = " ".join(f"{x:.2f}" for x in decision.loads)
    # A change of cores by hand (the cpus handler) balanced nothing.
    text = ((f"balanced {figures}; " if figures else "")
            + f"{len(decision.moves)} moves; imbalance {decision.imbalance:.3f}; "
            f"next tick {decision.next_tick * 1000:g} ms")
    if decision.added:
        text += f"; added cores {decision.added}"
    if decision.removed:
        text += f"; removed cores {decision.removed}"
    return text


class BalancerLoop:
    """The tick of one balancer (see the module docstring).

    ``counter`` may be None for methods that do not weigh buckets (counts
    are then zeros). Queue q of the table is core ``core_offset + q`` for
    ``loads``. ``observers`` is kept as given, so that an owner may hand
    over a list it lets others subscribe to before the loop exists.
    """

    def __init__(self, controller: Controller, device: RssDevice, counter: BucketCounter | None,
                 loads: LoadSource, listener: MigrationListener | None = None, *,
                 core_offset: int = 0, observers: list[DecisionObserver] | None = None,
                 log: logging.Logger | logging.LoggerAdapter = _log) -> None:
        self.controller = controller
        self.device = device
        self.counter = counter
        self.loads = loads
        self.listener = listener
        self.core_offset = core_offset
        self.observers: list[DecisionObserver] = [] if observers is None else observers
        self.log = log
        self.counters = LoopCounters()
        self.run_stats = RunStatsTable()
        self.last_decision: Decision | None = None
        self._last_tick = 0.0

    def subscribe(self, observer: DecisionObserver) -> None:
        self.observers.append(observer)

    def start(self, now: float) -> None:
        """Install the controller's first table, tell the listener, start measuring at ``now``.

        A counter whose buckets differ from the table's is refused here
        (ValueError), before the first tick.
        """
        table = self.controller.table.copy()
        self.device.write_table(table)
        if self.listener is not None:
            self.listener.init_assignment(table)
        self.resume(now)

    def resume(self, now: float) -> None:
        """Forget what was measured before ``now`` (at start, and after a pause)."""
        self.loads.read_loads(self._cores())
        self._read_counts()
        self._last_tick = now

    def tick(self, now: float) -> Decision | None:
        """One tick at time ``now``; None when a read failed and the tick was skipped."""
        try:
            loads = self.loads.read_loads(self._cores())
            counts = self._read_counts()
        except OSError as err:
            # A failed read (a map or /proc/stat momentarily unreadable) costs
            # this tick only; the next one measures from here.
            self.counters.tick_errors += 1
            self.log.warning("tick skipped: %s", err)
            self._last_tick = now
            return None
        elapsed = now - self._last_tick
        self._last_tick = now
        decision = self.controller.step(loads, counts, elapsed if elapsed > 0 else None)
        self._apply(decision)
        return decision

    def set_cpus(self, count: int) -> Decision:
        """Bring cores into use until ``count`` are (ValueError when not allowed)."""
        decision = self.controller.set_cpus(count)
        self._apply(decision)
        return decision

    def _cores(self) -> list[int]:
        """What the load source calls the cores in use."""
        return [self.core_offset + q for q in self.controller.active]

    def _read_counts(self) -> np.ndarray:
        size = len(self.controller.table)
        if self.counter is None:
            return np.zeros(size, dtype=np.int64)
        counts = np.asarray(self.counter.read_counts())
        if counts.shape != (size,):
            raise ValueError(f"the bucket counter {self.counter!r} reports {counts.size} "
                             f"buckets; the table has {size}")
        return counts

    def _apply(self, decision: Decision) -> None:
        """Migration notices and table write, in the order state migration needs; then publish."""
        if decision.moves:
            if self.listener is not None:
                for source, moves in moves_by_source(decision.moves).items():
                    self.listener.pre_migrate(source, moves)
            self.device.write_table(decision.table)
            self.counters.table_writes += 1
            if self.listener is not None:
                self.listener.post_migrate(decision.moves)
        self.last_decision = decision
        self.counters.moves += len(decision.moves)
        self.run_stats.add(decision.runs)
        for observer in self.observers:
            observer(decision)
