"""The signals that stop a router, and how a stop by signal ends the process.

SIGINT, SIGTERM, SIGHUP and SIGQUIT all mean "stop": a running router
stops in order (its elements cleaned up in reverse), and the command then
exits with the conventional status, 128 + the signal's number, after one
line saying which signal it was. Outside a running router there is nothing
to stop in order, so a signal raises :class:`Interrupted` where the program
is, and the command unwinds to the same ending.

:class:`Interrupted` derives from BaseException, as KeyboardInterrupt does,
so that no ``except Exception`` on the way swallows it.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any, Callable

#: The signals that stop a router.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)

Handler = Callable[[int, Any], Any]


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def exit_status(signum: int) -> int:
    """The status of a process ended by ``signum``, as shells report it."""
    return 128 + signum


class Interrupted(BaseException):
    """A stop signal arrived where the program could only unwind."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal_name(signum)}")
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return exit_status(self.signum)


class Unwinder:
    """Stop signals that unwind the program with :class:`Interrupted`, remembered.

    Python runs a signal's handler between any two bytecodes, also inside a
    callback whose exceptions it reports and drops ("Exception ignored in
    ..."): a weak reference's callback, which every import runs, or a
    finalizer. The stop would then be lost and the program carry on; so the
    signal is kept, :meth:`check` raises it again where the program can
    unwind, and Python's report of the one it dropped is left out.

    A context manager: it installs the handler (main thread only) and the
    hook for dropped exceptions, and puts the previous ones back.
    """

    def __init__(self) -> None:
        #: The last stop signal received; None before any.
        self.signum: int | None = None

    def __call__(self, signum: int, frame: Any) -> None:
        self.signum = signum
        raise Interrupted(signum)

    def check(self) -> None:
        """Raise :class:`Interrupted` when a stop signal arrived."""
        if self.signum is not None:
            raise Interrupted(self.signum)

    def __enter__(self) -> Unwinder:
        self._previous_hook: Callable[[Any], object] = sys.unraisablehook
        sys.unraisablehook = self._dropped
        self._restore: Callable[[], None] = catch(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self._restore()
        sys.unraisablehook = self._previous_hook

    def _dropped(self, unraisable: Any) -> None:
        # An Interrupted Python dropped is kept in ``signum``: not an error to report.
        if not isinstance(unraisable.exc_value, Interrupted):
            self._previous_hook(unraisable)


def catch(handler: Handler, signals: tuple[int, ...] = STOP_SIGNALS) -> Callable[[], None]:
    """Install ``handler`` for ``signals``; return what puts the previous ones back.

    Signal handlers belong to the main thread: elsewhere nothing is
    installed and the returned function does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {signum: signal.signal(signum, handler) for signum in signals}

    def restore() -> None:
        for signum, old in previous.items():
            signal.signal(signum, old if old is not None else signal.SIG_DFL)

    return restore
