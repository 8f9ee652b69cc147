"""Flattening: the time a user waits for ``pyclick -o -``, and hostile configurations.

Speed: the 7,001-element configuration (1,000 instances of a 7-element
compound, each behind one port of a switch) is flattened and written back
as flat Click text by a fresh interpreter, as ``pyclick -o -`` does. Each
round starts one process per package timed and reports its wall and CPU
time, its peak memory, and the phases it measured itself: importing
``pyclick.lang``, flattening, writing back. With ``--before DIR`` an older
copy of the package is timed in the same run, rounds interleaved, and each
figure is given as the ratio new / old; make the copy with::

    mkdir -p /tmp/before && git archive COMMIT pyclick | tar -x -C /tmp/before

(adding ``grammar`` after ``pyclick`` for commits where the grammar lived
at the top of the tree, such as c13a226).

Hostile configurations: texts a fuzzer or a careless generator produces
(100,000 statements, compounds that each use the one before twice,
numbers with thousands of digits, bytes that are not UTF-8, a 1 MB
name in an error). Each must end in the flat graph or in ``FILE:LINE:``
errors, in bounded time and memory; the table gives the first line of the
answer, its length, the time and the peak memory. ``--hostile-before``
runs them with the older package too (with a time limit: some run for
minutes there).

Run from the project directory::

    python bench/bench_flatten.py [--rounds N] [--before DIR] [--hostile-before] [--timeout S]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: The child: read the file as bytes, flatten, write back; report as JSON.
CHILD = r"""
import json, resource, sys, time
start = time.perf_counter()
from pyclick.errors import ConfigError
from pyclick import lang
imported = time.perf_counter()
path = sys.argv[1]
with open(path, "rb") as f:
    data = f.read()
try:
    try:
        from pyclick.lang import decode_config
    except ImportError:  # a package from before decode_config: Python's own decoding
        text = data.decode("utf-8")
    else:
        text = decode_config(data, path)
    flat = lang.flatten(text, path)
    flattened = time.perf_counter()
    lang.unparse(flat)
    written = time.perf_counter()
    answer = f"{len(flat.elements)} elements, {len(flat.connections)} connections"
except ConfigError as err:
    flattened = written = time.perf_counter()
    answer = "\n".join(err.messages)
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"import": imported - start, "flatten": flattened - imported,
                  "unparse": written - flattened, "answer": answer,
                  "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}))
"""


def compound_7001() -> str:
    """1,000 instances of a 7-element compound behind a switch: 7,001 elements."""
    lines = ["elementclass Stage {",
             "  input -> Strip(14) -> CheckIPHeader(INTERFACES 10.0.0.1/24) -> Paint(1)",
             "        -> c :: Counter -> q :: Queue(100) -> Unqueue -> Discard",
             "}",
             "sw :: RoundRobinSwitch;"]
    lines += [f"sw[{i}] -> s{i} :: Stage;" for i in range(1000)]
    return "\n".join(lines) + "\n"


def doubling(levels: int, first: str = "input -> Null -> output") -> str:
    """Compounds that each use the one before twice: 2**levels instances."""
    lines = [f"elementclass C0 {{ {first} }}"]
    lines += [f"elementclass C{i} {{ input -> C{i - 1} -> C{i - 1} -> output }}"
              for i in range(1, levels + 1)]
    return "\n".join(lines + [f"Idle -> C{levels} -> Discard"]) + "\n"


def hostile() -> list[tuple[str, bytes]]:
    digits = "9" * 5000
    return [
        ("100,000 `i -> d;`", "i -> d;\n".encode() * 100_000),
        ("`i :: Idle; d :: Discard;` then 100,000 `i -> d;`",
         ("i :: Idle; d :: Discard;\n" + "i -> d;\n" * 100_000).encode()),
        ("20 compounds, each using the one before twice, no element",
         doubling(20, "input -> output").encode()),
        ("21 compounds, each using the one before twice, no element",
         doubling(21, "input -> output").encode()),
        ("60 compounds, each using the one before twice, one element",
         doubling(60).encode()),
        ("a byte that is not UTF-8 on line 2", b"a :: Idle;\nb :: Print(\xff);\na -> b;\n"),
        ("a port number of 5,000 digits", f"a :: A; b :: B; a [{digits}] -> b;\n".encode()),
        ("a `#line` number of 5,000 digits", f"#line {digits}\na :: A;\n".encode()),
        ("`${X[i]}` with an index of 5,000 digits",
         f"define($X a b c);\np :: P(${{X[{digits}]}});\n".encode()),
        ("a 1 MB element name declared twice",
         f"{'x' * 1_000_000} :: A;\n{'x' * 1_000_000} :: B;\n".encode()),
        ("variables growing tenfold, 7 levels",
         ("define($A0 xxxxxxxxxx);\n" + "".join(
             f"define($A{i} {f'$A{i - 1}' * 10});\n" for i in range(1, 8))
          + "p :: P($A7);\n").encode()),
    ]


def compile_package(package_root: Path) -> None:
    """Compile the package's modules ahead, as installing it does (pip writes them), so that
    no child pays for compiling sources, whatever PYTHONDONTWRITEBYTECODE says."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package_root / "pyclick")],
                   check=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""})


def run_child(package_root: Path, path: Path, timeout: float) -> dict:
    """Flatten ``path`` in a fresh interpreter that imports pyclick from ``package_root``."""
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, str(path)], cwd=package_root,
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"answer": f"still running after {timeout:g} s", "wall": timeout}
    result = {"wall": time.perf_counter() - started}
    if done.returncode != 0:
        last = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["(nothing)"]
        result["answer"] = f"crash: {last[0]}"
    else:
        result.update(json.loads(done.stdout))
    return result


def speed(packages: dict[str, Path], path: Path, rounds: int, timeout: float) -> None:
    runs: dict[str, list[dict]] = {name: [] for name in packages}
    baseline = []
    for root in packages.values():
        run_child(root, path, timeout)
    for round_ in range(rounds):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        baseline.append(time.perf_counter() - started)
        order = list(packages) if round_ % 2 == 0 else list(reversed(packages))
        for name in order:
            runs[name].append(run_child(packages[name], path, timeout))
    answers = {name: {r["answer"] for r in results} for name, results in runs.items()}
    print(f"answers: {answers}")
    print(f"interpreter start alone (`python -c pass`): {min(baseline) * 1000:.0f} ms best, "
          f"{statistics.median(baseline) * 1000:.0f} ms median")
    print()
    print("| package | whole process ms (best, median) | CPU ms (best) | import ms | flatten ms "
          "| write back ms | peak MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    best: dict[str, dict[str, float]] = {}
    for name, results in runs.items():
        best[name] = {key: min(r[key] for r in results)
                      for key in ("wall", "cpu", "import", "flatten", "unparse", "rss_mb")}
        median = statistics.median(r["wall"] for r in results)
        b = best[name]
        print(f"| {name} | {b['wall'] * 1000:.0f}, {median * 1000:.0f} | {b['cpu'] * 1000:.0f} | "
              f"{b['import'] * 1000:.0f} | {b['flatten'] * 1000:.0f} | "
              f"{b['unparse'] * 1000:.0f} | {b['rss_mb']:.0f} |")
    if len(best) == 2:
        new, old = best["now"], best["before"]
        print()
        print("| ratio now / before | whole process | CPU | import | flatten | write back |")
        print("|---|---:|---:|---:|---:|---:|")
        print("| best of each | " + " | ".join(
            f"{new[key] / old[key]:.2f}" for key in ("wall", "cpu", "import", "flatten", "unparse"))
            + " |")


def hostile_table(packages: dict[str, Path], directory: Path, timeout: float) -> None:
    print()
    print("| input | package | answer (first line) | answer length | wall s | peak MB |")
    print("|---|---|---|---:|---:|---:|")
    for number, (title, data) in enumerate(hostile()):
        path = directory / f"hostile-{number}.click"
        path.write_bytes(data)
        for name, root in packages.items():
            result = run_child(root, path, timeout)
            answer = result["answer"]
            first = answer.splitlines()[0] if answer else ""
            first = first.replace(str(directory) + "/", "")
            if len(first) > 110:
                first = first[:110] + "..."
            rss = f"{result['rss_mb']:.0f}" if "rss_mb" in result else "-"
            print(f"| {title} | {name} | `{first}` | {len(answer)} | {result['wall']:.2f} | "
                  f"{rss} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7,
                        help="rounds of the speed comparison (0: hostile inputs only)")
    parser.add_argument("--before", type=Path, metavar="DIR",
                        help="a directory holding an older pyclick package to time alongside")
    parser.add_argument("--hostile-before", action="store_true",
                        help="run the hostile inputs with the older package too")
    parser.add_argument("--timeout", type=float, default=60.0)
    opts = parser.parse_args()
    packages = {"now": ROOT}
    if opts.before:
        if not (opts.before / "pyclick" / "lang").is_dir():
            parser.error(f"no pyclick package in {opts.before}")
        packages["before"] = opts.before.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for root in packages.values():
            compile_package(root)
        path = directory / "stages-7001.click"
        path.write_text(compound_7001())
        if opts.rounds > 0:
            print(f"7,001-element configuration, {opts.rounds} rounds")
            speed(packages, path, opts.rounds, opts.timeout)
        hostile_packages = packages if opts.hostile_before else {"now": ROOT}
        hostile_table(hostile_packages, directory, opts.timeout)


if __name__ == "__main__":
    main()
