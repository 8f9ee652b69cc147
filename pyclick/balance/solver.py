"""Our assignment search: relieve overloaded cores with the fewest useful moves.

The objective is the sum over cores of the squared deviation of predicted
load from the group average. Each step makes the single move, over every
bucket of every overloaded core and every core below the average, that
lowers the objective the most, net of a risk charge for buckets whose rate
is hard to predict; the search stops when no move is worth ``min_gain``.
Buckets leave only cores that were overloaded when the tick began, a core
stops giving once within the threshold or down to its last busy bucket,
a receiver stops receiving once at the average, and a bucket moves at most
once per tick. Costs per packet may differ per core, so a bucket weighs
rate x cost of the core it is on.

The gains live in one matrix (candidate buckets x receivers) kept as a
giver part per bucket minus a receiver part per (bucket, receiver). A move
changes only the rows of its giver and the column of its receiver, so each
step recomputes those and takes one argmax.
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
    moves: list[tuple[int, int]] = []
    receivers = np.flatnonzero(can_receive & (excess < 0))
    is_giver = np.zeros(len(demand), dtype=bool)
    is_giver[givers] = True
    busy = rate > 0
    candidates = np.flatnonzero(is_giver[owner] & busy)
    if not receivers.size or not candidates.size:
        return Relief(moves, demand)

    # gain[j, r] = giver_part[j] - receiver_part[j, r]: the drop of the
    # squared deviation of bucket j's core and of receiver r, net of risk.
    source = owner[candidates]
    leaving = rate[candidates] * cost[source]
    giver_part = (2 * excess[source] - leaving) * leaving - risk[candidates]
    # A receiver at excess d gains at most d^2 (when filled exactly to its
    # target), so buckets below min_gain even then need no matrix row.
    hopeful = giver_part + excess[receivers].min() ** 2 >= min_gain
    candidates, source = candidates[hopeful], source[hopeful]
    leaving, giver_part = leaving[hopeful], giver_part[hopeful]
    if not candidates.size:
        return Relief(moves, demand)
    arriving = rate[candidates][:, None] * cost[receivers][None, :]
    receiver_part = (2 * excess[receivers][None, :] + arriving) * arriving
    held = np.bincount(owner[busy], minlength=len(demand))
    giver_part[held[source] < 2] = -np.inf

    while True:
        best = int(np.argmax(giver_part[:, None] - receiver_part))
        j, col = divmod(best, receivers.size)
        if giver_part[j] - receiver_part[j, col] < min_gain:
            break
        giver, receiver = int(source[j]), int(receivers[col])
        excess[giver] -= leaving[j]
        excess[receiver] += arriving[j, col]
        demand[giver] -= leaving[j]
        demand[receiver] += arriving[j, col]
        held[giver] -= 1
        moves.append((int(candidates[j]), receiver))
        giver_part[j] = -np.inf
        # Only the giver's buckets and the receiver's column see new excesses.
        rows = np.flatnonzero((source == giver) & np.isfinite(giver_part))
        if excess[giver] <= threshold or held[giver] < 2:
            giver_part[rows] = -np.inf
        else:
            giver_part[rows] = (2 * excess[giver] - leaving[rows]) * leaving[rows] \
                - risk[candidates[rows]]
        if excess[receiver] >= 0:
            receiver_part[:, col] = np.inf
        else:
            receiver_part[:, col] = (2 * excess[receiver] + arriving[:, col]) * arriving[:, col]
    return Relief(moves, demand)
