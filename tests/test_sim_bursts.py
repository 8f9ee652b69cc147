"""Elephant bursts over a block of epochs, in one scan."""

import numpy as np

from pyclick.sim.bursts import burst_states


def walk(initial, live, draws, start, stop):
    """The same chain, epoch by epoch."""
    state, states, taken = initial.copy(), [], 0
    for row in live:
        for flow in np.flatnonzero(row):
            draw = draws[taken]
            taken += 1
            if state[flow] and draw < stop or not state[flow] and draw < start:
                state[flow] = not state[flow]
        states.append(state.copy())
    return np.array(states)


def test_a_calm_flow_starts_and_a_bursting_one_stops_on_low_draws():
    # Flow 0 starts calm, flow 1 bursting; flow 1 sits out epoch 1.
    # Epoch 0: flow 0 draws 0.05 < start 0.1: it bursts; flow 1 draws 0.5 >= stop 0.2: it goes on.
    # Epoch 1: flow 0 draws 0.9: it goes on bursting; flow 1 does not draw.
    # Epoch 2: flow 0 draws 0.5: still bursting; flow 1 draws 0.01 < stop: it calms down.
    live = np.array([[True, True], [True, False], [True, True]])
    states = burst_states(np.array([False, True]), live, np.array([0.05, 0.5, 0.9, 0.5, 0.01]),
                          start=0.1, stop=0.2)
    assert states.tolist() == [[True, True], [True, True], [True, False]]


def test_the_scan_gives_the_epoch_by_epoch_walk():
    rng = np.random.default_rng(3)
    live = rng.random((100, 40)) < 0.7
    initial = rng.random(40) < 0.5
    draws = rng.random(int(live.sum()))
    expected = walk(initial, live, draws, start=0.3, stop=0.4)
    assert np.array_equal(burst_states(initial, live, draws, start=0.3, stop=0.4), expected)
    # Not a constant answer: the flows change state along the block.
    assert 0 < expected.mean() < 1 and (expected[1:] != expected[:-1]).any()
