"""How timers and tasks find the scheduler that runs them.

A router has one scheduler, real-time or simulated, but it can only be
built once the configuration is known (how many threads, which clock), after
the elements exist. So the router makes one :class:`SchedulingHandle` before
it creates its elements, every element carries it, and the router binds it to
the scheduler at initialize. A timer or task scheduled before that gets a
clear error instead of a missing attribute.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Protocol

from pyclick.runtime.ticketbook import TicketBook

if TYPE_CHECKING:
    from pyclick.runtime.tasks import Task
    from pyclick.runtime.timers import Timer

NOT_STARTED = "timers and tasks can only be scheduled from initialize() on"


class Scheduler(Protocol):
    """What timers and tasks ask of a scheduler (both schedulers offer it)."""

    def add_timer(self, timer: Timer, t: float) -> None:
        """Fire ``timer`` at time ``t`` (replacing a pending expiry)."""

    def remove_timer(self, timer: Timer) -> None:
        """Cancel ``timer``'s pending expiry."""

    def add_task(self, task: Task) -> None:
        """Run ``task`` once more, soon."""

    def add_task_first(self, task: Task) -> None:
        """Run ``task`` before any other task of its thread, the rest of the
        round under way included."""

    def remove_task(self, task: Task) -> None:
        """Cancel ``task``'s pending run."""


class SchedulingHandle:
    """A late-bound reference to one router's scheduler, its clock and its tasks'
    scheduling parameters."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._scheduler: Scheduler | None = None
        #: The scheduling parameters ScheduleInfo gives, by element name.
        self.tickets = TicketBook()

    def now(self) -> float:
        """The router's time in seconds (simulated time starts at 0)."""
        return self._now()

    def bind(self, scheduler: Scheduler) -> None:
        """Attach the scheduler, once it exists."""
        self._scheduler = scheduler

    @property
    def scheduler(self) -> Scheduler | None:
        """The scheduler, or None before initialize."""
        return self._scheduler

    def active(self) -> Scheduler:
        """The scheduler; RuntimeError when asked before initialize."""
        if self._scheduler is None:
            raise RuntimeError(NOT_STARTED)
        return self._scheduler
