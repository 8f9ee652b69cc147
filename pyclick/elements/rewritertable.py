"""The rewriters' flow table: flows, their two mappings, their timeouts and the flow set.

A :class:`Flow` is one connection: its forward mapping (the identifier the
first packet had, rewritten to the one the pattern chose) and its reply
mapping (the reverse of the new identifier, rewritten back to the reverse
of the original). Both are entries of one :data:`Map` (identifier ->
(flow, direction)); a rewriter has one map per protocol family it keeps
apart (IPRewriter: TCP and UDP).

Timeouts count from a flow's last packet. For ``guarantee`` seconds after
it the flow cannot be evicted to make room; past the timeout (or past the
guarantee when it is longer) it is gone. A :class:`FlowSet` holds every
live flow of the rewriters that share one capacity: a new flow past the
capacity evicts the flow that would expire first among those past their
guarantee, itself included (then it is refused), or is refused when every
other flow is guaranteed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pyclick.elements.rewriterspec import InputSpec, Key, unparse_key

#: Identifier -> (flow, direction: 0 forward, 1 reply).
Map = dict[Key, "tuple[Flow, int]"]


@dataclass(frozen=True)
class Timeouts:
    """A flow's lifetime after its last packet, and its guarantee against eviction."""

    timeout: float
    guarantee: float = 5.0
    #: Only for UDP: the timeout of a flow with replies and at least three packets.
    streaming: float | None = None
    #: Only for TCP: the timeout once both directions finished (FIN or RST) and
    #: while payload has not flowed both ways.
    done: float | None = None
    nodata: float | None = None


class Flow:
    """One connection: two mappings, the outputs of each direction, its state."""

    def __init__(self, keys: tuple[Key, Key], new: tuple[Key, Key],
                 outputs: tuple[int, int], spec: InputSpec, input_number: int,
                 table: Map, timeouts: Timeouts, now: float) -> None:
        self.keys = keys
        self.new = new
        self.outputs = outputs
        self.spec = spec
        self.input_number = input_number
        self.table = table
        self.timeouts = timeouts
        self.last = now
        self.packets = 0
        self.reply_seen = False
        #: The annotation byte its first packet carried (REPLY_ANNO).
        self.reply_anno = 0

    # --- lifetime
    def timeout(self) -> float:
        if self.timeouts.streaming is not None and self.reply_seen and self.packets >= 3:
            return self.timeouts.streaming
        return self.timeouts.timeout

    def expiry(self) -> float:
        return self.last + max(self.timeout(), self.timeouts.guarantee)

    def expired(self, now: float) -> bool:
        return now >= self.expiry()

    def guaranteed(self, now: float) -> bool:
        return now < self.last + self.timeouts.guarantee

    def saw_packet(self, direction: int, now: float) -> None:
        self.last = now
        self.packets += 1
        self.reply_seen = self.reply_seen or direction == 1

    # --- printing
    def details(self, direction: int) -> str:
        """What a subclass adds after the two identifiers (TCP: sequence deltas)."""
        return ""

    def identifiers(self, direction: int) -> str:
        """``(SA, SP, DA, DP) => (SA', SP', DA', DP')``: one direction before and after rewriting."""
        return f"{unparse_key(self.keys[direction])} => {unparse_key(self.new[direction])}"

    def unparse(self, direction: int, now: float) -> str:
        """``(SA, SP, DA, DP) => (SA', SP', DA', DP') [*F R] iN expT`` for one direction;
        the star marks the output this direction's packets take."""
        forward, reply = self.outputs
        marks = f"[*{forward} {reply}]" if direction == 0 else f"[{forward} *{reply}]"
        # Seconds to go, rounded to the nearest; the best-effort expiry, as
        # the guarantee does not delay it.
        remaining = math.floor(self.last + self.timeout() - now + 0.5)
        return (f"{self.identifiers(direction)}"
                f"{self.details(direction)} {marks} i{self.input_number} exp{remaining}")


class FlowSet:
    """The live flows of one or more rewriters, under one capacity."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        #: Insertion-ordered set of flows.
        self.flows: dict[Flow, None] = {}

    def __len__(self) -> int:
        return len(self.flows)

    def add(self, flow: Flow, now: float) -> bool:
        """Store ``flow`` in its map and the set; False (nothing stored) when full."""
        if len(self.flows) >= self.capacity:
            self.reap(now)
        while len(self.flows) >= self.capacity:
            # The new flow competes too: when it would expire before every
            # flow past its guarantee (or every other flow is guaranteed), it
            # is the one refused.
            victims = [f for f in [*self.flows, flow] if not f.guaranteed(now)]
            if not victims:
                return False
            victim = min(victims, key=Flow.expiry)
            if victim is flow:
                return False
            self.destroy(victim)
        for direction in (0, 1):
            old = flow.table.get(flow.keys[direction])
            if old is not None:
                self.destroy(old[0])
            flow.table[flow.keys[direction]] = (flow, direction)
        self.flows[flow] = None
        flow.spec.count += 1
        return True

    def destroy(self, flow: Flow) -> None:
        if flow not in self.flows:
            return
        del self.flows[flow]
        flow.spec.count -= 1
        for direction in (0, 1):
            if flow.table.get(flow.keys[direction], (None,))[0] is flow:
                del flow.table[flow.keys[direction]]

    def reap(self, now: float) -> None:
        """Remove the flows that expired."""
        for flow in [f for f in self.flows if f.expired(now)]:
            self.destroy(flow)

    def shrink(self, capacity: int, now: float) -> None:
        """Keep at most ``capacity`` flows: expired ones go first, then the soonest to expire."""
        self.reap(now)
        for flow in sorted(self.flows, key=Flow.expiry)[:max(0, len(self.flows) - capacity)]:
            self.destroy(flow)

    def clear(self, owner_tables: list[Map]) -> None:
        """Remove the flows whose mappings live in ``owner_tables``."""
        for flow in [f for f in self.flows if any(f.table is t for t in owner_tables)]:
            self.destroy(flow)


def adjust_checksum(old_sum: int, old: bytes, new: bytes) -> int:
    """An Internet checksum updated for the 16-bit words ``old`` becoming ``new``
    (RFC 1624, eqn. 3); ``old`` and ``new`` have the same even length."""
    total = ~old_sum & 0xFFFF
    for i in range(0, len(old), 2):
        was = (old[i] << 8) | old[i + 1]
        now = (new[i] << 8) | new[i + 1]
        if was != now:
            total += (~was & 0xFFFF) + now
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
