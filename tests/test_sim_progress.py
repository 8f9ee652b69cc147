"""Progress bars: on a terminal only, never under QUIET, never without one."""

import importlib.util
import io
import sys
from pathlib import Path

import pytest

from pyclick.errors import Landmark
from pyclick.sim import progress
from pyclick.sim.flows import UDP, build_frame
from pyclick.sim.pcap import write_pcap
from pyclick.sim.progress import BarProgress, SilentProgress, progress_bar
from tests.helpers import configured_router

pytest.importorskip("tqdm")


class Terminal(io.StringIO):
    """Standard error as a terminal would be, keeping what is written."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def at_once(monkeypatch):
    """Bars show from the first moment (not after half a second)."""
    monkeypatch.setattr(progress, "BAR_DELAY", 0.0)


def test_a_bar_is_drawn_on_a_terminal(at_once):
    terminal = Terminal()
    bar = progress_bar(60.0, "fd", "simulated s", stream=terminal)
    assert isinstance(bar, BarProgress)
    bar.close()
    assert "fd:   0%|" in terminal.getvalue() and "0/60 simulated s" in terminal.getvalue()


def test_no_bar_off_a_terminal_or_when_not_wanted(at_once):
    pipe = io.StringIO()
    assert isinstance(progress_bar(60.0, "fd", "s", stream=pipe), SilentProgress)
    assert isinstance(progress_bar(60.0, "fd", "s", shown=False, stream=Terminal()),
                      SilentProgress)
    assert pipe.getvalue() == ""


def test_no_bar_without_tqdm(at_once, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    assert isinstance(progress_bar(60.0, "fd", "s", stream=Terminal()), SilentProgress)


def run(config: str) -> None:
    router = configured_router([("fd", "SimNIC", config)], at=Landmark("bar.click", 1))
    router.run()


def test_a_simulated_run_shows_its_bar_on_a_terminal(at_once, monkeypatch, capsys):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    run("CORES 2, CAPACITY 10000, DURATION 3")
    assert "fd:" in terminal.getvalue() and "/3 simulated s" in terminal.getvalue()
    # The progress lines still reach standard output.
    assert capsys.readouterr().out.count("| load ") == 3


def test_no_progress_output_when_standard_error_is_not_a_terminal(at_once, monkeypatch,
                                                                  capsys):
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    run("CORES 2, CAPACITY 10000, DURATION 3")
    assert pipe.getvalue() == ""
    assert capsys.readouterr().out.count("| load ") == 3


def test_no_bar_under_quiet(at_once, monkeypatch, capsys):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    run("CORES 2, CAPACITY 10000, DURATION 3, QUIET true")
    assert terminal.getvalue() == "" and capsys.readouterr().out == ""


def test_reading_a_damaged_captures_end_shows_a_bar_on_a_terminal(at_once, monkeypatch,
                                                                  tmp_path, capsys):
    # A capture cut in its last record: its length is found by walking it.
    path = tmp_path / "cut.pcap"
    write_pcap(path, [(i * 0.01, build_frame(b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02",
                                             1, 2, UDP)) for i in range(100)])
    path.write_bytes(path.read_bytes()[:-20])
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    configured_router([("fd", "SimNIC", f"PCAP {path}")], at=Landmark("bar.click", 1))
    assert f"fd: reading {path.name}" in terminal.getvalue()
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    configured_router([("fd", "SimNIC", f"PCAP {path}")], at=Landmark("bar.click", 1))
    assert pipe.getvalue() == ""


def bench_sim():
    """bench/bench_sim.py, imported from its file (bench/ is not a package)."""
    path = Path(__file__).resolve().parents[1] / "bench" / "bench_sim.py"
    spec = importlib.util.spec_from_file_location("bench_sim", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_benchmark_shows_its_bar_on_a_terminal_only(at_once, monkeypatch, capsys):
    soak = bench_sim().soak
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    soak(120 / 3600)                        # two simulated minutes, the bar moves every one
    assert "soak:" in terminal.getvalue() and "/120 simulated s" in terminal.getvalue()
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    soak(120 / 3600)
    assert pipe.getvalue() == ""
    assert capsys.readouterr().out.count("simulated seconds: 120") == 2
