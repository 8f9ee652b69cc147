"""The exit guard: undos that run however the process ends, owned by each router."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyclick.kernel.exitguard import GUARDED_SIGNALS, ExitGuard
from pyclick.lang.model import FlatConfig
from pyclick.router import Router

ROOT = Path(__file__).resolve().parent.parent


def test_undos_run_newest_first_and_survive_a_failing_one():
    guard = ExitGuard()
    ran = []

    def fail() -> None:
        ran.append("fail")
        raise OSError("device gone")

    first = guard.on_exit("first", lambda: ran.append("first"))
    guard.on_exit("failing", fail)
    cancelled = guard.on_exit("cancelled", lambda: ran.append("cancelled"))
    guard.on_exit("last", lambda: ran.append("last"))
    guard.cancel(cancelled)
    assert guard.pending() == ["first", "failing", "last"]
    guard.run_pending()
    assert ran == ["last", "fail", "first"]
    assert guard.pending() == []
    guard.cancel(first)              # already run: nothing happens
    assert ran == ["last", "fail", "first"]


def test_signal_hooks_are_installed_while_undos_are_pending():
    guard = ExitGuard()
    assert all(signal.getsignal(s) == signal.SIG_DFL for s in GUARDED_SIGNALS)
    one = guard.on_exit("one", lambda: None)
    two = guard.on_exit("two", lambda: None)
    assert all(signal.getsignal(s) == guard._on_signal for s in GUARDED_SIGNALS)
    guard.cancel(one)
    assert all(signal.getsignal(s) == guard._on_signal for s in GUARDED_SIGNALS)
    guard.cancel(two)
    assert all(signal.getsignal(s) == signal.SIG_DFL for s in GUARDED_SIGNALS)


def test_a_signal_someone_else_handles_is_left_alone():
    def theirs(signum: int, frame: object) -> None:
        raise AssertionError("not sent")

    guard = ExitGuard()
    previous = signal.signal(signal.SIGHUP, theirs)
    try:
        token = guard.on_exit("undo", lambda: None)
        assert signal.getsignal(signal.SIGHUP) is theirs
        assert signal.getsignal(signal.SIGQUIT) == guard._on_signal
        guard.cancel(token)
        assert signal.getsignal(signal.SIGHUP) is theirs
        assert signal.getsignal(signal.SIGQUIT) == signal.SIG_DFL
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_each_router_owns_its_guard():
    first, second = Router(FlatConfig()), Router(FlatConfig())
    assert first.exit_guard is not second.exit_guard
    token = first.exit_guard.on_exit("first's table", lambda: None)
    assert (first.exit_guard.pending(), second.exit_guard.pending()) == (["first's table"], [])
    first.exit_guard.cancel(token)


def _child_ends_by_signal() -> None:
    os.kill(os.getpid(), signal.SIGHUP)


def test_a_forked_child_does_not_undo_its_parents_changes(tmp_path):
    guard = ExitGuard()
    marker = tmp_path / "undone"
    token = guard.on_exit("parent's table", marker.touch)
    try:
        child = multiprocessing.get_context("fork").Process(target=_child_ends_by_signal)
        child.start()
        child.join(timeout=30)
        assert child.exitcode == -signal.SIGHUP
        assert not marker.exists()
        assert guard.pending() == ["parent's table"]
    finally:
        guard.cancel(token)


ENDING = textwrap.dedent("""
    import os, signal, sys
    from pyclick.kernel.exitguard import ExitGuard
    guard = ExitGuard()
    kept = guard.on_exit("kept", lambda: print("undid kept", flush=True))
    dropped = guard.on_exit("dropped", lambda: print("undid dropped", flush=True))
    guard.cancel(dropped)
    print("ready", flush=True)
    if sys.argv[1] == "signal":
        os.kill(os.getpid(), signal.SIGTERM)
    elif sys.argv[1] == "cancel":
        guard.cancel(kept)
""")


@pytest.mark.parametrize("how, output, status", [
    ("exit", "ready\nundid kept\n", 0),
    ("signal", "ready\nundid kept\n", -signal.SIGTERM),
    ("cancel", "ready\n", 0),
])
def test_pending_undos_run_at_exit_and_on_signals(how, output, status):
    run = subprocess.run([sys.executable, "-c", ENDING, how], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert (run.stdout, run.returncode) == (output, status), run.stderr
