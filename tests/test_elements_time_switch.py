"""TimeFilter, TimeRange, SetTimestampDelta, AdjustTimestamp, InputSwitch and
Suppressor, worked out by hand. Simulated time: a timestamp is its own date."""

from __future__ import annotations

import pytest

from pyclick.args import Args
from pyclick.element import Element, write_handler
from pyclick.elements.timestamps import unparse_timestamp
from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.packet import Packet
from pyclick.router import Router
from pyclick.runtime.handlers import HandlerError
from pyclick.sim.pcap import write_pcap
from tests.frames import ether
from tests.sinks import KeepingTestSink

FRAME = ether("00:01:02:03:04:05", "06:07:08:09:0a:0b", 0x0800, b"payload")


class TimeNotes(Element):
    """TimeNotes() -- keeps every value written to its note handler

    Description
    A test element.
    """

    port_count = "0/0"

    def configure(self, args: Args) -> None:
        args.complete()
        self.notes: list[str] = []

    @write_handler("note")
    def _write_note(self, value: str) -> None:
        self.notes.append(value)


def router_of(config: str, start: float = 0.0) -> Router:
    """Configured and initialized, in simulated time starting at ``start``."""
    router = Router(flatten(config, filename="ts.click"), simtime=True, simtime_start=start)
    router.configure()
    router.initialize()
    return router


def stamped(*stamps: float) -> list[Packet]:
    return [Packet(FRAME, timestamp=t) for t in stamps]


def stamps_of(router: Router, name: str) -> list[float]:
    """The timestamps of the packets KeepingTestSink ``name`` holds."""
    sink = router.element(name)
    assert isinstance(sink, KeepingTestSink)
    return [p.timestamp for p in sink.packets]


def filtered(config: str, stamps: list[float]) -> tuple[Router, list[float], list[float]]:
    """Push packets with ``stamps``, one at a time, into TimeFilter(config);
    the router and the stamps of outputs 0 and 1."""
    router = router_of(f"Idle -> tf :: TimeFilter({config}) -> k :: KeepingTestSink;"
                       "tf[1] -> k1 :: KeepingTestSink; r :: TimeNotes")
    for packet in stamped(*stamps):
        router.element("tf").push(0, [packet])
    return router, stamps_of(router, "k"), stamps_of(router, "k1")


def config_error(config: str) -> str:
    with pytest.raises(ConfigError) as caught:
        router_of(config)
    return str(caught.value)


# --- printing timestamps

@pytest.mark.parametrize("ns, text", [
    (0, "0.000000"),
    (1_500_000_000, "1.500000"),
    # Microseconds not whole: nine decimals.
    (1_000_000_001, "1.000000001"),
    # Negative: the sign, then the magnitude.
    (-500_000_000, "-0.500000"),
    (-2_000_001_000, "-2.000001"),
])
def test_timestamps_print_with_six_or_nine_decimals(ns, text):
    assert unparse_timestamp(ns) == text


# --- TimeFilter

def test_timefilter_passes_the_absolute_range_and_sends_the_rest_to_output_1():
    # [12.5, 15): 13 and 14 pass; 15 is the excluded end.
    router, passed, rest = filtered("12.5, 15", [10, 11, 12, 13, 14, 15, 16])
    assert passed == [13, 14]
    assert rest == [10, 11, 12, 15, 16]
    assert [router.handlers.read(f"tf.{h}") for h in ("start", "end", "interval")] == [
        "12.500000", "15.000000", "2.500000"]


def test_timefilter_starts_at_the_first_packet_without_start():
    # The start is the first packet's 5: the older 4 is refused, 5 itself passes.
    _, passed, rest = filtered("", [5, 4, 6])
    assert passed == [5, 6] and rest == [4]


def test_timefilter_end_defaults_to_the_last_click_second():
    router, passed, _ = filtered("", [7])
    assert passed == [7]
    assert router.handlers.read("tf.end") == "2147483647.000000"
    # 2147483647 - 7
    assert router.handlers.read("tf.interval") == "2147483640.000000"


def test_timefilter_relative_times_count_from_the_first_packet():
    router = router_of("Idle -> tf :: TimeFilter(START_AFTER 2, INTERVAL 3) -> "
                       "k :: KeepingTestSink")
    # Before any packet the handlers tell the durations as given.
    assert router.handlers.read("tf.start") == "2.000000"
    assert router.handlers.read("tf.end") == "3.000000"
    for packet in stamped(100, 101, 102, 103, 104, 105, 106):
        router.element("tf").push(0, [packet])
    # Start 100 + 2 = 102, end 102 + 3 = 105 (INTERVAL counts from the start).
    assert stamps_of(router, "k") == [102, 103, 104]
    assert router.handlers.read("tf.start") == "102.000000"
    assert router.handlers.read("tf.end") == "105.000000"
    assert router.handlers.read("tf.interval") == "3.000000"


def test_timefilter_end_after_counts_from_the_first_packet_not_the_start():
    # START 1000 absolute, END_AFTER 2 from the first packet (999): end 1001.
    _, passed, _ = filtered("START 1000, END_AFTER 2", [999, 1000, 1000.5, 1001])
    assert passed == [1000, 1000.5]


def test_timefilter_delays_count_from_initialization():
    # Simulated time starts at 50: start 50 + 10 = 60, end 50 + 20 = 70.
    router = router_of("Idle -> tf :: TimeFilter(START_DELAY 10, END_DELAY 20) -> "
                       "k :: KeepingTestSink", start=50)
    for packet in stamped(55, 60, 65, 70):
        router.element("tf").push(0, [packet])
    assert stamps_of(router, "k") == [60, 65]


def test_timefilter_end_call_gets_the_packet_time_once():
    router, passed, rest = filtered("END 20, END_CALL r.note at $t ${t} $tx",
                                    [19, 20.25, 21, 22])
    # Called at the first packet at or past 20 only; $tx is another variable.
    assert router.element("r").notes == ["at 20.250000 20.250000 $tx"]
    assert passed == [19] and rest == [20.25, 21, 22]


def test_timefilter_end_call_that_extends_lets_the_packet_through():
    # END 10: 10.5 calls extend_interval 2 (end 12) and passes, so does 11;
    # 12.5 calls again (end 14) and passes, 13 too.
    router, passed, rest = filtered("END 10, END_CALL tf.extend_interval 2",
                                    [9, 10.5, 11, 12.5, 13])
    assert passed == [9, 10.5, 11, 12.5, 13] and rest == []
    assert router.handlers.read("tf.end") == "14.000000"


def test_timefilter_end_call_repeats_while_the_end_moves_but_stays_behind():
    # 10.5 against end 10: +0.2 three times (10.2, 10.4, 10.6) before it passes.
    router, passed, _ = filtered("END 10, END_CALL tf.extend_interval 0.2", [10.5])
    assert passed == [10.5]
    assert router.handlers.read("tf.end") == "10.600000"


def test_timefilter_stop_stops_the_driver_at_the_first_late_packet(tmp_path):
    path = tmp_path / "t.pcap"
    write_pcap(path, [(1000 + i, FRAME) for i in range(10)])
    router = Router(flatten(
        f"FromDump({path}, STOP true, BURST 1) -> tf :: TimeFilter(END_AFTER 2.5, STOP true)"
        " -> c :: Counter -> Discard; tf[1] -> c1 :: Counter -> Discard", "ts.click"),
        simtime=True)
    router.configure()
    values: list[str] = []
    router.run(handle_signals=False,
               before_cleanup=lambda: values.extend(
                   router.handlers.read(h) for h in ("c.count", "c1.count")))
    # End 1002.5: 1000, 1001 and 1002 pass; 1003 stops the driver before
    # FromDump's next run (one packet a run).
    assert values == ["3", "1"]


def test_timefilter_handlers_move_the_range():
    # The first packet, 100, set the start; then the range becomes [101, 103).
    router, _, _ = filtered("", [100])
    router.handlers.write("tf.end", "103")
    router.handlers.write("tf.start", "101")
    for packet in stamped(100.5, 101, 102.5, 103):
        router.element("tf").push(0, [packet])
    assert stamps_of(router, "k") == [100, 101, 102.5]
    # interval: the end becomes start + 5 = 106.
    router.handlers.write("tf.interval", "5")
    assert router.handlers.read("tf.end") == "106.000000"
    router.handlers.write("tf.extend_interval", "500ms")
    assert router.handlers.read("tf.interval") == "5.500000"
    with pytest.raises(HandlerError, match="expected time"):
        router.handlers.write("tf.end", "soon")


def test_timefilter_writing_start_before_any_packet_sets_the_relative_end():
    # The write stands for the first packet's time: END_AFTER 3 from 50 is 53.
    router = router_of("Idle -> tf :: TimeFilter(END_AFTER 3) -> k :: KeepingTestSink")
    router.handlers.write("tf.start", "50")
    for packet in stamped(49, 52, 53):
        router.element("tf").push(0, [packet])
    assert stamps_of(router, "k") == [52]


def test_timefilter_in_pull_context():
    router = router_of("Idle -> q :: Queue -> tf :: TimeFilter(12) -> u :: Unqueue -> "
                       "k :: KeepingTestSink; tf[1] -> k1 :: KeepingTestSink")
    router.element("q").push(0, stamped(11, 12, 13))
    tf = router.element("tf")
    pulled = [tf.pull(0) for _ in range(3)]
    # 11 is refused (out by output 1, the pull answers nothing); 12 and 13 come.
    assert [p.timestamp if p else None for p in pulled] == [None, 12, 13]
    assert stamps_of(router, "k1") == [11]


def test_timefilter_keeps_packet_order_across_its_outputs():
    router = router_of("Idle -> tf :: TimeFilter(2, 4) -> k :: KeepingTestSink;"
                       "tf[1] -> k")
    router.element("tf").push(0, stamped(1, 2, 3, 5, 3.5, 6))
    assert stamps_of(router, "k") == [1, 2, 3, 5, 3.5, 6]


@pytest.mark.parametrize("config, message", [
    ("START 5, START_AFTER 3", "START, START_AFTER and START_DELAY are mutually exclusive"),
    ("END 5, INTERVAL 3", "END, END_AFTER, END_DELAY and INTERVAL are mutually exclusive"),
    ("STOP true, END_CALL r.note", "STOP and END_CALL are mutually exclusive"),
    ("START -1", "START: expected time"),
    ("END_CALL nowhere.note", "END_CALL: no element named 'nowhere'"),
    ("INTERVAL 3, BOGUS 1", "BOGUS"),
])
def test_timefilter_argument_errors(config, message):
    assert message in config_error(f"Idle -> TimeFilter({config}) -> Discard; r :: TimeNotes")


# --- TimeRange

def test_timerange_keeps_the_earliest_and_latest():
    router = router_of("Idle -> t :: TimeRange -> k :: KeepingTestSink;"
                       "Idle -> s :: TimeRange(SIMPLE true) -> Discard")
    assert router.handlers.read("t.range") == "0.000000 0.000000"
    for name in "ts":
        router.element(name).push(0, stamped(5, 3, 8, 7))
    assert stamps_of(router, "k") == [5, 3, 8, 7]
    assert [router.handlers.read(f"t.{h}") for h in ("first", "last", "range", "interval")] == [
        "3.000000", "8.000000", "3.000000 8.000000", "5.000000"]
    # SIMPLE: the first stays 5, the last is the last packet's 7.
    assert router.handlers.read("s.range") == "5.000000 7.000000"
    router.handlers.write("t.reset", "")
    assert router.handlers.read("t.range") == "0.000000 0.000000"
    # A new range starts at the next nonzero timestamp.
    router.element("t").push(0, stamped(0, 2.5))
    assert router.handlers.read("t.range") == "2.500000 2.500000"


def test_timerange_simple_interval_can_be_negative():
    router = router_of("Idle -> s :: TimeRange(SIMPLE true) -> Discard")
    router.element("s").push(0, stamped(5, 4.5))
    # 4.5 - 5
    assert router.handlers.read("s.interval") == "-0.500000"


def test_timerange_argument_error():
    assert "SIMPLE: expected boolean" in config_error(
        "Idle -> TimeRange(SIMPLE maybe) -> Discard")


# --- SetTimestampDelta

def delta_stamps(config: str, packets: list[Packet], start: float = 0.0) -> tuple[Router,
                                                                                   list[float]]:
    router = router_of(f"Idle -> d :: SetTimestampDelta({config}) -> k :: KeepingTestSink",
                       start)
    router.element("d").push(0, packets)
    return router, stamps_of(router, "k")


def test_settimestampdelta_range_counts_from_the_first_nonzero_timestamp():
    router, stamps = delta_stamps("", stamped(0, 10, 12.5, 9))
    # 0 stays unset; then 10-10, 12.5-10, 9-10.
    assert stamps == [0, 0, 2.5, -1]
    assert router.handlers.read("d.first") == "10.000000\n"
    router.handlers.write("d.reset", "")
    assert router.handlers.read("d.first") == "0.000000\n"
    router.element("d").push(0, stamped(20, 21))
    assert stamps_of(router, "k")[4:] == [0, 1]


def test_settimestampdelta_now_and_first():
    # The clock is at 50: a packet stamped 45 is 5 seconds old.
    _, stamps = delta_stamps("TYPE NOW", stamped(45), start=50)
    assert stamps == [5]
    # FIRST: 10 - 3; without a first timestamp, 10 - 0.
    first, plain = stamped(10, 10)
    first.first_timestamp = 3
    _, stamps = delta_stamps("TYPE FIRST", [first, plain])
    assert stamps == [7, 10]


def test_settimestampdelta_argument_error():
    assert "TYPE: expected one of RANGE, NOW, FIRST" in config_error(
        "Idle -> SetTimestampDelta(TYPE range) -> Discard")


# --- AdjustTimestamp

def adjusted(config: str, packets: list[Packet]) -> tuple[Router, list[Packet]]:
    router = router_of(f"Idle -> a :: AdjustTimestamp({config}) -> k :: KeepingTestSink")
    router.element("a").push(0, packets)
    return router, router.element("k").packets


def test_adjusttimestamp_moves_nonzero_timestamps():
    router, out = adjusted("-1.5", stamped(10, 0))
    # 10 - 1.5; the unset 0 stays unset.
    assert [p.timestamp for p in out] == [8.5, 0]
    _, out = adjusted("2, ALL true", stamped(0))
    assert [p.timestamp for p in out] == [2]
    packet = Packet(FRAME, timestamp=10)
    packet.first_timestamp = 4
    _, out = adjusted("250ms, FIRST true", [packet])
    assert (out[0].timestamp, out[0].first_timestamp) == (10, 4.25)


@pytest.mark.parametrize("written, shown", [
    ("-1.5", "-1.500000s"),
    ("250ms", "250ms"),
    ("-0.25", "-0.250000s"),
    ("2", "2.000000s"),
    ("0", "0ms"),
])
def test_adjusttimestamp_time_handler(written, shown):
    router, _ = adjusted("", [])
    router.handlers.write("a.time", written)
    assert router.handlers.read("a.time") == shown


def test_adjusttimestamp_argument_errors():
    assert "TIME: expected time" in config_error("Idle -> AdjustTimestamp(--1) -> Discard")
    assert "FIRST: expected boolean" in config_error(
        "Idle -> AdjustTimestamp(1, FIRST x) -> Discard")
    router, _ = adjusted("", [])
    with pytest.raises(HandlerError, match="expected time"):
        router.handlers.write("a.time", "later")


# --- InputSwitch

SWITCH = ("Idle -> [0] s :: InputSwitch({}); Idle -> [1] s; Idle -> [2] s;"
          "s -> k :: KeepingTestSink")


def through_switch(router: Router) -> list[float]:
    """Push a packet stamped i into input i; the inputs whose packets came out."""
    for port in range(3):
        router.element("s").push(port, stamped(port))
    got = stamps_of(router, "k")
    router.element("k").packets.clear()
    return got


def test_inputswitch_passes_one_input():
    router = router_of(SWITCH.format("1"))
    assert through_switch(router) == [1]
    assert router.handlers.read("s.switch") == router.handlers.read("s.config") == "1"
    router.handlers.write("s.switch", "2")
    assert through_switch(router) == [2]
    # Past the last input: none, read back as -1.
    router.handlers.write("s.switch", "3")
    assert through_switch(router) == [] and router.handlers.read("s.switch") == "-1"
    # A negative input is kept as written.
    router.handlers.write("s.switch", "-4")
    assert through_switch(router) == [] and router.handlers.read("s.switch") == "-4"
    with pytest.raises(HandlerError, match="expected integer"):
        router.handlers.write("s.switch", "two")


def test_inputswitch_defaults_to_input_0_and_takes_output_as_its_keyword():
    assert through_switch(router_of(SWITCH.format(""))) == [0]
    assert through_switch(router_of(SWITCH.format("OUTPUT 2"))) == [2]
    assert through_switch(router_of(SWITCH.format("-1"))) == []


@pytest.mark.parametrize("config, message", [
    ("3", "INPUT: input must be < 3"),
    ("INPUT 1, OUTPUT 1", "INPUT and OUTPUT name the same setting"),
    ("one", "INPUT: expected integer"),
])
def test_inputswitch_argument_errors(config, message):
    assert message in config_error(SWITCH.format(config))


# --- Suppressor

SUPPRESSOR = ("Idle -> s :: Suppressor -> k :: KeepingTestSink;"
              "Idle -> [1] s [1] -> k1 :: KeepingTestSink")


def test_suppressor_passes_input_i_to_output_i_unless_suppressed():
    router = router_of(SUPPRESSOR)
    s = router.element("s")
    assert router.handlers.read("s.active0") == router.handlers.read("s.active1") == "true"
    s.push(0, stamped(1))
    s.push(1, stamped(2))
    router.handlers.write("s.active1", "false")
    s.push(0, stamped(3))
    s.push(1, stamped(4))
    assert router.handlers.read("s.active1") == "false"
    assert stamps_of(router, "k") == [1, 3] and stamps_of(router, "k1") == [2]
    router.handlers.write("s.active0", "false")
    router.handlers.write("s.reset", "")
    assert router.handlers.read("s.active0") == router.handlers.read("s.active1") == "true"
    with pytest.raises(HandlerError, match="expected boolean"):
        router.handlers.write("s.active0", "sometimes")


def test_suppressor_in_pull_context_does_not_pull_a_suppressed_port():
    router = router_of("Idle -> q0 :: Queue -> s :: Suppressor -> u :: Unqueue -> Discard;"
                       "Idle -> q1 :: Queue -> [1] s [1] -> u1 :: Unqueue -> Discard")
    router.element("q0").push(0, stamped(1, 2))
    router.element("q1").push(0, stamped(3, 4))
    s = router.element("s")
    router.handlers.write("s.active0", "false")
    assert s.pull(0) is None and s.pull_batch(0, 5) == []
    # The suppressed port's queue was not touched.
    assert router.handlers.read("q0.length") == "2"
    assert [p.timestamp for p in s.pull_batch(1, 5)] == [3, 4]


def test_suppressor_takes_no_arguments():
    assert "too many arguments" in config_error("Idle -> Suppressor(3) -> Discard")
