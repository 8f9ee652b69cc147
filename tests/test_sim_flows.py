"""Generated flows: their RSS hashes, addresses and ports."""

import ipaddress

import numpy as np
import pytest

from pyclick.rss.toeplitz import MICROSOFT_KEY, toeplitz_hash, tuple_bytes
from pyclick.sim.flows import TupleHasher, random_flows, weighted_choice


@pytest.fixture(scope="module")
def flows():
    return random_flows(np.random.default_rng(7), 3000, 100, TupleHasher(MICROSOFT_KEY), 0.3, 0.2)


def test_hashes_are_the_toeplitz_hashes_of_the_flows_tuples(flows):
    # Both families, checked against the bit-by-bit definition of the hash.
    assert 500 < flows.ipv6.sum() < 1300
    for i in range(len(flows)):
        src, dst, sport, dport, _ = flows.flow_tuple(i)
        assert int(flows.rss_hash[i]) == toeplitz_hash(MICROSOFT_KEY,
                                                       tuple_bytes(src, dst, sport, dport))


def test_addresses_come_from_the_client_and_server_prefixes(flows):
    nets = {False: (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("198.18.0.0/16")),
            True: (ipaddress.ip_network("2001:db8:1::/48"),
                   ipaddress.ip_network("2001:db8:2::/48"))}
    for i in range(len(flows)):
        src, dst, _, _, _ = flows.flow_tuple(i)
        clients, servers = nets[bool(flows.ipv6[i])]
        assert ipaddress.ip_address(src) in clients and ipaddress.ip_address(dst) in servers
    # An IPv6 server differs from the prefix in its last two bytes only.
    v6 = int(np.flatnonzero(flows.ipv6)[0])
    assert bytes(flows.dst[v6, 6:14]) == bytes(8)
    assert list(flows.ident[:3]) == [100, 101, 102]


def test_a_long_key_hashes_the_flows_tuples_at_their_offsets():
    # A 52-byte key hashes 48 input bytes: the 36 of an IPv6 4-tuple come first.
    key = MICROSOFT_KEY + bytes(range(1, 13))
    flows = random_flows(np.random.default_rng(5), 200, 0, TupleHasher(key), 0.5, 0.2)
    assert 0 < flows.ipv6.sum() < 200
    for i in range(len(flows)):
        src, dst, sport, dport, _ = flows.flow_tuple(i)
        assert int(flows.rss_hash[i]) == toeplitz_hash(key, tuple_bytes(src, dst, sport, dport))


def test_a_short_key_cannot_hash_ipv6_flows():
    # 20 bytes hash 16 input bytes: an IPv4 4-tuple (12), not an IPv6 one (36).
    hasher = TupleHasher(MICROSOFT_KEY[:20])
    assert len(random_flows(np.random.default_rng(1), 50, 0, hasher, 0.0, 0.2)) == 50
    with pytest.raises(ValueError):
        random_flows(np.random.default_rng(1), 50, 0, hasher, 1.0, 0.2)


def test_weighted_choice_draws_what_numpy_choice_draws():
    items = np.array([7, 8, 9, 10])
    weights = (0.5, 0.25, 0.125, 0.125)
    ours, numpys = np.random.default_rng(3), np.random.default_rng(3)
    picked = weighted_choice(ours, items, weights, 10_000)
    assert np.array_equal(picked, numpys.choice(items, 10_000, p=weights))
    # The generators are left in the same state.
    assert ours.random() == numpys.random()
    counts = np.bincount(picked - 7, minlength=4) / 10_000
    assert counts == pytest.approx([0.5, 0.25, 0.125, 0.125], abs=0.02)


class Draws:
    """Uniform draws given in advance."""

    def __init__(self, values):
        self.values = np.array(values)

    def random(self, count):
        assert count == len(self.values)
        return self.values


def test_an_edge_between_weights_belongs_to_the_next_item():
    # Cumulative weights 0.5, 0.75, 0.875, 1: a draw of exactly 0.5 is past the first item.
    picked = weighted_choice(Draws([0.0, 0.4999, 0.5, 0.75, 0.99]), np.array([7, 8, 9, 10]),
                              (0.5, 0.25, 0.125, 0.125), 5)
    assert picked.tolist() == [7, 7, 8, 9, 10]
