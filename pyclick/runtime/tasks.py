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
"""

from __future__ import annotations

from collections import deque
from typing import Callable

from pyclick.runtime.host import Owner


class Task:
    """A task owned by ``owner``; ``callback() -> bool`` (did work)."""

    def __init__(self, owner: Owner, callback: Callable[[], bool]) -> None:
        self.owner = owner
        self.callback = callback
        self.scheduled = False
        self._generation = 0

    def reschedule(self) -> None:
        """Run the callback once more, soon (no effect if already pending)."""
        self.owner.scheduling.active().add_task(self)

    def reschedule_first(self) -> None:
        """Run the callback before any other task of its thread, even those left
        of the round under way (a driver stop event: Click looks at its stop
        flag before every task)."""
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
    """Pending tasks in scheduling order. Not thread safe: the owner locks.

    Each entry carries the task's generation when it was pushed: removing or
    pushing a task again makes its older entries stale, so none is searched for.
    """

    def __init__(self) -> None:
        self._queue: deque[tuple[int, Task]] = deque()
        #: Entries to run before the rest of the round under way (``push_first``).
        self.first: list[tuple[int, Task]] = []

    def push(self, task: Task) -> None:
        if not task.scheduled:
            task.scheduled = True
            task._generation += 1
            self._queue.append((task._generation, task))

    def push_first(self, task: Task) -> None:
        """Schedule ``task`` ahead of every other; the thread running a round
        sees ``first`` and hands the rest of the round back (``put_back``)."""
        if task.scheduled and (task._generation, task) in self.first:
            return
        task.scheduled = True
        task._generation += 1
        self.first.append((task._generation, task))

    def put_back(self, tasks: list[Task], last_run: Task) -> None:
        """Return the tasks of the round ``tasks`` after ``last_run`` (not run
        yet), in order, ahead of those scheduled since: a task rescheduled
        meanwhile keeps its place in the round."""
        entries = []
        for task in tasks[tasks.index(last_run) + 1:]:
            task.scheduled = True
            task._generation += 1
            entries.append((task._generation, task))
        self._queue.extendleft(reversed(entries))

    def remove(self, task: Task) -> None:
        task._generation += 1
        task.scheduled = False

    def take_round(self) -> list[Task]:
        """Every pending task, each marked unscheduled, in scheduling order."""
        tasks = [t for gen, t in self._queue if gen == t._generation and t.scheduled]
        self._queue.clear()
        # Rounds come by the thousand a second; one with a task to run first, rarely.
        if self.first:
            tasks[:0] = [t for gen, t in self.first if gen == t._generation and t.scheduled]
            self.first.clear()
        for task in tasks:
            task.scheduled = False
        return tasks

    def __bool__(self) -> bool:
        return any(map(_pending, self.first)) or any(map(_pending, self._queue))

    def pending_among(self, tasks: set[Task]) -> bool:
        """Whether every pending task is one of ``tasks``."""
        return all(entry[1] in tasks for entries in (self.first, self._queue)
                   for entry in entries if _pending(entry))


def _pending(entry: tuple[int, Task]) -> bool:
    """Whether a queue entry still stands for a run to come."""
    generation, task = entry
    return generation == task._generation and task.scheduled
