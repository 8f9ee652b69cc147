"""Classifiers of thousands of patterns: the time a user waits for them to compile,
and what each packet then costs.

Firewalls and filters are written as long lists of rules: a host list, an
access list of networks, protocols and ports, or one rule of many
alternatives joined by ``or``. Each rule set below is written as an
IPFilter behind a source of one packet and checked by ``pyclick -q`` in a
fresh process per round (its pattern cache emptied first, as on the first
run of a new configuration), and, with ``--before DIR``, by an older copy
of the package in the same rounds. Click's own driver (``--click PATH``,
the ``click`` program of a Click build) runs the same file: it sends its
one packet and stops. The table gives the last line each wrote on standard
error (``ok`` for none), the best wall time of the rounds, the peak memory,
and the ratios.

Per packet (``--packets K``, 0 for none): the same configurations are run,
sending K packets that no rule allows (the filter's longest way) through
the filter, and sending one; the time per packet is the difference of
their best wall times over K - 1.

Rule sets (N from ``--sizes``): ``hosts``, N ``allow src host`` rules;
``acl``, N rules drawn (seeded) from four shapes of network, host,
protocol and port tests; ``blocklist``, N rules denying a host or a network
(as source or destination); ``mixed``, N rules drawn from five shapes of
hosts, ports of either direction, networks with ports, alternatives on
different fields, and TTLs; ``prefixes``, N rules of source and destination
networks of several lengths with ports exact, open or in a range, as in the
access lists of classifier benchmarks; ``ranges``, N rules of a range of TCP
or UDP source or destination ports, overlapping at random; ``sorted-ranges``,
N disjoint ranges of TCP destination ports in ascending order;
``range-pairs``, N rules of a source port range and a destination port range;
``firewall``, N rules of all the shapes above, as many of each, shuffled;
``alternatives``, one rule of N hosts joined by ``or``.

Make the older copy with::

    mkdir -p /tmp/before && git archive COMMIT pyclick | tar -x -C /tmp/before

Run from the project directory::

    python bench/bench_classify.py [--sizes N ...] [--rounds R] [--packets K]
                                   [--before DIR] [--click PATH] [--sets NAME ...]
"""

from __future__ import annotations

import argparse
import os
import random
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_flatten import compile_package  # noqa: E402
from pyclick.sim.progress import progress_bar  # noqa: E402


def hosts(count: int) -> list[str]:
    return [f"allow src host 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
            for i in range(count)]


def acl(count: int) -> list[str]:
    draw = random.Random(count)
    rules = []
    for _ in range(count):
        net = f"10.{draw.randrange(256)}.{draw.randrange(256)}.0/24"
        host = f"192.168.{draw.randrange(256)}.{draw.randrange(256)}"
        proto, port = draw.choice(["tcp", "udp"]), draw.randrange(1, 65536)
        rules.append(draw.choice([f"allow src net {net} && dst host {host}",
                                  f"deny {proto} dst port {port}",
                                  f"allow src net {net} && {proto} src port {port}",
                                  f"deny dst net {net}"]))
    return rules


def blocklist(count: int) -> list[str]:
    draw = random.Random(count)
    return [draw.choice([f"deny host 192.168.{draw.randrange(256)}.{draw.randrange(256)}",
                         f"deny net 10.{draw.randrange(256)}.{draw.randrange(256)}.0/24"])
            for _ in range(count)]


def mixed(count: int) -> list[str]:
    draw = random.Random(count)

    def host() -> str:
        return f"192.168.{draw.randrange(256)}.{draw.randrange(256)}"

    return [draw.choice([f"deny host {host()}",
                         f"deny port {draw.randrange(1, 65536)}",
                         f"allow src net 10.{draw.randrange(256)}.0.0/16 && dst tcp port "
                         f"{draw.randrange(1, 1024)}",
                         f"deny dst host {host()} or src udp port {draw.randrange(1, 65536)}",
                         f"deny ip ttl < {draw.randrange(1, 64)} && src host {host()}"])
            for _ in range(count)]


def prefixes(count: int) -> list[str]:
    """Rules in the manner of generated classifier benchmarks' access lists: source and
    destination networks of several lengths, ports exact, open or in a range."""
    draw = random.Random(count)

    def network() -> str:
        length = draw.choice([8, 16, 16, 24, 24, 24, 28, 32, 32])
        # Never 10/8 nor 172/8, where the benchmark's packet comes from and goes.
        first = draw.choice([octet for octet in range(11, 224) if octet != 172])
        address = (first << 24 | draw.randrange(1 << 24)) >> (32 - length) << (32 - length)
        return ".".join(str(address >> shift & 255) for shift in (24, 16, 8, 0)) + f"/{length}"

    def ports(where: str, protocol: str) -> list[str]:
        shape = draw.randrange(4)
        if shape == 1:
            return [f"{where} {protocol} port {draw.randrange(1, 65536)}"]
        if shape == 2:
            return [f"{where} {protocol} port >= 1024"]
        if shape == 3:
            low = draw.randrange(1, 60000)
            return [f"{where} {protocol} port >= {low}",
                    f"{where} {protocol} port <= {low + draw.randrange(1, 2000)}"]
        return []

    rules = []
    for _ in range(count):
        tests = [f"{where} net {network()}" for where in ("src", "dst") if draw.random() < 0.9]
        protocol = draw.choice(["tcp", "udp", ""])
        if protocol:
            tests += ports("src", protocol) + ports("dst", protocol)
        rules.append(draw.choice(["allow ", "deny "]) + (" && ".join(tests) or "ip proto 47"))
    return rules


def ranges(count: int) -> list[str]:
    """Port ranges of TCP or UDP, source or destination, overlapping at random."""
    draw = random.Random(count)
    rules = []
    for _ in range(count):
        protocol, where = draw.choice(["tcp", "udp"]), draw.choice(["src", "dst"])
        low = draw.randrange(1024, 60000)
        rules.append(f"{draw.choice(['allow', 'deny'])} {protocol} {where} port >= {low} && "
                     f"{protocol} {where} port <= {low + draw.randrange(1, 2000)}")
    return rules


def sorted_ranges(count: int) -> list[str]:
    """Destination port ranges of TCP, one after the other in ascending order, as a
    plan of services by port would list them."""
    draw = random.Random(count)
    lows = sorted(draw.sample(range(1024, 64000), count))
    rules = []
    for low, following in zip(lows, lows[1:] + [65536]):
        high = min(low + draw.randrange(0, 30), following - 1)
        rules.append(f"{draw.choice(['allow', 'deny'])} tcp dst port >= {low} && "
                     f"tcp dst port <= {high}")
    return rules


def range_pairs(count: int) -> list[str]:
    """A range of TCP source ports and one of destination ports in every rule."""
    draw = random.Random(count)
    rules = []
    for _ in range(count):
        source, destination = draw.randrange(1024, 60000), draw.randrange(1024, 60000)
        rules.append(f"{draw.choice(['allow', 'deny'])} tcp src port >= {source} && "
                     f"tcp src port <= {source + draw.randrange(0, 2000)} && "
                     f"tcp dst port >= {destination} && "
                     f"tcp dst port <= {destination + draw.randrange(0, 2000)}")
    return rules


def firewall(count: int) -> list[str]:
    """Rules of every shape above but alternatives, as many of each, shuffled: an
    access list that grew over the years."""
    shapes = (acl, blocklist, mixed, prefixes, ranges, sorted_ranges, range_pairs)
    rules = [rule for shape in shapes for rule in shape(count // len(shapes))]
    random.Random(count).shuffle(rules)
    return rules


def alternatives(count: int) -> list[str]:
    return ["allow " + " or ".join(f"src host 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
                                   for i in range(count))]


RULE_SETS = {"hosts": hosts, "acl": acl, "blocklist": blocklist, "mixed": mixed,
             "prefixes": prefixes, "ranges": ranges, "sorted-ranges": sorted_ranges,
             "range-pairs": range_pairs, "firewall": firewall, "alternatives": alternatives}


def packet_from_nowhere() -> str:
    """A UDP packet from 172.31.255.254 to 10.9.9.9, port 1 to 2, which no rule set
    names, as a Click hex string: its IP header's checksum right, for CheckIPHeader."""
    header = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0,
                                   bytes([172, 31, 255, 254]), bytes([10, 9, 9, 9])))
    total = sum(struct.unpack("!10H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    header[10:12] = struct.pack("!H", ~total & 0xFFFF)
    return "\\<" + (bytes(header) + struct.pack("!HHHH", 1, 2, 8, 0)).hex() + ">"


def configuration(rules: list[str], packets: int) -> str:
    return (f"InfiniteSource(DATA {packet_from_nowhere()}, LIMIT {packets}, STOP true) "
            "-> CheckIPHeader -> IPFilter(" + ", ".join(rules) + ", deny all) -> Discard\n")


def timed(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> dict:
    """Wall time and the last line of the answer of one process."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    try:
        _, errors = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        return {"answer": f"still running after {timeout:g} s", "wall": timeout, "peak": 0}
    wall = time.perf_counter() - started
    last = errors.decode(errors="replace").strip().splitlines()[-1:]
    # The file's name and line say nothing here: the rest of the line does.
    answer = last[0].split(".click:", 1)[-1].split(": ", 1)[-1] if last else "ok"
    return {"answer": answer[:70], "wall": wall, "peak": 0}


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> dict:
    """``command`` timed, with its own peak memory (KB) when ``/usr/bin/time`` is there
    to tell it (``getrusage`` tells only the largest of all children's)."""
    if not Path("/usr/bin/time").exists():
        return timed(command, cwd, env, timeout)
    with tempfile.NamedTemporaryFile("r") as report:
        result = timed(["/usr/bin/time", "-o", report.name, "-f", "%M", *command],
                       cwd, env, timeout)
        text = report.read().strip().splitlines()
    result["peak"] = int(text[-1]) if text and text[-1].isdigit() else 0
    return result


def best_of(rounds: int, measure) -> dict:
    results = [measure() for _ in range(rounds)]
    return min(results, key=lambda result: result["wall"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--packets", type=int, default=20_000,
                        help="packets per run for the time per packet (0: none)")
    parser.add_argument("--before", type=Path, help="an older copy of the package to time too")
    parser.add_argument("--click", help="Click's userlevel driver, to time too")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--sets", nargs="+", choices=sorted(RULE_SETS), default=list(RULE_SETS),
                        help="the rule sets to time (default: all)")
    opts = parser.parse_args()
    packages = {"now": ROOT}
    if opts.before:
        packages["before"] = opts.before.resolve()
    for root in packages.values():
        compile_package(root)
    columns = [*packages] + (["click"] if opts.click else [])
    with tempfile.TemporaryDirectory(prefix="bench-classify-") as scratch:
        directory = Path(scratch)

        def pyclick(label: str, path: Path, check: bool) -> dict:
            cache = directory / f"cache-{label}"
            for entry in cache.glob("pyclick/pattern-*"):
                entry.unlink()
            env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
            command = [sys.executable, "-m", "pyclick", *(["-q"] if check else []), str(path)]
            return run(command, packages[label], env, opts.timeout)

        def measure(label: str, path: Path, check: bool = True) -> dict:
            if label == "click":
                return best_of(opts.rounds, lambda: run([opts.click, str(path)], directory,
                                                        dict(os.environ), opts.timeout))
            return best_of(opts.rounds, lambda: pyclick(label, path, check))

        print("| rule set | N | "
              + " | ".join(f"{name}: answer, s (best), peak MB" for name in columns)
              + "".join(f" | {name} / now" for name in columns[1:])
              + (" | µs per packet: " + ", ".join(columns) if opts.packets else "") + " |")
        bar = progress_bar(len(opts.sets) * len(opts.sizes), "bench_classify", "rule sets")
        done = 0
        for name in opts.sets:
            rules = RULE_SETS[name]
            for size in opts.sizes:
                path = directory / f"{name}-{size}.click"
                path.write_text(configuration(rules(size), 1))
                best = {label: measure(label, path) for label in columns}
                cells = [f"{r['answer']}, {r['wall']:.2f}, {r['peak'] / 1024:.0f}"
                         for r in best.values()]
                cells += [f"{best[label]['wall'] / best['now']['wall']:.2f}"
                          for label in columns[1:]]
                if opts.packets:
                    many = directory / f"{name}-{size}-many.click"
                    many.write_text(configuration(rules(size), opts.packets))
                    each = []
                    for label in columns:
                        one, ran = (measure(label, config, check=False) for config in (path, many))
                        spent = (ran["wall"] - one["wall"]) / (opts.packets - 1)
                        each.append(f"{spent * 1e6:.2f}" if ran["answer"] == one["answer"] == "ok"
                                    else "-")
                    cells.append(", ".join(each))
                bar.write(f"| {name} | {size} | " + " | ".join(cells) + " |")
                done += 1
                bar.advance_to(done)
        bar.close()


if __name__ == "__main__":
    main()
