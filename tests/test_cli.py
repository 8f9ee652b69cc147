"""The pyclick command: options, configuration sources, errors, handlers, signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

import pyclick
from pyclick.args import INT, STRING, TIME, Args
from pyclick.cli import main
from pyclick.element import Element, read_handler
from pyclick.runtime.timers import Timer

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


class CliTicker(Element):
    """CliTicker(COUNT, PERIOD) -- counts timer ticks, then stops the router

    Keyword arguments
    COUNT -- ticks before stopping; default 3
    PERIOD -- time between ticks; default 1s

    Element handlers
    ticks (read) -- ticks so far
    """

    def configure(self, args: Args) -> None:
        self.count = args.read_p("COUNT", INT, 3)
        self.period = args.read_p("PERIOD", TIME, 1.0)
        args.complete()
        self.ticks = 0

    def initialize(self) -> None:
        self.timer = Timer(self, self.tick)
        self.timer.schedule_after(self.period)

    def tick(self) -> None:
        self.ticks += 1
        if self.ticks < self.count:
            self.timer.reschedule_after(self.period)
        else:
            self.router.stop("ticked enough")

    @read_handler("ticks")
    def _ticks(self) -> str:
        return str(self.ticks)


class CliLog(Element):
    """CliLog(FILE, FAIL) -- appends its lifecycle steps to FILE

    FAIL names a step that raises instead: "init" or "timer".
    """

    def configure(self, args: Args) -> None:
        self.path = args.read_mp("FILE", STRING)
        self.fail = args.read("FAIL", STRING, "")
        args.complete()

    def _note(self, step: str) -> None:
        with open(self.path, "a") as f:
            f.write(f"{step} {self.name}\n")

    def initialize(self) -> None:
        if self.fail == "init":
            raise RuntimeError("refusing to start")
        self._note("initialize")
        if self.fail == "timer":
            Timer(self, self._explode).schedule_after(0.01)

    def _explode(self) -> None:
        raise LookupError("lost the table")

    def cleanup(self) -> None:
        self._note("cleanup")


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """Run the command in this process: (exit status, stdout, stderr)."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# --- information options

def test_version_help_list_doc(capsys):
    assert run_cli(capsys, "--version")[:2] == (0, f"pyclick {pyclick.__version__}\n")
    status, out, _ = run_cli(capsys, "--help")
    assert status == 0 and "--simtime" in out and "--handler ELEMENT.H" in out
    status, out, _ = run_cli(capsys, "--list")
    assert status == 0
    assert any(line.split() == ["StaticThreadSched", "pins", "elements", "to", "CPU", "threads"]
               for line in out.splitlines())
    assert any(line.startswith("CliTicker ") and "counts timer ticks" in line
               for line in out.splitlines())
    status, out, _ = run_cli(capsys, "--doc", "CliTicker")
    assert status == 0 and out.startswith("CliTicker(COUNT, PERIOD) -- counts timer ticks")
    assert "PERIOD -- time between ticks" in out


#: Loads the command line in a fresh interpreter, runs it, and prints the
#: modules of the kernel adapters (and the libraries they use) it loaded.
#: Every router has an exit guard, which uses the standard library only.
KERNEL_MODULES_LOADED = """
import contextlib, io, sys
from pyclick.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    status = main(sys.argv[1:])
print(status, sorted(m for m in sys.modules
                     if m.startswith(("pyclick.kernel.", "pyroute2", "bcc"))
                     and m != "pyclick.kernel.exitguard"))
"""


@pytest.mark.parametrize("options", [
    ["--list"],
    ["--doc", "FromDevice"], ["--doc", "ToDevice"], ["--doc", "FromHost"],
    ["--doc", "DeviceBalancer"], ["--doc", "XDPLoader"],
    ["-q", "-e", "Idle -> Discard"],
])
def test_manuals_and_one_liners_load_no_kernel_adapter(options):
    done = subprocess.run([sys.executable, "-c", KERNEL_MODULES_LOADED, *options],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "0 []", done.stderr


NUMPY_LOADED = """
import contextlib, io, sys
from pyclick.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    status = main(sys.argv[1:])
print(status, "numpy" in sys.modules)
"""


@pytest.mark.parametrize("text", [
    "InfiniteSource(LIMIT 3, STOP true) -> c :: Counter -> Print(x) -> Discard",
    "RatedSource(RATE 10, LIMIT 5) -> Queue -> TimedSink",
    "FromDump(/nonexistent.pcap) -> Discard",
    "fd :: SimNIC(CORES 4, TRAFFIC onoff, DURATION 5) -> Discard; "
    "db :: DeviceBalancer(METHOD rsspp, DEV fd, CPUS 4, RSSCOUNTER c, CYCLES realcpu); "
    "c :: SimCounter(DEV fd)",
    "fd :: SimNIC(CORES 4) -> Discard; "
    "db :: DeviceBalancer(METHOD rsspp, DEV fd, CPUS 4, RSSCOUNTER c, CYCLES realcpu); "
    "c :: SimCounter(DEV fd); Metrics(PORT 0, BALANCER db)",
])
def test_checking_a_source_one_liner_loads_no_numpy(text):
    # Only what a configuration runs needs numpy (a capture's reader, the simulator's model).
    done = subprocess.run([sys.executable, "-c", NUMPY_LOADED, "-q", "-e", text],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "0 False", done.stderr


ENDING = """
import atexit, gc, sys
# Registered first, so run last: after the command's own handlers.
atexit.register(lambda: print("frozen" if gc.get_freeze_count() else "not frozen"))
from pyclick.cli import command
sys.argv[0] = "pyclick"
command()
"""


@pytest.mark.parametrize("text, status", [("Idle -> Discard", 0), ("Idle -> ", 1)])
def test_the_command_ends_with_its_status_and_the_collector_left_out(text, status):
    done = subprocess.run([sys.executable, "-c", ENDING, "-q", "-e", text],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (status, "frozen\n"), done.stderr
    assert done.stderr.startswith("config:1:") if status else not done.stderr


def test_doc_of_unknown_class(capsys):
    assert run_cli(capsys, "--doc", "NoSuchClass") == (
        1, "", "unknown element class 'NoSuchClass'\n")


def test_bad_option_is_a_usage_error(capsys):
    status, out, err = run_cli(capsys, "--no-such-option")
    assert status == 1 and err.startswith("pyclick: unrecognized arguments")
    status, out, err = run_cli(capsys, "-j", "0", "-e", "")
    assert status == 1 and "-j/--threads" in err


# --- configuration sources and checks

def test_quit_checks_without_initializing(capsys, tmp_path):
    log = tmp_path / "log"
    status, out, err = run_cli(capsys, "-q", "-e", f"a :: CliLog({log})")
    assert (status, out, err) == (0, "", "")
    assert not log.exists()


@pytest.mark.parametrize("argv, warned", [
    (["-e", ""], True), (["-e", "// nothing but a comment", "-h", "list"], True),
    (["-w", "-e", ""], False)])
def test_a_configuration_without_elements_is_not_run(argv, warned):
    # As click(1): a warning, the handlers, and the end, instead of a driver
    # that nothing could ever stop (a child process: were it to wait, the
    # timeout fails the test).
    done = subprocess.run([sys.executable, "-m", "pyclick", *argv], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0 and done.stdout == ("0\n" if "list" in argv else "")
    assert ("config: configuration has no elements, exiting" in done.stderr) is warned


def test_simulated_time_does_not_depend_on_declaration_order(capsys):
    # SimNIC's class puts the router in simulated time before anything is
    # configured, so FromDevice sees it whichever comes first.
    answers = []
    for config in ("fd :: FromDevice(lo, ACTIVE true) -> Discard; SimNIC(QUIET true)",
                   "SimNIC(QUIET true); fd :: FromDevice(lo, ACTIVE true) -> Discard"):
        status, out, err = run_cli(capsys, "-q", "-e", config)
        answers.append((status, [line for line in err.splitlines()
                                 if line.startswith("config:")]))
    assert answers[0] == answers[1]
    assert answers[0][0] == 1
    assert ("config:1: While configuring 'fd :: FromDevice': ACTIVE true receives live packets "
            "and cannot run in simulated time") in answers[0][1]


@pytest.mark.parametrize("config, messages", [
    # Once per class, where it is first used, worded by that use (Click's
    # outputs for the same expressions).
    ("Idle -> Foo -> Discard; c :: Foo -> Discard", ["config:1: undeclared element 'Foo'"]),
    ("c :: Foo -> Discard;\nIdle -> Foo(1) -> Discard", ["config:1: unknown element class 'Foo'"]),
    ("elementclass E { input -> Foo -> output }\nIdle -> E -> E -> Discard",
     ["config:1: undeclared element 'Foo'"]),
    ("Foo -> Bar -> Discard", ["config:1: undeclared element 'Foo'",
                               "config:1: undeclared element 'Bar'"]),
    # An element may not be named after a class the router knows.
    ("Idle\n:: Queue -> Discard", ["config:1: class 'Idle' used as element name"]),
    ("elementclass E { Counter :: Counter; input -> Counter -> output }\nIdle -> E -> Discard",
     ["config:1: class 'Counter' used as element name"]),
])
def test_unknown_classes_and_class_names_as_element_names_as_click_words_them(capsys, config, messages):
    status, out, err = run_cli(capsys, "-q", "-e", config)
    assert (status, err.splitlines()) == (1, messages)


@pytest.mark.parametrize("config, messages", [
    # Unknown classes come with the other mistakes, after what reading the
    # text finds: Click's user-level driver reports them there too, line by
    # line among them, and click-flatten, which knows no classes, starts
    # with the first of the others (both for the same texts, in comments).
    # click: 1 Foo, 3 Bar, 4 x, 5 redeclaration of 'c', 5 previous, 6 Baz.
    ("a :: Foo;\nb :: Queue(3);\nBar(1) -> Discard;\nx -> Discard;\nc :: Queue; c :: Queue;\n"
     "e :: Baz;", ["config:5: redeclaration of element 'c'",
                   "config:5: element 'c' previously declared here",
                   "config:1: unknown element class 'Foo'", "config:3: undeclared element 'Bar'",
                   "config:4: undeclared element 'x'", "config:6: unknown element class 'Baz'"]),
    # What expanding compounds finds comes last. Click places a failed
    # overload at the end of the text; here it is the element's line, as
    # click-flatten places it.
    ("elementclass E { $a | input -> output }\nd :: E(1, 2) -> Discard;\ne :: Baz;",
     ["config:3: unknown element class 'Baz'",
      "config:2: no match for 'E[2 arguments, 0 inputs, 1 output]'",
      "config:1: candidates are:", "config:1:   E(<arg>)[1 input, 1 output]"]),
    # The parser's mistakes among the reader's, line by line; a group's ports
    # are checked with the compounds'. click: the same lines but for wording,
    # 'Foo' among the reader's and 'g's two last lines swapped.
    ("Idle -> ( [0] -> [1]; [2] -> Discard ) [1] -> Discard;\nIdle -> ;\n"
     "elementclass G { input -> [1]output }\ng :: G; Idle -> g -> Discard;\n"
     "Foo -> Discard; x :: Idle; x :: Idle\ny :: Idle; y :: Idle; c :: Counter(;",
     ["config:1: '<anonymous group>' input 1 missing",
      "config:1: '<anonymous group>' output 0 missing",
      "config:2: syntax error: element expected after '->'",
      "config:3: 'G' output 0 missing",
      "config:5: redeclaration of element 'x'", "config:5: element 'x' previously declared here",
      "config:6: redeclaration of element 'y'", "config:6: element 'y' previously declared here",
      "config:6: expected ')': the configuration string opened at config:6 never ends",
      "config:5: undeclared element 'Foo'",
      "config:1: '@2' has no input 1",
      "config:4: 'g' has no output 0", "config:4: 'g' output 1 unused"]),
])
def test_unknown_classes_are_reported_with_the_other_mistakes(capsys, config, messages):
    status, out, err = run_cli(capsys, "-q", "-e", config)
    assert (status, err.splitlines()) == (1, messages)


def test_an_expression_named_config_still_reads_a_library_named_config(capsys, tmp_path,
                                                                      monkeypatch):
    # Its messages call the expression "config", as Click's do; it is not that file.
    (tmp_path / "config").write_text("elementclass Twice { input -> output }\n")
    monkeypatch.chdir(tmp_path)
    assert run_cli(capsys, "-q", "-e", "require(library config); Idle -> Twice -> Discard") \
        == (0, "", "")


def test_quit_reports_unknown_classes_and_argument_errors_with_places(capsys):
    config = "a :: CliTicker(many);\nb :: Frobnicator;\nc :: Bogus(1)"
    status, out, err = run_cli(capsys, "-q", "-e", config)
    assert status == 1
    assert err.splitlines() == ["config:2: unknown element class 'Frobnicator'",
                                "config:3: unknown element class 'Bogus'"]
    status, out, err = run_cli(capsys, "-q", "-e", "a :: CliTicker(many, 1s, 4)")
    assert status == 1
    assert err.splitlines() == [
        "config:1: While configuring 'a :: CliTicker': COUNT: expected integer, got 'many'",
        "config:1: While configuring 'a :: CliTicker': too many arguments: '4'"]
    assert "Traceback" not in err


def test_syntax_error_is_reported_with_a_place(capsys):
    status, out, err = run_cli(capsys, "-q", "-e", "a :: CliTicker;\na -> -> b;")
    assert status == 1 and err.startswith("config:2")
    assert "Traceback" not in err


def test_port_errors_and_warnings(capsys):
    status, _, err = run_cli(capsys, "-q", "-e", "a :: CliTicker; b :: CliTicker; a -> b;")
    assert status == 1
    assert "'a :: CliTicker' has no output 0" in err
    status, _, err = run_cli(capsys, "-q", "-e",
                             "s :: StaticThreadSched(a 4096); a :: CliTicker;")
    assert status == 0 and "CPU 4096 does not exist" in err
    status, _, err = run_cli(capsys, "-q", "-w", "-e",
                             "s :: StaticThreadSched(a 4096); a :: CliTicker;")
    assert (status, err) == (0, "")


def test_config_from_file_positional_and_stdin(capsys, tmp_path, monkeypatch):
    conf = tmp_path / "r.click"
    conf.write_text("t :: CliTicker(2);\n")
    assert run_cli(capsys, "--simtime", "-f", str(conf), "-h", "t.ticks")[:2] == (0, "2\n")
    assert run_cli(capsys, "--simtime", str(conf), "-h", "t.ticks")[:2] == (0, "2\n")
    monkeypatch.setattr(sys, "stdin", open(conf))
    assert run_cli(capsys, "--simtime", "-h", "t.ticks")[:2] == (0, "2\n")


def test_missing_file_and_two_configurations(capsys, tmp_path):
    status, _, err = run_cli(capsys, str(tmp_path / "absent.click"))
    assert status == 1 and "cannot read" in err and "absent.click" in err
    status, _, err = run_cli(capsys, "-e", "x :: CliTicker", str(tmp_path / "other.click"))
    assert status == 1 and "give one configuration" in err


def test_parameters_set_configuration_variables(capsys):
    config = "define($N 2); t :: CliTicker($N, $P);"
    status, out, _ = run_cli(capsys, "--simtime", "N=5", "-e", config, "P=10ms", "-h",
                             "t.ticks", "-h", "t.config")
    assert status == 0
    assert out == "t.ticks:\n5\n\nt.config:\n5, 10ms\n\n"


def test_output_writes_the_flat_configuration_even_with_unknown_classes(capsys, tmp_path):
    config = "elementclass Pair { a :: Unknown1; b :: CliTicker };\np :: Pair;"
    target = tmp_path / "flat.click"
    status, out, err = run_cli(capsys, "-q", "-o", str(target), "-e", config)
    assert status == 1 and "unknown element class 'Unknown1'" in err
    flat_text = target.read_text()
    assert "p/a :: Unknown1" in flat_text
    status, out, err = run_cli(capsys, "-q", "-o", "-", "-e", flat_text)
    assert out == flat_text


def test_output_writes_the_flat_configuration_then_runs_it_unless_quit(capsys, tmp_path):
    log = tmp_path / "log"
    status, out, err = run_cli(capsys, "-q", "-o", "-", "-e", f"a :: CliLog({log})")
    assert (status, err, out) == (0, "", f"a :: CliLog({log});\n\n")
    assert not log.exists()
    status, out, err = run_cli(capsys, "--simtime", "-o", "-", "-e", f"a :: CliLog({log})")
    assert (status, err, out) == (0, "", f"a :: CliLog({log});\n\n")
    assert log.read_text() == "initialize a\ncleanup a\n"


# --- running

def test_handlers_printed_when_the_router_stops(capsys):
    status, out, err = run_cli(capsys, "--simtime", "-e", "a :: CliTicker(4, 1min)",
                               "-h", "a.ticks", "-h", "version", "-h", "a.class")
    assert status == 0
    assert out == f"a.ticks:\n4\n\nversion:\n{pyclick.__version__}\n\na.class:\nCliTicker\n\n"


def test_an_empty_value_prints_nothing_of_its_own(capsys):
    # An empty configuration reads as nothing at all, not an empty line.
    config = "a :: CliTicker(1); Idle -> n :: Null -> Discard"
    status, out, _ = run_cli(capsys, "--simtime", "-e", config, "-h", "n.config")
    assert (status, out) == (0, "")
    status, out, _ = run_cli(capsys, "--simtime", "-e", config, "-h", "n.config", "-h", "a.ticks")
    assert (status, out) == (0, "n.config:\n\na.ticks:\n1\n\n")


def test_a_raw_handler_prints_as_it_is(capsys):
    # InfiniteSource's data is raw, as in Click: no newline is added to it.
    config = 's :: InfiniteSource("ab", LIMIT 1, STOP true) -> Discard'
    assert run_cli(capsys, "--simtime", "-e", config, "-h", "s.data")[:2] == (0, "ab")
    status, out, _ = run_cli(capsys, "--simtime", "-e", config, "-h", "s.data", "-h", "s.limit")
    assert (status, out) == (0, "s.data:\nab\ns.limit:\n1\n\n")


def test_unknown_handler_is_an_error(capsys):
    status, out, err = run_cli(capsys, "--simtime", "-e", "a :: CliTicker(1)",
                               "-h", "a.nope", "-h", "a.ticks")
    assert status == 1
    assert out == "a.ticks:\n1\n\n"
    assert err == "no 'a.nope' handler\n"


def test_initialize_failure_cleans_up_and_reports(capsys, tmp_path):
    log = tmp_path / "log"
    config = f"a :: CliLog({log}); b :: CliLog({log}, FAIL init); c :: CliLog({log});"
    status, out, err = run_cli(capsys, "-e", config)
    assert status == 1
    assert err == "config:1: While initializing 'b :: CliLog': refusing to start\n"
    assert log.read_text() == "initialize a\ncleanup a\n"


def test_threads_option(capsys):
    status, out, _ = run_cli(capsys, "-j", "1", "-e", "a :: CliTicker(2, 1ms)",
                             "-h", "a.ticks")
    assert (status, out) == (0, "2\n")


def test_control_socket_options_add_an_element(capsys, tmp_path):
    sock = tmp_path / "ctl sock"
    status, out, err = run_cli(capsys, "-q", "-u", str(sock), "-p", "0", "-e",
                               "a :: CliTicker", "-h", "list")
    assert status == 0, err
    # Named as Click names them: -p's first, then -u's, numbered from the second.
    assert out.splitlines()[1:] == ["a", "click_driver@@ControlSocket",
                                    "click_driver@@ControlSocket@1"]
    status, out, err = run_cli(capsys, "-q", "-u", str(sock), "-e", "a :: CliTicker",
                               "-h", "click_driver@@ControlSocket.config")
    assert status == 0 and out.splitlines()[0] == f'UNIX, "{sock}"'


# --- a real process: signals, failures

@pytest.fixture
def start_pyclick(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Starts ``pyclick`` on a configuration; a process still running when
    the test ends (it failed half-way) is killed."""
    started: list[subprocess.Popen] = []

    def start(config: str, *options: str) -> subprocess.Popen:
        env = dict(os.environ, PYTHONPATH=f"{TESTS}{os.pathsep}{ROOT}")
        conf = tmp_path / "probe.click"
        conf.write_text("require(package test_cli);\n" + config)
        proc = subprocess.Popen([sys.executable, "-m", "pyclick", *options, str(conf)],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def wait_for(ready: Callable[[], bool], what: str, proc: subprocess.Popen,
             timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if proc.poll() is not None:
            raise AssertionError(f"pyclick exited early: {proc.communicate()}")
        time.sleep(0.02)
    proc.kill()
    raise AssertionError(f"{what} never happened")


def wait_for_line(path: Path, line: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    wait_for(lambda: path.exists() and line in path.read_text().splitlines(),
             f"'{line}' in {path}", proc, timeout)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_runs_every_cleanup_in_reverse_order(tmp_path, start_pyclick, signum):
    log = tmp_path / "life.log"
    proc = start_pyclick(f"a :: CliLog({log}); b :: CliLog({log}); "
                                   f"c :: CliLog({log}); StaticThreadSched(b 0);")
    wait_for_line(log, "initialize c", proc)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signum, err
    assert err == f"pyclick: stopped by {signal.Signals(signum).name}\n"
    assert log.read_text().splitlines() == [
        "initialize a", "initialize b", "initialize c",
        "cleanup c", "cleanup b", "cleanup a"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_finishes_the_driver_script_as_click_does(tmp_path, start_pyclick, signum):
    # A signal is a stop event the DriverManager cannot refuse: its remaining
    # instructions run, waits ended at once (the 30 s one and the second
    # wait_stop), then the router stops as signalled.
    log = tmp_path / "life.log"
    # The signal comes once the script waits (it notes that in the log).
    proc = start_pyclick(f"a :: CliLog({log}); c :: Counter; Idle -> c -> Discard;"
                         f'DriverManager(print >>{log} "waiting", wait_stop, write c.reset, '
                         'print "now $(c.count)", wait 30s, wait_stop, print "end", stop)')
    wait_for_line(log, "waiting", proc)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signum, err
    assert out == "now 0\nend\n"
    assert log.read_text().splitlines() == ["initialize a", "waiting", "cleanup a"]


#: A script that says the router runs: by then its signal scripts catch their
#: signals (the log's "initialize" lines come before that).
READY = 'Script(print >>life.log "ready");'


def test_signal_scripts_run_on_their_signals(tmp_path, start_pyclick):
    # HUP, a stop signal, runs the script that catches it instead; TERM,
    # caught by none, still stops the router in order.
    log = tmp_path / "life.log"
    proc = start_pyclick(f"a :: CliLog({log}); {READY}"
                         f'Script(TYPE SIGNAL USR1 HUP, print >>{log} "caught $0 $write")')
    wait_for_line(log, "ready", proc)
    for count, signum in enumerate((signal.SIGUSR1, signal.SIGHUP, signal.SIGUSR1), 1):
        proc.send_signal(signum)
        wait_for(lambda: log.read_text().count("caught") == count, f"run {count}", proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert log.read_text().splitlines() == ["initialize a", "ready"] + ["caught run true"] * 3 + [
        "cleanup a"]


def test_a_signal_script_can_stop_the_router_its_own_way(tmp_path, start_pyclick):
    log = tmp_path / "life.log"
    proc = start_pyclick(f"a :: CliLog({log}); c :: Counter; Idle -> c -> Discard; {READY}"
                         'Script(TYPE SIGNAL INT, print "counted $(c.count)", stop)')
    wait_for_line(log, "ready", proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    # Stopped by the script, not by the signal: a clean exit.
    assert (proc.returncode, out, err) == (0, "counted 0\n", "")
    assert log.read_text().splitlines() == ["initialize a", "ready", "cleanup a"]


def test_every_script_a_signal_reaches_runs_though_the_first_stops_the_router(
        tmp_path, start_pyclick):
    log = tmp_path / "life.log"
    proc = start_pyclick(f"a :: CliLog({log}); {READY}"
                         f'Script(TYPE SIGNAL INT, print >>{log} "hello", stop);'
                         f'Script(TYPE SIGNAL INT, print >>{log} "goodbye");'
                         f'Script(TYPE SIGNAL INT HUP, print >>{log} "and farewell")')
    wait_for_line(log, "ready", proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out, err) == (0, "", "")
    assert log.read_text().splitlines() == ["initialize a", "ready", "hello", "goodbye",
                                            "and farewell", "cleanup a"]


def test_a_signal_script_that_exits_is_not_armed_again(tmp_path, start_pyclick):
    # Only a run that reaches its end catches the next signal: after exit the
    # second USR1 is held, never run. USR2, caught by another script and
    # handled after USR1 when both are pending, shows that it came by.
    log = tmp_path / "life.log"
    proc = start_pyclick(f"a :: CliLog({log}); {READY}"
                         f'Script(TYPE SIGNAL USR1, print >>{log} "usr1", exit);'
                         f'Script(TYPE SIGNAL USR2, print >>{log} "usr2")')
    wait_for_line(log, "ready", proc)
    for signums, line in (((signal.SIGUSR1,), "usr1"), ((signal.SIGUSR1, signal.SIGUSR2), "usr2")):
        for signum in signums:
            proc.send_signal(signum)
        wait_for_line(log, line, proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert log.read_text().splitlines() == ["initialize a", "ready", "usr1", "usr2", "cleanup a"]


def test_a_signal_arriving_while_its_script_waits(tmp_path, start_pyclick):
    # USR1 twice during the first run: held, one more run once it reached its
    # end. INT during the script's wait for it: no script is ready, so it
    # stops the router in order.
    log = tmp_path / "life.log"
    proc = start_pyclick(f"a :: CliLog({log}); {READY}"
                         f'Script(TYPE SIGNAL USR1, print >>{log} "begin", wait 0.3s, '
                         f'print >>{log} "end");'
                         f'Script(TYPE SIGNAL INT, print >>{log} "int", wait 30s, '
                         f'print >>{log} "never")')
    wait_for_line(log, "ready", proc)
    proc.send_signal(signal.SIGUSR1)
    wait_for_line(log, "begin", proc)
    proc.send_signal(signal.SIGUSR1)
    proc.send_signal(signal.SIGUSR1)
    wait_for(lambda: log.read_text().count("end") == 2, "the second run", proc)
    proc.send_signal(signal.SIGINT)
    wait_for_line(log, "int", proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGINT, err
    assert log.read_text().splitlines() == ["initialize a", "ready", "begin", "end", "begin", "end",
                                            "int", "cleanup a"]


def test_failing_timer_exits_1_with_element_name_and_place(tmp_path, start_pyclick):
    log = tmp_path / "life.log"
    proc = start_pyclick(f"a :: CliLog({log});\nbad :: CliLog({log}, FAIL timer);")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    # The place first, as in every error and warning line.
    assert "probe.click:3: [bad] timer of 'bad :: CliLog' failed" in err
    assert "lost the table" in err
    assert log.read_text().splitlines()[-2:] == ["cleanup bad", "cleanup a"]


def test_unix_control_socket_reads_handlers_and_stops_the_router(tmp_path, start_pyclick):
    log = tmp_path / "life.log"
    sock_path = tmp_path / "ctl"
    proc = start_pyclick(f"a :: CliLog({log});", "-u", str(sock_path))
    wait_for_line(log, "initialize a", proc)
    # The ControlSocket is declared after 'a', so it listens a little later.
    wait_for(sock_path.exists, f"a socket at {sock_path}", proc)
    with socket.socket(socket.AF_UNIX) as client:
        client.connect(str(sock_path))
        reader = client.makefile("rb")
        assert reader.readline().startswith(b"Click::ControlSocket/")
        client.sendall(b"READ a.class\r\n")
        assert reader.readline() == b"200 Read handler 'a.class' OK\r\n"
        assert reader.readline() == b"DATA 6\r\n" and reader.read(6) == b"CliLog"
        client.sendall(b"WRITE stop\r\n")
        assert reader.readline().startswith(b"200")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert log.read_text().splitlines() == ["initialize a", "cleanup a"]
