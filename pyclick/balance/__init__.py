"""The balancing core of RSS++: methods, solvers, autoscale and tick policy.

Pure numpy, no Linux: ``Controller`` holds one balancer's state and turns
per-core loads and per-bucket packet counts into a new indirection table
and the moves that lead there. Methods: ``rss`` (static), ``rssrr``
(rotation), ``rsspp`` (ours; aliases ``pianorss``, ``rss++``) and
``rsspp-ref`` (the reference's greedy, kept as the baseline).
"""

from pyclick.balance.controller import Controller, Decision
from pyclick.balance.methods import ALIASES, METHODS, canonical_name
from pyclick.balance.params import BalanceParams

__all__ = ["ALIASES", "METHODS", "BalanceParams", "Controller", "Decision", "canonical_name"]
