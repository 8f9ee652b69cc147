"""Our assignment search: relieve overloaded cores with the fewest useful moves.

The objective is the sum over cores of the squared deviation of predicted
load from the group average. Repeatedly, the most overloaded core that can
still give picks, among its buckets and every core below the average, the
single (bucket, receiver) pair that lowers the objective the most, net of
a risk charge for buckets whose rate is volatile; it stops giving once it
is within the threshold or no move is worth ``min_gain``. Buckets leave
only cores that were overloaded when the tick began, and a bucket moves at
most once per tick. Costs per packet may differ per core, so a bucket
weighs rate x cost of the core it is on.

Each step is one small numpy matrix (buckets of one core x receivers). A
giver whose excess could not buy ``min_gain`` even with a bucket of the
ideal size is dropped without building its matrix: moving load p from
excess e to excess d < 0 lowers the objective by at most (e - d)^2 / 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Relief:
    """Moves chosen as (bucket, receiver position) and the loads they leave."""

    moves: list[tuple[int, int]]
    demand: np.ndarray


def relieve_overloaded(demand: np.ndarray, target: np.ndarray, owner: np.ndarray,
                       rate: np.ndarray, risk: np.ndarray, cost: np.ndarray,
                       givers: np.ndarray, can_receive: np.ndarray, threshold: float,
                       min_gain: float) -> Relief:
    """Choose moves from ``givers`` to cores of ``can_receive`` below their target.

    ``demand``/``target``/``cost``/``can_receive`` are per core position;
    ``owner``/``rate``/``risk`` per bucket (``risk`` is the charge, in
    squared load, for moving that bucket). ``demand`` is not modified; the
    returned Relief holds the loads after the moves.
    """
    demand = np.array(demand, dtype=np.float64)
    excess = demand - target
    open_givers = {int(g) for g in givers}
    holdings: dict[int, np.ndarray] = {}
    moves: list[tuple[int, int]] = []
    while open_givers:
        giver = max(open_givers, key=excess.__getitem__)
        receivers = np.flatnonzero(can_receive & (excess < 0))
        if not receivers.size:
            break
        lowest = excess[receivers].min()
        if excess[giver] <= threshold or (excess[giver] - lowest) ** 2 / 2 < min_gain:
            open_givers.discard(giver)
            continue
        if giver not in holdings:
            holdings[giver] = np.flatnonzero((owner == giver) & (rate > 0))
        b = holdings[giver]
        if b.size < 2:
            open_givers.discard(giver)
            continue
        leaving = rate[b] * cost[giver]
        arriving = rate[b][:, None] * cost[receivers][None, :]
        gain = ((2 * excess[giver] - leaving) * leaving - risk[b])[:, None] \
            - (2 * excess[receivers][None, :] + arriving) * arriving
        row, col = divmod(int(np.argmax(gain)), receivers.size)
        if gain[row, col] < min_gain:
            open_givers.discard(giver)
            continue
        receiver = int(receivers[col])
        excess[giver] -= leaving[row]
        excess[receiver] += arriving[row, col]
        demand[giver] -= leaving[row]
        demand[receiver] += arriving[row, col]
        holdings[giver] = np.delete(b, row)
        moves.append((int(b[row]), receiver))
    return Relief(moves, demand)
