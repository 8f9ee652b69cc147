"""Flattening: the time a user waits for ``pyclick -o -``, and hostile configurations.

Speed: the 7,001-element configuration (1,000 instances of a 7-element
compound, each behind one port of a switch), or the shapes named by
``--config`` one after the other (then a summary of them all), is flattened
and written back as flat Click text by a fresh interpreter, as
``pyclick -o -`` does, which then ends as the package's command ends
(``freezes_at_exit``). Each round starts one process per package timed
and reports its wall and CPU time, its peak memory, and the phases it
measured itself: importing ``pyclick.lang``, flattening, writing back.
With ``--before DIR`` an older
copy of the package is timed in the same run, rounds interleaved, and each
figure is given as the ratio new / old. Click's own ``click-flatten`` (found on
the ``PATH``, or named by ``--click-flatten``) is timed in the same rounds,
writing the flat text to a file as ``pyclick -o`` does, and every package's
whole process (wall and CPU time) is given as a multiple of it. The
children share one cache directory of the benchmark's (``XDG_CACHE_HOME``),
where the grammar's tables stay from the first run; the programs a package
keeps there once parsed are removed before each run, so every round parses
the text, except in the row "now, parsed before", where the same text is
read back from the parse cache as a second run of ``pyclick`` on an
unchanged file does. Make the older copy with::

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

    python bench/bench_flatten.py [--rounds N] [--before DIR] [--click-flatten PATH]
                                  [--speed-only] [--hostile-before] [--timeout S]
                                  [--config NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pyclick.sim.progress import progress_bar  # noqa: E402

#: The row of this tree reading the program back from its parse cache.
WARM = "now, parsed before"

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
if sys.argv[2:] == ["--freeze-at-exit"]:
    import gc
    gc.freeze()
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


def declared_7002() -> str:
    """7,000 elements declared one per line, then chained one connection per line:
    the shape a generator writes, with no compound to expand once and reuse."""
    lines = [f"e{i} :: Counter;" for i in range(7000)]
    lines.append("Idle -> e0;")
    lines += [f"e{i} -> e{i + 1};" for i in range(6999)]
    lines.append("e6999 -> Discard;")
    return "\n".join(lines) + "\n"


def behind_a_switch(classes: list[str], count: int, instance: Callable[[int], str]) -> str:
    """The compound ``classes``, then ``count`` instances behind the outputs of a
    switch fed by Idle, the i-th ``instance(i) -> Discard``."""
    lines = classes + ["s :: RoundRobinSwitch;", "Idle -> s;"]
    lines += [f"s[{i}] -> {instance(i)} -> Discard;" for i in range(count)]
    return "\n".join(lines) + "\n"


def arguments_7001() -> str:
    """1,000 instances of a 7-element compound behind a switch, with 256 different
    arguments: instances share an expansion only when their arguments are equal."""
    return behind_a_switch(["elementclass Path { $n | input -> Counter -> Paint($n) -> Strip(14)",
                            "  -> CheckIPHeader -> Unstrip(14) -> Counter -> output }"],
                           1000, lambda i: f"Path({i % 256})")


def classes_8002() -> str:
    """200 different 8-element compound classes, each used 5 times behind a switch."""
    lines = ["s :: RoundRobinSwitch;", "Idle -> s;"]
    lines += [f"elementclass C{c} {{ input -> Counter -> Paint({c % 256}) -> Strip(14) "
              f"-> Unstrip(14) -> Counter -> Queue -> Unqueue -> output }}" for c in range(200)]
    lines += [f"s[{5 * c + r}] -> C{c} -> Discard;" for c in range(200) for r in range(5)]
    return "\n".join(lines) + "\n"


def mixed_8002() -> str:
    """2,000 queue paths behind a switch, written as a router's configuration is:
    declarations with configuration strings, then chains with ports and anonymous
    elements, a statement of single names closing each."""
    lines = ["s :: RoundRobinSwitch; Idle -> s;"]
    for i in range(2000):
        lines.append(f"q{i} :: Queue(10); c{i} :: Counter;")
        lines.append(f"s[{i}] => [0] q{i} -> Unqueue -> c{i} [0] -> d{i} :: Discard;")
    return "\n".join(lines) + "\n"


def configured_7001() -> str:
    """3,500 elements declared with a configuration string one per line, then chained
    through 3,500 more, each declared with its configuration in its chain."""
    lines = [f"x{i} :: Paint({i % 256});" for i in range(3500)]
    lines.append("Idle -> x0;")
    lines += [f"x{i} -> y{i} :: Strip(14) -> x{i + 1};" for i in range(3499)]
    lines.append("x3499 -> Discard;")
    return "\n".join(lines) + "\n"


def filters_7000() -> str:
    """1,000 chains of 7 elements on a line each, their configuration strings
    holding what CONFIG reads specially: ``\\<hex>`` blocks, quoted strings
    with escapes, nested parentheses."""
    lines = [f"s{i} :: RatedSource(DATA \\<0800 4500 {i % 256:02x}>, LIMIT 10) -> Strip(14) "
             f"-> f{i} :: IPFilter(allow (tcp and (dst port {i % 1024} or src port 80)), "
             f"deny all) -> Print(\"flow {i}: \\\"ok\\\"\") -> c{i} :: Counter -> Queue(100) "
             f"-> Discard;" for i in range(1000)]
    return "\n".join(lines) + "\n"


def listed_7000() -> str:
    """1,750 statements of 4 elements, two sources in a list joined to a counter by
    ``=>``: element lists."""
    lines = [f"Idle, Idle => c{i} :: Counter -> Discard;" for i in range(1750)]
    return "\n".join(lines) + "\n"


def chain_7002() -> str:
    """One statement: a chain of 7,000 anonymous elements on a single line."""
    return "Idle -> " + " -> ".join(["Counter"] * 7000) + " -> Discard;\n"


def nested_7001() -> str:
    """500 instances of a compound made of compounds made of compounds, three
    levels, 14 elements each, with 7 different arguments."""
    return behind_a_switch(["elementclass In { input -> Counter -> Paint(1) -> output }",
                            "elementclass Mid { input -> In -> Strip(14) -> In -> output }",
                            "elementclass Out { $x | input -> Mid -> Paint($x) -> Mid -> output }"],
                           500, lambda i: f"Out({i % 7})")


def defined_7000() -> str:
    """1,750 lines of four statements whose arguments are ``define``'d variables."""
    lines = ["define($A 10, $B 20);"]
    lines += [f"e{i} :: Paint($A); f{i} :: Queue($B); e{i} -> f{i} -> Unqueue -> Discard; "
              f"Idle -> e{i};" for i in range(1750)]
    return "\n".join(lines) + "\n"


def ports_7104() -> str:
    """Many ports of one element: a Tee with 3,500 outputs and a switch with 1,200."""
    lines = ["t :: Tee(3500); Idle -> t;"]
    lines += [f"t[{i}] -> Discard;" for i in range(3500)]
    lines.append("r :: RoundRobinSwitch; Idle -> r;")
    lines += [f"r[{i}] -> c{i} :: Counter -> Discard;" for i in range(1200)]
    return "\n".join(lines) + "\n"


def interfaces_7004() -> str:
    """412 interfaces of a router, 17 elements each: a Classifier splitting ARP from
    IP, an ARPResponder, an IP path through CheckIPHeader, an IPFilter, DecIPTTL and a
    Queue; the same Classifier and IPFilter patterns on every interface."""
    lines = [f"Idle -> c{i} :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);\n"
             f"c{i}[0] -> ARPResponder(10.{i // 250}.{i % 250}.1 00:00:c0:ae:67:ef) -> Discard;\n"
             f"c{i}[1] -> Discard; c{i}[3] -> Discard;\n"
             f"c{i}[2] -> Strip(14) -> CheckIPHeader(INTERFACES 10.{i // 250}.{i % 250}.1/24) "
             f"-> IPFilter(allow tcp dst port 80, allow udp, deny all) -> GetIPAddress(16) "
             f"-> DecIPTTL -> Paint({i % 256}) -> IPPrint(if{i}) -> Queue(200) -> Unqueue "
             f"-> EtherEncap(0x0800, 1:1:1:1:1:1, 2:2:2:2:2:2) -> Discard;"
             for i in range(412)]
    return "\n".join(lines) + "\n"


def commented_7000() -> str:
    """1,000 documented paths of 7 elements, as configurations kept in a repository
    are written: a line comment and a block comment before each statement, and
    comments inside configuration strings, between arguments."""
    lines = [f"// path {i}: ARP, IP and the rest apart; -> and :: in a comment\n"
             f"/* kept for interface {i}\n   over two lines */\n"
             f"Idle -> c{i} :: Classifier(12/0806 /* ARP */, 12/0800 // IP\n, -)"
             f" -> Strip(14) -> Paint({i % 256} /* colour */) -> Discard;\n"
             f"c{i}[1] -> Discard; // IP\nc{i}[2] -> /* the rest */ Discard;"
             for i in range(1000)]
    return "\n".join(lines) + "\n"


#: The configurations ``--config`` can time, by name.
CONFIGS = {"stages": compound_7001, "declared": declared_7002, "arguments": arguments_7001,
           "classes": classes_8002, "mixed": mixed_8002, "configured": configured_7001,
           "filters": filters_7000, "listed": listed_7000, "chain": chain_7002,
           "nested": nested_7001, "defined": defined_7000, "ports": ports_7104,
           "interfaces": interfaces_7004, "commented": commented_7000}


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
        ("100,000 routes in one routing table's argument (a 1.9 MB string)",
         ("rt :: RadixIPLookup(" + ", ".join(
             f"{i >> 16}.{(i >> 8) & 255}.{i & 255}.0/24 {i % 2}" for i in range(100_000))
          + ");\nIdle -> rt -> Discard; rt[1] -> Discard;\n").encode()),
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


def forget_parsed(cache: Path) -> None:
    """Remove the programs kept in ``cache`` once parsed (the grammar's tables stay)."""
    for entry in (cache / "pyclick").glob("parse-*"):
        entry.unlink()


def freezes_at_exit(package_root: Path) -> bool:
    """Whether the package's ``pyclick`` command ends through ``pyclick.cli.command``,
    which moves every object out of the collector's reach before the interpreter
    exits: its children then end the same way, as the command would."""
    entry = package_root / "pyclick" / "__main__.py"
    return entry.is_file() and "command()" in entry.read_text()


def run_child(package_root: Path, path: Path, timeout: float, cache: Path,
              parsed_before: bool = False) -> dict:
    """Flatten ``path`` in a fresh interpreter that imports pyclick from ``package_root``,
    with ``cache`` as its cache directory: parsing the text unless ``parsed_before``."""
    if not parsed_before:
        forget_parsed(cache)
    ending = ["--freeze-at-exit"] if freezes_at_exit(package_root) else []
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, str(path), *ending],
                              cwd=package_root,
                              capture_output=True, timeout=timeout,
                              env={**os.environ, "XDG_CACHE_HOME": str(cache)})
    except subprocess.TimeoutExpired:
        return {"answer": f"still running after {timeout:g} s", "wall": timeout}
    result = {"wall": time.perf_counter() - started}
    if done.returncode != 0:
        last = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["(nothing)"]
        result["answer"] = f"crash: {last[0]}"
    else:
        result.update(json.loads(done.stdout))
    return result


def run_click_flatten(program: str, path: Path, timeout: float) -> dict[str, float]:
    """Wall and CPU time of Click's ``click-flatten`` on ``path``, its output read through a
    pipe, as the children's is."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # Through a pipe: with a timeout and no pipe to read, subprocess waits for the
    # exit by polling at doubling intervals (0.5 ms up to 50 ms), which made a
    # 39 ms run measure 64 ms.
    subprocess.run([program, str(path)], stdout=subprocess.PIPE, check=True, timeout=timeout)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall": wall, "cpu": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime}


def speed(packages: dict[str, Path], path: Path, rounds: int, timeout: float,
          click_flatten: str | None, cache: Path) -> str | None:
    """Time ``path`` and print its tables; the row of the summary of shapes (see
    :func:`summary_header`), None without click-flatten."""
    runs: dict[str, list[dict]] = {name: [] for name in packages}
    runs[WARM] = []
    baseline = []
    spawn = []
    reference: list[dict[str, float]] = []
    for root in packages.values():
        run_child(root, path, timeout, cache)
    bar = progress_bar(rounds, f"bench_flatten {path.stem}", "rounds")
    for round_ in range(rounds):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        baseline.append(time.perf_counter() - started)
        started = time.perf_counter()
        subprocess.run(["true"], check=True)
        spawn.append(time.perf_counter() - started)
        if click_flatten:
            reference.append(run_click_flatten(click_flatten, path, timeout))
        order = list(packages) if round_ % 2 == 0 else list(reversed(packages))
        for name in order:
            runs[name].append(run_child(packages[name], path, timeout, cache))
            if name == "now":
                # Right after the run that kept the program.
                runs[WARM].append(run_child(packages[name], path, timeout, cache,
                                            parsed_before=True))
        bar.advance_to(round_ + 1)
    bar.close()
    answers = {name: {r["answer"] for r in results} for name, results in runs.items()}
    print(f"answers: {answers}")
    print(f"interpreter start alone (`python -c pass`): {min(baseline) * 1000:.0f} ms best, "
          f"{statistics.median(baseline) * 1000:.0f} ms median")
    print(f"starting a process from this one (`true`): {min(spawn) * 1000:.0f} ms best, "
          f"{statistics.median(spawn) * 1000:.0f} ms median")
    if reference:
        walls = [r["wall"] for r in reference]
        ref_wall, ref_median = min(walls), statistics.median(walls)
        ref_cpu = min(r["cpu"] for r in reference)
        print(f"click-flatten ({click_flatten}): {ref_wall * 1000:.0f} ms best, "
              f"{ref_median * 1000:.0f} ms median, {ref_cpu * 1000:.0f} ms CPU best")
    print()
    print("| package | whole process ms (best, median) "
          "| × click-flatten (best, median, median of rounds) "
          "| CPU ms (best) | CPU × click-flatten | import ms | flatten ms | write back ms "
          "| peak MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    best: dict[str, dict[str, float]] = {}
    for name, results in runs.items():
        best[name] = {key: min(r[key] for r in results)
                      for key in ("wall", "cpu", "import", "flatten", "unparse", "rss_mb")}
        median = statistics.median(r["wall"] for r in results)
        b = best[name]
        # Each round's own ratio too: both were timed within seconds of each other.
        times = (f"{b['wall'] / ref_wall:.1f}, {median / ref_median:.1f}, "
                 f"{statistics.median(r['wall'] / f['wall'] for r, f in zip(results, reference)):.1f}"
                 if reference else "-")
        cpu_times = f"{b['cpu'] / ref_cpu:.1f}" if reference else "-"
        print(f"| {name} | {b['wall'] * 1000:.0f}, {median * 1000:.0f} | {times} | "
              f"{b['cpu'] * 1000:.0f} | {cpu_times} | {b['import'] * 1000:.0f} | "
              f"{b['flatten'] * 1000:.0f} | {b['unparse'] * 1000:.0f} | {b['rss_mb']:.0f} |")
    if "before" in best:
        new, old = best["now"], best["before"]
        print()
        print("| ratio now / before | whole process | CPU | import | flatten | write back |")
        print("|---|---:|---:|---:|---:|---:|")
        print("| best of each | " + " | ".join(
            f"{new[key] / old[key]:.2f}" for key in ("wall", "cpu", "import", "flatten", "unparse"))
            + " |")
    if not reference:
        return None
    cells = [f"{ref_wall * 1000:.0f}"]
    for name in ("now", WARM):
        walls = [r["wall"] for r in runs[name]]
        ratios = [r["wall"] / f["wall"] for r, f in zip(runs[name], reference)]
        cells += [f"{min(walls) * 1000:.0f}, {statistics.median(walls) * 1000:.0f}",
                  f"{min(walls) / ref_wall:.1f}, {statistics.median(walls) / ref_median:.1f}, "
                  f"{statistics.median(ratios):.1f}"]
    return " | ".join(cells)


def summary_header() -> str:
    """The header of the summary of several shapes: whole process, best and median, and as
    multiples of click-flatten (best, median, median of the rounds' ratios)."""
    return ("| configuration | click-flatten ms | pyclick ms (best, median) | × click-flatten "
            "| parsed before: ms | × click-flatten |\n|---|---:|---:|---:|---:|---:|")


def hostile_table(packages: dict[str, Path], directory: Path, timeout: float,
                  cache: Path) -> None:
    print()
    print("| input | package | answer (first line) | answer length | wall s | peak MB |")
    print("|---|---|---|---:|---:|---:|")
    inputs = hostile()
    bar = progress_bar(len(inputs) * len(packages), "bench_flatten hostile inputs", "runs")
    for number, (title, data) in enumerate(inputs):
        path = directory / f"hostile-{number}.click"
        path.write_bytes(data)
        for offset, (name, root) in enumerate(packages.items(), 1):
            result = run_child(root, path, timeout, cache)
            answer = result["answer"]
            first = answer.splitlines()[0] if answer else ""
            first = first.replace(str(directory) + "/", "")
            if len(first) > 110:
                first = first[:110] + "..."
            rss = f"{result['rss_mb']:.0f}" if "rss_mb" in result else "-"
            bar.write(f"| {title} | {name} | `{first}` | {len(answer)} | {result['wall']:.2f} | "
                      f"{rss} |")
            bar.advance_to(number * len(packages) + offset)
    bar.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7,
                        help="rounds of the speed comparison (0: hostile inputs only)")
    parser.add_argument("--before", type=Path, metavar="DIR",
                        help="a directory holding an older pyclick package to time alongside")
    parser.add_argument("--speed-only", action="store_true",
                        help="time the configuration only, no hostile inputs")
    parser.add_argument("--hostile-before", action="store_true",
                        help="run the hostile inputs with the older package too")
    parser.add_argument("--click-flatten", metavar="PATH", default=shutil.which("click-flatten"),
                        help="Click's click-flatten, timed as the reference (default: on PATH)")
    parser.add_argument("--config", choices=CONFIGS, default=["stages"], nargs="+",
                        help="the configurations timed, one after the other: 'stages' (the "
                             "7,001-element one, the default), 'declared', 'arguments', 'classes', "
                             "'mixed', 'configured', 'filters', 'listed', 'chain', 'nested', "
                             "'defined', 'ports', 'interfaces' or 'commented' (see their functions); with several, a "
                             "summary follows")
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
        cache = directory / "cache"
        cache.mkdir(mode=0o700)
        summary = []
        for config in opts.config if opts.rounds > 0 else ():
            path = directory / f"{config}.click"
            path.write_text(CONFIGS[config]())
            print(f"configuration '{config}', {opts.rounds} rounds")
            row = speed(packages, path, opts.rounds, opts.timeout, opts.click_flatten, cache)
            summary.append(f"| {config} | {row} |")
            print()
        if len(opts.config) > 1 and opts.rounds > 0 and opts.click_flatten:
            print(summary_header())
            print("\n".join(summary))
        if not opts.speed_only:
            hostile_packages = packages if opts.hostile_before else {"now": ROOT}
            hostile_table(hostile_packages, directory, opts.timeout, cache)


if __name__ == "__main__":
    main()
