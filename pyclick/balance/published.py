"""What a balancer publishes to the elements that follow it (Metrics), without numpy.

Reading a configuration that names a Metrics element checks its BALANCER
arguments against :class:`Balancer`; that must not load the balancing core
(numpy and the methods), which ``pyclick.balance.loop`` needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol, runtime_checkable

if TYPE_CHECKING:
    from pyclick.balance.controller import Decision

#: Called with every decision the loop applied.
DecisionObserver = Callable[["Decision"], None]


@dataclass
class LoopCounters:
    """What a loop has done since it started."""

    #: Buckets moved, over every published decision.
    moves: int = 0
    #: Tables written after the first one.
    table_writes: int = 0
    #: Ticks skipped because a load or count could not be read.
    tick_errors: int = 0


@runtime_checkable
class Balancer(Protocol):
    """A balancer as the elements that follow it see it (Metrics)."""

    def device_name(self) -> str:
        """The name of the device whose table it balances."""

    def subscribe(self, observer: DecisionObserver) -> None:
        """Call ``observer`` with every decision applied from now on."""

    def counters(self) -> LoopCounters:
        """Its counters so far (a copy)."""
