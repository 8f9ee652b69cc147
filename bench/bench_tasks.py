"""What the scheduler costs per task run, and how that compares with an earlier tree.

Two patterns run through the scheduler alone (no packets): one task that
reschedules itself N times, and two tasks where the first wakes the second
and reschedules itself at each of its N runs, the shape of
``InfiniteSource(BURST 1) -> Queue -> Unqueue(BURST 1)``. Each runs in
simulated time (the discrete-event loop) and in real time (one worker
thread; the CPU time of the whole process is counted).
Each pattern runs in a fresh process per measurement, alternately for this
tree and for ``--before DIR`` (a checkout whose ``pyclick`` package is
imported instead, e.g. a git worktree), ``--repeat`` times; the table gives
the CPU ns per task run, best and median of the repeats, and the ratio of
the bests. A plain Python loop of the same number of function calls is
measured the same way as a baseline, so that runs on a machine whose speed
drifts compare as ratios.

Run from the project directory::

    python bench/bench_tasks.py --runs 200000 --repeat 5 --before ../before
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Runs one pattern in a fresh interpreter and prints CPU seconds and task runs.
_PROGRAM = """
import sys, threading, time
sys.path.insert(0, {root!r})
from pyclick.errors import Landmark
from pyclick.runtime.clock import SimClock
from pyclick.runtime.scheduling import SchedulingHandle
from pyclick.runtime.simloop import SimScheduler
from pyclick.runtime.threads import RealtimeScheduler
from pyclick.runtime.tasks import Task

class Owner:
    def __init__(self, name, scheduling):
        self.name, self.scheduling = name, scheduling
        self.landmark, self.home_thread = Landmark("bench", 1), 0

class Host:
    def __init__(self, realtime):
        self.clock = SimClock()
        self.scheduler = RealtimeScheduler(self, [None]) if realtime else \
            SimScheduler(self, self.clock)
        self.stopped = threading.Event()
    def now(self):
        return self.clock.now()
    def stop(self, reason=""):
        self.scheduler.stop()
        self.stopped.set()
    def wait_for_stop(self):
        self.stopped.wait()
    def element_failed(self, owner, what, err):
        raise SystemExit(f"{{owner.name}}: {{err}}")

host = Host({realtime})
handle = SchedulingHandle(host.now)
handle.bind(host.scheduler)
runs, pattern = {runs}, {pattern!r}
done = [0, 0]

def first():
    done[0] += 1
    if done[0] < runs:
        if pattern == "pair":
            second.reschedule()
        head.reschedule()
    elif {realtime}:
        host.stop()
    return True

def other():
    done[1] += 1
    return True

head = Task(Owner("first", handle), first)
second = Task(Owner("second", handle), other)
head.reschedule()
began = time.process_time()
host.scheduler.run()
if {realtime}:
    host.scheduler.join(10)
print(time.process_time() - began, done[0] + done[1])
"""

#: The baseline: as many plain function calls, each rescheduling nothing.
_BASELINE = """
import time
def work(box):
    box[0] += 1
    return True
box = [0]
began = time.process_time()
for _ in range({runs}):
    work(box)
    work(box)
print(time.process_time() - began, 2 * {runs})
"""


def measure(program: str) -> float:
    """CPU ns per task run (or per call, for the baseline) of one fresh process."""
    done = subprocess.run([sys.executable, "-c", program], check=True, capture_output=True,
                          text=True).stdout.split()
    return float(done[0]) / int(done[1]) * 1e9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200_000, help="runs of the first task")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--before", type=Path, help="a checkout to compare with")
    opts = parser.parse_args()
    trees = {"this tree": ROOT}
    if opts.before is not None:
        trees["before"] = opts.before.resolve()
    rows: dict[str, dict[str, list[float]]] = {}
    for _ in range(opts.repeat):
        rows.setdefault("baseline (plain calls)", {}).setdefault("-", []).append(
            measure(_BASELINE.format(runs=opts.runs)))
        for realtime in (False, True):
            for pattern in ("alone", "pair"):
                label = f"{pattern}, {'real' if realtime else 'simulated'} time"
                for name, root in trees.items():
                    program = _PROGRAM.format(root=str(root), runs=opts.runs, pattern=pattern,
                                              realtime=realtime)
                    rows.setdefault(label, {}).setdefault(name, []).append(measure(program))
    print(f"{opts.runs} runs of the first task, best and median of {opts.repeat} "
          f"alternated processes, CPU ns per task run\n")
    print("| pattern | tree | best | median | best / baseline | best / before |")
    print("|---|---|---:|---:|---:|---:|")
    baseline = min(rows["baseline (plain calls)"]["-"])
    for pattern, by_tree in rows.items():
        for name, values in by_tree.items():
            before = by_tree.get("before")
            versus = (f"{min(values) / min(before):.2f}" if before and name != "before"
                      else "")
            print(f"| {pattern} | {name} | {min(values):.0f} | {statistics.median(values):.0f} "
                  f"| {min(values) / baseline:.1f} | {versus} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
