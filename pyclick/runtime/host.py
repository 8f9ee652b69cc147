"""What the runtime needs from the program that runs it, as protocols it owns.

The runtime (timers, tasks, schedulers, handlers) never imports the router
or the element classes. It is written against two small protocols:

- a :class:`Host` (the router) tells the time, can be stopped, hears about
  a timer or task that failed, and blocks the real-time scheduler until it
  is stopped;
- an :class:`Owner` (an element) owns timers and tasks: it has a name and a
  landmark for messages, the index of the worker thread they run on, and
  the :class:`~pyclick.runtime.scheduling.SchedulingHandle` through which
  they reach the scheduler.

The router implements :class:`Host` and hands every element the handle, so
the runtime can be exercised with any objects of these shapes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from pyclick.errors import Landmark

if TYPE_CHECKING:
    from pyclick.runtime.scheduling import SchedulingHandle


class Owner(Protocol):
    """The owner of timers and tasks (an element)."""

    #: Named in messages and in the failure report.
    name: str
    #: Where the owner was declared, for the failure report.
    landmark: Landmark
    #: Index of the worker thread its timers, tasks and handler calls run on.
    home_thread: int

    @property
    def scheduling(self) -> SchedulingHandle:
        """The handle through which its timers and tasks reach the scheduler."""


class Host(Protocol):
    """The program a scheduler runs for (the router)."""

    def now(self) -> float:
        """The current time in seconds (simulated or monotonic)."""

    def stop(self, reason: str = "") -> None:
        """Ask everything to stop; callable from any thread."""

    def element_failed(self, owner: Owner, what: str, err: BaseException) -> None:
        """``owner``'s timer or task (``what``) raised ``err``."""

    def wait_for_stop(self) -> None:
        """Block until :meth:`stop` has been called."""
