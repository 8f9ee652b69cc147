"""RandomSeed: one seed makes every random draw of a router repeat."""

from __future__ import annotations

import pytest

from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.router import Router
from pyclick.runtime.handlers import HandlerError
from tests.sinks import KeepingTestSink

SINK = KeepingTestSink.__name__

#: Random bytes, bit errors, sampling, random addresses and a random switch;
#: named, as a generator follows its element's name.
CHAIN = f"""
src :: RandomSource(16, LIMIT 40, STOP true)
  -> be :: RandomBitErrors(0.05)
  -> rs :: RandomSample(0.5)
  -> ip :: SetRandIPAddress(10.0.0.0/8)
  -> sw :: RandomSwitch;
sw[0] -> k0 :: {SINK};
sw[1] -> k1 :: {SINK};
"""


def router_of(config: str) -> Router:
    router = Router(flatten(config, filename="t.click"), simtime=True)
    router.configure()
    return router


def outcome(config: str) -> tuple[list[tuple[bytes, bytes]], list[tuple[bytes, bytes]], str]:
    """The packets each sink got (bytes, destination annotation) and rs's drops."""
    router = router_of(config)
    router.run(handle_signals=False)
    kept = [[(p.data, p.dst_ip) for p in router.element(k).packets] for k in ("k0", "k1")]
    return kept[0], kept[1], router.handlers.read("rs.drops")


def test_same_seed_same_packets_and_handlers() -> None:
    first = outcome("RandomSeed(42);" + CHAIN)
    assert first == outcome("RandomSeed(42);" + CHAIN)
    k0, k1, drops = first
    # Every packet is kept or dropped by the sample, once.
    assert len(k0) + len(k1) + int(drops) == 40
    assert all(len(data) == 16 and dst[0] == 10 for data, dst in k0 + k1)


def test_keyword_seed_is_the_positional_one() -> None:
    assert outcome("RandomSeed(SEED 42);" + CHAIN) == outcome("RandomSeed(42);" + CHAIN)


def test_different_seeds_differ() -> None:
    assert outcome("RandomSeed(1);" + CHAIN) != outcome("RandomSeed(2);" + CHAIN)


def test_without_seed_runs_differ() -> None:
    assert outcome(CHAIN) != outcome(CHAIN)


def test_fresh_seed_without_argument() -> None:
    assert outcome("RandomSeed();" + CHAIN) != outcome("RandomSeed();" + CHAIN)


def test_declared_last_still_seeds_everything() -> None:
    # RandomSeed configures before every other element whatever its place.
    assert outcome(CHAIN + "RandomSeed(7);") == outcome("RandomSeed(7);" + CHAIN)


def test_one_element_draws_do_not_depend_on_another() -> None:
    alone = f"RandomSeed(3); src :: RandomSource(8, LIMIT 5, STOP true) -> k :: {SINK};"
    beside = alone + f"other :: RandomSource(8, LIMIT 50) -> RandomBitErrors(0.5) -> {SINK};"

    def packets(config: str) -> list[bytes]:
        router = router_of(config)
        router.run(handle_signals=False)
        return [p.data for p in router.element("k").packets]

    assert packets(alone) == packets(beside)


def udp_source(name: str, last_byte: int) -> str:
    """A source of one UDP packet 10.0.0.LAST:1024 -> 1.0.0.2:20, marked as IP."""
    return (f"{name} :: InfiniteSource(LIMIT 1, STOP true, DATA \\<45000024 00000000 4011 0000"
            f" 0a0000{last_byte:02x} 01000002 0400 0014 0010 0000 0000000000000000>)"
            f" -> MarkIPHeader -> rw;")


def rewritten_ports(seed: int) -> list[int]:
    """The source ports UDPRewriter picks for three flows, at random ('?')."""
    sources = "\n".join(udp_source(f"s{i}", i) for i in (1, 2, 3))
    router = router_of(f"""RandomSeed({seed});
    rw :: UDPRewriter(pattern 1.0.0.2 1024-65534? - - 0 0);
    {sources}
    rw -> k :: {SINK};""")
    router.run(handle_signals=False)
    return [int.from_bytes(p.data[20:22], "big") for p in router.element("k").packets]


def test_rewriter_random_ports_repeat() -> None:
    ports = rewritten_ports(11)
    assert len(ports) == 3 and all(1024 <= port <= 65534 for port in ports)
    assert rewritten_ports(11) == ports
    assert rewritten_ports(12) != ports


def test_seed_handler_reseeds_and_rewrites_config() -> None:
    router = router_of("r :: RandomSeed(5); src :: RandomSource(4, LIMIT 1) -> Discard;")
    generator = router.random_source(router.element("src"))
    at_five = [generator.random() for _ in range(3)]
    assert router.handlers.read("r.seed") == "5"
    router.handlers.write("r.seed", "9")
    assert router.handlers.read("r.seed") == "9"
    assert router.handlers.read("r.config") == "9"
    assert [generator.random() for _ in range(3)] != at_five
    router.handlers.write("r.seed", "5")
    assert [generator.random() for _ in range(3)] == at_five
    router.handlers.write("r.seed", "")
    assert router.handlers.read("r.seed") == ""
    assert router.handlers.read("r.config") == ""
    assert [generator.random() for _ in range(3)] != at_five


def test_seed_handler_rejects_bad_values() -> None:
    router = router_of("r :: RandomSeed(5);")
    for bad in ("x", "-1", "4294967296"):
        with pytest.raises(HandlerError):
            router.handlers.write("r.seed", bad)
    assert router.handlers.read("r.seed") == "5"
    assert router.handlers.read("r.config") == "5"


def test_empty_seed_after_the_keyword_is_refused() -> None:
    # Dropping the value leaves "SEED " in the configuration, which is refused.
    router = router_of("r :: RandomSeed(SEED 5);")
    router.handlers.write("r.seed", "8")
    assert router.handlers.read("r.config") == "SEED 8"
    with pytest.raises(HandlerError, match="SEED: expected unsigned integer"):
        router.handlers.write("r.seed", "")
    assert router.handlers.read("r.config") == "SEED 8"
    assert router.handlers.read("r.seed") == "8"


def test_config_handler_reseeds() -> None:
    router = router_of("r :: RandomSeed(5); src :: RandomSource(4, LIMIT 1) -> Discard;")
    generator = router.random_source(router.element("src"))
    at_five = generator.random()
    router.handlers.write("r.config", "SEED 5")
    assert router.handlers.read("r.seed") == "5"
    assert generator.random() == at_five


def test_largest_seed() -> None:
    assert outcome("RandomSeed(4294967295);" + CHAIN) == outcome("RandomSeed(4294967295);" + CHAIN)


@pytest.mark.parametrize("config, message", [
    ("-1", "SEED: expected unsigned integer, got '-1'"),
    ("x", "SEED: expected unsigned integer, got 'x'"),
    ("4294967296", "SEED: must be at least 0 and at most 4294967295"),
    ("1, 2", "too many arguments"),
    ("FOO 1", "FOO: unknown keyword"),
])
def test_bad_arguments(config: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        router_of(f"r :: RandomSeed({config});")
    assert "t.click:1: While configuring 'r :: RandomSeed'" in str(err.value)
    assert message in str(err.value)


def test_bad_config_write_keeps_the_generators() -> None:
    router = router_of("r :: RandomSeed(5); src :: RandomSource(4, LIMIT 1) -> Discard;")
    generator = router.random_source(router.element("src"))
    first, second = generator.random(), generator.random()
    router.handlers.write("r.seed", "5")
    assert generator.random() == first
    with pytest.raises(HandlerError):
        router.handlers.write("r.config", "SEED x")
    assert router.handlers.read("r.config") == "5"
    assert generator.random() == second
