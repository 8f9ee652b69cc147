"""DeviceBalancer inside a router: parameters, start-up checks, ticks, notices, handlers."""

from __future__ import annotations

import numpy as np
import pytest

from pyclick.args import ELEMENT, UNSIGNED, Args
from pyclick.element import Element
from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.router import Router
from pyclick.runtime.timers import Timer

EVENTS: list[tuple] = []


class DbTestNic(Element):
    """DbTestNic(QUEUES, RETA, STOP) -- a tiny deterministic NIC for balancer tests

    Description
    Buckets receive fixed, skewed packet rates (seeded), twice as many on
    the buckets the even table gives queue 0; each queue's core serves
    1 Mpps. Runs in simulated time and stops the router after STOP
    seconds. Logs every table write into the test's event list. Its table
    size cannot change.
    """

    def configure(self, args: Args) -> None:
        self.queues = args.read("QUEUES", UNSIGNED, 4)
        self.size = args.read("RETA", UNSIGNED, 128)
        self.stop_after = args.read("STOP", UNSIGNED, 2)
        args.complete()
        self.router.use_simtime()
        self._set_size(self.size)

    def _set_size(self, size: int) -> None:
        rng = np.random.default_rng(7)
        self.rates = (rng.pareto(2.0, size) + 1.0)
        # The even table starts with queue 0 twice as busy as the others.
        self.rates[::self.queues] *= 2
        self.rates *= 0.6 * self.queues * 1e6 / self.rates.sum()
        self.table = np.arange(size) % self.queues
        self.last_counts = 0.0

    def initialize(self) -> None:
        Timer(self, lambda: self.router.stop("done")).schedule_after(self.stop_after)

    def reta_size(self) -> int:
        return len(self.table)

    def queue_count(self) -> int:
        return self.queues

    def read_table(self) -> np.ndarray:
        return self.table.copy()

    def write_table(self, table: np.ndarray) -> None:
        EVENTS.append(("write", tuple(int(q) for q in table)))
        self.table = np.asarray(table).copy()

    def hash_key(self) -> bytes:
        return bytes(40)

    def load_source(self, cycles: str):
        return self

    def read_loads(self, cores) -> np.ndarray:
        per_core = np.bincount(self.table, weights=self.rates, minlength=self.queues)
        return np.minimum(per_core[list(cores)] / 1e6, 1.0)

    def read_counts(self) -> np.ndarray:
        now = self.router.now()
        elapsed, self.last_counts = now - self.last_counts, now
        return np.round(self.rates * elapsed).astype(np.int64)


class DbTestResizableNic(DbTestNic):
    """DbTestResizableNic(...) -- DbTestNic whose table can be resized"""

    def set_reta_size(self, size: int) -> None:
        EVENTS.append(("resize", size))
        self._set_size(size)


class DbTestBareNic(DbTestNic):
    """DbTestBareNic(...) -- DbTestNic without a load source of its own"""

    def load_source(self, cycles: str):
        return None


class DbTestCounter(Element):
    """DbTestCounter(DEV) -- per-bucket counts of a DbTestNic"""

    def configure(self, args: Args) -> None:
        self.dev = args.read_mp("DEV", ELEMENT)
        args.complete()

    def read_counts(self) -> np.ndarray:
        return self.dev.read_counts()


class DbTestListener(Element):
    """DbTestListener(DEV) -- records migration notices and the table DEV shows meanwhile"""

    def configure(self, args: Args) -> None:
        self.dev = args.read_mp("DEV", ELEMENT)
        args.complete()

    def init_assignment(self, table) -> None:
        EVENTS.append(("init", tuple(int(q) for q in table)))

    def pre_migrate(self, source_core, moves) -> None:
        table = self.dev.read_table()
        EVENTS.append(("pre", source_core, list(moves), [int(table[b]) for b, _ in moves]))

    def post_migrate(self, moves) -> None:
        table = self.dev.read_table()
        EVENTS.append(("post", list(moves), [int(table[b]) for b, _, _ in moves]))


@pytest.fixture(autouse=True)
def clear_events():
    EVENTS.clear()


def build(balancer: str, nic: str = "DbTestNic(QUEUES 4)", extra: str = "") -> Router:
    text = (f"nic :: {nic};\n"
            f"db :: DeviceBalancer({balancer});\n"
            f"counter :: DbTestCounter(nic);\n"
            f"mgr :: DbTestListener(nic);\n"
            f"idle :: Idle;\n{extra}")
    router = Router(flatten(text, "db.click"))
    router.configure()
    return router


def config_errors(balancer: str, **kw) -> str:
    with pytest.raises(ConfigError) as caught:
        build(balancer, **kw)
    return "\n".join(caught.value.messages)


BASE = "METHOD rsspp, DEV nic, RSSCOUNTER counter"


@pytest.mark.parametrize("config, expected", [
    ("DEV nic, RSSCOUNTER counter", "METHOD: missing mandatory argument"),
    ("METHOD nope, DEV nic", "METHOD: unknown method 'nope' (expected one of"),
    ("METHOD metron, DEV nic", "METHOD: method 'metron' needs DPDK flow rules"),
    ("METHOD rss", "DEV: missing mandatory argument"),
    ("METHOD rss, DEV ghost", "DEV: no element named 'ghost'"),
    ("METHOD rss, DEV idle", "DEV: 'idle :: Idle' is not an RSS device"),
    (f"{BASE}, CPUS four", "CPUS: expected unsigned integer, got 'four'"),
    (f"{BASE}, CPUS 0", "CPUS: must be at least 1, got 0"),
    (f"{BASE}, CPUS 4, STARTCPU 6", "STARTCPU: 6 is more than CPUS 4"),
    (f"{BASE}, STARTCPU -3", "STARTCPU: must be -1 (all of CPUS) or a core count, got -3"),
    (f"{BASE}, CORE_OFFSET -1", "CORE_OFFSET: expected unsigned integer"),
    (f"{BASE}, TIMER 0", "TIMER: must be positive"),
    (f"{BASE}, TIMER soon", "TIMER: expected milliseconds or a time"),
    (f"{BASE}, TIMER 10, TIMER_MAX 5", "TIMER_MAX: 5 ms is shorter than TIMER 10 ms"),
    (f"{BASE}, CYCLES wallclock", "CYCLES: expected one of realcpu, cycles, cpu, queue, "
                                  "cyclesqueue"),
    (f"{BASE}, TARGET speed", "TARGET: expected one of load, balance"),
    (f"{BASE}, AUTOSCALE maybe", "AUTOSCALE: expected boolean"),
    (f"{BASE}, ACTIVE perhaps", "ACTIVE: expected boolean"),
    (f"{BASE}, VERBOSE loud", "VERBOSE: expected unsigned integer"),
    (f"{BASE}, MANAGER idle", "MANAGER: 'idle :: Idle' does not take migration notices"),
    (f"{BASE}, RETA_SIZE 0", "RETA_SIZE: must be at least 1, got 0"),
    (f"{BASE}, MARK sometimes", "MARK: expected boolean"),
    (f"{BASE}, GROUP sometimes", "GROUP: expected boolean"),
    (f"{BASE}, TARGET_LOAD 1.5", "TARGET_LOAD: must be in (0, 1], got 1.5"),
    ("METHOD rsspp, DEV nic", "RSSCOUNTER: missing mandatory argument for METHOD rsspp"),
    ("METHOD pianorss, DEV nic", "RSSCOUNTER: missing mandatory argument for METHOD rsspp"),
    ("METHOD rsspp-ref, DEV nic", "RSSCOUNTER: missing mandatory argument for METHOD rsspp-ref"),
    ("METHOD rsspp, DEV nic, RSSCOUNTER idle",
     "RSSCOUNTER: 'idle :: Idle' does not count packets"),
    (f"{BASE}, IMBALANCE_ALPHA 0", "IMBALANCE_ALPHA: must be in (0, 1], got 0"),
    (f"{BASE}, IMBALANCE_THRESHOLD 2", "IMBALANCE_THRESHOLD: must be in [0, 1), got 2"),
    (f"{BASE}, DANCER often", "DANCER: expected boolean"),
    (f"{BASE}, NUMA yes please", "NUMA: expected boolean"),
    (f"{BASE}, SPEED 3", "SPEED: unknown keyword"),
])
def test_each_bad_parameter_is_reported_with_element_and_keyword(config, expected):
    message = config_errors(config)
    assert expected in message
    assert "db.click:2: While configuring 'db :: DeviceBalancer'" in message


def test_all_mistakes_are_reported_at_once():
    message = config_errors("METHOD nope, DEV nic, TIMER 0, TARGET_LOAD 3")
    assert "METHOD:" in message and "TIMER:" in message and "TARGET_LOAD:" in message


def run(router: Router) -> None:
    status = router.run(handle_signals=False)
    assert status == 0, router.stop_reason


def start_errors(balancer: str, nic: str) -> str:
    router = build(balancer, nic)
    with pytest.raises(ConfigError) as caught:
        router.run(handle_signals=False)
    return "\n".join(caught.value.messages)


def test_more_cpus_than_queues_is_refused_at_start():
    message = start_errors(f"{BASE}, CPUS 8", "DbTestNic(QUEUES 4)")
    assert "CPUS: 8 cores but DEV 'nic' has 4 queues" in message
    assert "While initializing 'db :: DeviceBalancer'" in message


def test_a_table_that_cannot_be_resized_is_refused_at_start():
    message = start_errors(f"{BASE}, RETA_SIZE 32", "DbTestNic(RETA 16)")
    assert ("RETA_SIZE: 32 buckets, but DEV 'nic' has a table of 16 buckets and cannot "
            "resize it") in message


def test_a_resizable_table_is_resized_to_reta_size():
    router = build(f"{BASE}, RETA_SIZE 32, TIMER 10", "DbTestResizableNic(RETA 16, STOP 1)")
    run(router)
    assert ("resize", 32) in EVENTS
    assert len(router.handlers.read("db.table").split()) == 32


@pytest.mark.parametrize("cycles, expected", [
    ("cycles", "CYCLES cycles needs the busy time of router threads pinned"),
    ("queue", "CYCLES queue needs a device that reports its RX queue fill"),
])
def test_load_modes_without_a_source_are_refused_at_start(cycles, expected):
    assert expected in start_errors(f"{BASE}, CYCLES {cycles}", "DbTestBareNic")


def test_cpus_default_to_every_queue_and_the_first_table_is_even():
    router = build(f"{BASE}, MANAGER mgr, ACTIVE false", "DbTestNic(QUEUES 4, STOP 1)")
    run(router)
    even = tuple(q % 4 for q in range(128))
    assert EVENTS[:2] == [("write", even), ("init", even)]
    assert router.handlers.read("db.cpus") == "0 1 2 3"
    assert router.handlers.read("db.active") == "false"


def test_migration_notices_come_in_order_around_the_table_write():
    router = build(f"{BASE}, MANAGER mgr, TIMER 10, TIMER_MAX 100, VERBOSE 0")
    run(router)
    ticks_with_moves = 0
    i = 2
    while i < len(EVENTS):
        pres = []
        while i < len(EVENTS) and EVENTS[i][0] == "pre":
            pres.append(EVENTS[i])
            i += 1
        assert pres, f"expected pre_migrate before {EVENTS[i]}"
        assert EVENTS[i][0] == "write"
        assert EVENTS[i + 1][0] == "post"
        post = EVENTS[i + 1]
        for _, source, moves, cores_then in pres:
            # Before the write, every bucket announced still points at its source.
            assert cores_then == [source] * len(moves)
        announced = sorted((b, s, n) for _, s, moves, _ in pres for b, n in moves)
        assert sorted(post[1]) == announced
        # After the write, every bucket points at its new core.
        assert post[2] == [new for _, _, new in post[1]]
        ticks_with_moves += 1
        i += 2
    assert ticks_with_moves > 0
    assert int(router.handlers.read("db.moves").splitlines()[0]) == sum(
        len(e[1]) for e in EVENTS if e[0] == "post")


def test_handlers_publish_the_last_decision():
    router = build(f"{BASE}, TIMER 10, TIMER_MAX 100, VERBOSE 0")
    seen = []
    router.element("db").observers.append(seen.append)
    run(router)
    db = router.element("db")
    assert seen and seen[-1] is db.last_decision
    load_lines = router.handlers.read("db.load").splitlines()
    assert [line.split()[0] for line in load_lines] == ["0", "1", "2", "3"]
    assert float(router.handlers.read("db.imbalance")) == pytest.approx(
        db.last_decision.imbalance, abs=1e-6)
    table = [int(q) for q in router.handlers.read("db.table").split()]
    assert table == list(db.last_decision.table)
    stats = router.handlers.read("db.run_stats").splitlines()
    assert len(stats) == 10 and stats[0].split()[0] == "0" and int(stats[0].split()[1]) > 0
    assert float(router.handlers.read("db.run_stats_time_first")) > 0
    assert float(router.handlers.read("db.run_stats_imbalance_first")) >= 0
    assert 10 <= float(router.handlers.read("db.tick")) <= 100


def test_writing_cpus_brings_cores_into_use_and_autoscale_toggles():
    router = build(f"{BASE}, CPUS 4, STARTCPU 2, TIMER 10, VERBOSE 0",
                   "DbTestNic(QUEUES 4, STOP 1)")
    run(router)
    handlers = router.handlers
    assert handlers.read("db.cpus") == "0 1"
    handlers.write("db.cpus", "3")
    assert handlers.read("db.cpus") == "0 1 2"
    assert handlers.read("db.autoscale") == "false"
    handlers.write("db.autoscale", "true")
    assert handlers.read("db.autoscale") == "true"


def test_the_readme_configuration_runs_on_the_simulated_nic():
    text = """
    fd :: SimNIC(CORES 8, RETA_SIZE 128, DURATION 4, QUIET true) -> Discard;
    db :: DeviceBalancer(METHOD pianorss, DEV fd, CPUS 8, RSSCOUNTER xdp, CYCLES realcpu,
                         RETA_SIZE 128, VERBOSE 0, TARGET_LOAD 0.75, TIMER 10,
                         TIMER_MAX 1000, IMBALANCE_THRESHOLD 0.02, AUTOSCALE false);
    StaticThreadSched(db 7)
    xdp :: SimCounter(DEV fd);
    """
    router = Router(flatten(text, "readme.click"))
    router.configure()
    run(router)
    assert int(router.handlers.read("db.moves").splitlines()[0]) > 0
    assert len(router.handlers.read("db.load").splitlines()) == 8
