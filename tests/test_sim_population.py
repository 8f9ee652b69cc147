"""Flow populations of the traffic model: per-bucket weights over a block of epochs,
and the Pareto weights of new flows."""

import numpy as np

from pyclick.sim.flows import FlowSet
from pyclick.sim.population import Population
from pyclick.sim.traffic import NEVER, pareto_weights


def flows_in_buckets(buckets):
    """Flows whose hashes fall in ``buckets`` (a table of 4): only their hashes matter here."""
    count = len(buckets)
    flows = FlowSet.empty().resized(count)
    flows.ident[:] = np.arange(count)
    flows.rss_hash[:] = np.array(buckets, np.uint32) + 4 * np.arange(count, dtype=np.uint32)
    return flows


def test_weight_rows_sum_the_live_flows_of_each_epoch_per_bucket():
    population = Population(8, 4)
    population.add([flows_in_buckets([1, 1, 0, 2, 3, 3])],
                   born=np.array([0, 3, 0, 4, 0, 5]),
                   dies=np.array([5, 4, 3, NEVER, 2, 9]),
                   weight=np.array([1.0, 2.0, 0.5, 4.0, 8.0, 16.0]),
                   bursting=np.zeros(6, bool))
    # Epochs 2, 3 and 4: the first flow lives through them, the second lives
    # in epoch 3 only, the third dies at epoch 3, the fourth is born at 4;
    # the fifth died before and the sixth is born after.
    assert population.weight_rows(2, 3).tolist() == [[0.5, 1.0, 0.0, 0.0],
                                                     [0.0, 3.0, 0.0, 0.0],
                                                     [0.0, 1.0, 4.0, 0.0]]


def test_weight_rows_after_slots_are_reused():
    population = Population(2, 4)
    population.add([flows_in_buckets([0, 1])], born=np.array([0, 0]), dies=np.array([2, NEVER]),
                   weight=np.array([1.0, 2.0]), bursting=np.zeros(2, bool))
    population.release_dead(2)
    # The dead flow's slot takes a newcomer; a third flow makes the population grow.
    population.add([flows_in_buckets([3, 3])], born=np.array([2, 3]), dies=np.array([4, 5]),
                   weight=np.array([4.0, 8.0]), bursting=np.zeros(2, bool))
    assert population.weight_rows(2, 3).tolist() == [[0.0, 2.0, 0.0, 4.0],
                                                     [0.0, 2.0, 0.0, 12.0],
                                                     [0.0, 2.0, 0.0, 8.0]]


def test_pareto_weights_are_numpys_pareto_draws_plus_one():
    ours = pareto_weights(np.random.default_rng(3), 1.3, 5000)
    numpys = np.random.default_rng(3).pareto(1.3, 5000) + 1.0
    # The same exponential draws; the array expm1 may round the last bit apart.
    assert np.allclose(ours, numpys, rtol=1e-14, atol=0.0)
    assert ours.min() >= 1.0
