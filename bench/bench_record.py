"""Size of a recording (RECORD) per tick, compact against JSON lines, on the README's demo.

The demo (``conf/rsspp-sim.click``: 60 simulated seconds, RETA 128, TIMER
10 / TIMER_MAX 1000) runs twice per core count, once recording to a
compact file and once to JSON lines; the bytes per tick are each file's
size over its records. Both runs are seeded alike, so they see the same
traffic and take the same decisions; the benchmark checks that the two
recordings give the same per-second figures, per bucket and per core
(the compact format sums each bucket's counts while its core stays, within
a second), and says whether the compact one meets its size target.
``--traffic`` runs the demo on other families of the simulator's traffic
(``SimNIC``'s TRAFFIC), one after the other. Run::

    python bench/bench_record.py            # 8 cores; --cores 8 18 for more
    python bench/bench_record.py --traffic campus shift onoff steady dense
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pyclick.plot import per_second_imbalance  # noqa: E402
from pyclick.record import TickRecord, read_records  # noqa: E402
from pyclick.sim.progress import progress_bar  # noqa: E402

DEMO = ROOT / "conf" / "rsspp-sim.click"
PYCLICK = Path(sys.executable).with_name("pyclick")
#: Bytes per tick the compact format must stay within at 8 cores and RETA 128.
TARGET_BYTES = 100.0


def run_demo(cores: int, record: Path, traffic: str | None = None) -> list[TickRecord]:
    """The demo's records on ``traffic`` (default: the demo's), written to ``record``
    (its name chooses the format)."""
    text = DEMO.read_text()
    edits = [("AUTOSCALE false)", f"AUTOSCALE false, RECORD {record})")]
    if traffic is not None:
        edits.append(("DURATION 60)", f"DURATION 60, TRAFFIC {traffic})"))
    for old, new in edits:
        if text.count(old) != 1:
            raise SystemExit(f"{DEMO} no longer reads '{old}' once: update bench_record.py")
        text = text.replace(old, new)
    config = record.with_suffix(".click")
    config.write_text(text)
    subprocess.run([str(PYCLICK), str(config), f"CPU={cores}"], check=True,
                   stdout=subprocess.DEVNULL)
    return list(read_records(record))


def per_second_buckets(records: list[TickRecord]) -> dict[int, np.ndarray]:
    """Packets of every bucket in every second."""
    seconds: dict[int, np.ndarray] = {}
    for r in records:
        if r.counts:
            total = seconds.setdefault(int(r.t), np.zeros(len(r.counts), dtype=np.int64))
            total += np.asarray(r.counts, dtype=np.int64)
    return seconds


def agree(compact: list[TickRecord], lines: list[TickRecord]) -> bool:
    """Whether both recordings give the same per-second figures, per bucket and per core."""
    a, b = per_second_buckets(compact), per_second_buckets(lines)
    if a.keys() != b.keys() or any(not np.array_equal(a[s], b[s]) for s in a):
        return False
    return all(np.array_equal(x, y, equal_nan=True)
               for x, y in zip(per_second_imbalance(compact), per_second_imbalance(lines)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, nargs="+", default=[8])
    parser.add_argument("--traffic", nargs="+", default=[None], metavar="FAMILY",
                        help="traffic families to run the demo on (default: the demo's)")
    opts = parser.parse_args()
    began = time.perf_counter()
    print("| traffic | cores | format | ticks | bytes | bytes per tick | JSON lines / compact | "
          "per-second figures agree | target |")
    print("|---|---|---|---|---|---|---|---|---|")
    runs = [(t, c) for t in opts.traffic for c in opts.cores]
    bar = progress_bar(len(runs), "bench_record", "runs")
    with tempfile.TemporaryDirectory(prefix="bench-record-") as where:
        for done, (traffic, cores) in enumerate(runs, 1):
            name = f"run-{traffic or 'demo'}-{cores}"
            compact_path = Path(where) / f"{name}.rec"
            lines_path = Path(where) / f"{name}.jsonl"
            compact = run_demo(cores, compact_path, traffic)
            lines = run_demo(cores, lines_path, traffic)
            per_tick = compact_path.stat().st_size / len(compact)
            json_per_tick = lines_path.stat().st_size / len(lines)
            same = "yes" if len(compact) == len(lines) and agree(compact, lines) else "NO"
            target = "-" if cores != 8 else (
                f"<= {TARGET_BYTES:g}: {'met' if per_tick <= TARGET_BYTES else 'MISSED'}")
            shown = traffic or "the demo's"
            bar.write(f"| {shown} | {cores} | compact | {len(compact):,} | "
                      f"{compact_path.stat().st_size:,} | {per_tick:.1f} | "
                      f"{json_per_tick / per_tick:.1f} | {same} | {target} |")
            bar.write(f"| {shown} | {cores} | JSON lines | {len(lines):,} | "
                      f"{lines_path.stat().st_size:,} | {json_per_tick:.1f} | - | - | - |")
            bar.advance_to(done)
    bar.close()
    print(f"\n(wall time {time.perf_counter() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
