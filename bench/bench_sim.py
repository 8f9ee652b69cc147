"""Speed and calibration of the simulated NIC with static RSS (an even table).

For each setup (cores, table size) it runs the default synthetic traffic
for DURATION simulated seconds with the model advanced every 10 ms (as a
balancer ticking at 10 ms would), and reports:

- wall and CPU time of the run (the target: a 60 s run of 18 cores well
  under a few seconds);
- median and 95th percentile of the per-second imbalance (max - min) / min
  of per-core packet counts, per seed (the model is tuned to 40-55% for 8
  cores and 128 buckets; the RSS++ paper measured 54% on a campus trace);
- how well one tick's per-bucket counts predict the next tick's: the
  median relative L1 error at ticks of 10 ms, 100 ms and 1 s.

Run from the project directory::

    python bench/bench_sim.py [--duration S] [--seeds N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

# Run from a checkout without installing: the project directory comes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyclick.sim.nic import SimulatedNIC
from pyclick.sim.toeplitz import MICROSOFT_KEY
from pyclick.sim.traffic import TrafficConfig, TrafficGenerator

SETUPS = [(8, 128), (18, 512)]
#: Mean core load of the runs (capacity = rate / cores / LOAD).
LOAD = 0.6


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--seeds", type=int, default=3)
    opts = parser.parse_args()
    print(f"{opts.duration:g} simulated seconds, static RSS, mean load {LOAD}")
    print("| cores | RETA | seed | wall s | CPU s | imbalance median | p95 | drops |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for cores, reta_size in SETUPS:
        for seed in range(1, opts.seeds + 1):
            wall, cpu, nic = run(cores, reta_size, opts.duration, seed)
            imbalance = nic.stats.imbalance_per_second()
            print(f"| {cores} | {reta_size} | {seed} | {wall:.2f} | {cpu:.2f} | "
                  f"{np.median(imbalance) * 100:.1f}% | "
                  f"{np.percentile(imbalance, 95) * 100:.1f}% | "
                  f"{nic.stats.drop_ratio() * 100:.3f}% |")
    print()
    print("| RETA | prediction error at 10 ms | 100 ms | 1 s |")
    print("|---:|---:|---:|---:|")
    for reta_size in (128, 512):
        errors = prediction_errors(1, reta_size)
        print(f"| {reta_size} | " + " | ".join(f"{e * 100:.1f}%" for e in errors) + " |")


if __name__ == "__main__":
    main()
