"""Real-time scheduling: pinned worker threads, cross-thread handlers, signals."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from pyclick.args import INT, STRING, Args
from pyclick.element import Element, read_handler
from pyclick.errors import Landmark
from pyclick.router import Router
from pyclick.runtime.placement import cpu_list, place
from pyclick.runtime.tasks import TASK_BATCH, Task
from pyclick.runtime.threads import BATCH_SECONDS
from pyclick.runtime.timers import Timer
from tests.helpers import (Declaration, FakeOwner, RealHost, bound_scheduling, config_error_of,
                           configured_router, flat_config)

CPUS = sorted(os.sched_getaffinity(0))


def allowed_cpus_of_this_thread() -> str:
    """What the kernel says this very thread may run on (Cpus_allowed_list)."""
    tid = threading.get_native_id()
    with open(f"/proc/self/task/{tid}/status") as status:
        for line in status:
            if line.startswith("Cpus_allowed_list:"):
                return line.split(":", 1)[1].strip()
    raise AssertionError("no Cpus_allowed_list")


class WhereAmI(Element):
    """WhereAmI(TICKS) -- records the CPUs its timer's thread may use"""

    def configure(self, args: Args) -> None:
        self.ticks = args.read_p("TICKS", INT, 3)
        args.complete()

    def initialize(self) -> None:
        self.seen: set[tuple[str, str]] = set()
        self.fired = 0
        self.timer = Timer(self, self.fire)
        self.timer.schedule_after(0.001)

    def fire(self) -> None:
        self.seen.add((allowed_cpus_of_this_thread(), threading.current_thread().name))
        self.fired += 1
        if self.fired < self.ticks:
            self.timer.reschedule_after(0.001)
        elif all(e.fired >= e.ticks for e in self.router.elements if isinstance(e, WhereAmI)):
            self.router.stop("all ticked")

    @read_handler("thread")
    def _thread(self) -> str:
        return threading.current_thread().name


class Caller(Element):
    """Caller(PEER, ROUNDS) -- its timer reads a handler of PEER, which does the same"""

    def configure(self, args: Args) -> None:
        self.peer = args.read_mp("PEER", STRING)
        self.rounds = args.read_p("ROUNDS", INT, 50)
        args.complete()

    def initialize(self) -> None:
        self.done = 0
        self.answers: set[str] = set()
        self.timer = Timer(self, self.fire)
        self.timer.schedule_after(0)

    def fire(self) -> None:
        self.answers.add(self.router.handlers.read(f"{self.peer}.thread"))
        self.done += 1
        if self.done < self.rounds:
            self.timer.schedule_after(0)
        elif all(e.done >= e.rounds for e in self.router.elements if isinstance(e, Caller)):
            self.router.stop("all called")

    @read_handler("thread")
    def _thread(self) -> str:
        return threading.current_thread().name


class SelfSignal(Element):
    """SelfSignal(SIGNAL) -- sends the process a signal from its timer"""

    def configure(self, args: Args) -> None:
        self.signum = getattr(signal, args.read_mp("SIGNAL", STRING))
        args.complete()

    def initialize(self) -> None:
        self.timer = Timer(self, lambda: os.kill(os.getpid(), self.signum))
        self.timer.schedule_after(0.01)


class Cleaned(Element):
    """Cleaned -- notes that cleanup ran"""

    log: list[str] = []

    def cleanup(self) -> None:
        Cleaned.log.append(self.name)


def router_for(*decls: Declaration, threads: int | None = None) -> Router:
    return configured_router(decls, at="threads.click", threads=threads)


@pytest.mark.skipif(len(CPUS) < 2, reason="needs two CPUs")
def test_timers_run_on_the_thread_pinned_to_their_cpu():
    first, second = CPUS[0], CPUS[1]
    router = router_for(("a", "WhereAmI", ""), ("b", "WhereAmI", ""), ("c", "WhereAmI", ""),
                        ("s", "StaticThreadSched", f"a {first}, b {second}"), threads=2)
    assert router.run() == 0
    a, b, c = (router.element(n) for n in "abc")
    assert router.cpu_of(a) == first and router.cpu_of(b) == second
    assert a.seen == {(str(first), f"pyclick-worker-{a.home_thread}")}
    assert b.seen == {(str(second), f"pyclick-worker-{b.home_thread}")}
    # Unassigned elements run on thread 0, which -j pins to the first CPU.
    assert c.home_thread == 0 and c.seen == {(str(CPUS[0]), "pyclick-worker-0")}


def test_default_layout_has_an_unpinned_thread_plus_one_per_named_cpu():
    last = CPUS[-1]
    router = router_for(("a", "WhereAmI", ""), ("b", "WhereAmI", ""),
                        ("s", "StaticThreadSched", f"b {last}"))
    assert router.thread_cpus == [None, last]
    assert router.run() == 0
    a, b = router.element("a"), router.element("b")
    assert router.cpu_of(a) == -1 and router.cpu_of(b) == last
    # The default thread keeps the process's CPUs, like the thread running this test.
    assert {allowed for allowed, _ in a.seen} == {allowed_cpus_of_this_thread()}
    assert {allowed for allowed, _ in b.seen} == {str(last)}


def test_missing_cpu_gets_a_warning_and_the_last_cpu():
    router = router_for(("a", "WhereAmI", "1"), ("s", "StaticThreadSched", "a 4095"))
    assert any("CPU 4095 does not exist" in w and f"runs on CPU {CPUS[-1]}" in w
               and w.startswith("threads.click:2:") for w in router.warnings)
    assert router.run() == 0
    assert router.element("a").seen == {(str(CPUS[-1]), "pyclick-worker-1")}


def test_static_thread_sched_argument_errors():
    router = Router(flat_config([("a", "WhereAmI", ""),
                                 ("s", "StaticThreadSched", "a x, nobody 1, a")], at="t.click"))
    assert config_error_of(router.configure).messages == [
        "t.click:2: While configuring 's :: StaticThreadSched': "
        "THREAD: expected unsigned integer, got 'x'",
        "t.click:2: While configuring 's :: StaticThreadSched': "
        "ELEMENT: no element named 'nobody'",
        "t.click:2: While configuring 's :: StaticThreadSched': "
        "expected 'ELEMENT THREAD', got 'a'",
    ]


def test_handlers_called_from_outside_run_on_the_home_thread():
    last = CPUS[-1]
    router = router_for(("a", "WhereAmI", "1000000"), ("s", "StaticThreadSched", f"a {last}"))
    answers = []
    runner = threading.Thread(target=lambda: answers.append(
        router.run(handle_signals=False)))
    runner.start()
    try:
        while router.scheduler is None or not router.scheduler.workers[1].thread.is_alive():
            threading.Event().wait(0.001)
        assert router.handlers.read("a.thread") == "pyclick-worker-1"
    finally:
        router.stop("test over")
        runner.join(10)
    assert answers == [0]
    # Stopped: handlers now run in the caller's thread.
    assert router.handlers.read("a.thread") == threading.current_thread().name


@pytest.mark.skipif(len(CPUS) < 2, reason="needs two CPUs")
def test_workers_calling_each_others_handlers_do_not_deadlock():
    router = router_for(("x", "Caller", "y, 200"), ("y", "Caller", "x, 200"),
                        ("s", "StaticThreadSched", f"x {CPUS[0]}, y {CPUS[1]}"))
    finished = []
    runner = threading.Thread(target=lambda: finished.append(router.run(handle_signals=False)))
    runner.start()
    runner.join(20)
    if runner.is_alive():
        router.stop("deadlocked")
        runner.join(10)
    assert finished == [0] and router.stop_reason == "all called"
    x, y = router.element("x"), router.element("y")
    assert x.answers == {f"pyclick-worker-{y.home_thread}"}
    assert y.answers == {f"pyclick-worker-{x.home_thread}"}


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_signals_stop_the_router_and_clean_up(signame):
    Cleaned.log.clear()
    previous = signal.getsignal(getattr(signal, signame))
    router = router_for(("c1", "Cleaned", ""), ("k", "SelfSignal", signame),
                        ("c2", "Cleaned", ""))
    assert router.run() == 0
    assert router.stop_reason == f"received {signame}"
    assert Cleaned.log == ["c2", "c1"]
    assert signal.getsignal(getattr(signal, signame)) is previous


def test_realtime_timer_exception_stops_with_status_1():
    class Breaks(Element):
        def initialize(self) -> None:
            Timer(self, lambda: 1 / 0).schedule_after(0.001)

    Cleaned.log.clear()
    router = router_for(("c", "Cleaned", ""), ("b", "Breaks", ""))
    assert router.run() == 1
    assert router.stop_reason == "timer of 'b' failed"
    assert Cleaned.log == ["c"]


# --- placement, as a pure function

def test_placement_without_thread_count():
    warnings = []
    got = place({"a": (3, None), "b": (1, None), "c": (3, None)}, None, [0, 1, 2, 3],
                lambda m, l: warnings.append(m))
    assert got.thread_cpus == [None, 1, 3]
    assert got.home == {"a": 2, "b": 1, "c": 2}
    assert warnings == []


def test_placement_with_thread_count_and_missing_cpus():
    warnings = []
    here = Landmark("p.click", 4)
    got = place({"a": (1, here), "b": (7, here), "c": (2, here)}, 2, [0, 1, 2, 3, 5],
                lambda m, l: warnings.append((m, l)))
    assert got.thread_cpus == [0, 1]
    assert got.home == {"a": 1, "b": 1, "c": 1}
    assert warnings == [
        ("CPU 7 does not exist on this machine (CPUs 0-3,5); 'b' runs on CPU 5 instead", here),
        ("'b' is assigned to CPU 5, but the router has 2 threads; it runs on thread 1", here),
        ("'c' is assigned to CPU 2, but the router has 2 threads; it runs on thread 1", here),
    ]


def test_more_threads_than_cpus():
    warnings = []
    got = place({}, 3, [0, 1], lambda m, l: warnings.append(m))
    assert got.thread_cpus == [0, 1, 1]
    assert warnings == ["CPU 2 does not exist on this machine (CPUs 0-1); "
                        "thread 2 runs on CPU 1 instead"]


def test_cpu_list_format():
    assert cpu_list([0]) == "0"
    assert cpu_list([0, 1, 2, 4, 6, 7]) == "0-2,4,6-7"


def owner_on(host: RealHost, name: str) -> FakeOwner:
    return FakeOwner(name, bound_scheduling(host))


def test_a_timer_due_while_a_task_keeps_its_thread_busy_waits_one_batch_of_1_ms():
    # Each run takes twice BATCH_SECONDS, so a batch ends after one run; the
    # timer its first run sets fires after that run, not after TASK_BATCH.
    host = RealHost()
    owner = owner_on(host, "busy")
    runs: list[float] = []
    fired_after: list[int] = []

    def busy() -> bool:
        until = time.perf_counter() + 2 * BATCH_SECONDS
        while time.perf_counter() < until:
            pass
        runs.append(until)
        if len(runs) == 1:
            timer.schedule_after(0)
        if len(runs) < TASK_BATCH:
            task.reschedule()
        return True

    def fire() -> None:
        fired_after.append(len(runs))
        host.stop("fired")

    task, timer = Task(owner, busy), Timer(owner, fire)
    task.reschedule()
    host.scheduler.run()
    host.scheduler.join(5)
    assert host.failures == []
    assert fired_after == [1]


@pytest.mark.parametrize("what", ["task", "timer"])
def test_work_scheduled_from_another_thread_wakes_its_sleeping_worker(what):
    # With no timer the worker sleeps until woken; a task or timer scheduled
    # on a busy worker wakes nobody, on a sleeping one it must.
    host = RealHost()
    owner = owner_on(host, "woken")
    ran = threading.Event()
    task = Task(owner, lambda: ran.set() is None)
    timer = Timer(owner, ran.set)
    runner = threading.Thread(target=host.scheduler.run)
    runner.start()
    try:
        worker = host.scheduler.workers[0]
        deadline = time.monotonic() + 5
        while not worker.sleeping and time.monotonic() < deadline:
            time.sleep(0.001)
        assert worker.sleeping
        if what == "task":
            task.reschedule()
        else:
            timer.schedule_after(0)
        assert ran.wait(5)
    finally:
        host.stop()
        runner.join(5)
        host.scheduler.join(5)
    assert host.failures == []
