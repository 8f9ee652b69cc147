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

Two baselines are measured in the same run, interleaved with the
pipelines, so that figures from different runs or machines compare as
ratios: ``InfiniteSource -> Discard``, and a reference loop in plain Python
that does the ip pipeline's work on the same frames without the router
(a small object per packet holding the frame, then the header checks, the
checksum, the protocol test and the counts).

Run from the project directory::

    python bench/bench_pipeline.py [--packets N] [--burst B] [--repeat R] [--package DIR]

``--package DIR`` measures the pyclick package found in DIR instead of this
tree's (``git archive REV pyclick grammar | tar -x -C DIR`` gives an older one).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _package_root() -> str:
    """The directory to import pyclick from: --package, or this tree."""
    if "--package" in sys.argv[:-1]:
        return str(Path(sys.argv[sys.argv.index("--package") + 1]).resolve())
    return str(Path(__file__).resolve().parent.parent)


sys.path.insert(0, _package_root())

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


class _Frame:
    """What the reference loop makes per packet: the frame and where its data starts."""

    __slots__ = ("frame", "start")

    def __init__(self, frame: bytes, start: int) -> None:
        self.frame = frame
        self.start = start


def reference_loop(packets: int) -> tuple[float, float]:
    """Wall and CPU seconds of the ip pipeline's work in plain Python."""
    frame = _frame_bytes()
    wall, cpu = time.perf_counter(), time.process_time()
    counts = [0, 0, 0]
    nbytes = 0
    for _ in range(packets):
        packet = _Frame(frame, 0)
        packet.start += 14
        buf, start = packet.frame, packet.start
        hlen = (buf[start] & 15) << 2
        length = buf[start + 2] << 8 | buf[start + 3]
        if buf[start] >> 4 != 4 or not 20 <= hlen <= length <= len(buf) - start:
            continue
        if int.from_bytes(buf[start:start + hlen], "big") % 0xFFFF:
            continue
        proto = buf[start + 9]
        output = 0 if proto == 17 else 1 if proto == 6 else 2
        counts[output] += 1
        if output == 0:
            nbytes += len(buf) - start
    assert counts[0] == packets and nbytes == packets * 50
    return time.perf_counter() - wall, time.process_time() - cpu


def _frame_bytes() -> bytes:
    """FRAME as bytes."""
    return bytes.fromhex(FRAME[2:-1].replace(" ", ""))


REFERENCE = "(reference loop)"


def best_of(bodies: dict[str, str], packets: int, burst: int,
            repeat: int) -> dict[str, tuple[float, float]]:
    """Best wall and best CPU seconds of each pipeline and of the reference
    loop (under REFERENCE), runs interleaved."""
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in (REFERENCE, *bodies)}
    for _ in range(repeat):
        runs[REFERENCE].append(reference_loop(packets))
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
    parser.add_argument("--package", metavar="DIR", help="import pyclick from DIR")
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
    print(f"pyclick from {_package_root()}")
    print(f"{n} packets of 64 bytes, BURST {b}, best of {r} interleaved runs, simulated time\n")
    source = results["source + Discard alone"][1]
    reference = results[REFERENCE][1]
    print(f"{'pipeline':<18} {'wall s':>8} {'CPU s':>8} {'packets/s':>11} {'ns/packet':>10} "
          f"{'x source':>9} {'x reference':>12}")
    for name in (REFERENCE, "source + Discard alone", *pipelines):
        label = "source" if name == "source + Discard alone" else name
        wall, cpu = results[name]
        print(f"{label:<18} {wall:8.3f} {cpu:8.3f} {n / cpu:11,.0f} {cpu / n * 1e9:10.0f} "
              f"{cpu / source:9.2f} {cpu / reference:12.2f}")

    print("\nper element, CPU ns per packet (pipeline with it minus pipeline without it):")
    base = results["source + Discard alone"][1]
    for name in elements:
        # The IP elements are measured after a Strip(14): that is taken off too.
        minus = results["Strip(14)"][1] if name.startswith(("CheckIP", "IPClass")) else base
        cost = results[name][1] - (0 if name == "source + Discard alone" else minus)
        print(f"  {name:<26} {cost / n * 1e9:8.0f}")


if __name__ == "__main__":
    main()
