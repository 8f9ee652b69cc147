"""Time of one balancing decision, against the C++ RSS++ figures and an earlier revision.

For each size (buckets x cores) and method, the simulator's traffic (seed 1,
offered load 0.75) drives one controller with a fixed 10 ms tick, so that
every tick is a decision; the per-core loads and per-bucket counts it was
given are recorded. The recording is then replayed ``--repeat`` times
through fresh controllers, timing every ``Controller.step`` on the deciding
thread's CPU clock:

- decision: the whole step (estimates, autoscale checks, solver, table diff);
- solve (rsspp-ref): the reference greedy with its overshoot search alone,
  the sum of its runs' times.

The machine is shared, so per tick the fastest of the replays is kept (what
the decision costs when nothing else gets in its way) and the figure is the
median over ticks; the plain median over every replay is given too. With
``--against REV`` the same recordings are replayed, interleaved with ours,
through ``pyclick/balance`` as it was at git revision REV (extracted to a
temporary directory under another package name), and the table says
whether its decisions were identical to ours.

The C++ column holds the decision times measured for RSS++'s C++
implementation on this machine; there is no C++ build here, so they are
quoted, not re-measured. Run::

    python bench/bench_decision.py --against c13a226
"""

from __future__ import annotations

import argparse
import importlib
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyclick.balance  # noqa: E402
from pyclick.rss.toeplitz import MICROSOFT_KEY  # noqa: E402
from pyclick.sim.nic import SimulatedNIC  # noqa: E402
from pyclick.sim.traffic import TrafficConfig, TrafficGenerator  # noqa: E402

TICK = 0.01
CAPACITY_PPS = 1_000_000.0
LOAD = 0.75


@dataclass(frozen=True)
class Case:
    """One size and method, with the C++ figure and the target ratio to it (None: no target)."""

    reta: int
    cores: int
    method: str
    what: str
    cpp_us: float | None
    target_ratio: float | None = None
    target_us: float | None = None


CASES = (
    Case(128, 8, "rsspp", "decision", 6.8, target_ratio=5.0),
    Case(512, 64, "rsspp", "decision", 98.0, target_ratio=1.5),
    Case(2048, 256, "rsspp", "decision", None, target_us=2000.0),
    Case(128, 8, "rsspp-ref", "decision", 6.8),
    Case(512, 64, "rsspp-ref", "decision", 98.0),
    Case(512, 64, "rsspp-ref", "solve", 90.0, target_ratio=5.0),
    Case(2048, 256, "rsspp-ref", "decision", None),
)


def balance_at(revision: str) -> ModuleType:
    """``pyclick.balance`` as it was at git ``revision``, importable beside the current one."""
    name = "balance_" + re.sub(r"\W", "_", revision)
    listing = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "--name-only", revision,
                              "pyclick/balance/"], check=True, capture_output=True, text=True)
    where = Path(tempfile.mkdtemp(prefix="bench-decision-")) / name
    where.mkdir()
    for path in listing.stdout.split():
        if not path.endswith(".py"):
            continue
        text = subprocess.run(["git", "-C", str(ROOT), "show", f"{revision}:{path}"],
                              check=True, capture_output=True, text=True).stdout
        text = text.replace("pyclick.balance.", f"{name}.")
        text = text.replace("from pyclick.balance import", f"from {name} import")
        (where / Path(path).name).write_text(text)
    sys.path.insert(0, str(where.parent))
    return importlib.import_module(name)


def record(case: Case, ticks: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The loads and counts our controller was given on the simulator, tick by tick."""
    config = TrafficConfig(seed=1, rate_pps=LOAD * CAPACITY_PPS * case.cores)
    nic = SimulatedNIC(case.cores, case.reta,
                       TrafficGenerator(config, MICROSOFT_KEY, case.reta),
                       CAPACITY_PPS, 1024, MICROSOFT_KEY)
    controller = controller_of(pyclick.balance, case)
    nic.write_table(controller.table)
    inputs = []
    for tick in range(1, ticks + 1):
        nic.advance_to(tick * TICK)
        loads, counts = nic.read_loads(controller.active), nic.read_counts()
        inputs.append((loads, counts))
        nic.write_table(controller.step(loads, counts, TICK).table)
    return inputs


def controller_of(package: ModuleType, case: Case) -> pyclick.balance.Controller:
    """A controller of ``package`` (ours or an earlier revision's) for ``case``."""
    return package.Controller(package.BalanceParams(
        method=case.method, reta_size=case.reta, cpus=case.cores, timer=TICK, timer_max=TICK,
        target_load=LOAD))


def replay(package: ModuleType, case: Case, inputs: list[tuple[np.ndarray, np.ndarray]]
           ) -> tuple[np.ndarray, list]:
    """Microseconds per tick of ``case.what``, and the moves decided."""
    controller = controller_of(package, case)
    clock = time.thread_time
    spent, moves = [], []
    for loads, counts in inputs:
        began = clock()
        decision = controller.step(loads, counts, TICK)
        took = clock() - began
        spent.append(took if case.what == "decision"
                     else sum(run.seconds for run in decision.runs))
        moves.append(decision.moves)
    return np.array(spent) * 1e6, moves


@dataclass
class Timing:
    best: float
    median: float


def timings(runs: list[np.ndarray]) -> Timing:
    """Median over ticks of each tick's fastest replay, and the plain median."""
    stacked = np.array(runs)
    return Timing(float(np.median(stacked.min(axis=0))), float(np.median(stacked)))


def verdict(case: Case, ours: float) -> str:
    if case.target_us is not None:
        return f"<= {case.target_us:g} µs: {'met' if ours <= case.target_us else 'MISSED'}"
    if case.target_ratio is not None and case.cpp_us is not None:
        met = ours <= case.target_ratio * case.cpp_us
        return f"<= {case.target_ratio:g}x C++: {'met' if met else 'MISSED'}"
    return "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=200, help="decisions recorded per case")
    parser.add_argument("--repeat", type=int, default=5, help="replays per case and revision")
    parser.add_argument("--against", metavar="REV", help="also replay pyclick/balance at REV")
    parser.add_argument("--case", action="append", default=[],
                        help="only cases whose 'BUCKETSxCORES method' contains this")
    opts = parser.parse_args()
    before = balance_at(opts.against) if opts.against else None
    chosen = [c for c in CASES if not opts.case
              or any(word in f"{c.reta}x{c.cores} {c.method}" for word in opts.case)]
    print(f"# bench_decision: {opts.ticks} decisions per case, {opts.repeat} interleaved "
          f"replays, tick {TICK * 1000:g} ms, load {LOAD}"
          + (f", against {opts.against}" if opts.against else "") + "\n")
    print("| buckets x cores | method | timed | ours µs (best per tick) | ours µs (median) | "
          "before µs (best per tick) | ours / before | same decisions as before | C++ µs | "
          "ours / C++ | target |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    began = time.perf_counter()
    recordings: dict[tuple[int, int, str], list] = {}
    for case in chosen:
        key = (case.reta, case.cores, case.method)
        if key not in recordings:
            recordings[key] = record(case, opts.ticks)
        inputs = recordings[key]
        ours_runs, before_runs = [], []
        ours_moves = before_moves = None
        for _ in range(opts.repeat):
            spent, ours_moves = replay(pyclick.balance, case, inputs)
            ours_runs.append(spent)
            if before is not None:
                spent, before_moves = replay(before, case, inputs)
                before_runs.append(spent)
        ours = timings(ours_runs)
        row = f"| {case.reta} x {case.cores} | {case.method} | {case.what} | " \
              f"{ours.best:.1f} | {ours.median:.1f} | "
        if before is not None:
            then = timings(before_runs)
            same = sum(a == b for a, b in zip(ours_moves, before_moves))
            row += f"{then.best:.1f} | {ours.best / then.best:.2f} | " \
                   f"{'yes' if same == len(inputs) else f'{same} of {len(inputs)} ticks'} | "
        else:
            row += "- | - | - | "
        if case.cpp_us is not None:
            row += f"{case.cpp_us:g} | {ours.best / case.cpp_us:.1f} | "
        else:
            row += "- | - | "
        print(row + verdict(case, ours.best) + " |", flush=True)
    print(f"\n(wall time {time.perf_counter() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
