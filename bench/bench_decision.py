"""Time of one balancing decision, against the C++ RSS++ figures and an earlier revision.

For each size (buckets x cores) and method, the simulator's traffic (seed 1,
offered load 0.75; the campus family, or the one ``--family`` names) drives
one controller with a fixed 10 ms tick, so that every tick is a decision;
the per-core loads and per-bucket counts it was given are recorded. The recording is then replayed ``--repeat`` times
through fresh controllers, timing every ``Controller.step`` on the monotonic
clock (``perf_counter``, read in user space; the thread's CPU clock is a
system call of about a microsecond here, which the timed interval would
include):

- decision: the whole step (estimates, autoscale checks, solver, move list);
- solve (rsspp-ref): the reference greedy with its overshoot search alone,
  the sum of its runs' times.

The machine is shared, so per tick the fastest of the replays is kept (what
the decision costs when nothing else gets in its way) and the figure is the
median over ticks; the plain median over every replay is given too. With
``--against REV`` the same recordings are replayed, interleaved with ours,
through ``pyclick/balance`` as it was at git revision REV (extracted to a
temporary directory under another package name), and the table says
how our time compares. The recordings are made with our controller
deciding, so its moves shape the loads that follow; ``--recorded-by REV``
has the controller of REV decide instead (the inputs the earlier revision
saw when it was timed beside the C++ figures).

Speed must not change a decision beyond a tie: every recording is also
replayed once through ``pyclick/balance`` at ``--same-as REV`` (default
``HEAD``, the last commit), and the table says whether every tick's moves
and next tick were identical to ours; if not, how many ticks were, and how
many of the others were near-ties (both decisions leave the same squared
imbalance within a relative NEAR_TIE). At least SAME_SHARE of the ticks
alike, every other one a near-tie, reads "near". Beyond the timed cases,
the same check runs on recordings made with the options the timed cases
leave at their defaults (autoscale, dancers, NUMA sockets, TARGET balance,
IMBALANCE_ALPHA, MOVE_COST), so that a speed-up of one path cannot change
another unseen.

The C++ column holds the decision times measured for RSS++'s C++
implementation beside pyclick at BESIDE_CPP, on one day: ours / C++ through
them is ours / BESIDE_CPP now x BESIDE_CPP / C++ then (``--against
c13a226``), which assumes the C++ decision takes the same time on every
traffic. With ``--cpp-reference DIR`` (a configured checkout of
rsspp/fastclick, see ``reference_cpp.py``) the reference's own C++ method
is built and timed in the same run, interleaved with ours, twice: on our
recording (the same inputs), and on the traffic it shaped itself, recorded
with it deciding (as ours is on ours). Each is its fastest replay per tick
(CPP_REPLAYS a round), median over ticks, with the same clock around the call. The target's
verdict then reads the larger of the two ratios; without a measured
C++ time it reads the ratio through BESIDE_CPP. Run::

    python bench/bench_decision.py --against c13a226   # times against c13a226, moves against HEAD
    python bench/bench_decision.py --check-only --same-as 57348e4   # decisions only, no timing
    python bench/bench_decision.py --cpp-reference ../fastclick   # times the C++ reference too
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import inspect
import re
import shutil
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
from pyclick.sim.families import BY_NAME, DEFAULT_FAMILY, family_config  # noqa: E402
from pyclick.sim.progress import progress_bar  # noqa: E402
from pyclick.sim.traffic import TrafficGenerator  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import reference_cpp  # noqa: E402

TICK = 0.01
CAPACITY_PPS = 1_000_000.0
LOAD = 0.75


@dataclass(frozen=True)
class Case:
    """One size and method, with the C++ figure and the target ratio to it (None: no target).

    ``beside_us`` is BESIDE_CPP's time for the same case, measured in the
    run that measured ``cpp_us``."""

    reta: int
    cores: int
    method: str
    what: str
    cpp_us: float | None
    beside_us: float | None = None
    target_ratio: float | None = None
    target_us: float | None = None
    options: tuple[tuple[str, object], ...] = ()

    @property
    def label(self) -> str:
        extra = ", ".join(f"{len(set(v))} sockets" if k == "sockets" else f"{k}={v}"
                          for k, v in self.options)
        return f"{self.reta}x{self.cores} {self.method}" + (f" ({extra})" if extra else "")


#: Replays of the C++ reference per round, in one process: its time moves by a
#: third from one process to the next on a shared machine, and its fastest
#: replays are what it costs (more of them than ours only lowers its figure).
CPP_REPLAYS = 3

#: The revision whose decisions were timed beside the C++ figures.
BESIDE_CPP = "c13a226"

CASES = (
    Case(128, 8, "rsspp", "decision", 6.8, 150.0, target_ratio=5.0),
    Case(512, 64, "rsspp", "decision", 98.0, 518.0, target_ratio=1.5),
    Case(2048, 256, "rsspp", "decision", None, target_us=2000.0),
    Case(128, 8, "rsspp-ref", "decision", 6.8),
    Case(512, 64, "rsspp-ref", "decision", 98.0),
    Case(512, 64, "rsspp-ref", "solve", 90.0, 1730.0, target_ratio=5.0),
    Case(2048, 256, "rsspp-ref", "decision", None),
)

#: Recordings whose decisions are only compared (not timed): the options the
#: timed cases leave at their defaults, each on one size.
SOCKETS = tuple(core * 2 // 16 for core in range(16))
CHECKED = tuple(Case(reta, cores, method, "decision", None, options=options)
                for method in ("rsspp", "rsspp-ref")
                for reta, cores, options in (
                    (128, 8, (("autoscale", True), ("start_cpus", 4))),
                    (16, 8, (("dancer", True),)),
                    (128, 16, (("numa", True), ("sockets", SOCKETS))),
                    (128, 8, (("target", "balance"),)),
                    (256, 16, (("imbalance_alpha", 0.5),)),
                    (128, 8, (("move_cost", 0.001),)),
                    (512, 32, ()),
                ) if method == "rsspp" or ("move_cost", 0.001) not in options)


def balance_at(revision: str) -> ModuleType:
    """``pyclick.balance`` as it was at git ``revision``, importable beside the current one."""
    name = "balance_" + re.sub(r"\W", "_", revision)
    listing = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "--name-only", revision,
                              "pyclick/balance/"], check=True, capture_output=True, text=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench-decision-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    where = scratch / name
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


def commit_of(revision: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), "rev-parse", f"{revision}^{{commit}}"],
                          check=True, capture_output=True, text=True).stdout.strip()


def record(case: Case, ticks: int, family: str = DEFAULT_FAMILY,
           driver: ModuleType = pyclick.balance, controller=None
           ) -> list[tuple[np.ndarray, np.ndarray]]:
    """The loads and counts a controller of ``driver`` (ours by default), or
    ``controller`` when given, was given on the simulator's traffic of ``family``,
    tick by tick: its decisions shape the loads that follow."""
    config = family_config(family, seed=1, rate_pps=LOAD * CAPACITY_PPS * case.cores,
                           duration=ticks * TICK)
    nic = SimulatedNIC(case.cores, case.reta,
                       TrafficGenerator(config, MICROSOFT_KEY, case.reta),
                       CAPACITY_PPS, 1024, MICROSOFT_KEY)
    if controller is None:
        controller = controller_of(driver, case)
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
        target_load=LOAD, **dict(case.options)))


def known_options(package: ModuleType) -> set[str]:
    """The options ``package``'s balancers take (an earlier revision may lack some)."""
    return set(inspect.signature(package.BalanceParams).parameters)


def replay(package: ModuleType, case: Case, inputs: list[tuple[np.ndarray, np.ndarray]]
           ) -> tuple[np.ndarray, list]:
    """Microseconds per tick of ``case.what``, and each tick's decision (``Verdict``)."""
    controller = controller_of(package, case)
    clock = time.perf_counter
    spent, decided = [], []
    for loads, counts in inputs:
        began = clock()
        decision = controller.step(loads, counts, TICK)
        took = clock() - began
        spent.append(took if case.what == "decision"
                     else sum(run.seconds for run in decision.runs))
        decided.append(Verdict(decision.moves, decision.next_tick,
                               sum(run.square_imbalance for run in decision.runs)))
    return np.array(spent) * 1e6, decided


#: Two decisions whose objective (the squared imbalance they leave) is this
#: close, relative to its size, are a tie to the float operations' rounding:
#: a sum of a few hundred doubles is exact to about 1e-14 relative, so 1e-9
#: leaves room for any reordering of it and nothing for a real difference.
NEAR_TIE = 1e-9
#: Ticks that must decide alike, at least.
SAME_SHARE = 0.99


@dataclass(frozen=True)
class Verdict:
    """One tick's decision: its moves, next tick and the squared imbalance it leaves."""

    moves: list
    next_tick: float
    objective: float

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Verdict) and (self.moves, self.next_tick) == \
            (other.moves, other.next_tick)


def near_tie(a: float, b: float) -> bool:
    """Whether two objectives are equal but for rounding (a tick that searched
    nothing, objective 0 on both sides, is no tie: it has nothing to round)."""
    size = max(abs(a), abs(b))
    return size > 0 and abs(a - b) <= NEAR_TIE * size


def sameness(ours: list[Verdict], theirs: list[Verdict]) -> str:
    """'yes' when every tick decided alike; else how many did and whether each that
    did not was a near-tie (objectives within NEAR_TIE, relative)."""
    if ours == theirs:
        return "yes"
    differing = [i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b]
    ties = sum(near_tie(ours[i].objective, theirs[i].objective) for i in differing)
    same = len(ours) - len(differing)
    met = same >= SAME_SHARE * len(ours) and ties == len(differing)
    return (f"{'near' if met else 'NO'}: {same} of {len(ours)} ticks alike, first differs at "
            f"tick {differing[0] + 1}; {ties} of {len(differing)} differing ticks near-ties")


@dataclass
class Timing:
    best: float
    median: float


def timings(runs: list[np.ndarray]) -> Timing:
    """Median over ticks of each tick's fastest replay, and the plain median."""
    stacked = np.array(runs)
    return Timing(float(np.median(stacked.min(axis=0))), float(np.median(stacked)))


def times_cpp(case: Case, ours: float, beside_now: float | None) -> float | None:
    """Ours / C++, through BESIDE_CPP's time now (``beside_now``) and then; None
    when either is unknown."""
    if case.cpp_us is None or case.beside_us is None or beside_now is None:
        return None
    return ours / beside_now * case.beside_us / case.cpp_us


def verdict(case: Case, ours: float, ratio: float | None) -> str:
    """Against the target; ``ratio`` is ours / C++ (measured here when it could be)."""
    if case.target_us is not None:
        return f"<= {case.target_us:g} µs: {'met' if ours <= case.target_us else 'MISSED'}"
    if case.target_ratio is not None:
        if ratio is None:
            measured = " or --cpp-reference" if case.what == "decision" else ""
            return f"<= {case.target_ratio:g}x C++: needs --against {BESIDE_CPP}{measured}"
        return f"<= {case.target_ratio:g}x C++: {'met' if ratio <= case.target_ratio else 'MISSED'}"
    return "-"


def cpp_parameters(case: Case) -> tuple[float, float, float]:
    """The C++ reference's target load, imbalance alpha and threshold: ours for ``case``."""
    params = controller_of(pyclick.balance, case).params
    return params.target_load, params.imbalance_alpha, params.imbalance_threshold


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=200, help="decisions recorded per case")
    parser.add_argument("--repeat", type=int, default=5, help="replays per case and revision")
    parser.add_argument("--against", metavar="REV", help="also time pyclick/balance at REV")
    parser.add_argument("--same-as", metavar="REV", default="HEAD",
                        help="whose decisions ours must equal (default: HEAD)")
    parser.add_argument("--check-only", action="store_true",
                        help="compare decisions only, time nothing")
    parser.add_argument("--case", action="append", default=[],
                        help="only cases whose 'BUCKETSxCORES method' contains this")
    parser.add_argument("--family", choices=list(BY_NAME), default=DEFAULT_FAMILY,
                        help=f"the simulator's traffic family (default: {DEFAULT_FAMILY})")
    parser.add_argument("--cpp-reference", metavar="DIR", type=Path,
                        help="a configured checkout of rsspp/fastclick: time its C++ "
                             "decision beside ours (bench/reference_cpp.py)")
    parser.add_argument("--recorded-by", metavar="REV",
                        help="record the inputs with pyclick/balance at REV deciding "
                             "(default: ours)")
    opts = parser.parse_args()
    before = balance_at(opts.against) if opts.against else None
    # Only the revision timed beside the C++ figures leads to them.
    beside_cpp = opts.against is not None and commit_of(opts.against) == commit_of(BESIDE_CPP)
    reference = balance_at(opts.same_as)
    driver = balance_at(opts.recorded_by) if opts.recorded_by else pyclick.balance
    chosen = [c for c in CASES if not opts.case or any(word in c.label for word in opts.case)]
    checked = [c for c in CHECKED if not opts.case or any(word in c.label for word in opts.case)]
    cpp = None
    if opts.cpp_reference is not None:
        built = Path(tempfile.mkdtemp(prefix="bench-cpp-"))
        atexit.register(shutil.rmtree, built, True)
        cpp = reference_cpp.build(opts.cpp_reference.resolve(), built)
    began = time.perf_counter()
    recordings: dict[str, list] = {}

    def inputs_of(case: Case) -> list:
        key = f"{case.reta}x{case.cores} {case.method} {case.options}"
        if key not in recordings:
            recordings[key] = record(case, opts.ticks, opts.family, driver)
        return recordings[key]

    own_traffic: dict[str, tuple] = {}

    def cpp_inputs_of(case: Case) -> tuple[np.ndarray, list]:
        """The table the C++ reference starts from, and the traffic it shaped itself."""
        key = f"{case.reta}x{case.cores}"
        if key not in own_traffic:
            start = controller_of(pyclick.balance, case).table
            with reference_cpp.Stepper(cpp, start, case.cores, *cpp_parameters(case)) as stepper:
                own_traffic[key] = (start, record(case, opts.ticks, opts.family,
                                                  controller=stepper))
        return own_traffic[key]

    if not opts.check_only:
        print(f"# bench_decision: {opts.ticks} decisions per case, {opts.repeat} interleaved "
              f"replays, tick {TICK * 1000:g} ms, load {LOAD}, traffic {opts.family}"
              + (f", recorded by {opts.recorded_by}" if opts.recorded_by else "")
              + (f", against {opts.against}" if opts.against else "") + "\n")
        print("| buckets x cores | method | timed | ours µs (best per tick) | ours µs (median) | "
              "before µs (best per tick) | ours / before | "
              f"same decisions as {opts.same_as} | C++ µs | ours / C++ (through {BESIDE_CPP}) "
              "| C++ µs here (our inputs, its own) | ours / C++ here | target |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    timed = chosen if not opts.check_only else []
    # A bar on a terminal: replays of the timed cases, then one per compared case.
    compared = {c.label: c for c in (chosen if opts.check_only else []) + checked}
    bar = progress_bar(len(timed) * opts.repeat + len(compared), "bench_decision", "replays")
    done = 0
    for case in timed:
        inputs = inputs_of(case)
        ours_runs, before_runs = [], []
        ours_moves = None
        timed_cpp = cpp is not None and case.what == "decision" and case.cpp_us is not None
        if timed_cpp:
            start, own = cpp_inputs_of(case)
            settings = cpp_parameters(case)
            cpp_runs: tuple[list, list] = ([], [])
        for _ in range(opts.repeat):
            spent, ours_moves = replay(pyclick.balance, case, inputs)
            ours_runs.append(spent)
            if before is not None:
                before_runs.append(replay(before, case, inputs)[0])
            if timed_cpp:
                for runs, recorded in zip(cpp_runs, (inputs, own)):
                    runs.extend(reference_cpp.replay(cpp, start, recorded, CPP_REPLAYS,
                                                     *settings)[0])
            done += 1
            bar.advance_to(done)
        _, their_moves = replay(reference, case, inputs)
        ours = timings(ours_runs)
        row = f"| {case.reta} x {case.cores} | {case.method} | {case.what} | " \
              f"{ours.best:.1f} | {ours.median:.1f} | "
        beside_now = None
        if before is not None:
            then = timings(before_runs)
            row += f"{then.best:.1f} | {ours.best / then.best:.2f} | "
            if beside_cpp:
                beside_now = then.best
        else:
            row += "- | - | "
        row += sameness(ours_moves, their_moves) + " | "
        ratio = times_cpp(case, ours.best, beside_now)
        row += f"{case.cpp_us:g} | " if case.cpp_us is not None else "- | "
        row += f"{ratio:.1f} | " if ratio is not None else "- | "
        if timed_cpp:
            here = [timings(runs).best for runs in cpp_runs]
            # Met only if met against both: on our inputs and on its own traffic.
            ratio = ours.best / min(here)
            row += f"{here[0]:.1f}, {here[1]:.1f} | {ratio:.1f} | "
        else:
            row += "- | - | "
        bar.write(row + verdict(case, ours.best, ratio) + " |")
    bar.write(f"\n| decisions compared with {opts.same_as} | ticks | ticks that moved | moves "
              "| same |")
    bar.write("|---|---|---|---|---|")
    # A recording's decisions once, whatever is timed on it.
    for case in compared.values():
        unknown = sorted(set(dict(case.options)) - known_options(driver))
        if unknown:
            bar.write(f"| {case.label} | - | - | - | not recorded: {opts.recorded_by} has no "
                      f"{', '.join(unknown)} |")
        else:
            inputs = inputs_of(case)
            _, ours_moves = replay(pyclick.balance, case, inputs)
            _, their_moves = replay(reference, case, inputs)
            moved = [len(verdict.moves) for verdict in ours_moves]
            bar.write(f"| {case.label} | {len(inputs)} | {sum(map(bool, moved))} | "
                      f"{sum(moved)} | {sameness(ours_moves, their_moves)} |")
        done += 1
        bar.advance_to(done)
    bar.close()
    print(f"\n(wall time {time.perf_counter() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
