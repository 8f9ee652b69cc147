"""Time of one balancing decision, rsspp against rsspp-ref, at four problem sizes.

For each size (buckets x cores) each method runs its own controller on the
same simulated traffic (same seed) with a fixed 10 ms tick, so that every
tick is a decision, and we time every ``Controller.step``:

- decision: the whole step (estimates, autoscale checks, solver, bookkeeping);
- solver: the assignment search alone (for rsspp, ``pyclick.balance.solver``'s
  search with its noise charges and the hold on returning buckets; for
  rsspp-ref, the reference greedy with its overshoot search), on the ticks
  where the method had something to solve.

Medians and 99th percentiles in microseconds. The machine is shared, so
each configuration is run ``--repeat`` times and the run with the lowest
median is kept. Run::

    python bench/bench_solver.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyclick.balance import BalanceParams, Controller  # noqa: E402
from pyclick.rss.toeplitz import MICROSOFT_KEY  # noqa: E402
from pyclick.sim.nic import SimulatedNIC  # noqa: E402
from pyclick.sim.progress import progress_bar  # noqa: E402
from pyclick.sim.traffic import TrafficConfig, TrafficGenerator  # noqa: E402

SIZES = ((128, 8), (128, 18), (512, 32), (512, 64))
METHODS = ("rsspp", "rsspp-ref")
TICK = 0.01
CAPACITY_PPS = 1_000_000.0
LOAD = 0.75


def timings(method: str, reta: int, cores: int, ticks: int) -> tuple[np.ndarray, np.ndarray]:
    """Decision and solver times (µs) of ``ticks`` consecutive decisions."""
    config = TrafficConfig(seed=1, rate_pps=LOAD * CAPACITY_PPS * cores)
    nic = SimulatedNIC(cores, reta, TrafficGenerator(config, MICROSOFT_KEY, reta),
                       CAPACITY_PPS, 1024, MICROSOFT_KEY)
    controller = Controller(BalanceParams(method=method, reta_size=reta, cpus=cores,
                                          timer=TICK, timer_max=TICK, target_load=LOAD))
    nic.write_table(controller.table)
    decision_us, solver_us = [], []
    for tick in range(1, ticks + 1):
        nic.advance_to(tick * TICK)
        decision = controller.step(nic.read_loads(controller.active), nic.read_counts(), TICK)
        nic.write_table(decision.table)
        decision_us.append(decision.solver_time * 1e6)
        if decision.runs:
            solver_us.append(sum(run.seconds for run in decision.runs) * 1e6)
    return np.array(decision_us), np.array(solver_us)


def best_of(method: str, reta: int, cores: int, ticks: int, repeat: int
            ) -> tuple[np.ndarray, np.ndarray]:
    runs = [timings(method, reta, cores, ticks) for _ in range(repeat)]
    return min(runs, key=lambda r: float(np.median(r[0])))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=1000, help="decisions per run")
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    print(f"# bench_solver: {opts.ticks} decisions per run, best of {opts.repeat} runs, "
          f"tick {TICK * 1000:g} ms, load {LOAD}\n")
    print("| buckets x cores | method | decision median µs | decision p99 µs | "
          "solver median µs | solver p99 µs | ticks solved |")
    print("|---|---|---|---|---|---|---|")
    bar = progress_bar(len(SIZES) * len(METHODS), "bench_solver", "cases")
    done = 0
    for reta, cores in SIZES:
        for method in METHODS:
            decision, solver = best_of(method, reta, cores, opts.ticks, opts.repeat)
            solved = (f"{np.median(solver):.0f} | {np.percentile(solver, 99):.0f}"
                      if solver.size else "- | -")
            bar.write(f"| {reta} x {cores} | {method} | {np.median(decision):.0f} | "
                      f"{np.percentile(decision, 99):.0f} | {solved} | {solver.size} |")
            done += 1
            bar.advance_to(done)
    bar.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
