"""Simulated time: a discrete-event loop on one thread.

As Click's driver, the loop runs tasks in batches of up to TASK_BATCH runs
and looks at the timers between batches: it fires the timers due at the
current simulated time one by one (by expiry, then the order they were
first scheduled), running the tasks each wakes before the next; when
nothing is due it jumps the clock to the next expiry. It jumps too once a
batch of task runs did no work and woke no other task: tasks polling what
only a timer can change (an Unqueue below a SimpleQueue, which has no
notifier) would otherwise hold the clock for ever, where Click's simulated
clock, moving a nanosecond at every reading, reaches the next expiry.
Nothing waits for real time, so a simulation runs as fast as its events
are handled, and the same configuration gives the same sequence of events
on every run. The loop ends when it is stopped or nothing is left to run
(then it stops its :class:`~pyclick.runtime.host.Host`).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Callable

from pyclick.runtime.calls import Call
from pyclick.runtime.clock import SimClock
from pyclick.runtime.host import Host, Owner
from pyclick.runtime.tasks import TASK_BATCH, Task, TaskQueue
from pyclick.runtime.threads import run_guarded
from pyclick.runtime.timers import Timer, TimerHeap

class SimScheduler:
    """Runs every owner's timers and tasks in simulated time on the calling thread."""

    def __init__(self, host: Host, clock: SimClock) -> None:
        self.host = host
        self.clock = clock
        self.stopping = False
        #: Never set: the loop's own failures reach the caller of run().
        self.failed = False
        self.timers = TimerHeap()
        self.tasks = TaskQueue()
        self.calls: deque[Call] = deque()
        # Timers may be scheduled and handlers called from other threads
        # (a control socket, for instance).
        self.lock = threading.Lock()
        # The identity of the thread running the loop (None when none is):
        # compared at every task scheduled (``add_task``) and every call.
        self._loop_ident: int | None = None

    def now(self) -> float:
        return self.clock.now()

    # --- timers and tasks
    def add_timer(self, timer: Timer, t: float) -> None:
        with self.lock:
            self.timers.push(timer, t)

    def remove_timer(self, timer: Timer) -> None:
        with self.lock:
            self.timers.remove(timer)

    def add_task(self, task: Task) -> None:
        if task is self.tasks.running and threading.get_ident() == self._loop_ident:
            # A task rescheduling itself in its run, on the loop's thread: it
            # keeps its place until its run ends, and only this thread ends
            # it, so marking it is the whole push and needs no lock.
            task.scheduled = True
            return
        # The lock taken and given back by its methods where a task's run
        # takes it (at each run): half the time of ``with`` on this path.
        self.lock.acquire()
        try:
            self.tasks.push(task)
        finally:
            self.lock.release()

    def add_task_first(self, task: Task) -> None:
        with self.lock:
            self.tasks.push_first(task)

    def remove_task(self, task: Task) -> None:
        with self.lock:
            self.tasks.remove(task)

    # --- calls
    def call(self, owner: Owner, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` between two events of the loop (directly when not running)."""
        if self._loop_ident in (None, threading.get_ident()):
            return fn()
        call = Call(fn)
        with self.lock:
            posted = self._loop_ident is not None
            if posted:
                self.calls.append(call)
        if not posted:
            return fn()
        call.wait()
        return call.outcome()

    # --- lifecycle
    def run(self) -> None:
        """Run events until stopped or nothing is left to do."""
        self._loop_ident = threading.get_ident()
        try:
            self._loop()
        finally:
            with self.lock:
                self._loop_ident = None
                leftover = self._take_calls()
            for call in leftover:
                call.run()

    def _loop(self) -> None:
        host, clock = self.host, self.clock
        ran = idle = 0
        # The last run of a batch, finished under the next lock taken (one lock
        # less per batch).
        last: tuple[Task, bool] | None = None
        while not self.stopping:
            with self.lock:
                calls = self._take_calls()
                # Click's simulated clock moves on a nanosecond at every
                # reading, so timers set "at the same time" by different
                # elements expire apart and the tasks one wakes run before
                # the next fires.
                if ran < TASK_BATCH:
                    task = self.tasks.start_batch(last)
                else:
                    if last is not None:
                        self.tasks.finish(*last)
                    task = None
                last = None
                timer = None
                if task is None:
                    ran = 0
                    timer = self.timers.pop_due(clock.now())
                    # A timer due now (a wait of 0) fires once the tasks have
                    # run out or run TASK_BATCH times. The clock jumps after
                    # TASK_BATCH runs in a row did no work, not after one: a
                    # run can change state without doing work (a notifier
                    # counts the failed pulls before it says its queue is
                    # empty).
                    if timer is None and not calls and (idle >= TASK_BATCH or not self.tasks):
                        timer = self._jump()
                    if timer is None:
                        task = self.tasks.start_batch(None)
            for call in calls:
                call.run()
            if timer is not None:
                run_guarded(host, timer.owner, "timer", timer.callback)
            had_tasks = task is not None
            worked = False
            # Lowest pass first (see pyclick.runtime.tasks), until the tasks
            # run out, an idle one is alone, or the batch is full. The tasks
            # that ran are kept while none did work: an idle batch is one of
            # them only.
            idled: list[Task] = []
            while task is not None and not self.stopping:
                ran += 1
                did = bool(run_guarded(host, task.owner, "task", task.callback))
                if did:
                    worked = True
                elif not worked:
                    idled.append(task)
                if ran >= TASK_BATCH:
                    last = (task, did)
                    break
                self.lock.acquire()
                try:
                    task = self.tasks.next_in_batch(task, did)
                finally:
                    self.lock.release()
            # A timer that fired (no tasks ran then) may have changed what the
            # tasks poll: they get a whole batch again.
            if idled and not worked:
                with self.lock:
                    if last is not None:
                        self.tasks.finish(*last)
                        last = None
                    idle = idle + len(idled) if self.tasks.pending_among(set(idled)) else 0
            else:
                idle = 0
            if timer is None and not had_tasks and not calls:
                host.stop("nothing left to run")

    def _jump(self) -> Timer | None:
        """The next timer to expire, the clock moved on to its expiry (None: no timer)."""
        expiry = self.timers.next_expiry()
        if expiry is None:
            return None
        self.clock.advance_to(expiry)
        return self.timers.pop_due(self.clock.now())

    def _take_calls(self) -> list[Call]:
        if not self.calls:
            return []
        calls = list(self.calls)
        self.calls.clear()
        return calls

    def stop(self) -> None:
        self.stopping = True

    def join(self, timeout: float) -> None:
        """Nothing to wait for: the loop ran on the caller's thread."""
