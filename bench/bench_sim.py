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
  times as a user runs it (wall and CPU time of the process) beside
  ``python -c pass`` and, with ``--before TREE``, beside the demo of another
  checkout (``git worktree add TREE REV``), interleaved; then once more in
  a process of its own with the CPU time of each part: the traffic model,
  the NIC model, the balancer's decisions, the rest; with ``--traffic
  FAMILY``, the demo's configuration with that traffic family on its
  SimNIC;
- ``--soak HOURS``: a long run of the NIC model (8 cores, 128 buckets,
  load 0.6, steps of one second, read every second as a balancer would)
  that prints the process's resident memory every simulated hour: the
  per-second statistics must not grow with the run.

Run from the project directory::

    python bench/bench_sim.py [--duration S] [--seeds N]
    python bench/bench_sim.py --demo 3 [--before TREE] [--traffic FAMILY]
    python bench/bench_sim.py --soak 24
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

# Run from a checkout without installing: the project directory comes first.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pyclick.rss.toeplitz import MICROSOFT_KEY  # noqa: E402
from pyclick.sim.families import BY_NAME  # noqa: E402
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
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
    bar = progress_bar(len(SETUPS) * seeds + 2, "bench_sim", "runs")
    done = 0
    for cores, reta_size in SETUPS:
        for seed in range(1, seeds + 1):
            wall, cpu, nic = run(cores, reta_size, duration, seed)
            stats = nic.stats
            median, p95 = stats.imbalance.quantiles((0.5, 0.95))
            p50, _, p99 = stats.latency.quantiles((0.5, 0.95, 0.99))
            bar.write(f"| {cores} | {reta_size} | {seed} | {wall:.2f} | {cpu:.2f} | "
                      f"{median * 100:.1f}% | {p95 * 100:.1f}% | "
                      f"{stats.drop_ratio() * 100:.3f}% | {p50:.1f} | {p99:.1f} |")
            done += 1
            bar.advance_to(done)
    errors = {}
    for reta_size in (128, 512):
        errors[reta_size] = prediction_errors(1, reta_size)
        done += 1
        bar.advance_to(done)
    bar.close()
    print()
    print("| RETA | prediction error at 10 ms | 100 ms | 1 s |")
    print("|---:|---:|---:|---:|")
    for reta_size, reta_errors in errors.items():
        print(f"| {reta_size} | " + " | ".join(f"{e * 100:.1f}%" for e in reta_errors) + " |")


def timed_run(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``command`` in ``cwd``; its output is dropped."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    # Bytecode is read from (and written to) __pycache__ as a user's runs do.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    # Standard error through a pipe: the demo's own bar would fight this one.
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, env=env)
    wall = time.perf_counter() - wall
    if done.returncode:
        sys.exit(f"{' '.join(command)} in {cwd}: {done.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def demo_config(family: str | None) -> str:
    """The demo's configuration: the README's, or (``family``) a copy of it in a
    temporary file with that traffic family on its SimNIC."""
    if family is None:
        return DEMO
    text = (ROOT / DEMO).read_text()
    changed = text.replace("DURATION 60)", f"DURATION 60, TRAFFIC {family})")
    if changed == text:
        sys.exit(f"{DEMO}: no 'DURATION 60)' to add the traffic family to")
    made = tempfile.NamedTemporaryFile("w", suffix=".click", prefix=f"demo-{family}-",
                                       delete=False)
    with made:
        made.write(changed)
    atexit.register(os.unlink, made.name)
    return made.name


def demo(runs: int, before: Path | None = None, family: str | None = None) -> None:
    """The demo as a user runs it, ``runs`` times, beside ``python -c pass`` (the
    interpreter's start) and, given ``before``, beside the demo of that other tree
    (a checkout of an earlier commit), the runs interleaved; ``family``: on that
    traffic family."""
    config = demo_config(family)
    trees = {"this tree": ROOT} if before is None else {"before": before, "this tree": ROOT}
    commands = {"python -c pass": ([sys.executable, "-c", "pass"], ROOT)}
    commands.update({name: ([sys.executable, "-m", "pyclick", config], tree)
                     for name, tree in trees.items()})
    print(f"`pyclick {DEMO}`" + (f" with TRAFFIC {family}" if family else "")
          + f", {runs} runs of each, interleaved (wall and CPU seconds of the process)",
          flush=True)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    bar = progress_bar(runs * len(commands), "bench_sim --demo", "runs")
    for done in range(runs):
        for name, (command, cwd) in commands.items():
            times[name].append(timed_run(command, cwd))
            bar.advance_to(done * len(commands) + len(times[name]))
    bar.close()
    print("| | wall s | CPU s | best CPU s |")
    print("|---|---|---|---:|")
    for name, runs_of in times.items():
        walls = ", ".join(f"{wall:.2f}" for wall, _ in runs_of)
        cpus = ", ".join(f"{cpu:.2f}" for _, cpu in runs_of)
        print(f"| {name} | {walls} | {cpus} | {min(cpu for _, cpu in runs_of):.2f} |")
    print("\nCPU seconds by part, one run of each in its own process:")
    parts = {name: tree_parts(tree, config) for name, tree in trees.items()}
    names = list(next(iter(parts.values())))
    print("| part | " + " | ".join(parts) + " |")
    print("|---|" + "---:|" * len(parts))
    for part in names:
        print(f"| {part} | " + " | ".join(f"{p.get(part, 0.0):.2f}" for p in parts.values())
              + " |")


def tree_parts(tree: Path, config: str) -> dict[str, float]:
    """``demo_parts`` of the checkout at ``tree`` (its own bench_sim.py) on ``config``,
    in a process of its own."""
    # Through the module's DEMO, which every revision's demo_parts reads.
    code = ("import json, sys; sys.path.insert(0, 'bench'); import bench_sim; "
            f"bench_sim.DEMO = {config!r}; print(json.dumps(bench_sim.demo_parts()))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


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
    parser.add_argument("--before", type=Path, metavar="TREE",
                        help="with --demo: also time the demo of this checkout (git worktree)")
    parser.add_argument("--traffic", choices=list(BY_NAME), metavar="FAMILY",
                        help="with --demo: run the demo on this traffic family")
    parser.add_argument("--soak", type=float, metavar="HOURS",
                        help="memory of a long run, every simulated hour")
    opts = parser.parse_args()
    if opts.demo:
        demo(opts.demo, opts.before, opts.traffic)
    elif opts.soak:
        soak(opts.soak)
    else:
        calibration(opts.duration, opts.seeds)


if __name__ == "__main__":
    main()
