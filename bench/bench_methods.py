"""Every balancing method on identical simulated traffic, one table per scenario.

Each method drives the same ``SimulatedNIC`` (same traffic seed) through the
very ``Controller`` DeviceBalancer uses, in simulated time, in this one
process. Per scenario and method:

- imbalance: median and 95th percentile over seconds of (max - min) / min
  of per-core received packets (the paper's metric);
- moves/s: buckets moved per simulated second;
- drops: dropped / received packets;
- max/bound: median over seconds of the busiest core's load divided by its
  lower bound max(average core load, heaviest bucket's load);
- solver: time of a decision (Controller.step) per tick, median and p99;
- recovery (shift scenarios): ticks (and milliseconds) after the elephant
  shift until the cores are back within IMBALANCE_THRESHOLD of their usual
  balance (see ``recovery``).

Ratios are against ``rss`` and ``rsspp-ref`` of the same run. With
``--against REV`` the tables also hold ``rsspp`` and ``rsspp-ref`` as
``pyclick/balance`` had them at git revision REV, on the same traffic. Run::

    python bench/bench_methods.py                 # every scenario, 2 seeds x 60 s
    python bench/bench_methods.py --quick         # 1 seed x 20 s
    python bench/bench_methods.py --quick --against c13a226
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_decision import balance_at  # noqa: E402
from pyclick.balance import BalanceParams, Controller  # noqa: E402
from pyclick.balance.move_price import DEFAULT_MOVE_COST  # noqa: E402
from pyclick.rss.toeplitz import MICROSOFT_KEY  # noqa: E402
from pyclick.sim.nic import SimulatedNIC  # noqa: E402
from pyclick.sim.progress import progress_bar  # noqa: E402
from pyclick.sim.traffic import TrafficConfig, TrafficGenerator  # noqa: E402

METHODS = ("rss", "rssrr", "rsspp-ref", "rsspp")
#: The README's balancer settings (ticks in milliseconds); --timer and
#: --timer-max change the ticks.
THRESHOLD = 0.02
#: SimNIC's defaults: a core serves 1 Mpps, its RX queue holds 1024 packets.
CAPACITY_PPS = 1_000_000.0
QUEUE_PACKETS = 1024


@dataclass(frozen=True)
class Scenario:
    """Cores, table size, offered load (also TARGET_LOAD), optional elephant shift.

    ``shift_at`` is the fraction of the run after which every elephant flow
    is replaced by a new one.
    """

    name: str
    cores: int
    reta: int
    load: float
    shift_at: float | None = None


SCENARIOS = (
    Scenario("8 cores, RETA 128, load 0.75", 8, 128, 0.75),
    Scenario("8 cores, RETA 128, load 0.9", 8, 128, 0.9),
    Scenario("8 cores, RETA 512, load 0.75", 8, 512, 0.75),
    Scenario("8 cores, RETA 512, load 0.9", 8, 512, 0.9),
    Scenario("18 cores, RETA 128, load 0.75", 18, 128, 0.75),
    Scenario("18 cores, RETA 128, load 0.9", 18, 128, 0.9),
    Scenario("18 cores, RETA 512, load 0.75", 18, 512, 0.75),
    Scenario("18 cores, RETA 512, load 0.9", 18, 512, 0.9),
    Scenario("elephant shift, 8 cores, RETA 128, load 0.75", 8, 128, 0.75, shift_at=0.5),
)


@dataclass
class Run:
    """What one method did on one scenario and seed."""

    imbalance: np.ndarray
    max_over_bound: np.ndarray
    moves: int
    seconds: int
    received: int
    dropped: int
    solver_us: list[float] = field(default_factory=list)
    recovery: tuple[int, float] | None = None


#: Ticks averaged when judging whether the cores are back to their usual balance.
SETTLE_TICKS = 5


def recovery(times: np.ndarray, deviation: np.ndarray, shift: float,
             threshold: float) -> tuple[int, float] | None:
    """(ticks, seconds) after ``shift`` until the cores are back to their usual balance.

    ``deviation[i]`` is, right after tick i (at ``times[i]``), the busiest
    core's distance from the average load, computed from the traffic
    model's exact bucket rates through the table in force (no sampling
    noise). Usual balance is its mean over the ticks of the 5 seconds
    before the shift; the cores are back once the mean over the next
    SETTLE_TICKS ticks is within ``threshold`` of it. None: never.
    """
    before = deviation[(times > shift - 5) & (times <= shift)]
    usual = float(before.mean())
    after = np.flatnonzero(times > shift)
    for n, i in enumerate(after, 1):
        window = deviation[i:i + SETTLE_TICKS]
        if len(window) == SETTLE_TICKS and window.mean() <= usual + threshold:
            return n, float(times[i] - shift)
    return None


def controller_for(params: BalanceParams, package: ModuleType | None) -> Controller:
    """Our controller, or that of an earlier ``package`` of balancing code (with the
    settings it knows, its own price of a move among them)."""
    if package is None:
        return Controller(params)
    known = vars(package.BalanceParams())
    return package.Controller(package.BalanceParams(
        **{k: v for k, v in vars(params).items() if k in known}))


def simulate(method: str, scenario: Scenario, seed: int, duration: int,
             timer_ms: int = 10, timer_max_ms: int = 1000,
             move_cost: float = DEFAULT_MOVE_COST, package: ModuleType | None = None) -> Run:
    shift = None if scenario.shift_at is None else scenario.shift_at * duration
    capacity = CAPACITY_PPS
    config = TrafficConfig(seed=seed, shift_at=shift,
                           rate_pps=scenario.load * capacity * scenario.cores)
    traffic = TrafficGenerator(config, MICROSOFT_KEY, scenario.reta)
    nic = SimulatedNIC(scenario.cores, scenario.reta, traffic, capacity, QUEUE_PACKETS,
                       MICROSOFT_KEY)
    params = BalanceParams(method=method, reta_size=scenario.reta, cpus=scenario.cores,
                           timer=timer_ms / 1000, timer_max=timer_max_ms / 1000,
                           target_load=scenario.load, imbalance_threshold=THRESHOLD,
                           move_cost=move_cost)
    controller = controller_for(params, package)
    nic.write_table(controller.table)

    # Integer milliseconds keep tick and second boundaries exact.
    now_ms, last_tick_ms, next_tick_ms = 0, 0, timer_ms
    pending = np.zeros(scenario.reta, np.int64)
    this_second = np.zeros(scenario.reta, np.int64)
    heaviest: list[float] = []
    solver_us: list[float] = []
    tick_times: list[float] = []
    deviation: list[float] = []
    moves = 0
    end_ms = duration * 1000
    while now_ms < end_ms:
        next_second_ms = (now_ms // 1000 + 1) * 1000
        now_ms = min(next_tick_ms, next_second_ms)
        nic.advance_to(now_ms / 1000)
        counts = nic.read_counts()
        pending += counts
        this_second += counts
        if now_ms == next_second_ms:
            heaviest.append(this_second.max() / capacity)
            this_second[:] = 0
        if now_ms == next_tick_ms:
            loads = nic.read_loads(controller.active)
            decision = controller.step(loads, pending, (now_ms - last_tick_ms) / 1000)
            pending[:] = 0
            nic.write_table(decision.table)
            moves += len(decision.moves)
            solver_us.append(decision.solver_time * 1e6)
            if shift is not None:
                demand = np.bincount(decision.table, weights=traffic.bucket_rates(),
                                     minlength=scenario.cores)[decision.active] / capacity
                tick_times.append(now_ms / 1000)
                deviation.append(float(np.abs(demand - demand.mean()).max()))
            last_tick_ms = now_ms
            next_tick_ms = now_ms + max(1, round(decision.next_tick * 1000))

    stats = nic.stats
    core_loads = stats.received / capacity
    bound = np.array([max(row[active].mean(), heavy) for row, active, heavy
                      in zip(core_loads, stats.active, heaviest)])
    busiest = np.array([row[active].max() for row, active in zip(core_loads, stats.active)])
    return Run(imbalance=stats.imbalance_per_second(), max_over_bound=busiest / bound,
               moves=moves, seconds=stats.seconds, received=int(stats.received.sum()),
               dropped=int(stats.dropped.sum()), solver_us=solver_us,
               recovery=(recovery(np.array(tick_times), np.array(deviation), shift, THRESHOLD)
                         if shift is not None else None))


@dataclass
class Summary:
    median: float
    p95: float
    moves_per_s: float
    drops: float
    max_over_bound: float
    solver_median: float
    solver_p99: float
    recovery: list[tuple[int, float] | None]


def summarize(runs: list[Run]) -> Summary:
    imbalance = np.concatenate([r.imbalance for r in runs])
    imbalance = imbalance[np.isfinite(imbalance)]
    solver = np.concatenate([r.solver_us for r in runs])
    seconds = sum(r.seconds for r in runs)
    return Summary(
        median=float(np.median(imbalance)), p95=float(np.percentile(imbalance, 95)),
        moves_per_s=sum(r.moves for r in runs) / seconds,
        drops=sum(r.dropped for r in runs) / sum(r.received for r in runs),
        max_over_bound=float(np.median(np.concatenate([r.max_over_bound for r in runs]))),
        solver_median=float(np.median(solver)), solver_p99=float(np.percentile(solver, 99)),
        recovery=[r.recovery for r in runs])


def ratio(a: float, b: float) -> str:
    return "-" if b == 0 or not math.isfinite(b) else f"{a / b:.2f}"


def table(scenario: Scenario, results: dict[str, Summary]) -> str:
    rss, ref = results["rss"], results["rsspp-ref"]
    head = ("| method | imbalance median | p95 | vs rss | vs rsspp-ref | moves/s | "
            "moves vs rsspp-ref | drops | drops vs rss | max/bound | solver median µs | "
            "solver p99 µs |")
    if scenario.shift_at is not None:
        head += " recovery ticks (time) per seed |"
    lines = [f"### {scenario.name}", "", head,
             "|" + "---|" * (head.count("|") - 1)]
    for method, s in results.items():
        row = (f"| {method} | {s.median * 100:.1f}% | {s.p95 * 100:.1f}% | "
               f"{ratio(s.median, rss.median)} | {ratio(s.median, ref.median)} | "
               f"{s.moves_per_s:.2f} | {ratio(s.moves_per_s, ref.moves_per_s)} | "
               f"{s.drops * 100:.3f}% | {ratio(s.drops, rss.drops)} | "
               f"{s.max_over_bound:.3f} | {s.solver_median:.0f} | {s.solver_p99:.0f} |")
        if scenario.shift_at is not None:
            row += " " + ", ".join("never" if r is None else f"{r[0]} ({r[1] * 1000:.0f} ms)"
                                   for r in s.recovery) + " |"
        lines.append(row)
    return "\n".join(lines) + "\n"


def check_targets(scenario: Scenario, results: dict[str, Summary]) -> list[str]:
    """Each target of rsspp on this scenario, as 'PASS ...' or 'FAIL ...' lines."""
    ours, ref, rss = results["rsspp"], results["rsspp-ref"], results["rss"]
    checks = [
        (ours.moves_per_s <= ref.moves_per_s,
         f"moves {ours.moves_per_s:.2f}/s <= rsspp-ref {ref.moves_per_s:.2f}/s"),
        (ours.median <= 0.75 * ref.median,
         f"median imbalance {ours.median * 100:.1f}% <= 75% of rsspp-ref's "
         f"{ref.median * 100:.1f}%"),
    ]
    if scenario.cores == 8 and scenario.shift_at is None:
        checks += [
            (ours.median <= rss.median / 8,
             f"median imbalance {ours.median * 100:.1f}% <= rss/8 = {rss.median / 8 * 100:.1f}%"),
            (ours.max_over_bound <= 1.03,
             f"max core load / lower bound {ours.max_over_bound:.3f} <= 1.03"),
        ]
    if scenario.load == 0.75 and scenario.shift_at is None:
        checks.append((ours.drops <= rss.drops / 10,
                       f"drops {ours.drops * 100:.4f}% <= rss/10 = {rss.drops / 10 * 100:.4f}%"))
    if scenario.shift_at is not None:
        worst = max((r[0] if r is not None else math.inf) for r in ours.recovery)
        checks.append((worst <= 5, f"recovery within {worst} ticks <= 5"))
    return [f"{'PASS' if ok else 'FAIL'} {scenario.name}: {text}" for ok, text in checks]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=60, help="simulated seconds per run")
    parser.add_argument("--quick", action="store_true", help="1 seed x 20 s")
    parser.add_argument("--timer", type=int, default=10, help="TIMER, ms (README: 10)")
    parser.add_argument("--timer-max", type=int, default=1000,
                        help="TIMER_MAX, ms (README: 1000)")
    parser.add_argument("--move-cost", type=float, default=DEFAULT_MOVE_COST,
                        help="rsspp's MOVE_COST (pyclick.balance.move_price)")
    parser.add_argument("--scenario", action="append", default=[],
                        help="only scenarios whose name contains this (repeatable)")
    parser.add_argument("--against", metavar="REV",
                        help="also run rsspp and rsspp-ref as they were at git revision REV")
    opts = parser.parse_args()
    before = balance_at(opts.against) if opts.against else None
    seeds, duration = (1, 20) if opts.quick else (opts.seeds, opts.duration)
    chosen = [s for s in SCENARIOS
              if not opts.scenario or any(word in s.name for word in opts.scenario)]
    print(f"# bench_methods: {seeds} seed(s) x {duration} simulated s, TIMER {opts.timer} ms, "
          f"TIMER_MAX {opts.timer_max} ms, IMBALANCE_THRESHOLD {THRESHOLD}, "
          f"rsspp MOVE_COST {opts.move_cost:g}, "
          f"{CAPACITY_PPS / 1e6:g} Mpps per core\n\ntraffic: the TrafficConfig defaults, "
          f"offering load x cores x {CAPACITY_PPS / 1e6:g} Mpps: {TrafficConfig()}\n")
    verdicts: list[str] = []
    began = time.perf_counter()
    per_scenario = len(METHODS) + (2 if before is not None else 0)
    bar = progress_bar(len(chosen) * per_scenario * seeds, "bench_methods", "runs")
    done = 0

    def runs(method: str, scenario: Scenario, package: ModuleType | None = None) -> Summary:
        nonlocal done
        outcome = []
        for seed in range(1, seeds + 1):
            outcome.append(simulate(method, scenario, seed, duration, opts.timer,
                                    opts.timer_max, opts.move_cost, package))
            done += 1
            bar.advance_to(done)
        return summarize(outcome)

    for scenario in chosen:
        results = {method: runs(method, scenario) for method in METHODS}
        if before is not None:
            for method in ("rsspp-ref", "rsspp"):
                results[f"{method} at {opts.against}"] = runs(method, scenario, before)
        bar.write(table(scenario, results))
        verdicts += check_targets(scenario, results)
    bar.close()
    print("## Targets\n")
    print("\n".join(verdicts))
    print(f"\n(wall time {time.perf_counter() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
