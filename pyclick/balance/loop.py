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


class DecisionLog:
    """An observer that logs decisions: with ``verbose`` 1 those that change something."""

    def __init__(self, log: logging.Logger | logging.LoggerAdapter, verbose: int) -> None:
        self.log = log
        self.verbose = verbose

    def __call__(self, decision: Decision) -> None:
        # verbose 2 logs every decision.
        if self.verbose >= 2 or (self.verbose and (decision.moves or decision.added
                                                   or decision.removed)):
            self.log.info("%s", describe(decision))


def describe(decision: Decision) -> str:
    """One log line: what the method balanced, the moves, what is left and the next tick.

    The per-core figures are the ones the method balanced, in its own
    terms: the measured loads for some methods, for rsspp each core's
    predicted load corrected by what it served beyond its share lately
    (which may be negative). They are not the cores' loads, and are not
    called so.
    """
    figures = " ".join(f"{x:.2f}" for x in decision.loads)
    text = (f"balanced {figures}; {len(decision.moves)} moves; imbalance "
            f"{decision.imbalance:.3f}; next tick {decision.next_tick * 1000:g} ms")
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
