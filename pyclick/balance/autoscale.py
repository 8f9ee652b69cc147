"""When to add or remove a core, and where a removed core's buckets go.

The rules are the reference's. With spare = sum over cores of
(TARGET_LOAD - load):
- remove the least loaded core when spare exceeds one core plus the
  headroom of a core (1 - TARGET_LOAD) plus a safety margin that grows
  with the number of cores and with how far the busiest core is over
  target;
- add a core when even a perfect spread would leave the cores 10% over
  target (spare below -0.1).
"""

from __future__ import annotations

import numpy as np

#: Spare below this (in cores) asks for one more core.
ADD_BELOW = -0.1
#: The smallest per-core safety margin counted before removing a core.
MIN_MARGIN = 0.05


def spare_capacity(loads: np.ndarray, target_load: float) -> float:
    """Load that could still be absorbed before every core hits the target."""
    return float(np.sum(target_load - loads))


def removal_margin(loads: np.ndarray, target_load: float) -> float:
    """Safety margin: (cores + 1) x max(0.05, busiest core's excess over target)."""
    busiest = float(loads.max()) if loads.size else 0.0
    return (loads.size + 1) * max(MIN_MARGIN, busiest - target_load)


def should_remove(loads: np.ndarray, target_load: float) -> bool:
    """True when one core fewer would still leave every core under target."""
    spare = spare_capacity(loads, target_load)
    needed = 1 + (1 - target_load) + removal_margin(loads, target_load)
    return loads.size > 1 and spare > needed


def should_add(loads: np.ndarray, target_load: float) -> bool:
    """True when the load would exceed the target by 10% of a core even if spread perfectly."""
    return spare_capacity(loads, target_load) < ADD_BELOW


def spread_heaviest_first(bucket_loads: np.ndarray, core_loads: np.ndarray) -> np.ndarray:
    """Give each bucket, heaviest first, to the currently least loaded core.

    Returns the receiving position (index into ``core_loads``) of every
    bucket; ties go to the lower position.
    """
    loads = np.array(core_loads, dtype=np.float64)
    receiver = np.empty(len(bucket_loads), dtype=np.int64)
    for b in np.argsort(-np.asarray(bucket_loads), kind="stable"):
        target = int(np.argmin(loads))
        receiver[b] = target
        loads[target] += bucket_loads[b]
    return receiver
