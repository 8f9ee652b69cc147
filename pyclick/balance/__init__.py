"""The balancing core of RSS++: methods, solvers, autoscale and tick policy.

Pure numpy, no Linux: ``Controller`` holds one balancer's state and turns
per-core loads and per-bucket packet counts into a new indirection table
and the moves that lead there. Methods: ``rss`` (static), ``rssrr``
(rotation), ``rsspp`` (ours; aliases ``pianorss``, ``rss++``) and
``rsspp-ref`` (the reference's greedy, kept as the baseline).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyclick.balance.controller import Controller, Decision
    from pyclick.balance.methods import ALIASES, METHODS, canonical_name
    from pyclick.balance.params import BalanceParams

__all__ = ["ALIASES", "METHODS", "BalanceParams", "Controller", "Decision", "canonical_name"]

#: Where each name lives: the package loads a module (and numpy) on first use
#: of a name, so that reading a configuration (``pyclick.balance.names``,
#: ``pyclick.balance.params``) loads none of the methods.
_HOMES = {"ALIASES": "methods", "METHODS": "methods", "canonical_name": "methods",
          "BalanceParams": "params", "Controller": "controller", "Decision": "controller"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
