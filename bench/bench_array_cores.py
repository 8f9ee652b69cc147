"""Where rsspp's per-core values cost less in arrays than in plain float lists.

rsspp keeps each core's values (learnt costs, served excess, deviations)
in float lists below ``ARRAY_CORES`` cores and in arrays from there on.
For each traffic family and core count, the simulator's traffic drives a
controller as in ``bench_decision.py`` (its loads and counts recorded tick
by tick), and the recording is replayed ``--repeat`` times through two
fresh controllers in turn, one with lists and one with arrays, timing every
decision. Per tick the fastest replay is kept; the table gives the median
over ticks, lists / arrays. Both must decide alike, to the float: every
tick's moves, next tick, residual imbalance and recorded sums are compared.

Run from the project directory::

    python bench/bench_array_cores.py [--cores 16 20 24 32 40] [--reta 128]
        [--family campus ...] [--ticks 500] [--repeat 7]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

# Run from a checkout without installing: the project directory comes first.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_decision import TICK, Case, record  # noqa: E402

from pyclick.balance import BalanceParams, Controller  # noqa: E402
from pyclick.balance.rsspp_method import ARRAY_CORES, Rsspp  # noqa: E402
from pyclick.sim.families import BY_NAME  # noqa: E402
from pyclick.sim.progress import progress_bar  # noqa: E402

#: ``array_cores`` values that force either way whatever the cores.
LISTS, ARRAYS = 1 << 30, 1


def crossover(family: str, cores: int, reta: int, ticks: int, repeat: int
              ) -> tuple[float, float]:
    """Median over ticks of the fastest decision, µs, with lists and with arrays."""
    inputs = record(Case(reta, cores, "rsspp", "decision", None), ticks, family)
    params = BalanceParams(method="rsspp", reta_size=reta, cpus=cores, timer=TICK,
                           timer_max=TICK)
    best = {LISTS: np.full(ticks, np.inf), ARRAYS: np.full(ticks, np.inf)}
    for _ in range(repeat):
        controllers = {way: Controller(params, Rsspp(params, array_cores=way))
                       for way in best}
        spent = {way: np.empty(ticks) for way in best}
        for tick, (loads, counts) in enumerate(inputs):
            decided = []
            for way, controller in controllers.items():
                began = time.perf_counter()
                decision = controller.step(loads, counts, TICK)
                spent[way][tick] = time.perf_counter() - began
                decided.append((decision.moves, decision.next_tick, decision.imbalance,
                                [run.square_imbalance for run in decision.runs]))
            if decided[0] != decided[1]:
                sys.exit(f"{family}, {cores} cores, tick {tick}: lists and arrays decide "
                         f"differently: {decided[0]} against {decided[1]}")
        for way in best:
            np.minimum(best[way], spent[way], out=best[way])
    return float(np.median(best[LISTS])) * 1e6, float(np.median(best[ARRAYS])) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, nargs="+", default=[16, 20, 24, 32, 40])
    parser.add_argument("--reta", type=int, default=128)
    parser.add_argument("--family", choices=list(BY_NAME), nargs="+", default=list(BY_NAME))
    parser.add_argument("--ticks", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=7)
    opts = parser.parse_args()
    print(f"rsspp decisions at {opts.reta} buckets, µs (lists / arrays; fastest of "
          f"{opts.repeat} replays per tick, median over {opts.ticks} ticks); "
          f"ARRAY_CORES is {ARRAY_CORES}")
    print("| traffic | " + " | ".join(f"{c} cores" for c in opts.cores) + " |")
    print("|---|" + "---|" * len(opts.cores))
    bar = progress_bar(len(opts.family) * len(opts.cores), "bench_array_cores", "cases")
    done = 0
    for family in opts.family:
        cells = []
        for cores in opts.cores:
            lists, arrays = crossover(family, cores, opts.reta, opts.ticks, opts.repeat)
            cells.append(f"{lists:.1f} / {arrays:.1f}")
            done += 1
            bar.advance_to(done)
        bar.write(f"| {family} | " + " | ".join(cells) + " |")
    bar.close()


if __name__ == "__main__":
    main()
