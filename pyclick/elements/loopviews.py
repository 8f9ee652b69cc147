"""Read handlers that show a balancer's loop, declared as a table.

A balancing element keeps its ``pyclick.balance.loop.BalancerLoop`` in
``loop``, None until it starts; these build its read handlers from one
line each, as Click's ``add_handlers()`` does, with what they answer
before the loop (or its first decision) exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from pyclick.element import read_handler

if TYPE_CHECKING:  # the balancing core loads when a balancer starts
    from pyclick.balance import Decision
    from pyclick.balance.loop import BalancerLoop


def loop_view(name: str, show: Callable[[BalancerLoop], str], before: str = "") -> Callable:
    """Read handler ``name``: ``show`` of the running loop, ``before`` until it runs."""
    return read_handler(name)(lambda self: show(self.loop) if self.loop else before)


def decision_view(name: str, show: Callable[[Decision, BalancerLoop], str],
                  before: str = "") -> Callable:
    """Read handler ``name``: ``show`` of the last decision, ``before`` until there is one."""
    return read_handler(name)(lambda self: show(self.loop.last_decision, self.loop)
                              if self.loop and self.loop.last_decision else before)
