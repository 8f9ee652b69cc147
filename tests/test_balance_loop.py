"""BalancerLoop without a router: reads, decision, migration notices, table writes, publishing.

The device, counter, load source and listener are plain objects. The
methods are the static ones, whose tables can be worked out by hand: 'rss'
keeps the even table, 'rssrr' moves every bucket to the next core.
"""

from __future__ import annotations

import numpy as np
import pytest

from pyclick.balance import BalanceParams, Controller
from pyclick.balance.fit import DeviceMismatch, fit_to_device
from pyclick.balance.loop import BalancerLoop, DecisionLog


class Nic:
    """A table in memory; writes go to ``events``."""

    def __init__(self, events: list, queues: int = 2, size: int = 8) -> None:
        self.events = events
        self.queues = queues
        self.table = np.zeros(size, dtype=np.int64)

    def reta_size(self) -> int:
        return len(self.table)

    def queue_count(self) -> int:
        return self.queues

    def read_table(self) -> np.ndarray:
        return self.table.copy()

    def write_table(self, table: np.ndarray) -> None:
        self.events.append(("write", table.tolist()))
        self.table = np.asarray(table).copy()

    def hash_key(self) -> bytes:
        return bytes(40)


class Counter:
    """Hands out the counts it is given, one array per read; an OSError is raised."""

    def __init__(self, *reads) -> None:
        self.reads = list(reads)

    def read_counts(self) -> np.ndarray:
        value = self.reads.pop(0)
        if isinstance(value, OSError):
            raise value
        return np.asarray(value, dtype=np.int64)


class Loads:
    """The same loads at every read; remembers which cores were asked for."""

    def __init__(self, *loads: float) -> None:
        self.loads = np.array(loads)
        self.asked: list[list[int]] = []

    def read_loads(self, cores) -> np.ndarray:
        self.asked.append(list(cores))
        return self.loads[:len(cores)].copy()


class Listener:
    """Migration notices, each with the queues the device shows at that moment."""

    def __init__(self, events: list, nic: Nic) -> None:
        self.events = events
        self.nic = nic

    def init_assignment(self, table) -> None:
        self.events.append(("init", list(table)))

    def pre_migrate(self, source_core, moves) -> None:
        self.events.append(("pre", source_core, list(moves),
                            [int(self.nic.table[b]) for b, _ in moves]))

    def post_migrate(self, moves) -> None:
        self.events.append(("post", list(moves), [int(self.nic.table[b]) for b, _, _ in moves]))


def loop_of(method: str, counter=None, loads=None, *, cpus: int = 2, start: int | None = None,
            core_offset: int = 0) -> tuple[BalancerLoop, list]:
    events: list = []
    nic = Nic(events, queues=cpus)
    params = BalanceParams(method=method, reta_size=8, cpus=cpus, start_cpus=start, timer=0.1)
    loop = BalancerLoop(Controller(params), nic, counter or Counter(*[[0] * 8] * 4),
                        loads or Loads(0.5, 0.5, 0.5), Listener(events, nic),
                        core_offset=core_offset)
    return loop, events


def test_start_installs_the_even_table_and_tells_the_listener():
    loop, events = loop_of("rss")
    loop.start(0.0)
    even = [0, 1, 0, 1, 0, 1, 0, 1]
    assert events == [("write", even), ("init", even)]
    assert loop.counters.table_writes == 0 and loop.last_decision is None


def test_moves_are_announced_per_source_core_around_the_write():
    loop, events = loop_of("rssrr")
    published = []
    loop.subscribe(published.append)
    loop.start(0.0)
    events.clear()
    decision = loop.tick(0.1)
    # rssrr sends every bucket to the next core: 0 -> 1 and 1 -> 0.
    assert events == [
        ("pre", 0, [(0, 1), (2, 1), (4, 1), (6, 1)], [0, 0, 0, 0]),
        ("pre", 1, [(1, 0), (3, 0), (5, 0), (7, 0)], [1, 1, 1, 1]),
        ("write", [1, 0, 1, 0, 1, 0, 1, 0]),
        ("post", [(0, 0, 1), (1, 1, 0), (2, 0, 1), (3, 1, 0), (4, 0, 1), (5, 1, 0),
                  (6, 0, 1), (7, 1, 0)], [1, 0, 1, 0, 1, 0, 1, 0]),
    ]
    assert published == [decision] and loop.last_decision is decision
    assert (loop.counters.moves, loop.counters.table_writes) == (8, 1)
    loop.tick(0.2)
    assert (loop.counters.moves, loop.counters.table_writes) == (16, 2)


def test_a_tick_without_moves_writes_nothing_but_is_published():
    loop, events = loop_of("rss")
    published = []
    loop.subscribe(published.append)
    loop.start(0.0)
    decision = loop.tick(0.1)
    assert decision.moves == [] and published == [decision]
    assert events[2:] == [] and loop.counters.table_writes == 0


def test_a_failed_read_skips_the_tick_and_the_next_measures_from_it():
    counter = Counter([0] * 8, OSError("map gone"), [3] * 8)
    loop, events = loop_of("rss", counter)
    loop.start(0.0)
    assert loop.tick(0.1) is None
    assert loop.counters.tick_errors == 1 and loop.last_decision is None
    decision = loop.tick(0.25)
    assert decision.elapsed == pytest.approx(0.15)
    assert decision.counts.tolist() == [3] * 8


def test_loads_are_read_for_the_cpus_serving_the_queues_in_use():
    loads = Loads(0.25, 0.75)
    loop, _ = loop_of("rss", loads=loads, core_offset=4)
    loop.start(0.0)
    decision = loop.tick(0.1)
    assert loads.asked == [[4, 5], [4, 5]]
    assert decision.loads.tolist() == [0.25, 0.75] and decision.cores == [0, 1]


def test_a_counter_of_another_size_is_refused_at_start():
    loop, _ = loop_of("rss", Counter([0] * 4))
    with pytest.raises(ValueError, match="reports 4 buckets; the table has 8"):
        loop.start(0.0)


def test_without_a_counter_the_method_sees_no_packets():
    events: list = []
    params = BalanceParams(method="rss", reta_size=8, cpus=2, timer=0.1)
    loop = BalancerLoop(Controller(params), Nic(events), None, Loads(0.5, 0.5))
    loop.start(0.0)
    assert loop.tick(0.1).counts.tolist() == [0] * 8


def test_set_cpus_spreads_the_table_over_the_new_core():
    loop, events = loop_of("rss", cpus=4, start=2)
    loop.start(0.0)
    events.clear()
    decision = loop.set_cpus(3)
    # Even over cores 0, 1, 2: [0, 1, 2, 0, 1, 2, 0, 1] from [0, 1, 0, 1, 0, 1, 0, 1].
    assert decision.added == [2]
    assert events == [("pre", 0, [(2, 2), (4, 1)], [0, 0]), ("pre", 1, [(3, 0), (5, 2)], [1, 1]),
                      ("write", [0, 1, 2, 0, 1, 2, 0, 1]),
                      ("post", [(2, 0, 2), (3, 1, 0), (4, 0, 1), (5, 1, 2)], [2, 0, 1, 2])]
    with pytest.raises(ValueError, match="CPUS allows 4"):
        loop.set_cpus(5)


def test_resume_forgets_what_happened_while_paused():
    counter = Counter([0] * 8, [5] * 8, [1] * 8)
    loop, _ = loop_of("rss", counter)
    loop.start(0.0)
    loop.resume(1.0)
    decision = loop.tick(1.5)
    assert decision.counts.tolist() == [1] * 8 and decision.elapsed == pytest.approx(0.5)


def test_decision_log_says_what_changed(caplog):
    import logging

    log = logging.getLogger("test.balance")
    loop, _ = loop_of("rssrr")
    loop.start(0.0)
    decision = loop.tick(0.1)   # 8 moves over 0.1 s, nothing left
    with caplog.at_level(logging.INFO, "test.balance"):
        DecisionLog(log, 0)(decision)
        DecisionLog(log, 2)(decision)
        DecisionLog(log, 2)(loop_of("rss")[0].controller.step(np.zeros(2), np.zeros(8)))
    assert [r.getMessage() for r in caplog.records] == [
        "balanced 0.50 0.50; 8 moves; imbalance 0.000; next tick 100 ms",
        "balanced 0.00 0.00; 0 moves; imbalance 0.000; next tick 100 ms"]


def test_decision_log_sums_up_each_second_of_moves(caplog):
    import logging

    log = logging.getLogger("test.balance")
    loop, _ = loop_of("rssrr", cpus=3, start=2)
    loop.start(0.0)
    moving = loop.tick(0.1)     # 8 moves over 0.1 s
    calm = loop_of("rss")[0].controller.step(np.zeros(2), np.zeros(8), 0.1)
    added = loop.set_cpus(3)
    decisions = DecisionLog(log, 1)
    with caplog.at_level(logging.INFO, "test.balance"):
        for _ in range(9):
            decisions(moving)
        decisions(calm)         # the tenth tenth of a second: one line for the ten
        for _ in range(10):
            decisions(calm)     # a second without moves: no line
        decisions(moving)
        decisions(added)        # a change of cores: the period so far, then the change
        decisions.flush()       # nothing left to say
    assert [r.getMessage() for r in caplog.records] == [
        "72 moves in 9 of 10 ticks over 1.00 s; imbalance up to 0.000, last 0.000; "
        "next tick 100 ms",
        "8 moves in 1 of 1 ticks over 0.10 s; imbalance up to 0.000, last 0.000; "
        "next tick 100 ms",
        f"{len(added.moves)} moves; imbalance 0.000; next tick 100 ms; added cores [2]"]


# --- fitting the settings to the device

class Resizable(Nic):
    def set_reta_size(self, size: int) -> None:
        if size > 16:
            raise ValueError("at most 16 buckets")
        self.table = np.zeros(size, dtype=np.int64)


class Numa(Nic):
    def core_sockets(self):
        return [0, 0, 1, 1]


def test_cpus_default_to_the_queue_count():
    params = BalanceParams(reta_size=8, cpus=1)
    fit_to_device(params, Nic([], queues=4), "nic", cpus_given=False, cpu_sockets=list)
    assert params.cpus == 4


def test_more_cpus_than_queues_is_a_mismatch():
    with pytest.raises(DeviceMismatch, match="CPUS: 8 cores but DEV 'nic' has 4 queues$"):
        fit_to_device(BalanceParams(reta_size=8, cpus=8), Nic([], queues=4), "nic",
                      cpus_given=True, cpu_sockets=list)


def test_a_table_is_resized_when_the_device_can():
    nic = Resizable([], size=8)
    fit_to_device(BalanceParams(reta_size=16, cpus=2), nic, "nic", cpus_given=True,
                  cpu_sockets=list)
    assert nic.reta_size() == 16
    with pytest.raises(DeviceMismatch, match="cannot resize its table of 16 buckets to 32: "
                                             "at most 16"):
        fit_to_device(BalanceParams(reta_size=32, cpus=2), nic, "nic", cpus_given=True,
                      cpu_sockets=list)
    with pytest.raises(DeviceMismatch, match="RETA_SIZE: 16 buckets, but DEV 'nic' has a table "
                                             "of 8 buckets and cannot resize it"):
        fit_to_device(BalanceParams(reta_size=16, cpus=2), Nic([]), "nic", cpus_given=True,
                      cpu_sockets=list)


def test_numa_sockets_come_from_the_device_else_from_the_system():
    params = BalanceParams(reta_size=8, cpus=3, numa=True)
    fit_to_device(params, Numa([], queues=4), "nic", cpus_given=True, cpu_sockets=list)
    assert params.sockets == [0, 0, 1]
    asked = []
    params = BalanceParams(reta_size=8, cpus=2, numa=True)
    fit_to_device(params, Nic([], queues=2), "nic", cpus_given=True,
                  cpu_sockets=lambda n: asked.append(n) or [1, 0])
    assert asked == [2] and params.sockets == [1, 0]
