"""Our assignment search: relieve overloaded cores with the fewest useful moves.

The objective is the sum over cores of the squared deviation of predicted
load from the group average. Each step makes the single move, over every
bucket of every overloaded core and every core below the average, that
lowers the objective the most, net of a risk charge for buckets whose rate
is hard to predict; the search stops when no move is worth ``min_gain``.
Buckets leave only cores that were overloaded when the tick began, a core
stops giving once within the threshold or down to its last busy bucket,
a receiver stops receiving once at the average, and a bucket moves at most
once per tick.

A bucket weighs rate x cost of the core it is on. When every core costs the
same per packet (``relieve_overloaded``), moving a bucket of weight w from
a giver at excess e_g to a receiver at excess e_r gains
2 w (e_g - e_r) - 2 w^2 - risk: for every bucket the best receiver is the
one furthest below its target, so each step scores the buckets against that
one receiver only. The gain is at most (e_g - e_r)^2 / 2, which settles
most ticks on few cores before any array is built. Once the candidates
are known it is taken again over the givers holding more than one busy
bucket (a giver keeps its last one), which settles most of the ticks left
on many cores. With costs per core
(``relieve_overloaded_per_core``) the best receiver depends on the bucket,
and the gains live in one matrix (candidate buckets x receivers); a move
changes only its giver's rows and its receiver's column, so each step
recomputes those and takes one argmax.

Excesses (load minus target) are per core position, plain floats; bucket
quantities are arrays indexed by bucket.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from itertools import accumulate

import numpy as np

from pyclick.balance.estimate import operand


#: 0 as an operand (``pyclick.balance.estimate.operand``), never written.
_ZERO = operand(0.0)
_ZERO.flags.writeable = False


@dataclass(slots=True)
class Relief:
    """Moves chosen as (bucket, receiver position) and the excesses they leave."""

    moves: list[tuple[int, int]]
    excess: list[float]


def _filled(size: int, value: float, dtype: type | np.dtype) -> np.ndarray:
    """An array of ``size`` times ``value``: ``np.full``'s Python layer costs more
    than its two calls on the small arrays of a tick."""
    filled = np.empty(size, dtype=dtype)
    filled.fill(value)
    return filled


def _candidates(owner: np.ndarray, rate: np.ndarray, givers: list[int], ncores: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """The busy buckets of ``givers``, grouped by giver (bucket order within one)."""
    candidates, source = busy_buckets(owner, rate, givers, ncores)
    if len(givers) == 1:
        # A tick with one overloaded core: its buckets need no grouping.
        return candidates, source
    order = source.argsort(kind="stable")
    return candidates[order], source[order]


def _giver_rows(source: np.ndarray, givers: list[int], ncores: int
                ) -> tuple[list[int], list[int], list[int]]:
    """Where each giver's rows start and end in ``source`` (sorted), and how many there are."""
    held = held_by(source, givers, ncores)
    end = list(accumulate(held))
    return [e - h for e, h in zip(end, held)], end, held


class Below:
    """What the callers of ``no_gain`` and ``receivers_below`` may know already of
    every core's excess: the lowest, and (``negative``) the positions below zero
    in order, found in ``excess`` (an array) when first asked for: most ticks
    are settled by the lowest alone."""

    __slots__ = ("lowest", "excess", "_negative")

    def __init__(self, lowest: float, excess: np.ndarray) -> None:
        self.lowest = lowest
        self.excess = excess
        self._negative: list[int] | None = None

    @property
    def negative(self) -> list[int]:
        if self._negative is None:
            self._negative = (self.excess < 0).nonzero()[0].tolist()
        return self._negative

    # The sums below add in order, as ``sum`` adds a list of the excesses
    # (``np.add.accumulate`` adds in order, ``np.sum`` pairwise): the same
    # floats, in fewer calls.
    def magnitude(self) -> float:
        """The sum of the excesses' magnitudes."""
        return np.add.accumulate(np.abs(self.excess)).item(-1)

    def squares(self) -> float:
        """The sum of the excesses' squares."""
        excess = self.excess
        return np.add.accumulate(np.multiply(excess, excess)).item(-1)


def no_gain(excess: list[float], givers: list[int], min_gain: float,
            shift: list[float] | None = None, below: Below | None = None) -> bool:
    """Whether no move from ``givers`` (not empty) can gain ``min_gain``: a gain is at most
    (e_g - shift_g - e_r)^2 / 2, and no core is below target when the lowest is not."""
    if shift is None:
        highest = max(map(excess.__getitem__, givers))
    else:
        highest = max([excess[g] - shift[g] for g in givers])
    # The lowest excess of all cores bounds the gain as well as the
    # receivers' lowest, and costs less to find.
    lowest = min(excess) if below is None else below.lowest
    return lowest >= 0 or (highest - lowest) ** 2 / 2 < min_gain


def receivers_below(excess: list[float], givers: list[int], receivers: list[int],
                    min_gain: float, shift: list[float] | None = None,
                    below: Below | None = None) -> list[tuple[float, int]]:
    """The receivers below target as (excess, position), or none at all when no move
    from ``givers`` can gain ``min_gain`` (a gain is at most (e_g - shift_g - e_r)^2 / 2,
    ``shift`` as in ``relieve_candidates``)."""
    if not givers or not receivers or no_gain(excess, givers, min_gain, shift, below):
        return []
    return receivers_under(excess, receivers, below)


def receivers_under(excess: list[float], receivers: list[int],
                    below: Below | None = None) -> list[tuple[float, int]]:
    """The receivers below target as (excess, position)."""
    if len(receivers) == len(excess):
        if below is not None:
            return [(excess[r], r) for r in below.negative]
        return [(e, r) for r, e in enumerate(excess) if e < 0]
    return [(excess[r], r) for r in receivers if excess[r] < 0]


def busy_buckets(owner: np.ndarray, rate: np.ndarray, givers: list[int], ncores: int,
                 giving: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The busy buckets of ``givers`` in bucket order, and the giver of each
    (``giving``: True at the givers' positions, when the caller has it)."""
    if len(givers) == 1:
        candidates = np.logical_and(owner == givers[0], np.greater(rate, _ZERO)).nonzero()[0]
        return candidates, _filled(len(candidates), givers[0], owner.dtype)
    if giving is None:
        giving = np.zeros(ncores, dtype=bool)
        for g in givers:
            giving[g] = True
    busy = giving[owner]
    np.logical_and(busy, np.greater(rate, _ZERO), busy)
    candidates = busy.nonzero()[0]
    return candidates, owner[candidates]


def held_by(source: np.ndarray, givers: list[int], ncores: int) -> list[int]:
    """How many candidate buckets each core position holds (``source``: their givers)."""
    if len(givers) == 1:
        held = [0] * ncores
        held[givers[0]] = len(source)
        return held
    return np.bincount(source, minlength=ncores).tolist()


@dataclass(slots=True)
class Busy:
    """The givers' busy buckets (``busy_buckets``), how many each core position
    holds (``held_by``) and the givers holding more than one, which alone can
    give: a giver keeps its last busy bucket."""

    candidates: np.ndarray
    source: np.ndarray
    held: list[int]
    able: list[int]

    @classmethod
    def of(cls, owner: np.ndarray, rate: np.ndarray, givers: list[int], ncores: int,
           giving: np.ndarray | None = None) -> "Busy":
        candidates, source = busy_buckets(owner, rate, givers, ncores, giving)
        held = held_by(source, givers, ncores)
        return cls(candidates, source, held, [g for g in givers if held[g] > 1])


def relieve_overloaded(excess: list[float], givers: list[int], receivers: list[int],
                       owner: np.ndarray, rate: np.ndarray, variance: np.ndarray,
                       cost: float, risk_weight: float, threshold: float,
                       min_gain: float) -> Relief:
    """Choose moves from ``givers`` to ``receivers`` when every core costs ``cost`` per packet.

    ``excess`` is load minus target per core position; ``receivers`` are
    the distinct positions that may receive (those below target will);
    ``owner``/``rate``/``variance`` are per bucket (``owner`` a position).
    Moving bucket j is charged ``risk_weight`` x variance[j] x cost^2.
    """
    below = receivers_below(excess, givers, receivers, min_gain)
    if not below:
        return Relief([], excess)
    candidates, source = busy_buckets(owner, rate, givers, len(excess))
    weight = rate[candidates] * cost
    return relieve_candidates(excess, givers, below, candidates, source, weight,
                              fixed_half_gain(weight, variance[candidates],
                                              risk_weight * cost * cost),
                              None, threshold, min_gain)


def fixed_half_gain(weight: np.ndarray, variance: np.ndarray, charge: float) -> np.ndarray:
    """The part of half a move's gain that no excess changes: -w^2 - charge x variance / 2."""
    fixed = np.multiply(variance, -charge / 2)
    return np.subtract(fixed, np.multiply(weight, weight), fixed)


def relieve_candidates(excess: list[float], givers: list[int], below: list[tuple[float, int]],
                       candidates: np.ndarray, source: np.ndarray, weight: np.ndarray,
                       fixed: np.ndarray, shift: list[float] | None, threshold: float,
                       min_gain: float, held: list[int] | None = None,
                       able: list[int] | None = None) -> Relief:
    """The search of ``relieve_overloaded`` once its receivers (``below``, from
    ``receivers_below``) and candidate buckets (from ``busy_buckets``) are known;
    ``held`` (as ``held_by`` gives it) and ``able`` (the givers holding more than
    one candidate), when the caller has them: the search uses them up.

    Candidate j (its load ``weight[j]``, on giver g) gains twice
    weight[j] (e_g - shift[g] - e_lowest) + fixed[j] (``fixed_half_gain``);
    ``shift`` (per core position, read at the givers only; None for none)
    charges every unit of load a giver sends, as the noise of a gain does.
    Each step scores every candidate against the lowest receiver in three
    array operations (four with several givers: the gather of their excesses).
    """
    if not candidates.size:
        return Relief([], excess)
    excess = list(excess)
    ncores = len(excess)
    if held is None:
        held = held_by(source, givers, ncores)
    if able is None:
        able = [g for g in givers if held[g] > 1]
    scored = list(excess)
    if shift is not None:
        for g in givers:
            scored[g] -= shift[g]
    # The givers whose buckets may still move, and those with a single busy
    # bucket, which they keep.
    giving = able
    lonely = [g for g in givers if held[g] == 1] if len(able) < len(givers) else []
    # Several givers, every candidate with some load: each step gathers the
    # candidates' giver excesses from one value per core position, and a
    # giver whose buckets may no longer move gets -inf there (-inf x load +
    # fixed is -inf, as a fixed part of -inf gives; a load of 0 would make it
    # NaN). A gather costs less than finding a giver's candidates among all.
    per_core = None
    if len(givers) == 1:
        # One giver: one value, without the gather.
        giver_excess = _filled(len(source), scored[givers[0]], np.float64)
    elif weight.item(weight.argmin()) > 0:
        per_core = np.array(scored)
        for g in lonely:
            per_core[g] = -np.inf
    else:
        giver_excess = np.array(scored)[source]
    if per_core is None and len(lonely) == 1:
        fixed[source == lonely[0]] = -np.inf
    elif per_core is None and lonely:
        alone = np.zeros(ncores, dtype=bool)
        for g in lonely:
            alone[g] = True
        fixed[alone[source]] = -np.inf
    half_gain = min_gain / 2
    subtract, multiply, add = np.subtract, np.multiply, np.add
    heapq.heapify(below)
    moves: list[tuple[int, int]] = []
    while below:
        lowest, receiver = below[0]
        # Made anew with a Python float operand, then written in place through
        # positional outputs (a keyword ``out`` or an in-place operator costs more).
        score = subtract(giver_excess if per_core is None else per_core[source], lowest)
        multiply(score, weight, score)
        add(score, fixed, score)
        j = int(score.argmax())
        if not score.item(j) >= half_gain:
            break
        # A few moves a tick: their values read one by one, not the lists made.
        giver, moved = source.item(j), weight.item(j)
        moves.append((candidates.item(j), receiver))
        excess[giver] -= moved
        excess[receiver] = lowest + moved
        held[giver] -= 1
        if excess[receiver] >= 0:
            heapq.heappop(below)
        else:
            heapq.heapreplace(below, (excess[receiver], receiver))
        stops = excess[giver] <= threshold or held[giver] < 2
        if stops:
            giving.remove(giver)
        else:
            scored[giver] = excess[giver] if shift is None else excess[giver] - shift[giver]
        # No bound checked again here: on most steps it settles nothing, and
        # it would cost about a third of the scoring it sometimes spares.
        if not below or not giving:
            break
        fixed[j] = -np.inf
        if per_core is not None:
            per_core[giver] = -np.inf if stops else scored[giver]
        elif stops:
            if held[giver]:
                fixed[source == giver] = -np.inf
        else:
            giver_excess[source == giver] = scored[giver]
    return Relief(moves, excess)


def relieve_overloaded_per_core(excess: list[float], givers: list[int], receivers: list[int],
                                owner: np.ndarray, rate: np.ndarray, variance: np.ndarray,
                                cost: list[float], risk_weight: float, threshold: float,
                                min_gain: float) -> Relief:
    """As ``relieve_overloaded``, with ``cost[k]`` the cost per packet of core position k.

    A bucket on core k weighs rate x cost[k] there and rate x cost[r] on
    receiver r; its risk charge is ``risk_weight`` x variance x cost[k]^2.
    """
    excess = list(excess)
    receivers = [r for r in receivers if excess[r] < 0]
    if not givers or not receivers:
        return Relief([], excess)
    candidates, source = _candidates(owner, rate, givers, len(excess))
    if not candidates.size:
        return Relief([], excess)
    costs = np.asarray(cost, dtype=np.float64)
    excess_now = np.asarray(excess, dtype=np.float64)

    # gain[j, r] = giver_part[j] - receiver_part[r, j]: the drop of the
    # squared deviation of bucket j's core and of receiver r, net of risk.
    moving = rate[candidates]
    leaving = moving * costs[source]
    risk = risk_weight * variance[candidates] * costs[source] ** 2
    giver_part = (2 * excess_now[source] - leaving) * leaving - risk
    # One contiguous row per receiver, the part a move into it refreshes.
    below = excess_now[receivers]
    arriving = costs[receivers][:, None] * moving
    receiver_part = (2 * below[:, None] + arriving) * arriving
    start, end, held = _giver_rows(source, givers, len(excess))
    for g in givers:
        if held[g] < 2:
            giver_part[start[g]:end[g]] = -np.inf
    gain = giver_part[:, None] - receiver_part.T

    width = len(receivers)
    bucket_of, source_of, leaving_of = candidates.tolist(), source.tolist(), leaving.tolist()
    moves: list[tuple[int, int]] = []
    while True:
        best = int(gain.argmax())
        if not gain.item(best) >= min_gain:
            break
        j, col = divmod(best, width)
        giver, receiver = source_of[j], receivers[col]
        moves.append((bucket_of[j], receiver))
        excess[giver] -= leaving_of[j]
        excess[receiver] += arriving.item(col, j)
        held[giver] -= 1
        # Only the giver's buckets and the receiver's column see new excesses.
        rows = slice(start[giver], end[giver])
        giver_part[j] = -np.inf
        gain[j] = -np.inf
        if excess[giver] <= threshold or held[giver] < 2:
            giver_part[rows] = -np.inf
            gain[rows] = -np.inf
        else:
            live = np.isfinite(giver_part[rows])
            out = leaving[rows]
            part = np.where(live, (2 * excess[giver] - out) * out - risk[rows], -np.inf)
            giver_part[rows] = part
            gain[rows] = part[:, None] - receiver_part[:, rows].T
        refreshed = receiver_part[col]
        if excess[receiver] >= 0:
            refreshed[:] = np.inf
        else:
            into = arriving[col]
            np.add(into, 2 * excess[receiver], out=refreshed)
            refreshed *= into
        np.subtract(giver_part, refreshed, out=gain[:, col])
    return Relief(moves, excess)
