"""Discard and Idle: the two ways a configuration throws packets away."""

from __future__ import annotations

from pyclick.element import Element, read_handler, write_handler
from pyclick.packet import Packet


class Discard(Element):
    """Discard() -- drops all packets

    Description
    Drops every packet pushed to its single input, counting them.

    Element handlers
    count (read) -- packets dropped since the start or the last reset
    reset_counts (write) -- sets count back to 0

    Example
    InfiniteSource(LIMIT 5) -> d :: Discard;
    """

    port_count = "1/0"

    def initialize(self) -> None:
        self.count = 0

    def push(self, port: int, batch: list[Packet]) -> None:
        self.count += len(batch)

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)

    @write_handler("reset_counts")
    def _reset_counts(self, value: str) -> None:
        self.count = 0


class Idle(Element):
    """Idle() -- never sends a packet, drops what it receives

    Description
    Idle has any number of inputs and outputs. It never emits a packet and
    silently drops any packet pushed to it. It fills ports that must be
    connected but carry nothing.

    Example
    Idle -> c :: Counter -> Discard;
    """

    port_count = "-/-"

    def push(self, port: int, batch: list[Packet]) -> None:
        """Drop the batch."""
