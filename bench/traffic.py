"""Traffic scenarios for the benchmarks, and captures of traffic families for replay.

Every benchmark of the balancers runs the same grid: each traffic family
(``pyclick.sim.families``) on 8 and 18 cores, tables of 128 and 512
buckets, offered load 0.75 and 0.9 of the cores' capacity::

    from traffic import scenarios
    for scenario in scenarios():
        nic = scenario.nic(seed=1, duration=20)        # a SimulatedNIC, even table
        ...

``Scenario.config``/``traffic``/``nic`` build the traffic model and the
NIC model; ``Scenario.simnic`` the matching SimNIC arguments for a
configuration. ``replay_nic`` puts a capture on the same NIC model, with
the per-core capacity that makes the capture's rate the scenario's load.

Run as a script it lists the grid, or writes captures of the ``shift`` and
``onoff`` families into a new temporary directory (never into the
repository) for replay benchmarks::

    python bench/traffic.py --list
    python bench/traffic.py --pcaps --seconds 20 --rate 50000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from itertools import product
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyclick.rss.toeplitz import MICROSOFT_KEY  # noqa: E402
from pyclick.sim.families import FAMILIES, family_config  # noqa: E402
from pyclick.sim.nic import SimulatedNIC  # noqa: E402
from pyclick.sim.pcap import LINKTYPE_ETHERNET, record_bytes  # noqa: E402
from pyclick.sim.profile import LoadProfile  # noqa: E402
from pyclick.sim.replay import PcapTraffic  # noqa: E402
from pyclick.sim.traffic import TrafficConfig, TrafficGenerator  # noqa: E402

CORES = (8, 18)
RETAS = (128, 512)
LOADS = (0.75, 0.9)
#: SimNIC's defaults: a core serves 1 Mpps from an RX queue of 1024 packets.
CAPACITY_PPS = 1_000_000.0
QUEUE_PACKETS = 1024
#: The families whose captures replay benchmarks use.
CAPTURED = ("shift", "onoff")


@dataclass(frozen=True)
class Scenario:
    """A traffic family on ``cores`` cores and a table of ``reta`` buckets, offered
    ``load`` times the capacity of all cores."""

    family: str
    cores: int
    reta: int
    load: float

    @property
    def name(self) -> str:
        return f"{self.family}, {self.cores} cores, RETA {self.reta}, load {self.load:g}"

    def rate_pps(self, capacity_pps: float = CAPACITY_PPS) -> float:
        return self.load * self.cores * capacity_pps

    def config(self, seed: int, duration: float, capacity_pps: float = CAPACITY_PPS,
               profile: LoadProfile | None = None) -> TrafficConfig:
        """The family's TrafficConfig for a run of ``duration`` seconds."""
        return family_config(self.family, seed=seed, rate_pps=self.rate_pps(capacity_pps),
                             duration=duration, profile=profile)

    def traffic(self, seed: int, duration: float, capacity_pps: float = CAPACITY_PPS,
                profile: LoadProfile | None = None) -> TrafficGenerator:
        return TrafficGenerator(self.config(seed, duration, capacity_pps, profile),
                                MICROSOFT_KEY, self.reta)

    def nic(self, seed: int, duration: float, capacity_pps: float = CAPACITY_PPS,
            queue: int = QUEUE_PACKETS, profile: LoadProfile | None = None) -> SimulatedNIC:
        """The NIC model fed by this scenario's traffic, with an even table."""
        return SimulatedNIC(self.cores, self.reta,
                            self.traffic(seed, duration, capacity_pps, profile),
                            capacity_pps, queue, MICROSOFT_KEY)

    def simnic(self, seed: int, duration: float) -> str:
        """SimNIC's arguments for this scenario (default capacity and queue)."""
        return (f"CORES {self.cores}, RETA_SIZE {self.reta}, LOAD {self.load:g}, "
                f"TRAFFIC {self.family}, SEED {seed}, DURATION {duration:g}")


def scenarios(families: tuple[str, ...] | None = None, cores: tuple[int, ...] = CORES,
              retas: tuple[int, ...] = RETAS, loads: tuple[float, ...] = LOADS
              ) -> list[Scenario]:
    """Every combination, family by family (all families unless given)."""
    names = families or tuple(f.name for f in FAMILIES)
    return [Scenario(*combination) for combination in product(names, cores, retas, loads)]


def replay_nic(path: str | Path, cores: int, reta: int, load: float,
               queue: int = QUEUE_PACKETS, speedup: float = 1.0) -> SimulatedNIC:
    """The NIC model replaying a capture, each core's capacity set so that the
    capture's mean rate is ``load`` times the capacity of all cores."""
    traffic = PcapTraffic(path, MICROSOFT_KEY, reta, speedup)
    capacity = capture_rate(path, speedup) / (load * cores)
    return SimulatedNIC(cores, reta, traffic, capacity, queue, MICROSOFT_KEY)


def capture_rate(path: str | Path, speedup: float = 1.0) -> float:
    """Mean packets per second of a capture as replayed (counts its records once)."""
    traffic = PcapTraffic(path, MICROSOFT_KEY, 128, speedup)
    length = traffic.duration
    packets = int(traffic.windows(0.0, length + 1.0, 1).sum())
    return packets / length if length > 0 else float(packets)


def write_family_capture(path: str | Path, family: str, seconds: float, rate_pps: float,
                         seed: int = 1) -> int:
    """Write ``seconds`` of a family's traffic at ``rate_pps`` as a classic pcap;
    returns the packets written. Packets are made and written 10 ms at a time."""
    config = family_config(family, seed=seed, rate_pps=rate_pps, duration=seconds)
    traffic = TrafficGenerator(config, MICROSOFT_KEY, 128)
    written = 0
    step = 0.01
    with open(path, "wb") as out:
        out.write(b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + bytes(8)
                  + (65535).to_bytes(4, "little") + LINKTYPE_ETHERNET.to_bytes(4, "little"))
        for index in range(round(seconds / step)):
            batch = traffic.packets(index * step, step)
            out.write(b"".join(record_bytes(p.timestamp, p.data) for p in batch))
            written += len(batch)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print every scenario")
    parser.add_argument("--pcaps", action="store_true",
                        help=f"write captures of {' and '.join(CAPTURED)} into a temporary "
                             "directory (or --dir)")
    parser.add_argument("--dir", type=Path, help="directory for the captures")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each capture")
    parser.add_argument("--rate", type=float, default=50_000.0, help="packets per second")
    parser.add_argument("--seed", type=int, default=1)
    opts = parser.parse_args(argv)
    if not (opts.list or opts.pcaps):
        parser.error("give --list or --pcaps")
    if opts.list:
        for scenario in scenarios():
            print(scenario.name)
    if opts.pcaps:
        directory = opts.dir or Path(tempfile.mkdtemp(prefix="pyclick-traffic-"))
        directory.mkdir(parents=True, exist_ok=True)
        for family in CAPTURED:
            path = directory / f"{family}.pcap"
            count = write_family_capture(path, family, opts.seconds, opts.rate, opts.seed)
            print(f"{path}: {count} packets, {opts.seconds:g} s of '{family}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
