"""pyclick-plot: draw a DeviceBalancer recording (RECORD) to PNG or SVG.

Three panels sharing the time axis: the load of every core as a heatmap,
the per-second imbalance of per-core packet counts (the RSS++ paper's
metric) beside what a static table would have given the same traffic, and
the buckets moved at each tick.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from pyclick.record import TickRecord, read_records

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
    table over the same cores. A tick's counts were steered by the table
    installed at the previous tick.
    """
    cores = sorted({c for r in records for c in r.cores})
    index = {c: i for i, c in enumerate(cores)}
    seconds = int(records[-1].t) + 1
    actual = np.zeros((seconds, len(cores)))
    static = np.zeros((seconds, len(cores)))
    previous = records[0].table
    for r in records:
        counts = np.asarray(r.counts, dtype=float)
        if counts.size:
            second = min(int(r.t), seconds - 1)
            steered = np.bincount(np.asarray(previous), weights=counts, minlength=max(cores) + 1)
            actual[second] += steered[cores]
            even = np.arange(counts.size) % len(r.cores)
            static[second, [index[r.cores[k]] for k in range(len(r.cores))]] += np.bincount(
                even, weights=counts, minlength=len(r.cores))
        previous = r.table

    def metric(per_core: np.ndarray) -> np.ndarray:
        low, high = per_core.min(axis=1), per_core.max(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(low > 0, (high - low) / low, np.nan)

    return np.arange(seconds) + 0.5, metric(actual), metric(static)


def draw(records: list[TickRecord], out: Path, width: int, height: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times = np.array([r.t for r in records])
    matrix, cores = load_matrix(records)
    fig, (heat, imb, mov) = plt.subplots(
        3, 1, figsize=(width / DPI, height / DPI), dpi=DPI, sharex=True,
        gridspec_kw={"height_ratios": [3, 1.3, 1]})
    edges = np.append(times, times[-1] + (records[-1].tick if records else 1))
    mesh = heat.pcolormesh(edges, np.arange(len(cores) + 1), np.ma.masked_invalid(matrix),
                           vmin=0, vmax=1, cmap="viridis", shading="flat")
    heat.set_yticks(np.arange(len(cores)) + 0.5, [str(c) for c in cores],
                    fontsize=7 if len(cores) > 16 else 9)
    heat.set_ylabel("core")
    heat.set_title("Per-core load")
    # One colorbar for the whole column keeps the three time axes aligned.
    fig.colorbar(mesh, ax=[heat, imb, mov], label="core load", pad=0.01, shrink=0.6,
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
    mov.set_xlabel("time (s)")
    fig.savefig(out, dpi=DPI)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pyclick-plot", description="Plot a DeviceBalancer recording (RECORD file).")
    parser.add_argument("record", help="the JSON-lines file DeviceBalancer's RECORD wrote")
    parser.add_argument("-o", "--output", help="image to write (.png or .svg); "
                        "default: the recording's name with .png")
    parser.add_argument("--size", default="1200x900", help="WIDTHxHEIGHT in pixels")
    opts = parser.parse_args(argv)
    try:
        width, height = (int(x) for x in opts.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size: expected WIDTHxHEIGHT, got '{opts.size}'")
    out = Path(opts.output or Path(opts.record).with_suffix(".png"))
    if out.suffix.lower() not in (".png", ".svg"):
        parser.error(f"--output: {out}: the image must end in .png or .svg")
    try:
        records = list(read_records(opts.record))
    except (OSError, ValueError) as err:
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
