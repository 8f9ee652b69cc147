"""pyclick-plot: draw a DeviceBalancer recording (RECORD) to PNG or SVG.

Three panels sharing the time axis: the load of every core as a heatmap,
the imbalance (spread of the measured loads and the residual the balancer
expected), and the buckets moved at each tick.
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


def load_spread(records: list[TickRecord]) -> np.ndarray:
    """(max − min) / mean of each tick's core loads (0 for an idle tick)."""
    out = np.zeros(len(records))
    for j, r in enumerate(records):
        loads = np.asarray(r.loads, dtype=float)
        mean = loads.mean() if loads.size else 0.0
        out[j] = (loads.max() - loads.min()) / mean if mean > 0 else 0.0
    return out


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

    imb.plot(times, load_spread(records), label="(max − min) / mean of loads", lw=1)
    imb.plot(times, [r.imbalance for r in records], label="residual (balancer)", lw=1)
    imb.set_ylabel("imbalance")
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
