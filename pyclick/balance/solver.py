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
    receivers = (can_receive & (excess < 0)).nonzero()[0]
    is_giver = np.zeros(len(demand), dtype=bool)
    is_giver[givers] = True
    busy = rate > 0
    candidates = (is_giver[owner] & busy).nonzero()[0]
    if not receivers.size or not candidates.size:
        return Relief(moves, demand)

    # gain[j, r] = giver_part[j] - receiver_part[r, j]: the drop of the
    # squared deviation of bucket j's core and of receiver r, net of risk.
    source = owner[candidates]
    moving, risk = rate[candidates], risk[candidates]
    leaving = moving * cost[source]
    giver_part = (2 * excess[source] - leaving) * leaving - risk
    # A receiver at excess d gains at most d^2 (when filled exactly to its
    # target), so buckets below min_gain even then need no matrix row.
    below = excess[receivers]
    hopeful = giver_part + below.min() ** 2 >= min_gain
    candidates, source, moving, risk = \
        candidates[hopeful], source[hopeful], moving[hopeful], risk[hopeful]
    leaving, giver_part = leaving[hopeful], giver_part[hopeful]
    if not candidates.size:
        return Relief(moves, demand)
    # One contiguous row per receiver, the part a move into it refreshes.
    arriving = cost[receivers][:, None] * moving
    receiver_part = (2 * below[:, None] + arriving) * arriving
    held = np.bincount(owner[busy], minlength=len(demand))
    giver_part[held[source] < 2] = -np.inf
    gain = giver_part[:, None] - receiver_part.T
    # Each giver's rows, found at its first move and kept for the next ones.
    owned_by: dict[int, np.ndarray] = {}

    # The steps read and write single cores and buckets: Python scalars
    # (the same doubles) cost far less there than numpy's.
    width = receivers.size
    bucket_of, source_of, receiver_of = candidates.tolist(), source.tolist(), receivers.tolist()
    leaving_of = leaving.tolist()
    excess_of, demand_of, held_of = excess.tolist(), demand.tolist(), held.tolist()
    while True:
        best = int(gain.argmax())
        if gain.item(best) < min_gain:
            break
        j, col = divmod(best, width)
        giver, receiver = source_of[j], receiver_of[col]
        moved_out, moved_in = leaving_of[j], arriving.item(col, j)
        excess_of[giver] -= moved_out
        excess_of[receiver] += moved_in
        demand_of[giver] -= moved_out
        demand_of[receiver] += moved_in
        demand[giver], demand[receiver] = demand_of[giver], demand_of[receiver]
        held_of[giver] -= 1
        moves.append((bucket_of[j], receiver))
        # Only the giver's buckets and the receiver's column see new excesses.
        own = owned_by.get(giver)
        if own is None:
            own = owned_by[giver] = (source == giver).nonzero()[0]
        if excess_of[giver] <= threshold or held_of[giver] < 2:
            giver_part[own] = -np.inf
            gain[own] = -np.inf
        else:
            giver_part[j] = -np.inf
            gain[j] = -np.inf
            rows = own[np.isfinite(giver_part[own])]
            out = leaving[rows]
            part = (2 * excess_of[giver] - out) * out - risk[rows]
            giver_part[rows] = part
            gain[rows] = part[:, None] - receiver_part[:, rows].T
        refreshed = receiver_part[col]
        if excess_of[receiver] >= 0:
            refreshed[:] = np.inf
        else:
            into = arriving[col]
            np.add(into, 2 * excess_of[receiver], out=refreshed)
            refreshed *= into
        np.subtract(giver_part, refreshed, out=gain[:, col])
    return Relief(moves, demand)
