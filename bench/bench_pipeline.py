"""Packets per second through Click pipelines, and what each element costs.

Each pipeline starts with ``InfiniteSource(LENGTH 64, BURST B, LIMIT N)``
and runs in simulated time, so the figures are the cost of moving packets,
not of waiting. Measured per pipeline: the wall and CPU time of the run,
each the best of R runs, the runs of all pipelines interleaved (the machine
is shared: the best run is the least disturbed), packets per second and ns
per packet from the CPU time. The cost of an element is the difference
between the CPU time of a pipeline with it and of the same pipeline
without it, per packet.

Pipelines:

- ``push``: ``-> Strip(14) -> Counter -> Discard``, batched as pushed;
- ``ip``: ``-> Strip(14) -> CheckIPHeader -> IPClassifier(udp, tcp, -) ->
  Counter -> Discard``, when both classes exist (the packet holds an IPv4
  UDP header after the 14 bytes stripped, so every packet passes);
- ``queue``: ``-> Queue -> Unqueue(BURST B) -> Counter -> Discard``;
- per element: ``-> X -> Discard`` against ``-> Discard``, for Null,
  Strip, Counter, Paint, Tee (one arm), and a Queue/Unqueue pair; and
  CheckIPHeader and IPClassifier after a Strip(14), against Strip(14) alone.

Run from the project directory::

    python bench/bench_pipeline.py [--packets N] [--burst B] [--repeat R]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pyclick.lang import flatten  # noqa: E402
from pyclick.registry import Registry  # noqa: E402
from pyclick.router import Router  # noqa: E402

#: 14 bytes of Ethernet, then IPv4 (20 bytes, UDP, checksum valid) and UDP, padded to 64.
FRAME = ("\\<" + "00" * 12 + "0800"
         + "4500 0032 0000 0000 4011 66b9 0a00 0001 0a00 0002"
         + "0035 0035 001e 0000" + "00" * 22 + ">")


def run_once(body: str, packets: int, burst: int) -> tuple[float, float]:
    """Wall and CPU seconds to push ``packets`` packets through ``body``."""
    config = f"InfiniteSource(DATA {FRAME}, LENGTH 64, BURST {burst}, LIMIT {packets}) {body}"
    router = Router(flatten(config, filename="<bench>"), simtime=True)
    router.configure()
    wall, cpu = time.perf_counter(), time.process_time()
    router.run(handle_signals=False)
    return time.perf_counter() - wall, time.process_time() - cpu


def best_of(bodies: dict[str, str], packets: int, burst: int,
            repeat: int) -> dict[str, tuple[float, float]]:
    """Best wall and best CPU seconds of each pipeline, runs interleaved."""
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in bodies}
    for _ in range(repeat):
        for name, body in bodies.items():
            runs[name].append(run_once(body, packets, burst))
    return {name: (min(w for w, _ in r), min(c for _, c in r)) for name, r in runs.items()}


def has_classes(*names: str) -> bool:
    registry = Registry()
    for name in names:
        try:
            registry.lookup(name)
        except Exception:
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=200_000)
    parser.add_argument("--burst", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=5)
    opts = parser.parse_args()
    n, b, r = opts.packets, opts.burst, opts.repeat

    pipelines = {"push": "-> Strip(14) -> Counter -> Discard",
                 "queue": f"-> Queue -> Unqueue(BURST {b}) -> Counter -> Discard"}
    if has_classes("CheckIPHeader", "IPClassifier"):
        pipelines["ip"] = ("-> Strip(14) -> CheckIPHeader -> c :: IPClassifier(udp, tcp, -) "
                           "-> Counter -> Discard; c[1] -> Discard; c[2] -> Discard")
    else:
        print("(CheckIPHeader or IPClassifier missing: the ip pipeline is left out)")
    elements = {"source + Discard alone": "-> Discard", "Null": "-> Null -> Discard",
                "Strip(14)": "-> Strip(14) -> Discard", "Counter": "-> Counter -> Discard",
                "Paint(1)": "-> Paint(1) -> Discard", "Tee (1 arm)": "-> Tee -> Discard",
                "Queue + Unqueue": f"-> Queue -> Unqueue(BURST {b}) -> Discard"}
    if "ip" in pipelines:
        elements["CheckIPHeader"] = "-> Strip(14) -> CheckIPHeader -> Discard"
        elements["IPClassifier(udp, tcp, -)"] = ("-> Strip(14) -> c :: IPClassifier(udp, tcp, -) "
                                                 "-> Discard; c[1] -> Discard; c[2] -> Discard")
    results = best_of({**pipelines, **elements}, n, b, r)
    print(f"{n} packets of 64 bytes, BURST {b}, best of {r} interleaved runs, simulated time\n")
    print(f"{'pipeline':<8} {'wall s':>8} {'CPU s':>8} {'packets/s':>11} {'ns/packet':>10}")
    for name in pipelines:
        wall, cpu = results[name]
        print(f"{name:<8} {wall:8.3f} {cpu:8.3f} {n / cpu:11,.0f} {cpu / n * 1e9:10.0f}")

    print("\nper element, CPU ns per packet (pipeline with it minus pipeline without it):")
    base = results["source + Discard alone"][1]
    for name in elements:
        # The IP elements are measured after a Strip(14): that is taken off too.
        minus = results["Strip(14)"][1] if name.startswith(("CheckIP", "IPClass")) else base
        cost = results[name][1] - (0 if name == "source + Discard alone" else minus)
        print(f"  {name:<26} {cost / n * 1e9:8.0f}")


if __name__ == "__main__":
    main()
