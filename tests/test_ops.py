"""Operating a balancer: run recordings, their plots, and Prometheus metrics."""

from __future__ import annotations

import re
import struct
import urllib.request
from pathlib import Path

import pytest

from pyclick.cli import main
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


def test_metrics_endpoint_agrees_with_the_balancer_handlers():
    config = SIM.format(duration=1000, extra="") + "m :: Metrics(PORT 0);"
    router = Router(flatten(config))
    router.configure()
    seen: dict = {}

    def probe() -> None:
        # Scrape from the balancer's own thread between two ticks, so that
        # the handlers and the endpoint describe the same tick.
        db = router.element("db")
        if db.total_moves < 3 or "samples" in seen:
            return
        url = router.handlers.read("m.url")
        seen["samples"] = scrape(url)
        seen["moves"] = router.handlers.read("db.moves")
        seen["load"] = router.handlers.read("db.load")
        seen["imbalance"] = router.handlers.read("db.imbalance")
        router.stop("scraped")

    router.element("db").observers.append(lambda decision: probe())
    assert router.run(handle_signals=False) == 0
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
