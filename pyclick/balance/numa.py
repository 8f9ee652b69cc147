"""NUMA: which cores balance together."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def socket_groups(cores: Sequence[int], loads: np.ndarray, sockets: Sequence[int] | None,
                  threshold: float) -> list[np.ndarray]:
    """Positions of ``cores`` grouped per socket, or one group for the whole machine.

    ``sockets[c]`` is the socket of core c. Sockets are balanced separately
    only while every socket's average load is within 2 x threshold of the
    machine's average; otherwise (or without ``sockets``) load must cross
    sockets and all cores form one group.
    """
    everything = [np.arange(len(cores))]
    if sockets is None:
        return everything
    of_core = np.asarray([sockets[c] for c in cores])
    groups = [np.flatnonzero(of_core == s) for s in np.unique(of_core)]
    machine = loads.mean()
    if any(abs(loads[g].mean() - machine) > 2 * threshold for g in groups):
        return everything
    return groups
