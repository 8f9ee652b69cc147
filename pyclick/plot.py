"""pyclick-plot: draw a DeviceBalancer recording (RECORD) to PNG or SVG.

Four panels sharing the time axis: the load of every core as a heatmap,
the per-second imbalance of per-core packet counts (the RSS++ paper's
metric) beside what a static table would have given the same traffic, the
buckets moved at each tick, and the cores in use against the fewest that
would keep the offered load under TARGET_LOAD (when the recording has them:
a simulated NIC measures them).

It reads either recording format and a rotated set (FILE.N ... FILE.1,
FILE) as one run; ``--to-json`` writes the records as JSON lines instead.
Reading a large recording shows a progress bar when standard error is a
terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from pyclick.record import TickRecord, read_recording, recording_files
from pyclick.rss.indirection import even_table
from pyclick.sim.progress import progress_bar

DPI = 100


def load_matrix(records: list[TickRecord]) -> tuple[np.ndarray, list[int]]:
    """Loads as a cores × ticks matrix, NaN where a core was not in use."""
    cores = sorted({c for r in records for c in r.cores})
    row = {c: i for i, c in enumerate(cores)}
    matrix = np.full((len(cores), len(records)), np.nan)
    for j, r in enumerate(records):
        for c, load in zip(r.cores, r.loads):
            matrix[row[c], j] = load
    return matrix, cores


def per_second_imbalance(records: list[TickRecord]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The paper's metric, (max − min) / min of per-core packets, per second.

    Returns the seconds, the imbalance under the recorded tables, and the
    imbalance the same per-bucket counts would have given on a static, even
    table over as many cores. Only the cores in use at every tick of a
    second count (a core added or removed during it is not imbalanced). A
    tick's counts were steered by the table installed at the previous tick.
    A last second that the run left before its end (its last tick's next
    one would still fall in it) is left out when an earlier one is whole:
    a few ticks' counts are not a second's.
    """
    cores = sorted({c for r in records for c in r.cores})
    index = {c: i for i, c in enumerate(cores)}
    last = records[-1]
    seconds = int(last.t) + 1
    if seconds > 1 and last.t + last.tick < seconds - 1e-9:
        seconds -= 1
    actual = np.zeros((seconds, len(cores)))
    static = np.zeros((seconds, len(cores)))
    in_use = np.ones((seconds, len(cores)), bool)
    previous = records[0].table
    for r in records:
        counts = np.asarray(r.counts, dtype=float)
        if counts.size and int(r.t) < seconds:
            second = int(r.t)
            steered = np.bincount(np.asarray(previous), weights=counts, minlength=max(cores) + 1)
            actual[second] += steered[cores]
            used = np.zeros(len(cores), bool)
            used[[index[c] for c in r.cores]] = True
            in_use[second] &= used
            static[second] += np.bincount(even_table(counts.size, range(len(r.cores))),
                                          weights=counts, minlength=len(cores))
        previous = r.table

    def metric(per_core: np.ndarray, columns: np.ndarray) -> float:
        values = per_core[columns]
        if not len(values) or values.min() <= 0:
            return np.nan
        return (values.max() - values.min()) / values.min()

    balanced = [metric(actual[s], in_use[s]) for s in range(seconds)]
    even = [metric(static[s], np.arange(len(cores)) < in_use[s].sum()) for s in range(seconds)]
    return np.arange(seconds) + 0.5, np.array(balanced), np.array(even)


def draw(records: list[TickRecord], out: Path, width: int, height: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times = np.array([r.t for r in records])
    matrix, cores = load_matrix(records)
    fig, (heat, imb, mov, use) = plt.subplots(
        4, 1, figsize=(width / DPI, height / DPI), dpi=DPI, sharex=True,
        gridspec_kw={"height_ratios": [3, 1.3, 1, 1.3]})
    edges = np.append(times, times[-1] + (records[-1].tick if records else 1))
    mesh = heat.pcolormesh(edges, np.arange(len(cores) + 1), np.ma.masked_invalid(matrix),
                           vmin=0, vmax=1, cmap="viridis", shading="flat")
    heat.set_yticks(np.arange(len(cores)) + 0.5, [str(c) for c in cores],
                    fontsize=7 if len(cores) > 16 else 9)
    heat.set_ylabel("core")
    heat.set_title("Per-core load")
    # One colorbar for the whole column keeps the three time axes aligned.
    fig.colorbar(mesh, ax=[heat, imb, mov, use], label="core load", pad=0.01, shrink=0.6,
                 anchor=(0.0, 1.0))

    seconds, balanced, static = per_second_imbalance(records)
    imb.plot(seconds, static * 100, "o-", ms=3, lw=1, color="tab:gray",
             label="static RSS table, same traffic")
    imb.plot(seconds, balanced * 100, "o-", ms=3, lw=1, color="tab:blue", label="recorded tables")
    imb.set_ylabel("imbalance (%)")
    imb.set_title("Per-second (max − min) / min of per-core packets", fontsize=10)
    imb.set_ylim(bottom=0)
    imb.legend(fontsize=8, loc="upper right")

    moves = [len(r.moves) for r in records]
    mov.bar(times, moves, width=np.diff(edges), align="edge", color="tab:red")
    mov.set_ylabel("moves")
    draw_cores(use, records, edges)
    use.set_xlabel("time (s)")
    fig.savefig(out, dpi=DPI)
    plt.close(fig)


def draw_cores(axes, records: list[TickRecord], edges: np.ndarray) -> None:
    """Cores in use and the ideal count, as steps over the ticks."""
    axes.stairs([r.in_use for r in records], edges, baseline=None, color="tab:blue", lw=1.2,
                label="cores in use")
    ideal = [np.nan if r.ideal is None else r.ideal for r in records]
    if not np.isnan(ideal).all():
        axes.stairs(ideal, edges, baseline=None, color="tab:gray", lw=1, ls="--",
                    label="ideal: offered / (TARGET_LOAD x core capacity)")
    axes.set_ylabel("cores")
    axes.set_ylim(bottom=0)
    axes.legend(fontsize=8, loc="lower left")


def read_all(path: str) -> list[TickRecord]:
    """Every record of the recording ``path`` (and its rotated files), with a bar on a terminal."""
    total = sum(f.stat().st_size for f in recording_files(path) if f.exists())
    bar = progress_bar(total, f"reading {Path(path).name}", "B")
    try:
        return list(read_recording(path, bar.advance_to))
    finally:
        bar.close()


def to_json(path: str) -> int:
    """Write the records of ``path`` to standard output as JSON lines."""
    total = sum(f.stat().st_size for f in recording_files(path) if f.exists())
    bar = progress_bar(total, f"reading {Path(path).name}", "B")
    try:
        for record in read_recording(path, bar.advance_to):
            sys.stdout.write(json.dumps(record.__dict__, separators=(",", ":")) + "\n")
    finally:
        bar.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pyclick-plot", description="Plot a DeviceBalancer recording (RECORD file).")
    parser.add_argument("record", help="the recording DeviceBalancer's RECORD wrote (compact or "
                        "JSON lines; FILE.1, FILE.2, ... rotated out of it are read too)")
    parser.add_argument("-o", "--output", help="image to write (.png or .svg); "
                        "default: the recording's name with .png")
    parser.add_argument("--size", default="1200x900", help="WIDTHxHEIGHT in pixels")
    parser.add_argument("--to-json", action="store_true",
                        help="write the records to standard output as JSON lines, draw nothing")
    opts = parser.parse_args(argv)
    try:
        width, height = (int(x) for x in opts.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size: expected WIDTHxHEIGHT, got '{opts.size}'")
    out = Path(opts.output or Path(opts.record).with_suffix(".png"))
    if out.suffix.lower() not in (".png", ".svg") and not opts.to_json:
        parser.error(f"--output: {out}: the image must end in .png or .svg")
    try:
        if opts.to_json:
            return to_json(opts.record)
        records = read_all(opts.record)
    except BrokenPipeError:
        # The reader went away (``--to-json FILE | head``): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as err:
        print(f"pyclick-plot: {err.filename or opts.record}: {err.strerror}", file=sys.stderr)
        return 1
    except ValueError as err:
        print(f"pyclick-plot: {err}", file=sys.stderr)
        return 1
    if not records:
        print(f"pyclick-plot: {opts.record}: no tick records", file=sys.stderr)
        return 1
    draw(records, out, width, height)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
