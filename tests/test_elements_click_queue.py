"""Queues and the pull drivers, from their Click manuals: SimpleQueue, Queue,
ThreadSafeQueue, Unqueue, RatedUnqueue, Discard in pull context, PullTee."""

from __future__ import annotations

import pytest

from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.packet import Packet
from pyclick.router import Router
from pyclick.runtime.handlers import HandlerError
from tests.sinks import KeepingTestSink  # noqa: F401  (the class the configurations name)


def run(config: str, *handlers: str, simtime: bool = True) -> list[str]:
    """Run a configuration to its end and read handlers before cleanup."""
    router = Router(flatten(config, filename="q.click"), simtime=simtime)
    router.configure()
    values: list[str] = []
    router.run(handle_signals=False,
               before_cleanup=lambda: values.extend(router.handlers.read(h) for h in handlers))
    return values


def configure(config: str) -> Router:
    router = Router(flatten(config, filename="q.click"), simtime=True)
    router.configure()
    return router


# --- Click's task handlers

def test_an_element_with_a_task_tells_whether_it_is_scheduled_and_its_thread():
    router = configure("src :: InfiniteSource(LIMIT 3) -> q :: Queue -> u :: Unqueue -> Discard")
    router.initialize()
    # Both tasks wait to run once the router starts; neither has run yet.
    read = router.handlers.read
    assert [read("src.scheduled"), read("u.scheduled"), read("u.home_thread")] == \
        ["true", "true", "0"]
    router.cleanup()
    # Run to the end: the source gave its LIMIT and sleeps, and so does the
    # Unqueue once the Queue is empty.
    assert run("src :: InfiniteSource(LIMIT 3) -> Queue -> u :: Unqueue -> Discard;"
               "Script(wait 1, stop)", "src.scheduled", "u.scheduled") == ["false", "false"]
    with pytest.raises(HandlerError):
        router.handlers.read("q.scheduled")


# --- Queue, SimpleQueue, ThreadSafeQueue

def test_queue_unqueue_moves_every_packet():
    assert run("InfiniteSource(LIMIT 10) -> q :: Queue -> Unqueue -> c :: Counter -> Discard",
               "c.count", "q.length", "q.drops") == ["10", "0", "0"]


def test_full_queue_stops_the_source_instead_of_dropping():
    # With BURST 1 the source waits whenever the queue is full: nothing is
    # dropped, however small the queue.
    assert run("InfiniteSource(LIMIT 1000) -> q :: Queue(3) -> Unqueue -> c :: Counter "
               "-> Discard", "c.count", "q.drops") == ["1000", "0"]


@pytest.mark.parametrize("cls", ["SimpleQueue", "Queue", "ThreadSafeQueue", "NotifierQueue"])
def test_queue_drops_past_capacity_and_keeps_a_highwater_mark(cls):
    # Bursts of 3 into 5 places that nobody drains: 3, then 2 of the next 3.
    # A SimpleQueue or a NotifierQueue does not stop the source: every later
    # burst is dropped too.
    values = run(f"InfiniteSource(LIMIT 9, BURST 3) -> q :: {cls}(5) -> Discard(ACTIVE false)",
                 "q.length", "q.highwater_length", "q.drops", "q.capacity")
    stops_its_source = cls in ("Queue", "ThreadSafeQueue")
    assert values == ["5", "5", "1" if stops_its_source else "4", "5"]


def test_dropped_packets_go_out_of_output_1():
    values = run("InfiniteSource(LIMIT 8, BURST 8) -> q :: SimpleQueue(3) -> Discard(ACTIVE false);"
                 "q[1] -> over :: Counter -> Discard", "q.drops", "over.count", "q.length")
    assert values == ["5", "5", "3"]


def test_queue_handlers_reset_capacity_and_counts():
    router = configure("InfiniteSource(LIMIT 4, BURST 4) -> q :: Queue(2) -> Discard(ACTIVE false)")
    router.run(handle_signals=False)
    h = router.handlers
    assert (h.read("q.length"), h.read("q.drops"), h.read("q.highwater_length")) == ("2", "2", "2")
    h.write("q.reset_counts")
    assert (h.read("q.drops"), h.read("q.highwater_length")) == ("0", "2")
    h.write("q.reset")
    assert (h.read("q.length"), h.read("q.highwater_length")) == ("0", "2")
    h.write("q.capacity", "7")
    assert h.read("q.capacity") == "7"
    with pytest.raises(HandlerError):
        h.write("q.capacity", "lots")


@pytest.mark.parametrize("cls, expected", [
    # InfiniteSource fills the queue to 6 and waits; capacity 2 keeps the
    # two oldest (not counted as drops); capacity 5 lets it add 3 more.
    ("Queue", ["9", "5", "0"]),
    # A SimpleQueue tells no source to wait: 14 of the 20 are dropped at
    # once, and nothing comes to fill the larger capacity.
    ("SimpleQueue", ["20", "2", "14"]),
])
def test_a_smaller_capacity_frees_the_newest_packets_and_a_larger_one_lets_the_source_on(
        cls, expected):
    config = (f"i :: InfiniteSource(LIMIT 20) -> q :: {cls}(6) -> Discard(ACTIVE false);"
              "Script(wait 1, write q.capacity 2, wait 1, write q.capacity 5, wait 1, stop)")
    assert run(config, "i.count", "q.length", "q.drops") == expected


def test_queue_capacity_must_be_unsigned():
    with pytest.raises(ConfigError, match="CAPACITY: expected unsigned integer, got '-1'"):
        configure("Idle -> Queue(-1) -> Discard")


def test_queue_ports():
    with pytest.raises(ConfigError, match="has no output 2"):
        configure("q :: Queue; Idle -> q; q[0] -> Discard; q[1] -> Discard; q[2] -> Discard")


def test_front_drop_queue_drops_the_oldest():
    router = configure("q :: FrontDropQueue(5); Idle -> q -> Discard(ACTIVE false);"
                       "q[1] -> old :: KeepingTestSink")
    queue = router.element("q")
    packets = [Packet(bytes([i])) for i in range(8)]
    queue.push(0, packets[:3])
    queue.push(0, packets[3:6])     # 6 for 5 places: packet 0 goes
    queue.push(0, packets[6:])      # and then packets 1 and 2
    assert router.element("old").packets == packets[:3]
    assert queue.pull_batch(0, 10) == packets[3:]
    assert (queue.drops, queue.highwater_length) == (3, 5)


def test_front_drop_queue_never_stops_its_source():
    # Bursts of 3 into 5 places that nobody drains: the source never waits.
    assert run("InfiniteSource(LIMIT 9, BURST 3) -> q :: FrontDropQueue(5) -> "
               "Discard(ACTIVE false)", "q.length", "q.drops") == ["5", "4"]


def test_front_drop_queue_drops_from_a_burst_larger_than_itself():
    # 8 packets in one batch into 3 places: the batch's 5 first are dropped.
    values = run("InfiniteSource(LIMIT 8, BURST 8) -> q :: FrontDropQueue(3) -> "
                 "Discard(ACTIVE false); q[1] -> old :: Counter -> Discard",
                 "q.drops", "old.count", "q.length")
    assert values == ["5", "5", "3"]


def test_front_drop_queue_feeds_a_puller():
    assert run("InfiniteSource(LIMIT 10) -> q :: FrontDropQueue(2) -> Unqueue -> c :: Counter"
               " -> Discard", "c.count", "q.length") == ["10", "0"]


# --- Unqueue

def test_unqueue_limit_and_burst():
    # LIMIT 7 with BURST 3: runs of 3, 3, then 1; the rest stays queued.
    assert run("InfiniteSource(LIMIT 10) -> q :: Queue -> u :: Unqueue(3, LIMIT 7) "
               "-> c :: Counter -> Discard", "c.count", "u.count", "q.length") == ["7", "7", "3"]


def test_unqueue_inactive_then_resumed_by_handler():
    config = ("InfiniteSource(LIMIT 6) -> q :: Queue -> u :: Unqueue(ACTIVE false) "
              "-> c :: Counter -> Discard;"
              "Script(wait 1, write u.active true, wait 1, stop)")
    assert run(config, "c.count", "u.active") == ["6", "true"]


def test_unqueue_handlers():
    router = configure("Idle -> u :: Unqueue(4, LIMIT 2) -> Discard")
    h = router.handlers
    assert (h.read("u.burst"), h.read("u.limit"), h.read("u.active"), h.read("u.count")) == \
        ("4", "2", "true", "0")
    h.write("u.burst", "-1")
    assert h.read("u.burst") == str(0x7FFFFFFF)
    h.write("u.limit", "9")
    assert h.read("u.limit") == "9"


def test_unqueue_reset_pulls_limit_more():
    config = ("InfiniteSource(LIMIT 10) -> q :: Queue -> u :: Unqueue(LIMIT 4) -> c :: Counter "
              "-> Discard; Script(wait 1, write u.reset, wait 1, stop)")
    assert run(config, "c.count", "q.length") == ["8", "2"]


# --- RatedUnqueue

def test_rated_unqueue_pulls_at_its_rate():
    # A bucket of one token, full at the start: packets at 0, 0.1, ..., 1.0 s.
    config = ("InfiniteSource(LIMIT 100) -> Queue -> r :: RatedUnqueue(10) -> c :: Counter "
              "-> Discard; Script(wait 1.05, stop)")
    assert run(config, "c.count", "r.rate") == ["11", "10"]


def test_rated_unqueue_pulls_one_packet_a_run():
    # The bucket (20 tokens) never runs short here, but each run pulls one
    # packet. The source pushes 8 a run into Queue(2): 2 kept, 6 dropped;
    # one pulled leaves 1, so the next three runs keep 1 and drop 7, and the
    # last (5 packets) keeps 1 and drops 4: 6 + 3 x 7 + 4 = 31 dropped, one
    # pulled after each of the 5 runs, and the one left is still queued when
    # the source's next run stops the driver (Click's 5 and 31).
    config = ("InfiniteSource(LIMIT 37, BURST 8, STOP true) -> q :: Queue(2)"
              " -> RatedUnqueue(1000) -> d :: Discard")
    assert run(config, "d.count", "q.drops", "q.length") == ["5", "31", "1"]


def test_rated_unqueue_burst_size():
    # Five tokens at the start, then 10 per second: 5 + 10 by t = 1.05 s.
    config = ("InfiniteSource(LIMIT 100) -> Queue -> RatedUnqueue(10, BURST_SIZE 5) "
              "-> c :: Counter -> Discard; Script(wait 1.05, stop)")
    assert run(config, "c.count") == ["15"]


def test_rated_unqueue_rate_handler():
    config = ("InfiniteSource(LIMIT 1000) -> Queue -> r :: RatedUnqueue(10) -> c :: Counter "
              "-> Discard; Script(wait 0.95, write r.rate 100, wait 1, stop)")
    # 10 packets in the first 0.95 s (0 ... 0.9), then 100 per second for 1 s:
    # the bucket (2 tokens at 100/s) fills within the first 20 ms.
    count, = run(config, "c.count")
    assert 108 <= int(count) <= 112


def test_rated_unqueue_config_reads_the_rate():
    router = configure("Idle -> Queue -> r :: RatedUnqueue(RATE 77) -> Discard")
    assert router.handlers.read("r.config") == "77"
    router.handlers.write("r.rate", "5")
    assert router.handlers.read("r.config") == "5"


def test_rated_unqueue_keywords_exclude_each_other():
    with pytest.raises(ConfigError, match="cannot specify both BURST_DURATION and BURST_SIZE"):
        configure("Idle -> RatedUnqueue(10, BURST_SIZE 2, BURST_DURATION 1s) -> Discard")


# --- Discard in pull context

def test_discard_pulls_a_burst_per_run():
    assert run("InfiniteSource(LIMIT 9) -> q :: Queue -> d :: Discard(BURST 4)",
               "d.count", "q.length", "d.active") == ["9", "0", "true"]


def test_discard_active_only_in_pull_context():
    with pytest.raises(ConfigError, match="ACTIVE is meaningless in push context"):
        configure("InfiniteSource -> Discard(ACTIVE false)")
    router = configure("InfiniteSource -> Discard")
    with pytest.raises(HandlerError):
        router.handlers.read("Discard@2.active")


# --- PullTee

def test_pull_tee_copies_pulled_packets_to_its_push_outputs():
    config = ("InfiniteSource(LIMIT 5) -> Queue -> t :: PullTee(2) -> Unqueue -> a :: Counter "
              "-> Discard; t[1] -> b :: Counter -> Discard")
    assert run(config, "a.count", "b.count") == ["5", "5"]


def test_tee_arm_count_must_match():
    with pytest.raises(ConfigError, match="2 outputs implies 2 arms"):
        configure("t :: Tee(3); Idle -> t; t[0] -> Discard; t[1] -> Discard")


def test_thread_safe_queue_between_two_threads():
    config = ("InfiniteSource(LIMIT 500, STOP true) -> q :: ThreadSafeQueue(50) -> u :: Unqueue(8) "
              "-> c :: Counter -> Discard; StaticThreadSched(u 0); DriverManager(wait_stop, "
              "wait 0.2s, stop)")
    assert run(config, "c.count", "q.drops", simtime=False) == ["500", "0"]


# --- PullSwitch, StaticPullSwitch

def test_pull_switch_pulls_from_the_input_it_is_set_to():
    # Input 0 for a while (its 5 packets), then input 1 (its 7), then an input
    # past the last: -1, nothing more.
    config = ("InfiniteSource(LIMIT 5) -> a :: Queue; InfiniteSource(LIMIT 7) -> b :: Queue;"
              "s :: PullSwitch; a -> [0]s; b -> [1]s; s -> Unqueue -> c :: Counter -> Discard;"
              "Script(wait 1, write s.switch 1, wait 1, write s.switch 5, wait 1, stop)")
    assert run(config, "c.count", "s.switch", "a.length", "b.length") == ["12", "-1", "0", "0"]


def test_pull_switch_wakes_its_puller_only_for_an_input_that_may_give(capsys):
    # Set to -1 the Unqueue sleeps; switched to the Idle it sleeps on, to the
    # full queue it wakes, and back to -1 it sleeps again at once.
    config = ("Idle -> [0] s :: PullSwitch(-1); InfiniteSource(LIMIT 3) -> Queue -> [1] s;"
              "s -> u :: Unqueue -> c :: Counter -> Discard;"
              "Script(wait 1, print $(u.scheduled), write s.switch 0, print $(u.scheduled),"
              "       write s.switch 1, print $(u.scheduled), wait 1, write s.switch -1,"
              "       print $(u.scheduled), stop)")
    assert run(config, "c.count") == ["3"]
    assert capsys.readouterr().out.split() == ["false", "false", "true", "false"]


@pytest.mark.parametrize("chosen, expected", [("1", ["0", "3"]), ("2", ["0", "0"]),
                                              ("-1", ["0", "0"])])
def test_static_pull_switch_pulls_one_input_or_none(chosen, expected):
    config = (f"a :: InfiniteSource(LIMIT 4) -> Queue -> [0]s :: StaticPullSwitch({chosen});"
              "InfiniteSource(LIMIT 3) -> Queue -> [1]s; s -> Unqueue -> c :: Counter -> Discard;"
              "c2 :: Counter; Idle -> c2 -> Discard; DriverManager(wait 1s, stop)")
    assert run(config, "c2.count", "c.count") == expected
