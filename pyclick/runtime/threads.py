"""Real-time scheduling: worker threads, each optionally pinned to one CPU.

Every element has a home thread (``element.home_thread``, an index into the
scheduler's workers). Its timers, tasks and handler calls run there. A
pinned worker calls ``os.sched_setaffinity(0, {cpu})`` from inside itself,
which on Linux pins just that thread.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Callable

from pyclick.runtime.calls import Call
from pyclick.runtime.clock import RealClock
from pyclick.runtime.tasks import Task, TaskQueue
from pyclick.runtime.timers import Timer, TimerHeap

if TYPE_CHECKING:
    from pyclick.element import Element
    from pyclick.router import Router

_log = logging.getLogger("pyclick.threads")


def run_guarded(router: "Router", element: "Element", what: str,
                callback: Callable[[], Any]) -> Any:
    """Run an element's timer or task callback; a failure stops the router."""
    try:
        return callback()
    except Exception as err:
        router.element_failed(element, what, err)
        return False


class WorkerThread:
    """One thread running the timers, tasks and handler calls of its elements."""

    def __init__(self, scheduler: "RealtimeScheduler", index: int, cpu: int | None) -> None:
        self.scheduler = scheduler
        self.index = index
        #: The CPU this thread is pinned to; None when it may run anywhere.
        self.cpu = cpu
        self.cond = threading.Condition()
        self.timers = TimerHeap()
        self.tasks = TaskQueue()
        self.calls: deque[Call] = deque()
        #: Seconds spent in timers and in task runs that did work.
        self.busy_seconds = 0.0
        #: The kernel thread id, once the thread runs.
        self.native_id: int | None = None
        self.accepting = False
        self.thread = threading.Thread(target=self._main, name=f"pyclick-worker-{index}",
                                       daemon=True)


    def post(self, call: Call) -> bool:
        """Queue a call for this thread; False when the thread no longer runs."""
        with self.cond:
            if not self.accepting:
                return False
            self.calls.append(call)
            self.cond.notify()
        return True

    def wait_for(self, call: Call) -> None:
        """Wait for a call posted elsewhere while still serving calls posted here."""
        while True:
            with self.cond:
                while not call.done and not self.calls:
                    self.cond.wait()
                mine = self._take_calls()
            for own in mine:
                own.run()
            if call.done:
                return

    def _take_calls(self) -> list[Call]:
        calls = list(self.calls)
        self.calls.clear()
        return calls

    def _main(self) -> None:
        self.native_id = threading.get_native_id()
        if self.cpu is not None:
            os.sched_setaffinity(0, {self.cpu})
        try:
            self._loop()
        finally:
            with self.cond:
                self.accepting = False
                leftover = self._take_calls()
            for call in leftover:
                call.run()

    def _loop(self) -> None:
        scheduler = self.scheduler
        clock = scheduler.clock
        router = scheduler.router
        while not scheduler.stopping:
            with self.cond:
                calls = self._take_calls()
            for call in calls:
                call.run()
            worked = bool(calls)
            now = clock.now()
            while not scheduler.stopping:
                with self.cond:
                    timer = self.timers.pop_due(now)
                if timer is None:
                    break
                start = time.perf_counter()
                run_guarded(router, timer.element, "timer", timer.callback)
                self.busy_seconds += time.perf_counter() - start
                worked = True
            with self.cond:
                tasks = self.tasks.take_round()
            for task in tasks:
                if scheduler.stopping:
                    break
                start = time.perf_counter()
                if run_guarded(router, task.element, "task", task.callback):
                    self.busy_seconds += time.perf_counter() - start
                worked = True
            if not worked:
                self._sleep(clock.now())

    def _sleep(self, now: float) -> None:
        with self.cond:
            if self.calls or self.tasks or self.scheduler.stopping:
                return
            expiry = self.timers.next_expiry()
            if expiry is None or expiry > now:
                self.cond.wait(None if expiry is None else expiry - now)


class RealtimeScheduler:
    """Runs the router on worker threads in real time until stopped."""

    def __init__(self, router: "Router", cpus: list[int | None]) -> None:
        self.router = router
        self.clock = RealClock()
        self.stopping = False
        self.workers = [WorkerThread(self, i, cpu) for i, cpu in enumerate(cpus)]

    def now(self) -> float:
        return self.clock.now()

    # --- timers and tasks
    def add_timer(self, timer: Timer, t: float) -> None:
        worker = self._home(timer.element)
        with worker.cond:
            worker.timers.push(timer, t)
            worker.cond.notify()

    def remove_timer(self, timer: Timer) -> None:
        worker = self._home(timer.element)
        with worker.cond:
            worker.timers.remove(timer)

    def add_task(self, task: Task) -> None:
        worker = self._home(task.element)
        with worker.cond:
            worker.tasks.push(task)
            worker.cond.notify()

    def remove_task(self, task: Task) -> None:
        worker = self._home(task.element)
        with worker.cond:
            worker.tasks.remove(task)

    # --- calls on an element's thread
    def call(self, element: "Element", fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on ``element``'s home thread and return its result."""
        home = self._home(element)
        current = self._current_worker()
        if current is home:
            return fn()
        call = Call(fn, current.cond if current else None)
        if not home.post(call):
            return fn()
        if current is not None:
            current.wait_for(call)
        else:
            call.wait()
        return call.outcome()

    # --- lifecycle
    def run(self) -> None:
        """Start the workers and return once the router is asked to stop."""
        # Every worker accepts calls before any runs: the first timers may
        # already call handlers of elements on threads not started yet.
        for worker in self.workers:
            worker.accepting = True
        for worker in self.workers:
            worker.thread.start()
        self.router.wait_for_stop()

    def stop(self) -> None:
        self.stopping = True
        for worker in self.workers:
            with worker.cond:
                worker.cond.notify_all()

    def join(self, timeout: float) -> None:
        """Wait for the workers to finish; a worker stuck in a callback is reported."""
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            if worker.thread.is_alive():
                worker.thread.join(max(0.0, deadline - time.monotonic()))
            if worker.thread.is_alive():
                _log.warning("worker thread %d did not stop within %.0f s; cleaning up anyway",
                             worker.index, timeout)

    def _home(self, element: "Element") -> WorkerThread:
        return self.workers[element.home_thread]

    def _current_worker(self) -> WorkerThread | None:
        me = threading.current_thread()
        return next((w for w in self.workers if w.thread is me), None)
