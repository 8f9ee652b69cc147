"""Per-run solver statistics, accumulated over ticks (the run_stats handlers).

Run j is the j-th solver run of a tick (the reference searches up to ten);
for each, the number of ticks that had such a run, the mean of the sum of
squared residual imbalances it reached and its mean duration.
"""

from __future__ import annotations

from typing import Sequence

from pyclick.balance.reference_greedy import MAX_RUNS, RunStat


class RunStatsTable:
    """Counts, squared imbalance sums and time sums of runs 0..MAX_RUNS-1."""

    def __init__(self, runs: int = MAX_RUNS) -> None:
        self.count = [0] * runs
        self.imbalance = [0.0] * runs
        self.seconds = [0.0] * runs

    def add(self, runs: Sequence[RunStat]) -> None:
        for j, run in enumerate(runs[:len(self.count)]):
            self.count[j] += 1
            self.imbalance[j] += run.square_imbalance
            self.seconds[j] += run.seconds

    def mean_imbalance(self, j: int) -> float:
        return self.imbalance[j] / self.count[j] if self.count[j] else float("nan")

    def mean_microseconds(self, j: int) -> float:
        return self.seconds[j] * 1e6 / self.count[j] if self.count[j] else float("nan")

    def table(self) -> str:
        """One line per run: ``j count mean_square_imbalance mean_usec``."""
        lines = []
        for j in range(len(self.count)):
            if self.count[j]:
                lines.append(f"{j} {self.count[j]} {self.mean_imbalance(j):.6g} "
                             f"{self.mean_microseconds(j):.1f}")
            else:
                lines.append(f"{j} 0 nan nan")
        return "\n".join(lines) + "\n"
