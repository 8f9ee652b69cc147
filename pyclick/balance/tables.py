"""Indirection-table arithmetic: rotation, table diffs and per-core sums.

A table is an int array of length RETA size whose entries name cores
(queue numbers). These helpers never look at load; with the even table
(``pyclick.rss.indirection``) they are the whole of the static methods and the
bookkeeping shared by the dynamic ones.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

Move = tuple[int, int, int]


def rotate_table(table: np.ndarray, cores: Sequence[int]) -> np.ndarray:
    """Every entry moves to the next core of ``cores`` (wrapping around).

    Entries naming a core outside ``cores`` are sent to the first core.
    """
    order = np.asarray(cores, dtype=np.int64)
    position = np.full(int(max(order.max(), table.max())) + 1, -1, dtype=np.int64)
    position[order] = np.arange(len(order))
    current = position[table]
    return order[np.where(current < 0, 0, (current + 1) % len(order))]


def table_moves(old: np.ndarray, new: np.ndarray, changed: np.ndarray | None = None
                ) -> list[Move]:
    """Every bucket whose core changed, as (bucket, old_core, new_core).

    ``changed``: those buckets' indices in order, when the caller has them already.
    """
    if changed is None:
        changed = np.flatnonzero(old != new)
    # One conversion per array, not three numpy scalar reads per move.
    return list(zip(changed.tolist(), old[changed].tolist(), new[changed].tolist()))


def moves_by_source(moves: Sequence[Move]) -> dict[int, list[tuple[int, int]]]:
    """Group moves per source core, keeping bucket order: the pre-migrate notices."""
    grouped: dict[int, list[tuple[int, int]]] = {}
    for bucket, old, new in moves:
        grouped.setdefault(old, []).append((bucket, new))
    return grouped


def core_sums(table: np.ndarray, values: np.ndarray, ncores: int) -> np.ndarray:
    """Sum of ``values`` (one per bucket) per core id 0..ncores-1."""
    return np.bincount(table, weights=values, minlength=ncores)[:ncores]
