"""DeviceBalancer inside a router: arguments, wiring at start, handlers.

What happens at each tick is BalancerLoop's, tested without a router in
test_balance_loop.py; here the element is checked to parse, to wire its
DEV, RSSCOUNTER, MANAGER and load source to the loop, and to show the loop
through its handlers.
"""

from __future__ import annotations

import numpy as np
import pytest

from pyclick.args import ELEMENT, UNSIGNED, Args
from pyclick.balance.published import Balancer
from pyclick.element import Element
from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.router import Router
from pyclick.runtime.timers import Timer

EVENTS: list[tuple] = []


class DbTestBareNic(Element):
    """DbTestBareNic(QUEUES, RETA, STOP) -- a table in memory, in simulated time

    Description
    Logs every table write into the test's event list and stops the router
    after STOP seconds. Its table size cannot change and it has no load
    source of its own.
    """

    simulated_time = True

    def configure(self, args: Args) -> None:
        self.queues = args.read("QUEUES", UNSIGNED, 4)
        self.table = np.arange(args.read("RETA", UNSIGNED, 128)) % self.queues
        self.stop_after = args.read("STOP", UNSIGNED, 1)

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

    def read_counts(self) -> np.ndarray:
        return np.ones(len(self.table), dtype=np.int64)


class DbTestNic(DbTestBareNic):
    """DbTestNic(QUEUES, RETA, STOP) -- DbTestBareNic whose cores are all half busy"""

    def load_source(self, cycles: str):
        EVENTS.append(("load_source", cycles))
        return self

    def read_loads(self, cores) -> np.ndarray:
        return np.full(len(cores), 0.5)

    def describe_queues(self) -> str:
        return "QUEUES sets the count"


class DbTestResizableNic(DbTestNic):
    """DbTestResizableNic(...) -- DbTestNic whose table can be resized"""

    def set_reta_size(self, size: int) -> None:
        EVENTS.append(("resize", size))
        self.table = np.arange(size) % self.queues


class DbTestCounter(Element):
    """DbTestCounter(DEV) -- per-bucket counts of a DbTestNic"""

    def configure(self, args: Args) -> None:
        self.dev = args.read_mp("DEV", ELEMENT)

    def initialize(self) -> None:
        EVENTS.append(("counter ready",))

    def read_counts(self) -> np.ndarray:
        return self.dev.read_counts()


class DbTestListener(Element):
    """DbTestListener() -- records migration notices"""

    def initialize(self) -> None:
        EVENTS.append(("listener ready",))

    def init_assignment(self, table) -> None:
        EVENTS.append(("init", tuple(int(q) for q in table)))

    def pre_migrate(self, source_core, moves) -> None:
        EVENTS.append(("pre", source_core, len(moves)))

    def post_migrate(self, moves) -> None:
        EVENTS.append(("post", len(moves)))


@pytest.fixture(autouse=True)
def clear_events():
    EVENTS.clear()


def build(balancer: str, nic: str = "DbTestNic(QUEUES 4)", *, balancer_first: bool = False
          ) -> Router:
    others = (f"nic :: {nic};\ncounter :: DbTestCounter(nic);\nmgr :: DbTestListener;\n"
              "idle :: Idle;\n")
    db = f"db :: DeviceBalancer({balancer});\n"
    router = Router(flatten(db + others if balancer_first else others + db, "db.click"))
    router.configure()
    return router


def config_errors(balancer: str) -> str:
    with pytest.raises(ConfigError) as caught:
        build(balancer)
    return "\n".join(caught.value.messages)


BASE = "METHOD rsspp, DEV nic, RSSCOUNTER counter"


@pytest.mark.parametrize("config, expected", [
    ("DEV nic, RSSCOUNTER counter", "METHOD: missing mandatory argument"),
    ("METHOD nope, DEV nic", "METHOD: unknown method 'nope' (expected one of"),
    ("METHOD metron, DEV nic", "METHOD: method 'metron' needs DPDK flow rules"),
    ("METHOD rss", "DEV: missing mandatory argument"),
    ("METHOD rss, DEV ghost", "DEV: no element named 'ghost'"),
    ("METHOD rss, DEV idle", "DEV: 'idle :: Idle' is not an RSS device (it must offer "
                             "reta_size, queue_count, read_table, write_table, hash_key)"),
    (f"{BASE}, CPUS four", "CPUS: expected unsigned integer, got 'four'"),
    (f"{BASE}, CPUS 0", "CPUS: must be at least 1 and at most 4096, got '0'"),
    (f"{BASE}, CPUS 4, STARTCPU 6", "STARTCPU: 6 is more than CPUS 4"),
    (f"{BASE}, STARTCPU -3", "STARTCPU: must be -1 or at least 1 and at most 4096, got '-3'"),
    (f"{BASE}, STARTCPU 0", "STARTCPU: must be -1 or at least 1 and at most 4096, got '0'"),
    (f"{BASE}, CORE_OFFSET -1", "CORE_OFFSET: expected unsigned integer"),
    (f"{BASE}, TIMER 0", "TIMER: must be at least 0.001 s and at most 3600 s, got '0'"),
    (f"{BASE}, TIMER soon", "TIMER: expected milliseconds or a time"),
    (f"{BASE}, TIMER 10, TIMER_MAX 5", "TIMER_MAX: 5 ms is shorter than TIMER 10 ms"),
    (f"{BASE}, CYCLES wallclock", "CYCLES: expected one of realcpu, cycles, cpu, queue, "
                                  "cyclesqueue"),
    (f"{BASE}, TARGET speed", "TARGET: expected one of load, balance"),
    (f"{BASE}, AUTOSCALE maybe", "AUTOSCALE: expected boolean"),
    (f"{BASE}, ACTIVE perhaps", "ACTIVE: expected boolean"),
    (f"{BASE}, VERBOSE loud", "VERBOSE: expected unsigned integer"),
    (f"{BASE}, MANAGER idle", "MANAGER: 'idle :: Idle' is not a migration listener (it must "
                              "offer init_assignment, pre_migrate, post_migrate)"),
    (f"{BASE}, RETA_SIZE 0", "RETA_SIZE: must be at least 1 and at most 65536, got '0'"),
    (f"{BASE}, MARK sometimes", "MARK: expected boolean"),
    (f"{BASE}, GROUP sometimes", "GROUP: expected boolean"),
    (f"{BASE}, TARGET_LOAD 1.5", "TARGET_LOAD: must be greater than 0 and at most 1, got '1.5'"),
    ("METHOD rsspp, DEV nic", "RSSCOUNTER: missing mandatory argument for METHOD rsspp"),
    ("METHOD pianorss, DEV nic", "RSSCOUNTER: missing mandatory argument for METHOD rsspp"),
    ("METHOD rsspp-ref, DEV nic", "RSSCOUNTER: missing mandatory argument for METHOD rsspp-ref"),
    ("METHOD rsspp, DEV nic, RSSCOUNTER idle",
     "RSSCOUNTER: 'idle :: Idle' is not a bucket counter (it must offer read_counts)"),
    (f"{BASE}, IMBALANCE_ALPHA 0", "IMBALANCE_ALPHA: must be greater than 0 and at most 1, "
                                   "got '0'"),
    (f"{BASE}, IMBALANCE_THRESHOLD 2", "IMBALANCE_THRESHOLD: must be at least 0 and less than 1, "
                                       "got '2'"),
    (f"{BASE}, DANCER often", "DANCER: expected boolean"),
    (f"{BASE}, NUMA yes please", "NUMA: expected boolean"),
    (f"{BASE}, SPEED 3", "SPEED: unknown keyword"),
])
def test_each_bad_parameter_is_reported_with_element_and_keyword(config, expected):
    message = config_errors(config)
    assert expected in message
    assert "db.click:5: While configuring 'db :: DeviceBalancer'" in message


def test_all_mistakes_are_reported_at_once():
    message = config_errors("METHOD nope, DEV nic, TIMER 0, TARGET_LOAD 3")
    assert "METHOD:" in message and "TIMER:" in message and "TARGET_LOAD:" in message


def run(router: Router) -> None:
    status = router.run(handle_signals=False)
    assert status == 0, router.stop_reason


def start_error(balancer: str, nic: str) -> str:
    router = build(balancer, nic)
    with pytest.raises(ConfigError) as caught:
        router.run(handle_signals=False)
    [message] = caught.value.messages
    assert message.startswith("db.click:5: While initializing 'db :: DeviceBalancer': ")
    return message


@pytest.mark.parametrize("balancer, nic, expected", [
    (f"{BASE}, CPUS 8", "DbTestNic(QUEUES 4)",
     "CPUS: 8 cores but DEV 'nic' has 4 queues (QUEUES sets the count)"),
    (f"{BASE}, RETA_SIZE 32", "DbTestNic(RETA 16)",
     "RETA_SIZE: 32 buckets, but DEV 'nic' has a table of 16 buckets and cannot resize it"),
    (f"{BASE}, CYCLES cycles", "DbTestBareNic",
     "CYCLES cycles needs the busy time of router threads pinned to the balanced CPUs"),
    (f"{BASE}, CYCLES queue", "DbTestBareNic",
     "CYCLES queue needs a device that reports its RX queue fill; DEV 'nic' does not"),
])
def test_what_dev_cannot_do_is_refused_at_start(balancer, nic, expected):
    assert expected in start_error(balancer, nic)


def test_a_resizable_table_is_resized_to_reta_size():
    router = build(f"{BASE}, RETA_SIZE 32, TIMER 300", "DbTestResizableNic(RETA 16)")
    run(router)
    assert ("resize", 32) in EVENTS
    assert len(router.handlers.read("db.table").split()) == 32


def test_dev_counter_and_manager_start_before_the_balancer_that_names_them():
    router = build("METHOD rss, DEV nic, RSSCOUNTER counter, MANAGER mgr, CYCLES cpu, "
                   "ACTIVE false", balancer_first=True)
    run(router)
    even = tuple(q % 4 for q in range(128))
    assert EVENTS == [("counter ready",), ("listener ready",), ("load_source", "cpu"),
                      ("write", even), ("init", even)]


def test_handlers_before_and_after_a_run():
    # rssrr moves every bucket to the next core at each tick: at 0.3, 0.6 and 0.9 s.
    router = build("METHOD rssrr, DEV nic, MANAGER mgr, TIMER 300, VERBOSE 0")
    handlers = router.handlers
    before = {name: handlers.read(f"db.{name}") for name in (
        "active", "autoscale", "cpus", "table", "load", "imbalance", "moves", "tick",
        "run_stats", "run_stats_imbalance_first", "run_stats_time_first")}
    assert before == {"active": "true", "autoscale": "false", "cpus": "", "table": "",
                      "load": "", "imbalance": "nan", "moves": "0\n", "tick": "300",
                      "run_stats": "", "run_stats_imbalance_first": "nan",
                      "run_stats_time_first": "nan"}
    run(router)
    assert handlers.read("db.cpus") == "0 1 2 3"
    assert handlers.read("db.table") == " ".join(str((b + 3) % 4) for b in range(128))
    assert handlers.read("db.load") == "0 0.5000\n1 0.5000\n2 0.5000\n3 0.5000\n"
    assert handlers.read("db.imbalance") == "0.000000"
    moves = handlers.read("db.moves").splitlines()
    assert moves[0] == "384" and len(moves) == 1 + 128
    assert moves[1:3] == ["0 2 3", "1 3 0"]
    assert handlers.read("db.tick") == "300"
    assert [e[0] for e in EVENTS].count("post") == 3


def test_writing_cpus_active_and_autoscale():
    router = build("METHOD rss, DEV nic, CPUS 4, STARTCPU 2, TIMER 300, VERBOSE 0")
    run(router)
    handlers = router.handlers
    assert handlers.read("db.cpus") == "0 1"
    handlers.write("db.cpus", "3")
    assert handlers.read("db.cpus") == "0 1 2"
    # Even over 0, 1 to even over 0, 1, 2: 4 of every 6 buckets move, 21 * 4 of 128.
    assert handlers.read("db.moves").splitlines()[0] == "84"
    handlers.write("db.autoscale", "true")
    assert handlers.read("db.autoscale") == "true"
    handlers.write("db.active", "false")
    assert handlers.read("db.active") == "false"


def test_followers_see_the_balancer_through_its_protocol():
    router = build("METHOD rssrr, DEV nic, TIMER 300, VERBOSE 0")
    db = router.element("db")
    assert isinstance(db, Balancer) and db.device_name() == "nic"
    heard = []
    db.subscribe(heard.append)
    run(router)
    assert len(heard) == 3 and heard[-1].moves == [
        (b, (b + 2) % 4, (b + 3) % 4) for b in range(128)]
    counters = db.counters()
    assert (counters.moves, counters.table_writes, counters.tick_errors) == (384, 3, 0)


def test_the_readme_configuration_runs_on_the_simulated_nic():
    text = """
    db :: DeviceBalancer(METHOD pianorss, DEV fd, CPUS 8, RSSCOUNTER xdp, CYCLES realcpu,
                         RETA_SIZE 128, VERBOSE 0, TARGET_LOAD 0.75, TIMER 10,
                         TIMER_MAX 1000, IMBALANCE_THRESHOLD 0.02, AUTOSCALE false);
    StaticThreadSched(db 7)
    xdp :: SimCounter(DEV fd);
    fd :: SimNIC(CORES 8, RETA_SIZE 128, DURATION 4, QUIET true) -> Discard;
    """
    router = Router(flatten(text, "readme.click"))
    router.configure()
    run(router)
    assert int(router.handlers.read("db.moves").splitlines()[0]) > 0
    assert len(router.handlers.read("db.load").splitlines()) == 8


def test_method_names_checked_at_configure_are_the_methods():
    # Configure checks METHOD against the names alone, without loading the methods.
    from pyclick.balance.methods import METHODS
    from pyclick.balance.names import METHOD_NAMES

    assert sorted(METHOD_NAMES) == sorted(METHODS)


def test_the_balancer_names_the_device_whose_table_it_takes():
    from pyclick.seams import TableBalancer

    router = Router(flatten("nic :: DbTestBareNic; other :: DbTestBareNic; "
                            "db :: DeviceBalancer(METHOD rss, DEV nic)", filename="db.click"),
                    simtime=True)
    router.configure()
    db = router.element("db")
    assert isinstance(db, TableBalancer)
    assert db.balances(router.element("nic")) and not db.balances(router.element("other"))
