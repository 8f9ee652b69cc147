"""Click one-liners through the command, as click(1) runs them: handler values,
-h, -x, -t, -o, -C, --simtime=TIME, -v, Print on standard error, unquoted hex data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import pyclick
from pyclick.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "clickpath"


def click(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# --- one-liners and their handler values

@pytest.mark.parametrize("config, handlers, expected", [
    ("InfiniteSource(LIMIT 10) -> t :: Tee(2); t[0] -> a :: Counter -> Discard;"
     "t[1] -> b :: Counter -> Discard", ["a.count", "b.count"], ["10", "10"]),
    ("InfiniteSource(LIMIT 7) -> r :: RoundRobinSwitch; r[0] -> a :: Counter -> Discard;"
     "r[1] -> b :: Counter -> Discard", ["a.count", "b.count"], ["4", "3"]),
    ("InfiniteSource(LIMIT 10) -> q :: Queue -> Unqueue -> c :: Counter -> Discard",
     ["c.count", "q.length"], ["10", "0"]),
    ("InfiniteSource(LIMIT 10, LENGTH 100) -> Strip(14) -> c :: Counter -> Discard",
     ["c.count", "c.byte_count"], ["10", "860"]),
    ("InfiniteSource(LIMIT 5) -> Paint(1) -> s :: PaintSwitch; s[0] -> a :: Counter -> Discard;"
     "s[1] -> b :: Counter -> Discard", ["a.count", "b.count"], ["0", "5"]),
    ("InfiniteSource(LIMIT 6) -> s :: Switch(-1); s[0] -> c :: Counter -> Discard",
     ["c.count"], ["0"]),
])
def test_one_liner_handler_values(capsys, config, handlers, expected):
    argv = ["--simtime", "-e", config]
    for name in handlers:
        argv += ["-h", name]
    status, out, _ = click(capsys, *argv)
    assert status == 0
    if len(handlers) == 1:
        assert out == f"{expected[0]}\n"
    else:
        assert out == "".join(f"{n}:\n{v}\n\n" for n, v in zip(handlers, expected))


# Click looks at its stop flag before every task: once a source's STOP run
# asks the driver to stop, no other task runs, so packets still in a Queue
# stay there. Source and Unqueue take turns: with BURST 4 and LIMIT 10 the
# source runs 4, 4, 2 and then 0 packets (that run stops the driver), the
# Unqueue pulls one packet after each of the first three runs: 3 out, 7 left.
@pytest.mark.parametrize("limit, burst, pulled, left, highwater", [
    (10, 4, 3, 7, 8),
    (3, 4, 1, 2, 3),       # 3, then the stopping run
    (57, 4, 15, 42, 43),   # 14 runs of 4, one of 1
    (10, 1, 10, 0, 1),     # BURST 1: the queue never holds more than one
])
@pytest.mark.parametrize("simtime", [True, False])
def test_stop_leaves_queued_packets_as_click_does(capsys, limit, burst, pulled, left,
                                                  highwater, simtime):
    config = (f"InfiniteSource(LIMIT {limit}, BURST {burst}, STOP true) -> q :: Queue "
              "-> Unqueue -> c :: Counter -> Discard")
    status, out, _ = click(capsys, *(["--simtime"] if simtime else []), "-e", config,
                           "-h", "c.count", "-h", "q.length", "-h", "q.highwater_length")
    assert (status, out) == (0, f"c.count:\n{pulled}\n\nq.length:\n{left}\n\n"
                                f"q.highwater_length:\n{highwater}\n\n")


def test_first_source_to_finish_stops_the_other(capsys):
    # a (LIMIT 3) and b (LIMIT 5) take turns; a's fourth run sends nothing and
    # stops the driver before b's fourth.
    status, out, _ = click(capsys, "-e", "a :: InfiniteSource(LIMIT 3, STOP true) -> c :: Counter;"
                           "b :: InfiniteSource(LIMIT 5, STOP true) -> d :: Counter;"
                           "c -> Discard; d -> Discard", "-h", "c.count", "-h", "d.count")
    assert (status, out) == (0, "c.count:\n3\n\nd.count:\n3\n\n")


def test_ports_handler_in_clicks_words(capsys):
    # Each port: push or pull, ~ when the class leaves it agnostic, - for the
    # packet count (kept only by Click's statistics builds), then the other
    # ends, by input end and then output end in element order: a pull output
    # feeds two Unqueues, a push input is fed by four outputs; Tee is push.
    config = ("s :: InfiniteSource(LIMIT 5, STOP true) -> q :: Queue; q -> u1 :: Unqueue "
              "-> d :: Discard; q -> u2 :: Unqueue -> d; s2 :: InfiniteSource(LIMIT 1) "
              "-> t :: Tee(2) -> d; t[1] -> d")
    status, out, _ = click(capsys, "-e", config, "-h", "q.ports", "-h", "d.ports", "-h", "t.ports")
    assert status == 0
    assert out == ("q.ports:\n1 input\npush\t-\ts [0]\n1 output\npull\t-\t[0] u1, [0] u2\n\n"
                   "d.ports:\n1 input\npush~\t-\tu1 [0], u2 [0], t [0], t [1]\n0 outputs\n\n"
                   "t.ports:\n1 input\npush\t-\ts2 [0]\n2 outputs\npush\t-\t[0] d\n"
                   "push\t-\t[0] d\n\n")


def test_driver_manager_stop_in_real_time(capsys):
    status, out, _ = click(capsys, "-e", "InfiniteSource(LIMIT 10, STOP true) -> q :: Queue "
                           "-> Unqueue -> c :: Counter -> Discard; DriverManager(wait_stop, stop)",
                           "-h", "c.count")
    assert (status, out) == (0, "10\n")


# --- -h

def test_one_handler_prints_its_bare_value(capsys):
    assert click(capsys, "--simtime", "-e", "InfiniteSource(LIMIT 3) -> c :: Counter -> Discard",
                 "-h", "c.count")[:2] == (0, "3\n")


def test_global_handler_without_element(capsys):
    assert click(capsys, "-q", "-e", "Idle", "-h", "version")[:2] == \
        (0, f"{pyclick.__version__}\n")
    assert click(capsys, "-q", "-e", "Idle", "-h", ".version")[:2] == \
        (0, f"{pyclick.__version__}\n")


def test_handler_of_every_element_of_a_class_prints_names(capsys):
    config = ("InfiniteSource(LIMIT 2) -> a :: Counter -> b :: Counter -> Print(x, ACTIVE false)"
              " -> Discard")
    status, out, _ = click(capsys, "--simtime", "-e", config, "-h", "Counter.count")
    assert (status, out) == (0, "a.count:\n2\n\nb.count:\n2\n\n")


def test_handler_of_elements_matching_a_pattern(capsys):
    config = ("InfiniteSource(LIMIT 2) -> c1 :: Counter -> c2 :: Counter -> d :: Counter "
              "-> Discard")
    status, out, _ = click(capsys, "--simtime", "-e", config, "-h", "c?.count")
    assert (status, out) == (0, "c1.count:\n2\n\nc2.count:\n2\n\n")


def test_handler_errors_in_clicks_words(capsys):
    config = "InfiniteSource(LIMIT 1) -> c :: Counter -> Discard"
    status, out, err = click(capsys, "--simtime", "-e", config, "-h", "x.count", "-h", "z*.count",
                             "-h", "c.nope", "-h", "c.reset", "-h", "c.count")
    assert status == 1
    assert err.splitlines() == ["no element 'x'", "no element matching 'z*'",
                                "no 'c.nope' handler", "'c.reset' is a write handler"]
    assert out == "c.count:\n1\n\n"


def test_quit_reads_handlers_without_running(capsys):
    assert click(capsys, "-q", "-e", "InfiniteSource -> c :: Counter -> Discard",
                 "-h", "c.count")[:2] == (0, "0\n")


# --- -x, -t

@pytest.mark.parametrize("value, status", [("7", 7), ("0", 0), ("true", 0), ("false", 1)])
def test_exit_handler_gives_the_status(capsys, value, status):
    config = f"s :: Script(TYPE PASSIVE, return {value})"
    assert click(capsys, "-q", "-e", config, "-x", "s.run")[0] == status


def test_exit_handler_that_is_not_a_number(capsys):
    status, _, err = click(capsys, "-q", "-e", "s :: Script(TYPE PASSIVE, return many)",
                           "-x", "s.run")
    assert status == -1 and err == "exit handler value should be integer\n"


def test_exit_handler_from_a_count(capsys):
    assert click(capsys, "--simtime", "-e", "InfiniteSource(LIMIT 3) -> c :: Counter -> Discard",
                 "-x", "c.count")[0] == 3


def test_time_is_printed_before_the_handlers(capsys):
    status, out, _ = click(capsys, "--simtime", "-t", "-e",
                           "InfiniteSource(LIMIT 3) -> c :: Counter -> Discard", "-h", "c.count")
    lines = out.splitlines()
    assert status == 0 and lines[1:] == ["3"]
    assert re.fullmatch(r"\d+\.\d{3}u \d+\.\d{3}s \d+:\d{2}\.\d{2}", lines[0]), lines[0]


# --- -o, --simtime=TIME, -v

def test_output_also_runs_unless_quit(capsys, tmp_path):
    flat = tmp_path / "flat.click"
    status, out, _ = click(capsys, "--simtime", "-o", str(flat), "-e",
                           "InfiniteSource(LIMIT 4) -> c :: Counter -> Discard", "-h", "c.count")
    assert (status, out) == (0, "4\n")
    assert "c :: Counter" in flat.read_text()


def test_simtime_start(capsys):
    config = "s :: Script(wait 1, stop)"
    assert click(capsys, "--simtime=100", "-e", config, "-h", "s.now")[:2] == (0, "101.000000\n")
    assert click(capsys, "--simtime", "-e", config, "-h", "s.now")[:2] == (0, "1.000000\n")
    status, _, err = click(capsys, "--simtime=soon", "-e", config)
    # Named as written, not as the hidden option it becomes.
    assert status == 1 and err.startswith("pyclick: --simtime: expected seconds, got 'soon'\n")


def test_v_is_the_version(capsys):
    assert click(capsys, "-v")[:2] == (0, f"pyclick {pyclick.__version__}\n")


# --- -C: the element search path

def test_clickpath_finds_plugin_modules(capsys):
    status, out, err = click(capsys, "-C", str(EXAMPLES), "--simtime",
                             str(EXAMPLES / "demo.click"), "-h", "log.sizes")
    assert (status, out) == (0, "2 2 1\n"), err
    assert "reversed:    3 |  cba" in err


def test_clickpath_from_the_environment_and_require(capsys, monkeypatch, tmp_path):
    (tmp_path / "cpathmod.py").write_text(
        "from pyclick.element import Element\n"
        "class CpathNothing(Element):\n"
        "    '''CpathNothing() -- does nothing'''\n")
    monkeypatch.setenv("CLICKPATH", str(tmp_path))
    assert click(capsys, "-q", "-e", "CpathNothing")[0] == 0
    monkeypatch.delenv("CLICKPATH")
    assert click(capsys, "-q", "-C", str(tmp_path), "-e",
                 "require(package cpathmod); CpathNothing")[0] == 0


def test_unknown_class_without_clickpath(capsys, tmp_path):
    # Written where an element goes: Click's undeclared element.
    status, _, err = click(capsys, "-q", "-C", str(tmp_path), "-e", "CpathAbsent")
    assert (status, err) == (1, "config:1: undeclared element 'CpathAbsent'\n")
    status, _, err = click(capsys, "-q", "-C", str(tmp_path), "-e", "a :: CpathAbsent")
    assert (status, err) == (1, "config:1: unknown element class 'CpathAbsent'\n")


def test_a_port_left_unconnected_is_an_error_before_anything_runs(capsys):
    # Run, this source would wait forever on the full queue nothing drains.
    status, out, err = click(capsys, "-e", "InfiniteSource(LIMIT 10, STOP true) -> Queue(4);")
    assert (status, out, err) == (1, "", "config:1: 'Queue@2 :: Queue' output 0 unused\n")
    status, _, err = click(capsys, "-q", "-e", "Idle -> t :: Tee(3); t[0] -> Discard; "
                                               "t[2] -> Discard; c :: Counter")
    assert (status, err) == (1, "config:1: 'c :: Counter' input 0 unused\n"
                                "config:1: 't :: Tee' output 1 unused\n"
                                "config:1: 'c :: Counter' output 0 unused\n")


# --- Print and hex data

@pytest.mark.parametrize("config", [
    "Idle -> SetIPAddress(IPADDR 10.0.0.1) -> Discard",
    "FromDump(trace.pcap, MMAP false, STOP true) -> Discard",
    "Idle -> Queue -> ToDevice(eth0, METHOD PCAP, DEBUG true)",
    "Idle -> Queue -> ToDevice(eth0, METHOD LINUX, BURST 4)",
    "FromDevice(eth0, ENCAP ETHER, METHOD LINUX) -> Discard",
])
def test_keywords_as_click_spells_them(capsys, config):
    assert click(capsys, "-q", "-e", config) == (0, "", "")


def test_a_send_method_click_has_elsewhere_is_refused_by_name(capsys):
    status, _, err = click(capsys, "-q", "-e", "Idle -> Queue -> ToDevice(eth0, METHOD NETMAP)")
    assert status == 1
    assert "ToDevice@3 :: ToDevice': METHOD: expected one of LINUX, PCAP, got 'NETMAP'" in err


def test_print_writes_to_standard_error_and_hex_data_needs_no_quotes(capsys):
    status, out, err = click(capsys, "--simtime", "-e",
                             r"InfiniteSource(DATA \<00 11 22 33 44>, LIMIT 2) -> Print(x) "
                             "-> Discard")
    assert (status, out) == (0, "")
    assert err == "x:    5 | 00112233 44\n" * 2


def test_a_print_label_is_one_word_as_in_click(capsys):
    # Click reads LABEL as one word: quotes hold spaces, a second word is refused.
    status, out, err = click(capsys, "--simtime", "-e",
                             'InfiniteSource(DATA \\<00 11>, LIMIT 1) -> Print("in a") -> Discard')
    assert (status, err) == (0, "in a:    2 | 0011\n")
    status, out, err = click(capsys, "-q", "-e", "Idle -> Print(1 a) -> Discard")
    assert (status, err) == (1, "config:1: While configuring 'Print@2 :: Print': LABEL: "
                                "expected a single word, got '1 a'\n")


def test_print_pulled_prints_as_pushed(capsys):
    # A pull Discard pulls through Print: both packets are printed, as in Click.
    status, out, err = click(capsys, "--simtime", "-e",
                             r"InfiniteSource(DATA \<00 11>, LIMIT 2, STOP true) -> Queue "
                             "-> Print(p) -> Discard")
    assert (status, err) == (0, "p:    2 | 0011\n" * 2)
