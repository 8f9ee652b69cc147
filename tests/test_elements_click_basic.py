"""Transfer, modification, paint and classification elements, from their Click
manuals: Tee, Null, Idle, Strip, Unstrip, Paint, CheckPaint, PaintSwitch, Switch,
StaticSwitch, RoundRobinSwitch, RandomSwitch, HashSwitch, RandomSample, EtherMirror, Truncate,
SetTimestamp."""

from __future__ import annotations

import pytest

from pyclick.element import AGNOSTIC, Element
from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.packet import Packet
from pyclick.router import Router


class BasicKeep(Element):
    """BasicKeep() -- keeps every packet pushed to it, in order"""

    port_count = "1/0"

    def configure(self, args) -> None:
        args.complete()
        self.packets: list[Packet] = []

    def push(self, port: int, batch: list[Packet]) -> None:
        self.packets += batch


class BasicPaintAt(Element):
    """BasicPaintAt() -- paints packet k (from 0) with color k"""

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args) -> None:
        args.complete()
        self.seen = 0

    def simple_action(self, packet: Packet) -> Packet:
        packet.paint = self.seen
        self.seen += 1
        return packet


def router_of(config: str) -> Router:
    router = Router(flatten(config, filename="b.click"), simtime=True)
    router.configure()
    return router


def run(config: str, *handlers: str) -> list[str]:
    router = router_of(config)
    values: list[str] = []
    router.run(handle_signals=False,
               before_cleanup=lambda: values.extend(router.handlers.read(h) for h in handlers))
    return values


def kept(config: str, name: str = "k") -> list[Packet]:
    router = router_of(config)
    router.run(handle_signals=False)
    return router.element(name).packets


# --- Tee, Null, Idle

def test_tee_sends_a_copy_out_of_every_output():
    assert run("InfiniteSource(LIMIT 10) -> t :: Tee(3); t[0] -> a :: Counter -> Discard;"
               "t[1] -> b :: Counter -> Discard; t[2] -> c :: Counter -> Discard",
               "a.count", "b.count", "c.count") == ["10", "10", "10"]


def test_tee_has_as_many_outputs_as_the_configuration_uses():
    # As Click's: N is bounded only by the outputs used, thousands of them too.
    arms = "".join(f"t[{i}] -> Discard; " for i in range(1, 1500))
    assert run("InfiniteSource(LIMIT 2) -> t :: Tee(1500); t[0] -> a :: Counter -> Discard; "
               + arms, "a.count") == ["2"]
    with pytest.raises(ConfigError, match="N: 1500 outputs implies 1500 arms"):
        router_of(f"Idle -> t :: Tee(1499); t[0] -> Discard; {arms}")


def test_tee_copies_are_independent_once_written():
    router = router_of('InfiniteSource("ab", LIMIT 1) -> t :: Tee; t[0] -> Strip(1) -> k0 :: '
                       "BasicKeep; t[1] -> k1 :: BasicKeep")
    router.run(handle_signals=False)
    assert router.element("k0").packets[0].data == b"b"
    assert router.element("k1").packets[0].data == b"ab"


def test_null_passes_push_and_pull():
    assert run("InfiniteSource(LIMIT 4) -> Null -> a :: Counter -> Queue -> Null "
               "-> Unqueue -> b :: Counter -> Discard", "a.count", "b.count") == ["4", "4"]


def test_idle_pulled_gives_nothing_and_a_puller_sleeps():
    assert run("Idle -> u :: Unqueue -> c :: Counter -> Discard", "c.count") == ["0"]


def test_push_null_and_pull_null_force_processing():
    with pytest.raises(ConfigError, match="pull output 0 connected to 'PushNull@3 :: PushNull'"):
        router_of("Idle -> Queue -> PushNull -> Discard")
    assert run("InfiniteSource(LIMIT 2) -> Queue -> PullNull -> Unqueue -> c :: Counter "
               "-> Discard", "c.count") == ["2"]


# --- Strip and Unstrip

def test_strip_and_unstrip_restore_the_header():
    packets = kept(r'InfiniteSource("\<0102030405>x", LIMIT 2) -> Strip(2) -> k :: BasicKeep')
    assert [p.data for p in packets] == [b"\3\4\5x"] * 2
    packets = kept(r'InfiniteSource("\<0102030405>x", LIMIT 1) -> Strip(4) -> Unstrip(3) '
                   "-> k :: BasicKeep")
    assert packets[0].data == b"\2\3\4\5x"


def test_strip_more_than_the_packet_leaves_it_empty():
    assert [p.data for p in kept('InfiniteSource("abc", LIMIT 1) -> Strip(10) '
                                 "-> k :: BasicKeep")] == [b""]


def test_unstrip_without_headroom_adds_zeros():
    assert kept('InfiniteSource("ab", LIMIT 1) -> Unstrip(2) -> k :: BasicKeep')[0].data == \
        b"\0\0ab"


def test_strip_counts_bytes_after_stripping():
    assert run("InfiniteSource(LENGTH 60, LIMIT 3) -> Strip(14) -> c :: Counter -> Discard",
               "c.byte_count") == [str(3 * 46)]


# --- CheckLength and StoreData

def test_checklength_passes_up_to_max_and_sends_longer_packets_out_of_output_1():
    # LENGTH 5, 6 and 7: MAX 6 passes two, the 7-byte one leaves by output 1.
    config = ("a :: InfiniteSource(LENGTH 5, LIMIT 1) -> c :: CheckLength(6) -> ok :: Counter "
              "-> Discard; b :: InfiniteSource(LENGTH 6, LIMIT 1) -> c;"
              "d :: InfiniteSource(LENGTH 7, LIMIT 1) -> c; c[1] -> long :: Counter -> Discard")
    assert run(config, "ok.count", "long.count") == ["2", "1"]
    # Without output 1 the longer packets are dropped; in pull context too.
    assert run("InfiniteSource(LENGTH 7, LIMIT 3) -> Queue -> CheckLength(6) -> Unqueue -> "
               "c :: Counter -> Discard", "c.count") == ["0"]
    with pytest.raises(ConfigError, match="LENGTH: missing mandatory argument"):
        router_of("Idle -> CheckLength -> Discard")
    # LENGTH is the argument's name, as in Click.
    assert run("InfiniteSource(LENGTH 7, LIMIT 3) -> c :: CheckLength(LENGTH 7) -> n :: Counter "
               "-> Discard", "n.count", "c.length") == ["3", "7"]


def test_checklength_length_handler():
    router = router_of("InfiniteSource(LENGTH 7, LIMIT 2, ACTIVE false) -> c :: CheckLength(6)"
                       " -> ok :: Counter -> Discard; c[1] -> long :: Counter -> Discard")
    assert router.handlers.read("c.length") == "6"
    router.handlers.write("c.length", "7")
    assert router.handlers.read("c.length") == "7"
    router.handlers.write("c.length", "6")
    router.element("c").push(0, [Packet(bytes(7)), Packet(bytes(6))])
    assert (router.handlers.read("ok.count"), router.handlers.read("long.count")) == ("1", "1")


def test_storedata_writes_what_fits():
    packets = kept(r"InfiniteSource(\<00010203>, LIMIT 2) -> StoreData(2, \<ffeedd>)"
                   " -> k :: BasicKeep")
    assert [p.data for p in packets] == [bytes.fromhex("0001ffee")] * 2
    # A packet that ends before OFFSET passes unchanged.
    assert [p.data for p in kept(r"InfiniteSource(\<0001>, LIMIT 1) -> StoreData(2, \<ff>)"
                                 " -> k :: BasicKeep")] == [bytes.fromhex("0001")]


def test_storedata_leaves_the_copies_of_a_tee_alone():
    router = router_of(r"InfiniteSource(\<00010203>, LIMIT 1) -> t :: Tee -> StoreData(0, x)"
                       " -> k :: BasicKeep; t[1] -> k2 :: BasicKeep")
    router.run(handle_signals=False)
    assert router.element("k").packets[0].data == b"x\x01\x02\x03"
    assert router.element("k2").packets[0].data == bytes.fromhex("00010203")


# --- Paint, CheckPaint, PaintSwitch

def test_paint_switch_sends_each_packet_to_its_color():
    assert run("InfiniteSource(LIMIT 6) -> Paint(2) -> s :: PaintSwitch;"
               "s[0] -> a :: Counter -> Discard; s[1] -> b :: Counter -> Discard;"
               "s[2] -> c :: Counter -> Discard", "a.count", "b.count", "c.count") == \
        ["0", "0", "6"]


def test_paint_switch_255_goes_everywhere_and_missing_outputs_drop():
    assert run("InfiniteSource(LIMIT 3) -> Paint(255) -> s :: PaintSwitch;"
               "s[0] -> a :: Counter -> Discard; s[1] -> b :: Counter -> Discard",
               "a.count", "b.count") == ["3", "3"]
    assert run("InfiniteSource(LIMIT 3) -> Paint(9) -> s :: PaintSwitch;"
               "s[0] -> a :: Counter -> Discard", "a.count") == ["0"]


def test_paint_switch_spreads_by_color():
    # Packets painted 0, 1, 2, 3, 4: colors 3 and 4 have no output.
    assert run("InfiniteSource(LIMIT 5, BURST 5) -> BasicPaintAt -> s :: PaintSwitch;"
               "s[0] -> a :: Counter -> Discard; s[1] -> b :: Counter -> Discard;"
               "s[2] -> c :: Counter -> Discard", "a.count", "b.count", "c.count") == \
        ["1", "1", "1"]


def test_check_paint_passes_its_color_and_diverts_the_others():
    assert run("InfiniteSource(LIMIT 4, BURST 4) -> BasicPaintAt -> k :: CheckPaint(2) "
               "-> good :: Counter -> Discard; k[1] -> bad :: Counter -> Discard",
               "good.count", "bad.count") == ["1", "3"]


def test_check_paint_works_in_pull_context_too():
    assert run("InfiniteSource(LIMIT 5) -> Paint(1) -> Queue -> CheckPaint(1) -> Unqueue "
               "-> c :: Counter -> Discard", "c.count") == ["5"]


def test_paint_annotation_by_name_or_offset():
    packets = kept("InfiniteSource(LIMIT 1) -> Paint(7, 17) -> Paint(3) -> "
                   "Paint(9, ANNO SEND_ERR) -> k :: BasicKeep")
    assert (packets[0].anno_u8(17), packets[0].paint, packets[0].anno_u8(26)) == (7, 3, 9)
    with pytest.raises(ConfigError, match="annotation 'AGGREGATE' is 4 bytes"):
        router_of("Idle -> Paint(1, ANNO AGGREGATE) -> Discard")
    with pytest.raises(ConfigError, match="COLOR: expected color"):
        router_of("Idle -> Paint(256) -> Discard")


def test_paint_color_handler():
    router = router_of("Idle -> p :: Paint(4) -> Discard")
    router.handlers.write("p.color", "200")
    assert router.handlers.read("p.color") == "200"


# --- Switch, StaticSwitch, RoundRobinSwitch, HashSwitch

def test_switch_sends_everything_to_output_and_can_be_switched():
    config = ("InfiniteSource(LIMIT 10) -> s :: Switch(1); s[0] -> a :: Counter -> Discard;"
              "s[1] -> b :: Counter -> Discard")
    assert run(config, "a.count", "b.count", "s.switch") == ["0", "10", "1"]
    config = ("s0 :: InfiniteSource(LIMIT 3) -> s :: Switch; s[0] -> a :: Counter -> Discard;"
              "s[1] -> b :: Counter -> Discard;"
              "Script(wait 1, write s.switch 1, write s0.reset, wait 1,"
              "       write s.switch -1, write s0.reset, wait 1, stop)")
    assert run(config, "a.count", "b.count") == ["3", "3"]


def test_switch_config_reads_the_current_output():
    router = router_of("s :: Switch(OUTPUT 1); Idle -> s; s[0] -> Discard; s[1] -> Discard")
    assert router.handlers.read("s.config") == "1"
    router.handlers.write("s.switch", "5")
    assert router.handlers.read("s.config") == "-1"


def test_switch_output_must_exist():
    with pytest.raises(ConfigError, match="output must be < 2"):
        router_of("s :: Switch(2); Idle -> s; s[0] -> Discard; s[1] -> Discard")


def test_switch_reaches_any_output_it_has():
    arms = "".join(f"s[{i}] -> Discard; " for i in range(1999))
    assert run(f"InfiniteSource(LIMIT 4) -> s :: Switch(1999); {arms}"
               "s[1999] -> a :: Counter -> Discard", "a.count") == ["4"]
    assert run(f"InfiniteSource(LIMIT 4) -> s :: StaticSwitch(1999); {arms}"
               "s[1999] -> a :: Counter -> Discard", "a.count") == ["4"]


def test_static_switch():
    assert run("InfiniteSource(LIMIT 5) -> s :: StaticSwitch(1); s[0] -> a :: Counter -> Discard;"
               "s[1] -> b :: Counter -> Discard", "a.count", "b.count") == ["0", "5"]
    assert run("InfiniteSource(LIMIT 5) -> s :: StaticSwitch(-1); s[0] -> a :: Counter -> Discard",
               "a.count") == ["0"]


@pytest.mark.parametrize("burst", [1, 4, 10])
def test_round_robin_switch_whatever_the_batches(burst):
    # 10 packets over 3 outputs: 0, 1, 2, 0, 1, 2, 0, 1, 2, 0.
    assert run(f"InfiniteSource(LIMIT 10, BURST {burst}) -> r :: RoundRobinSwitch;"
               "r[0] -> a :: Counter -> Discard; r[1] -> b :: Counter -> Discard;"
               "r[2] -> c :: Counter -> Discard", "a.count", "b.count", "c.count") == \
        ["4", "3", "3"]


def test_round_robin_switch_keeps_the_order_on_each_output():
    router = router_of("InfiniteSource(LIMIT 5, BURST 5) -> BasicPaintAt -> r :: RoundRobinSwitch;"
                       "r[0] -> k :: BasicKeep; r[1] -> j :: BasicKeep")
    router.run(handle_signals=False)
    assert [p.paint for p in router.element("k").packets] == [0, 2, 4]
    assert [p.paint for p in router.element("j").packets] == [1, 3]


def test_random_switch_spreads_packets_keeping_their_order():
    # 200 packets (paints 0 to 199) over two outputs: each gets some (55-145 is
    # over six standard deviations of a fair draw either way), in the order they came.
    router = router_of("InfiniteSource(LIMIT 200, BURST 10) -> BasicPaintAt -> "
                       "r :: RandomSwitch; r[0] -> k :: BasicKeep; r[1] -> j :: BasicKeep")
    router.run(handle_signals=False)
    kept, other = ([p.paint for p in router.element(n).packets] for n in "kj")
    assert 55 <= len(kept) <= 145 and len(kept) + len(other) == 200
    assert kept == sorted(kept) and other == sorted(other)
    assert run("InfiniteSource(LIMIT 5, BURST 5) -> r :: RandomSwitch -> c :: Counter -> Discard",
               "c.count") == ["5"]


def test_pad_to_a_length_or_to_what_the_capture_left_out():
    short, long = Packet(b"\x01" * 10), Packet(b"\x02" * 70)
    cut = Packet(b"\x03" * 20)
    cut.extra_length = 30
    router = router_of("Idle -> p :: Pad(64) -> k :: BasicKeep; Idle -> q :: Pad -> j :: BasicKeep")
    router.element("p").push(0, [short, long])
    router.element("q").push(0, [cut])
    assert [p.data for p in router.element("k").packets] == [b"\x01" * 10 + bytes(54),
                                                              b"\x02" * 70]
    (whole,) = router.element("j").packets
    assert whole.data == b"\x03" * 20 + bytes(30) and whole.extra_length == 0


@pytest.mark.parametrize("name, value", [("HOST", 0), ("broadcast", 1), ("Multicast", 2),
                                         ("OTHERHOST", 3), ("OUTGOING", 4), ("loopback", 5)])
def test_set_packet_type(name, value):
    router = router_of(f"Idle -> s :: SetPacketType({name}) -> k :: BasicKeep")
    router.element("s").push(0, [Packet(b"x")])
    assert router.element("k").packets[0].packet_type == value


def test_hash_switch_by_byte_sum():
    # Bytes 3..4 of "\<00 00 00 05 07>" sum to 12: 3 outputs -> 12 % 3 = 0;
    # 2 outputs -> (12 ^ (12 >> 4)) & 1 = 0; 4 outputs -> 12 & 3 = 0; 5 -> 2.
    data = r"\<0000000507>"
    for outputs, hit in ((3, 0), (2, 0), (4, 0), (5, 2)):
        arms = "; ".join(f"h[{i}] -> c{i} :: Counter -> Discard" for i in range(outputs))
        values = run(f"InfiniteSource(DATA {data}, LIMIT 4) -> h :: HashSwitch(3, 2); {arms}",
                     *(f"c{i}.count" for i in range(outputs)))
        assert values == ["4" if i == hit else "0" for i in range(outputs)], outputs


def test_hash_switch_short_packets_go_to_output_0():
    assert run('InfiniteSource("ab", LIMIT 3) -> h :: HashSwitch(1, 4); h[0] -> a :: Counter'
               "-> Discard; h[1] -> b :: Counter -> Discard", "a.count", "b.count") == ["3", "0"]


def test_hash_switch_length_must_be_positive():
    with pytest.raises(ConfigError, match="LENGTH: must be at least 1 and at most 65535"):
        router_of("Idle -> h :: HashSwitch(0, 0) -> Discard")


# --- RandomSample

def test_random_sample_extremes_and_inactive():
    config = ("InfiniteSource(LIMIT 20) -> r :: RandomSample({}) -> a :: Counter -> Discard;"
              "r[1] -> b :: Counter -> Discard")
    assert run(config.format("1"), "a.count", "b.count", "r.drops") == ["20", "0", "0"]
    assert run(config.format("0"), "a.count", "b.count", "r.drops") == ["0", "20", "20"]
    assert run(config.format("DROP 1, ACTIVE false"), "a.count") == ["20"]


def test_random_sample_keeps_about_p():
    kept_count, = run("InfiniteSource(LIMIT 4000, BURST 100) -> RandomSample(0.25) "
                      "-> a :: Counter -> Discard", "a.count")
    # Binomial(4000, 0.25): mean 1000, standard deviation 27.4; 6 sigma.
    assert 836 <= int(kept_count) <= 1164


def test_random_sample_handlers_and_mistakes():
    router = router_of("Idle -> r :: RandomSample(SAMPLE 0.5) -> Discard")
    router.handlers.write("r.drop_prob", "0.75")
    assert router.handlers.read("r.sampling_prob") == "0.25"
    with pytest.raises(ConfigError, match="give at most one of SAMPLE and DROP"):
        router_of("Idle -> RandomSample(SAMPLE 0.5, DROP 0.5) -> Discard")
    with pytest.raises(ConfigError, match="expected probability between 0 and 1"):
        router_of("Idle -> RandomSample(1.5) -> Discard")


def test_random_sample_probabilities_print_in_fixed_point():
    # 0.123456789 is 33140179 / 2^28 in fixed point, which Click prints as
    # 0.12345678766; 1 - that is 235295277 / 2^28, printed 0.876543213.
    router = router_of("Idle -> r :: RandomSample(0.123456789) -> Discard")
    h = router.handlers
    assert (h.read("r.sampling_prob"), h.read("r.drop_prob")) == ("0.12345678766", "0.876543213")
    assert h.read("r.config") == "SAMPLE 0.12345678766, ACTIVE true"
    h.write("r.drop_prob", "0.00001")
    h.write("r.active", "false")
    assert (h.read("r.sampling_prob"), h.read("r.drop_prob")) == ("0.99999", "0.00001")
    assert h.read("r.config") == "SAMPLE 0.99999, ACTIVE false"
    router = router_of("Idle -> r :: RandomSample(DROP 0.25) -> Discard")
    assert router.handlers.read("r.config") == "SAMPLE 0.75, ACTIVE true"


# --- EtherMirror, Truncate, SetTimestamp

def test_ether_mirror_swaps_addresses():
    frame = "\\<" + "aa" * 6 + "bb" * 6 + "0800 45>"
    packets = kept(f"InfiniteSource(DATA {frame}, LIMIT 1) -> t :: Tee;"
                   "t[0] -> EtherMirror -> k :: BasicKeep; t[1] -> j :: BasicKeep")
    assert packets[0].data == bytes.fromhex("bb" * 6 + "aa" * 6 + "080045")


def test_ether_mirror_swaps_a_short_frame_with_zeros_for_what_it_lacks():
    # 8 bytes: the destination aa x 6 and two bytes of the source, bb cc.
    # Padded to 12, the swap puts source (bb cc 00 00 00 00) first, then the
    # destination's first two bytes (aa aa): Click's output for such a frame.
    packets = kept("InfiniteSource(DATA \\<aaaaaaaaaaaa bbcc>, LIMIT 1) -> EtherMirror "
                   "-> k :: BasicKeep")
    assert packets[0].data == bytes.fromhex("bbcc00000000aaaa")


def test_ether_mirror_leaves_the_other_copy_alone():
    frame = "\\<" + "aa" * 6 + "bb" * 6 + ">"
    router = router_of(f"InfiniteSource(DATA {frame}, LIMIT 1) -> t :: Tee;"
                       "t[0] -> EtherMirror -> k :: BasicKeep; t[1] -> j :: BasicKeep")
    router.run(handle_signals=False)
    assert router.element("j").packets[0].data == bytes.fromhex("aa" * 6 + "bb" * 6)


def test_truncate_and_extra_length():
    packets = kept("InfiniteSource(LENGTH 100, LIMIT 2) -> Truncate(60) -> k :: BasicKeep")
    assert [(len(p), p.extra_length) for p in packets] == [(60, 40), (60, 40)]
    packets = kept("InfiniteSource(LENGTH 50, LIMIT 1) -> Truncate(60, EXTRA_LENGTH false) "
                   "-> k :: BasicKeep")
    assert [(len(p), p.extra_length) for p in packets] == [(50, 0)]


def test_truncate_nbytes_handler():
    router = router_of("Idle -> t :: Truncate(60) -> k :: BasicKeep")
    assert router.handlers.read("t.nbytes") == "60"
    router.handlers.write("t.nbytes", "10")
    assert router.handlers.read("t.nbytes") == "10"
    router.element("t").push(0, [Packet(bytes(100))])
    assert [(len(p), p.extra_length) for p in router.element("k").packets] == [(10, 90)]


def test_set_timestamp():
    packets = kept("InfiniteSource(LIMIT 1) -> SetTimestamp(12.5) -> SetTimestamp(3, FIRST true)"
                   " -> k :: BasicKeep")
    assert (packets[0].timestamp, packets[0].first_timestamp) == (12.5, 3.0)
    packets = kept("TimedSource(2, LIMIT 1) -> SetTimestamp -> k :: BasicKeep")
    assert packets[0].timestamp == 2.0
