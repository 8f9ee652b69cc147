"""The price of moving a bucket, from what the counts measure.

Moving a bucket to another core costs something the imbalance does not
show: packets of its flows still queued on the old core may be overtaken
by those arriving at the new one, and per-flow state has to follow. A move
is worth it when the imbalance it removes, added up over the time that
imbalance would otherwise last, outweighs that cost, and when its gain is
not the noise of the measurements. What decides this is measured, not
tuned to a traffic or a machine:

- how long an imbalance lasts (``ImbalanceLife``). The buckets' packet
  rates are read over successive one-second windows; how well one window's
  deviations from the average bucket predict the next window's (their
  correlation, net of the counting noise) gives the time over which a
  deviation fades. Steady traffic keeps its deviations for minutes, and a
  move there keeps paying for minutes; bursty traffic forgets them within
  a second or two, and a move must pay off quickly. The number of cores and
  the size of the buckets need no rule of their own: they change the gain
  of each move, which the balancer computes, not what a move is worth;
- the noise of a gain (``MovePrice.noise_charges``). Moving a bucket of
  load w from core g to core r lowers the sum of squared deviations by
  2 w (e_g - e_r) - 2 w^2, where e is each core's predicted load minus its
  target. The predictions' errors (the variance the rate estimator keeps
  per bucket) make e_g - e_r uncertain; the gain must exceed NOISE_SIGMAS
  standard deviations of that uncertainty on top of the price, or the
  balancer would keep moving buckets after noise;
- hysteresis (``MovePrice.hold``). A bucket that would go back to the core
  it left, within the life of the imbalance that moved it, goes only if
  the part of the gain that persists (the buckets' rate levels, leaving
  out their latest deviations and the work a core owes for having served
  more than its share) clears the price and HOLD_SIGMAS standard
  deviations of its noise. Without this, two cores sharing one dominant
  bucket hand it back and forth: each time the core holding it has served
  more than its share, moving the bucket back evens the work served, and
  then the other core owes.

The price itself is MOVE_COST (``BalanceParams.move_cost``, DeviceBalancer's
MOVE_COST): the squared imbalance, relative to the average load, times the
seconds it lasts, that one move must remove. A move that takes one core
from 10% above the average to the average and another from 10% below to
the average removes 0.1^2 + 0.1^2 = 0.02 of squared relative imbalance; at
the default MOVE_COST of 0.01 it is made if that imbalance would have
lasted half a second or more. The lower MOVE_COST, the more moves and the
lower the imbalance.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from pyclick.balance.params import DEFAULT_MOVE_COST  # noqa: F401  (the price explained here)
from pyclick.balance.solver import Relief

#: Seconds of counts per window when learning how long deviations last: the
#: window of the per-second imbalance a balancer is judged on.
LIFE_WINDOW = 1.0
#: Memory (s) of the correlation between successive windows.
LIFE_MEMORY = 5.0
#: The share of a deviation left one window later is read within these
#: bounds: a deviation is never taken to last beyond a thousand windows, nor
#: to vanish within a fifth of one.
_LEAST_CORRELATION = math.exp(-5.0)
_MOST_CORRELATION = math.exp(-1e-3)
#: How far beyond its noise (standard deviations) the gain of any move must be:
#: one standard deviation, below which the noise alone would often produce it.
NOISE_SIGMAS = 1.0
#: How far beyond its noise the lasting gain of a move that sends a bucket
#: back to the core it just left must be: about one chance in forty that
#: noise alone gets that far.
HOLD_SIGMAS = 2.0


class ImbalanceLife:
    """How long a bucket's deviation from the average bucket lasts, in seconds.

    Counts are added up over windows of at least ``window`` seconds. For
    each window, d is every bucket's rate minus the mean bucket rate. The
    share of one window's deviations left in the next, r, is the
    regression of d on the previous window's d: their covariance over the
    previous window's variance of d net of the counting noise (a Poisson
    count's variance is its mean), both smoothed over ``memory`` seconds.
    A deviation fading as exp(-t / life) leaves r = exp(-window / life).
    Until two windows are in, ``life`` is one window and ``known`` is False.
    """

    def __init__(self, reta_size: int, window: float = LIFE_WINDOW,
                 memory: float = LIFE_MEMORY) -> None:
        self.window = window
        self.memory = memory
        self.life = window
        self.known = False
        self._counts = np.zeros(reta_size)
        self._seconds = 0.0
        # The previous window's deviations and their variance net of noise.
        self._previous: tuple[np.ndarray, float] | None = None
        self._covariance = 0.0
        self._variance = 0.0

    def update(self, counts: np.ndarray, elapsed: float) -> None:
        """Add ``counts`` packets per bucket over ``elapsed`` seconds."""
        np.add(self._counts, counts, self._counts)
        self._seconds += elapsed
        if self._seconds < self.window:
            return
        seconds = self._seconds
        rates = self._counts / seconds
        self._counts = np.zeros_like(self._counts)
        self._seconds = 0.0
        mean = float(rates.mean())
        deviation = rates - mean
        # Poisson counts: each rate's noise variance is rate / seconds.
        variance = float(deviation.dot(deviation)) / len(rates) - mean / seconds
        previous, self._previous = self._previous, (deviation, variance)
        if previous is None:
            return
        covariance = float(deviation.dot(previous[0])) / len(rates)
        learn = 1.0 - math.exp(-seconds / self.memory) if self.known else 1.0
        self._covariance += learn * (covariance - self._covariance)
        self._variance += learn * (previous[1] - self._variance)
        self.known = True
        if self._variance > 0:
            share = min(max(self._covariance / self._variance, _LEAST_CORRELATION),
                        _MOST_CORRELATION)
            self.life = seconds / -math.log(share)


class RecentMoves:
    """When each bucket last moved and which core it left, on a clock advanced by
    the ticks."""

    def __init__(self, reta_size: int) -> None:
        self.now = 0.0
        # Lists: read one bucket at a time, where numpy scalars cost more.
        self.moved_at = [-math.inf] * reta_size
        self.origin = [-1] * reta_size

    def advance(self, elapsed: float) -> None:
        self.now += elapsed

    def record(self, moves: list[tuple[int, int]]) -> None:
        """``moves``: (bucket, the core it left)."""
        for bucket, core in moves:
            self.moved_at[bucket] = self.now
            self.origin[bucket] = core

    def returning(self, bucket: int, core: int, life: ImbalanceLife) -> bool:
        """Whether moving ``bucket`` to ``core`` undoes its last move within the life
        of an imbalance (any time, while that life is not known yet)."""
        if self.origin[bucket] != core:
            return False
        return not life.known or self.now - self.moved_at[bucket] < life.life


class BucketRates(Protocol):
    """Per-bucket packet rates as the balancer predicts them (``PersistentRates``)."""

    #: The slow level of each bucket's rate (packets/s): what persists.
    level: np.ndarray
    #: The rate predicted for the next tick.
    rate: np.ndarray
    #: The variance of that prediction's error.
    variance: np.ndarray


class MovePrice:
    """What a move must gain to be made, for one balancer (see the module docstring).

    ``observe`` every tick's counts; ``least_gain`` is the price of any
    move, ``noise_charges`` what each bucket's move must gain beyond it,
    and ``hold`` drops the moves that would send a bucket back where it
    just came from on transient grounds. ``record`` the moves made.
    """

    def __init__(self, reta_size: int, move_cost: float) -> None:
        self.move_cost = move_cost
        self.life = ImbalanceLife(reta_size)
        self.recent = RecentMoves(reta_size)

    def observe(self, counts: np.ndarray, elapsed: float) -> None:
        self.life.update(counts, elapsed)
        self.recent.advance(elapsed)

    def least_gain(self, average_load: float) -> float:
        return min_gain(self.move_cost, average_load, self.life.life)

    def record(self, moves: list[tuple[int, int]]) -> None:
        """``moves``: (bucket, the core it left)."""
        self.recent.record(moves)

    @staticmethod
    def noise_charges(rates: BucketRates, where: np.ndarray, per_packet: np.ndarray | float,
                      receivers: list[int], ncores: int) -> np.ndarray:
        """Per bucket, NOISE_SIGMAS x the standard deviation of its move's gain.

        ``where`` is each bucket's core position, ``per_packet`` the load of
        one packet/s there. Moving a bucket of load w from g to r gains
        2 w (e_g - e_r) - 2 w^2; the noise of e_g - e_r is that of g's
        predicted load plus that of the noisiest receiver.
        """
        noise = core_noise(rates, where, per_packet, ncores)
        spread = np.sqrt(noise + noise[receivers].max())
        return 2.0 * NOISE_SIGMAS * rates.rate * per_packet * spread[where]

    @staticmethod
    def noise_shift(rates: BucketRates, where: np.ndarray, per_packet: float,
                    receivers: list[int], givers: list[int], ncores: int) -> list[float]:
        """``noise_charges`` when every core costs ``per_packet``, per unit of load moved,
        for each of ``givers`` (0 at the other core positions).

        A bucket's charge is 2 w x NOISE_SIGMAS x the spread of its giver g;
        as half a gain, w (e_g - e_r) - w^2, less half that charge, it reads
        w (e_g - shift_g - e_r) - w^2: a shift of the giver's excess, one
        number per core position.
        """
        square = per_packet * per_packet
        summed = np.bincount(where, weights=rates.variance, minlength=ncores)
        variance = summed.tolist()
        # Every core may receive (the usual case): the largest read off the array.
        loudest = (summed.item(summed.argmax()) if len(receivers) == ncores
                   else max([variance[r] for r in receivers])) * square
        shift = [0.0] * ncores
        for g in givers:
            shift[g] = NOISE_SIGMAS * math.sqrt(variance[g] * square + loudest)
        return shift

    def hold(self, relief: Relief, active: list[int], where: np.ndarray, rates: BucketRates,
             per_packet: np.ndarray | float, receivers: list[int], alpha: float,
             least_gain: float) -> Relief:
        """``relief`` without the moves that send a bucket back to the core it just left,
        unless the persisting part of their gain clears the price and HOLD_SIGMAS x
        its noise.

        Of a core position's excess (alpha x its predicted load minus its
        target) only the part made of the buckets' rate levels persists:
        alpha x (level load - the receivers' average level load). The
        dropped moves are taken back out of the excesses.
        """
        moves = relief.moves
        if not moves:
            return relief
        recent = self.recent
        # Most moves do not send a bucket back where it came from: one list read settles them.
        back = {(bucket, receiver) for bucket, receiver in moves
                if recent.origin[bucket] == active[receiver]
                and recent.returning(bucket, active[receiver], self.life)}
        if not back:
            return relief
        ncores = len(relief.excess)
        level = np.bincount(where, weights=rates.level * per_packet, minlength=ncores)
        # The mean as ``np.mean`` takes it (a pairwise sum over the count),
        # without its Python layer.
        of_receivers = level if len(receivers) == ncores else level[receivers]
        lasting = alpha * (level - np.add.reduce(of_receivers) / len(receivers))
        noise = core_noise(rates, where, per_packet, ncores)
        # One cost for every core comes as a number: the same per bucket.
        uniform = not isinstance(per_packet, np.ndarray)
        excess = list(relief.excess)
        kept = []
        for bucket, receiver in moves:
            if (bucket, receiver) in back:
                giver = int(where[bucket])
                load = float(rates.rate[bucket] * (per_packet if uniform else per_packet[bucket]))
                gain = 2 * load * (lasting[giver] - lasting[receiver]) - 2 * load * load
                spread = math.sqrt(noise[giver] + noise[receiver])
                if gain < least_gain + 2 * load * HOLD_SIGMAS * spread:
                    excess[giver] += load
                    excess[receiver] -= load
                    continue
            kept.append((bucket, receiver))
        return Relief(kept, excess)


def core_noise(rates: BucketRates, where: np.ndarray, per_packet: np.ndarray | float,
               ncores: int) -> np.ndarray:
    """The variance of each core position's predicted load (its buckets' errors
    taken as independent)."""
    return np.bincount(where, weights=rates.variance * per_packet * per_packet,
                       minlength=ncores)


def min_gain(move_cost: float, average_load: float, life: float) -> float:
    """The least drop of the sum of squared core deviations (load^2) a move must bring.

    The drop lasts ``life`` seconds; MOVE_COST is in squared relative
    imbalance x seconds, so in load units it is move_cost x average_load^2.
    """
    return move_cost * average_load * average_load / life
