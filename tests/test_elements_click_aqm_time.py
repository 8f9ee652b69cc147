"""Queue management and timestamps, from their Click manuals: AdaptiveRED,
CoDel, TimestampAccum, StoreTimestamp, TimeSortedSched; and CPUSwitch."""

from __future__ import annotations

import os
import sys

import pytest

from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.packet import Packet
from pyclick.router import Router
from pyclick.runtime.handlers import HandlerError
from tests.sinks import KeepingTestSink  # noqa: F401  (the class the configurations name)


def configure(config: str, start: float = 0.0) -> Router:
    router = Router(flatten(config, filename="t.click"), simtime=True, simtime_start=start)
    router.configure()
    return router


def run(config: str, *handlers: str, start: float = 0.0, simtime: bool = True) -> list[str]:
    """Run a configuration to its end and read handlers before cleanup."""
    router = Router(flatten(config, filename="t.click"), simtime=simtime, simtime_start=start)
    router.configure()
    values: list[str] = []
    router.run(handle_signals=False,
               before_cleanup=lambda: values.extend(router.handlers.read(h) for h in handlers))
    return values


def stamped(stamp: float, data: bytes = b"x", first: float | None = None) -> Packet:
    packet = Packet(data, timestamp=stamp)
    if first is not None:
        packet.first_timestamp = first
    return packet


# --- AdaptiveRED

# 25 packets wait in q, never pulled; the RED in front of nothing watches it.
WATCHED = ("InfiniteSource(LIMIT 25) -> q :: Queue(100) -> Idle;"
           "Idle -> r :: AdaptiveRED({}, QUEUES q) -> Discard;")


@pytest.mark.parametrize("target, thresholds", [("20", ("10", "30")), ("21", ("10", "31")),
                                                ("7", ("5", "15")), ("0", ("5", "15"))])
def test_adaptive_red_thresholds_come_from_target(target, thresholds):
    # MIN_THRESH = TARGET/2, MAX_THRESH = TARGET + TARGET/2; TARGET below 10 is 10.
    router = configure(WATCHED.format(f"{target}, 0.1"))
    router.initialize()
    read = router.handlers.read
    assert (read("r.min_thresh"), read("r.max_thresh")) == thresholds
    assert read("r.config") == f"{thresholds[0]}, {thresholds[1]}, 0.1, QUEUES q, STABILITY 4"
    router.cleanup()


@pytest.mark.parametrize("seconds, max_p", [(0.4, "0.1"), (0.6, "0.11"), (1.1, "0.12"),
                                            (6.1, "0.21994")])
def test_adaptive_red_raises_max_p_while_the_queue_is_long(seconds, max_p):
    # 25 packets are above the thresholds' midpoint, 20: every half second
    # MAX_P (0.1 = 6554 / 2^16) grows by 655 (less than a quarter of it):
    # 7209 (0.11), 7864 (0.12), ... 6554 + 12 * 655 = 14414 (0.21994) at 6s.
    config = WATCHED.format("20, 0.1, STABILITY 0") + f"Script(wait {seconds}, stop)"
    assert run(config, "r.max_p") == [max_p]


def test_adaptive_red_max_p_stops_growing_once_above_one_half():
    # 0.45 = 29491 / 2^16 grows by 655 while below 2^15: 30146, 30801, 31456,
    # 32111, 32766, then 33421 (0.50996), where it stays.
    assert run(WATCHED.format("20, 0.45, STABILITY 0") + "Script(wait 10, stop)",
               "r.max_p") == ["0.50996"]


@pytest.mark.parametrize("seconds, max_p", [(0.6, "0.09"), (1.1, "0.081"), (20, "0.00977")])
def test_adaptive_red_lowers_max_p_while_the_queue_is_short(seconds, max_p):
    # No packet passes the RED, so its average stays 0, below the midpoint:
    # MAX_P becomes 6554 * 58982 >> 16 = 5898 (0.09), then 5308 (0.081), ...
    # 712, then 640 (0.00977), no more than 655, where it stays.
    config = WATCHED.format("20, 0.1") + f"Script(wait {seconds}, stop)"
    assert run(config, "r.max_p", "r.avg_queue_size") == [max_p, "0"]


def test_adaptive_red_with_max_p_1_keeps_dropping_everything_above_max_thresh():
    router = configure(WATCHED.format("20, 1"))
    router.initialize()
    red = router.element("r")
    # As if MAX_P had adapted down to one half: above MAX_THRESH (30) it
    # still drops everything, where a gentle RED would give 0.5 + 0.5/30.
    red.max_p = 0.5
    red.average = 31.0
    assert red.probability() == 1.0
    red.average = 25.0
    assert red.probability() == pytest.approx(0.5 * 15 / 20)
    router.cleanup()


def test_adaptive_red_passes_packets_while_the_queue_is_short():
    # Its timer runs as long as the router: the script stops it.
    assert run("InfiniteSource(LIMIT 50) -> r :: AdaptiveRED(20, 0.1) -> q :: Queue "
               "-> Unqueue -> c :: Counter -> Discard; Script(wait 1, stop)", "c.count",
               "r.drops", "r.queues") == ["50", "0", "q\n"]


def test_adaptive_red_settings_are_read_only():
    router = configure(WATCHED.format("20, 0.1"))
    router.initialize()
    with pytest.raises(HandlerError, match="read-only"):
        router.handlers.write("r.max_p", "0.2")
    router.cleanup()


@pytest.mark.parametrize("args, message", [
    ("43691, 0.1", "TARGET: must be at least 0 and at most 43690, got '43691'"),
    ("20", "MAX_P: missing mandatory argument"),
    ("20, 1.5", "MAX_P: must be at least 0 and at most 1, got '1.5'"),
    ("20, 0.1, STABILITY 17", "STABILITY: must be at least 0 and at most 16, got '17'"),
    ("20, 0.1, GENTLE false", "GENTLE: unknown keyword"),
])
def test_adaptive_red_argument_errors(args, message):
    with pytest.raises(ConfigError) as err:
        configure(f"Idle -> AdaptiveRED({args}) -> Queue -> Discard")
    assert f"t.click:1: While configuring 'AdaptiveRED@2 :: AdaptiveRED': {message}" \
        in str(err.value)


def test_adaptive_red_needs_a_queue():
    router = configure("Idle -> r :: AdaptiveRED(20, 0.1) -> Discard")
    with pytest.raises(ConfigError, match="While initializing 'r :: AdaptiveRED': no nearby "
                                          "Queues"):
        router.initialize()


# --- CoDel

CODEL = "Idle -> q :: Queue(100) -> c :: CoDel({}) -> Idle"


def codel(args: str = "") -> tuple[Router, list[Packet]]:
    """A CoDel behind a queue holding 13 packets that entered it at time 1,
    but for packet 10, which carries no first timestamp."""
    router = configure(CODEL.format(args))
    router.initialize()
    packets = [stamped(0, bytes([i]), first=None if i == 10 else 1.0) for i in range(13)]
    router.element("q").push(0, packets)
    return router, packets


def test_codel_drops_once_waits_stay_above_target_for_an_interval():
    router, packets = codel()
    element, clock = router.element("c"), router.clock

    def pull_at(t: float) -> Packet | None:
        clock.advance_to(t)
        return element.pull(0)

    # Waits of 4ms pass; the first wait of 5ms or more (10ms) sets the clock
    # to 1.110; at 1.110 dropping is allowed, but drops start only an
    # interval after that (Click's condition), at 1.210.
    assert [pull_at(t) for t in (1.004, 1.010, 1.110)] == packets[0:3]
    assert pull_at(1.210) is packets[4]          # packet 3 dropped
    # The next drop is 100ms / sqrt(1) later: not at 1.300, at 1.310.
    assert pull_at(1.300) is packets[5]
    assert pull_at(1.310) is packets[7]          # packet 6 dropped
    # Then 1.6e9ns / isqrt(2 * 256) = 1.6e9 / 22 = 72727272ns later: 1.382727272.
    assert pull_at(1.400) is packets[9]          # packet 8 dropped
    assert element.drops == 3
    # A packet without a first timestamp passes and ends the spell.
    assert pull_at(1.450) is packets[10]
    # The next drop was due at 1.382727272 + 1.6e9 / isqrt(3 * 256) = 27, that
    # is 59259259ns: 1.441986531, within an interval of now, so dropping
    # starts again at once, its count back to 1.
    assert pull_at(1.500) is packets[12]         # packet 11 dropped
    assert element.drops == 4
    assert pull_at(1.600) is None
    read = router.handlers.read
    assert (read("c.drops"), read("c.stats"), read("c.queues")) == (
        "4", "0 current queue\n4 drops\n", "q\n")


def test_codel_waits_below_target_never_drop():
    router, packets = codel("TARGET 1")
    router.clock.advance_to(1.5)
    assert [router.element("c").pull(0) for _ in range(14)] == packets + [None]
    assert router.handlers.read("c.drops") == "0"


def test_codel_interval_over_268ms_wraps_as_in_click():
    # 300ms * 16 * 10^6 = 4.8e9, taken modulo 2^32: 505032704, over
    # isqrt(256) = 16: the next drop 31564544ns after the first.
    router, packets = codel("5ms, 300ms")
    element, clock = router.element("c"), router.clock
    for t in (1.010, 1.310):
        clock.advance_to(t)
        element.pull(0)
    clock.advance_to(1.610)
    assert element.pull(0) is packets[3] and element.drops == 1
    clock.advance_to(1.641)
    assert element.pull(0) is packets[4]
    clock.advance_to(1.642)
    assert element.pull(0) is packets[6] and element.drops == 2


def test_codel_handlers():
    router = configure("InfiniteSource(LIMIT 2) -> q :: Queue -> c :: CoDel(QUEUES q) -> Idle")
    router.initialize()
    h = router.handlers
    assert (h.read("c.codel_target"), h.read("c.codel_interval"), h.read("c.config")) == (
        "0.005000s", "0.100000s", "0.005000s, 0.100000 s, ")
    h.write("c.codel_target", "10ms")
    h.write("c.codel_interval", "1.5")
    assert (h.read("c.codel_target"), h.read("c.config")) == (
        "0.010000s", "0.010000s, 1.500000 s, ")
    with pytest.raises(HandlerError, match="expected time"):
        h.write("c.codel_target", "soon")
    assert h.read("c.codel_target") == "0.010000s"
    router.cleanup()


@pytest.mark.parametrize("args, message", [
    ("x", "While configuring 'c :: CoDel': TARGET: expected time (e.g. 10ms, 1s), got 'x'"),
    ("5ms, 100ms, 3", "While configuring 'c :: CoDel': too many arguments: '3'"),
    ("QUEUES c", "While initializing 'c :: CoDel': QUEUES: 'c :: CoDel' is not a queue"),
])
def test_codel_argument_errors(args, message):
    with pytest.raises(ConfigError) as err:
        configure(CODEL.format(args)).initialize()
    assert f"t.click:1: {message}" in str(err.value)


def test_codel_needs_a_queue_upstream():
    router = configure("Idle -> c :: CoDel -> Unqueue -> q :: Queue -> Discard")
    with pytest.raises(ConfigError, match="While initializing 'c :: CoDel': no nearby Queues"):
        router.initialize()


# --- TimestampAccum

def test_timestamp_accum_sums_the_packets_ages():
    router = configure("t :: TimestampAccum; Idle -> t -> Discard")
    router.initialize()
    element, read = router.element("t"), router.handlers.read
    assert (read("t.count"), read("t.time"), read("t.average_time")) == ("0", "0", "-nan")
    router.clock.advance_to(12.5)
    element.push(0, [stamped(10.0), stamped(12.0)])
    assert (read("t.count"), read("t.time"), read("t.average_time")) == ("2", "3", "1.5")
    # No timestamp: the age is the whole date.
    element.push(0, [stamped(0.0)])
    assert (read("t.count"), read("t.time"), read("t.average_time")) == (
        "3", "15.5", "5.16666666667")
    router.handlers.write("t.reset_counts")
    assert (read("t.count"), read("t.time"), read("t.average_time")) == ("0", "0", "-nan")
    router.cleanup()


def test_timestamp_accum_in_a_running_router():
    # The source pushes its 3 packets at time 2; each is 1.5s old.
    assert run("InfiniteSource(LIMIT 3) -> SetTimestamp(0.5) -> t :: TimestampAccum -> Discard",
               "t.count", "t.time", "t.average_time", start=2.0) == ["3", "4.5", "1.5"]


def test_timestamp_accum_takes_no_arguments():
    with pytest.raises(ConfigError, match="TimestampAccum': too many arguments: '1'"):
        configure("Idle -> TimestampAccum(1) -> Discard")


# --- StoreTimestamp

# 1.25s = 1250000000ns = 0x4A817C80, stored in the host's byte order.
STAMP = (1_250_000_000).to_bytes(8, sys.byteorder)


@pytest.mark.parametrize("args, expected", [
    ("OFFSET 2", b"\x01\x02" + STAMP),
    ("1", b"\x01" + STAMP),
    ("TAIL true", b"\x01\x02\x03\x04\x05" + STAMP),
    ("OFFSET -1, TAIL true", b"\x01\x02\x03\x04\x05" + STAMP),
    ("9", b"\x01\x02\x03\x04\x05" + bytes(4) + STAMP),
])
def test_store_timestamp_writes_the_date_in_nanoseconds(args, expected):
    router = configure(f"Idle -> s :: StoreTimestamp({args}) -> k :: KeepingTestSink")
    router.initialize()
    original = stamped(1.25, b"\x01\x02\x03\x04\x05")
    router.element("s").push(0, [original.clone()])
    assert [p.data for p in router.element("k").packets] == [expected]
    # The clone it wrote to kept the original's bytes apart.
    assert original.data == b"\x01\x02\x03\x04\x05"
    router.cleanup()


def test_store_timestamp_inside_a_long_packet_keeps_its_length():
    router = configure("Idle -> s :: StoreTimestamp(0) -> k :: KeepingTestSink")
    router.initialize()
    router.element("s").push(0, [stamped(1.25, bytes(20))])
    assert router.element("k").packets[0].data == STAMP + bytes(12)
    router.cleanup()


@pytest.mark.parametrize("args, message", [
    ("", "supply exactly one of 'OFFSET' and 'TAIL'"),
    ("-1", "supply exactly one of 'OFFSET' and 'TAIL'"),
    ("2, TAIL true", "supply exactly one of 'OFFSET' and 'TAIL'"),
    ("x", "OFFSET: expected integer, got 'x'"),
    ("-2", "OFFSET: must be at least -1 and at most 65535, got '-2'"),
    ("TAIL maybe", "TAIL: expected boolean"),
])
def test_store_timestamp_argument_errors(args, message):
    with pytest.raises(ConfigError) as err:
        configure(f"Idle -> s :: StoreTimestamp({args}) -> Discard")
    assert f"t.click:1: While configuring 's :: StoreTimestamp': {message}" in str(err.value)
    # A value that does not parse is the only error reported.
    assert len(err.value.messages) == 1


# --- TimeSortedSched

def merged(pushes: list[list[Packet]], args: str = "") -> tuple[Router, list[Packet]]:
    """What a TimeSortedSched gives, pulled until it has nothing, after each
    of its inputs' queues got its packets."""
    queues = "".join(f"Idle -> q{i} :: Queue -> [{i}] t;" for i in range(len(pushes)))
    router = configure(f"t :: TimeSortedSched({args}); {queues} t -> Idle")
    router.initialize()
    for i, packets in enumerate(pushes):
        router.element(f"q{i}").push(0, packets)
    out = []
    while (packet := router.element("t").pull(0)) is not None:
        out.append(packet)
    return router, out


def test_time_sorted_sched_merges_by_timestamp():
    a = [stamped(t) for t in (1.0, 4.0, 6.0)]
    b = [stamped(t) for t in (2.0, 3.0, 7.0)]
    router, out = merged([a, b])
    assert [p.timestamp for p in out] == [1.0, 2.0, 3.0, 4.0, 6.0, 7.0]
    assert router.handlers.read("t.well_ordered") == "true"


def test_time_sorted_sched_ties_come_out_in_the_order_of_clicks_heap():
    # The inputs are topped up last first (2, 1, 0): the heap is [2, 1, 0]
    # and 2 leaves; 0, moved to the top, stays before 1 on the tie.
    packets = [stamped(3.0, bytes([i])) for i in range(3)]
    _, out = merged([[p] for p in packets])
    assert out == [packets[2], packets[0], packets[1]]


def test_time_sorted_sched_out_of_order_stream():
    # With one packet held per input, input 0's late 1.0 leaves after its 5.0.
    a = [stamped(5.0), stamped(1.0)]
    b = [stamped(3.0)]
    router, out = merged([a, b])
    assert [p.timestamp for p in out] == [3.0, 5.0, 1.0]
    assert router.handlers.read("t.well_ordered") == "false"


def test_time_sorted_sched_buffer_absorbs_small_disorder():
    a = [stamped(5.0), stamped(1.0)]
    b = [stamped(3.0)]
    router, out = merged([a, b], "BUFFER 2")
    assert [p.timestamp for p in out] == [1.0, 3.0, 5.0]
    assert router.handlers.read("t.well_ordered") == "true"


def test_time_sorted_sched_does_not_check_packets_without_timestamp():
    router, out = merged([[stamped(5.0), stamped(0.0), stamped(6.0)]])
    assert [p.timestamp for p in out] == [5.0, 0.0, 6.0]
    assert router.handlers.read("t.well_ordered") == "true"


def test_time_sorted_sched_puts_a_packet_without_timestamp_first_in_real_time():
    # In real time a timestamp is router time, seconds from the router's
    # start, so that a date of long ago is negative; an unset timestamp (0)
    # still counts as the earliest, as in Click, where it is the date 0.
    router = Router(flatten("t :: TimeSortedSched; Idle -> q0 :: Queue -> [0] t;"
                            "Idle -> q1 :: Queue -> [1] t; t -> Idle", filename="t.click"),
                    simtime=False)
    router.configure()
    router.initialize()
    unset, dated = stamped(0.0), stamped(router.from_epoch(0.05))
    router.element("q0").push(0, [unset])
    router.element("q1").push(0, [dated])
    sched = router.element("t")
    assert [sched.pull(0), sched.pull(0)] == [unset, dated]
    assert router.handlers.read("t.well_ordered") == "true"


def test_time_sorted_sched_stop_ends_the_run_when_inputs_are_exhausted():
    config = ("InfiniteSource(LIMIT 5) -> SetTimestamp -> qa :: Queue -> [0] t :: "
              "TimeSortedSched(STOP true); Idle -> qb :: Queue -> [1] t;"
              "t -> u :: Unqueue -> c :: Counter -> Discard;")
    router = configure(config)
    router.run(handle_signals=False)
    assert router.element("c").count == 5
    assert router.stop_reason == "t: inputs exhausted"


def test_time_sorted_sched_lets_its_puller_sleep():
    # Without STOP the router runs on; the Unqueue sleeps once the queues are
    # empty and wakes when they fill again.
    assert run("RatedSource(RATE 10, LIMIT 5) -> SetTimestamp -> qa :: Queue -> [0] t :: "
               "TimeSortedSched; RatedSource(RATE 7, LIMIT 4) -> SetTimestamp -> qb :: Queue "
               "-> [1] t; t -> u :: Unqueue -> c :: Counter -> Discard; Script(wait 3, stop)",
               "c.count", "u.scheduled", "t.well_ordered") == ["9", "false", "true"]


@pytest.mark.parametrize("args, message", [
    ("BUFFER 0", "BUFFER: must be at least 1 and at most 2147483647, got '0'"),
    ("BUFFER -3", "BUFFER: must be at least 1"),
    ("STOP maybe", "STOP: expected boolean"),
    ("BUFFERED 2", "BUFFERED: unknown keyword"),
])
def test_time_sorted_sched_argument_errors(args, message):
    with pytest.raises(ConfigError) as err:
        configure(f"Idle -> Queue -> t :: TimeSortedSched({args}) -> Discard")
    assert f"t.click:1: While configuring 't :: TimeSortedSched': {message}" in str(err.value)


# --- CPUSwitch

SWITCHED = ("a :: InfiniteSource(LIMIT 5) -> s :: CPUSwitch; b :: InfiniteSource(LIMIT 3) -> s;"
            + "".join(f"s[{i}] -> c{i} :: Counter -> Discard;" for i in range(3)))


@pytest.mark.parametrize("placement", ["", "StaticThreadSched(b 0)"])
def test_cpu_switch_in_simulated_time_uses_output_0(placement):
    # Simulated time runs every element on thread 0.
    assert run(SWITCHED + placement, "c0.count", "c1.count", "c2.count") == ["8", "0", "0"]


def test_cpu_switch_sends_a_threads_packets_out_of_its_output():
    # StaticThreadSched gives b a thread of its own, thread 1, beside the
    # default thread 0 that runs a.
    cpu = min(os.sched_getaffinity(0))
    values = run(SWITCHED + f"StaticThreadSched(b {cpu}); Script(wait 0.2, stop)",
                 "c0.count", "c1.count", "c2.count", simtime=False)
    assert values == ["5", "3", "0"]


def test_cpu_switch_takes_no_arguments():
    with pytest.raises(ConfigError, match="CPUSwitch': too many arguments: '1'"):
        configure("Idle -> CPUSwitch(1) -> Discard")
