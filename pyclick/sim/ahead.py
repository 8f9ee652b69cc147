"""Poisson counts per bucket drawn ahead of the windows a run will ask for.

A run asks for the packets of each window as simulated time reaches it,
and most runs ask in a rhythm: the same windows in every epoch (one window
of a whole epoch, when a balancer ticks at the epoch's period). numpy
draws the variates of an array one after the other from the generator's
stream, so the variates of many successive asks, drawn in one call over
the rows of their means, are the numbers those asks would have drawn one
by one; one call costs far less than many small ones. When an ask breaks
the rhythm, the stream is put back where the asks so far would have left
it: the state saved before the call is restored and the rows handed out
are drawn again.
"""

from __future__ import annotations

import numpy as np

#: Epochs drawn ahead after the rhythm is first seen, and at most (as it holds).
_FIRST_EPOCHS = 4
_MOST_EPOCHS = 128
#: A rhythm of more asks per epoch than this is not drawn ahead.
_MOST_ASKS = 16
#: Counts drawn ahead at once at most (with their means: 4 MB).
_MOST_CELLS = 1 << 18


class PoissonAhead:
    """Poisson counts from ``rng``, drawn ahead while the asks keep a rhythm."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        # The asks of the latest epoch asked for, and those of the epoch before it.
        self._epoch: int | None = None
        self._lengths: list[float] = []
        self._previous: tuple[int, tuple[float, ...]] | None = None
        # What is drawn ahead: its rows, their means, the asks per epoch they follow,
        # the epoch of the first row, how many rows are handed out, the state before.
        self._rows: np.ndarray | None = None
        self._means = np.zeros((0, 0))
        self._rhythm: tuple[float, ...] = ()
        self._first = 0
        self._taken = 0
        self._state: dict = {}
        self._epochs = _FIRST_EPOCHS

    def counts(self, epoch: int, length: float, rates: np.ndarray, row: int) -> np.ndarray:
        """Counts per bucket over ``length`` seconds of ``epoch``, whose rates
        (per second) are ``rates[row]``; the rows after it are the rates of the
        epochs that follow, as far as they are known. Do not modify the result."""
        self._record(epoch, length)
        rows = self._rows
        if rows is not None:
            taken, rhythm = self._taken, self._rhythm
            if (epoch == self._first + taken // len(rhythm)
                    and length == rhythm[taken % len(rhythm)]):
                self._taken = taken + 1
                if self._taken == len(rows):
                    self._rows = None
                    self._epochs = min(2 * self._epochs, _MOST_EPOCHS)
                return rows[taken]
            self.settle()
            self._epochs = _FIRST_EPOCHS
        previous = self._previous
        if (previous is not None and previous[0] == epoch - 1 and len(self._lengths) == 1
                and previous[1][0] == length and row + 1 < len(rates)):
            return self._draw_ahead(previous[1], rates, row, epoch)
        return self.rng.poisson(rates[row] * length)

    def settle(self) -> None:
        """Put the stream where the asks so far would have left it (before any other
        draw from it)."""
        if self._rows is None:
            return
        self.rng.bit_generator.state = self._state
        if self._taken:
            self.rng.poisson(self._means[:self._taken])
        self._rows = None

    def _record(self, epoch: int, length: float) -> None:
        if epoch != self._epoch:
            if self._epoch is not None and len(self._lengths) <= _MOST_ASKS:
                self._previous = (self._epoch, tuple(self._lengths))
            else:
                self._previous = None
            self._epoch, self._lengths = epoch, []
        self._lengths.append(length)

    def _draw_ahead(self, rhythm: tuple[float, ...], rates: np.ndarray, row: int,
                    epoch: int) -> np.ndarray:
        """Draw the asks of ``rhythm`` in every epoch from ``epoch`` on; hand out the first."""
        epochs = min(len(rates) - row, self._epochs,
                     max(1, _MOST_CELLS // (len(rhythm) * rates.shape[1])))
        lengths = np.array(rhythm)
        means = (rates[row:row + epochs, None, :] * lengths[None, :, None]).reshape(
            epochs * len(rhythm), rates.shape[1])
        self._state = self.rng.bit_generator.state
        self._rows = self.rng.poisson(means)
        self._means, self._rhythm, self._first, self._taken = means, rhythm, epoch, 1
        return self._rows[0]
