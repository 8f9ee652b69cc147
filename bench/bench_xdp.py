"""Cost of the kernel path: per-packet XDP work and one balancer control tick.

Per packet: every XDP program runs on crafted packets inside the kernel
(BPF_PROG_TEST_RUN, REPEAT runs per measurement, the kernel's mean ns per
run); each is reported next to a plain counter program (one per-CPU array
increment, no parsing) measured in the same rounds, as a ratio.

Control path (user space, perf_counter, median of ITERATIONS): reading the
512 per-bucket counters of the counting program in one batch (and, for
comparison, entry by entry through bcc's table object), writing a
512-entry software RSS table, reading /proc/stat, one rsspp solve, and a
whole tick doing all four.

Needs root and bcc (``python -m pyclick.kernel.bcc_loader`` says what is
missing). Run from the project directory::

    python bench/bench_xdp.py [--repeat N] [--rounds N] [--iterations N]
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import statistics
import struct
import sys
from pathlib import Path
from time import perf_counter
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyclick.kernel import bcc_loader, bpf_syscall  # noqa: E402
from pyclick.kernel.bucket_counts import BucketCounts  # noqa: E402
from pyclick.kernel.procstat import ProcStatLoad  # noqa: E402
from pyclick.kernel.rss_program import DEFAULT_KEY, RssProgram  # noqa: E402

RETA = 512
PLAIN_COUNTER = b"""
BPF_PERCPU_ARRAY(count_map, u64, 1);
int xdp_count(struct xdp_md *ctx) {
    u32 zero = 0;
    u64 *packets = count_map.lookup(&zero);
    if (packets)
        *packets += 1;
    return XDP_PASS;
}
"""


def frame(src: str, dst: str, proto: int, sport: int, dport: int) -> bytes:
    """An Ethernet frame with an IPv4 or IPv6 header and 20 bytes of L4."""
    l4 = struct.pack("!HH", sport, dport) + bytes(16)
    if ipaddress.ip_address(src).version == 4:
        l3 = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, proto, 0,
                         ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed)
        ethertype = 0x0800
    else:
        l3 = struct.pack("!IHBB16s16s", 6 << 28, len(l4), proto, 64,
                         ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed)
        ethertype = 0x86DD
    return bytes(12) + struct.pack("!H", ethertype) + l3 + l4


PACKETS = {
    "IPv4 UDP": frame("198.51.100.1", "203.0.113.9", socket.IPPROTO_UDP, 4000, 53),
    "IPv6 TCP": frame("2001:db8::1", "2001:db8::2", socket.IPPROTO_TCP, 40000, 443),
}


def median_ns(prog_fd: int, packet: bytes, repeat: int, rounds: int) -> float:
    return statistics.median(bpf_syscall.prog_test_run(prog_fd, packet, repeat).duration_ns
                             for _ in range(rounds))


def per_packet(repeat: int, rounds: int) -> list[tuple[str, str, float, float]]:
    """(program, packet, ns/packet, ratio to the plain counter) rows."""
    bcc = bcc_loader.prepare()
    plain = bcc.BPF(text=PLAIN_COUNTER)
    plain_fd = plain.load_func(b"xdp_count", bcc.BPF.XDP).fd
    counting = RssProgram(RETA, DEFAULT_KEY)
    steering = RssProgram(RETA, DEFAULT_KEY, redirect_cpus=bpf_syscall.possible_cpus())
    cpus = bpf_syscall.possible_cpus()
    bpf_syscall.write_array(steering.map_fd("reta_map"),
                            (np.arange(RETA) % cpus).astype(np.uint32))
    cpu_map = steering.map("cpu_map")
    for cpu in range(cpus):
        entry = cpu_map.Leaf()
        entry.qsize = 2048
        cpu_map[cpu_map.Key(cpu)] = entry
    rows = []
    try:
        for label, packet in PACKETS.items():
            base = median_ns(plain_fd, packet, repeat, rounds)
            rows.append(("plain counter", label, base, 1.0))
            for name, program in (("xdp_count (Toeplitz, count)", counting),
                                  ("xdp_count RSS_REDIRECT (+ CPUMAP)", steering)):
                ns = median_ns(program.xdp_fd, packet, repeat, rounds)
                rows.append((name, label, ns, ns / base if base else float("nan")))
    finally:
        counting.close()
        steering.close()
        plain.cleanup()
    return rows


def median_us(fn: Callable[[], object], iterations: int) -> float:
    fn()
    samples = []
    for _ in range(iterations):
        began = perf_counter()
        fn()
        samples.append(perf_counter() - began)
    return statistics.median(samples) * 1e6


def control_path(iterations: int) -> list[tuple[str, float]]:
    """(operation, µs) rows for the balancer's work in one tick."""
    from pyclick.balance.controller import Controller
    from pyclick.balance.params import BalanceParams

    cores = sorted(os.sched_getaffinity(0))
    program = RssProgram(RETA, DEFAULT_KEY, redirect_cpus=max(cores) + 1)
    try:
        counts = BucketCounts(program.map_fd("count_map"), RETA)
        reta_fd = program.map_fd("reta_map")
        loads = ProcStatLoad()
        controller = Controller(BalanceParams(method="rsspp", reta_size=RETA, cpus=len(cores)))
        rng = np.random.default_rng(1)
        skewed = rng.zipf(1.3, RETA).clip(max=10_000).astype(np.int64)
        skewed_loads = np.linspace(0.95, 0.3, len(cores))

        def solve() -> None:
            controller.step(skewed_loads, skewed)

        def write_table() -> None:
            bpf_syscall.write_array(reta_fd, np.asarray(cores, dtype=np.uint32)[
                controller.table.astype(np.int64) % len(cores)])

        bcc_table = program.map("count_map")

        def read_entry_by_entry() -> None:
            for bucket in range(RETA):
                bcc_table[bcc_table.Key(bucket)]

        def tick() -> None:
            controller.step(loads.read_loads(cores), counts.read())
            write_table()

        return [
            (f"counter read ({RETA} buckets, per-CPU, one batch)",
             median_us(counts.read, iterations)),
            (f"counter read, entry by entry (bcc table, {RETA} lookups)",
             median_us(read_entry_by_entry, max(iterations // 10, 1))),
            (f"table write ({RETA} entries, one batch)", median_us(write_table, iterations)),
            ("/proc/stat load read", median_us(lambda: loads.read_loads(cores), iterations)),
            (f"rsspp solve ({RETA} buckets, {len(cores)} cores, skewed)",
             median_us(solve, iterations)),
            ("whole control tick (read counters + loads, solve, write)",
             median_us(tick, iterations)),
        ]
    finally:
        program.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=200_000,
                        help="runs per BPF_PROG_TEST_RUN measurement")
    parser.add_argument("--rounds", type=int, default=7, help="measurements per program")
    parser.add_argument("--iterations", type=int, default=300,
                        help="repetitions of each control-path operation")
    opts = parser.parse_args()
    missing = [r for r in bcc_loader.check() if not r.ok]
    if missing:
        for result in missing:
            print(f"cannot benchmark: {result.what}: {result.detail}", file=sys.stderr)
        return 2
    print(f"Per packet (BPF_PROG_TEST_RUN, {opts.repeat} runs x {opts.rounds} rounds, median)")
    print("| program | packet | ns/packet | x plain counter |\n|---|---|---:|---:|")
    for name, packet, ns, ratio in per_packet(opts.repeat, opts.rounds):
        print(f"| {name} | {packet} | {ns:.0f} | {ratio:.2f} |")
    print(f"\nControl path (median of {opts.iterations})")
    print("| operation | µs |\n|---|---:|")
    for name, us in control_path(opts.iterations):
        print(f"| {name} | {us:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
