"""rsspp's frontier against the reference and the foresight floor, on every traffic family.

For each scenario of ``bench/traffic.py`` (every traffic family on 8 and 18
cores, RETA 128 and 512, offered load 0.75 and 0.9) the same simulated NIC
and traffic seed are driven through ``BalancerLoop`` by:

- ``rsspp`` at several values of its one knob, MOVE_COST (the frontier: what
  each price of a move buys in imbalance and latency, against moves/s);
- ``rsspp-ref`` at the README's ticks (TIMER 10, TIMER_MAX 1000) and at the
  reference's fixed 100 ms (points);
- static RSS: the NIC model's own baseline, the same arrivals met by an even
  table in queues of their own (every run has it; the first run's is shown);
- the foresight floor: each second's bucket counts split as evenly as
  possible over the cores, largest bucket first onto the least loaded core
  (longest-processing-time order), as if the balancer knew the second in
  advance and moves were free. Every imbalance is also given as its distance
  to this floor, in percentage points.

Figures per run: median over seconds of (max - min) / min of per-core
received packets (the RSS++ paper's imbalance), p95 of every packet's delay
in µs (arrival to end of service, FIFO per core), drops / received, and
buckets moved per second. The targets the scenario is judged against are
printed after each family and summed up at the end. Captures (``--pcap``,
such as those ``bench/traffic.py --pcaps`` writes) are replayed on the same
grid, each core's capacity set so that the capture's mean rate is the
scenario's load. Run::

    python bench/bench_frontier.py                 # 40 scenarios x 20 s, 2 processes
    python bench/bench_frontier.py --quick         # RETA 128 only, 2 prices, 10 s
    python bench/bench_frontier.py --family onoff --cores 18
    python bench/bench_frontier.py --only-pcaps --pcap shift.pcap --pcap onoff.pcap
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Protocol

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from traffic import CORES, LOADS, RETAS, replay_nic, scenarios  # noqa: E402

from pyclick.balance import BalanceParams, Controller  # noqa: E402
from pyclick.balance.loop import BalancerLoop  # noqa: E402
from pyclick.balance.move_price import DEFAULT_MOVE_COST  # noqa: E402
from pyclick.rss.toeplitz import MICROSOFT_KEY  # noqa: E402
from pyclick.sim.nic import SimulatedNIC  # noqa: E402
from pyclick.sim.progress import progress_bar  # noqa: E402
from pyclick.sim.replay import PcapTraffic  # noqa: E402
from pyclick.sim.stats import imbalance  # noqa: E402

#: The README's balancer settings.
TIMER_MS, TIMER_MAX_MS, THRESHOLD = 10, 1000, 0.02
#: The reference's fixed tick.
REFERENCE_TICK_MS = 100
#: Delays are binned 1% apart (``pyclick.sim.stats``): p95s closer than that are equal.
DELAY_RESOLUTION = 1.01
#: rsspp's frontier: MOVE_COST as multiples of the default.
PRICES = (1 / 3, 1.0, 3.0, 10.0, 30.0)
QUICK_PRICES = (1.0, 10.0)


class Scenario(Protocol):
    """Traffic on ``cores`` cores and a table of ``reta`` buckets at ``load``."""

    @property
    def family(self) -> str: ...

    @property
    def cores(self) -> int: ...

    @property
    def reta(self) -> int: ...

    @property
    def load(self) -> float: ...

    @property
    def name(self) -> str: ...

    def nic(self, seed: int, duration: float) -> SimulatedNIC: ...


@dataclass(frozen=True)
class Replay:
    """A capture replayed on ``cores`` cores and a table of ``reta`` buckets, each core's
    capacity set so that the capture's mean rate is ``load`` times that of all cores."""

    path: str
    cores: int
    reta: int
    load: float

    @property
    def family(self) -> str:
        return f"{Path(self.path).name} (capture)"

    @property
    def name(self) -> str:
        return f"{self.family}, {self.cores} cores, RETA {self.reta}, load {self.load:g}"

    def nic(self, seed: int, duration: float) -> SimulatedNIC:
        return replay_nic(self.path, self.cores, self.reta, self.load)


@dataclass(frozen=True)
class Setting:
    """One balancer: method, ticks (ms) and, for rsspp, MOVE_COST."""

    method: str
    timer_ms: int = TIMER_MS
    timer_max_ms: int = TIMER_MAX_MS
    move_cost: float = DEFAULT_MOVE_COST

    @property
    def label(self) -> str:
        if self.method == "rsspp":
            return f"rsspp MOVE_COST {self.move_cost:.3g}"
        if self.timer_ms == self.timer_max_ms:
            return f"{self.method} {self.timer_ms} ms"
        return f"{self.method} TIMER {self.timer_ms}"

    def params(self, scenario: Scenario) -> BalanceParams:
        return BalanceParams(method=self.method, reta_size=scenario.reta, cpus=scenario.cores,
                             timer=self.timer_ms / 1000, timer_max=self.timer_max_ms / 1000,
                             target_load=scenario.load, imbalance_threshold=THRESHOLD,
                             move_cost=self.move_cost)


REFERENCE = Setting("rsspp-ref")
REFERENCE_FIXED = Setting("rsspp-ref", REFERENCE_TICK_MS, REFERENCE_TICK_MS)


@dataclass
class Figures:
    """What one balancer did on one scenario: imbalance (fractions), p95 delay (µs),
    drop ratio, moves per second; ``floor`` and ``static_*`` are the run's arrivals'
    foresight floor and static-table baseline."""

    imbalance: float
    p95_us: float
    drops: float
    moves_per_s: float
    floor: float
    static_imbalance: float
    static_p95_us: float
    static_drops: float
    wall_s: float


def foresight_floor(per_second: np.ndarray, cores: int) -> float:
    """Median over seconds of the imbalance of each second's counts split
    largest first onto the least loaded of ``cores`` cores."""
    values = []
    for counts in per_second:
        loads = [0.0] * cores
        for count in sorted(counts.tolist(), reverse=True):
            least = min(range(cores), key=loads.__getitem__)
            loads[least] += count
        values.append(imbalance(np.asarray(loads)))
    return float(np.median(values)) if values else math.nan


def simulate(scenario: Scenario, setting: Setting, seed: int, duration: int) -> Figures:
    """Drive the scenario's NIC with ``setting`` for ``duration`` simulated seconds."""
    began = time.perf_counter()
    nic = scenario.nic(seed=seed, duration=duration)
    controller = Controller(setting.params(scenario))
    loop = BalancerLoop(controller, nic, nic, nic)
    loop.start(0.0)
    # Integer milliseconds keep tick and second boundaries exact.
    now, next_tick, next_second = 0, setting.timer_ms, 1000
    seconds: list[np.ndarray] = []
    last = nic.bucket_totals
    while now < duration * 1000:
        now = min(next_tick, next_second)
        nic.advance_to(now / 1000)
        if now == next_second:
            totals = nic.bucket_totals
            seconds.append(totals - last)
            last, next_second = totals, next_second + 1000
        if now == next_tick:
            loop.tick(now / 1000)
            next_tick = now + max(1, round(controller.tick * 1000))
    stats = nic.stats
    return Figures(
        imbalance=_median(stats.imbalance_per_second()),
        p95_us=float(stats.latency.quantiles((0.95,))[0]),
        drops=stats.drop_ratio(), moves_per_s=stats.buckets_moved / stats.seconds,
        floor=foresight_floor(np.array(seconds), scenario.cores),
        static_imbalance=_median(stats.static_imbalance_per_second()),
        static_p95_us=float(stats.static_latency.quantiles((0.95,))[0]),
        static_drops=stats.static_drop_ratio(), wall_s=time.perf_counter() - began)


def _median(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(np.median(values)) if len(values) else math.nan


def _job(args: tuple[Scenario, Setting, int, int]) -> Figures:
    return simulate(*args)


# --- judging


@dataclass
class Verdict:
    """One target on one scenario: met or not, and the figures that say so."""

    target: str
    met: bool
    text: str


def frontier_at(points: list[Figures], moves_per_s: float) -> float | None:
    """rsspp's imbalance at ``moves_per_s`` on its frontier.

    The frontier is the lower envelope of the points (no point is kept that
    another beats on both moves and imbalance), read between its two
    neighbouring points linearly in log(moves/s). Beyond the point with the
    most moves its imbalance holds (moving more would not be worse); below
    the point with the fewest there is no reading (None).
    """
    ordered = sorted(points, key=lambda f: f.moves_per_s)
    envelope: list[Figures] = []
    for point in ordered:
        if not envelope or point.imbalance < envelope[-1].imbalance:
            envelope.append(point)
    if not envelope or moves_per_s < envelope[0].moves_per_s:
        return None
    for low, high in zip(envelope, envelope[1:]):
        if low.moves_per_s <= moves_per_s <= high.moves_per_s:
            if high.moves_per_s <= 0 or low.moves_per_s <= 0:
                return low.imbalance
            span = math.log(high.moves_per_s / low.moves_per_s)
            share = math.log(moves_per_s / low.moves_per_s) / span if span else 0.0
            return low.imbalance + share * (high.imbalance - low.imbalance)
    return envelope[-1].imbalance


def judge(scenario: Scenario, default: Figures, frontier: list[Figures], reference: Figures
          ) -> list[Verdict]:
    """The targets on one scenario (the reference is rsspp-ref at the README's ticks)."""
    floor = reference.floor
    verdicts = []
    fewer = default.moves_per_s <= reference.moves_per_s
    lower = default.imbalance <= reference.imbalance
    clearly = (default.imbalance <= 0.75 * reference.imbalance
               or default.moves_per_s <= 0.5 * reference.moves_per_s)
    verdicts.append(Verdict(
        "dominates rsspp-ref", fewer and lower and clearly,
        f"{_pct(default.imbalance)} at {default.moves_per_s:.1f} moves/s against "
        f"{_pct(reference.imbalance)} at {reference.moves_per_s:.1f}"))
    reached = frontier_at(frontier, reference.moves_per_s)
    gap = reference.imbalance - floor
    if reached is None:
        verdicts.append(Verdict("frontier at rsspp-ref's moves", False,
                                f"no rsspp point at {reference.moves_per_s:.1f} moves/s or fewer"))
    else:
        verdicts.append(Verdict(
            "frontier at rsspp-ref's moves", reached - floor <= gap / 2,
            f"{_points(reached - floor)} from the floor against rsspp-ref's {_points(gap)}"))
    if scenario.cores == 8 and scenario.load == max(LOADS):
        verdicts.append(Verdict(
            "p95 <= static/5, drops <= static/10",
            default.p95_us <= default.static_p95_us / 5
            and default.drops <= default.static_drops / 10,
            f"p95 {default.p95_us:.1f} µs against {default.static_p95_us:.1f}, drops "
            f"{_pct(default.drops, 3)} against {_pct(default.static_drops, 3)}"))
    if scenario.cores > 8:
        verdicts.append(Verdict(
            "p95 and drops <= rsspp-ref's",
            default.p95_us <= reference.p95_us * DELAY_RESOLUTION
            and default.drops <= reference.drops,
            f"p95 {default.p95_us:.2f} µs against {reference.p95_us:.2f}, drops "
            f"{_pct(default.drops, 4)} against {_pct(reference.drops, 4)}"))
    if scenario.cores == 8:
        verdicts.append(Verdict(
            "imbalance <= static/8", default.imbalance <= default.static_imbalance / 8,
            f"{_pct(default.imbalance)} against static/8 = "
            f"{_pct(default.static_imbalance / 8)}"))
    return verdicts


# --- printing


def _pct(value: float, digits: int = 1) -> str:
    return f"{value * 100:.{digits}f}%"


def _points(value: float) -> str:
    return f"{value * 100:+.1f} pp"


def _cell(figures: Figures, floor: float) -> str:
    return (f"{_pct(figures.imbalance)} ({_points(figures.imbalance - floor)}), "
            f"{figures.moves_per_s:.1f}/s, {figures.p95_us:.0f} µs, {_pct(figures.drops, 2)}")


def family_table(family: str, rows: list[tuple[Scenario, dict[Setting, Figures]]],
                 prices: tuple[float, ...]) -> str:
    frontier = [Setting("rsspp", move_cost=DEFAULT_MOVE_COST * p) for p in prices]
    head = (["cores, RETA, load", "floor", "static RSS", REFERENCE.label, REFERENCE_FIXED.label]
            + [s.label + (" (default)" if s.move_cost == DEFAULT_MOVE_COST else "")
               for s in frontier])
    lines = [f"### {family}", "",
             "Each cell: median imbalance (distance to the floor), moves/s, p95 delay, "
             "drops.", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for scenario, runs in rows:
        first = runs[REFERENCE]
        static = (f"{_pct(first.static_imbalance)} "
                  f"({_points(first.static_imbalance - first.floor)}), 0/s, "
                  f"{first.static_p95_us:.0f} µs, {_pct(first.static_drops, 2)}")
        cells = [f"{scenario.cores}, {scenario.reta}, {scenario.load:g}", _pct(first.floor),
                 static, _cell(runs[REFERENCE], first.floor),
                 _cell(runs[REFERENCE_FIXED], first.floor)]
        cells += [_cell(runs[s], first.floor) for s in frontier]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def verdict_table(rows: list[tuple[Scenario, list[Verdict]]]) -> str:
    lines = ["| scenario | target | result | figures |", "|---|---|---|---|"]
    for scenario, verdicts in rows:
        for v in verdicts:
            lines.append(f"| {scenario.name} | {v.target} | {'met' if v.met else '**missed**'} "
                         f"| {v.text} |")
    return "\n".join(lines) + "\n"


def summary_table(rows: list[tuple[Scenario, list[Verdict]]]) -> str:
    tally: dict[str, list[int]] = {}
    for _, verdicts in rows:
        for v in verdicts:
            counts = tally.setdefault(v.target, [0, 0])
            counts[0] += v.met
            counts[1] += 1
    lines = ["| target | scenarios met |", "|---|---|"]
    lines += [f"| {target} | {met} of {total} |" for target, (met, total) in tally.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="RETA 128 only, 2 prices, 10 simulated seconds")
    parser.add_argument("--duration", type=int, default=20, help="simulated seconds per run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--family", action="append", default=[], help="only this family")
    parser.add_argument("--cores", type=int, action="append", default=[])
    parser.add_argument("--reta", type=int, action="append", default=[])
    parser.add_argument("--load", type=float, action="append", default=[])
    parser.add_argument("--jobs", type=int, default=2, help="processes")
    parser.add_argument("--pcap", action="append", default=[],
                        help="also replay this capture on every core count, RETA and load")
    parser.add_argument("--only-pcaps", action="store_true", help="no synthetic family")
    opts = parser.parse_args(argv)
    duration, prices = (10, QUICK_PRICES) if opts.quick else (opts.duration, PRICES)
    cores, loads = tuple(opts.cores) or CORES, tuple(opts.load) or LOADS
    retas = tuple(opts.reta) or ((128,) if opts.quick else RETAS)
    chosen: list[Scenario] = [] if opts.only_pcaps else list(
        scenarios(tuple(opts.family) or None, cores, retas, loads))
    for path in opts.pcap:
        # A capture plays once: the runs end with it.
        duration = min(duration, int(PcapTraffic(path, MICROSOFT_KEY, 128).duration))
        chosen += [Replay(path, *grid) for grid in product(cores, retas, loads)]
    settings = [REFERENCE, REFERENCE_FIXED] + [
        Setting("rsspp", move_cost=DEFAULT_MOVE_COST * p) for p in prices]
    print(f"# bench_frontier: seed {opts.seed}, {duration} simulated s per run, "
          f"IMBALANCE_THRESHOLD {THRESHOLD}, TARGET_LOAD = offered load, 1 Mpps per core "
          "(a capture: its rate / (load x cores)), "
          f"default MOVE_COST {DEFAULT_MOVE_COST:g}\n", flush=True)
    began = time.perf_counter()
    jobs = [(scenario, setting, opts.seed, duration) for scenario in chosen
            for setting in settings]
    bar = progress_bar(len(jobs), "bench_frontier", "runs")
    results: list[Figures] = []
    with ProcessPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        for figures in pool.map(_job, jobs):
            results.append(figures)
            bar.advance_to(len(results))
    bar.close()
    runs: dict[Scenario, dict[Setting, Figures]] = {}
    for (scenario, setting, _, _), figures in zip(jobs, results):
        runs.setdefault(scenario, {})[setting] = figures
    judged: list[tuple[Scenario, list[Verdict]]] = []
    for family in dict.fromkeys(s.family for s in chosen):
        rows = [(s, runs[s]) for s in chosen if s.family == family]
        print(family_table(family, rows, prices), flush=True)
        for scenario, figures in rows:
            frontier = [figures[s] for s in settings if s.method == "rsspp"]
            default = figures[Setting("rsspp")]
            judged.append((scenario, judge(scenario, default, frontier, figures[REFERENCE])))
    print("## Targets\n")
    print(summary_table(judged))
    print(verdict_table(judged))
    cpu = sum(f.wall_s for f in results)
    print(f"(wall time {time.perf_counter() - began:.0f} s, {cpu:.0f} s of runs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
