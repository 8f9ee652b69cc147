"""TimedPuller: what the pull-to-push converters that wait on a timer share."""

from __future__ import annotations

from pyclick.element import PULL_TO_PUSH, Element
from pyclick.runtime.notifier import upstream_empty_signal
from pyclick.runtime.timers import Timer


class TimedPuller(Element):
    """A pull input and a push output, a task that pulls and pushes, and a
    timer that brings the task back when what it waits for is due. The
    task starts at initialize and sleeps while the elements upstream say
    nothing will come (``_signal``); the timer stops at cleanup. A subclass
    calls ``make_task`` in configure and writes ``_run``."""

    registered = False
    port_count = "1/1"
    processing = PULL_TO_PUSH

    def make_task(self) -> None:
        self._task = self.own_task(self._run)
        self._timer = Timer(self, self._task.reschedule)

    def initialize(self) -> None:
        self._signal = upstream_empty_signal(self, 0, self._task.reschedule)
        self._task.reschedule()

    def cleanup(self) -> None:
        self._timer.unschedule()

    def _run(self) -> bool:
        raise NotImplementedError
