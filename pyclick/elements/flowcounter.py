"""FlowCounter: packet and byte counts of every flow, kept in the flow state."""

from __future__ import annotations

import threading
from typing import Any, Sequence

from pyclick.args import Args
from pyclick.element import Element, read_handler
from pyclick.elements.flowipmanager import FlowIPManager
from pyclick.errors import ConfigError
from pyclick.flow.state import state_of
from pyclick.packet import Packet


class FlowTally:
    """One flow's counts as seen by one FlowCounter."""

    __slots__ = ("packets", "bytes")

    def __init__(self) -> None:
        self.packets = 0
        self.bytes = 0

    def __repr__(self) -> str:
        return f"FlowTally(packets={self.packets}, bytes={self.bytes})"


class _ThreadPart(threading.local):
    """This thread's counter list; None until the thread counts."""

    part: list[int] | None = None


class ThreadTotals:
    """Totals every thread adds to without a lock; readers sum the per-thread parts.

    Each thread gets its own counter list the first time it counts and is
    the only writer of it; registering it is one ``list.append`` (atomic),
    and a reader iterating the list of parts sees every part registered
    before it started.
    """

    def __init__(self, fields: int) -> None:
        self._fields = fields
        self._local = _ThreadPart()
        self._parts: list[list[int]] = []

    def mine(self) -> list[int]:
        part = self._local.part
        if part is None:
            part = self._local.part = [0] * self._fields
            self._parts.append(part)
        return part

    def total(self, field: int) -> int:
        return sum(part[field] for part in self._parts)


_PACKETS, _BYTES, _FLOWS = range(3)


def _unmanaged_path(target: Element, elements: Sequence[Element]) -> str | None:
    """How packets can reach ``target`` without flow state, or None if they cannot.

    Walks the graph upstream from ``target``; a FlowIPManager's output 0 ends
    a path (its packets have state), its output 1 or an element with no
    input (a source) is a path without state.
    """
    upstream: dict[int, list[tuple[Element, int]]] = {}
    for element in elements:
        for port, peer in enumerate(element.outputs):
            if peer is not None:
                upstream.setdefault(id(peer[0]), []).append((element, port))
    seen = {id(target)}
    todo = [target]
    while todo:
        node = todo.pop()
        for source, port in upstream.get(id(node), []):
            if isinstance(source, FlowIPManager):
                if port != 0:
                    return (f"'{source.declaration()}' output {port} carries packets "
                            "without flow state to it")
                continue
            if id(source) in seen:
                continue
            seen.add(id(source))
            if not upstream.get(id(source)):
                return f"packets from '{source.declaration()}' reach it without flow state"
            todo.append(source)
    return None


class FlowCounter(Element):
    """FlowCounter() -- counts the packets and bytes of every flow

    Description
    Counts each flow's packets and bytes in the flow's state, so the counts
    follow the flow when its bucket moves to another core. Must be
    downstream of a FlowIPManager whose STATE is dict (the default): the
    counts are kept in the state under this element's name, as a FlowTally
    with fields packets and bytes. Packets pass unchanged. A path that
    reaches it without passing a FlowIPManager's output 0 (from a source
    upstream, or from a manager's output 1, where packets have no flow
    state) is an error when the router starts.

    Element handlers
    count (read) -- packets counted
    byte_count (read) -- bytes counted
    flows (read) -- flows seen (counted from their first packet here)

    Example
    FromDevice(eth0, ACTIVE true) -> FlowIPManager -> fc :: FlowCounter -> Discard;
    """

    port_count = "1/1"

    def configure(self, args: Args) -> None:
        args.complete()
        self._totals = ThreadTotals(3)
        self._warned = False

    def initialize(self) -> None:
        problem = _unmanaged_path(self, self.router.elements)
        if problem is not None:
            raise ConfigError(f"not downstream of a FlowIPManager: {problem}")

    def push(self, port: int, batch: list[Packet]) -> None:
        totals = self._totals.mine()
        name = self.name
        for packet in batch:
            state = state_of(packet)
            if not isinstance(state, dict):
                self._complain(state)
                continue
            tally = state.get(name)
            if tally is None:
                tally = state[name] = FlowTally()
                totals[_FLOWS] += 1
            tally.packets += 1
            tally.bytes += len(packet.data)
            totals[_PACKETS] += 1
            totals[_BYTES] += len(packet.data)
        self.output_push(0, batch)

    def tally_of(self, state: Any) -> FlowTally | None:
        """This counter's counts in a flow's state (None if it saw no packet of the flow)."""
        return state.get(self.name) if isinstance(state, dict) else None

    def _complain(self, state: Any) -> None:
        if not self._warned:
            self._warned = True
            self.log.error("%s: %s: the flow state is a %s, not a dict; give the FlowIPManager "
                           "upstream STATE dict", self.landmark, self.declaration(),
                           type(state).__name__)

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self._totals.total(_PACKETS))

    @read_handler("byte_count")
    def _read_byte_count(self) -> str:
        return str(self._totals.total(_BYTES))

    @read_handler("flows")
    def _read_flows(self) -> str:
        return str(self._totals.total(_FLOWS))
