"""Latency and drops of the simulated NIC, worked out by hand on small cases.

A core of 10,000 packets/s serves one packet every 100 µs, ten per 1 ms
step. Its queue holds 50 packets: a packet waits at most 50 services,
5,000 µs, and leaves at most 5,100 µs after it arrived.
"""

import numpy as np
import pytest

from pyclick.rss.toeplitz import MICROSOFT_KEY
from pyclick.sim import queueing
from pyclick.sim.histogram import LogHistogram, log_edges, quantiles
from pyclick.sim.nic import SimulatedNIC
from pyclick.sim.stats import DELAY_EDGES_US

CAPACITY = 10_000.0
SERVICE_US = 100.0
QUEUE = 50


class NoTraffic:
    """The arrivals are given step by step (SimulatedNIC.receive)."""

    def set_reta_size(self, reta_size: int) -> None:
        self.reta_size = reta_size


def nic_of(table=(0, 1, 0, 1)) -> SimulatedNIC:
    nic = SimulatedNIC(2, len(table), NoTraffic(), CAPACITY, QUEUE, MICROSOFT_KEY)
    nic.write_table(np.array(table))
    return nic


def feed(nic: SimulatedNIC, per_step, steps: int) -> None:
    """``per_step`` packets in each bucket, in each of ``steps`` steps."""
    for _ in range(steps):
        nic.receive(np.array(per_step))


def latency(nic: SimulatedNIC) -> tuple[float, float, float]:
    return tuple(quantiles(*nic.latency_histogram(), (0.5, 0.95, 0.99)))


def admitted(nic: SimulatedNIC) -> float:
    return float(nic.latency_histogram()[1].sum())


def test_below_capacity_a_packet_waits_for_its_service_only():
    nic = nic_of()
    feed(nic, [5, 0, 0, 0], 200)            # 5 packets a step on core 0, which serves 10
    for value in latency(nic):
        assert value == pytest.approx(SERVICE_US, rel=0.01)
    assert admitted(nic) == pytest.approx(1000)
    assert nic.dropped_total.tolist() == [0, 0]


def test_above_capacity_the_delay_grows_with_the_queue_up_to_its_length():
    nic = nic_of()
    # 20 packets a step: the queue grows by 10 a step, so in step k the
    # arrivals find 10k to 10k + 10 packets ahead, evenly.
    feed(nic, [20, 0, 0, 0], 2)
    # 40 packets, delays evenly from 100 µs (nothing ahead) to 2,100 µs (20 ahead).
    assert latency(nic)[0] == pytest.approx(1100, rel=0.01)
    feed(nic, [20, 0, 0, 0], 2)
    assert latency(nic)[0] == pytest.approx(2100, rel=0.01)
    assert nic.dropped_total.sum() == 0 and nic.queued[0] == 40
    # From step 5 on the queue is full: of 20 arrivals, 10 get in (as 10
    # leave) and wait the whole queue, 5,100 µs; 10 are dropped.
    feed(nic, [20, 0, 0, 0], 6)
    assert nic.dropped_total.tolist() == [50, 0]
    assert nic.queued[0] == QUEUE
    assert admitted(nic) == pytest.approx(150)
    # 100 packets spread evenly over 100-5,100 µs, then 50 at 5,100 µs:
    # the 75th of the 150 is three quarters into the spread.
    p50, p95, p99 = latency(nic)
    assert p50 == pytest.approx(3850, rel=0.01)
    assert p95 == pytest.approx(5100, rel=0.01) and p99 == pytest.approx(5100, rel=0.01)
    bound = (QUEUE + 1) * SERVICE_US
    assert p99 <= bound * 1.01


def test_a_burst_drains_at_the_core_rate():
    nic = nic_of()
    feed(nic, [30, 0, 0, 0], 1)   # 30 arrive, 10 served: 0 to 20 ahead, evenly
    feed(nic, [0, 0, 0, 0], 3)    # the 20 left are served in two steps
    assert nic.queued[0] == 0 and nic.processed_total[0] == 30
    assert latency(nic)[0] == pytest.approx(1100, rel=0.01)
    assert admitted(nic) == pytest.approx(30)


def test_drops_are_counted_exactly_and_delays_only_for_admitted_packets():
    nic = nic_of()
    feed(nic, [100, 0, 0, 0], 1)  # 100 arrive, 10 served, 50 kept, 40 dropped
    assert (nic.processed_total[0], nic.dropped_total[0], nic.queued[0]) == (10, 40, 50)
    # The queue fills (50 ahead) after 50 / 0.9 = 55.6 of the 100 arrivals;
    # of the 44.4 after them, 4.4 get in as packets leave: 60 have a delay.
    assert admitted(nic) == pytest.approx(60)
    assert nic.packets_dropped() == 40


def test_a_skewed_table_is_compared_with_a_static_one_on_the_same_arrivals():
    # Buckets 0 and 1 carry 8 packets a step each. The run's table sends
    # both to core 0 (16 a step for a capacity of 10); a static table over
    # the two cores it names sends one to each (8 a step, no wait).
    nic = nic_of(table=(0, 0, 1, 1))
    feed(nic, [8, 8, 0, 0], 1000)
    stats = nic.stats
    assert stats.seconds == 1
    assert stats.static_latency.quantiles((0.99,))[0] == pytest.approx(SERVICE_US, rel=0.01)
    assert stats.latency.quantiles((0.5,))[0] > 40 * SERVICE_US
    # Core 0 gains 6 packets a step: full after 9 steps, then drops 6 a step.
    assert nic.dropped_total[0] == 16 * 1000 - 10 * 1000 - QUEUE
    assert stats.static_dropped_sum == 0
    assert stats.latency_per_second().shape == (1, 3)
    p50, _, p99 = stats.latency_per_second()[0]
    assert p99 == pytest.approx((QUEUE + 1) * SERVICE_US, rel=0.01) and p50 > SERVICE_US
    assert "latency p50 " in stats.summary()


def test_batched_delays_match_step_by_step_ones():
    rng = np.random.default_rng(5)
    arrivals = rng.integers(0, 25, size=(40, 3))
    budget = np.full((40, 3), 10)
    queue, dropped = queueing.bounded(np.zeros(3, np.int64), arrivals, budget, QUEUE)
    expected_queue, expected_dropped = [], []
    q = np.zeros(3, np.int64)
    for a, b in zip(arrivals, budget):
        q = q + a - np.minimum(q + a, b)
        over = np.maximum(q - QUEUE, 0)
        q = q - over
        expected_queue.append(q)
        expected_dropped.append(over)
    assert np.array_equal(queue, expected_queue)
    assert np.array_equal(dropped, expected_dropped)
    together = LogHistogram(DELAY_EDGES_US)
    start = np.vstack([np.zeros((1, 3), np.int64), queue[:-1]])
    queueing.add_delays(together, start, arrivals, budget, QUEUE, np.full(3, SERVICE_US))
    apart = LogHistogram(DELAY_EDGES_US)
    for k in range(40):
        queueing.add_delays(apart, start[k:k + 1], arrivals[k:k + 1], budget[k:k + 1], QUEUE,
                            np.full(3, SERVICE_US))
    assert np.allclose(together.counts, apart.counts)
    assert together.total == pytest.approx(arrivals.sum() - dropped.sum())


def test_histogram_quantiles_of_an_even_spread():
    histogram = LogHistogram(log_edges(1.0, 1e4, 1.05))
    histogram.add_spread(np.array([100.0]), np.array([300.0]), np.array([50.0]))
    histogram.add_points(np.array([1000.0]), np.array([50.0]))
    assert histogram.total == pytest.approx(100)
    # Half the mass is spread evenly over 100-300: its middle is the 25th percentile.
    assert histogram.quantiles((0.25,))[0] == pytest.approx(200)
    assert histogram.quantiles((0.9,))[0] == pytest.approx(1000, rel=0.05)
    assert np.isnan(LogHistogram(log_edges(1.0, 10.0, 2.0)).quantiles((0.5,))[0])


def test_long_stretches_are_scanned_to_the_same_queues_as_short_ones_walked():
    # 1,200 cells are scanned in whole-array passes, each 40-step piece (120 cells) walked.
    rng = np.random.default_rng(6)
    arrivals = rng.integers(0, 25, size=(400, 3))
    budget = rng.integers(5, 15, size=(400, 3))
    queue, dropped = queueing.bounded(np.full(3, 7, np.int64), arrivals, budget, QUEUE)
    pieces, lost, start = [], [], np.full(3, 7, np.int64)
    for first in range(0, 400, 40):
        piece, piece_lost = queueing.bounded(start, arrivals[first:first + 40],
                                             budget[first:first + 40], QUEUE)
        pieces.append(piece)
        lost.append(piece_lost)
        start = piece[-1]
    assert np.array_equal(queue, np.vstack(pieces))
    assert np.array_equal(dropped, np.vstack(lost))
    assert (queue <= QUEUE).all() and dropped.sum() > 0
