"""A core's FIFO queue, served at a fixed rate, step by step: counts and delays.

Every function works on arrays of shape (steps, queues): the packets that
arrive at each queue in each step and the whole packets its core may serve
in that step (its budget). A queue holds at most ``limit`` packets at the
end of a step; what does not fit is dropped.

Delays are those of FIFO service with a fixed per-packet service time when
a step's arrivals come evenly spaced through the step: the packet that
finds ``n`` packets of work ahead of it leaves ``(n + 1)`` service times
after it arrived. Within one step the work ahead of successive arrivals
grows (or shrinks) linearly, from the queue the step starts with to the
queue it ends with, so each step's delays are spread evenly over an
interval, clipped at no wait (the queue ran empty) and at a full queue
(where only the packets a departure made room for get in, and wait the
longest).
"""

from __future__ import annotations

import numpy as np

from pyclick.sim.histogram import LogHistogram


def unbounded(queued: np.ndarray, arrivals: np.ndarray, budget: np.ndarray,
              out: np.ndarray | None = None) -> np.ndarray:
    """Queue at the end of each step with no length limit (into ``out`` when given).

    Lindley's recursion q_k = max(0, q_(k-1) + a_k - b_k) in closed form:
    the walk of cumulative (arrivals - budget) minus its running minimum.
    """
    walk = np.subtract(arrivals, budget, out=out)
    np.add.accumulate(walk, axis=0, out=walk)
    walk += queued
    floor = np.minimum.accumulate(walk, axis=0)
    np.minimum(floor, 0, out=floor)
    walk -= floor
    return walk


#: Up to this many (step, queue) cells, ``bounded`` walks the steps one by one in
#: Python: for a tick's few steps on its few overflowing queues, that costs less than
#: the dozens of whole-array operations of the scan.
_FEW_CELLS = 256


def bounded(queued: np.ndarray, arrivals: np.ndarray, budget: np.ndarray,
            limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Queue at the end of each step and packets dropped in it, with at most ``limit`` queued.

    Each step maps the queue q to min(max(q + a - b, 0), limit), a map of
    the form q -> min(max(q + s, low), high); two such maps compose into
    one of the same form, so the queue after every step is a prefix scan
    of the steps' maps, done in log2(steps) passes over whole arrays.
    """
    shift = (arrivals - budget).astype(np.int64)
    if shift.size <= _FEW_CELLS:
        return _walk(queued, shift, limit)
    low = np.zeros_like(shift)
    high = np.full_like(shift, limit)
    distance = 1
    while distance < len(shift):
        # Step k's map becomes (its map) after (the map of step k - distance).
        later = shift[distance:]
        floor, ceiling = low[distance:], high[distance:]
        new_low = np.minimum(np.maximum(low[:-distance] + later, floor), ceiling)
        new_high = np.minimum(np.maximum(high[:-distance] + later, floor), ceiling)
        shift[distance:] = shift[:-distance] + later
        low[distance:], high[distance:] = new_low, new_high
        distance *= 2
    queue = np.minimum(np.maximum(queued + shift, low), high)
    before = np.vstack([queued[None, :], queue[:-1]])
    dropped = np.maximum(before + arrivals - budget - limit, 0)
    return queue, dropped


def _walk(queued: np.ndarray, shift: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """``bounded`` step by step, for a few cells: ``shift`` is arrivals less budget."""
    queues, drops = [], []
    for level, changes in zip(queued.tolist(), shift.T.tolist()):
        levels, dropped = [], []
        for change in changes:
            level += change
            if level > limit:
                dropped.append(level - limit)
                level = limit
            else:
                dropped.append(0)
                if level < 0:
                    level = 0
            levels.append(level)
        queues.append(levels)
        drops.append(dropped)
    return np.array(queues, np.int64).T, np.array(drops, np.int64).T


def serve(queued: np.ndarray, arrivals: np.ndarray, budget: np.ndarray, limit: int,
          out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Queue at the end of each step (into ``out`` when given) and the packets each
    queue dropped over the steps, None when none did."""
    queue = unbounded(queued, arrivals, budget, out)
    if queue.max() <= limit:
        return queue, None
    # The walk without a limit is exact until a queue first overflows: bound
    # only the queues that do, from the step they first do.
    over = queue > limit
    columns = np.flatnonzero(over.any(axis=0))
    first = int(over[:, columns].any(axis=1).argmax())
    start = queue[first - 1, columns] if first else queued[columns]
    bounded_queue, dropped = bounded(start, arrivals[first:, columns], budget[first:, columns],
                                     limit)
    queue[first:, columns] = bounded_queue
    per_queue = np.zeros(len(queued), np.int64)
    per_queue[columns] = dropped.sum(axis=0)
    return queue, per_queue


def add_delays(histogram: LogHistogram, start: np.ndarray, arrivals: np.ndarray,
               budget: np.ndarray, limit: int, service: np.ndarray) -> None:
    """Add the delay of every packet admitted in the given steps to ``histogram``.

    ``start`` is the queue at the start of each step, ``service`` the
    service time of each queue's core (one per queue, in the histogram's
    unit). Dropped packets have no delay and are not added.
    """
    # Most steps of a core below capacity find the queue empty and keep it
    # so: every packet is served as it arrives, in one service time.
    idle = (start == 0) & (arrivals <= budget)
    histogram.add_points(service, np.where(idle, arrivals, 0).sum(axis=0))
    rows, cols = np.nonzero(~idle & (arrivals > 0))
    if not len(rows):
        return
    a = arrivals[rows, cols].astype(float)
    q0 = start[rows, cols].astype(float)
    b = budget[rows, cols].astype(float)
    s = service[cols]
    end = q0 + a - b
    low, high = np.minimum(q0, end), np.maximum(q0, end)
    span = np.abs(a - b)
    # Where arrivals match the budget every arrival finds the queue the step began with.
    flat = span == 0
    span[flat] = 1.0
    density = np.where(flat, 0.0, a / span)   # arrivals per packet of work ahead
    empty = np.clip(-low, 0, span)            # the work range where the queue had run empty
    over = np.clip(high - limit, 0, span)     # where arrivals found the queue full
    middle_low, middle_high = np.maximum(low, 0), np.minimum(high, limit)
    histogram.add_points(np.concatenate([s, s * (1 + limit), s * (1 + q0)]),
                         np.concatenate([density * empty, np.where(flat, 0.0, over * b / span),
                                         np.where(flat, a, 0.0)]))
    spread = middle_high > middle_low
    histogram.add_spread(s[spread] * (1 + middle_low[spread]), s[spread] * (1 + middle_high[spread]),
                         (density * (middle_high - middle_low))[spread])
