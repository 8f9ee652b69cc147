"""Common Click idioms in simulated time, with the outcomes Click gives.

Click's simulated clock moves on a nanosecond at every reading, so timers
set "at the same time" by different elements expire apart: in the order
they were first set (a period added to the last expiry keeps its place),
and the tasks one timer wakes run before the next fires.
"""

from __future__ import annotations

from pyclick.lang import flatten
from pyclick.router import Router


def run_from(start: float, config: str, *handlers: str) -> list[str]:
    """The handlers' values at the end of a run in simulated time from ``start``."""
    router = Router(flatten(config), simtime=True, simtime_start=start)
    router.configure()
    values: list[str] = []
    router.run(handle_signals=False,
               before_cleanup=lambda: values.extend(router.handlers.read(h) for h in handlers))
    return values


def run(config: str, *handlers: str) -> list[str]:
    return run_from(0.0, config, *handlers)


def test_a_packet_timed_with_the_stop_goes_through_when_its_source_comes_first():
    # TimedSource's timer (due at 1 s) was set before the script's (1 s):
    # it fires first, Unqueue's task then takes the packet, then the stop.
    assert run("TimedSource(1, LIMIT 4) -> q :: Queue -> Unqueue -> d :: Discard;"
               "Script(wait 1s, stop)", "q.length", "d.count") == ["0", "1"]


def test_the_stop_comes_first_when_the_script_comes_first():
    # Declared first, the script's wait is set first and fires first at 1 s:
    # the source's timer due then never runs.
    assert run("Script(wait 1s, stop);"
               "TimedSource(1, LIMIT 4) -> q :: Queue -> Unqueue -> d :: Discard",
               "q.length", "d.count") == ["0", "0"]


def test_a_periodic_timer_keeps_its_place_among_timers_due_together():
    # Ticks at 1, 2, 3 s; the driver's wait ends at 3 s. The source, set
    # first, keeps its place through its periods: 3 packets. Declared after
    # the driver, its third tick comes after the stop: 2.
    source = "TimedSource(1) -> c :: Counter -> Discard;"
    driver = "DriverManager(wait 3s, stop);"
    assert run(source + driver, "c.count") == ["3"]
    assert run(driver + source, "c.count") == ["2"]


def test_rated_source_starts_with_a_full_bucket():
    # Below RATE 200 the bucket holds 2 packets and starts full: 2 at 0 s,
    # then one a second at 1 and 2 s; the one due at 3 s was set at 2 s,
    # after the script's wait, which stops first: 4.
    assert run("RatedSource(RATE 1) -> d :: Discard; Script(wait 3s, stop)",
               "d.count") == ["4"]
    # At RATE 1000 the bucket is a hundredth of a second's worth: 10 at 0 s,
    # one a run of the source's task, and the next token is due only when the
    # script stops, at 1 ms.
    assert run("RatedSource(RATE 1000) -> d :: Discard; Script(wait 0.001s, stop)",
               "d.count") == ["10"]


def test_rated_source_limit_and_stop_with_a_full_first_burst():
    # LIMIT 5 at RATE 10: 2 at 0 s, then 0.101, 0.201, 0.301 s (a token is
    # 101 ms of refills, then 100 with what is left over); STOP ends it there.
    # The two at 0 s come on two runs of the source's task, each taken by the
    # Unqueue before the next: the Queue never holds more than one (Click's 1).
    router = Router(flatten("RatedSource(RATE 10, LIMIT 5, STOP true) -> q :: Queue"
                            " -> Unqueue(BURST 4) -> d :: Discard"), simtime=True)
    router.configure()
    router.run(handle_signals=False)
    assert router.handlers.read("d.count") == "5"
    assert router.handlers.read("q.highwater_length") == "1"
    assert abs(router.now() - 0.301) < 1e-9


def test_shapers_keep_their_rate_on_a_clock_started_at_click_s_simulated_start():
    # Click's simulated clock starts at 10^9 s (--simtime=1000000000 here).
    # Shaper(100): a packet every 10 ms from the start, 0 .. 0.49 s: all 50
    # within the second.
    assert run_from(1e9, "InfiniteSource(LIMIT 50) -> Queue -> Shaper(100) -> Unqueue"
                    " -> c :: Counter -> Discard; DriverManager(wait 1s)", "c.count") == ["50"]
    # 12500 bytes a second, 125-byte packets: one every 10 ms, 20 by 0.19 s.
    assert run_from(1e9, "InfiniteSource(LIMIT 20, LENGTH 125) -> Queue -> BandwidthShaper(12500)"
                    " -> Unqueue -> c :: Counter -> Discard; DriverManager(wait 1s)",
                    "c.count") == ["20"]


def test_rated_source_reset_sends_at_once():
    # RATE 5, a bucket of 2 starting full: 0, 0, 0.2, 0.4 s. The reset at
    # 0.5 s puts one token back, as Click's does: a packet at once, and the
    # half token refilled since 0.4 s makes the next due at 0.6, then 0.8.
    assert run("r :: RatedSource(RATE 5) -> d :: Discard;"
               "Script(wait 0.5, write r.reset, wait 0.4, stop)", "d.count", "r.count") == [
        "7", "3"]


def test_rated_source_burst_is_whole_packets():
    # RATE 250: a hundredth of a second is 2.5 packets, and the bucket holds
    # 2, as Click's: two at once. A token is 2147483647 fractions, a
    # millisecond adds 250 x that // 1000 = 536870911: 4 ms fall 3 short,
    # so the third comes at 5 ms, as in Click.
    router = Router(flatten("RatedSource(RATE 250, LIMIT 3, STOP true) -> d :: Discard"),
                    simtime=True)
    router.configure()
    router.run(handle_signals=False)
    assert router.handlers.read("d.count") == "3"
    assert abs(router.now() - 0.005) < 1e-9
