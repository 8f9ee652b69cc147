"""The settings of one balancer, with the reference's defaults.

Times are in seconds here; DeviceBalancer converts its millisecond
keywords. ``problems()`` names the keyword of every inconsistent setting so
that the element can report each mistake against the right keyword.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

#: MOVE_COST's default (``pyclick.balance.move_price``): what one move must
#: remove, in squared relative imbalance x seconds, at the README's settings
#: (TIMER 10, TIMER_MAX 1000, RETA_SIZE 128, 18 cores, TARGET_LOAD 0.75).
DEFAULT_MOVE_COST = 0.01


@dataclass
class BalanceParams:
    """What a balancer is asked to do.

    ``cpus`` is how many cores may serve queues (cores 0..cpus-1 in queue
    numbering); ``start_cpus`` how many are in use at start (None: all).
    ``sockets`` gives the socket of each core (index = core) for NUMA.
    ``move_cost`` is rsspp's MOVE_COST, the price of a move
    (``pyclick.balance.move_price``).
    """

    method: str = "rsspp"
    reta_size: int = 128
    cpus: int = 1
    start_cpus: int | None = None
    timer: float = 0.1
    timer_max: float | None = None
    target: str = "load"
    target_load: float = 0.8
    imbalance_alpha: float = 1.0
    imbalance_threshold: float = 0.02
    autoscale: bool = False
    dancer: bool = False
    numa: bool = False
    sockets: Sequence[int] | None = None
    move_cost: float = DEFAULT_MOVE_COST

    @property
    def initial_cpus(self) -> int:
        return self.cpus if self.start_cpus is None or self.start_cpus < 0 else self.start_cpus

    @property
    def longest_tick(self) -> float:
        return self.timer if self.timer_max is None else self.timer_max

    def problems(self) -> list[tuple[str, str]]:
        """Every inconsistency as (KEYWORD, message); empty when usable."""
        found: list[tuple[str, str]] = []
        if self.reta_size < 1:
            found.append(("RETA_SIZE", f"must be at least 1, got {self.reta_size}"))
        if self.cpus < 1:
            found.append(("CPUS", f"must be at least 1, got {self.cpus}"))
        if self.start_cpus is not None and self.start_cpus == 0:
            found.append(("STARTCPU", "must be at least 1 (or -1 for CPUS)"))
        if self.start_cpus is not None and self.start_cpus > self.cpus:
            found.append(("STARTCPU", f"{self.start_cpus} is more than CPUS {self.cpus}"))
        if self.timer <= 0:
            found.append(("TIMER", "must be positive"))
        if self.timer_max is not None and self.timer_max < self.timer:
            found.append(("TIMER_MAX", f"{self.timer_max * 1000:g} ms is shorter than "
                                       f"TIMER {self.timer * 1000:g} ms"))
        if self.target not in ("load", "balance"):
            found.append(("TARGET", f"expected load or balance, got {self.target!r}"))
        if not 0 < self.target_load <= 1:
            found.append(("TARGET_LOAD", f"must be in (0, 1], got {self.target_load:g}"))
        if not 0 < self.imbalance_alpha <= 1:
            found.append(("IMBALANCE_ALPHA",
                          f"must be in (0, 1], got {self.imbalance_alpha:g}"))
        if not 0 <= self.imbalance_threshold < 1:
            found.append(("IMBALANCE_THRESHOLD",
                          f"must be in [0, 1), got {self.imbalance_threshold:g}"))
        if not self.move_cost >= 0:
            found.append(("MOVE_COST", f"must be at least 0, got {self.move_cost:g}"))
        if self.sockets is not None and len(self.sockets) < self.cpus:
            found.append(("NUMA", f"socket map covers {len(self.sockets)} cores, "
                                  f"CPUS is {self.cpus}"))
        return found
