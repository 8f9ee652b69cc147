"""Poisson counts drawn ahead: the same numbers as drawing them ask by ask."""

import numpy as np

from pyclick.sim.ahead import PoissonAhead

SIZE = 8


def rates(epochs):
    # Packets/s per bucket, a different row per epoch.
    return 1000.0 * (1 + np.arange(epochs * SIZE).reshape(epochs, SIZE) % 7)


class Counting:
    """A generator that counts its calls to poisson."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.bit_generator = self.rng.bit_generator
        self.calls = 0

    def poisson(self, lam):
        self.calls += 1
        return self.rng.poisson(lam)


def one_by_one(asks, seed=4):
    rng, table = np.random.default_rng(seed), rates(20)
    return [rng.poisson(table[epoch] * length) for epoch, length in asks]


def ahead_of(asks, seed=4, settle_at=()):
    rng = Counting(seed)
    ahead, table, out = PoissonAhead(rng), rates(20), []
    for index, (epoch, length) in enumerate(asks):
        if index in settle_at:
            ahead.settle()
            out.append(rng.rng.poisson(5.0, 3))
        out.append(ahead.counts(epoch, length, table, epoch).copy())
    return out, rng.calls


def test_a_rhythm_is_drawn_ahead_in_one_call_with_the_same_numbers():
    asks = [(epoch, 0.01) for epoch in range(12)]
    counts, calls = ahead_of(asks)
    assert all(np.array_equal(a, b) for a, b in zip(counts, one_by_one(asks)))
    # Epoch 0 on its own; epoch 1 repeats its ask: epochs 1 to 4 in one call, and as
    # the rhythm held, epochs 5 to 12 in another.
    assert calls == 3


def test_several_asks_per_epoch_are_a_rhythm_too():
    asks = [(epoch, length) for epoch in range(6) for length in (0.004, 0.006)]
    counts, calls = ahead_of(asks)
    assert all(np.array_equal(a, b) for a, b in zip(counts, one_by_one(asks)))
    assert calls < len(asks)


def test_a_broken_rhythm_puts_the_stream_back():
    # A shorter window in epoch 4, an epoch skipped at 7, a window in the middle of epoch 9.
    asks = [(0, 0.01), (1, 0.01), (2, 0.01), (3, 0.01), (4, 0.005), (4, 0.005), (5, 0.01),
            (6, 0.01), (8, 0.01), (9, 0.003), (9, 0.007), (10, 0.01), (11, 0.01)]
    counts, _ = ahead_of(asks)
    assert all(np.array_equal(a, b) for a, b in zip(counts, one_by_one(asks)))


def test_other_draws_after_settling_see_the_stream_where_the_asks_left_it():
    asks = [(epoch, 0.01) for epoch in range(8)]
    counts, _ = ahead_of(asks, settle_at=(5,))
    rng, table = np.random.default_rng(4), rates(20)
    expected = [rng.poisson(table[epoch] * 0.01) for epoch in range(5)]
    expected += [rng.poisson(5.0, 3)] + [rng.poisson(table[epoch] * 0.01) for epoch in range(5, 8)]
    assert all(np.array_equal(a, b) for a, b in zip(counts, expected))
