"""Sources, the driver manager, shaping and measuring, from their Click manuals:
InfiniteSource, RatedSource, TimedSource, DriverManager, Shaper,
BandwidthShaper, Meter, BandwidthMeter, AverageCounter, Counter."""

from __future__ import annotations

import pytest

from pyclick.element import Element
from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.packet import Packet
from pyclick.router import Router
from pyclick.runtime.handlers import HandlerError
from tests.sinks import KeepingTestSink  # noqa: F401  (the class the configurations name)


class SrcTimes(Element):
    """SrcTimes() -- remembers when each packet arrives"""

    port_count = "1/0"

    def configure(self, args) -> None:
        args.complete()
        self.times: list[float] = []

    def push(self, port: int, batch: list[Packet]) -> None:
        self.times += [self.router.now()] * len(batch)


def router_of(config: str, simtime: bool = True) -> Router:
    router = Router(flatten(config, filename="s.click"), simtime=simtime)
    router.configure()
    return router


def run(config: str, *handlers: str, simtime: bool = True) -> list[str]:
    router = router_of(config, simtime)
    values: list[str] = []
    router.run(handle_signals=False,
               before_cleanup=lambda: values.extend(router.handlers.read(h) for h in handlers))
    return values


def times(config: str) -> list[float]:
    router = router_of(config)
    router.run(handle_signals=False)
    return router.element("k").times


# --- InfiniteSource

def test_infinite_source_limit_burst_and_byte_counts():
    # Click's default DATA is 69 bytes.
    assert run("InfiniteSource(LIMIT 10, BURST 4) -> c :: Counter -> Discard",
               "c.count", "c.byte_count") == ["10", "690"]


def test_infinite_source_pulled():
    assert run("s :: InfiniteSource(LIMIT 7) -> Unqueue(BURST 3) -> c :: Counter -> Discard",
               "c.count", "s.count") == ["7", "7"]


def test_infinite_source_pulled_through_agnostic_elements():
    assert run("InfiniteSource(LIMIT 5, LENGTH 20) -> Strip(4) -> c :: Counter -> Discard(BURST 2)",
               "c.count", "c.byte_count") == ["5", "80"]


def test_infinite_source_stop_waits_for_the_pull_chain():
    assert run("InfiniteSource(LIMIT 10, STOP true) -> Queue -> Unqueue -> c :: Counter "
               "-> Discard", "c.count", simtime=False) == ["10"]


def test_infinite_source_reset_and_limit_handlers():
    config = ("s :: InfiniteSource(LIMIT 3) -> c :: Counter -> Discard;"
              "Script(wait 1, write s.reset, wait 1, write s.limit 5, wait 1, stop)")
    assert run(config, "c.count", "s.count") == ["8", "5"]


def test_infinite_source_data_length_repeats_data():
    assert run('InfiniteSource("abc", LENGTH 7, LIMIT 1) -> c :: Counter -> Discard',
               "c.byte_count", "InfiniteSource@1.data") == ["7", "abc"]


def test_infinite_source_datasize_and_burstsize_are_length_and_burst():
    router = router_of("s :: InfiniteSource(LIMIT 4, BURST 2, ACTIVE false) -> Discard")
    h = router.handlers
    assert (h.read("s.datasize"), h.read("s.burstsize")) == ("-1", "2")
    h.write("s.datasize", "10")
    h.write("s.burstsize", "3")
    assert (h.read("s.length"), h.read("s.burst")) == ("10", "3")
    h.write("s.length", "20")
    assert h.read("s.datasize") == "20"


# --- RandomSource

def test_random_source_makes_packets_of_their_own_random_bytes():
    router = router_of("s :: RandomSource(32, 20, 5) -> k :: KeepingTestSink")
    router.run(handle_signals=False)
    data = [p.data for p in router.element("k").packets]
    assert len(data) == 20 and {len(d) for d in data} == {32}
    # Twenty draws of 256 bits each: a repeat would be a broken generator.
    assert len(set(data)) == 20
    assert router.handlers.read("s.count") == "20"


def test_random_source_pulled_and_its_handlers():
    assert run("s :: RandomSource(10, LIMIT 7) -> Unqueue(BURST 3) -> c :: Counter -> Discard",
               "c.count", "c.byte_count", "s.length") == ["7", "70", "10"]
    router = router_of("s :: RandomSource(10, ACTIVE false) -> Discard")
    for name in ("data", "datasize", "burstsize"):
        with pytest.raises(HandlerError, match=f"No handler named 's.{name}'"):
            router.handlers.read(f"s.{name}")
    with pytest.raises(ConfigError, match="LENGTH: missing mandatory argument"):
        router_of("RandomSource -> Discard")


# --- RatedSource

def test_rated_source_rate_and_limit():
    # The bucket (2 tokens below RATE 200) starts full: two at 0. A token is
    # 2^31-1 fractions (2^32-1 // 2), a millisecond adds 4 x that // 1000 =
    # 8589934: 250 ms add 2147483500, short of a token, so the third comes
    # at 251 ms; the 8589787 left over make the next ones 250 ms apart.
    assert times("RatedSource(RATE 4, LIMIT 5) -> k :: SrcTimes") == [
        0.0, 0.0, 0.251, 0.501, 0.751]


def test_rated_source_stop_and_handlers():
    config = "r :: RatedSource(\\<0800>, 10, 20, STOP true) -> c :: Counter -> Discard"
    assert run(config, "c.count", "c.byte_count", "r.rate", "r.limit") == ["20", "40", "10", "20"]


def test_rated_source_datasize_is_length():
    router = router_of("r :: RatedSource(\\<0800>, ACTIVE false) -> Discard")
    assert router.handlers.read("r.datasize") == "-1"
    router.handlers.write("r.datasize", "6")
    assert (router.handlers.read("r.length"), router.handlers.read("r.datasize")) == ("6", "6")


def test_rated_source_writes_take_the_ranges_of_its_keywords():
    # A rate of 10^20 emptied its token bucket's scale (a division by zero at
    # the next run), a length of 10^20 could not be made: refused, as RATE
    # and LENGTH refuse them, and nothing changes.
    router = router_of("r :: RatedSource(\\<0800>, ACTIVE false) -> Discard")
    h = router.handlers
    for name in ("rate", "length", "datasize"):
        with pytest.raises(HandlerError):
            h.write(f"r.{name}", "99999999999999999999")
    with pytest.raises(HandlerError):
        h.write("r.length", "-2")
    assert (h.read("r.rate"), h.read("r.length")) == ("10", "-1")


@pytest.mark.parametrize("cls", ["RatedSource", "InfiniteSource"])
def test_datasize_keyword_is_click_s_older_name_for_length(cls):
    # Read after LENGTH, as in Click: DATASIZE wins when both are given.
    router = router_of(f"r :: {cls}(\\<0800>, LENGTH 3, DATASIZE 6, ACTIVE false) -> Discard")
    assert router.handlers.read("r.length") == "6"


def test_rated_source_bandwidth_sets_the_rate():
    # 100-byte packets at 8 kbit/s (1000 bytes/s): 10 packets per second.
    assert run("r :: RatedSource(LENGTH 100, BANDWIDTH 8kbps, LIMIT 1) -> Discard",
               "r.rate") == ["10"]


def test_rated_source_pulled_sleeps_between_packets():
    # Two at once from the full bucket, then one 501 ms later (4294967
    # fractions a millisecond: 500 fall 147 short of a token).
    assert times("RatedSource(RATE 2, LIMIT 3) -> Unqueue -> k :: SrcTimes") == [
        0.0, 0.0, 0.501]


# --- TimedSource

def test_timed_source_every_interval():
    assert times("TimedSource(0.5, LIMIT 3) -> k :: SrcTimes") == [0.5, 1.0, 1.5]


def test_timed_source_stop_is_one_interval_after_the_last_packet():
    router = router_of("TimedSource(2, LIMIT 2, STOP true) -> Discard")
    router.run(handle_signals=False)
    assert router.now() == 6.0
    assert router.stop_reason == "TimedSource@1: all packets sent"


def test_timed_source_handlers():
    router = router_of('t :: TimedSource(1, "xy", HEADROOM 40) -> Discard')
    h = router.handlers
    assert (h.read("t.data"), h.read("t.interval"), h.read("t.headroom"), h.read("t.limit")) == \
        ("xy", "1.000000s", "40", "-1")


def test_timed_source_interval_handler_prints_as_click():
    router = router_of("t :: TimedSource(0.001) -> Discard")
    h = router.handlers
    assert h.read("t.interval") == "1ms"
    h.write("t.interval", "0.25")
    assert h.read("t.interval") == "250ms"
    h.write("t.interval", "2.5")
    assert h.read("t.interval") == "2.500000s"


def test_timed_source_writes_take_the_ranges_of_its_keywords():
    # An interval of 0 sent packets at one instant for ever: simulated time
    # never moved on. As INTERVAL and HEADROOM, the writes refuse it.
    router = router_of("t :: TimedSource(0.5) -> Discard")
    h = router.handlers
    for name, value in (("interval", "0"), ("interval", "-1"), ("headroom", "65536")):
        with pytest.raises(HandlerError):
            h.write(f"t.{name}", value)
    assert (h.read("t.interval"), h.read("t.headroom")) == ("500ms", "28")


# --- DriverManager

def test_driver_manager_waits_for_the_stop_events_it_is_told():
    # Two sources each stop the driver once; the router stops at the second.
    config = ("a :: InfiniteSource(LIMIT 2, STOP true) -> ca :: Counter -> Discard;"
              "b :: TimedSource(5, LIMIT 1, STOP true) -> cb :: Counter -> Discard;"
              "DriverManager(wait_stop 2, stop)")
    router = router_of(config)
    router.run(handle_signals=False)
    assert router.now() == 10.0       # b's stop: one interval after its packet at 5
    assert (router.handlers.read("ca.count"), router.handlers.read("cb.count")) == ("2", "1")


def test_driver_manager_can_keep_running_after_a_stop(capsys):
    config = ("InfiniteSource(LIMIT 3, STOP true) -> c :: Counter -> Discard;"
              "DriverManager(wait_stop, print \"at $(c.count)\", wait_time 2s, "
              "print \"still $(c.count)\")")
    router = router_of(config)
    router.run(handle_signals=False)
    assert capsys.readouterr().out == "at 3\nstill 3\n"
    assert router.now() == 2.0


def test_driver_manager_without_instructions_stops_at_the_first_event():
    router = router_of("InfiniteSource(LIMIT 4, STOP true) -> c :: Counter -> Discard;"
                       "DriverManager; TimedSource(1) -> Discard")
    router.run(handle_signals=False)
    assert router.stop_reason == "DriverManager@4: stop"
    assert router.now() == 0.0 and router.handlers.read("c.count") == "4"


def test_driver_manager_wait_time_and_stop_handler():
    config = ("Idle -> Discard; DriverManager(wait 3s, write stop, wait_stop, stop);"
              "TimedSource(1) -> c :: Counter -> Discard")
    router = router_of(config)
    router.run(handle_signals=False)
    # The wait's timer, set while initializing before TimedSource's, fires
    # first at 3s and the stop comes before the third packet (Click: 2).
    assert router.now() == 3.0 and router.handlers.read("c.count") == "2"


def test_driver_manager_stop_event_ends_a_wait_early():
    config = ("InfiniteSource(LIMIT 1, STOP true) -> Discard;"
              "DriverManager(wait 100s, stop)")
    router = router_of(config)
    router.run(handle_signals=False)
    assert router.now() == 0.0


@pytest.mark.parametrize("driver", ["DriverManager(wait_stop, print \"at $(c.count)\", wait 2s)",
                                    "Script(TYPE DRIVER, wait_stop, print \"at $(c.count)\", "
                                    "wait 2s)"])
def test_a_driver_script_is_a_driver_manager(capsys, driver):
    router = router_of("InfiniteSource(LIMIT 3, STOP true) -> c :: Counter -> Discard;" + driver)
    router.run(handle_signals=False)
    # The stop that ends a driver script stops the router, after its last wait.
    assert capsys.readouterr().out == "at 3\n" and router.now() == 2.0


def test_one_driver_script_a_configuration():
    with pytest.raises(ConfigError, match="router has more than one driver script"):
        router_of("DriverManager(wait 1s); Script(TYPE DRIVER, wait 2s)")


# --- Shaper and BandwidthShaper

def test_shaper_lets_rate_packets_per_second_through():
    assert times("InfiniteSource(LIMIT 50) -> Queue -> Shaper(4) -> Unqueue -> k :: SrcTimes;"
                 "Script(wait 1.1, stop)") == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_shaper_is_awake_for_a_sink_that_pulls_when_the_rate_allows():
    # The sink pulls every 1 ms from 1 ms on, output 0 first: the shaped
    # output gives a packet every 4 ms (1, 5, ... 37 ms: 10), the other one
    # the rest, and no pull comes back empty, though the sink's timer is due
    # at the very time the rate allows the next packet.
    assert run("InfiniteSource(LIMIT 100) -> s :: Shaper(250)"
               "=> ([0] -> shaped :: Counter -> [0]; [1] -> [1]) => RoundRobinSched"
               "-> total :: Counter -> TimedSink(1ms); Script(wait 40.5ms, stop)",
               "shaped.count", "total.count") == ["10", "40"]


def test_bandwidth_shaper_counts_bytes():
    # 100-byte packets at 800 bytes/s: one every 0.125 s.
    got = times("InfiniteSource(LENGTH 100, LIMIT 50) -> Queue -> BandwidthShaper(6400bps) "
                "-> Unqueue -> k :: SrcTimes; Script(wait 0.3, stop)")
    assert got == [0.0, 0.125, 0.25]


def test_shaper_rate_handlers():
    router = router_of("Idle -> s :: Shaper(10) -> Discard; Idle -> b :: BandwidthShaper(1MBps) "
                       "-> Discard")
    assert router.handlers.read("s.rate") == "10"
    assert router.handlers.read("b.rate") == "8Mbps"


def test_shaper_config_reads_the_rate():
    router = router_of("Idle -> s :: Shaper(RATE 10) -> Discard;"
                       "Idle -> b :: BandwidthShaper(RATE 12345) -> Discard")
    # 12345 bytes/s: 98,760 bits/s.
    assert (router.handlers.read("s.config"), router.handlers.read("b.config")) == (
        "10", "98.76kbps")
    router.handlers.write("b.rate", "7")
    assert router.handlers.read("b.config") == "0.056kbps"


# --- Meter and BandwidthMeter

def metered(config: str) -> tuple[Router, list[Element]]:
    """A router with Meter or BandwidthMeter m, fed by hand, and a counter per output."""
    outputs = config.count(",") + 2
    router = router_of(f"m :: {config}; Idle -> m;" + "".join(
        f"m[{i}] -> o{i} :: Counter -> Discard;" for i in range(outputs)))
    router.initialize()
    return router, [router.element(f"o{i}") for i in range(outputs)]


def test_meter_classifies_by_the_average_of_the_milliseconds_before():
    # Meter(1000, 5000) keeps its rates per millisecond to 2^-10:
    # (1000 << 10) // 1000 = 1024 and (5000 << 10) // 1000 = 5120.
    router, outputs = metered("Meter(1000, 5000)")
    meter, clock = router.element("m"), router.clock

    def counts() -> list[int]:
        return [o.count for o in outputs]

    # Millisecond 0: the average is 0, all 3 go to output 0.
    clock.advance_to(0.0005)
    meter.push(0, [Packet(data=bytes(10)) for _ in range(3)])
    assert counts() == [3, 0, 0]
    # Millisecond 1 folds the 3: ((3 << 10) + 8 - 0) >> 4 = 192, below 1024.
    clock.advance_to(0.0015)
    meter.push(0, [Packet(data=bytes(10)) for _ in range(21)])
    assert counts() == [24, 0, 0]
    # Millisecond 2 folds the 21: 192 + ((21 << 10) + 8 - 192) >> 4 = 192 + 1332
    # = 1524, at least 1024, below 5120.
    clock.advance_to(0.0025)
    meter.push(0, [Packet(data=bytes(10)) for _ in range(100)])
    assert counts() == [24, 100, 0]
    # Millisecond 3 folds the 100: 1524 + (102408 - 1524) >> 4 = 1524 + 6305
    # = 7829, above 5120; the rate is 7829 * 1000 / 1024 = 7645.5078125.
    clock.advance_to(0.0035)
    meter.push(0, [Packet(data=bytes(10))])
    assert counts() == [24, 100, 1]
    assert router.handlers.read("m.rate") == "7645.508"
    # Reading brings the average up to now: millisecond 4 folds the 1,
    # 7829 + (1032 - 7829) >> 4 = 7829 - 425 = 7404: 7230.46875 a second.
    clock.advance_to(0.0045)
    assert router.handlers.read("m.rate") == "7230.469"
    # 100 idle milliseconds (5 to 104) clear it; a packet goes to output 0 again.
    clock.advance_to(0.105)
    assert router.handlers.read("m.rate") == "0"
    meter.push(0, [Packet(data=bytes(10))])
    assert counts() == [25, 100, 1]
    router.cleanup()


def test_bandwidth_meter_average_wraps_as_clicks_32_bits():
    router, outputs = metered("BandwidthMeter(3MBps)")
    clock = router.clock
    clock.advance_to(0.0001)
    router.element("m").push(0, [Packet(data=bytes(100_000)) for _ in range(50)])
    # 5,000,000 bytes in millisecond 0, scaled: 5,120,000,000 + 8, less 2^32 =
    # 825,032,712; >> 4 = 51,564,544. Times 1000 is 51,564,544,000, less
    # 12 * 2^32 = 24,936,448 in Click's 32-bit word: 24352 bytes a second.
    clock.advance_to(0.0011)
    assert router.handlers.read("m.rate") == "24352"
    # The average, 51,564,544, is above 3MBps's (3,000,000 << 10) // 1000 = 3,072,000.
    router.element("m").push(0, [Packet(data=bytes(10))])
    assert [o.count for o in outputs] == [50, 1]
    router.cleanup()


def test_meter_sends_slow_traffic_to_output_0():
    assert run("RatedSource(RATE 100, LIMIT 200) -> m :: Meter(1000, 2000);"
               "m[0] -> slow :: Counter -> Discard; m[1] -> mid :: Counter -> Discard;"
               "m[2] -> fast :: Counter -> Discard",
               "slow.count", "mid.count", "fast.count") == ["200", "0", "0"]


def test_meter_arguments_must_match_the_outputs_and_increase():
    with pytest.raises(ConfigError, match="need 1 arguments, one less than the number of output"):
        router_of("m :: Meter(10, 20); Idle -> m; m[0] -> Discard; m[1] -> Discard")
    with pytest.raises(ConfigError, match="rate 2 must be > rate 1"):
        router_of("m :: Meter(20, 10); Idle -> m; m[0] -> Discard; m[1] -> Discard; "
                  "m[2] -> Discard")


def test_bandwidth_meter_measures_bytes():
    # 1000 packets per second of 100 bytes: 100 kB/s, above 50kBps, below 200kBps.
    assert run("RatedSource(LENGTH 100, RATE 1000, LIMIT 500) -> m :: BandwidthMeter(50kBps, "
               "200kBps); m[0] -> a :: Counter -> Discard; m[1] -> b :: Counter -> Discard;"
               "m[2] -> c :: Counter -> Discard", "c.count", "m.meters") == \
        ["0", "50000\n200000"]


def test_meter_rates_are_kept_as_click_keeps_them():
    # Per millisecond, to 2^-10: 7/s is 7 * 1024 / 1000 = 7.168, kept as 7 / 1024
    # a millisecond: 6.8359375/s, printed 6.836. 0.5 rounds to 1: 1 / 1024 a
    # millisecond, 0.977/s.
    router = router_of("m :: Meter(0.5, 7, 1234567); Idle -> m; m[0] -> Discard;"
                       "m[1] -> Discard; m[2] -> Discard; m[3] -> Discard")
    assert router.handlers.read("m.meters") == "0.977\n6.836\n1234566.406"
    assert router.element("m").meters[1] == 6.8359375
    with pytest.raises(ConfigError, match=r"rate 1 too large \(max 4194303\)"):
        router_of("m :: BandwidthMeter(4194304); Idle -> m; m[0] -> Discard; m[1] -> Discard")


# --- AverageCounter and Counter

def test_average_counter_rate_is_count_over_the_span():
    # 2 packets at 0 (the full bucket), then 9 from 0.101 to 0.901 s (a
    # token takes 101 ms of 21474836 fractions, then 100 ms with what is
    # left over): 11 packets and 759 bytes over 901 ms, 11000 / 901 and
    # 759000 / 901, as Click.
    assert run("RatedSource(RATE 10, LIMIT 11) -> a :: AverageCounter -> Discard",
               "a.count", "a.byte_count", "a.rate", "a.byte_rate") == [
                   "11", "759", "12.2086570477", "842.397336293"]


def test_average_counter_ignores_the_first_seconds():
    # Packets at 0, 0, 0.501, 1.001, 1.501, 2.001, 2.501; IGNORE 1 counts
    # from 1 s on: 4 over 1501 ms, 4000 / 1501 (Click: 4 and 2.665).
    assert run("RatedSource(RATE 2, LIMIT 7) -> a :: AverageCounter(1) -> Discard",
               "a.count", "a.rate") == ["4", "2.66489007328"]


def test_average_counter_times_are_whole_milliseconds():
    # Packets at 0, 0, 0.334 and 0.667 s (6442450 fractions a millisecond,
    # a token 2147483647): 4 over 667 ms, 4000 / 667.
    assert run("RatedSource(RATE 3, LIMIT 4, STOP true) -> a :: AverageCounter -> Discard",
               "a.rate") == ["5.99700149925"]
    # All in one millisecond: the span counts as one.
    assert run("InfiniteSource(LIMIT 500, LENGTH 99, STOP true) -> a :: AverageCounter -> Discard",
               "a.rate", "a.byte_rate") == ["500000", "49500000"]


def test_counter_rate_and_count_call_handlers():
    # One packet a millisecond: each fold adds ((1 << 10) + 8 - avg) >> 4 until
    # that is 0, which first happens at avg 1017 (from 1001 on it adds 1):
    # 1017 * 1000 / 1024 = 993.1640625, printed to Click's precision.
    config = ("RatedSource(RATE 1000, LIMIT 3000) -> c :: Counter -> Discard;"
              "Script(wait 1.5, write c.count_call 2000 stop, wait 10, stop)")
    router = router_of(config)
    router.run(handle_signals=False)
    assert router.handlers.read("c.count") == "2000"
    assert router.handlers.read("c.rate") == "993.164"
    assert router.handlers.read("c.count_call") == "2000"


def test_counter_rates_of_sparse_traffic():
    # Packets (69 bytes) at 0, 0, 100, 200 and 300 ms, read at 300 ms, when
    # the last one is not folded yet. Each one folded adds
    # ((1 << 10) + 8 - avg) >> 4 and the 99 idle epochs after it bring the
    # average down to 8 (steps of -1 below 24), where (8 - 8) >> 4 stays 0:
    # 8 * 1000 / 1024 = 7.8125 packets/s. The byte average (4 fraction bits)
    # ends at 8 too: 8 * 1000 / 16 = 500 bytes/s, 4000 bits/s.
    assert run("RatedSource(RATE 10, LIMIT 5, STOP true) -> c :: Counter -> Discard",
               "c.rate", "c.byte_rate", "c.bit_rate") == ["7.8125", "500", "4000"]


def test_counter_count_call_reads_the_count():
    router = router_of("Idle -> c :: Counter -> d :: Counter(COUNT_CALL 3 c.reset) -> Discard")
    assert (router.handlers.read("c.count_call"), router.handlers.read("d.count_call")) == ("", "3")
    router.handlers.write("d.count_call", "5")
    assert router.handlers.read("d.count_call") == "5"


# --- handlers an element will call, and the elements it names

@pytest.mark.parametrize("config, message", [
    ("Idle -> c :: Counter(COUNT_CALL 1 b) -> Discard", "no 'b' write handler"),
    ("Idle -> c :: Counter(BYTE_COUNT_CALL 1 c.count) -> Discard", "no 'c.count' write handler"),
    ("InfiniteSource(LIMIT 1, END_CALL c.nosuch) -> c :: Counter -> Discard",
     "no 'c.nosuch' write handler"),
])
def test_a_handler_to_call_must_exist_and_take_writes_at_start(config, message):
    # As Click, which checks them when the element initializes.
    router = router_of(config)
    with pytest.raises(ConfigError, match=message):
        router.initialize()


def test_a_handler_added_from_the_configuration_can_be_called():
    # A pull Discard's 'active' and an IPClassifier's 'pattern0' exist before any
    # element initializes, whatever the order of the elements.
    router = router_of("InfiniteSource(LIMIT 1, END_CALL d.active false) -> Queue -> d :: Discard;"
                       "InfiniteSource(LIMIT 1, END_CALL s.pattern0 tcp) -> s :: IPClassifier(udp, -)"
                       " -> Discard; s[1] -> Discard")
    router.initialize()
    router.cleanup()


@pytest.mark.parametrize("config, message", [
    ("Idle -> RED(1, 2, 0.1, QUEUES q z) -> q :: Queue -> Discard",
     "QUEUES: list item 2: no element named 'z'"),
    ("Idle -> ToDump(-, USE_ENCAP_FROM f)", "USE_ENCAP_FROM: list item 1: no element named 'f'"),
    ("InfiniteSource(DATA a b) -> Discard", "DATA: expected a single word, got 'a b'"),
])
def test_named_elements_and_one_word_data_are_checked_when_configured(config, message):
    with pytest.raises(ConfigError, match=message):
        router_of(config)
