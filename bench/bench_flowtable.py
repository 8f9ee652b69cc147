"""Per-packet cost of per-bucket flow tables vs one shared table under a lock.

Both variants do the same per-packet work: find the packet's 5-tuple,
look its flow up (creating the state on the first packet), refresh its
last-seen time and attach the state to the packet.

- per-bucket: FlowIPManager, each worker thread bound to its core and
  pushing only packets of the buckets its core owns (no lock);
- shared: one FlowTable for every flow, each lookup under a
  threading.Lock, as a flow table shared between cores must be.

With W worker threads (W = 1, 2, 4), each thread pushes its own
pre-steered batches into tables whose flows a warm-up pass created. The
two variants run alternately; the figures are medians over REPEAT pairs of
wall time and process CPU time per packet, and of the pairs' ratios.
Python threads share one interpreter lock, so more threads never run
packet code in parallel: this measures what the table organisation costs
per packet, not a multi-core speed-up. Run from the project directory::

    python bench/bench_flowtable.py [--packets N] [--flows N] [--repeat N]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import threading
from pathlib import Path
from time import perf_counter, process_time
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyclick.args import Args  # noqa: E402
from pyclick.element import Element  # noqa: E402
from pyclick.errors import Landmark  # noqa: E402
from pyclick.flow.cores import bind_core  # noqa: E402
from pyclick.flow.key import flow_key  # noqa: E402
from pyclick.flow.state import FLOW_STATE  # noqa: E402
from pyclick.flow.table import FlowTable  # noqa: E402
from pyclick.lang.model import FlatConfig, FlatElement  # noqa: E402
from pyclick.packet import Packet  # noqa: E402
from pyclick.router import Router  # noqa: E402
from pyclick.sim.progress import progress_bar  # noqa: E402

RETA = 128
BATCH = 32
THREADS = (1, 2, 4)


class SharedTableManager(Element):
    """The baseline: every flow in one table, each lookup under one lock."""

    port_count = "1/1-2"

    def configure(self, args: Args) -> None:
        args.complete()
        self.table = FlowTable(0, 1 << 30, dict)
        self.lock = threading.Lock()

    def push(self, port: int, batch: list[Packet]) -> None:
        passed, table, lock = [], self.table, self.lock
        for packet in batch:
            key = flow_key(packet)
            with lock:
                entry = table.lookup(key, packet.timestamp)
            packet.anno[FLOW_STATE] = entry.state
            passed.append(packet)
        self.output_push(0, passed)


def element(class_name: str, config: str) -> Element:
    """A configured element of a one-element router (a partial one: its ports go nowhere)."""
    here = Landmark("bench", 1)
    router = Router(FlatConfig([FlatElement("under_test", class_name, config, here)]),
                    partial=True)
    router.configure()
    return router.element("under_test")


def steered_batches(threads: int, packets: int, flows: int, seed: int) -> list[list[list[Packet]]]:
    """Per thread, batches of packets whose buckets the even table gives that thread."""
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 2**32, flows)
    ports = rng.permutation(flows)
    per_thread: list[list[Packet]] = [[] for _ in range(threads)]
    for flow in rng.integers(0, flows, packets):
        packet = Packet(data=b"\0" * 64, timestamp=0.0, rss_hash=int(hashes[flow]),
                        flow=("10.0.0.1", "10.0.0.2", int(ports[flow]), 80, 6))
        per_thread[packet.rss_hash % RETA % threads].append(packet)
    return [[part[i:i + BATCH] for i in range(0, len(part), BATCH)] for part in per_thread]


def run_threads(target: Element, work: list[list[list[Packet]]]) -> tuple[float, float]:
    """(wall, CPU) seconds for every thread to push its batches into ``target``."""
    start = threading.Barrier(len(work) + 1)

    def serve(core: int) -> None:
        bind_core(core)
        start.wait()
        for batch in work[core]:
            target.push(0, batch)
        bind_core(None)

    threads = [threading.Thread(target=serve, args=(core,)) for core in range(len(work))]
    for thread in threads:
        thread.start()
    start.wait()
    wall, cpu = perf_counter(), process_time()
    for thread in threads:
        thread.join()
    return perf_counter() - wall, process_time() - cpu


def per_bucket(threads: int) -> Element:
    manager = element("FlowIPManager", f"RETA_SIZE {RETA}, TIMEOUT 0")
    manager.init_assignment(np.arange(RETA) % threads)
    return manager


def shared(threads: int) -> Element:
    return element("SharedTableManager", "")


def compare(threads: int, work: list[list[list[Packet]]], repeat: int) -> dict[str, float]:
    """Both variants run alternately on warmed-up tables; medians over ``repeat`` pairs.

    Alternating keeps slow phases of a shared machine from favouring one
    variant; CPU time is less disturbed by other processes than wall time.
    """
    targets = {"bucket": per_bucket(threads), "shared": shared(threads)}
    for target in targets.values():
        run_threads(target, work)
    total = sum(len(batch) for part in work for batch in part)
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in targets}
    for round_ in range(repeat):
        order = list(targets) if round_ % 2 == 0 else list(reversed(targets))
        for name in order:
            runs[name].append(run_threads(targets[name], work))
    wall_ratio = [s[0] / b[0] for b, s in zip(runs["bucket"], runs["shared"])]
    cpu_ratio = [s[1] / b[1] for b, s in zip(runs["bucket"], runs["shared"])]
    return {
        "bucket_wall": statistics.median(r[0] for r in runs["bucket"]) / total * 1e9,
        "shared_wall": statistics.median(r[0] for r in runs["shared"]) / total * 1e9,
        "bucket_cpu": statistics.median(r[1] for r in runs["bucket"]) / total * 1e9,
        "shared_cpu": statistics.median(r[1] for r in runs["shared"]) / total * 1e9,
        "wall_ratio": statistics.median(wall_ratio),
        "cpu_ratio": statistics.median(cpu_ratio),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=200_000)
    parser.add_argument("--flows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    options = parser.parse_args()
    # The routers are single elements on purpose; their unused-port warnings are noise.
    logging.getLogger("pyclick.router").setLevel(logging.ERROR)
    print(f"{options.packets} packets, {options.flows} flows, batches of {BATCH}, "
          f"medians of {options.repeat} alternating pairs")
    print("| worker threads | per-bucket ns/packet (wall, CPU) "
          "| shared+lock ns/packet (wall, CPU) | shared / per-bucket (wall, CPU) |")
    print("|---:|---:|---:|---:|")
    bar = progress_bar(len(THREADS), "bench_flowtable", "thread counts")
    for done, threads in enumerate(THREADS, 1):
        work = steered_batches(threads, options.packets, options.flows, seed=threads)
        r = compare(threads, work, options.repeat)
        bar.write(f"| {threads} | {r['bucket_wall']:.0f}, {r['bucket_cpu']:.0f} "
                  f"| {r['shared_wall']:.0f}, {r['shared_cpu']:.0f} "
                  f"| {r['wall_ratio']:.2f}, {r['cpu_ratio']:.2f} |")
        bar.advance_to(done)
    bar.close()


if __name__ == "__main__":
    main()
