"""Start-up: the wall time of ``pyclick -q`` (check a configuration, do not run it).

Each round runs, one after the other, ``python -c pass`` and then, for every
configuration, ``python -m pyclick -q`` twice: cold (the programs and
patterns kept once parsed are removed from the cache first, the grammar's
tables stay) and warm (right after, with the cache as the cold run left
it). With ``--before DIR`` an older copy of the package (``git archive REV
pyclick | tar -x -C DIR``) is run from DIR in the same rounds, cold and warm.
Every command shares one fresh cache directory of the benchmark's
(``XDG_CACHE_HOME``), and Python's bytecode is written and read back as
in a user's runs. The table gives the best and the median over the
rounds, in milliseconds. Run from the project directory::

    python bench/bench_startup.py [--rounds N] [--before DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import bench_flatten  # noqa: E402
from pyclick.sim.progress import progress_bar  # noqa: E402

#: What is checked: a label and the arguments after ``pyclick -q``.
CONFIGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("`-e 'Idle -> Discard'`", ("-e", "Idle -> Discard")),
    ("`conf/rsspp.click` (README)", (str(ROOT / "conf" / "rsspp.click"),)),
    ("`-e 'InfiniteSource(LIMIT 3) -> Counter -> Print(x) -> Discard'`",
     ("-e", "InfiniteSource(LIMIT 3) -> Counter -> Print(x) -> Discard")),
    ("`-e` Classifier(12/0800, -)",
     ("-e", "FromDump(/dev/null) -> c :: Classifier(12/0800, -); c[0] -> Discard; "
            "c[1] -> Discard")),
    ("`-e` IPClassifier(tcp dst port 80, udp, -)",
     ("-e", "FromDump(/dev/null) -> Strip(14) -> CheckIPHeader -> "
            "c :: IPClassifier(tcp dst port 80, udp, -); "
            "c[0] -> Discard; c[1] -> Discard; c[2] -> Discard")),
    ("`-e` IPFilter(allow tcp, deny all)",
     ("-e", "FromDump(/dev/null) -> Strip(14) -> IPFilter(allow tcp, deny all) -> Discard")),
    ("`-e` a list, a `\\<hex>` block and nested parentheses",
     ("-e", "s :: RatedSource(DATA \\<0800 4500>, LIMIT 2), Idle => "
            "IPFilter(allow (tcp or (udp and dst port 53)), deny all), Counter -> Discard")),
    ("`conf/rsspp-sim.click` (the demo)", (str(ROOT / "conf" / "rsspp-sim.click"),)),
)


def large_configs(scratch: Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Three of bench_flatten's 7,000-element configurations, written into ``scratch``:
    the 7,001-element one flattened to standard output as well (``-o -``, as
    ``pyclick -q -o -`` answers a user who wants the flat text checked), its
    switch fed by an Idle so that every port is connected, as a router needs
    (bench_flatten times the flattening alone, which does not look),
    7,000 elements declared one per line, and a router's 412 interfaces alike."""
    made = []
    for name, label, options, fed in (
            ("stages", "the 7,001-element configuration and an Idle, `-o -`", ("-o", "-"),
             "Idle -> sw;\n"),
            ("declared", "7,000 elements declared one per line", (), ""),
            ("interfaces", "412 interfaces of a router, their classifiers alike", (), "")):
        path = scratch / f"{name}.click"
        path.write_text(bench_flatten.CONFIGS[name]() + fed)
        made.append((f"{label} (bench_flatten's `{name}`)", (*options, str(path))))
    return tuple(made)


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def forget_parsed(cache: Path) -> None:
    """Remove what is kept once parsed (programs, patterns); the grammar's tables stay."""
    for prefix in ("parse-", "pattern-"):
        for entry in (cache / "pyclick").glob(f"{prefix}*"):
            entry.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--before", type=Path, metavar="DIR",
                        help="a directory holding an older pyclick package, run alongside")
    opts = parser.parse_args()
    if opts.before and not (opts.before / "pyclick").is_dir():
        parser.error(f"no pyclick package in {opts.before}")
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as scratch:
        cache = Path(tmp)
        os.chmod(cache, 0o700)
        checked = CONFIGS + large_configs(Path(scratch))
        env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
        env.pop("PYCLICK_CACHE", None)
        # Bytecode is read from __pycache__ as a user's runs read it.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        rows: dict[str, list[float]] = {"`python -c pass`": []}
        bar = progress_bar(opts.rounds, "bench_startup", "rounds")
        for done in range(1, opts.rounds + 1):
            rows["`python -c pass`"].append(timed([python, "-c", "pass"], ROOT, env))
            for label, args in checked:
                command = [python, "-m", "pyclick", "-q", *args]
                forget_parsed(cache)
                rows.setdefault(f"{label}, cold", []).append(timed(command, ROOT, env))
                rows.setdefault(f"{label}, warm", []).append(timed(command, ROOT, env))
                if opts.before:
                    forget_parsed(cache)
                    rows.setdefault(f"{label}, before, cold", []).append(
                        timed(command, opts.before, env))
                    rows.setdefault(f"{label}, before, warm", []).append(
                        timed(command, opts.before, env))
            bar.advance_to(done)
        bar.close()
    print(f"# bench_startup: {opts.rounds} rounds, load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    print()
    print("| command | best ms | median ms |")
    print("|---|---:|---:|")
    for label, times in rows.items():
        print(f"| {label} | {min(times) * 1000:.0f} | {statistics.median(times) * 1000:.0f} |")


if __name__ == "__main__":
    main()
