"""The signal matrix and the exits that must always finish, with real processes.

SIGINT, SIGTERM, SIGHUP and SIGQUIT are sent to ``pyclick`` at five moments:
while it starts (its handlers in place, the router not yet built), while an
element initializes, while it runs (real and simulated time), and while an
element cleans up. Each time the process must end within a bound, with
status 128 + the signal, one line naming the signal, no traceback, and
every element that finished initializing cleaned up.

Then the exits that used to hang or lose a thread: a timer raising
KeyboardInterrupt or SystemExit, ``-h`` naming a handler of a thread stuck
in a callback, a simulated-time callback that never returns.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import textwrap
import time
import weakref
from pathlib import Path

import pytest

from pyclick.runtime.stopsignals import Interrupted, Unwinder

REPO = Path(__file__).resolve().parent.parent

#: Longest any run below may take, from the signal to the exit.
EXIT_BOUND = 15.0

PROBES = textwrap.dedent('''
    """Elements that mark their life in a file, and others that misbehave."""
    import signal
    import time
    import weakref

    from pyclick.args import STRING, TIME, WORD, Args
    from pyclick.element import Element, read_handler
    from pyclick.runtime.timers import Timer


    class LifeMark(Element):
        """LifeMark(FILE, INIT_SLEEP, CLEANUP_SLEEP) -- writes its initialize and cleanup"""

        def configure(self, args: Args) -> None:
            self.path = args.read_mp("FILE", STRING)
            self.init_sleep = args.read("INIT_SLEEP", TIME.range(0, 60), 0.0)
            self.cleanup_sleep = args.read("CLEANUP_SLEEP", TIME.range(0, 60), 0.0)
            args.complete()

        def mark(self, what: str) -> None:
            with open(self.path, "a") as f:
                f.write(f"{what} {self.name}\\n")

        def initialize(self) -> None:
            self.mark("initialize")
            time.sleep(self.init_sleep)
            self.mark("initialized")

        def cleanup(self) -> None:
            self.mark("cleanup")
            time.sleep(self.cleanup_sleep)
            self.mark("cleaned")


    class Busy(Element):
        """Busy() -- keeps its thread busy in real time, 10 ms a run"""

        def initialize(self) -> None:
            self.timer = Timer(self, self.tick)
            self.timer.schedule_after(0)

        def tick(self) -> None:
            time.sleep(0.01)
            self.timer.schedule_after(0.001)


    class Stuck(Element):
        """Stuck() -- a timer that never returns; its handler 'value' is 42"""

        def initialize(self) -> None:
            Timer(self, self.spin).schedule_after(0.01)

        def spin(self) -> None:
            while True:
                time.sleep(0.01)

        @read_handler("value")
        def _value(self) -> str:
            return "42"


    class Raiser(Element):
        """Raiser(WHAT) -- a timer that raises KeyboardInterrupt or SystemExit"""

        def configure(self, args: Args) -> None:
            self.what = args.read_mp("WHAT", WORD)
            args.complete()

        def initialize(self) -> None:
            Timer(self, self.boom).schedule_after(0.01)

        def boom(self) -> None:
            raise {"KeyboardInterrupt": KeyboardInterrupt, "SystemExit": SystemExit}[self.what]()


    class SignalInCallback(Element):
        """SignalInCallback() -- at configure, SIGTERM arrives inside a weak reference's callback"""

        def configure(self, args: Args) -> None:
            args.complete()
            target = type("Target", (), {})()
            self.watch = weakref.ref(target, self.arrive)
            del target

        @staticmethod
        def arrive(ref: object) -> None:
            signal.raise_signal(signal.SIGTERM)
            # The handler runs at the next check of the loop: inside this callback,
            # whose exceptions Python drops.
            for _ in range(1000):
                pass
''')


@pytest.fixture
def probes(tmp_path: Path) -> Path:
    (tmp_path / "robustprobes.py").write_text(PROBES)
    return tmp_path


def start(probes: Path, config: str, *options: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=f"{REPO}{os.pathsep}{probes}")
    command = [sys.executable, "-m", "pyclick", *options,
               "-e", f"require(package robustprobes); {config}"]
    return subprocess.Popen(
        command, cwd=probes, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0)))


def finish(proc: subprocess.Popen, timeout: float = EXIT_BOUND) -> tuple[str, str, float]:
    """Wait (bounded) for the process; kill it, by its PID, if it outlives the bound."""
    began = time.monotonic()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"still running {timeout:g} s later; stderr: {err[-2000:]}")
    return out, err, time.monotonic() - began


def wait_for_line(path: Path, line: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and line in path.read_text().splitlines():
            return
        if proc.poll() is not None:
            pytest.fail(f"pyclick exited early: {proc.communicate()}")
        time.sleep(0.01)
    proc.kill()
    proc.communicate()
    pytest.fail(f"'{line}' never appeared in {path}")


def wait_for_handlers(proc: subprocess.Popen, timeout: float = 30) -> None:
    """Until the command caught SIGHUP: its handlers are in place, nothing is built yet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                caught = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
        except (OSError, StopIteration):
            caught = 0
        if caught & (1 << (signal.SIGHUP - 1)):
            return
        if proc.poll() is not None:
            pytest.fail(f"pyclick exited early: {proc.communicate()}")
        time.sleep(0.001)
    pytest.fail("pyclick never caught SIGHUP")


SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT]
MOMENTS = ["starting", "initializing", "running", "running-simtime", "cleaning-up"]


@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_signal_matrix(probes, signum, moment):
    life = probes / "life.log"
    many = " ".join(f"i{n} :: Idle -> d{n} :: Discard;" for n in range(2000))
    configs = {
        "starting": (f"a :: LifeMark({life}); {many}", ()),
        "initializing": (f"a :: LifeMark({life}); b :: LifeMark({life}, INIT_SLEEP 1)", ()),
        "running": (f"a :: LifeMark({life}); Idle -> Discard", ()),
        "running-simtime": (f"a :: LifeMark({life}); Busy", ("--simtime",)),
        "cleaning-up": (f"a :: LifeMark({life}, CLEANUP_SLEEP 1); Script(wait 0.1, stop)", ()),
    }
    config, options = configs[moment]
    proc = start(probes, config, *options)
    if moment == "starting":
        wait_for_handlers(proc)
    elif moment == "initializing":
        wait_for_line(life, "initialize b", proc)
    elif moment == "cleaning-up":
        wait_for_line(life, "cleanup a", proc)
    else:
        wait_for_line(life, "initialized a", proc)
        time.sleep(0.2)
    proc.send_signal(signum)
    out, err, took = finish(proc)
    name = signal.Signals(signum).name
    assert proc.returncode == 128 + signum, err
    assert "Traceback" not in err
    assert err.splitlines()[-1:] == [f"pyclick: stopped by {name}"], err
    lines = life.read_text().splitlines() if life.exists() else []
    initialized = {line.split()[1] for line in lines if line.startswith("initialized ")}
    cleaned = {line.split()[1] for line in lines if line.startswith("cleaned ")}
    assert initialized == cleaned
    if moment != "starting":
        assert "a" in cleaned
    assert took < EXIT_BOUND


def test_an_interrupt_dropped_in_a_callback_is_kept_and_only_that_goes_unreported():
    reported = []
    previous, hook = sys.unraisablehook, reported.append
    sys.unraisablehook = hook
    try:
        with Unwinder() as unwinder:
            assert signal.getsignal(signal.SIGTERM) is unwinder
            unwinder.check()                       # nothing received yet
            watches = []
            for fail in (lambda _: unwinder(signal.SIGTERM, None), lambda _: 1 / 0):
                target = type("Target", (), {})()
                watches.append(weakref.ref(target, fail))
                del target                         # the callback runs; Python drops its error
            with pytest.raises(Interrupted) as raised:
                unwinder.check()
        assert raised.value.exit_status == 128 + signal.SIGTERM
        assert [type(r.exc_value) for r in reported] == [ZeroDivisionError]
        assert sys.unraisablehook is hook
        assert signal.getsignal(signal.SIGTERM) is not unwinder
    finally:
        sys.unraisablehook = previous


def test_a_signal_python_drops_in_a_callback_still_stops_the_command(probes):
    proc = start(probes, "SignalInCallback; Idle -> Discard")
    out, err, took = finish(proc)
    assert (proc.returncode, err) == (128 + signal.SIGTERM, "pyclick: stopped by SIGTERM\n")


@pytest.mark.parametrize("options", [(), ("--simtime",)])
@pytest.mark.parametrize("what", ["KeyboardInterrupt", "SystemExit"])
def test_a_timer_raising_base_exceptions_stops_the_router_with_status_1(probes, what, options):
    life = probes / "life.log"
    proc = start(probes, f"a :: LifeMark({life}); r :: Raiser({what}); Idle -> Discard", *options)
    out, err, _ = finish(proc)
    assert proc.returncode == 1, err
    assert f"timer of 'r :: Raiser' failed: {what}" in err
    assert life.read_text().splitlines()[-2:] == ["cleanup a", "cleaned a"]


def test_a_handler_of_a_stuck_thread_read_at_exit_gives_up(probes):
    life = probes / "life.log"
    proc = start(probes, f"a :: LifeMark({life}); s :: Stuck", "-h", "s.value")
    wait_for_line(life, "initialized a", proc)
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    out, err, took = finish(proc)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "s.value: worker thread 0 is stuck in a timer or task" in err
    assert "did not stop within" in err and "Traceback" not in err
    assert life.read_text().splitlines()[-1] == "cleaned a"
    assert took < 10


def test_a_simulated_callback_that_never_returns_is_interrupted(probes):
    life = probes / "life.log"
    proc = start(probes, f"a :: LifeMark({life}); s :: Stuck", "--simtime")
    wait_for_line(life, "initialized a", proc)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err, took = finish(proc)
    assert proc.returncode == 128 + signal.SIGINT, err
    assert err.splitlines() == ["pyclick: stopped by SIGINT"]
    assert life.read_text().splitlines()[-1] == "cleaned a"
    assert 4 < took < 10                                  # the router's STOP_TIMEOUT, 5 s


def test_a_second_signal_does_not_wait_for_the_orderly_stop(probes):
    life = probes / "life.log"
    proc = start(probes, f"a :: LifeMark({life}); s :: Stuck", "--simtime")
    wait_for_line(life, "initialized a", proc)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err, took = finish(proc)
    assert proc.returncode == 128 + signal.SIGINT, err
    assert "Traceback" not in err and took < 3
    assert life.read_text().splitlines()[-1] == "cleaned a"
