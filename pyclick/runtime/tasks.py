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

    def unschedule(self) -> None:
        """Cancel a pending run."""
        scheduler = self.owner.scheduling.scheduler
        if scheduler is not None:
            scheduler.remove_task(self)
        self.scheduled = False

    def __repr__(self) -> str:
        return f"<Task of {self.owner.name} {'scheduled' if self.scheduled else 'idle'}>"


class TaskQueue:
    """Pending tasks in scheduling order. Not thread safe: the owner locks."""

    def __init__(self) -> None:
        self._queue: deque[tuple[int, Task]] = deque()

    def push(self, task: Task) -> None:
        if not task.scheduled:
            task.scheduled = True
            task._generation += 1
            self._queue.append((task._generation, task))

    def remove(self, task: Task) -> None:
        task._generation += 1
        task.scheduled = False

    def take_round(self) -> list[Task]:
        """Every pending task, each marked unscheduled, in scheduling order."""
        tasks = [t for gen, t in self._queue if gen == t._generation and t.scheduled]
        self._queue.clear()
        for task in tasks:
            task.scheduled = False
        return tasks

    def __bool__(self) -> bool:
        return any(gen == t._generation and t.scheduled for gen, t in self._queue)
