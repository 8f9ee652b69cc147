"""DiscardNoFree: a sink that keeps no count."""

from __future__ import annotations

from pyclick.element import AGNOSTIC, Element
from pyclick.packet import Packet
from pyclick.runtime.tasks import Task


class DiscardNoFree(Element):
    """DiscardNoFree() -- drops all packets, but does not free any of them

    Description
    Drops every packet that reaches its input, as cheaply as possible: it
    neither counts them nor, in Click, gives their memory back (here Python
    reclaims it). In pull context its task pulls one packet each time it
    runs and runs again at once, whether or not a packet came. Meant for
    benchmarks.

    Ports
    one agnostic input

    Example
    InfiniteSource(LIMIT 5) -> c :: Counter -> DiscardNoFree;
    """

    port_count = "1/0"
    processing = AGNOSTIC

    def initialize(self) -> None:
        self._task: Task | None = None
        if self.input_is_pull(0):
            self._task = self.own_task(self._run)
            self._task.reschedule()

    def push(self, port: int, batch: list[Packet]) -> None:
        """Drop the batch."""

    def _run(self) -> bool:
        assert self._task is not None
        packet = self.input_pull(0)
        self._task.reschedule()
        return packet is not None
