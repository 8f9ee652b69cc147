"""Real-time scheduling: worker threads, each optionally pinned to one CPU.

Every owner of timers and tasks (an element) has a home thread
(``owner.home_thread``, an index into the scheduler's workers). Its timers,
tasks and handler calls run there. A pinned worker calls
``os.sched_setaffinity(0, {cpu})`` from inside itself, which on Linux pins
just that thread. The scheduler serves a :class:`~pyclick.runtime.host.Host`:
it waits on the host until stopped and reports failing callbacks to it.

A worker never dies silently: whatever a callback raises, BaseException
included (``SystemExit``, ``KeyboardInterrupt``), is reported to the host,
which stops the router with status 1; a failure of the loop itself is
logged, stops the host and marks the scheduler :attr:`failed`. After the
router stopped, a call to an element whose thread is stuck in a callback
gives up after :data:`STOPPED_CALL_TIMEOUT` seconds (:class:`CallTimedOut`)
instead of waiting forever.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from typing import Any, Callable

from pyclick.runtime.calls import Call, CallTimedOut
from pyclick.runtime.clock import RealClock
from pyclick.runtime.host import Host, Owner
from pyclick.runtime.stopsignals import Interrupted
from pyclick.runtime.tasks import TASK_BATCH, Task, TaskQueue
from pyclick.runtime.timers import Timer, TimerHeap

#: Longest a worker sleeps at once: a timer due in 1e300 s must not make
#: the wait overflow (waits are bounded by threading.TIMEOUT_MAX).
MAX_SLEEP = 60.0
#: Longest a batch of task runs goes on, in seconds, before its thread looks
#: at its timers and calls again (besides TASK_BATCH runs, Click's bound: a
#: run here takes up to hundreds of µs, where Click's takes a few).
BATCH_SECONDS = 0.001
#: How long a call waits for a thread still stuck in a callback once the
#: router has stopped (a handler read at exit, for instance).
STOPPED_CALL_TIMEOUT = 2.0
# How often a caller waiting for a call looks whether the router stopped.
_WAIT_SLICE = 0.1

_log = logging.getLogger("pyclick.threads")


def run_guarded(host: Host, owner: Owner, what: str, callback: Callable[[], Any]) -> Any:
    """Run an owner's timer or task callback; any failure is reported to the host."""
    try:
        return callback()
    except Interrupted:
        raise  # a stop signal on the main thread, not a failure of the callback
    except BaseException as err:  # SystemExit or KeyboardInterrupt too: never lose a thread
        host.element_failed(owner, what, err)
        return False


class WorkerThread:
    """One thread running the timers, tasks and handler calls of its elements."""

    def __init__(self, scheduler: "RealtimeScheduler", index: int, cpu: int | None) -> None:
        self.scheduler = scheduler
        self.index = index
        #: The CPU this thread is pinned to; None when it may run anywhere.
        self.cpu = cpu
        # The condition's lock taken on its own where no wait follows (a
        # task's run): a lock enters and exits faster than a condition.
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.timers = TimerHeap()
        self.tasks = TaskQueue()
        self.calls: deque[Call] = deque()
        #: Seconds spent in timers and in task runs that did work.
        self.busy_seconds = 0.0
        #: The kernel thread id, once the thread runs.
        self.native_id: int | None = None
        self.accepting = False
        #: Set when the thread did not stop in time: it is stuck in a callback.
        self.stuck = False
        #: Whether the thread waits in ``_sleep`` for something to do: a task or
        #: timer scheduled on a busy thread wakes nobody (a notify with nobody
        #: waiting costs about 130 ns, at every run of a task that reschedules).
        self.sleeping = False
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
        try:
            if self.cpu is not None:
                os.sched_setaffinity(0, {self.cpu})
            self._loop()
        except BaseException as err:  # a failure of the loop itself, not of a callback
            self.scheduler.thread_failed(self, err)
        finally:
            with self.cond:
                self.accepting = False
                leftover = self._take_calls()
            for call in leftover:
                call.run()

    def _loop(self) -> None:
        scheduler = self.scheduler
        clock = scheduler.clock
        host = scheduler.host
        # The last run of a batch, finished as the next batch starts (one lock
        # less per batch).
        last: tuple[Task, bool] | None = None
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
                run_guarded(host, timer.owner, "timer", timer.callback)
                self.busy_seconds += time.perf_counter() - start
                worked = True
            # Lowest pass first (see pyclick.runtime.tasks; a stop event comes
            # first), until the tasks run out, an idle one is alone, or the
            # batch is full. The lock is taken and given back by its methods:
            # half the time of ``with``, at every run.
            lock = self.lock
            lock.acquire()
            try:
                task = self.tasks.start_batch(last)
            finally:
                lock.release()
            last = None
            runs = 0
            ends = time.perf_counter() + BATCH_SECONDS
            while task is not None:
                start = time.perf_counter()
                did = bool(run_guarded(host, task.owner, "task", task.callback))
                end = time.perf_counter()
                if did:
                    self.busy_seconds += end - start
                worked = True
                runs += 1
                if runs == TASK_BATCH or end >= ends or scheduler.stopping:
                    last = (task, did)
                    break
                lock.acquire()
                try:
                    task = self.tasks.next_in_batch(task, did)
                finally:
                    lock.release()
            if not worked:
                self._sleep(clock.now())

    def _sleep(self, now: float) -> None:
        with self.cond:
            if self.calls or self.tasks or self.scheduler.stopping:
                return
            expiry = self.timers.next_expiry()
            if expiry is None or expiry > now:
                if expiry is not None and self.scheduler.clock.nowait:
                    self.scheduler.clock.skip_to(expiry)
                    return
                self.sleeping = True
                try:
                    self.cond.wait(None if expiry is None else
                                   min(self.scheduler.clock.real_delay(expiry - now),
                                       MAX_SLEEP))
                finally:
                    self.sleeping = False


class RealtimeScheduler:
    """Runs timers, tasks and calls on worker threads in real time until stopped."""

    def __init__(self, host: Host, cpus: list[int | None], clock: RealClock | None = None) -> None:
        self.host = host
        # The host's own clock when it has one: a warp of it reaches the timers.
        self.clock = clock or RealClock()
        self.stopping = False
        #: True once a worker's loop failed (not a callback: those go to the host).
        self.failed = False
        self.workers = [WorkerThread(self, i, cpu) for i, cpu in enumerate(cpus)]

    def now(self) -> float:
        return self.clock.now()

    # --- timers and tasks
    def add_timer(self, timer: Timer, t: float) -> None:
        worker = self._home(timer.owner)
        with worker.cond:
            worker.timers.push(timer, t)
            # An awake worker reads its next expiry before it sleeps.
            if worker.sleeping:
                worker.cond.notify()

    def remove_timer(self, timer: Timer) -> None:
        worker = self._home(timer.owner)
        with worker.cond:
            worker.timers.remove(timer)

    def add_task(self, task: Task) -> None:
        worker = self._home(task.owner)
        if task is worker.tasks.running and threading.get_ident() == worker.thread.ident:
            # Rescheduling itself in its run, on its own thread: the whole push
            # (see ``SimScheduler.add_task``), no lock.
            task.scheduled = True
            return
        # At every run of a busy task: the lock taken and given back by its
        # methods (see ``WorkerThread._loop``).
        worker.lock.acquire()
        try:
            worker.tasks.push(task)
            if worker.sleeping:
                worker.cond.notify()
        finally:
            worker.lock.release()

    def add_task_first(self, task: Task) -> None:
        worker = self._home(task.owner)
        with worker.cond:
            worker.tasks.push_first(task)
            worker.cond.notify()

    def remove_task(self, task: Task) -> None:
        worker = self._home(task.owner)
        with worker.cond:
            worker.tasks.remove(task)

    # --- calls on an owner's thread
    def call(self, owner: Owner, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on ``owner``'s home thread and return its result."""
        home = self._home(owner)
        current = self._current_worker()
        if current is home:
            return fn()
        if home.stuck:
            raise CallTimedOut(f"worker thread {home.index} is stuck in a timer or task")
        call = Call(fn, current.cond if current else None)
        if not home.post(call):
            return fn()
        if current is not None:
            current.wait_for(call)
        else:
            self._wait_outside(call, home)
        return call.outcome()

    def _wait_outside(self, call: Call, home: WorkerThread) -> None:
        """Wait for ``call`` from a thread that is no worker; bounded once stopping."""
        deadline: float | None = None
        while not call.wait(_WAIT_SLICE):
            if not self.stopping:
                continue
            now = time.monotonic()
            if deadline is None:
                deadline = now + STOPPED_CALL_TIMEOUT
            elif now >= deadline:
                raise CallTimedOut(f"worker thread {home.index} did not answer within "
                                   f"{STOPPED_CALL_TIMEOUT:g} s after the router stopped "
                                   "(stuck in a timer or task)")

    # --- lifecycle
    def run(self) -> None:
        """Start the workers and return once the host is asked to stop."""
        # Every worker accepts calls before any runs: the first timers may
        # already call handlers of elements on threads not started yet.
        for worker in self.workers:
            worker.accepting = True
        for worker in self.workers:
            worker.thread.start()
        self.host.wait_for_stop()

    def thread_failed(self, worker: WorkerThread, err: BaseException) -> None:
        """A worker's loop failed: report it and stop everything."""
        self.failed = True
        _log.critical("worker thread %d failed: %s: %s", worker.index, type(err).__name__, err,
                      exc_info=_log.isEnabledFor(logging.DEBUG) and err)
        self.host.stop(f"worker thread {worker.index} failed")

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
                worker.stuck = True
                _log.warning("worker thread %d did not stop within %g s; cleaning up anyway",
                             worker.index, timeout)

    def _home(self, owner: Owner) -> WorkerThread:
        return self.workers[owner.home_thread]

    def _current_worker(self) -> WorkerThread | None:
        me = threading.current_thread()
        return next((w for w in self.workers if w.thread is me), None)
