"""Speed, calibration and memory of the simulated NIC.

Three measurements, each its own command:

- the model with static RSS (an even table), the default: for each setup
  (cores, table size) it runs the default synthetic traffic for DURATION
  simulated seconds with the model advanced every 10 ms (as a balancer
  ticking at 10 ms would), and reports the wall and CPU time of the run,
  the median and 95th percentile of the per-second imbalance (max - min)
  / min of per-core packet counts (the model is tuned to 40-55% for 8
  cores and 128 buckets; the RSS++ paper measured 54% on a campus trace),
  the drops and the p50/p99 latency; then how well one tick's per-bucket
  counts predict the next tick's (median relative L1 error at ticks of
  10 ms, 100 ms and 1 s);
- ``--demo N``: the README's demo, ``pyclick conf/rsspp-sim.click``, run N
  times as a user runs it (wall and CPU time of the process), then once
  more in this process with the CPU time of each part: the traffic model,
  the NIC model, the balancer's decisions, the rest;
- ``--soak HOURS``: a long run of the NIC model (8 cores, 128 buckets,
  load 0.6, steps of one second, read every second as a balancer would)
  that prints the process's resident memory every simulated hour: the
  per-second statistics must not grow with the run.

Run from the project directory::

    python bench/bench_sim.py [--duration S] [--seeds N]
    python bench/bench_sim.py --demo 3
    python bench/bench_sim.py --soak 24
"""

from __future__ import annotations

import argparse
import contextlib
import io
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

# Run from a checkout without installing: the project directory comes first.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pyclick.rss.toeplitz import MICROSOFT_KEY  # noqa: E402
from pyclick.sim.nic import SimulatedNIC  # noqa: E402
from pyclick.sim.progress import progress_bar  # noqa: E402
from pyclick.sim.traffic import TrafficConfig, TrafficGenerator  # noqa: E402

SETUPS = [(8, 128), (18, 512)]
#: Mean core load of the runs (capacity = rate / cores / LOAD).
LOAD = 0.6
DEMO = "conf/rsspp-sim.click"


def run(cores: int, reta_size: int, duration: float,
        seed: int) -> tuple[float, float, SimulatedNIC]:
    config = TrafficConfig(seed=seed)
    traffic = TrafficGenerator(config, MICROSOFT_KEY, reta_size)
    nic = SimulatedNIC(cores, reta_size, traffic, config.rate_pps / cores / LOAD, 1024,
                       MICROSOFT_KEY)
    wall, cpu = time.perf_counter(), time.process_time()
    for tick in range(1, round(duration / 0.01) + 1):
        nic.advance_to(tick * 0.01)
    return time.perf_counter() - wall, time.process_time() - cpu, nic


def prediction_errors(seed: int, reta_size: int, seconds: int = 10) -> list[float]:
    traffic = TrafficGenerator(TrafficConfig(seed=seed), MICROSOFT_KEY, reta_size)
    ticks = np.array([traffic.windows(i * 0.01, 0.001, 10).sum(axis=0)
                      for i in range(seconds * 100)], dtype=float)
    errors = []
    for group in (1, 10, 100):
        merged = ticks.reshape(-1, group, reta_size).sum(axis=1)
        error = np.abs(merged[1:] - merged[:-1]).sum(axis=1) / merged[1:].sum(axis=1)
        errors.append(float(np.median(error)))
    return errors


def calibration(duration: float, seeds: int) -> None:
    print(f"{duration:g} simulated seconds, static RSS, mean load {LOAD}")
    print("| cores | RETA | seed | wall s | CPU s | imbalance median | p95 | drops "
          "| latency p50 µs | p99 µs |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for cores, reta_size in SETUPS:
        for seed in range(1, seeds + 1):
            wall, cpu, nic = run(cores, reta_size, duration, seed)
            stats = nic.stats
            median, p95 = stats.imbalance.quantiles((0.5, 0.95))
            p50, _, p99 = stats.latency.quantiles((0.5, 0.95, 0.99))
            print(f"| {cores} | {reta_size} | {seed} | {wall:.2f} | {cpu:.2f} | "
                  f"{median * 100:.1f}% | {p95 * 100:.1f}% | {stats.drop_ratio() * 100:.3f}% | "
                  f"{p50:.1f} | {p99:.1f} |")
    print()
    print("| RETA | prediction error at 10 ms | 100 ms | 1 s |")
    print("|---:|---:|---:|---:|")
    for reta_size in (128, 512):
        errors = prediction_errors(1, reta_size)
        print(f"| {reta_size} | " + " | ".join(f"{e * 100:.1f}%" for e in errors) + " |")


def demo(runs: int) -> None:
    command = [sys.executable, "-m", "pyclick", DEMO]
    print(f"`pyclick {DEMO}`, {runs} runs (wall and CPU time of the process)")
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - wall
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        print(f"  wall {wall:.2f} s, CPU {cpu:.2f} s")
    print("CPU time by part, one run in this process:")
    for part, seconds in demo_parts().items():
        print(f"  {part:28s} {seconds:5.2f} s")


def demo_parts() -> dict[str, float]:
    """CPU time of the demo's parts, measured around the calls that make them."""
    from pyclick.balance.controller import Controller
    from pyclick.cli import main
    from pyclick.sim.traffic import TrafficGenerator as Generator

    spent: dict[str, float] = {}

    def timed(owner: type, name: str, part: str) -> Callable[[], None]:
        method = getattr(owner, name)

        def measured(*args, **kwargs):
            began = time.thread_time()
            try:
                return method(*args, **kwargs)
            finally:
                spent[part] = spent.get(part, 0.0) + time.thread_time() - began

        setattr(owner, name, measured)
        return lambda: setattr(owner, name, method)

    restores = [timed(Generator, "steered", "traffic"),
                timed(SimulatedNIC, "advance_to", "NIC model with traffic"),
                timed(SimulatedNIC, "read_loads", "NIC model"),
                timed(SimulatedNIC, "read_counts", "NIC model"),
                timed(SimulatedNIC, "write_table", "NIC model"),
                timed(Controller, "step", "balancer decisions")]
    began = time.thread_time()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            main([str(ROOT / DEMO)])
    finally:
        for restore in restores:
            restore()
    total = time.thread_time() - began
    nic = spent.pop("NIC model with traffic") - spent["traffic"]
    spent["NIC model"] = spent.get("NIC model", 0.0) + nic
    spent["the rest (router, elements)"] = total - sum(spent.values())
    spent["total"] = total
    return spent


def resident_mb() -> float:
    """The process's resident memory now, MB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 1e6


def soak(hours: float) -> None:
    cores, reta_size, capacity = 8, 128, 1e6
    # Slow flows and one-second epochs keep the traffic model cheap; the
    # statistics kept per second are the same whatever the traffic.
    config = TrafficConfig(seed=1, rate_pps=LOAD * cores * capacity, flows=500,
                           mean_lifetime=60.0, epoch=1.0, flicker_time=10.0)
    nic = SimulatedNIC(cores, reta_size, TrafficGenerator(config, MICROSOFT_KEY, reta_size),
                       capacity, 1024, MICROSOFT_KEY, step=1.0)
    seconds = round(hours * 3600)
    print(f"soak: {hours:g} simulated hours, {cores} cores, RETA {reta_size}, load {LOAD}, "
          "steps of 1 s")
    print("| simulated hour | resident MB | growth since hour 1 MB | wall s |")
    print("|---:|---:|---:|---:|")
    bar = progress_bar(seconds, "soak", "simulated s")
    wall = time.perf_counter()
    first = None
    for second in range(1, seconds + 1):
        nic.advance_to(second)
        nic.read_loads(range(cores))
        nic.read_counts()
        if second % 60 == 0:
            bar.advance_to(second)
        if second % 3600 == 0:
            now = resident_mb()
            first = now if first is None else first
            bar.write(f"| {second // 3600} | {now:.1f} | {now - first:+.1f} | "
                      f"{time.perf_counter() - wall:.0f} |")
    bar.close()
    print(nic.stats.summary())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--demo", type=int, metavar="RUNS", help="time the README's demo")
    parser.add_argument("--soak", type=float, metavar="HOURS",
                        help="memory of a long run, every simulated hour")
    opts = parser.parse_args()
    if opts.demo:
        demo(opts.demo)
    elif opts.soak:
        soak(opts.soak)
    else:
        calibration(opts.duration, opts.seeds)


if __name__ == "__main__":
    main()
