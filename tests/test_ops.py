"""Operating a balancer: run recordings, their plots, and Prometheus metrics."""

from __future__ import annotations

import io
import logging
import os
import re
import struct
import urllib.request
from pathlib import Path

import pytest

from pyclick.args import ELEMENT, Args
from pyclick.cli import configure_logging, log_destination, main
from pyclick.element import Element
from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.plot import main as plot_main
from pyclick.record import read_records
from pyclick.router import Router

SIM = ("fd :: SimNIC(CORES 4, RETA_SIZE 64, DURATION {duration}, SEED 3, QUIET true) -> Discard;"
       "db :: DeviceBalancer(METHOD rsspp, DEV fd, RSSCOUNTER xdp, CYCLES realcpu,"
       " RETA_SIZE 64, TIMER 50ms, TIMER_MAX 200ms{extra});"
       "xdp :: SimCounter(DEV fd);")


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_record_holds_every_tick_and_matches_the_handlers(tmp_path, capsys):
    record = tmp_path / "run.jsonl"
    status = main(["-e", SIM.format(duration=5, extra=f", RECORD {record}"),
                   "-h", "db.moves", "-h", "db.table"])
    out = capsys.readouterr().out
    assert status == 0
    records = list(read_records(record))
    assert len(records) >= 5 / 0.2
    times = [r.t for r in records]
    assert times == sorted(times) and times[-1] <= 5.0
    for r in records:
        assert len(r.counts) == 64 and len(r.table) == 64
        assert len(r.loads) == len(r.cores) == 4
        assert all(0 <= x <= 1 for x in r.loads)
        # The SimNIC meters its service: cores, the ideal, drops and delays per tick.
        assert r.in_use == 4 and r.ideal is not None and r.drops == 0
        # 0.6 of 4 cores at the default TARGET_LOAD 0.8 needs 3 cores, give or take a tick's burst.
        assert 2 <= r.ideal <= 4
        assert len(r.latency_us) == 3 and 1.0 <= r.latency_us[0] <= r.latency_us[2]
    # The recording agrees with what the balancer says at the end.
    moves = sum(len(r.moves) for r in records)
    assert re.search(rf"db.moves:\n{moves}\b", out)
    table_text = out.split("db.table:\n", 1)[1].split("\n")[0]
    assert [int(x) for x in table_text.split()] == records[-1].table
    # Each recorded move is a real change of the table from one tick to the next.
    for before, after in zip(records, records[1:]):
        for bucket, old, new in after.moves:
            assert before.table[bucket] == old and after.table[bucket] == new


def test_plot_draws_png_and_svg_of_a_recording(tmp_path, capsys):
    record = tmp_path / "run.jsonl"
    assert main(["-e", SIM.format(duration=3, extra=f", RECORD {record}")]) == 0
    png = tmp_path / "run.png"
    assert plot_main([str(record), "-o", str(png), "--size", "800x600"]) == 0
    assert png.stat().st_size > 10_000
    assert png_size(png) == (800, 600)
    svg = tmp_path / "run.svg"
    assert plot_main([str(record), "-o", str(svg)]) == 0
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and 'width="864pt"' in text  # 12 in


def test_recordings_without_service_figures_still_read(tmp_path):
    old = tmp_path / "old.jsonl"
    old.write_text('{"t":0.1,"tick":0.1,"cores":[0,1],"loads":[0.5,0.5],"counts":[1,2],'
                   '"table":[0,1],"moves":[],"imbalance":0.0,"solver_us":3.0}\n')
    (record,) = read_records(old)
    assert record.in_use == 0 and record.ideal is None and record.latency_us == []
    assert plot_main([str(old), "-o", str(tmp_path / "old.png")]) == 0


def test_plot_reports_bad_recordings(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"t": 1}\n')
    assert plot_main([str(bad)]) == 1
    assert "bad.jsonl:1: not a tick record" in capsys.readouterr().err
    assert plot_main([str(tmp_path / "missing.jsonl")]) == 1


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    samples = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = re.match(r"(\w+)(?:\{(.*)\})? (\S+)$", line)
        labels = tuple(sorted(re.findall(r'(\w+)="([^"]*)"', m.group(2) or "")))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


class MetricsProbe(Element):
    """MetricsProbe(BALANCER) -- scrapes the metrics from the balancer's thread after a tick

    Description
    Subscribes to BALANCER after Metrics did (it is declared after it), so
    that the endpoint and the handlers describe the same tick, and stops
    the router once the balancer moved buckets three times.
    """

    def configure(self, args: Args) -> None:
        self.balancer = args.read_mp("BALANCER", ELEMENT)
        self.seen: dict = {}

    def initialize(self) -> None:
        self.balancer.subscribe(self._probe)

    def _probe(self, decision) -> None:
        handlers = self.router.handlers
        if self.balancer.counters().moves < 3 or self.seen:
            return
        self.seen["samples"] = scrape(handlers.read("m.url"))
        for name in ("moves", "load", "imbalance"):
            self.seen[name] = handlers.read(f"db.{name}")
        self.router.stop("scraped")


def test_metrics_endpoint_agrees_with_the_balancer_handlers():
    config = SIM.format(duration=1000, extra="") + "m :: Metrics(PORT 0); p :: MetricsProbe(db);"
    router = Router(flatten(config))
    router.configure()
    assert router.run(handle_signals=False) == 0
    seen = router.element("p").seen
    samples = seen["samples"]
    dev = (("device", "fd"),)
    assert samples[("pyclick_buckets_moved_total", dev)] == int(seen["moves"].split()[0])
    pairs = seen["load"].split()
    loads = {pairs[i]: float(pairs[i + 1]) for i in range(0, len(pairs), 2)}
    assert len(loads) == 4
    for core, load in loads.items():
        assert samples[("pyclick_core_load", (("core", core), ("device", "fd")))] == \
            pytest.approx(load, abs=1e-3)
    assert samples[("pyclick_imbalance", dev)] == pytest.approx(float(seen["imbalance"]), abs=1e-3)
    rates = [v for (name, _), v in samples.items() if name == "pyclick_bucket_packet_rate"]
    assert len(rates) == 64 and sum(rates) > 0
    assert samples[("pyclick_table_writes_total", dev)] >= 1
    assert samples[("pyclick_errors_total", dev)] == 0
    assert samples[("pyclick_tick_seconds", dev)] > 0
    # A core of the default 1,000,000 packets/s serves one every microsecond.
    delays = [samples[("pyclick_latency_seconds", (("device", "fd"), ("quantile", q)))]
              for q in ("0.5", "0.95", "0.99")]
    assert delays[0] == pytest.approx(1e-6, rel=0.02) and delays == sorted(delays)
    assert samples[("pyclick_dropped_packets_total", dev)] == 0


def test_metrics_arguments_name_their_keyword():
    config = SIM.format(duration=1, extra="") + "m :: Metrics(PORT 70000, BALANCER fd);"
    router = Router(flatten(config, "m.click"))
    with pytest.raises(ConfigError) as caught:
        router.configure()
    assert caught.value.messages == [
        "m.click:1: While configuring 'm :: Metrics': PORT: must be at least 0 and at most "
        "65535, got '70000'",
        "m.click:1: While configuring 'm :: Metrics': BALANCER: 'fd :: SimNIC' is not a "
        "balancer (it must offer device_name, subscribe, counters)"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def log_to(stream, records) -> None:
    configure_logging(verbose=False, quiet_warnings=False, stream=stream)
    log = logging.getLogger("pyclick.test")
    try:
        for level, message, extra in records:
            log.log(level, message, extra=extra)
    finally:
        configure_logging(verbose=False, quiet_warnings=False)


def log_lines(stream: io.StringIO, records) -> list[str]:
    log_to(stream, records)
    return stream.getvalue().splitlines()


RECORDS = [(logging.WARNING, "BURST size 0", {"landmark": "conf.click:3", "element": "u"}),
           (logging.INFO, "3 moves", {"element": "db"}),
           (logging.ERROR, "worker thread 1 failed", None),
           (logging.WARNING, "conf.click:9: 'a :: Null' output 0 unused", None),
           (logging.WARNING, "q :: Queue: overflow", {"landmark": "conf.click:4", "element": "q"})]


def test_a_message_naming_its_place_already_names_it_once():
    assert log_lines(Terminal(), [(logging.ERROR, "conf.click:2: s :: Script: write x.y: no "
                                   "element named 'x'", {"landmark": "conf.click:2",
                                                         "element": "s"})]) == [
        "conf.click:2: s :: Script: write x.y: no element named 'x'"]


def test_on_a_terminal_warnings_read_like_errors_without_times():
    assert log_lines(Terminal(), RECORDS) == [
        "conf.click:3: warning: [u] BURST size 0", "[db] 3 moves", "worker thread 1 failed",
        "conf.click:9: warning: 'a :: Null' output 0 unused",
        "conf.click:4: warning: q :: Queue: overflow"]


def test_to_a_file_each_line_starts_with_its_time():
    lines = log_lines(io.StringIO(), RECORDS)
    assert len(lines) == 5
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} conf.click:3: warning: \[u\] BURST "
                        r"size 0", lines[0])
    assert lines[1].endswith(" [db] 3 moves")


def test_into_a_pipe_lines_read_as_on_a_terminal():
    # Another program reads them (grep, a test harness, a container's log
    # collector, which dates lines itself): Click's lines, undated.
    read_end, write_end = os.pipe()
    with open(read_end) as reader, open(write_end, "w") as writer:
        assert log_destination(writer) == "pipe"
        log_to(writer, RECORDS[:2])
        writer.close()
        assert reader.read().splitlines() == ["conf.click:3: warning: [u] BURST size 0",
                                              "[db] 3 moves"]


def test_to_the_journal_each_line_carries_its_priority(tmp_path, monkeypatch):
    with open(tmp_path / "journal", "w+") as stream:
        status = os.fstat(stream.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{status.st_dev}:{status.st_ino}")
        assert log_destination(stream) == "journal"
        log_to(stream, RECORDS)
        stream.seek(0)
        assert stream.read().splitlines() == [
            "<4>conf.click:3: warning: [u] BURST size 0", "<6>[db] 3 moves",
            "<3>worker thread 1 failed", "<4>conf.click:9: warning: 'a :: Null' output 0 unused",
            "<4>conf.click:4: warning: q :: Queue: overflow"]
    # Another file than the journal's is a file.
    with open(tmp_path / "other", "w") as other:
        assert log_destination(other) == "file"


def test_errors_of_the_command_carry_their_priority_to_the_journal(tmp_path, monkeypatch):
    config = tmp_path / "bad.click"
    config.write_text("a :: Idle;\nb :: NoSuchElement;\n")
    with open(tmp_path / "journal", "w+") as stream:
        status = os.fstat(stream.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{status.st_dev}:{status.st_ino}")
        monkeypatch.setattr("sys.stderr", stream)
        assert main(["-q", str(config)]) == 1
        assert main(["-q", "--no-such-option"]) == 1
        stream.seek(0)
        lines = stream.read().splitlines()
    assert lines[0] == f"<3>{config}:2: unknown element class 'NoSuchElement'"
    assert lines[1] == "<3>pyclick: unrecognized arguments: --no-such-option"
    assert all(line.startswith("<3>") for line in lines)


def test_errors_of_the_command_stay_bare_in_a_file(tmp_path, monkeypatch):
    config = tmp_path / "bad.click"
    config.write_text("b :: NoSuchElement;\n")
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    with open(tmp_path / "log", "w+") as stream:
        monkeypatch.setattr("sys.stderr", stream)
        assert main(["-q", str(config)]) == 1
        stream.seek(0)
        assert stream.read() == f"{config}:1: unknown element class 'NoSuchElement'\n"


def test_metrics_listens_by_default_outside_node_exporters_port():
    router = Router(flatten(SIM.format(duration=1, extra="") + "m :: Metrics;"))
    router.configure()
    assert router.element("m").port == 19100
