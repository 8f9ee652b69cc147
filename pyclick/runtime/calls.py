"""A function call handed to another thread, with its outcome."""

from __future__ import annotations

import threading
from typing import Any, Callable

from pyclick.runtime.stopsignals import Interrupted


class CallTimedOut(RuntimeError):
    """The thread a call was handed to did not run it in time."""


class Call:
    """Runs ``fn`` once (on whichever thread calls :meth:`run`) and keeps the outcome.

    ``waiter`` is the condition of a worker thread that waits for the
    outcome while serving its own calls; it is notified on completion.
    """

    def __init__(self, fn: Callable[[], Any], waiter: threading.Condition | None = None) -> None:
        self.fn = fn
        self.waiter = waiter
        self.done = False
        self._result: Any = None
        self._error: BaseException | None = None
        self._finished = threading.Event()

    def run(self) -> None:
        try:
            self._result = self.fn()
        except Interrupted as err:
            # A stop signal hit the thread running the call (the main
            # thread): the waiter learns it, and this thread unwinds.
            self._error = err
            self._finish()
            raise
        except BaseException as err:  # handed over to the waiting thread as is
            self._error = err
        self._finish()

    def _finish(self) -> None:
        self.done = True
        self._finished.set()
        if self.waiter is not None:
            with self.waiter:
                self.waiter.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the call ran (at most ``timeout`` seconds); tell whether it did."""
        return self._finished.wait(timeout)

    def outcome(self) -> Any:
        """The result, or the exception raised again in the caller's thread."""
        if self._error is not None:
            raise self._error
        return self._result
