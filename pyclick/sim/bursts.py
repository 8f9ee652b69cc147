"""Elephant bursts over a block of epochs: an on/off chain per flow, in whole-array passes.

In every epoch it is alive, a calm elephant starts bursting when its draw
(uniform in [0, 1)) is below ``start``, and a bursting one calms down when
its draw is below ``stop``. One epoch is then a map of the burst state
{calm, bursting} onto itself; the maps of successive epochs compose into
maps of the same kind, so the state in every epoch of a block is a prefix
scan of the epochs' maps, done in log2(epochs) passes over the block
instead of one pass per epoch.
"""

from __future__ import annotations

import numpy as np


def burst_states(initial: np.ndarray, live: np.ndarray, draws: np.ndarray, start: float,
                 stop: float) -> np.ndarray:
    """Burst state of each flow after each epoch: (epochs, flows) booleans.

    ``initial`` is each flow's state before the first epoch, ``live`` marks
    the (epoch, flow) pairs that draw, and ``draws`` holds their draws in
    that order (epoch by epoch, flows in order), as ``live.nonzero()``
    lists them.
    """
    # A map is the pair (state it sends calm to, state it sends bursting to);
    # a flow that is not alive keeps its state: the identity (calm, bursting).
    from_calm = np.zeros(live.shape, bool)
    from_bursting = np.ones(live.shape, bool)
    rows, flows = live.nonzero()
    from_calm[rows, flows] = draws < start
    from_bursting[rows, flows] = draws >= stop
    distance = 1
    while distance < len(live):
        # Epoch k's map becomes (its map) after (the map of epoch k - distance).
        later_calm, later_bursting = from_calm[distance:], from_bursting[distance:]
        new_calm = np.where(from_calm[:-distance], later_bursting, later_calm)
        new_bursting = np.where(from_bursting[:-distance], later_bursting, later_calm)
        from_calm[distance:], from_bursting[distance:] = new_calm, new_bursting
        distance *= 2
    return np.where(initial, from_bursting, from_calm)
