"""The flow table of one bucket.

RSS sends every packet of a flow to the same bucket, so the flows of a
bucket form a group that can move between cores as a whole: one table per
bucket, handed from core to core when the balancer moves the bucket. A
table has no lock; the hand-off protocol (``pyclick.flow.ownership``)
guarantees that only the owning core's thread uses it.
"""

from __future__ import annotations

from typing import Any, Callable, Hashable, Iterator


class FlowEntry:
    """One flow: its state object and when its last packet was seen."""

    __slots__ = ("state", "last_seen")

    def __init__(self, state: Any, last_seen: float) -> None:
        self.state = state
        self.last_seen = last_seen


class FlowTable:
    """Flows of one bucket, keyed by 5-tuple, at most ``capacity`` of them."""

    __slots__ = ("bucket", "capacity", "_factory", "_flows")

    def __init__(self, bucket: int, capacity: int, factory: Callable[[], Any]) -> None:
        self.bucket = bucket
        self.capacity = capacity
        self._factory = factory
        self._flows: dict[Hashable, FlowEntry] = {}

    def __len__(self) -> int:
        return len(self._flows)

    def lookup(self, key: Hashable, now: float) -> FlowEntry | None:
        """The flow's entry, created on its first packet; None when the table is full."""
        entry = self._flows.get(key)
        if entry is None:
            if len(self._flows) >= self.capacity:
                return None
            entry = self._flows[key] = FlowEntry(self._factory(), now)
        else:
            entry.last_seen = now
        return entry

    def expire(self, idle_since: float) -> int:
        """Forget the flows whose last packet is older than ``idle_since``; how many."""
        stale = [key for key, entry in self._flows.items() if entry.last_seen < idle_since]
        for key in stale:
            del self._flows[key]
        return len(stale)

    def items(self) -> Iterator[tuple[Hashable, Any]]:
        """(key, state) of every flow; only for the owner or a stopped data path."""
        for key, entry in self._flows.items():
            yield key, entry.state

    # Ownership transitions, announced by the hand-off protocol. A plain table
    # needs nothing here; the checking table of pyclick.flow.guard verifies them.
    def placed(self, core: int) -> None:
        """The table was given to ``core`` before any packet flowed."""

    def released(self, core: int) -> None:
        """``core`` handed the table away; it must not touch it any more."""

    def adopted(self, core: int) -> None:
        """``core`` received the table and owns it from now on."""
