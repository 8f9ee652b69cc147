"""Signals that run scripts (Click's Script TYPE SIGNAL) while a router runs.

A catch names its signals and what runs when one arrives. As in Click,
a catch is disarmed by the signal that runs it and armed again only when
its owner says so (a script that ran to its end): until then a stop
signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT) does what it does without the
catch (the router stops in order), and any other signal is held and runs
the catch once it is armed again, one run however many arrived.

Python runs a signal's handler on the main thread between two bytecodes,
maybe inside code holding a lock the run would need, so the handler only
notes the event in a deque (appending to one takes no lock) and wakes a
thread of its own through a pipe; that thread hands each run to its
owner's home thread and waits for it, one at a time.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections import deque
from typing import Any, Callable, Sequence

from pyclick.runtime.host import Owner
from pyclick.runtime.stopsignals import catch

_log = logging.getLogger(__name__)

#: Runs ``fn`` on ``owner``'s home thread (the router's ``call_on_home``).
CallOnHome = Callable[[Owner, Callable[[], Any]], Any]


class Catch:
    """One owner's signals and what runs when one arrives."""

    def __init__(self, catcher: SignalCatcher, owner: Owner, signums: Sequence[int],
                 run: Callable[[], Any]) -> None:
        self.owner = owner
        self.signums = frozenset(signums)
        self.run = run
        self._catcher = catcher
        #: Whether a signal runs it now (written by the signal handler when a
        #: signal disarms it, by the dispatching thread when it is armed again).
        self.armed = True
        #: A held signal arrived while disarmed: it runs once armed.
        self.held = False

    def arm(self) -> None:
        """Let the next signal run the catch again (from any thread)."""
        self._catcher.post(("arm", self))


class SignalCatcher:
    """The catches of one router, their signal handler and the thread that runs them."""

    def __init__(self, call_on_home: CallOnHome) -> None:
        self._call_on_home = call_on_home
        self.catches: list[Catch] = []
        self._events: deque[tuple[str, Any]] = deque()
        self._previous: dict[int, Any] = {}
        self._restore: Callable[[], None] | None = None
        self._thread: threading.Thread | None = None
        self._wake: tuple[int, int] | None = None

    def add(self, owner: Owner, signums: Sequence[int], run: Callable[[], Any]) -> Catch:
        catch_ = Catch(self, owner, signums, run)
        self.catches.append(catch_)
        return catch_

    def start(self) -> bool:
        """Install the handler for every caught signal and start the thread; False
        (and nothing installed) off the main thread, where Python cannot."""
        signums = tuple(sorted(set().union(*(c.signums for c in self.catches))))
        if not signums or threading.current_thread() is not threading.main_thread():
            return not signums
        self._previous = {signum: signal.getsignal(signum) for signum in signums}
        self._wake = os.pipe()
        self._thread = threading.Thread(target=self._dispatch, name="signal-scripts",
                                        daemon=True)
        self._thread.start()
        self._restore = catch(self._on_signal, signums)
        return True

    def close(self, timeout: float) -> None:
        """Put the previous handlers back and end the thread. The runs of signals
        that arrived before finish first, as Click runs every script a signal
        reached even when one of them stops the router; the thread gets at most
        ``timeout`` seconds for them."""
        if self._restore is not None:
            self._restore()
            self._restore = None
        if self._thread is None or self._wake is None:
            return
        self.post(("close", None))
        self._thread.join(timeout)
        if not self._thread.is_alive():
            for fd in self._wake:
                os.close(fd)
        self._thread = self._wake = None

    def post(self, event: tuple[str, Any]) -> None:
        self._events.append(event)
        if self._wake is not None:
            try:
                os.write(self._wake[1], b"\0")
            except OSError:
                pass  # closed: nothing runs any more

    # --- on the main thread, between two bytecodes
    def _on_signal(self, signum: int, frame: Any) -> None:
        armed = [c for c in self.catches if signum in c.signums and c.armed]
        for catch_ in armed:
            catch_.armed = False
            self.post(("run", catch_))
        if armed:
            return
        previous = self._previous.get(signum)
        if callable(previous):
            # A stop signal no script is ready for stops the router as usual.
            previous(signum, frame)
        else:
            self.post(("held", signum))

    # --- on the thread of its own
    def _dispatch(self) -> None:
        assert self._wake is not None
        reading = self._wake[0]
        while True:
            os.read(reading, 4096)
            while self._events:
                kind, what = self._events.popleft()
                if kind == "close":
                    return
                if kind == "run":
                    self._run(what)
                elif kind == "arm":
                    if what.held:
                        what.held = False
                        self._run(what)
                    else:
                        what.armed = True
                elif kind == "held":
                    for catch_ in self.catches:
                        if what not in catch_.signums:
                            continue
                        if catch_.armed:
                            # Armed again since the signal found it disarmed.
                            catch_.armed = False
                            self._run(catch_)
                        else:
                            catch_.held = True

    def _run(self, catch_: Catch) -> None:
        try:
            self._call_on_home(catch_.owner, catch_.run)
        except Exception as err:  # a run's failure must not end the other catches
            _log.error("%s: signal run failed: %s", catch_.owner.name, err)
