"""Script: its language, its handlers, and whole configurations it drives."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyclick.cli import main
from pyclick.element import Element, read_handler, write_handler
from pyclick.elements.scriptexpr import FUNCTIONS, ScriptError, expand
from pyclick.errors import ConfigError, Landmark
from pyclick.router import Router
from pyclick.runtime.handlers import HandlerError
from tests.helpers import config_error_of, configured_router

LANDMARK = Landmark("<test>", 2)
REPO = Path(__file__).resolve().parent.parent


class ScriptTestKnob(Element):
    """ScriptTestKnob() -- a value to read and write, and a handler that fails"""

    def initialize(self) -> None:
        self.value = "7"
        self.writes: list[str] = []

    @read_handler("value")
    def _read_value(self) -> str:
        return self.value

    @write_handler("value")
    def _write_value(self, value: str) -> None:
        self.value = value
        self.writes.append(value)

    @read_handler("broken")
    def _read_broken(self) -> str:
        raise ValueError("out of order")


def build(elements, connections=(), simtime=True) -> Router:
    return configured_router(elements, connections, at=LANDMARK, simtime=simtime)


def run_script(script: str, *others, simtime=True) -> Router:
    router = build([("k", "ScriptTestKnob", ""), *others, ("s", "Script", script)],
                   simtime=simtime)
    router.run(handle_signals=False)
    return router


# --- the text layer ----------------------------------------------------------------

def test_expand_variables_handlers_and_quotes():
    variables = {"x": "5", "name": "c"}.get
    calls = []

    def call(text: str) -> str:
        calls.append(text)
        return f"[{text}]"

    assert expand("$x ${x}y $(h $x) \"$x\" '$x' $nope $ $", variables, call) == \
        "5 5y [h 5] \"5\" '$x' $nope $ $"
    assert expand("$($(inner) outer)", variables, call) == "[[inner] outer]"
    assert calls == ["h 5", "inner", "[inner] outer"]


def test_a_handler_value_is_put_in_as_it_is():
    # As Click's: a value that ends a line (a table, RED's queues) keeps its
    # newline, so printing it shows the lines the handler gave.
    assert expand("<$(h)>", {}.get, lambda text: "q\n") == "<q\n>"


def test_expand_rejects_unterminated_constructs():
    with pytest.raises(ScriptError):
        expand("$(add 1", {}.get, lambda t: "")
    with pytest.raises(ScriptError):
        expand("${x", {}.get, lambda t: "")


@pytest.mark.parametrize("call, result", [
    ("add 1 2 3", "6"), ("add 1 2.5", "3.5"), ("sub 10 5 2", "3"), ("mul 2 3 4", "24"),
    ("div 7 2", "3.5"), ("div 6 3", "2"), ("idiv 7 2", "3"), ("idiv -7 2", "-3"),
    ("mod 7 3", "1"), ("rem 7.5 2", "1.5"), ("min 5 10 2", "2"), ("max 5 10 2", "10"),
    ("avg 5 10 3", "6"), ("neg 4", "-4"), ("abs -4.5", "4.5"), ("ceil 1.2", "2"),
    ("floor 1.8", "1"), ("count 5 0 2", "3"), ("popcount 5 0 2", "2"),
    ("eq 10 0xA", "true"), ("eq 10x 10x", "true"), ("ne 1 2", "true"), ("lt 2 10", "true"),
    ("lt b a", "false"), ("gt 3 2", "true"), ("le 9 8", "false"), ("ge 8 8", "true"),
    ("not true", "false"), ("and true yes 1", "true"), ("or false no", "false"),
    ("nand true true", "false"), ("nor false false", "true"), ("if true a b", "a"),
    ("if false a b", "b"), ("in foo bar foo", "true"), ("in foo bar", "false"),
    ('sprintf "%05x" 127', "0007f"), ('sprintf "%s=%d" x 3', "x=3"),
    ("length abcde", "5"), ('unquote "a b"', "a b"),
    ('first "a b" c', '"a b"'), ("first", ""),
    # The byte-order functions swap the low 2 or 4 bytes; numbers are held to
    # 32-bit signed (2147483648 is 0x7fffffff); 010 is octal, 0b11 binary.
    ("htons 258", "513"), ("htons 0x0102", "513"), ("ntohs 1", "256"), ("htons 010", "2048"),
    ("htons 0b11", "768"), ("htons 70000", "28689"), ("htons -1", "65535"),
    ("htonl 1", "16777216"), ("ntohl 16777216", "1"), ("htonl -1", "4294967295"),
    ("htonl 2147483648", "4294967167"),
])
def test_functions(call, result):
    name, _, text = call.partition(" ")
    assert FUNCTIONS[name](text) == result


@pytest.mark.parametrize("call, result", [
    # No number: the starting value, 0 for add and sub, 1 for the others.
    ("add", "0"), ("sub", "0"), ("mul", "1"), ("min", "1"), ("div", "1"), ("idiv", "1"),
    ("div 7", "7"), ("idiv 7.9", "7"),
    # 64-bit integers wrap around; a longer integer is read as a real number.
    ("add 9223372036854775807 1", "-9223372036854775808"),
    ("mul 4294967296 4294967296", "0"), ("neg -9223372036854775808", "-9223372036854775808"),
    ("add 9223372036854775808 0", "9.22337203685e+18"),
    # 0-led integers are octal; real results have 12 significant digits.
    ("add 010 1", "9"), ("mul 1000000 1000000.0", "1e+12"),
    # C's remainder takes the dividend's sign.
    ("mod -7 3", "-1"), ("rem -7 3", "-1"), ("rem 7 -3", "1"),
    ("if true a", "a"), ("if false a", ""), ("if true a b c", "a"),
    ("in", "false"), ("in a 'a'", "true"),
    # and/or read no further than the word that settles them.
    ("and false maybe", "false"), ("or true maybe", "true"), ("sprintf", ""),
])
def test_functions_on_the_edges_answer_as_clicks(call, result):
    name, _, text = call.partition(" ")
    assert FUNCTIONS[name](text) == result


@pytest.mark.parametrize("call", ["add 1 x", "div 1 0", "mod 1.5 2", "not maybe",
                                  "if maybe a b", "and true maybe", 'sprintf "%d" x', "neg 1 2",
                                  "htons", "htons 1 2", "htonl abc", "ntohs 08"])
def test_function_misuse_raises(call):
    name, _, text = call.partition(" ")
    with pytest.raises(ScriptError):
        FUNCTIONS[name](text)


# --- instructions ----------------------------------------------------------------

def test_loop_with_variables_and_arithmetic(capsys):
    router = run_script("set x 0, label top, print $x, set x $(add $x 1), "
                        "goto top $(lt $x 5), stop")
    assert capsys.readouterr().out == "0\n1\n2\n3\n4\n"
    assert router.stop_reason == "s: stop"


def test_wait_follows_the_simulated_clock(capsys):
    run_script("print $(now), wait 2.5, print $(s.now), wait 100ms, print $(now)")
    assert capsys.readouterr().out == "0.000000\n2.500000\n2.600000\n"


def test_wait_in_real_time(capsys):
    # $(now) has microsecond resolution: allow for its rounding.
    router = run_script("set t $(now), wait 50ms, print $(ge $(sub $(now) $t) 0.04999), stop",
                        simtime=False)
    assert capsys.readouterr().out == "true\n" and router.stop_reason == "s: stop"


def test_a_timewarp_shortens_waits_in_real_time(capsys):
    # Ten times as fast: 2 seconds of router time pass in about 0.2 real ones.
    started = time.monotonic()
    run_script("write timewarp 10, set t $(now), wait 2s, print $(ge $(sub $(now) $t) 1.999), "
               "print $(timewarp), stop", simtime=False)
    assert capsys.readouterr().out == "true\n10\n"
    assert time.monotonic() - started < 1.5
    # nowait: an idle router goes straight on to its next timer.
    started = time.monotonic()
    run_script("write timewarp nowait, set t $(now), wait 50s, "
               "print $(ge $(sub $(now) $t) 49.999), print $(timewarp), stop", simtime=False)
    assert capsys.readouterr().out == "true\nnowait\n"
    assert time.monotonic() - started < 5


def test_now_is_a_date_in_real_time(capsys):
    # As Click's: seconds since the epoch, which a log line can be dated by.
    before = time.time()
    run_script("print $(now), stop", simtime=False)
    printed = float(capsys.readouterr().out)
    assert before - 0.001 <= printed <= time.time() + 0.001


def test_print_handler_form_and_quoting(capsys):
    run_script("print k.value, print \"k.value\", print '\"k.value\"', set x k.value, "
               "print $x, print $($x), printn \"a\", printn 'b', print \"\", "
               "set q \"$(k.value)\", print '$q', setq q \"$(k.value)\", print \"[$q]\"")
    assert capsys.readouterr().out.splitlines() == [
        "7", "k.value", '"k.value"', "k.value", "7", "ab", "$q", "[7]"]


def test_values_are_printed_as_they_are_quotes_and_all(capsys):
    # A value put into text is escaped there, so print's unquoting gives it
    # back whole: set keeps the quotes it was given, setq removes them.
    run_script('set x "a b", print $x, print "[$x]", setq y "a b", print $y, print "[$y]", '
               'set z "\\"", print "$z", print -$z, print $(first \'a b\' c)')
    assert capsys.readouterr().out.splitlines() == [
        '"a b"', '["a b"]', "a b", "[a b]", '"\\""', '-"\\""', "'a b'"]


def test_variables_exist_from_the_start_and_run_arguments_as_clicks(capsys):
    # x is set later on: empty until then; y is set nowhere: left as written.
    # The run arguments: quoted words are one, past the last is empty; $0
    # names the handler, $write whether it was written. The returned text
    # keeps its quotes (return, not returnq), and print shows them.
    run_script('print "[$x]", set x 1, print "[$x]", print "[$y]", '
               'print $(p.run a "b c"), print $(p.run)',
               ("p", "Script", 'TYPE PASSIVE, return "$# [$1] [$2] [$3] $0 $write"'))
    assert capsys.readouterr().out.splitlines() == [
        "[]", "[1]", "[$y]", '"2 [a] [\\"b c\\"] [] run false"', '"0 [] [] [] run false"']


def test_print_to_files(tmp_path, capsys):
    out = tmp_path / "out.txt"
    run_script(f"print >{out} \"first\", print >>{out} $(k.value), print >> {out} \"third line\"")
    assert out.read_text() == "first\n7\nthird line\n"
    assert capsys.readouterr().out == ""


def test_cat_and_catq_read_a_file_for_the_script_only(tmp_path, capsys, caplog):
    (tmp_path / "note").write_text("two words\r\nend\n")
    router = run_script(f"print $(cat {tmp_path}/note), print $(catq {tmp_path}/note), "
                        f"print [$(cat {tmp_path}/missing)]")
    assert capsys.readouterr().out == 'two words\r\nend\n"two words\\r\\nend\\n"\n[]\n'
    assert "missing: No such file or directory" in caplog.text
    # Not handlers: what the script reads no ControlSocket client can.
    listed = {line.split("\t")[0] for line in router.handlers.read("s.handlers").splitlines()}
    for name in ("cat", "catq", "kill"):
        with pytest.raises(HandlerError) as err:
            router.handlers.read(f"s.{name}", "x")
        assert err.value.code == 511 and name not in listed


def test_kill_signals_processes(capsys, caplog):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        # Signal 0 only checks that the process is there.
        run_script(f"print [$(kill 0 {child.pid})], print [$(kill TERM {child.pid})], "
                   "print [$(kill 33 1)], print [$(kill HUP x)]")
        assert child.wait(timeout=10) == -15
    finally:
        child.kill()
    assert capsys.readouterr().out == "[]\n[]\n[]\n[]\n"
    assert "kill: bad SIGNO" in caplog.text and "kill: bad PID 'x'" in caplog.text


def test_save_and_append_print_a_handler_to_a_file_or_standard_output(tmp_path, capsys):
    out = tmp_path / "saved.txt"
    run_script(f"save k.value {out}, append k.value {out}, save k.value, append k.value -")
    assert out.read_text() == "7\n7\n"
    assert capsys.readouterr().out == "7\n7\n"


def test_clicks_other_names_of_the_waits_and_empty_arguments(capsys):
    # wait alone and wait_step are pauses (one step, then two); wait_time and
    # wait_for wait on the clock. Empty arguments are no instructions.
    router = build([("s", "Script", 'print "a", , wait, print "b", wait_step 2, print "c", '
                                    'wait_time 1, wait_for 1, print "d"'),
                    ("t", "Script", "wait 1, write s.step, wait 1, write s.step 2, wait 3, "
                                    "stop")])
    router.run(handle_signals=False)
    assert capsys.readouterr().out == "a\nb\nc\nd\n"
    assert [i.op for i in router.element("s").program] == [
        "print", "pause", "print", "pause", "print", "wait", "wait", "print"]


def test_read_prints_name_and_value_to_stderr(capsys):
    run_script("read k.value")
    assert capsys.readouterr().err == "k.value:\n7\n"


def test_read_names_the_handler_in_full_and_q_forms_unquote_the_arguments(capsys):
    # The script's own handler is named with the script's name, a quoted
    # handler name is read unquoted, and readq and printq unquote what
    # follows the name: "xyz" is 5 characters, unquoted 3.
    run_script('read length "xyz", readq length "xyz", read "k.value", '
               'print length "xyz", printq length "xyz"')
    printed = capsys.readouterr()
    assert printed.err == "s.length:\n5\ns.length:\n3\nk.value:\n7\n"
    assert printed.out == "5\n3\n"


def test_write_sets_status_variable(capsys, caplog):
    router = run_script("write k.value 42, print $?, write k.value \"a b\", "
                        "writeq k.value \"c d\", write nobody.value 1, print $?, "
                        "write k.broken 1, print $?")
    knob = router.element("k")
    assert knob.writes == ["42", '"a b"', "c d"]
    assert capsys.readouterr().out == "0\n510\n530\n"
    assert "no element named 'nobody'" in caplog.text


def test_passive_run_returns_value_with_arguments():
    router = build([("s", "Script", "returnq \"$(add $1 $2) $# [$args]\", TYPE PASSIVE")])
    router.initialize()
    assert router.handlers.read("s.run", "3 4") == "7 2 [3 4]"
    assert router.handlers.read("s.run", "10 -1") == "9 2 [10 -1]"
    router.cleanup()


def test_errors_of_a_run_reach_the_handler_caller():
    router = build([("s", "Script", "goto bad $(eq $1 0), return ok, label bad, "
                                    "errorq \"zero given\", TYPE PASSIVE")])
    router.initialize()
    assert router.handlers.read("s.run", "1") == "ok"
    with pytest.raises(HandlerError) as err:
        router.handlers.read("s.run", "0")
    assert err.value.code == 520
    assert "s :: Script at 'errorq \"zero given\"': zero given" in err.value.message
    router.cleanup()


def test_failures_a_run_went_on_after_reach_the_handler_caller(caplog):
    # As Click gives a handler call's errors to its caller: the script runs to
    # its end, and the caller hears of every failure on the way.
    router = build([("s", "Script", "print $(nobody.count), set done yes, write nobody.reset, "
                                    "return ok, TYPE PASSIVE")])
    router.initialize()
    with caplog.at_level(logging.ERROR):
        with pytest.raises(HandlerError) as err:
            router.handlers.read("s.run")
    assert err.value.message.splitlines() == [
        "s.run: s :: Script at 'print $(nobody.count)': no element named 'nobody'",
        "s :: Script: write nobody.reset: no element named 'nobody'"]
    assert router.handlers.read("s.get", "done") == "yes" and caplog.text == ""
    router.cleanup()


def test_a_refused_recursive_run_is_one_of_the_runs_failures():
    router = build([("s", "Script", "print $(s.run), set done yes, error \"last\", "
                                    "TYPE PASSIVE")])
    router.initialize()
    with pytest.raises(HandlerError) as err:
        router.handlers.read("s.run")
    lines = err.value.message.splitlines()
    assert len(lines) == 2 and "already running (recursive run)" in lines[0]
    assert lines[1] == "s :: Script at 'error \"last\"': \"last\""
    assert router.handlers.read("s.get", "done") == "yes"
    router.cleanup()


def test_passive_script_written_type_first():
    router = build([("s", "Script", "TYPE PASSIVE, return ok")])
    router.initialize()
    assert router.handlers.read("s.run") == "ok"
    router.cleanup()


def test_passive_script_does_not_start_by_itself(capsys):
    router = run_script("print \"ran\", TYPE PASSIVE")
    assert capsys.readouterr().out == ""
    router.handlers.write("s.run", "")
    assert capsys.readouterr().out == "ran\n"


def test_script_functions_are_handlers():
    router = build([("s", "Script", "TYPE PASSIVE")])
    router.initialize()
    h = router.handlers
    assert h.read("s.add", "1 2 3") == "6"
    assert h.read("s.lt", "1 2") == "true"
    assert h.read("s.readable", "s.add s.now") == "true"
    assert h.read("s.writable", "s.now") == "false"
    with pytest.raises(HandlerError) as err:
        h.read("s.div", "1 0")
    assert err.value.code == 520 and "division by zero" in err.value.message
    router.cleanup()


def test_shift_takes_the_first_word_off_a_variable_or_the_arguments():
    router = build([("s", "Script", "TYPE PASSIVE, set v p q  r, "
                                    "returnq \"$(shift) $1 $# [$args] $(shift v) [$v]\"")])
    router.initialize()
    h = router.handlers
    assert h.read("s.run", "a b c d") == "a b 3 [b c d] p [q  r]"
    assert h.read("s.shift", "v") == "q"
    assert h.read("s.get", "v") == "r"
    for params, message in (("v w", "too many arguments"), ("zz", "no variable 'zz'")):
        with pytest.raises(HandlerError, match=message):
            h.read("s.shift", params)
    router.cleanup()


def test_init_export_get_and_set_handlers():
    router = build([("s", "Script", "init n 5, export e $(add 1 1), set n $(add $n 1), "
                                    "set n $(add $n 1), pause, loop")])
    router.initialize()
    assert router.handlers.read("s.e") == "2"
    router.scheduler.run()          # runs until the pause
    assert router.handlers.read("s.get", "n") == "7"
    router.handlers.write("s.set", "n 100")
    router.handlers.write("s.step", "")          # loop: set twice, pause again
    assert router.handlers.read("s.get", "n") == "102"
    with pytest.raises(HandlerError):
        router.handlers.read("s.get", "missing")
    router.cleanup()


def test_pause_and_step_from_another_script(capsys):
    router = build([("a", "Script", "pause 2, print \"resumed $(now)\", stop"),
                    ("b", "Script", "wait 1, write a.step, wait 1, write a.step 1")])
    router.run(handle_signals=False)
    assert capsys.readouterr().out == "resumed 2.000000\n"


def test_step_cuts_a_wait_short(capsys):
    router = build([("a", "Script", "wait 100, print $(now), stop"),
                    ("b", "Script", "wait 3, write a.step")])
    router.run(handle_signals=False)
    assert capsys.readouterr().out == "3.000000\n"


def test_goto_handler_jumps_to_a_label(capsys):
    router = build([("a", "Script", "wait 10, print \"skipped\", label here, "
                                    "print \"here $(now)\", stop"),
                    ("b", "Script", "wait 1, write a.goto here")])
    router.run(handle_signals=False)
    assert capsys.readouterr().out == "here 1.000000\n"
    with pytest.raises(HandlerError):
        router.handlers.write("a.goto", "nowhere")


def test_special_goto_targets(capsys):
    run_script("init i 0, print $i, set i $(add $i 1), goto end $(eq $i 3), loop")
    assert capsys.readouterr().out == "0\n1\n2\n"
    router = run_script("goto stop, print \"unreachable\"")
    assert router.stop_reason == "s: stop" and capsys.readouterr().out == ""
    router = run_script("goto exit true, stop")
    assert router.stop_reason != "s: stop"


def test_a_failed_substitution_is_reported_and_the_instruction_goes_on(caplog, capsys):
    # As in Click: a $() naming no readable handler stays as written, one
    # whose call fails leaves nothing; each failure is reported.
    with caplog.at_level(logging.ERROR):
        router = run_script('print "k=$(k.nope) $(k.value) [$(add 1 q)] $(nobody.x)", '
                            'set v "$(k.broken)-$(k.value)", print $(get v)')
    assert capsys.readouterr().out == "k=$(k.nope) 7 [] $(nobody.x)\n\"-7\"\n"
    assert router.element("s").variables["v"] == '"-7"'
    failures = [r.getMessage() for r in caplog.records]
    assert len(failures) == 4 and all("s :: Script at '" in f for f in failures)
    assert ["k.nope" in failures[0], "'q'" in failures[1], "nobody" in failures[2],
            "out of order" in failures[3]] == [True] * 4


def test_looping_script_is_stopped_with_an_error(caplog):
    with caplog.at_level(logging.ERROR):
        router = run_script("label a, goto a")
    assert "looping" in caplog.text and "<test>:2" in caplog.text
    assert router.element("s").finished


def test_runtime_errors_name_the_element_and_instruction(caplog, capsys):
    with caplog.at_level(logging.ERROR):
        run_script("print $(k.broken), print \"after\"")
    assert "s :: Script" in caplog.text and "print $(k.broken)" in caplog.text
    assert "out of order" in caplog.text
    # The failed call leaves nothing in its place; the print goes on.
    assert capsys.readouterr().out == "\nafter\n"
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        run_script("set t soon, wait $t")
    assert "wait: expected time" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        run_script("error \"bad $(k.value)\"")
    assert "bad 7" in caplog.text


@pytest.mark.parametrize("script, message", [
    ("jump x", "'jump x': unknown instruction 'jump'"),
    ("goto nowhere", "'goto nowhere': no label 'nowhere'"),
    ("wait soon", "'wait soon': expected time"),
    ("label a, label a", "label 'a' defined twice"),
    ("set", "expected 'set VARIABLE TEXT'"),
    ("set 9x 1", "expected 'set VARIABLE TEXT'"),
    ("stop now", "'stop' takes no argument"),
    ("write", "expected 'write HANDLER'"),
    ("pause two", "expected 'pause [COUNT]'"),
    ("TYPE SIGNAL", "TYPE: expected 'SIGNAL SIGNO...' (INT, HUP, USR1... or numbers)"),
    ("TYPE SIGNAL USR1 NOPE", "TYPE: bad signal 'NOPE'"),
    ("TYPE SIGNAL 9", "TYPE: signal '9' cannot be caught"),
    ("TYPE SIGNAL INT 65", "TYPE: signal '65' cannot be caught"),
    ("TYPE PROXY", "TYPE: PROXY scripts are not supported"),
    ("TYPE SOMETIMES", "TYPE: expected ACTIVE, PASSIVE, PACKET, DRIVER or SIGNAL SIGNO..."),
])
def test_configuration_mistakes(script, message):
    text = str(config_error_of(build, [("s", "Script", script)]))
    assert "<test>:2" in text and "s :: Script" in text and message in text


def test_init_failure_stops_the_start():
    router = build([("s", "Script", "init x $(nobody.count)")])
    with pytest.raises(ConfigError) as err:
        router.run(handle_signals=False)
    assert "no element named 'nobody'" in str(err.value) and "<test>:2" in str(err.value)


# --- whole configurations, through the command -------------------------------------

EXPERIMENT = ('InfiniteSource(LIMIT 10, DATA "\\<' + "00" * 64 + '>") -> c :: Counter '
              "-> Print(x) -> Discard; Script(wait 0.1, print $(c.count), stop)")
PACKET_LINE = "x:   64 | " + " ".join(["00000000"] * 6)


@pytest.mark.parametrize("options", [["--simtime"], []])
def test_script_drives_an_experiment_and_stops_it(capsys, options):
    assert main(options + ["-e", EXPERIMENT]) == 0
    printed = capsys.readouterr()
    assert printed.out.splitlines() == ["10"]
    assert printed.err.splitlines() == [PACKET_LINE] * 10


def test_experiment_as_a_subprocess():
    result = subprocess.run(
        [sys.executable, "-m", "pyclick", "-e",
         "src :: InfiniteSource(LIMIT 3, BURST 2, LENGTH 64) -> c :: Counter -> Discard; "
         "Script(wait 50ms, print \"packets $(c.count) bytes $(c.byte_count)\", "
         "write c.reset, print $(c.count), stop)"],
        cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "packets 3 bytes 192\n0\n"


# --- hostile expressions: reported, and the script goes on -----------------------------

@pytest.mark.parametrize("expression, message", [
    ("$(random 0)", "random: expected N of at least 1, got 0"),
    ("$(random 5 1)", "with A <= B"),
    ("$(ceil nan)", "expected a finite number, got 'nan'"),
    ("$(floor 1e999)", "expected a finite number, got '1e999'"),
    ("$(div 1 0)", "div: division by zero"),
    ("$(idiv 1e300 1e-300)", "idiv:"),
    ('$(sprintf "%999999999d" 1)', "field widths and precisions are numbers up to 4096"),
    ('$(sprintf "%*d" 5 1)', "field widths and precisions"),
    ("$(mod " + "9" * 500 + " 7)", "expected a number, got '" + "9" * 60 + "…(500 bytes)'"),
])
def test_expression_errors_are_reported_and_the_script_goes_on(caplog, capsys, expression,
                                                               message):
    router = build([("s", "Script", f"print {expression}, print \"after\""),
                    ("t", "Script", "wait 1, print \"still running\", stop")])
    with caplog.at_level(logging.ERROR):
        assert router.run(handle_signals=False) == 0
    assert message in caplog.text and "s :: Script" in caplog.text
    # The failed call leaves nothing in its place: an empty line.
    assert capsys.readouterr().out == "\nafter\nstill running\n"
    assert router.stop_reason == "t: stop" and router.element("s").finished


@pytest.mark.parametrize("failing", [
    "print nobody.count", "printn $(div 1 0)", "read nobody.count", "write nobody.reset",
    "set x $(add one)", "save nobody.count", "print >/nonexistent/dir/file hello",
    "goto done $(div 1 0)", "goto done maybe"])
def test_a_failing_instruction_does_not_keep_the_script_from_its_stop(caplog, capsys, failing):
    # As in Click: a typo in a handler's name must not leave a router that
    # nothing stops. A goto whose condition fails does not jump.
    with caplog.at_level(logging.ERROR):
        router = run_script(f"{failing}, print \"after\", label done, stop")
    assert router.stop_reason == "s: stop" and router.now() == 0.0
    assert capsys.readouterr().out == "after\n"
    assert f"s :: Script at '{failing}'" in caplog.text or "write nobody.reset" in caplog.text


@pytest.mark.parametrize("ending, message", [
    ("wait $(div 1 0)", "division by zero"), ("pause $(k.value)x", "pause: expected"),
    ("return $(div 1 0)", "division by zero"), ("error \"bad $(k.value)\"", "bad 7"),
    ("goto error", "error")])
def test_failures_that_end_the_script(caplog, capsys, ending, message):
    with caplog.at_level(logging.ERROR):
        router = run_script(f"set x 1, {ending}, print \"never\"", ("t", "Script", "wait 1, stop"))
    assert message in caplog.text and f"s :: Script at '{ending}'" in caplog.text
    assert capsys.readouterr().out == "" and router.element("s").finished


class ScriptTestWhere(Element):
    """ScriptTestWhere() -- tells the thread its handler runs on"""

    @read_handler("thread")
    def _read_thread(self) -> str:
        return threading.current_thread().name


def test_a_huge_wait_keeps_the_worker_thread_alive(capsys):
    """Thread 0 has nothing to do for 1e300 s; it must still serve its handlers."""
    router = build([("s", "Script", "wait 1e300, print \"too early\""),
                    ("w", "ScriptTestWhere", ""),
                    ("t", "Script", "wait 100ms, print $(w.thread), stop"),
                    ("sched", "StaticThreadSched", "t 0")], simtime=False)
    assert router.run(handle_signals=False) == 0
    assert capsys.readouterr().out == "pyclick-worker-0\n"


def test_an_infinite_wait_is_refused_when_configured():
    text = str(config_error_of(build, [("s", "Script", "wait 1e999")]))
    assert "'wait 1e999': expected finite time" in text


def test_a_negative_pause_count_is_refused():
    text = str(config_error_of(build, [("s", "Script", "pause -1")]))
    assert "'pause -1': expected 'pause [COUNT]': expected unsigned integer, got '-1'" in text


@settings(max_examples=1000, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(sorted(FUNCTIONS)),
       st.lists(st.one_of(
           st.sampled_from(["nan", "inf", "-inf", "1e999", "-0", "0", "1e308", "1e-320",
                            "9" * 400, "9" * 5000, "0x" + "f" * 300, "\u00b2", "'q'", '"%s"',
                            "%999999999d", "%*d", "true", ""]),
           st.integers(-2**70, 2**70).map(str),
           st.floats().map(repr),
           st.text(max_size=8)), max_size=4))
def test_functions_answer_or_raise_script_errors_only(name, words):
    try:
        result = FUNCTIONS[name](" ".join(words))
    except ScriptError:
        return
    assert isinstance(result, str) and len(result) < 100_000


def test_a_long_pause_takes_its_steps_at_once(capsys):
    count = 2**31 - 1
    router = build([("a", "Script", f"pause {count}, print \"resumed $(now)\", stop"),
                    ("b", "Script", f"wait 1, write a.step {count - 1}, wait 1, "
                                    f"write a.step {count}, print \"$?\"")])
    router.run(handle_signals=False)
    assert capsys.readouterr().out == "resumed 2.000000\n0\n"


# --- stop is a driver stop event; the interface a driver script uses ----------------------

def test_stop_instruction_is_a_driver_stop_event_a_driver_manager_hears(capsys):
    # Script a stops at 1 s and b at 2 s: two stop events; the DriverManager
    # waits for both, so the router runs until 2 s instead of stopping at 1 s.
    router = build([("a", "Script", "wait 1, stop"), ("b", "Script", "wait 2, stop"),
                    ("dm", "DriverManager", "wait_stop 2, print $(now)")])
    assert router.run(handle_signals=False) == 0
    assert capsys.readouterr().out == "2.000000\n"
    assert router.stop_reason == "dm: stop"


def test_a_driver_script_ended_by_an_error_stops_the_router(capsys, caplog):
    # Its end, by an error too, is the driver's: the router stops at 1 s, where
    # the division fails, rather than run on with nothing to stop it (b's stop
    # at 6 s would be the first to end it).
    router = build([("dm", "DriverManager", "wait 1, wait $(div 1 0), print never"),
                    ("b", "Script", "wait 5, print late, wait 1, stop")])
    assert router.run(handle_signals=False) == 0
    assert capsys.readouterr().out == ""
    assert router.now() == 1.0 and "div: division by zero" in caplog.text
    assert router.stop_reason == "dm: script ended by an error"


def test_stop_instruction_without_a_driver_manager_stops_the_router(capsys):
    router = build([("a", "Script", "wait 1, stop"), ("b", "Script", "wait 2, print late")])
    router.run(handle_signals=False)
    assert capsys.readouterr().out == ""
    assert router.stop_reason == "a: stop"
    assert router.now() == 1.0


def test_start_now_and_step_are_what_a_driver_script_uses(capsys):
    program = 'print "one", pause, print "two", wait 5, print "three"'
    router = build([("s", "Script", program)])
    router.initialize()
    try:
        script = router.element("s")
        assert script.waiting_to_start
        script.start_now()
        assert not script.waiting_to_start
        assert capsys.readouterr().out == "one\n"
        script.step()
        assert capsys.readouterr().out == "two\n"
        script.step()  # cuts the wait short
        assert capsys.readouterr().out == "three\n"
        assert script.finished
        script.step()  # nothing left to step
        assert capsys.readouterr().out == ""
    finally:
        router.cleanup()


# --- PACKET scripts ------------------------------------------------------------------

def counts_after(config: str) -> list[str]:
    """The a.count and b.count of ``config`` run in simulated time."""
    from pyclick.lang import flatten
    router = Router(flatten(config, filename="p.click"), simtime=True)
    router.configure()
    values: list[str] = []
    router.run(handle_signals=False, before_cleanup=lambda: values.extend(
        router.handlers.read(name) for name in ("a.count", "b.count")))
    return values


@pytest.mark.parametrize("script, counts", [
    # n is 1, 2, 3: outputs 1, 0, 1.
    ("set n $(add $n 1), return $(mod $n 2)", ["1", "2"]),
    # Without a return, output 0; a return naming no output drops the packet.
    ("set n 1", ["3", "0"]),
    ("return 5", ["0", "0"]),
    ("error failed", ["0", "0"]),
    # end sends the packet to output 0, exit and stop drop it; a goto to
    # end or exit does as they do.
    ("end", ["3", "0"]),
    ("exit", ["0", "0"]),
    ("goto end", ["3", "0"]),
    ("set n $(add $n 1), goto exit $(eq $n 2), end", ["2", "0"]),
])
def test_a_packet_script_sends_each_packet_to_the_output_it_returns(script, counts):
    assert counts_after(f"InfiniteSource(LIMIT 3, STOP true) -> x :: Script({script}) "
                        "-> a :: Counter -> Discard; x[1] -> b :: Counter -> Discard") == counts


def test_a_packet_script_reads_its_input_and_may_be_pulled():
    # Packets from input 1 return 1; pulled through a Queue, output 1 is pushed.
    assert counts_after("x :: Script(return $input); InfiniteSource(LIMIT 2, STOP true) -> [1]x;"
                        "Idle -> [0]x; x -> a :: Counter -> Discard;"
                        "x[1] -> b :: Counter -> Discard") == ["0", "2"]
    assert counts_after("InfiniteSource(LIMIT 2, STOP true) -> Queue -> x :: Script(return 1)"
                        "-> a :: Counter -> Discard; x[1] -> b :: Counter -> Discard") == ["0", "2"]


@pytest.mark.parametrize("config, message", [
    ("x :: Script(TYPE PACKET, return 0)", "PACKET script must have inputs"),
    ("Idle -> x :: Script(TYPE ACTIVE, end) -> Discard", "ports allowed only on PACKET scripts"),
])
def test_only_packet_scripts_have_ports(config, message):
    from pyclick.lang import flatten
    router = Router(flatten(config, filename="p.click"), simtime=True)
    with pytest.raises(ConfigError, match=message):
        router.configure()
