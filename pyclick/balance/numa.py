"""NUMA: which cores balance together."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def socket_groups(cores: Sequence[int], loads: Sequence[float], sockets: Sequence[int] | None,
                  threshold: float) -> list[list[int]]:
    """Positions of ``cores`` grouped per socket, or one group for the whole machine.

    ``sockets[c]`` is the socket of core c. Sockets are balanced separately
    only while every socket's average load is within 2 x threshold of the
    machine's average; otherwise (or without ``sockets``) load must cross
    sockets and all cores form one group.
    """
    everything = [list(range(len(cores)))]
    if sockets is None:
        return everything
    members: dict[int, list[int]] = {}
    for position, core in enumerate(cores):
        members.setdefault(sockets[core], []).append(position)
    groups = [members[socket] for socket in sorted(members)]
    load = np.asarray(loads, dtype=np.float64)
    machine = load.mean()
    if any(abs(load[g].mean() - machine) > 2 * threshold for g in groups):
        return everything
    return groups
