"""Router building, lifecycle and its order, timers and tasks in simulated time, handlers."""

from __future__ import annotations

import logging
import threading

import pytest

from pyclick.args import BOOL, ELEMENT, INT, STRING, TIME, Args
from pyclick.cli import main as cli_main
from pyclick.element import (CONFIGURE_PHASE_FIRST, CONFIGURE_PHASE_INFO, CONFIGURE_PHASE_LAST,
                             Element, read_handler, write_handler)
from pyclick.errors import ConfigError, Landmark
from pyclick.lang.model import FlatConfig, FlatConnection, FlatElement
from pyclick.router import Router
from pyclick.runtime.clock import SimClock
from pyclick.runtime.handlers import HandlerError
from pyclick.runtime.order import dependency_order
from pyclick.runtime.phaseorder import click_phase_order
from pyclick.runtime.scheduling import SchedulingHandle
from pyclick.runtime.tasks import TASK_BATCH, Task
from pyclick.runtime.timers import Timer
from tests.helpers import FakeHost, FakeOwner, bound_scheduling

EVENTS: list[tuple[str, str]] = []


class LifeStep(Element):
    """LifeStep(FAIL_INIT, FAIL_CLEANUP) -- records its lifecycle in EVENTS"""

    port_count = "0-1/0-1"

    def configure(self, args: Args) -> None:
        self.fail_init = args.read("FAIL_INIT", BOOL, False)
        self.fail_cleanup = args.read("FAIL_CLEANUP", BOOL, False)
        args.complete()
        EVENTS.append((self.name, "configure"))

    def initialize(self) -> None:
        if self.fail_init:
            raise RuntimeError("cannot open the device")
        EVENTS.append((self.name, "initialize"))

    def cleanup(self) -> None:
        EVENTS.append((self.name, "cleanup"))
        if self.fail_cleanup:
            raise OSError("device vanished")


class Tick(Element):
    """Tick(PERIOD, COUNT, STOP, FAIL_AT, LOGNAME) -- a periodic timer, logging to EVENTS"""

    def configure(self, args: Args) -> None:
        self.period = args.read_p("PERIOD", TIME, 1.0)
        self.count = args.read_p("COUNT", INT, 1)
        self.stop = args.read("STOP", BOOL, False)
        self.fail_at = args.read("FAIL_AT", INT, -1)
        args.complete()

    def initialize(self) -> None:
        self.fired = 0
        self.timer = Timer(self, self.fire)
        self.timer.schedule_after(self.period)

    def fire(self) -> None:
        self.fired += 1
        EVENTS.append((self.name, f"{self.router.now():g}"))
        if self.fired == self.fail_at:
            raise KeyError("boom")
        if self.fired < self.count:
            self.timer.reschedule_after(self.period)
        elif self.stop:
            self.router.stop("enough ticks")

    @read_handler("fired")
    def _fired(self) -> str:
        return str(self.fired)


class Chunks(Element):
    """Chunks(N, FAIL) -- a task that runs N times"""

    def configure(self, args: Args) -> None:
        self.n = args.read_mp("N", INT)
        self.fail = args.read("FAIL", BOOL, False)
        args.complete()

    def initialize(self) -> None:
        self.runs = 0
        self.task = Task(self, self.run_task)
        self.task.reschedule()

    def run_task(self) -> bool:
        self.runs += 1
        EVENTS.append((self.name, f"task@{self.router.now():g}"))
        if self.fail:
            raise ZeroDivisionError("division by zero")
        if self.runs < self.n:
            self.task.reschedule()
        return True


class Knob(Element):
    """Knob(VALUE) -- a value behind read/write handlers"""

    def configure(self, args: Args) -> None:
        self.value = args.read_p("VALUE", STRING, "")
        args.complete()

    @read_handler("value")
    def _read(self) -> str:
        return self.value

    @write_handler("value")
    def _write(self, value: str) -> None:
        if value == "bad":
            raise ValueError("bad is not a value")
        self.value = value

    @read_handler("thread")
    def _thread(self) -> str:
        return threading.current_thread().name

    @read_handler("echo")
    def _echo(self, params: str) -> str:
        return params.upper()

    @write_handler("reset")
    def _reset(self, value: str) -> None:
        self.value = ""


class Simulated(Element):
    """Simulated -- its class needs simulated time"""

    simulated_time = True


class LiveOnly(Element):
    """LiveOnly -- refuses simulated time at configure"""

    def configure(self, args: Args) -> None:
        if self.router.simtime:
            args.error("cannot run in simulated time")
        args.complete()


class Uses(LifeStep):
    """Uses(ELEMENT...) -- a LifeStep naming other elements"""

    def configure(self, args: Args) -> None:
        self.uses = [args.convert("ELEMENT", word, ELEMENT) for word in args.rest()]
        super().configure(args)


class InfoUses(Uses):
    """InfoUses(ELEMENT...) -- configures in Click's INFO phase"""

    configure_phase = CONFIGURE_PHASE_INFO


class FirstUses(Uses):
    """FirstUses(ELEMENT...) -- configures in Click's FIRST phase"""

    configure_phase = CONFIGURE_PHASE_FIRST


class LastUses(Uses):
    """LastUses(ELEMENT...) -- configures in Click's LAST phase"""

    configure_phase = CONFIGURE_PHASE_LAST


class Pipe(Element):
    """Pipe -- 1 input, 1-2 outputs"""

    port_count = "1/1-2"


class Same(Element):
    """Same -- as many outputs as inputs"""

    port_count = "-/="


@pytest.fixture(autouse=True)
def clear_events():
    EVENTS.clear()


def flat(*decls: str, connections: tuple[tuple[str, int, str, int], ...] = ()) -> FlatConfig:
    """``"name :: Class(config)"`` declarations, one per line of conf.click."""
    elements = []
    for line, decl in enumerate(decls, 1):
        name, _, rest = decl.partition(" :: ")
        cls, _, config = rest.partition("(")
        elements.append(FlatElement(name, cls, config[:-1] if config else "",
                                    Landmark("conf.click", line)))
    conns = [FlatConnection(a, p, b, q, Landmark("conf.click", 100 + i))
             for i, (a, p, b, q) in enumerate(connections)]
    return FlatConfig(elements, conns)


def sim_router(*decls: str, **kw) -> Router:
    router = Router(flat(*decls, **kw), simtime=True)
    router.configure()
    return router


# --- building and port counts

def test_unknown_classes_are_all_reported_with_landmarks():
    with pytest.raises(ConfigError) as info:
        Router(flat("a :: LifeStep", "b :: NoSuchThing", "c :: NorThis"))
    assert info.value.messages == ["conf.click:2: unknown element class 'NoSuchThing'",
                                   "conf.click:3: unknown element class 'NorThis'"]


def test_port_errors_name_element_and_port_at_the_element_s_place():
    # As Click reports them: at the declaration of the element whose port it is
    # (a, b and c on lines 1-3), not at the connection (lines 100-103).
    with pytest.raises(ConfigError) as info:
        Router(flat("a :: Pipe", "b :: Pipe", "c :: LifeStep",
                    connections=(("a", 2, "b", 0), ("a", 0, "c", 1), ("b", 0, "c", 0),
                                 ("b", 0, "a", 0))))
    assert info.value.messages == [
        "conf.click:1: 'a :: Pipe' has no output 2 (too many outputs: Pipe has 1-2)",
        "conf.click:3: 'c :: LifeStep' has no input 1 (too many inputs: LifeStep has 0-1)",
        "conf.click:2: illegal reuse of 'b :: Pipe' push output 0",
    ]


def test_port_counts_outputs_and_unused_warnings_in_a_partial_graph():
    router = Router(flat("a :: Pipe", "b :: Pipe", "l :: LifeStep",
                         connections=(("a", 1, "b", 0), ("l", 0, "a", 0))), partial=True)
    a, b, life = router.elements
    assert (a.ninputs, a.noutputs) == (1, 2)
    assert a.outputs == [None, (b, 0)]
    assert (life.ninputs, life.noutputs) == (0, 1)
    assert router.warnings == ["conf.click:1: warning: 'a :: Pipe' output 0 unused",
                               "conf.click:2: warning: 'b :: Pipe' output 0 unused"]


def test_unused_ports_are_errors_inputs_first_as_click_reports_them():
    # a (1 input, 1-2 outputs) is fed by l, its output 0 free; b has both
    # ports free. LifeStep's ports are optional (0-1/0-1).
    with pytest.raises(ConfigError) as info:
        Router(flat("a :: Pipe", "b :: Pipe", "l :: LifeStep",
                    connections=(("l", 0, "a", 0),)))
    assert info.value.messages == ["conf.click:2: 'b :: Pipe' input 0 unused",
                                   "conf.click:1: 'a :: Pipe' output 0 unused",
                                   "conf.click:2: 'b :: Pipe' output 0 unused"]


def test_unused_ports_come_with_reuse_but_not_after_a_port_that_cannot_be():
    # Pipe's output 0 feeds two sinks (reused); its input is free.
    with pytest.raises(ConfigError) as info:
        Router(flat("a :: Pipe", "b :: LifeStep", "c :: LifeStep",
                    connections=(("a", 0, "b", 0), ("a", 0, "c", 0))))
    assert info.value.messages == ["conf.click:1: illegal reuse of 'a :: Pipe' push output 0",
                                   "conf.click:1: 'a :: Pipe' input 0 unused"]
    # An output 3 that Pipe cannot have: only that, though its input is free.
    with pytest.raises(ConfigError) as info:
        Router(flat("a :: Pipe", "b :: LifeStep", connections=(("a", 3, "b", 0),)))
    assert info.value.messages == [
        "conf.click:1: 'a :: Pipe' has no output 3 (too many outputs: Pipe has 1-2)"]


def test_same_outputs_as_inputs():
    router = Router(flat("a :: Pipe", "s :: Same", "d :: LifeStep",
                         connections=(("a", 0, "s", 1), ("s", 0, "d", 0))), partial=True)
    assert (router.elements[1].ninputs, router.elements[1].noutputs) == (2, 2)
    with pytest.raises(ConfigError, match="'s :: Same' has no output 0"):
        Router(flat("s :: Same", "d :: LifeStep", connections=(("s", 0, "d", 0),)))


def test_unknown_requirement_is_an_error():
    config = flat("a :: LifeStep")
    config.requirements = [("package", "no_such_package_here"), ("", "userlevel")]
    with pytest.raises(ConfigError, match="no module named 'no_such_package_here'"):
        Router(config)


# --- configure

def test_configure_reports_every_element_error_together():
    router = Router(flat("a :: Tick(PERIOD soon)", "b :: LifeStep(FAIL_INIT maybe)",
                         "c :: Chunks", "d :: Tick(1, 2, 3)"))
    with pytest.raises(ConfigError) as info:
        router.configure()
    assert info.value.messages == [
        "conf.click:1: While configuring 'a :: Tick': PERIOD: expected time (e.g. 10ms, 1s), "
        "got 'soon'",
        "conf.click:2: While configuring 'b :: LifeStep': FAIL_INIT: expected boolean "
        "(true/false, yes/no, 1/0), got 'maybe'",
        "conf.click:3: While configuring 'c :: Chunks': N: missing mandatory argument",
        "conf.click:4: While configuring 'd :: Tick': too many arguments: '3'",
    ]


def test_value_error_in_configure_is_a_placed_user_error():
    class Picky(Element):
        def configure(self, args: Args) -> None:
            args.complete()
            raise ValueError("TIMER_MAX must not be below TIMER")

    router = Router(flat("p :: Picky"))
    with pytest.raises(ConfigError) as info:
        router.configure()
    assert info.value.messages == [
        "conf.click:1: While configuring 'p :: Picky': TIMER_MAX must not be below TIMER"]


def test_default_configure_rejects_arguments():
    router = Router(flat("p :: Pipe(1)"), partial=True)
    with pytest.raises(ConfigError, match="too many arguments: '1'"):
        router.configure()


# --- lifecycle

def test_lifecycle_order_on_normal_stop():
    router = sim_router("a :: LifeStep", "b :: LifeStep", "t :: Tick(1, STOP true)",
                        "c :: LifeStep")
    assert router.run() == 0
    steps = [e for e in EVENTS if e[0] != "t"]
    assert steps == [("a", "configure"), ("b", "configure"), ("c", "configure"),
                     ("a", "initialize"), ("b", "initialize"), ("c", "initialize"),
                     ("c", "cleanup"), ("b", "cleanup"), ("a", "cleanup")]
    assert router.stop_reason == "enough ticks"


def test_failed_initialize_cleans_up_only_initialized_elements():
    router = sim_router("a :: LifeStep", "b :: LifeStep", "x :: LifeStep(FAIL_INIT true)",
                        "c :: LifeStep")
    with pytest.raises(ConfigError) as info:
        router.run()
    assert info.value.messages == [
        "conf.click:3: While initializing 'x :: LifeStep': cannot open the device"]
    assert EVENTS[4:] == [("a", "initialize"), ("b", "initialize"),
                          ("b", "cleanup"), ("a", "cleanup")]


def test_cleanup_failure_is_reported_and_others_still_run(caplog):
    router = sim_router("a :: LifeStep", "b :: LifeStep(FAIL_CLEANUP true)", "c :: LifeStep")
    with caplog.at_level(logging.ERROR):
        assert router.run() == 0
    assert [e for e in EVENTS if e[1] == "cleanup"] == [("c", "cleanup"), ("b", "cleanup"),
                                                          ("a", "cleanup")]
    failure = [r for r in caplog.records if "cleanup" in r.getMessage()]
    assert len(failure) == 1
    assert (failure[0].element, failure[0].landmark, failure[0].getMessage()) == \
        ("b", "conf.click:2", "cleanup of 'b :: LifeStep' failed: device vanished")


@pytest.mark.parametrize("failing", ["t :: Tick(1, 5, FAIL_AT 3)", "t :: Chunks(5, FAIL true)"])
def test_exception_in_timer_or_task_stops_with_status_1(failing, caplog):
    router = sim_router("a :: LifeStep", failing, "b :: LifeStep",
                        "other :: Tick(1, 100)")
    with caplog.at_level(logging.ERROR):
        assert router.run() == 1
    assert [e for e in EVENTS if e[1] == "cleanup"] == [("b", "cleanup"), ("a", "cleanup")]
    record = next(r for r in caplog.records if "failed" in r.getMessage())
    assert record.element == "t"
    assert record.landmark == "conf.click:2"
    assert "'t :: " in record.getMessage()
    # The router stopped at once: the other timer did not run on to 100.
    assert router.element("other").fired < 10


def test_stop_before_running_still_cleans_up():
    class StopsEarly(Element):
        def initialize(self) -> None:
            self.router.stop("no work")

    router = sim_router("a :: LifeStep", "s :: StopsEarly", "t :: Tick(1, 5)")
    assert router.run() == 0
    assert router.stop_reason == "no work"
    assert ("t", "1") not in EVENTS
    assert EVENTS[-1] == ("a", "cleanup")


def test_realtime_stop_from_a_timer():
    router = Router(flat("a :: LifeStep", "t :: Tick(0.01, 3, STOP true)"))
    router.configure()
    assert router.run() == 0
    assert router.element("t").fired == 3
    assert EVENTS[-1] == ("a", "cleanup")


# --- simulated time

def test_simtime_orders_timers_by_expiry_then_first_scheduling():
    router = sim_router("a :: Tick(0.5, 4)", "b :: Tick(1, 2)", "c :: Tick(0.25, 3)")
    assert router.simtime
    router.run()
    # Timers due together go by the rank their chain of periods got when
    # first scheduled (as Click's nanosecond-moving simulated clock orders
    # them): a, b, c were set in that order at initialization, so a fires
    # before c at 0.5 and before b at 1 and 2.
    assert EVENTS == [("c", "0.25"), ("a", "0.5"), ("c", "0.5"), ("c", "0.75"),
                      ("a", "1"), ("b", "1"), ("a", "1.5"), ("a", "2"), ("b", "2")]
    assert router.stop_reason == "nothing left to run"
    assert router.now() == 2.0


def test_simtime_runs_long_simulations_fast():
    router = sim_router("a :: Tick(1, 3600)", "b :: Tick(60, 60)")
    router.run()
    assert router.now() == 3600.0
    assert router.element("a").fired == 3600


def test_tasks_run_before_time_advances():
    router = sim_router("t :: Tick(1, 2)", "k :: Chunks(3)")
    router.run()
    assert EVENTS == [("k", "task@0"), ("k", "task@0"), ("k", "task@0"),
                      ("t", "1"), ("t", "2")]


def test_tasks_polling_for_what_a_timer_changes_let_the_clock_move_on():
    # A task that finds nothing and polls again would hold the clock for
    # ever. Tasks run in batches of TASK_BATCH (128) runs between looks at
    # the timers, and after a batch that did no work the clock moves to the
    # next expiry: a batch of 128 polls finding nothing at 0; at 2 and 4 a
    # batch whose first poll finds the timer's change, then one finding
    # nothing; at 6 one poll finding the change, which polls no more:
    # 128 + 2 x 256 + 1.
    seen = []

    class Poller(Element):
        def initialize(self) -> None:
            self.changes = self.polls = 0
            self.task = Task(self, self._poll)
            self.task.reschedule()
            self.timer = Timer(self, self._change)
            self.timer.schedule_after(2)

        def _change(self) -> None:
            self.changes += 1
            if self.changes < 3:
                self.timer.schedule_after(2)

        def _poll(self) -> bool:
            self.polls += 1
            found = self.changes > len(seen)
            if found:
                seen.append(self.router.now())
            if len(seen) < 3:
                self.task.reschedule()
            return found

    router = Router(flat("p :: Poller"), simtime=True)
    router.configure()
    router.run()
    assert seen == [2.0, 4.0, 6.0]
    assert TASK_BATCH == 128
    assert router.element("p").polls == 641
    assert router.stop_reason == "nothing left to run"


def test_an_unqueue_below_a_simple_queue_runs_in_simulated_time(capsys):
    # SimpleQueue has no notifier: the Unqueue polls it between TimedSource's
    # packets (at 0.25, 0.5 and 0.75 s), as in Click.
    assert cli_main(["--simtime", "-e", "TimedSource(0.25, LIMIT 3, STOP true) -> SimpleQueue "
                     "-> u :: Unqueue -> c :: Counter -> Discard", "-h", "c.count"]) == 0
    assert capsys.readouterr().out == "3\n"


@pytest.mark.parametrize("order", [("s :: Simulated", "t :: Tick(3600, 2)"),
                                   ("t :: Tick(3600, 2)", "s :: Simulated")])
def test_a_class_needing_simtime_switches_the_router_before_configure(order):
    router = Router(flat(*order))
    assert router.simtime
    router.configure()
    router.run()
    assert router.now() == 7200.0


def test_simtime_does_not_depend_on_declaration_order():
    errors = [config_error(Router(flat("l :: LiveOnly", "s :: Simulated")).configure),
              config_error(Router(flat("s :: Simulated", "l :: LiveOnly")).configure)]
    assert [e.messages for e in errors] == [
        ["conf.click:1: While configuring 'l :: LiveOnly': cannot run in simulated time"],
        ["conf.click:2: While configuring 'l :: LiveOnly': cannot run in simulated time"]]


def config_error(step) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        step()
    return info.value


def test_timer_reschedule_unschedule_and_expiry():
    seen = []

    class Juggler(Element):
        def initialize(self) -> None:
            self.a = Timer(self, lambda: seen.append(("a", self.router.now())))
            self.b = Timer(self, self.fire_b)
            self.a.schedule_at(5)
            self.b.schedule_after(2)
            assert self.a.scheduled and self.a.expiry == 5

        def fire_b(self) -> None:
            seen.append(("b", self.router.now()))
            self.a.unschedule()
            if self.router.now() < 6:
                self.b.reschedule_after(3)
            else:
                self.a.schedule_after(1)

    router = sim_router("j :: Juggler")
    router.run()
    assert seen == [("b", 2.0), ("b", 5.0), ("b", 8.0), ("a", 9.0)]
    assert not router.element("j").a.scheduled
    assert router.element("j").a.expiry == 9.0


def test_a_wait_too_short_for_the_clock_still_moves_it_on(capsys):
    # At a simulated date of 1e9 s, floats are 2^-23 s (119 ns) apart: 1e9 +
    # 1e-11 is 1e9 again, and a timer waiting that long fired at the same
    # time forever. It now fires at the next float, 1e9 + 2^-23.
    fired = []

    class Waiter(Element):
        def initialize(self) -> None:
            self.t = Timer(self, lambda: fired.append(self.router.now()))
            self.t.schedule_after(1e-11)

    router = Router(flat("w :: Waiter"), simtime=True, simtime_start=1e9)
    router.configure()
    router.run()
    assert fired == [1e9 + 2 ** -23]
    # RatedSource at that date: its bucket waits for fractions of a token.
    from pyclick.cli import main
    assert main(["--simtime=1000000000", "-e", "RatedSource(RATE 1000, LIMIT 20, STOP true) "
                 "-> c :: Counter -> Discard", "-h", "c.count"]) == 0
    assert capsys.readouterr().out == "20\n"


def test_a_periodic_timer_does_not_drift():
    # 6,000 periods of 10 ms: the k-th expiry is the float nearest to k/100,
    # where adding 0.01 again and again is off from the sixth on (picoseconds
    # by the 4,810th, enough to fall before a 1 ms boundary).
    seen = []

    class Metronome(Element):
        def initialize(self) -> None:
            self.timer = Timer(self, self.fire)
            self.timer.schedule_at(0.01)

        def fire(self) -> None:
            seen.append(self.router.now())
            if len(seen) < 6000:
                self.timer.reschedule_after(0.01)

    sim_router("m :: Metronome").run()
    assert len(seen) == 6000
    assert [k for k, t in enumerate(seen, 1) if t != k / 100] == []


def test_a_periodic_timer_far_behind_starts_again_from_now():
    # "a" last expired at 1 s; rescheduled by 1 s at 10 s, it would be due
    # at 2 s, more than 2 s behind: it is due at 10 s instead (then 11 s).
    # "b" last expired at 9 s: 9.5 s is within 2 s, so it keeps its phase:
    # it fires at once (10 s, before "a": due earlier), then at 10.5 s.
    # Each reschedules while fewer than five expiries were seen.
    seen = []

    class Laggard(Element):
        def initialize(self) -> None:
            self.a = Timer(self, lambda: self.fired("a", self.a))
            self.b = Timer(self, lambda: self.fired("b", self.b))
            self.wake = Timer(self, self.catch_up)
            self.a.schedule_at(1)
            self.b.schedule_at(9)
            self.wake.schedule_at(10)

        def fired(self, name: str, timer: Timer) -> None:
            seen.append((name, self.router.now()))
            if self.router.now() >= 10 and len(seen) < 5:
                timer.reschedule_after(1)

        def catch_up(self) -> None:
            self.a.reschedule_after(1)
            self.b.reschedule_after(0.5)

    sim_router("l :: Laggard").run()
    assert seen == [("a", 1.0), ("b", 9.0), ("b", 10.0), ("a", 10.0), ("b", 10.5), ("a", 11.0)]


def test_timers_and_tasks_need_a_started_router():
    router = Router(flat("a :: LifeStep"))
    message = "timers and tasks can only be scheduled from initialize\\(\\) on"
    with pytest.raises(RuntimeError, match=message):
        Timer(router.element("a"), lambda: None).schedule_after(1)
    with pytest.raises(RuntimeError, match=message):
        Task(router.element("a"), lambda: True).reschedule()
    # Cancelling what was never scheduled is harmless.
    Timer(router.element("a"), lambda: None).unschedule()


# --- the runtime without a router

def test_timers_and_tasks_run_for_any_host_and_owner():
    clock = SimClock()
    host = FakeHost(clock)
    handle = SchedulingHandle(host.now)
    owner = FakeOwner("o", handle)
    seen = []
    timer = Timer(owner, lambda: seen.append(("timer", clock.now())))
    task = Task(owner, lambda: seen.append(("task", clock.now())) or True)
    failing = Timer(owner, lambda: 1 / 0)
    handle.bind(host.scheduler)
    timer.schedule_at(2.5)
    failing.schedule_at(4)
    task.reschedule()
    host.scheduler.run()
    assert seen == [("task", 0.0), ("timer", 2.5)]
    assert host.failures == [("o", "timer", "division by zero")]
    assert host.stops == ["nothing left to run"]


def test_a_task_scheduled_first_runs_before_the_rest_of_the_round():
    # a, b and c are pending. a's first run reschedules itself and c (not run
    # yet: it keeps its place in the round, once) and schedules s first.
    # s runs next, then b and c, the rest of the round in order, then a.
    clock = SimClock()
    host = FakeHost(clock)
    handle = bound_scheduling(host)
    owner = FakeOwner("o", handle)
    seen: list[str] = []
    tasks: dict[str, Task] = {}

    def run_a() -> bool:
        seen.append("a")
        if seen.count("a") == 1:
            tasks["a"].reschedule()
            tasks["c"].reschedule()
            tasks["s"].reschedule_first()
        return True

    tasks["a"] = Task(owner, run_a)
    for name in "bcs":
        tasks[name] = Task(owner, lambda name=name: seen.append(name) or True)
    for name in "abc":
        tasks[name].reschedule()
    host.scheduler.run()
    assert seen == ["a", "s", "b", "c", "a"]


def test_clocks_map_router_time_to_dates():
    import time
    from pyclick.runtime.clock import RealClock
    real = RealClock()
    now = real.now()
    assert abs(real.to_epoch(now) - time.time()) < 1
    assert real.from_epoch(real.to_epoch(now)) == pytest.approx(now, abs=1e-6)
    # 0 is a packet's unset timestamp, either way.
    assert (real.to_epoch(0.0), real.from_epoch(0.0)) == (0.0, 0.0)
    # Simulated time is its own calendar.
    sim = SimClock(5.0)
    assert (sim.to_epoch(7.5), sim.from_epoch(7.5)) == (7.5, 7.5)


def test_a_warped_clock_runs_faster_or_slower_than_real_time(monkeypatch):
    import types
    from pyclick.runtime import clock as clock_module
    real = types.SimpleNamespace(now=100.0)
    monkeypatch.setattr(clock_module, "time", types.SimpleNamespace(
        monotonic=lambda: real.now, time=lambda: real.now + 1000.0))
    clock = clock_module.RealClock()
    assert (clock.now(), clock.warp_text(), clock.real_delay(3.0)) == (100.0, "1", 3.0)
    clock.set_warp("2")
    real.now = 101.0
    # Twice as fast from the moment of the change: 1 real second is 2.
    assert (clock.now(), clock.warp_text(), clock.real_delay(3.0)) == (102.0, "2", 1.5)
    clock.set_warp(" 0.25 ")
    real.now = 105.0
    assert (clock.now(), clock.warp_text()) == (103.0, "0.25")
    clock.set_warp("nowait")
    assert clock.warp_text() == "nowait"
    clock.skip_to(110.0)
    assert clock.now() == 110.0
    clock.skip_to(50.0)
    assert clock.now() == 110.0
    clock.set_warp("1")
    real.now = 106.0
    assert (clock.now(), clock.warp_text()) == (111.0, "1")
    for text, message in [("0", "timefactor must be > 0"), ("-2", "timefactor must be > 0"),
                          ("inf", "timefactor must be > 0"), ("fast", "expected double")]:
        with pytest.raises(ValueError, match=message):
            clock.set_warp(text)
    assert clock.warp_text() == "1"


# --- configure and initialize order

def test_configure_and_initialize_follow_configure_phases():
    router = sim_router("a :: LastUses", "b :: LifeStep", "c :: InfoUses", "d :: FirstUses",
                        "e :: LifeStep")
    router.initialize()
    router.cleanup()
    assert EVENTS == [("d", "configure"), ("c", "configure"), ("b", "configure"),
                      ("e", "configure"), ("a", "configure"),
                      ("d", "initialize"), ("c", "initialize"), ("b", "initialize"),
                      ("e", "initialize"), ("a", "initialize"),
                      ("a", "cleanup"), ("e", "cleanup"), ("b", "cleanup"), ("c", "cleanup"),
                      ("d", "cleanup")]


def test_named_elements_initialize_first():
    # The README's shape: a balancer naming its device and counter, declared
    # before them, pinned by a thread scheduler (Click's INFO phase) that names it.
    router = sim_router("db :: Uses(fd, xdp)", "sts :: InfoUses(db)", "fd :: Uses",
                        "xdp :: Uses(fd)", "m :: InfoUses")
    # Configure: phase INFO first (sts, m), then the rest in declaration order.
    assert [e for e in EVENTS] == [("sts", "configure"), ("m", "configure"),
                                   ("db", "configure"), ("fd", "configure"),
                                   ("xdp", "configure")]
    EVENTS.clear()
    router.initialize()
    router.cleanup()
    # m and fd name nothing: m goes first by its phase. fd frees xdp, fd and
    # xdp free db, and db frees sts.
    assert [name for name, step in EVENTS if step == "initialize"] == \
        ["m", "fd", "xdp", "db", "sts"]
    assert [name for name, step in EVENTS if step == "cleanup"] == \
        ["sts", "db", "xdp", "fd", "m"]


def test_a_reference_cycle_falls_back_to_phase_and_index():
    # a and b name each other (a cycle), a also names x; y names b and itself.
    router = sim_router("a :: Uses(b, x)", "b :: Uses(a)", "x :: Uses", "c :: FirstUses",
                        "y :: Uses(b, y)")
    router.initialize()
    router.cleanup()
    # c (phase FIRST) first; the cycle {a, b} waits for x, then goes in index
    # order; y waits for the cycle.
    assert [name for name, step in EVENTS if step == "initialize"] == ["c", "x", "a", "b", "y"]
    assert [name for name, step in EVENTS if step == "cleanup"] == ["y", "b", "a", "x", "c"]


def test_a_failed_initialize_cleans_up_in_reverse_of_the_derived_order():
    router = sim_router("a :: Uses(b)", "b :: LifeStep", "x :: Uses(a, FAIL_INIT true)",
                        "c :: LifeStep")
    with pytest.raises(ConfigError, match="conf.click:3: While initializing 'x :: Uses'"):
        router.initialize()
    assert [e for e in EVENTS if e[1] != "configure"] == [
        ("b", "initialize"), ("a", "initialize"), ("a", "cleanup"), ("b", "cleanup")]


def test_click_phase_order_by_hand():
    # Fewer than seven: insertion sort, declaration order kept within a phase.
    assert click_phase_order([100, 20, 100, 20, 100, 0]) == [5, 1, 3, 0, 2, 4]
    # Seven of one phase: the middle one (3) is the pivot, moved to the front
    # in its place's exchange with 0; all compare equal, nothing else moves.
    assert click_phase_order([100] * 7) == [3, 1, 2, 0, 4, 5, 6]
    # Eight: the pivot is the median of the first, middle and last, which
    # for equal phases is the first: the order stays.
    assert click_phase_order([100] * 8) == list(range(8))
    # Seven with one later phase at the end: the same pivot; the last one is
    # above it and stays last.
    assert click_phase_order([100] * 6 + [2000]) == [3, 1, 2, 0, 4, 5, 6]
    # Seven, the lowest phase at the pivot's place: 3 goes first; the six
    # others, all above it, are sorted by insertion, which keeps them as the
    # exchange left them: 1, 2, 0, 4, 5, 6.
    assert click_phase_order([100, 100, 100, 0, 100, 100, 100]) == [3, 1, 2, 0, 4, 5, 6]


def test_a_driver_manager_sees_the_second_source_one_packet_ahead_as_click_does(capsys):
    # Seven elements of one phase: Click initializes b's source first, so b
    # has sent its sixth packet when a's sixth run asks to stop.
    config = ("a :: InfiniteSource(LIMIT 5, STOP true) -> c :: Counter -> Discard; "
              "b :: InfiniteSource(LIMIT 7) -> d :: Counter -> Discard; "
              "DriverManager(wait_stop, print \"$(c.count) $(d.count)\", stop)")
    assert cli_main(["-e", config]) == 0
    assert capsys.readouterr().out == "5 6\n"


def test_dependency_order_by_hand():
    # 0 <- 1 <- 2 form a chain declared backwards; 3 and 4 form a cycle that
    # also needs 5; 6 has the least key and needs nothing.
    keys = {0: (100, 0), 1: (100, 1), 2: (100, 2), 3: (100, 3), 4: (100, 4), 5: (100, 5),
            6: (0, 6)}
    depends_on = {0: [1], 1: [2], 3: [4, 5], 4: [3], 9: [0]}
    assert dependency_order(list(keys), keys, depends_on) == [6, 2, 1, 0, 5, 3, 4]


def test_dependency_order_of_a_long_chain_needs_no_recursion():
    n = 5000
    keys = {i: (100, i) for i in range(n)}
    depends_on = {i: [i + 1] for i in range(n - 1)}
    depends_on[n - 1] = [0]          # one cycle through every node: index order
    assert dependency_order(list(keys), keys, depends_on) == list(range(n))
    del depends_on[n - 1]            # a chain: the last first
    assert dependency_order(list(keys), keys, depends_on) == list(range(n - 1, -1, -1))


# --- handlers

def test_default_element_handlers():
    router = Router(flat("a :: Pipe", "k :: Knob(hello)", connections=(("a", 0, "a", 0),)))
    router.configure()
    h = router.handlers
    assert h.read("k.name") == "k"
    assert h.read("k.class") == "Knob"
    assert h.read("k.config") == "hello"
    # Click's words: push ports (an Element is push unless it says otherwise),
    # no packet count (-), the other end of each connection.
    assert h.read("a.ports") == "1 input\npush\t-\ta [0]\n1 output\npush\t-\t[0] a\n"
    listing = h.read("k.handlers").splitlines()
    assert "value\trw" in listing and "reset\tw" in listing and "name\tr" in listing


def test_element_read_write_handlers_and_params():
    router = Router(flat("k :: Knob(hello)"))
    router.configure()
    router.handlers.write("k.value", "changed")
    assert router.handlers.read("k.value") == "changed"
    assert router.handlers.read("k.echo", "abc") == "ABC"
    router.handlers.check("k.value", write=True)


def test_global_handlers():
    router = Router(flat("a :: LifeStep", "k :: Knob"), source="a :: LifeStep; k :: Knob;")
    router.configure()
    h = router.handlers
    import pyclick
    assert h.read("version") == pyclick.__version__
    assert h.read(".version") == pyclick.__version__
    # Every line ended, as Click's list, classes and requirements are.
    assert h.read("list") == "2\na\nk\n"
    assert h.read("classes").endswith("\n") and h.read("requirements") == ""
    # Every class the router can make, as Click's: not only those it uses.
    classes = h.read("classes").splitlines()
    assert {"Knob", "LifeStep", "Counter", "Queue", "Pipe"} <= set(classes)
    assert classes == sorted(classes)
    assert h.read("config") == "a :: LifeStep; k :: Knob;"
    assert h.read("timewarp") == "1"
    h.write("timewarp", "1.5")
    assert h.read("timewarp") == "1.5"
    h.write("stop", "")
    assert router.stopped


def test_compact_config_makes_the_config_handler_answer_the_flat_configuration():
    from pyclick.lang import flatten
    text = "require(compact_config)\nelementclass W { input -> s :: LifeStep }\n" \
           "k :: Knob; a :: LifeStep -> w :: W"
    router = Router(flatten(text, "t.click"), source=text)
    router.configure()
    # The text as written is not kept: both handlers answer the flat form.
    flat_text = ("require(compact_config);\n\nk :: Knob;\na :: LifeStep;\nw/s :: LifeStep;\n\n"
                 "a -> w/s;\n")
    assert router.handlers.read("config") == router.handlers.read("flatconfig") == flat_text
    kept = Router(flatten("k :: Knob", "t.click"), source="k :: Knob")
    kept.configure()
    assert kept.handlers.read("config") == "k :: Knob"


def test_simulated_time_has_a_timewarp_that_cannot_be_written():
    router = sim_router("k :: Knob")
    assert router.handlers.read("timewarp") == "simulation"
    with pytest.raises(HandlerError) as info:
        router.handlers.write("timewarp", "2")
    assert info.value.code == 530


# Click's ControlSocket codes and words (None: the handler's own message).
@pytest.mark.parametrize("call, code, message", [
    (lambda h: h.read("nosuch.value"), 510, "No element named 'nosuch'"),
    (lambda h: h.read("k.nosuch"), 511, "No handler named 'k.nosuch'"),
    (lambda h: h.read("nosuch"), 511, "No handler named 'nosuch'"),
    (lambda h: h.write("k.value", "bad"), 520, None),
    (lambda h: h.read("k.value", "param"), 520,
     "read handler 'k.value' does not take parameters"),
    (lambda h: h.write("k.name", "x"), 530, "Handler 'k.name' read-only"),
    (lambda h: h.read("k.reset"), 530, "Handler 'k.reset' write-only"),
    # Checking a handler for the other direction is 511, as Click's CHECKWRITE answers.
    (lambda h: h.check("k.class", write=True), 511, "Handler 'k.class' not writable"),
    (lambda h: h.check("k.reset", write=False), 511, "Handler 'k.reset' not readable"),
])
def test_handler_errors_carry_controlsocket_codes_and_words(call, code, message):
    router = Router(flat("k :: Knob"))
    router.configure()
    with pytest.raises(HandlerError) as info:
        call(router.handlers)
    assert info.value.code == code
    assert message is None or info.value.message == message


def test_added_handlers():
    router = Router(flat("k :: Knob"))
    router.configure()
    store = {}
    k = router.element("k")
    router.handlers.add_read(k, "extra", lambda: "x")
    router.handlers.add_write(k, "extra", lambda v: store.update(v=v))
    router.handlers.write("k.extra", "42")
    assert router.handlers.read("k.extra") == "x" and store == {"v": "42"}
