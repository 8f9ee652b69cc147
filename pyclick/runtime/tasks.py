"""Tasks: work an element asks to run as soon as its home thread is free.

A scheduled task runs once; its callback calls ``reschedule()`` to run
again (Click's model, so that an idle element costs nothing)::

    self.task = Task(self, self.run_task)
    self.task.reschedule()                  # from initialize() on

    def run_task(self) -> bool:
        sent = self.send_some()
        if sent:
            self.task.reschedule()
        return sent > 0                      # did useful work

The boolean tells the thread whether the run was useful; useful time is
what the thread's load (``WorkerThread.busy_seconds``) counts. Like a timer,
a task reaches its scheduler through its owner's scheduling handle
(:class:`~pyclick.runtime.host.Owner`).

Order: Click's stride scheduler. Each task holds tickets (DEFAULT_TICKETS,
or what ScheduleInfo or its ``tickets`` handler gives it) and a pass; the
pending task with the lowest pass runs next, the one scheduled first among
equal passes. A task scheduled anew gets the pass of the task at the head
(the one running, if any) plus its stride, STRIDE1 / tickets; a task that
runs and is rescheduled moves its own pass on by its stride. So a task with
twice the tickets runs twice as often, and tasks of equal tickets take
turns. A run that did no work moves its task behind the next one; alone, it
ends the thread's batch of task runs, so that the thread looks at its
timers.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections import deque
from typing import Callable

from pyclick.runtime.host import Owner
from pyclick.runtime.ticketbook import ONE

#: Tickets of a task no ScheduleInfo names (Click's ``Task::DEFAULT_TICKETS``):
#: a parameter of 1.
DEFAULT_TICKETS = ONE
#: Most tickets a task may hold.
MAX_TICKETS = 1 << 15
#: A task's stride is STRIDE1 divided by its tickets.
STRIDE1 = 1 << 16
#: Task runs in a batch, between two looks of a thread at its timers and at
#: the calls other threads hand it (Click's driver runs 128 per iteration).
TASK_BATCH = 128

_log = logging.getLogger("pyclick.tasks")


def pinned_tickets(tickets: int) -> int:
    """``tickets`` within what a task may hold, 1 .. MAX_TICKETS."""
    return min(max(tickets, 1), MAX_TICKETS)


class Task:
    """A task owned by ``owner``; ``callback() -> bool`` (did work)."""

    def __init__(self, owner: Owner, callback: Callable[[], bool]) -> None:
        self.owner = owner
        self.callback = callback
        self.scheduled = False
        self._generation = 0
        # Given by the owner's ScheduleInfo when first asked (after every
        # ScheduleInfo initialized): None until then.
        self._tickets: int | None = None
        self.stride = STRIDE1 // DEFAULT_TICKETS
        #: Where the task stands in its thread's stride schedule.
        self.pass_number = 0

    @property
    def tickets(self) -> int:
        """The task's tickets; 0 when ScheduleInfo gave its owner a parameter of 0,
        which keeps the task from ever running (as in Click)."""
        if self._tickets is None:
            granted = self.owner.scheduling.tickets.granted(self.owner.name)
            if granted > MAX_TICKETS:
                owner = self.owner
                _log.warning("%s: ScheduleInfo too high; reduced to %g", owner.name,
                             MAX_TICKETS / DEFAULT_TICKETS,
                             extra={"element": owner.name, "landmark": str(owner.landmark)})
            if granted:
                self.set_tickets(granted)
            else:
                self._tickets = 0
        return self._tickets

    def set_tickets(self, tickets: int) -> None:
        """Hold ``tickets`` from now on, pinned to 1 .. MAX_TICKETS."""
        self._tickets = pinned_tickets(tickets)
        self.stride = STRIDE1 // self._tickets

    def reschedule(self) -> None:
        """Run the callback once more, soon (no effect if already pending)."""
        self.owner.scheduling.active().add_task(self)

    def reschedule_first(self) -> None:
        """Run the callback before any other task of its thread (a driver stop
        event: Click looks at its stop flag before every task)."""
        self.owner.scheduling.active().add_task_first(self)

    def unschedule(self) -> None:
        """Cancel a pending run."""
        scheduler = self.owner.scheduling.scheduler
        if scheduler is not None:
            scheduler.remove_task(self)
        self.scheduled = False

    def __repr__(self) -> str:
        return f"<Task of {self.owner.name} {'scheduled' if self.scheduled else 'idle'}>"


class TaskQueue:
    """One thread's pending tasks in stride order (see the module docstring).
    Not thread safe: the owner locks.

    Entries are (pass, generation, task), sorted by pass, the later scheduled
    after the earlier among equal passes. A task moving on by its stride
    usually lands behind every other, so an entry is appended unless its pass
    says otherwise. Each carries the task's generation when it was pushed:
    removing or pushing a task again makes its older entries stale, so none
    is searched for.
    """

    def __init__(self) -> None:
        self._queue: deque[tuple[int, int, Task]] = deque()
        #: Entries to run before every other (``push_first``).
        self.first: list[tuple[int, Task]] = []
        #: The task taken by ``pop`` and not yet ``finish``ed.
        self.running: Task | None = None

    def push(self, task: Task) -> None:
        if task.scheduled:
            return
        # Through the property only until the book has answered.
        tickets = task._tickets
        if tickets is None:
            tickets = task.tickets
        if not tickets:
            return
        task.scheduled = True
        if task is self.running:
            # It keeps its place until its run ends (``finish``), as in Click.
            return
        # The thread's pass: the running task's, else the lowest pending one's, else 0.
        running = self.running
        if running is not None:
            head: int | None = running.pass_number
        else:
            head = self._valid_head()
        task.pass_number = (head or 0) + task.stride
        self._insert(task)

    def push_first(self, task: Task) -> None:
        """Schedule ``task`` ahead of every other."""
        if task.scheduled and self._first_holds(task):
            return
        task.scheduled = True
        task._generation += 1
        self.first.append((task._generation, task))

    def remove(self, task: Task) -> None:
        task._generation += 1
        task.scheduled = False

    def pop(self) -> Task | None:
        """The task to run next, marked unscheduled and running; None when none waits."""
        task = self._take_first() if self.first else None
        if task is None:
            queue = self._queue
            while queue:
                _, generation, candidate = queue.popleft()
                if generation == candidate._generation and candidate.scheduled:
                    task = candidate
                    break
        if task is not None:
            task.scheduled = False
            self.running = task
        return task

    def finish(self, task: Task, worked: bool) -> bool:
        """``task``'s run (from ``pop``) ended, having done work or not; False when
        the thread should end its batch of runs (an idle task alone)."""
        self.running = None
        if not task.scheduled or self.first and self._first_holds(task):
            return True
        task.pass_number += task.stride
        if worked:
            self._insert(task)
            return True
        # An idle run goes behind the next task, so that it does not run next.
        following = self._valid_head()
        if following is not None and following > task.pass_number:
            task.pass_number = following
        self._insert(task)
        return following is not None

    # A thread's loop runs a batch of tasks with these two (one call per run
    # rather than three: a run of a task that sends one packet is a few µs).
    def start_batch(self, last: tuple[Task, bool] | None) -> Task | None:
        """Finish ``last`` (the previous batch's last run: its task, whether it
        worked), if any; then the batch's first task (None when none waits)."""
        # An idle task alone ends a batch, not the next one: it starts it again.
        task = self.next_in_batch(*last) if last is not None else None
        return task if task is not None else self.pop()

    def next_in_batch(self, task: Task, worked: bool) -> Task | None:
        """Finish ``task``'s run and take the next task, unless it ends the batch."""
        if self._runs_again(task, worked):
            return task
        return self.pop() if self.finish(task, worked) else None

    def _runs_again(self, task: Task, worked: bool) -> bool:
        """Whether ``task``, busy, rescheduled and alone, runs again at once: its
        pass moves on as ``finish`` would move it, and no entry is made only to
        be taken (it stays the running task)."""
        if worked and task.scheduled and not self._queue and not self.first:
            task.pass_number += task.stride
            task.scheduled = False
            return True
        return False

    def pending(self) -> int:
        """How many tasks wait to run."""
        return sum(map(_pending_first, self.first)) + sum(map(_pending, self._queue))

    def __bool__(self) -> bool:
        return any(map(_pending_first, self.first)) or any(map(_pending, self._queue))

    def pending_among(self, tasks: set[Task]) -> bool:
        """Whether every pending task is one of ``tasks``."""
        return (all(entry[1] in tasks for entry in self.first if _pending_first(entry))
                and all(entry[2] in tasks for entry in self._queue if _pending(entry)))

    def _insert(self, task: Task) -> None:
        task._generation += 1
        entry = (task.pass_number, task._generation, task)
        queue = self._queue
        if not queue or queue[-1][0] <= entry[0]:
            queue.append(entry)
        else:
            queue.insert(bisect_right(queue, entry[0], key=_pass_of), entry)

    def _valid_head(self) -> int | None:
        """The lowest pass among pending tasks (stale entries at the front dropped)."""
        queue = self._queue
        while queue and not _pending(queue[0]):
            queue.popleft()
        return queue[0][0] if queue else None

    def _take_first(self) -> Task | None:
        while self.first:
            generation, task = self.first.pop(0)
            if generation == task._generation and task.scheduled:
                return task
        return None

    def _first_holds(self, task: Task) -> bool:
        return any(entry[1] is task and _pending_first(entry) for entry in self.first)


def _pending(entry: tuple[int, int, Task]) -> bool:
    """Whether a queue entry still stands for a run to come."""
    task = entry[2]
    return entry[1] == task._generation and task.scheduled


def _pass_of(entry: tuple[int, int, Task]) -> int:
    return entry[0]


def _pending_first(entry: tuple[int, Task]) -> bool:
    generation, task = entry
    return generation == task._generation and task.scheduled
