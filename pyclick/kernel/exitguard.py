"""Undo changes to kernel state however the process ends.

Kernel settings outlive the process that made them: a NIC keeps the RSS
table the balancer wrote last, an interface keeps an XDP program attached
through netlink. Elements undo their changes in ``cleanup()``; an
:class:`ExitGuard` covers the ends that skip it. The router owns one
(``router.exit_guard``)::

    self._guard = self.router.exit_guard.on_exit("RSS table of eth0", self._restore)
    ...
    self.router.exit_guard.cancel(self._guard)      # restored by cleanup()

A registered undo runs

* at interpreter exit (``atexit``), e.g. an exception escaping the router
  or ``sys.exit`` from another element;
* on SIGHUP, SIGTERM and SIGQUIT when nothing else handles them (while
  it runs, the router handles these and SIGINT itself), before the
  signal's default action ends the process as it would have.

The guard installs these hooks when its first undo is registered and
removes them once none is left, so an idle guard leaves the process as it
found it. An undo must be safe to call twice and from the main thread at
any point. A forked child inherits no undo: it did not make its parent's
changes, and ending it must not undo them.

SIGKILL and crashes run nothing; for those, an element claims an interface
before changing it (``claim``): the guard takes the interface's lock and
state record (:mod:`pyclick.kernel.ownership`) once for all the router's
elements on it, and releases them after their undos, so that what is left
recorded is exactly what the next start, or ``pyclick --cleanup``, puts
back.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import signal
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from pyclick.kernel.ownership import InterfaceClaim, TableOpener

#: Signals whose default action ends the process without running Python code.
GUARDED_SIGNALS = (signal.SIGHUP, signal.SIGTERM, signal.SIGQUIT)

_log = logging.getLogger("pyclick.kernel.exitguard")


@dataclass
class _Claimed:
    claim: InterfaceClaim
    token: int
    users: int = 0


class ExitGuard:
    """Undos to run if the process ends before they are cancelled (see the module docstring)."""

    def __init__(self) -> None:
        # Re-entrant: a signal handler may run while the main thread holds it.
        self._lock = threading.RLock()
        self._pending: dict[int, tuple[str, Callable[[], None]]] = {}
        self._tokens = itertools.count(1)
        self._at_exit = False
        self._signals: list[int] = []
        self._fork_hook = False
        self._claims: dict[str, _Claimed] = {}

    def claim(self, ifname: str, open_table: TableOpener | None = None) -> InterfaceClaim:
        """The lock and state record of ``ifname``, shared by this router's elements.

        The first claim takes the lock, restoring what a dead pyclick left
        (``open_table`` opens the NIC's table for that); it raises
        ``InterfaceBusy`` when another process holds the interface. Call
        ``unclaim`` once the element has put back what it changed; an exit
        that skips it releases the claim after the element's own undos.
        """
        from pyclick.kernel import ownership

        with self._lock:
            held = self._claims.get(ifname)
            if held is None:
                claimed = ownership.claim(ifname, open_table)
                held = _Claimed(claimed, self.on_exit(f"state record of {ifname}",
                                                      claimed.close))
                self._claims[ifname] = held
            held.users += 1
            return held.claim

    def unclaim(self, claim: InterfaceClaim) -> None:
        """One element is done with ``claim``; the last one releases it."""
        with self._lock:
            held = self._claims.get(claim.ifname)
            if held is None or held.claim is not claim:
                return
            held.users -= 1
            if held.users:
                return
            del self._claims[claim.ifname]
        self.cancel(held.token)
        claim.close()

    def on_exit(self, description: str, undo: Callable[[], None]) -> int:
        """Run ``undo`` if the process ends before ``cancel(token)``; returns the token."""
        with self._lock:
            token = next(self._tokens)
            self._pending[token] = (description, undo)
            self._install()
        return token

    def cancel(self, token: int) -> None:
        """Forget an undo (the element did it itself, or there is nothing left to undo)."""
        with self._lock:
            self._pending.pop(token, None)
            if not self._pending:
                self._uninstall()

    def pending(self) -> list[str]:
        """Descriptions of the undos still registered, oldest first."""
        with self._lock:
            return [description for description, _ in self._pending.values()]

    def run_pending(self) -> None:
        """Run every registered undo, newest first, then remove the hooks."""
        self._run_all()
        with self._lock:
            if not self._pending:
                self._uninstall()

    def _run_all(self) -> None:
        """Run the undos newest first; a failing one does not stop the others."""
        while True:
            with self._lock:
                if not self._pending:
                    return
                description, undo = self._pending.pop(max(self._pending))
            try:
                undo()
                _log.info("restored at exit: %s", description)
            except Exception as err:  # the process is ending: report and go on
                _log.error("could not restore %s at exit: %s", description, err)

    # --- hooks
    def _install(self) -> None:
        if not self._fork_hook:
            # Only a weak reference: the hook cannot be removed, the guard can go.
            ref = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: _forget_in_child(ref))
            self._fork_hook = True
        # Registered again with every undo: atexit runs the newest first, and
        # an undo must run before the exit hooks of what it uses (bcc closes
        # its programs' file descriptors in one of its own).
        atexit.unregister(self._run_all)
        atexit.register(self._run_all)
        self._at_exit = True
        # Handlers can only be set from the main thread; elements initialize there.
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in GUARDED_SIGNALS:
            if signum not in self._signals and signal.getsignal(signum) == signal.SIG_DFL:
                signal.signal(signum, self._on_signal)
                self._signals.append(signum)

    def _uninstall(self) -> None:
        if self._at_exit:
            atexit.unregister(self._run_all)
            self._at_exit = False
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in self._signals:
            # Leave alone a handler someone installed over ours.
            if signal.getsignal(signum) == self._on_signal:
                signal.signal(signum, signal.SIG_DFL)
        self._signals.clear()

    def _on_signal(self, signum: int, frame: object) -> None:
        self._run_all()
        # End the way the signal would have ended the process.
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    def _forget(self) -> None:
        # Another thread of the parent may have held the lock at the fork.
        self._lock = threading.RLock()
        self._pending.clear()
        # The child's copies of the interface locks would keep them held
        # after the parent's death.
        for held in self._claims.values():
            held.claim.abandon()
        self._claims.clear()


def _forget_in_child(ref: weakref.ref[ExitGuard]) -> None:
    guard = ref()
    if guard is not None:
        guard._forget()
