"""The pull-to-push and rate family: BandwidthRatedUnqueue, BandwidthRatedSplitter,
DelayUnqueue, TimedUnqueue and Burster, and what RatedUnqueue and RatedSplitter
share with them (Click's fixed-point token bucket). Simulated time throughout.

InfiniteSource's packets are 69 bytes long (its default data) unless LENGTH says.
A bucket keeps its content as a fraction of 2^32-1: a token is
scale = (2^32-1) // capacity of it, and a full bucket holds
(2^32-1) // scale tokens plus (2^32-1) % scale fractions. Each millisecond adds
rate * scale // 1000 fractions."""

from __future__ import annotations

import pytest

from pyclick.element import Element
from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.packet import Packet
from pyclick.router import Router


class ArrivalTestSink(Element):
    """ArrivalTestSink() -- keeps when each packet arrived, and its timestamp

    Description
    A test sink.
    """

    port_count = "1/0"

    def initialize(self) -> None:
        self.arrivals: list[float] = []
        self.stamps: list[float] = []

    def push(self, port: int, batch: list[Packet]) -> None:
        self.arrivals.extend(self.router.now() for _ in batch)
        self.stamps.extend(p.timestamp for p in batch)


def run(config: str, *handlers: str, start: float = 0.0) -> tuple[Router, list[str]]:
    """Run a configuration to its end in simulated time from ``start``; handler
    values read before cleanup."""
    router = Router(flatten(config, filename="u.click"), simtime=True, simtime_start=start)
    router.configure()
    values: list[str] = []
    router.run(handle_signals=False,
               before_cleanup=lambda: values.extend(router.handlers.read(h) for h in handlers))
    return router, values


def arrivals(config: str) -> list[float]:
    router, _ = run(config)
    return router.element("sink").arrivals


def configure_error(config: str) -> str:
    with pytest.raises(ConfigError) as caught:
        Router(flatten(config, filename="u.click"), simtime=True).configure()
    return str(caught.value)


def ms(*values: float) -> list[float]:
    return pytest.approx([v / 1000 for v in values], abs=1e-9)


# --- BandwidthRatedUnqueue

def test_bandwidth_rated_unqueue_times():
    # 1000 B/s: capacity 20 + 131072 = 131092, scale 32763, a byte a millisecond;
    # full: 131092 bytes + 99 fractions. t=0: one packet (131023 left); 49 ms
    # later it holds 131072 again; then one packet every 69 ms.
    config = ("InfiniteSource(LIMIT 20) -> Queue -> BandwidthRatedUnqueue(1000Bps)"
              " -> sink :: ArrivalTestSink; Script(wait 0.3, stop)")
    assert arrivals(config) == ms(0, 49, 118, 187, 256)


def test_bandwidth_rated_unqueue_count_rate_and_calls():
    # Packets at 0, 49 + 69k ms: 2 + 13 by 1 s (49 + 13 x 69 = 946). Every run
    # that pushes is followed by one that finds the bucket short.
    config = ("InfiniteSource(LIMIT 50) -> Queue -> b :: BandwidthRatedUnqueue(1000Bps)"
              " -> c :: Counter -> Discard; Script(wait 1, stop)")
    _, values = run(config, "c.count", "b.count", "b.calls", "b.rate", "b.config")
    assert values == ["15", "15",
                      "30 calls to run_task()\n15 empty runs\n15 pushes\n0 failed pulls\n",
                      "8kbps", "8kbps"]


def test_bandwidth_rated_unqueue_burst_bytes():
    # Capacity 500 + 131072 = 131572: scale 32643, full 131573.91 bytes. Six
    # 100-byte packets leave at once (131573.91 - 500 >= 131072); 98.09 bytes
    # short then: 99 ms; from then on 100 ms a packet.
    config = ("InfiniteSource(LIMIT 20, LENGTH 100) -> Queue"
              " -> BandwidthRatedUnqueue(8kbps, BURST_BYTES 500)"
              " -> sink :: ArrivalTestSink; Script(wait 0.35, stop)")
    assert arrivals(config) == ms(0, 0, 0, 0, 0, 0, 99, 199, 299)


def test_bandwidth_rated_unqueue_rate_zero_lets_nothing_through():
    config = ("InfiniteSource(LIMIT 5) -> Queue -> b :: BandwidthRatedUnqueue(0)"
              " -> c :: Counter -> Discard; Script(wait 1, stop)")
    assert run(config, "c.count", "b.rate")[1] == ["0", "0kbps"]


def test_bandwidth_rated_unqueue_reads_back_the_stored_rate():
    # Capacity 40 + 131072 = 131112: scale 32758, 65516 fractions a tick,
    # read back as (65516 x 1000 + 32758) // 32758 = 2001 B/s = 16.008 kbps.
    router = Router(flatten("Idle -> Queue -> b :: BandwidthRatedUnqueue(2000Bps) -> Discard",
                            filename="u.click"), simtime=True)
    router.configure()
    assert router.handlers.read("b.rate") == "16.008kbps"
    router.handlers.write("b.rate", "1000Bps")
    assert router.handlers.read("b.config") == "8kbps"


def test_bandwidth_rated_unqueue_inactive_pulls_nothing():
    config = ("InfiniteSource(LIMIT 5) -> Queue -> b :: BandwidthRatedUnqueue(1Mbps, ACTIVE false)"
              " -> c :: Counter -> Discard; Script(wait 0.1, stop)")
    assert run(config, "c.count", "b.active")[1] == ["0", "false"]


@pytest.mark.parametrize("args, message", [
    ("1000Bps, BURST_DURATION 1s, BURST_BYTES 10",
     "cannot specify both BURST_DURATION and BURST_BYTES"),
    ("1000Bps, BURST_SIZE 10", "BURST_SIZE"),
    ("5GBps", "RATE"),
    ("fast", "RATE"),
    ("1000Bps, BURST_BYTES -1", "BURST_BYTES"),
    ("", "RATE"),
])
def test_bandwidth_rated_unqueue_argument_errors(args, message):
    assert message in configure_error(f"Idle -> Queue -> BandwidthRatedUnqueue({args}) -> Discard")


# --- RatedUnqueue, on the same bucket

def test_rated_unqueue_keeps_clicks_fixed_point():
    # Capacity 1: scale 2^32-1, 42949672 fractions a tick; a token takes
    # (2^32-2) // 42949672 + 1 = 101 ticks, not 100.
    config = ("InfiniteSource(LIMIT 9) -> Queue -> RatedUnqueue(10)"
              " -> sink :: ArrivalTestSink; Script(wait 0.35, stop)")
    assert arrivals(config) == ms(0, 101, 202, 303)


def test_rated_unqueue_reads_back_the_stored_rate():
    # Capacity 33333 x 20 // 1000 = 666: scale (2^32-1) // 666 = 6448899,
    # 33333 x 6448899 // 1000 = 214961150 fractions a tick, read back as
    # (214961150 x 1000 + 107480575) // 6448899 = 33349.
    router = Router(flatten("Idle -> Queue -> r :: RatedUnqueue(33333) -> Discard",
                            filename="u.click"), simtime=True)
    router.configure()
    assert router.handlers.read("r.rate") == "33349"


def test_bandwidth_rates_round_half_up():
    # 100 bps is 12.5 B/s, taken as 13 B/s; in a bucket of 131072 bytes
    # (scale 32767) that is 425 fractions a tick, read back as 12 B/s = 96 bps.
    router = Router(flatten("Idle -> s :: BandwidthRatedSplitter(100bps, BURST_BYTES 0) -> Discard",
                            filename="u.click"), simtime=True)
    router.configure()
    assert router.handlers.read("s.rate") == "0.096kbps"


def test_rated_unqueue_rate_zero_and_calls():
    config = ("InfiniteSource(LIMIT 5) -> Queue -> r :: RatedUnqueue(0)"
              " -> c :: Counter -> Discard; Script(wait 1, stop)")
    # One run, the bucket empty: an empty run, and no timer (it never refills).
    assert run(config, "c.count", "r.calls")[1] == [
        "0", "1 calls to run_task()\n1 empty runs\n0 pushes\n0 failed pulls\n"]


def test_rated_unqueue_burst_size_is_at_least_a_millisecond_of_tokens():
    # RATE 100000 needs 100 tokens a millisecond: BURST_SIZE 1 becomes 100,
    # all of them there at the start.
    config = ("InfiniteSource(LIMIT 300, BURST 300) -> Queue -> RatedUnqueue(100000, BURST_SIZE 1)"
              " -> sink :: ArrivalTestSink; Script(wait 0.0005, stop)")
    assert len(arrivals(config)) == 100


# --- BandwidthRatedSplitter, RatedSplitter

SPLIT = ("InfiniteSource(LIMIT 50, BURST 50) -> s :: {};"
         "s[0] -> a :: Counter -> Discard; s[1] -> b :: Counter -> Discard;")


@pytest.mark.parametrize("splitter, first", [
    # Capacity 2000 + 131072 = 133072: scale 32275, full 133074.12 bytes;
    # packets pass while 131072 remain: 133074.12 - 69k >= 131072 for k = 0..29.
    ("BandwidthRatedSplitter(2000Bps, BURST_DURATION 1s)", 30),
    # Capacity 132072: scale 32519, full 132075.63: k = 0..14.
    ("BandwidthRatedSplitter(16kbps, BURST_BYTES 1000)", 15),
    # Capacity 20 + 131072 = 131092 (full 131092.003): only k = 0 passes.
    ("BandwidthRatedSplitter(1000Bps)", 1),
    # Rate 0: the bucket never fills.
    ("RatedSplitter(0)", 0),
])
def test_bandwidth_rated_splitter_bursts(splitter, first):
    _, values = run(SPLIT.format(splitter), "a.count", "b.count")
    assert values == [str(first), str(50 - first)]


def test_bandwidth_rated_splitter_follows_the_rate():
    # RatedUnqueue(1000) sends 20 packets at 0 (its 20 ms burst), then one a
    # millisecond. The splitter's bucket (capacity 131072, scale 32767, full
    # 131076 bytes) lets the first through (131007 left), then gains 13.8 bytes
    # a millisecond: 131072 again after 5 ms, and so every 5 ms.
    config = ("InfiniteSource(LIMIT 100) -> Queue -> RatedUnqueue(1000)"
              " -> s :: BandwidthRatedSplitter(13800Bps, BURST_BYTES 0);"
              "s[0] -> sink :: ArrivalTestSink; s[1] -> b :: Counter -> Discard;"
              "Script(wait 0.0205, stop)")
    assert arrivals(config) == ms(0, 5, 10, 15, 20)


def test_rated_splitter_rate_write_sets_the_burst_back():
    # BURST_SIZE 5 at first; after the write the burst is 20 ms at 1000/s,
    # 20 tokens, and the full bucket stays full: 20 of 30 go out output 0.
    config = ("src :: InfiniteSource(LIMIT 30, BURST 30, ACTIVE false)"
              " -> s :: RatedSplitter(10, BURST_SIZE 5);"
              "s[0] -> a :: Counter -> Discard; s[1] -> b :: Counter -> Discard;"
              "Script(write s.rate 1000, write src.active true, wait 0.0005, stop)")
    assert run(config, "a.count", "b.count", "s.rate")[1] == ["20", "10", "1000"]


def test_bandwidth_rated_splitter_drops_without_output_1():
    config = "InfiniteSource(LIMIT 5, BURST 5) -> BandwidthRatedSplitter(1000Bps) -> c :: Counter -> Discard"
    assert run(config, "c.count")[1] == ["1"]


def test_bandwidth_rated_splitter_argument_errors():
    assert "BURST_BYTES" in configure_error(
        "Idle -> BandwidthRatedSplitter(1kBps, BURST_DURATION 1s, BURST_BYTES 3) -> Discard")
    assert "RATE" in configure_error("Idle -> BandwidthRatedSplitter(-3) -> Discard")


# --- DelayUnqueue

def test_delay_unqueue_delays_from_the_timestamp():
    # Stamped at 0, 101 and 202 ms (RatedUnqueue(10), above), out 250 ms later,
    # keeping the time they were due as timestamp.
    config = ("InfiniteSource(LIMIT 3) -> Queue -> RatedUnqueue(10) -> SetTimestamp -> Queue"
              " -> d :: DelayUnqueue(250ms) -> sink :: ArrivalTestSink; Script(wait 1, stop)")
    router, values = run(config, "d.delay")
    sink = router.element("sink")
    assert sink.arrivals == ms(250, 351, 452)
    assert sink.stamps == ms(250, 351, 452)
    assert values == ["250ms"]


def test_delay_unqueue_stamps_unstamped_packets_when_pulled():
    # Timestamp 0 is no timestamp: the first is pulled at 0 and due at 0.5;
    # the second is pulled only then, and is due at 1.
    config = ("InfiniteSource(LIMIT 2) -> SetTimestamp(0) -> Queue -> DelayUnqueue(0.5)"
              " -> sink :: ArrivalTestSink; Script(wait 2, stop)")
    assert arrivals(config) == ms(500, 1000)


def test_delay_unqueue_delay_write():
    # Stamped at 1 s (a timestamp of 0 would count as none): the first leaves at
    # 1.010; the write at 1.005 applies to the packets pulled after it (the held
    # one keeps its time): both due at 1 + 0.030.
    config = ("InfiniteSource(LIMIT 3, BURST 3) -> SetTimestamp -> Queue -> d :: DelayUnqueue(10ms)"
              " -> sink :: ArrivalTestSink; Script(wait 0.005, write d.delay 30ms, wait 1, stop)")
    router, values = run(config, "d.delay", start=1.0)
    assert router.element("sink").arrivals == ms(1010, 1030, 1030)
    assert values == ["30ms"]


@pytest.mark.parametrize("args, message", [
    ("", "DELAY"), ("-1", "DELAY"), ("1s, 2", "too many arguments")])
def test_delay_unqueue_argument_errors(args, message):
    assert message in configure_error(f"Idle -> Queue -> DelayUnqueue({args}) -> Discard")


# --- TimedUnqueue, Burster

def test_timed_unqueue_pulls_a_burst_per_interval():
    # Seven queued at the start: 3 at 0, 3 at 100 ms, the last at 200 ms.
    config = ("InfiniteSource(LIMIT 7, BURST 7) -> Queue -> TimedUnqueue(100ms, 3)"
              " -> sink :: ArrivalTestSink; Script(wait 1, stop)")
    assert arrivals(config) == ms(0, 0, 0, 100, 100, 100, 200)


def test_timed_unqueue_polls_then_sleeps_and_starts_again():
    # Packets reach the second Queue at 0 and 501 ms (RatedUnqueue(2): a token
    # takes (2^32-2) // 8589934 + 1 = 501 ticks). The first leaves at 0 or at
    # 10 ms (whether it is queued before TimedUnqueue's first run). Then every
    # 10 ms a pull fails; the Queue says it is empty after ten failures in a row,
    # and TimedUnqueue sleeps: the second leaves as it arrives, not at the next
    # multiple of 10 ms from the first.
    config = ("InfiniteSource(LIMIT 2) -> Queue -> RatedUnqueue(2) -> Queue -> TimedUnqueue(10ms)"
              " -> sink :: ArrivalTestSink; Script(wait 2, stop)")
    first, second = arrivals(config)
    assert first in (0, pytest.approx(0.010, abs=1e-9))
    assert second == pytest.approx(0.501, abs=1e-9)


def test_timed_unqueue_keeps_its_intervals_while_the_queue_may_fill():
    # The same at 300 ms: between packets only one or two pulls fail, too few
    # for the Queue to say it is empty, so the pulls stay on the 300 ms grid
    # (packets at 0, 501, 1002, 1503 ms leave at the next multiple of 300).
    config = ("InfiniteSource(LIMIT 4) -> Queue -> RatedUnqueue(2) -> Queue -> TimedUnqueue(0.3)"
              " -> sink :: ArrivalTestSink; Script(wait 2, stop)")
    assert arrivals(config)[1:] == ms(600, 1200, 1800)


def test_timed_unqueue_interval_is_whole_milliseconds():
    # 1.5 ms rounds half up to 2 ms.
    config = ("InfiniteSource(LIMIT 3, BURST 3) -> Queue -> TimedUnqueue(0.0015)"
              " -> sink :: ArrivalTestSink; Script(wait 0.1, stop)")
    assert arrivals(config) == ms(0, 2, 4)


def test_burster_pulls_eight_by_default():
    config = ("InfiniteSource(LIMIT 20, BURST 20) -> Queue -> Burster(0.1)"
              " -> sink :: ArrivalTestSink; Script(wait 1, stop)")
    assert arrivals(config) == ms(*[0] * 8, *[100] * 8, *[200] * 4)


@pytest.mark.parametrize("cls, args, message", [
    ("TimedUnqueue", "1, 0", "BURST"),
    ("Burster", "1, -2", "BURST"),
    ("TimedUnqueue", "-1", "INTERVAL"),
    ("TimedUnqueue", "", "INTERVAL"),
    ("Burster", "1s, 2, 3", "too many arguments"),
])
def test_timed_unqueue_argument_errors(cls, args, message):
    assert message in configure_error(f"Idle -> Queue -> {cls}({args}) -> Discard")
