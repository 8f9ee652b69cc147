"""The adaptive tick: faster while imbalanced, slower while calm.

The rule is the reference's: a residual imbalance above 0.4 snaps back to
the shortest tick, above 0.2 halves the tick, and a tick that moved nothing
doubles it; the result always stays within [shortest, longest].
"""

from __future__ import annotations

#: Residual imbalance (sum over cores of |average - load|) above which the
#: tick returns to its shortest value.
RESET_IMBALANCE = 0.4
#: Residual imbalance above which the tick is halved.
HALVE_IMBALANCE = 0.2


def next_tick(current: float, residual_imbalance: float, moved: bool,
              shortest: float, longest: float) -> float:
    """The tick to wait before the next decision, in the unit of the inputs."""
    if residual_imbalance > RESET_IMBALANCE:
        tick = shortest
    elif residual_imbalance > HALVE_IMBALANCE:
        tick = current / 2
    elif not moved:
        tick = current * 2
    else:
        tick = current
    return min(max(tick, shortest), longest)
