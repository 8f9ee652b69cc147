"""A population of flows with birth and death epochs and rate weights, in slots.

Flows are planned ahead: each has the epoch it is born in and the first
epoch it is gone in, so the per-bucket sum of weights over a whole block of
epochs comes out of two weighted bincounts and a cumulative sum, instead of
updating the population epoch by epoch. A slot whose flow has died is
reused by a newcomer, so the arrays are never rebuilt.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from pyclick.rss.indirection import buckets_of
from pyclick.sim.flows import FlowSet


class Population:
    """Flows in slots: 5-tuples and hashes, birth/death epochs, weights, burst state."""

    def __init__(self, capacity: int, reta_size: int) -> None:
        self.flows = FlowSet.empty().resized(capacity)
        self.occupied = np.zeros(capacity, bool)
        self.born = np.zeros(capacity, np.int64)
        self.dies = np.zeros(capacity, np.int64)
        self.weight = np.zeros(capacity)
        self.bursting = np.zeros(capacity, bool)
        self.bucket = np.zeros(capacity, np.int64)
        # A stack of free slots: _free[:_free_count] are unused.
        self._free = np.arange(capacity)[::-1].copy()
        self._free_count = capacity
        self.reta_size = reta_size

    def _grow(self, needed: int) -> None:
        old = len(self.occupied)
        capacity = max(2 * old, old + needed)
        self.flows = self.flows.resized(capacity)
        for name in ("occupied", "born", "dies", "weight", "bursting", "bucket"):
            array = getattr(self, name)
            grown = np.zeros(capacity, dtype=array.dtype)
            grown[:old] = array
            setattr(self, name, grown)
        free = np.zeros(capacity, np.int64)
        waiting = np.concatenate([np.arange(capacity - 1, old - 1, -1),
                                  self._free[:self._free_count]])
        free[:len(waiting)] = waiting
        self._free, self._free_count = free, len(waiting)

    def add(self, parts: Sequence[FlowSet], born: np.ndarray, dies: np.ndarray,
            weight: np.ndarray, bursting: np.ndarray) -> np.ndarray:
        """Place new flows (given in parts, one after the other), alive in epochs
        [born, dies), in free slots; returns the slots."""
        count = sum(len(part) for part in parts)
        if self._free_count < count:
            self._grow(count - self._free_count)
        self._free_count -= count
        slots = self._free[self._free_count:self._free_count + count].copy()
        first = 0
        for part in parts:
            placed = slots[first:first + len(part)]
            self.flows.assign(placed, part)
            self.bucket[placed] = buckets_of(part.rss_hash, self.reta_size)
            first += len(part)
        self.occupied[slots] = True
        self.born[slots] = born
        self.dies[slots] = dies
        self.weight[slots] = weight
        self.bursting[slots] = bursting
        return slots

    def release_dead(self, epoch: int) -> None:
        """Free the slots of the flows gone by ``epoch``."""
        slots = np.flatnonzero(self.occupied & (self.dies <= epoch))
        self.occupied[slots] = False
        self.bursting[slots] = False
        self._free[self._free_count:self._free_count + len(slots)] = slots
        self._free_count += len(slots)

    def end_all(self, epoch: int) -> None:
        """Make every flow alive at or after ``epoch`` die at ``epoch``."""
        self.dies[self.occupied] = np.minimum(self.dies[self.occupied], epoch)

    def alive_at(self, epoch: int) -> np.ndarray:
        """Mask of the slots whose flow lives in ``epoch``."""
        return self.occupied & (self.born <= epoch) & (self.dies > epoch)

    def weight_rows(self, first: int, count: int) -> np.ndarray:
        """Sum of live flows' weights per bucket for epochs first .. first+count-1: (count, reta)."""
        size, end = self.reta_size, first + count
        # Picked by index (``take``): a boolean mask would be scanned again for
        # every array it picks from.
        live = np.flatnonzero(self.occupied & (self.born < end) & (self.dies > first))
        bucket, weight = self.bucket.take(live), self.weight.take(live)
        start = self.born.take(live)
        start -= first
        np.maximum(start, 0, out=start)
        # A flow adds its weight from its first epoch in the block on and
        # takes it back from its death on: a running sum over the epochs.
        change = np.bincount(start * size + bucket, weights=weight, minlength=(count + 1) * size)
        # Only the flows dying within the block take anything back from the
        # rows returned (each bin sums its own flows, in order: the others'
        # would only have filled the row past the block).
        dies = self.dies.take(live)
        dying = np.flatnonzero(dies < end)
        stop = dies.take(dying)
        stop -= first
        stop *= size
        stop += bucket.take(dying)
        change[:count * size] -= np.bincount(stop, weights=weight.take(dying),
                                             minlength=count * size)
        return np.cumsum(change.reshape(count + 1, size), axis=0)[:count]

    def set_reta_size(self, reta_size: int) -> None:
        self.reta_size = reta_size
        self.bucket = buckets_of(self.flows.rss_hash, reta_size)
