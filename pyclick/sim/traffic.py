"""Traffic for the simulated NIC: a synthetic flow model and pcap replay.

Both sources (pcap replay lives in ``pyclick.sim.replay``) answer the same
questions for a time window ``[t, t + dt)``:
how many packets land in each RSS bucket (``window``/``windows``, the fast
path the NIC model uses) and which individual packets arrive
(``packets``, for data paths that handle real Packet objects).

The synthetic model (``TrafficGenerator``) keeps a population of flows:
mice arrive as a Poisson process and live an exponential time (or a
Weibull one, heavy tailed when its shape is below 1, or forever); their
rates are Pareto (heavy tailed) or log-normal distributed. A small set of
elephant flows carries a fixed share of the load, lives longer and bursts:
its rate is multiplied by ``burst_factor`` while bursting and by
``calm_factor`` in between (0 makes it an on/off source). At ``shift_at``,
and every ``shift_every``, every elephant is replaced at once by new ones
(a traffic shift). Each bucket's rate also flickers (a slowly drifting
log-normal factor), as the flows sharing it speed up and slow down. A
``LoadProfile`` scales the whole offered rate over time. Flow rates are
piecewise constant over short epochs; packet counts within a window are
Poisson draws around those rates. The epochs are planned a block (one
simulated second) at a time, in whole-block array operations: births and
deaths, bursts, scales and every epoch's per-bucket rates, so that a tick
only reads its row and draws its counts (drawn ahead while the NIC asks
for the same windows epoch after epoch: ``pyclick.sim.ahead``). Every
random choice comes from generators seeded by ``TrafficConfig.seed``.
Named settings of the model, the traffic families, are in
``pyclick.sim.families``.
"""

from __future__ import annotations

import math
from typing import Iterator, Protocol

import numpy as np

from pyclick.packet import Packet
from pyclick.sim.ahead import PoissonAhead
from pyclick.sim.bursts import burst_states
from pyclick.sim.flows import FlowSet, TupleHasher, random_flows
from pyclick.sim.population import Population
from pyclick.sim.replay import PcapTraffic
from pyclick.sim.trafficconfig import TrafficConfig

__all__ = ["PcapTraffic", "Traffic", "TrafficConfig", "TrafficGenerator"]


class Traffic(Protocol):
    """What the NIC model needs from a traffic source."""

    def windows(self, t: float, dt: float, count: int) -> np.ndarray:
        """Packets per bucket in ``count`` consecutive windows of ``dt`` from ``t``."""

    def steered(self, t: float, dt: float, count: int, table: np.ndarray, cores: int,
                calm_below: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Arrivals through ``table``: (per window and core, per bucket).

        ``calm_below`` (per core, packets per window) is a hint: a core
        whose arrivals stay well below it in every window cannot queue, so
        how they spread over the windows does not matter to it.
        """

    def window(self, t: float, dt: float) -> np.ndarray: ...

    def packets(self, t: float, dt: float) -> list[Packet]: ...

    def set_reta_size(self, reta_size: int) -> None: ...


#: Births and deaths are drawn this far ahead, seconds.
BLOCK_SECONDS = 1.0
#: The death epoch of a flow that lives forever.
NEVER = np.iinfo(np.int64).max // 4


def _epoch_index(t: float, epoch: float) -> int:
    # The tolerance keeps t = k * epoch, computed in floating point, in epoch k.
    return int(math.floor(t / epoch + 1e-9))


def pareto_weights(rng: np.random.Generator, shape: float, count: int) -> np.ndarray:
    """``count`` Pareto draws of minimum 1: ``rng.pareto(shape, count) + 1``, the same
    draws (exp(E / shape) for a standard exponential E) to the last bit or so.

    numpy's ``pareto`` takes each draw through the C library's ``expm1``
    one at a time, four times slower than the array operation, whose
    result may differ in the last bit.
    """
    weights = rng.standard_exponential(count)
    weights /= shape
    np.expm1(weights, out=weights)
    weights += 1.0
    return weights


def _room(flows: int, mean_lifetime: float) -> int:
    """Slots for a population of ``flows`` flows living ``mean_lifetime`` s on average.

    The dead are let go at the start of a block, so the population peaks
    at its flows plus a block's births; a tenth more absorbs the
    randomness of both. Growing is the fallback, not the plan: a grown
    population is scanned over all its slots every block.
    """
    births = flows * BLOCK_SECONDS / mean_lifetime
    return math.ceil(1.1 * (flows + births)) + 64


class TrafficGenerator:
    """Synthetic flow traffic hashed onto ``reta_size`` buckets with ``key``.

    Time only moves forward: each call must start at or after the epoch
    the previous one reached.
    """

    def __init__(self, config: TrafficConfig, key: bytes, reta_size: int) -> None:
        config.validate()
        self.config = config
        self.key = key
        self._hasher = TupleHasher(key)
        self.reta_size = reta_size
        seeds = np.random.SeedSequence(config.seed).spawn(5)
        # Separate streams: the flow population does not depend on how
        # windows are batched, nor on whether packets or counts are drawn,
        # and the counts per bucket not on the table that steers them.
        self._flow_rng = np.random.default_rng(seeds[0])
        self._count_rng = np.random.default_rng(seeds[1])
        self._counts = PoissonAhead(self._count_rng)
        self._packet_rng = np.random.default_rng(seeds[2])
        self._flicker_rng = np.random.default_rng(seeds[3])
        self._spread_rng = np.random.default_rng(seeds[4])
        self._flicker = self._flicker_rng.normal(0.0, config.flicker, reta_size)
        self._epoch = 0
        self._block_epochs = max(1, round(BLOCK_SECONDS / config.epoch))
        self._shift_epoch = (math.ceil(config.shift_at / config.epoch - 1e-9)
                             if config.shift_at is not None else None)
        self._shift_every = (max(1, round(config.shift_every / config.epoch))
                             if config.shift_every is not None else None)
        self._mice = Population(_room(config.flows, config.mean_lifetime), reta_size)
        self._elephants = Population(_room(config.elephants, config.elephant_lifetime), reta_size)
        self._pool = FlowSet.empty()
        self._pool_next = 0
        self._created = 0
        self._frames: dict[tuple[bool, int], tuple[int, bytes, tuple, int]] = {}
        self._splits: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        # The first flows are drawn already under way, with what is left of
        # their lives, so the steady state starts right away.
        self._births(self._mice, np.zeros(config.flows, np.int64), under_way=True)
        self._births(self._elephants, np.zeros(config.elephants, np.int64), under_way=True)
        self._plan_block(0)
        self._plan_rates(0, drift_first=False)

    # --- the population
    def _take_from_pool(self, count: int) -> list[FlowSet]:
        """``count`` new flows: what is left of the pool, then fresh ones (in parts: a
        population places each part where it belongs, which spares joining them)."""
        # Flows are made in large batches: hashing and address drawing cost
        # mostly per call, not per flow.
        taken = []
        left = len(self._pool) - self._pool_next
        if left < count:
            if left:
                taken.append(self._pool.select(slice(self._pool_next, None)))
            self._pool = random_flows(self._flow_rng, max(4096, count), self._created + left,
                                      self._hasher, self.config.ipv6_fraction,
                                      self.config.udp_fraction)
            self._pool_next = 0
            self._created += left
            count -= left
        taken.append(self._pool.select(slice(self._pool_next, self._pool_next + count)))
        self._pool_next += count
        self._created += count
        return taken

    def _lifetimes(self, mean: float, shape: float, count: int, under_way: bool) -> np.ndarray:
        """Lifetimes (seconds) of ``count`` new flows, or the rest of the lives of flows
        already ``under_way`` when the traffic starts."""
        rng = self._flow_rng
        if math.isinf(mean):
            return np.full(count, math.inf)
        if shape == 1.0:
            # Memoryless: what is left of a life has the life's distribution.
            return rng.exponential(mean, count)
        scale = mean / math.gamma(1 + 1 / shape)
        if not under_way:
            return scale * rng.weibull(shape, count)
        # A flow seen under way is picked in proportion to its lifetime (a
        # length-biased Weibull: scale * Gamma(1 + 1/shape)^(1/shape)), and
        # is seen at a uniformly drawn point of it.
        lived = scale * rng.gamma(1 + 1 / shape, 1.0, count) ** (1 / shape)
        return lived * rng.random(count)

    def _weights(self, count: int) -> np.ndarray:
        """Rate weights of ``count`` new flows."""
        cfg, rng = self.config, self._flow_rng
        if cfg.rate_law == "lognormal":
            return np.minimum(rng.lognormal(0.0, cfg.lognormal_sigma, count), cfg.pareto_cap)
        return np.minimum(pareto_weights(rng, cfg.pareto_shape, count), cfg.pareto_cap)

    def _births(self, population: Population, born: np.ndarray, under_way: bool = False) -> None:
        """New flows born in the given epochs, with their lifetimes and weights."""
        count = len(born)
        if count == 0:
            return
        cfg, rng = self.config, self._flow_rng
        elephant = population is self._elephants
        if elephant:
            lives = self._lifetimes(cfg.elephant_lifetime, 1.0, count, under_way)
        else:
            lives = self._lifetimes(cfg.mean_lifetime, cfg.lifetime_shape, count, under_way)
        # Gone from the first epoch starting at or after its expiry; a flow
        # lives at least the epoch it is born in. Lives are all finite or
        # all endless (a mean of inf).
        if math.isinf(lives.item(0)):
            dies = np.full(count, NEVER, np.int64)
        else:
            expiry = born * cfg.epoch
            expiry += lives
            expiry /= cfg.epoch
            expiry -= 1e-9
            np.ceil(expiry, out=expiry)
            dies = np.maximum(expiry.astype(np.int64), born + 1)
        weight = self._weights(count)
        on = cfg.burst_on / (cfg.burst_on + cfg.burst_off)
        bursting = (rng.random(count) < on) if elephant else np.zeros(count, bool)
        population.add(self._take_from_pool(count), born, dies, weight, bursting)

    def _arrivals(self, first: int, count: int, per_second: float) -> np.ndarray:
        """Birth epochs of a Poisson arrival process over epochs first .. first+count-1."""
        if per_second == 0:
            return np.zeros(0, np.int64)
        per_epoch = self._flow_rng.poisson(per_second * self.config.epoch, count)
        if first == 0:
            per_epoch[0] = 0     # epoch 0 holds the initial population
        return np.repeat(np.arange(first, first + count), per_epoch)

    def _plan_block(self, first: int) -> None:
        """Draw the births and deaths of the block of epochs starting at ``first``,
        then the elephants' bursts and the load scales of every epoch in it."""
        cfg, count = self.config, self._block_epochs
        self._mice.release_dead(first)
        self._elephants.release_dead(first)
        self._births(self._mice, self._arrivals(first, count, cfg.flows / cfg.mean_lifetime))
        if cfg.elephants:
            self._births(self._elephants, self._arrivals(
                first, count, cfg.elephants / cfg.elephant_lifetime))
        for shift in self._shift_epochs(first, count):
            self._elephants.end_all(shift)
            self._births(self._elephants, np.full(cfg.elephants, shift, np.int64))
        self._block_first = first
        self._mice_rows = self._mice.weight_rows(first, count)
        self._mice_totals = self._mice_rows.sum(axis=1)
        epochs = np.arange(first, first + count)[:, None]
        herd = self._elephants
        self._herd_alive = herd.occupied & (herd.born <= epochs) & (herd.dies > epochs)
        self._plan_bursts(first)
        self._plan_scales()

    def _shift_epochs(self, first: int, count: int) -> list[int]:
        """The epochs of the block starting at ``first`` in which the elephants change."""
        shifts = set()
        if self._shift_epoch is not None and first <= self._shift_epoch < first + count:
            shifts.add(self._shift_epoch)
        every = self._shift_every
        if every is not None:
            shifts.update(range(-(-first // every) * every, first + count, every))
        return sorted(shift for shift in shifts if shift > 0)

    def _plan_bursts(self, first: int) -> None:
        """Each elephant slot's burst state in every epoch of the block.

        Every live elephant draws once per epoch, from epoch 1 on, in the
        order an epoch-by-epoch walk would draw: the draws of the block
        come in one call.
        """
        cfg, herd = self.config, self._elephants
        live = self._herd_alive.copy()
        if first == 0:
            live[0] = False     # epoch 0 is where the traffic starts: no change yet
        draws = self._flow_rng.random(int(np.count_nonzero(live)))
        self._bursts = burst_states(herd.bursting, live, draws,
                                    start=1.0 - math.exp(-cfg.epoch / cfg.burst_off),
                                    stop=1.0 - math.exp(-cfg.epoch / cfg.burst_on))

    def _plan_scales(self) -> None:
        """Packets/s per unit of weight, for mice and for elephants, in every epoch of the block,
        and the elephants' weights once their bursts are applied."""
        cfg, herd = self.config, self._elephants
        alive = self._herd_alive
        boost = np.where(self._bursts, cfg.burst_factor, cfg.calm_factor)
        self._herd_weights = np.where(alive, herd.weight * boost, 0.0)
        # The herd changes a few times per block: one sum per stretch where it holds
        # (summed as the live weights alone, the way a single epoch's are).
        elephant_weight = np.empty(len(alive))
        changes = np.flatnonzero((alive[1:] != alive[:-1]).any(axis=1)) + 1
        bounds = [0, *changes.tolist(), len(alive)]
        for begin, end in zip(bounds[:-1], bounds[1:]):
            elephant_weight[begin:end] = float(herd.weight[alive[begin]].sum())
        has_elephants = elephant_weight > 0
        mice_share = np.where(has_elephants, 1.0 - cfg.elephant_share, 1.0)
        self._mice_scale = cfg.rate_pps * mice_share / np.maximum(self._mice_totals, 1e-12)
        # Normalised by the mean burst multiplier: bursts add load on top.
        on = cfg.burst_on / (cfg.burst_on + cfg.burst_off)
        mean_multiplier = on * cfg.burst_factor + (1 - on) * cfg.calm_factor
        self._elephant_scale = np.zeros(len(alive))
        self._elephant_scale[has_elephants] = (cfg.rate_pps * cfg.elephant_share
                                               / (elephant_weight[has_elephants]
                                                  * mean_multiplier))
        profile, length = cfg.profile, cfg.epoch
        first = self._block_first
        self._levels = (np.ones(len(alive)) if profile is None else
                        np.array([profile.mean(e * length, (e + 1) * length)
                                  for e in range(first, first + len(alive))]))

    def _plan_rates(self, epoch: int, drift_first: bool) -> None:
        """Per-bucket rates (packets/s) from ``epoch`` to the end of its block.

        The flicker drifts once per epoch after ``epoch`` (and in ``epoch``
        too when ``drift_first``); the noise of those epochs is drawn in
        one call, and the generator's state before it is kept so that a
        resize can take back the draws of the epochs not yet reached.
        """
        cfg, size = self.config, self.reta_size
        row = epoch - self._block_first
        rows = self._block_epochs - row
        keep = math.exp(-cfg.epoch / cfg.flicker_time)
        drifts = rows if drift_first else rows - 1
        self._noise_mark = (self._flicker_rng.bit_generator.state, epoch + rows - drifts, size)
        noise = self._flicker_rng.normal(0.0, cfg.flicker * math.sqrt(1 - keep * keep),
                                         (drifts, size))
        flicker = np.empty((rows, size))
        still = rows - drifts
        flicker[:still] = self._flicker
        previous = self._flicker
        for index in range(still, rows):
            # One epoch of the log-rate factors' AR(1) drift (stationary variance flicker²),
            # written in place: the drift is a recursion, one row after the other.
            current = flicker[index]
            np.multiply(previous, keep, out=current)
            current += noise[index - still]
            previous = current
        herd = self._elephants
        rate = np.maximum(self._mice_rows[row:], 0.0) * self._mice_scale[row:, None]
        with_elephants = np.flatnonzero(self._elephant_scale[row:])
        if len(with_elephants):
            cells = (np.arange(rows)[:, None] * size + herd.bucket).ravel()
            elephants = np.bincount(cells, weights=self._herd_weights[row:].ravel(),
                                    minlength=rows * size).reshape(rows, size)
            rate[with_elephants] += (self._elephant_scale[row:][with_elephants, None]
                                     * elephants[with_elephants])
        # exp(N(0, s²)) has mean exp(s²/2): divided out to keep the mean load.
        self._factors = np.exp(flicker - cfg.flicker ** 2 / 2)
        self._rates = rate * self._factors
        if cfg.profile is not None:
            self._rates *= self._levels[row:, None]
        self._rates_first = epoch
        self._flicker_rows = flicker

    def _unplan_noise(self) -> None:
        """Rewind the flicker's generator to where an epoch-by-epoch walk would be now."""
        state, first, size = self._noise_mark
        self._flicker_rng.bit_generator.state = state
        drifted = self._epoch - first + 1
        if drifted > 0:
            self._flicker_rng.normal(0.0, 1.0, (drifted, size))

    @property
    def _bucket_rate(self) -> np.ndarray:
        return self._rates[self._epoch - self._rates_first]

    def _elephant_weights(self) -> np.ndarray:
        """Each elephant slot's weight this epoch: 0 when not alive, scaled by its burst state."""
        return self._herd_weights[self._epoch - self._block_first]

    def _advance_to_epoch(self, epoch: int) -> None:
        if epoch < self._epoch:
            raise ValueError(f"traffic time goes forward only (asked for epoch {epoch}, "
                             f"at {self._epoch})")
        herd = self._elephants
        while epoch >= self._block_first + self._block_epochs:
            # The next block starts from the states the last epoch of this one left.
            self._flicker = self._flicker_rows[-1]
            herd.bursting[:] = self._bursts[-1]
            self._epoch = self._block_first + self._block_epochs
            self._plan_block(self._epoch)
            self._plan_rates(self._epoch, drift_first=True)
        self._epoch = epoch

    def _segments(self, t: float, dt: float, count: int) -> Iterator[tuple[int, int]]:
        """Split ``count`` windows from ``t`` into runs within one epoch each."""
        epoch = self.config.epoch
        first = 0
        while first < count:
            index = _epoch_index(t + first * dt, epoch)
            end_time = (index + 1) * epoch
            last = min(count, max(first + 1, math.ceil((end_time - t) / dt - 1e-9)))
            self._advance_to_epoch(index)
            yield first, last
            first = last

    # --- the questions the NIC asks
    def set_reta_size(self, reta_size: int) -> None:
        """Count buckets modulo ``reta_size`` from now on."""
        self._counts.settle()
        self._unplan_noise()
        self.reta_size = reta_size
        self._flicker = self._flicker_rng.normal(0.0, self.config.flicker, reta_size)
        self._mice.set_reta_size(reta_size)
        self._elephants.set_reta_size(reta_size)
        self._mice_rows = self._mice.weight_rows(self._block_first, self._block_epochs)
        self._plan_rates(self._epoch, drift_first=False)

    def windows(self, t: float, dt: float, count: int) -> np.ndarray:
        """Packets per bucket for ``count`` windows of ``dt`` from ``t``: (count, reta)."""
        out = np.empty((count, self.reta_size), dtype=np.int64)
        self._counts.settle()
        for first, last in self._segments(t, dt, count):
            out[first:last] = self._count_rng.poisson(self._bucket_rate * dt,
                                                      (last - first, self.reta_size))
        return out

    def window(self, t: float, dt: float) -> np.ndarray:
        """Packets per bucket arriving in ``[t, t + dt)`` (int64, length reta_size)."""
        return self.windows(t, dt, 1)[0]

    def steered(self, t: float, dt: float, count: int, table: np.ndarray, cores: int,
                calm_below: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Arrivals of ``count`` windows through ``table``: per window and core, and per bucket.

        Returns ``(per_core, per_bucket)``: int64 arrays of shape
        (count, cores) and (reta_size,). Same distribution as summing
        ``windows`` through the table, drawn per epoch instead of per
        window and bucket, which is what makes long runs fast. Given its
        total, a Poisson process spreads uniformly over the windows: each
        core's packets are spread at random, except, with ``calm_below``
        (per core, packets per window), those of a core whose mean window
        is five standard deviations below it, which get an even spread: no
        spread of theirs could queue a packet, and the draws are spared.
        The spreads come from a stream of their own, so the counts per
        bucket do not depend on the table.
        """
        per_core = per_bucket = None
        for first, last in self._segments(t, dt, count):
            steps = last - first
            totals = self._counts.counts(self._epoch, dt * steps, self._rates,
                                         self._epoch - self._rates_first)
            core_totals = np.bincount(table, weights=totals, minlength=cores).astype(np.int64)
            spread = self._spread(core_totals, steps, calm_below)
            if last == count and per_core is None:
                # The usual call lies within one epoch: its arrays are the answer.
                return spread, totals
            if per_core is None:
                per_core = np.empty((count, cores), dtype=np.int64)
                per_bucket = totals
            else:
                per_bucket = per_bucket + totals
            per_core[first:last] = spread
        if per_core is None:
            return np.empty((0, cores), dtype=np.int64), np.zeros(self.reta_size, dtype=np.int64)
        return per_core, per_bucket

    def _spread(self, totals: np.ndarray, steps: int,
                calm_below: np.ndarray | None) -> np.ndarray:
        """Each core's ``totals`` spread over ``steps`` windows: (steps, cores)."""
        if steps == 1:
            return totals[None, :]
        split, offsets = self._even_split(steps)
        if calm_below is None:
            return self._spread_rng.multinomial(totals, split).T
        # (n + i) // k for i = 0 .. k-1 are k near-equal parts of n that add up to n.
        spread = (totals + offsets) // steps
        # Most ticks, not even the busiest core comes near the calmest hint: no draw
        # (in Python numbers: on a few cores, numpy's reductions cost more).
        busiest = max(totals.tolist()) / steps
        if busiest + 5 * math.sqrt(busiest) < min(calm_below.tolist()):
            return spread
        mean = totals / steps
        drawn = mean + 5 * np.sqrt(mean) >= calm_below
        if drawn.any():
            spread[:, drawn] = self._spread_rng.multinomial(totals[drawn], split).T
        return spread

    def _even_split(self, steps: int) -> tuple[np.ndarray, np.ndarray]:
        """Equal probabilities over ``steps`` steps, and the column 0 .. steps-1 (the same
        few step counts come back every tick)."""
        split = self._splits.get(steps)
        if split is None:
            split = self._splits[steps] = (np.full(steps, 1.0 / steps),
                                           np.arange(steps)[:, None])
        return split

    def packets(self, t: float, dt: float) -> list[Packet]:
        """The packets arriving in ``[t, t + dt)``, in arrival order.

        Each carries a minimal Ethernet frame, its 5-tuple in ``flow``, its
        RSS hash and its timestamp.
        """
        rng = self._packet_rng
        described, stamps = [], []
        start, epoch = t, self.config.epoch
        while start < t + dt - 1e-12:
            self._advance_to_epoch(_epoch_index(start, epoch))
            stop = min(t + dt, (self._epoch + 1) * epoch)
            row = self._epoch - self._block_first
            mice_scale, elephant_scale = self._mice_scale[row], self._elephant_scale[row]
            factors = self._factors[self._epoch - self._rates_first] * self._levels[row]
            for population, rate in ((self._mice, mice_scale * self._mice.weight),
                                     (self._elephants, elephant_scale * self._elephant_weights())):
                alive = population.alive_at(self._epoch)
                rate = np.where(alive, rate * factors[population.bucket], 0.0)
                counts = rng.poisson(rate * (stop - start))
                slots = np.repeat(np.arange(len(counts)), counts)
                described.extend(self._describe(population, slots))
                stamps.append(start + rng.random(len(slots)) * (stop - start))
            start = stop
        if not described:
            return []
        times = np.concatenate(stamps)
        order = np.argsort(times, kind="stable")
        return [Packet(data=described[i][1], timestamp=float(times[i]),
                       rss_hash=described[i][3], flow=described[i][2]) for i in order]

    def _describe(self, population: Population,
                  slots: np.ndarray) -> list[tuple[int, bytes, tuple, int]]:
        """(ident, frame, 5-tuple, hash) of each slot, built once per flow."""
        elephant = population is self._elephants
        flows = population.flows
        out = []
        for slot in slots.tolist():
            ident = int(flows.ident[slot])
            cached = self._frames.get((elephant, slot))
            if cached is None or cached[0] != ident:
                cached = (ident, flows.frame(slot), flows.flow_tuple(slot),
                          int(flows.rss_hash[slot]))
                self._frames[(elephant, slot)] = cached
            out.append(cached)
        return out

    # --- introspection
    def offered_rate(self, start: float, stop: float) -> float:
        """The mean offered rate (packets/s) over ``[start, stop)``, as the profile sets it."""
        profile = self.config.profile
        return self.config.rate_pps * (1.0 if profile is None else profile.mean(start, stop))

    @property
    def flow_count(self) -> int:
        """Flows alive in the current epoch."""
        return int(self._mice.alive_at(self._epoch).sum()
                   + self._elephants.alive_at(self._epoch).sum())

    def bucket_rates(self) -> np.ndarray:
        """Expected packets/s of each bucket in the current epoch."""
        return self._bucket_rate.copy()

    def flow_ids(self, elephants: bool = False) -> np.ndarray:
        """Identifiers of the live mice (or elephants); a new flow gets a new one."""
        population = self._elephants if elephants else self._mice
        return population.flows.ident[population.alive_at(self._epoch)].copy()

    def flow_weights(self) -> np.ndarray:
        """Rate weights of the live mice (relative rates, Pareto distributed)."""
        return self._mice.weight[self._mice.alive_at(self._epoch)].copy()

    @property
    def bursting(self) -> int:
        """Elephants bursting in the current epoch."""
        herd = self._elephants
        # The herd's own burst states are brought up to date at block ends only.
        return int((self._bursts[self._epoch - self._block_first]
                    & herd.alive_at(self._epoch)).sum())
