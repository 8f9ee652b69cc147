"""Undo changes to kernel state however the process ends.

Kernel settings outlive the process that made them: a NIC keeps the RSS
table the balancer wrote last, an interface keeps an XDP program attached
through netlink. Elements undo their changes in ``cleanup()``; this module
covers the ends that skip it. A registered undo runs

* at interpreter exit (``atexit``), e.g. an exception escaping the router
  or ``sys.exit`` from another element;
* on SIGHUP, SIGTERM and SIGQUIT when nothing else handles them (the
  router handles SIGINT and SIGTERM itself while it runs), before the
  signal's default action ends the process as it would have.

An undo must be safe to call twice and from the main thread at any point.
A forked child starts with no undo registered: it did not make its
parent's changes, and ending it must not undo them.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import signal
import threading
from typing import Callable

#: Signals whose default action ends the process without running Python code.
GUARDED_SIGNALS = (signal.SIGHUP, signal.SIGTERM, signal.SIGQUIT)

_log = logging.getLogger("pyclick.kernel.exitguard")
# Re-entrant: a signal handler may run while the main thread holds it.
_lock = threading.RLock()
_pending: dict[int, tuple[str, Callable[[], None]]] = {}
_tokens = itertools.count(1)
_atexit_installed = False


def on_exit(description: str, undo: Callable[[], None]) -> int:
    """Run ``undo`` if the process ends before ``cancel(token)``; returns the token."""
    with _lock:
        token = next(_tokens)
        _pending[token] = (description, undo)
        _install()
    return token


def cancel(token: int) -> None:
    """Forget an undo (the element did it itself, or there is nothing left to undo)."""
    with _lock:
        _pending.pop(token, None)


def pending() -> list[str]:
    """Descriptions of the undos still registered, oldest first."""
    with _lock:
        return [description for description, _ in _pending.values()]


def run_pending() -> None:
    """Run every registered undo, newest first; a failing one does not stop the others."""
    while True:
        with _lock:
            if not _pending:
                return
            description, undo = _pending.pop(max(_pending))
        try:
            undo()
            _log.info("restored at exit: %s", description)
        except Exception as err:  # the process is ending: report and go on
            _log.error("could not restore %s at exit: %s", description, err)


def _forget_in_child() -> None:
    global _lock
    # Another thread of the parent may have held the lock at the fork.
    _lock = threading.RLock()
    _pending.clear()


os.register_at_fork(after_in_child=_forget_in_child)


def _install() -> None:
    global _atexit_installed
    if not _atexit_installed:
        atexit.register(run_pending)
        _atexit_installed = True
    # Handlers can only be set from the main thread; elements initialize there.
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in GUARDED_SIGNALS:
        if signal.getsignal(signum) == signal.SIG_DFL:
            signal.signal(signum, _on_signal)


def _on_signal(signum: int, frame: object) -> None:
    run_pending()
    # End the way the signal would have ended the process.
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
