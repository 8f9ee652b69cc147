"""Discard, Idle, Print, Counter, InfiniteSource and FromDump."""

from __future__ import annotations

import struct

import pytest

from pyclick.element import Element
from pyclick.elements.rateewma import RateEWMA, jiffies
from pyclick.elements.printelement import hex_groups
from pyclick.elements.sources import DEFAULT_DATA
from pyclick.errors import ConfigError, Landmark
from pyclick.packet import Packet
from pyclick.router import Router
from pyclick.runtime.handlers import HandlerError
from pyclick.sim import pcap
from pyclick.sim.pcap import write_pcap
from tests.helpers import config_error_of, configured_router

LANDMARK = Landmark("<test>", 3)


class StdTestSink(Element):
    """StdTestSink() -- remembers every batch it receives and when"""

    port_count = "1-/0"

    def initialize(self) -> None:
        self.batches: list[list[Packet]] = []
        self.times: list[float] = []

    def push(self, port: int, batch: list[Packet]) -> None:
        self.batches.append(list(batch))
        self.times.append(self.router.now())

    @property
    def packets(self) -> list[Packet]:
        return [p for b in self.batches for p in b]


def build(elements, connections=(), simtime=True) -> Router:
    return configured_router(elements, connections, at=LANDMARK, simtime=simtime)


def chain(*elements, simtime=True) -> Router:
    """A straight pipeline: each element's output 0 into the next one's input 0."""
    conns = [(a[0], 0, b[0], 0) for a, b in zip(elements, elements[1:])]
    return build(list(elements), conns, simtime)


def run(router: Router) -> int:
    return router.run(handle_signals=False)


def config_error(*elements) -> str:
    return str(config_error_of(chain, *elements))


# --- Discard and Idle -----------------------------------------------------------

def test_discard_counts_and_resets():
    router = chain(("src", "InfiniteSource", "LIMIT 12, BURST 5"), ("d", "Discard", ""))
    run(router)
    assert router.handlers.read("d.count") == "12"
    router.handlers.write("d.reset_counts", "")
    assert router.handlers.read("d.count") == "0"


def test_discard_has_one_input_and_no_output():
    with pytest.raises(ConfigError) as err:
        build([("d", "Discard", ""), ("x", "Discard", "")], [("d", 0, "x", 0)])
    assert "has no output 0" in str(err.value)


def test_idle_takes_any_ports_and_never_emits():
    router = build([("src", "InfiniteSource", "LIMIT 4"), ("i", "Idle", ""),
                    ("a", "StdTestSink", ""), ("b", "StdTestSink", "")],
                   [("src", 0, "i", 0), ("i", 0, "a", 0), ("i", 1, "b", 0)])
    run(router)
    assert router.element("i").ninputs == 1 and router.element("i").noutputs == 2
    # Idle takes no packets as far as notification goes: the source waits for
    # room downstream that never comes, as in Click.
    assert router.element("src").count == 0
    assert router.element("a").batches == [] and router.element("b").batches == []


# --- Print ----------------------------------------------------------------------

def test_hex_groups_of_four_bytes():
    assert hex_groups(bytes(range(10))) == "00010203 04050607 0809"


def test_print_line_per_packet(capsys):
    router = chain(("src", "InfiniteSource", r'DATA "\<0102030405060708090a>", LIMIT 2'),
                   ("p", "Print", "x"), ("d", "Discard", ""))
    run(router)
    assert capsys.readouterr().err == ("x:   10 | 01020304 05060708 090a\n" * 2)
    assert router.handlers.read("p.count") == "2"
    assert router.element("d").count == 2            # packets go on unchanged


def test_print_maxlength_contents_timestamp(capsys):
    data = r'DATA "ab\<00>cdefghij", LIMIT 1'
    run(chain(("s1", "InfiniteSource", data), ("p1", "Print", "a, 4"), ("d1", "Discard", "")))
    run(chain(("s2", "InfiniteSource", data), ("p2", "Print", "b, -1, CONTENTS ASCII"),
              ("d2", "Discard", "")))
    run(chain(("s3", "InfiniteSource", data), ("p3", "Print", "CONTENTS NONE, TIMESTAMP true"),
              ("d3", "Discard", "")))
    # LENGTH and NBYTES: Click's older names for MAXLENGTH.
    run(chain(("s4", "InfiniteSource", data), ("p4", "Print", "c, LENGTH 2"),
              ("d4", "Discard", "")))
    run(chain(("s5", "InfiniteSource", data), ("p5", "Print", "d, NBYTES 3"),
              ("d5", "Discard", "")))
    assert capsys.readouterr().err.splitlines() == [
        "a:   11 | 61620063",
        "b:   11 |  ab.cdefg hij",
        "0.000000:   11",
        "c:   11 | 6162",
        "d:   11 | 616200",
    ]


def test_print_active_handler(capsys):
    router = chain(("src", "InfiniteSource", "LIMIT 3"), ("p", "Print", "x, ACTIVE false"),
                   ("d", "Discard", ""))
    assert router.handlers.read("p.active") == "false"
    run(router)
    assert capsys.readouterr().err == "" and router.element("d").count == 3
    router.handlers.write("p.active", "true")
    assert router.handlers.read("p.active") == "true"
    with pytest.raises(HandlerError) as err:
        router.handlers.write("p.active", "perhaps")
    assert err.value.code == 520


def test_print_bad_arguments_are_reported():
    text = config_error(("p", "Print", "x, MAXLENGTH many, CONTENTS BINARY"))
    assert "<test>:3" in text and "p :: Print" in text
    assert "MAXLENGTH: expected integer, got 'many'" in text
    assert "CONTENTS: expected one of HEX, ASCII, NONE" in text


# --- Counter --------------------------------------------------------------------

def test_counter_counts_packets_and_bytes():
    router = chain(("src", "InfiniteSource", "LIMIT 7, LENGTH 100, BURST 3"),
                   ("c", "Counter", ""), ("d", "Discard", ""))
    run(router)
    assert router.handlers.read("c.count") == "7"
    assert router.handlers.read("c.byte_count") == "700"
    router.handlers.write("c.reset", "")
    assert router.handlers.read("c.count") == "0" and router.handlers.read("c.byte_count") == "0"
    router.handlers.write("c.reset_counts", "")


def test_jiffies_are_whole_milliseconds_of_exact_times():
    # 4007 * 0.001 is 4.007 less a float's error: still in millisecond 4007.
    assert (4007 * 0.001) * 1000 < 4007
    assert jiffies(4007 * 0.001) == 4007
    assert jiffies(0.0009994) == 0 and jiffies(1e9 + 0.0015) == 10**12 + 1


def test_rate_ewma_folds_each_epoch_in_fixed_point():
    rate = RateEWMA(10, 0)
    rate.update(0, 2)
    # Epoch 1 folds epoch 0: ((2 << 10) + 8 - 0) >> 4 = 2056 >> 4 = 128, a
    # rate of 128 * 1000 / 1024 = 125 a second.
    rate.update(1, 0)
    assert rate.scaled_rate() == 128 * 1000
    # Epoch 4 folds epoch 1 (nothing) and the idle epochs 2 and 3:
    # 128 + (-120 >> 4) = 120, 120 + (-112 >> 4) = 113, 113 + (-105 >> 4) = 106.
    rate.update(4, 0)
    assert rate.scaled_rate() == 106 * 1000
    # 100 idle epochs (5 to 104) clear it.
    rate.update(105, 0)
    assert rate.scaled_rate() == 0
    # 99 (106 to 204) do not: after epoch 105's fold of 1 (((1 << 10) + 8) >> 4
    # = 64), 99 folds of 0 bring it down to the fixed point 8 (steps of -1
    # below 24, and (8 - 8) >> 4 = 0).
    rate.update(105, 1)
    rate.update(205, 0)
    assert rate.scaled_rate() == 8 * 1000


def test_counter_rates_are_clicks_moving_averages():
    router = build([("c", "Counter", ""), ("s", "Script", "TYPE PASSIVE")])
    router.initialize()
    counter = router.element("c")
    clock = router.clock
    clock.advance_to(0.0005)
    counter.push(0, [Packet(data=bytes(50)), Packet(data=bytes(50))])
    clock.advance_to(0.0015)
    # Epoch 0 folded: packets ((2 << 10) + 8) >> 4 = 128, 128 * 1000 / 2^10 =
    # 125/s; bytes ((100 << 4) + 8) >> 4 = 100, 100 * 1000 / 2^4 = 6250/s,
    # 50000 bits/s.
    assert [router.handlers.read(f"c.{h}") for h in ("rate", "byte_rate", "bit_rate")] == \
        ["125", "6250", "50000"]
    clock.advance_to(0.004)
    # Three folds of 0: packets 128 -> 120 -> 113 -> 106, 106000 / 1024 =
    # 103.515625, printed to Click's precision; bytes 100 + (-92 >> 4) = 94,
    # 94 + (-86 >> 4) = 88, 88 + (-80 >> 4) = 83: 83000 / 16 = 5187.5.
    assert [router.handlers.read(f"c.{h}") for h in ("rate", "byte_rate", "bit_rate")] == \
        ["103.516", "5187.5", "41500"]
    # reset clears the counts only, as Click's does.
    router.handlers.write("c.reset", "")
    assert router.handlers.read("c.count") == "0"
    assert router.handlers.read("c.rate") == "103.516"
    clock.advance_to(0.105)
    assert router.handlers.read("c.rate") == "0"
    router.cleanup()


def test_counter_batch_rates_as_packets_one_by_one():
    router = build([("c", "Counter", ""), ("d", "Counter", ""), ("s", "Script", "TYPE PASSIVE")])
    router.initialize()
    clock = router.clock
    clock.advance_to(0.0102)
    router.element("c").push(0, [Packet(data=bytes(n)) for n in (10, 20, 30)])
    for n in (10, 20, 30):
        router.element("d").push(0, [Packet(data=bytes(n))])
    clock.advance_to(0.0113)
    # Both: 3 packets and 60 bytes in epoch 10, after 10 idle folds of 0
    # left at 0: ((3 << 10) + 8) >> 4 = 192 (187.5/s), ((60 << 4) + 8) >> 4 = 60
    # (3750 bytes/s).
    for name in ("c", "d"):
        assert router.handlers.read(f"{name}.rate") == "187.5"
        assert router.handlers.read(f"{name}.byte_rate") == "3750"
    router.cleanup()


def test_counter_count_call_fires_once_and_again_after_reset():
    router = chain(("src", "InfiniteSource", "LIMIT 100"),
                   ("c", "Counter", "COUNT_CALL 10 src.active false"), ("d", "Discard", ""))
    run(router)
    assert router.element("d").count == 10
    assert router.handlers.read("src.active") == "false"


def test_counter_byte_count_call_stops_router():
    router = chain(("src", "InfiniteSource", "LENGTH 10"),
                   ("c", "Counter", "BYTE_COUNT_CALL 95 stop"), ("d", "Discard", ""))
    assert run(router) == 0
    assert router.element("c").byte_count == 100
    assert router.stop_reason == "stop handler written"


def test_a_handler_named_without_its_element_is_the_callers_own_first():
    # As in Click: "reset" is the Counter's own (at the 3rd of 5 packets: 2
    # counted after it), "stop" the global one, as the Counter has none.
    router = chain(("src", "InfiniteSource", "LIMIT 5"),
                   ("c", "Counter", "COUNT_CALL 3 reset"), ("d", "Discard", ""))
    run(router)
    assert router.element("d").count == 5 and router.handlers.read("c.count") == "2"
    router = chain(("src", "InfiniteSource", ""), ("c", "Counter", "COUNT_CALL 4 stop"),
                   ("d", "Discard", ""))
    assert run(router) == 0 and router.stop_reason == "stop handler written"


def test_counter_count_call_bad_handler_is_a_configuration_error():
    text = config_error(("c", "Counter", "COUNT_CALL 10 nobody.active false"))
    assert "COUNT_CALL: no element named 'nobody'" in text
    text = config_error(("c", "Counter", "COUNT_CALL ten src.active"))
    assert "COUNT_CALL: 'ten' is not a packet count (form: N HANDLER [VALUE])" in text


# --- InfiniteSource -------------------------------------------------------------

def test_infinite_source_limit_burst_data_and_timestamps():
    router = chain(("src", "InfiniteSource", 'DATA "hello", LIMIT 7, BURST 3'),
                   ("k", "StdTestSink", ""))
    run(router)
    sink = router.element("k")
    assert [len(b) for b in sink.batches] == [3, 3, 1]
    assert {p.data for p in sink.packets} == {b"hello"}
    assert {p.timestamp for p in sink.packets} == {0.0}
    assert router.handlers.read("src.count") == "7"


def test_infinite_source_positional_arguments_and_length():
    router = chain(("src", "InfiniteSource", '"ab", 2, 2, true, LENGTH 4'),
                   ("k", "StdTestSink", ""))
    run(router)
    assert [p.data for p in router.element("k").packets] == [b"abab", b"abab"]


def test_infinite_source_default_data_is_clicks():
    router = chain(("src", "InfiniteSource", "LIMIT 1"), ("k", "StdTestSink", ""))
    run(router)
    assert router.element("k").packets[0].data == DEFAULT_DATA and len(DEFAULT_DATA) == 69


def test_infinite_source_stop_stops_the_router():
    router = chain(("src", "InfiniteSource", "LIMIT 5, STOP true"), ("d", "Discard", ""))
    assert run(router) == 0
    assert router.stop_reason == "src: all packets sent"
    assert router.element("d").count == 5


def test_infinite_source_stop_in_real_time():
    router = chain(("src", "InfiniteSource", "LIMIT 50, BURST 8, STOP true"),
                   ("d", "Discard", ""), simtime=False)
    assert run(router) == 0 and router.element("d").count == 50


def test_infinite_source_end_call():
    router = chain(("src", "InfiniteSource", "LIMIT 3, END_CALL p.active false"),
                   ("p", "Print", "x"), ("d", "Discard", ""))
    run(router)
    assert router.handlers.read("p.active") == "false"


def test_infinite_source_inactive_then_handlers_resume_it():
    router = build([("src", "InfiniteSource", "LIMIT 4, ACTIVE false"), ("d", "Discard", ""),
                    ("s", "Script", "wait 1, write src.active true, wait 1, write src.limit 6, "
                                    "wait 1, write src.reset, wait 1, stop")],
                   [("src", 0, "d", 0)])
    run(router)
    assert router.element("d").count == 4 + 2 + 6


def test_infinite_source_handlers_read_and_write():
    router = chain(("src", "InfiniteSource", 'DATA "xy", LIMIT 0'), ("d", "Discard", ""))
    h = router.handlers
    assert (h.read("src.data"), h.read("src.length"), h.read("src.limit"), h.read("src.burst"),
            h.read("src.active")) == ("xy", "-1", "0", "1", "true")
    h.write("src.data", '"abc"')
    h.write("src.burst", "4")
    h.write("src.length", "8")
    assert (h.read("src.data"), h.read("src.burst"), h.read("src.length")) == ("abc", "4", "8")
    for name, value in (("src.burst", "0"), ("src.limit", "x"), ("src.active", "2")):
        with pytest.raises(HandlerError):
            h.write(name, value)


def test_infinite_source_mistakes():
    text = config_error(("src", "InfiniteSource", "LIMIT lots, BURST 0, STOP true, END_CALL stop"))
    assert "LIMIT: expected integer, got 'lots'" in text
    assert "BURST: must be at least 1" in text
    assert "STOP and END_CALL are mutually exclusive" in text


# --- FromDump -------------------------------------------------------------------

FRAMES = [(1000.25, b"\x01" * 60), (1000.5, b"\x02" * 61), (1002.0, b"\x03" * 62)]


def big_endian_nanosecond_pcap(path, records):
    with open(path, "wb") as out:
        out.write(struct.pack(">IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 101))
        for t, frame in records:
            sec = int(t)
            out.write(struct.pack(">IIII", sec, round((t - sec) * 1e9), len(frame), len(frame)))
            out.write(frame)


@pytest.fixture
def pcaps(tmp_path):
    little = tmp_path / "little.pcap"
    write_pcap(little, FRAMES)
    big = tmp_path / "big.pcap"
    # Raw IP: IPv4 headers of 20 bytes (0x45), read with FORCE_IP.
    big_endian_nanosecond_pcap(big, [(5.000000001, b"\x45" + b"\xaa" * 19),
                                     (5.5, b"\x45" + b"\xbb" * 20)])
    return little, big


def test_fromdump_reads_both_byte_orders_and_resolutions(pcaps):
    little, big = pcaps
    router = chain(("f", "FromDump", f"{little}, STOP true"), ("k", "StdTestSink", ""))
    run(router)
    got = [(p.timestamp, p.data) for p in router.element("k").packets]
    assert got == [(pytest.approx(t, abs=1e-6), d) for t, d in FRAMES]
    assert router.stop_reason == "f: all packets sent"
    assert router.handlers.read("f.encap") == "ETHER"
    assert router.handlers.read("f.count") == "3"
    assert router.handlers.read("f.filesize") == str(little.stat().st_size)

    router = chain(("f", "FromDump", f"FILENAME {big}"), ("k", "StdTestSink", ""))
    run(router)
    got = [(p.timestamp, p.data) for p in router.element("k").packets]
    assert got == [(5.000000001, b"\x45" + b"\xaa" * 19), (5.5, b"\x45" + b"\xbb" * 20)]
    assert router.handlers.read("f.encap") == "IP"
    assert router.handlers.read("f.filename") == str(big)


def test_fromdump_burst(pcaps):
    router = chain(("f", "FromDump", f"{pcaps[0]}, BURST 2"), ("k", "StdTestSink", ""))
    run(router)
    assert [len(b) for b in router.element("k").batches] == [2, 1]


def test_fromdump_timing_keeps_gaps_in_simulated_time(pcaps):
    router = chain(("f", "FromDump", f"{pcaps[0]}, TIMING true, STOP true"),
                   ("k", "StdTestSink", ""))
    run(router)
    sink = router.element("k")
    assert sink.times == pytest.approx([0.0, 0.25, 1.75])
    assert [len(b) for b in sink.batches] == [1, 1, 1]


def test_fromdump_end_after_and_end_call(pcaps, capfd):
    # At 1001.25 (the third packet, 1002.0) END_CALL makes Print inactive;
    # FromDump, still active, sends that packet and the rest, as Click's does.
    router = chain(("f", "FromDump", f"{pcaps[0]}, END_AFTER 1s, END_CALL p.active false"),
                   ("p", "Print", "x, ACTIVE true"), ("k", "StdTestSink", ""))
    run(router)
    assert len(router.element("k").packets) == 3
    assert capfd.readouterr().err.count("x:") == 2
    assert (router.handlers.read("p.active"), router.handlers.read("f.active")) == (
        "false", "true")


def test_fromdump_inactive_emits_nothing(pcaps):
    router = chain(("f", "FromDump", f"{pcaps[0]}, ACTIVE false"), ("k", "StdTestSink", ""))
    run(router)
    assert router.element("k").packets == []
    assert router.handlers.read("f.active") == "false"


def test_fromdump_file_positions_stop_and_sampling(pcaps):
    # Records of 60, 61 and 62 bytes after the 24-byte file header, each with a
    # 16-byte header: they start at 24, 100 and 177; the file ends at 255.
    router = chain(("f", "FromDump", f"{pcaps[0]}, ACTIVE false"), ("k", "StdTestSink", ""))
    router.initialize()
    h = router.handlers
    try:
        assert (h.read("f.filepos"), h.read("f.packet_filepos")) == ("24", "0")
        h.write("f.filepos", "100")
        assert (h.read("f.filepos"), h.read("f.sampling_prob")) == ("100", "1")
        with pytest.raises(HandlerError, match="no packet starts at 101"):
            h.write("f.filepos", "101")
        h.write("f.active", "true")
        router.scheduler.run()
        assert [len(p.data) for p in router.element("k").packets] == [61, 62]
        assert (h.read("f.filepos"), h.read("f.packet_filepos")) == ("255", "255")
    finally:
        router.cleanup()
    router = build([("f", "FromDump", str(pcaps[0])), ("k", "StdTestSink", ""),
                    ("s", "Script", "wait 0.1, write f.stop")], [("f", 0, "k", 0)], True)
    run(router)
    assert router.handlers.read("f.active") == "false"
    assert router.stop_reason == "f: stop handler written"
    # STOP leaves it inactive; SAMPLE 0 emits nothing.
    router = chain(("f", "FromDump", f"{pcaps[0]}, STOP true, SAMPLE 0"), ("k", "StdTestSink", ""))
    run(router)
    assert router.element("k").packets == []
    assert (router.handlers.read("f.active"), router.handlers.read("f.sampling_prob")) == (
        "false", "0")


def test_fromdump_reset_timing_sends_the_next_packet_at_once(pcaps):
    # Gaps of 0.25 s and 1.5 s; reset at 0.1 s: the second packet goes at once,
    # the third 1.5 s after it.
    router = build([("f", "FromDump", f"{pcaps[0]}, TIMING true, STOP true"),
                    ("k", "StdTestSink", ""), ("s", "Script", "wait 0.1, write f.reset_timing")],
                   [("f", 0, "k", 0)], True)
    run(router)
    assert router.element("k").times == pytest.approx([0.0, 0.1, 1.6])


def test_fromdump_file_problems_name_the_element(tmp_path):
    missing = tmp_path / "missing.pcap"
    router = chain(("f", "FromDump", str(missing)), ("d", "Discard", ""))
    with pytest.raises(ConfigError) as err:
        run(router)
    assert "<test>:3" in str(err.value) and "f :: FromDump" in str(err.value)
    assert "No such file" in str(err.value)

    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"this is not a capture file at all")
    router = chain(("f", "FromDump", str(junk)), ("d", "Discard", ""))
    with pytest.raises(ConfigError) as err:
        run(router)
    assert "not a pcap file" in str(err.value)


def test_fromdump_emits_the_packets_before_a_damaged_record(tmp_path, caplog):
    # Three records of 76, 77 and 78 bytes after the 24-byte header: cut at
    # 250, the third holds 57 of its 62 bytes. Click and tcpdump emit the first
    # two; so does FromDump, saying where the file breaks.
    path = tmp_path / "cut.pcap"
    write_pcap(path, FRAMES)
    path.write_bytes(path.read_bytes()[:250])
    router = chain(("f", "FromDump", f"{path}, STOP true"), ("k", "StdTestSink", ""))
    run(router)
    assert [p.data for p in router.element("k").packets] == [d for _, d in FRAMES[:2]]
    assert (f"{path}: truncated record at byte 177 (57 of 62 bytes of packet data); "
            "the 2 packets before it are emitted") in caplog.text
    assert router.stop_reason == "f: all packets sent"


def test_fromdump_keeps_what_the_capture_left_out_for_todump(tmp_path):
    # Records of 60 captured bytes of 100- and 60-byte packets: the first one's
    # extra length is 40, and ToDump writes 100 back as its length.
    path, out = tmp_path / "snap.pcap", tmp_path / "out.pcap"
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 60, 1))
        for second, length in ((1, 100), (2, 60)):
            f.write(struct.pack("<IIII", second, 0, 60, length) + bytes(60))
    router = chain(("f", "FromDump", f"{path}, STOP true"), ("k", "StdTestSink", ""))
    run(router)
    assert [p.extra_length for p in router.element("k").packets] == [40, 0]
    run(chain(("f", "FromDump", f"{path}, STOP true"), ("t", "ToDump", str(out))))
    data = out.read_bytes()
    assert [struct.unpack_from("<II", data, at + 8) for at in (24, 24 + 76)] == [(60, 100),
                                                                                (60, 60)]


def test_fromdump_missing_filename():
    assert "FILENAME: missing mandatory argument" in config_error(("f", "FromDump", ""))


# --- FromDump: FORCE_IP, START/END dates, two outputs ------------------------------

def ipv4(n: int, header_words: int = 5) -> bytes:
    """An IPv4 UDP header to 10.0.0.n (IHL ``header_words``), 8 bytes of payload."""
    header = bytes([0x40 | header_words, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0])
    return header + bytes([10, 0, 0, n] * 2) + bytes(4 * header_words - 20) + bytes(8)


IPV6 = bytes([0x60, 0, 0, 0, 0, 8, 17, 64]) + bytes(32) + bytes(8)
MACS = bytes.fromhex("001122334455" "00667788aa99")


def ether(ethertype: int, payload: bytes) -> bytes:
    return MACS + ethertype.to_bytes(2, "big") + payload


def sll(protocol: int, payload: bytes) -> bytes:
    """A Linux cooked capture header (16 bytes, the protocol last)."""
    return bytes.fromhex("00000001000600112233445500000000")[:14] + protocol.to_bytes(2, "big") \
        + payload


def force_ip_run(tmp_path, frames, linktype, keywords="", two_outputs=True):
    path = tmp_path / "in.pcap"
    write_pcap(path, [(100.0 + i, frame) for i, frame in enumerate(frames)], linktype)
    elements = [("f", "FromDump", f"{path}, STOP true{keywords}"), ("k", "StdTestSink", "")]
    connections = [("f", 0, "k", 0)]
    if two_outputs:
        elements.append(("o", "StdTestSink", ""))
        connections.append(("f", 1, "o", 0))
    router = build(elements, connections)
    run(router)
    return router


def test_fromdump_force_ip_ethernet_sets_the_network_header(tmp_path):
    frames = [
        ether(0x0800, ipv4(1)),                                   # IPv4
        ether(0x0806, bytes(28)),                                 # ARP
        ether(0x86DD, IPV6),                                      # IPv6
        MACS + bytes.fromhex("81000005") + b"\x08\x00" + ipv4(4),  # 802.1Q, then IPv4
        ether(0x0800, b""),                                       # no IP header
        ether(0x0800, ipv4(6)[:19]),                              # IPv4 header cut short
        ether(0x0800, b"\x44" + ipv4(7)[1:]),                     # IHL 4
        ether(0x0800, IPV6),                                      # IPv6 behind the IPv4 type
    ]
    router = force_ip_run(tmp_path, frames, 1, ", FORCE_IP true")
    ip = router.element("k").packets
    assert [p.data for p in ip] == [frames[0], frames[2], frames[3], frames[7]]
    assert [(p.network_header_offset, p.network_header_length) for p in ip] == [
        (14, 20), (14, 40), (18, 20), (14, 40)]
    assert ip[0].dst_ip == bytes([10, 0, 0, 1]) and ip[2].dst_ip == bytes([10, 0, 0, 4])
    other = router.element("o").packets
    assert [p.data for p in other] == [frames[1], frames[4], frames[5], frames[6]]
    assert router.handlers.read("f.count") == "4"
    # With one output the non-IP packets are dropped; without FORCE_IP all go out as they are.
    router = force_ip_run(tmp_path, frames, 1, ", FORCE_IP true", two_outputs=False)
    assert len(router.element("k").packets) == 4 and router.handlers.read("f.count") == "4"
    router = force_ip_run(tmp_path, frames, 1)
    assert [p.network_header_offset for p in router.element("k").packets] == [None] * 8
    assert router.element("o").packets == []


def test_fromdump_force_ip_linux_sll_and_raw_ip(tmp_path):
    frames = [sll(0x0800, ipv4(1)), sll(0x0806, bytes(28)), sll(0x86DD, IPV6), sll(0x0800, b"")]
    router = force_ip_run(tmp_path, frames, 113, ", FORCE_IP true")
    assert [(p.data, p.network_header_offset) for p in router.element("k").packets] == [
        (frames[0], 16), (frames[2], 16)]
    assert [p.data for p in router.element("o").packets] == [frames[1], frames[3]]
    assert router.handlers.read("f.encap") == "LINUX_SLL"
    # Raw IP (101, and 12 read as 101) is read with FORCE_IP even when it is false.
    frames = [ipv4(1), b"\xaa" * 20, IPV6, ipv4(9, header_words=6)]
    for linktype in (101, 12):
        for keywords in ("", ", FORCE_IP false"):
            router = force_ip_run(tmp_path, frames, linktype, keywords)
            assert [(p.data, p.network_header_offset, p.network_header_length)
                    for p in router.element("k").packets] == [
                (frames[0], 0, 20), (frames[2], 0, 40), (frames[3], 0, 24)]
            assert [p.data for p in router.element("o").packets] == [frames[1]]
            assert router.handlers.read("f.encap") == "IP"


def test_fromdump_force_ip_refuses_other_link_types(tmp_path):
    for linktype, name in ((228, "228 (IP4)"), (0, "0")):
        path = tmp_path / f"{linktype}.pcap"
        write_pcap(path, [(1.0, ipv4(1))], linktype)
        router = chain(("f", "FromDump", f"{path}, FORCE_IP true"), ("d", "Discard", ""))
        with pytest.raises(ConfigError) as err:
            run(router)
        text = str(err.value)
        assert "f :: FromDump" in text and "FORCE_IP" in text and f"link type {name}:" in text
    # Without FORCE_IP they are read as they are.
    router = chain(("f", "FromDump", f"{tmp_path / '228.pcap'}, STOP true"),
                   ("k", "StdTestSink", ""))
    run(router)
    assert router.element("k").packets[0].network_header_offset is None


def test_fromdump_has_an_agnostic_output_and_a_push_one(tmp_path, capsys):
    from pyclick.cli import main

    path = tmp_path / "in.pcap"
    write_pcap(path, [(1.0, ether(0x0800, ipv4(1)))])
    # '~' marks an agnostic port and what it became, as in Click's listing.
    assert main(["-q", "-e", f"f :: FromDump({path}) -> Discard; f[1] -> Queue -> Discard",
                 "-h", "f.ports"]) == 0
    assert capsys.readouterr().out == (
        "0 inputs\n2 outputs\npush~\t-\t[0] Discard@2\npush\t-\t[0] Queue@3\n")
    assert main(["-q", "-e", f"f :: FromDump({path}) -> Unqueue -> Discard; "
                 "f[1] -> Queue -> Discard", "-h", "f.ports"]) == 0
    assert capsys.readouterr().out == (
        "0 inputs\n2 outputs\npull~\t-\t[0] Unqueue@2\npush\t-\t[0] Queue@4\n")
    assert main(["-q", "-e", f"f :: FromDump({path}) -> Discard; f[1] -> Discard; "
                 "f[2] -> Discard"]) == 1
    assert "'f :: FromDump' has no output 2" in capsys.readouterr().err


#: Dates 1000.25, 1000.5, 1002, 1003 and 1005; packet n goes to 10.0.0.n.
DATED = [(1000.25, 1), (1000.5, 2), (1002.0, 3), (1003.0, 4), (1005.0, 5)]


@pytest.fixture
def dated(tmp_path):
    path = tmp_path / "dated.pcap"
    write_pcap(path, [(t, ether(0x0800, ipv4(n))) for t, n in DATED])
    return path


def sent(router: Router, sink: str = "k") -> list[int]:
    """The packets a sink got, by number (the last byte of the destination address)."""
    return [p.data[14 + 19] for p in router.element(sink).packets]


@pytest.mark.parametrize("keywords, numbers, active", [
    ("START 1000.5", [2, 3, 4, 5], "true"),
    ("START 1000500ms", [2, 3, 4, 5], "true"),
    ("START_AFTER 250ms", [2, 3, 4, 5], "true"),
    ("START 0, START_AFTER 1", [3, 4, 5], "true"),        # 0 is no time
    ("START 3000", [], "true"),
    ("END 1002", [1, 2], "false"),                       # inactive at the end date
    ("END_AFTER 1.75", [1, 2], "false"),                 # 1000.25 + 1.75 = 1002
    ("END_AFTER 1.7", [1, 2], "false"),
    ("INTERVAL 1.5", [1, 2], "false"),                   # from the first packet: 1001.75
    ("START_AFTER 0.25, INTERVAL 1.5", [2], "false"),     # from 1000.5 to 1002
    ("START 1000.4, INTERVAL 2.6", [2, 3], "false"),     # from 1000.4 to 1003
    ("END 2000", [1, 2, 3, 4, 5], "false"),              # inactive when the file is done
    ("END 0", [1, 2, 3, 4, 5], "true"),
    ("END_AFTER 0", [1, 2, 3, 4, 5], "true"),
])
@pytest.mark.parametrize("chunk", [None, 120])
def test_fromdump_start_and_end_dates(dated, keywords, numbers, active, chunk, monkeypatch):
    if chunk:
        # Read 120 bytes at a time: two 58-byte records a batch, the dates
        # checked across batches.
        monkeypatch.setattr(pcap, "CHUNK_BYTES", chunk)
    router = chain(("f", "FromDump", f"{dated}, {keywords}"), ("k", "StdTestSink", ""))
    run(router)
    assert sent(router) == numbers
    assert router.handlers.read("f.active") == active
    assert router.handlers.read("f.count") == str(len(numbers))


def test_fromdump_start_is_checked_until_a_packet_passes_it(tmp_path):
    path = tmp_path / "unordered.pcap"
    write_pcap(path, [(t, ether(0x0800, ipv4(n)))
                      for t, n in [(10, 1), (12, 2), (11, 3), (13, 4), (9, 5)]])
    router = chain(("f", "FromDump", f"{path}, START 11"), ("k", "StdTestSink", ""))
    run(router)
    assert sent(router) == [2, 3, 4, 5]
    router = chain(("f", "FromDump", f"{path}, END 12"), ("k", "StdTestSink", ""))
    run(router)
    assert sent(router) == [1]


@pytest.fixture
def small_reads(monkeypatch):
    """FromDump reads 120 bytes at a time: two of ``dated``'s 58-byte records a
    batch (they start at 24, 82, 140, 198 and 256; the file ends at 314)."""
    monkeypatch.setattr(pcap, "CHUNK_BYTES", 120)


def test_fromdump_reads_the_file_as_it_goes(dated, small_reads, caplog):
    # BURST 3 over batches of 2, 2 and 1 records: bursts of 3 and 2.
    router = chain(("f", "FromDump", f"{dated}, BURST 3, STOP true"), ("k", "StdTestSink", ""))
    run(router)
    assert [[p.data[33] for p in b] for b in router.element("k").batches] == [[1, 2, 3], [4, 5]]
    assert router.handlers.read("f.filepos") == "314"
    # Cut in the fifth record (16 + 18 of its 58 bytes): nothing is said
    # until FromDump reaches it.
    cut = dated.with_name("cut.pcap")
    cut.write_bytes(dated.read_bytes()[:290])
    router = chain(("f", "FromDump", f"{cut}, BURST 1"), ("k", "StdTestSink", ""))
    router.initialize()
    try:
        assert "truncated" not in caplog.text
        router.scheduler.run()
    finally:
        router.cleanup()
    assert sent(router) == [1, 2, 3, 4]
    assert (f"{cut}: truncated record at byte 256 (18 of 42 bytes of packet data); "
            "the 4 packets before it are emitted") in caplog.text
    assert router.handlers.read("f.filepos") == "256"


def test_fromdump_file_positions_across_batches(dated, small_reads):
    router = chain(("f", "FromDump", f"{dated}, ACTIVE false"), ("k", "StdTestSink", ""))
    router.initialize()
    h = router.handlers
    try:
        # Ahead of the batch read at initialization (24 and 82).
        h.write("f.filepos", "198")
        assert h.read("f.filepos") == "198"
        for wrong in ("199", "315", "0"):
            with pytest.raises(HandlerError, match=f"no packet starts at {wrong}"):
                h.write("f.filepos", wrong)
        assert h.read("f.filepos") == "198"
    finally:
        router.cleanup()
    # From 198 to the end; back to 82, behind the last batch; then the
    # end, written while in the first batch.
    script = ("write f.filepos 198, write f.active true, wait 1, write f.active false, "
              "write f.filepos 82, write f.active true, wait 1, write f.active false, "
              "write f.filepos 24, write f.filepos 314, write f.active true")
    router = build([("f", "FromDump", f"{dated}, ACTIVE false"), ("k", "StdTestSink", ""),
                    ("s", "Script", script)], [("f", 0, "k", 0)])
    run(router)
    assert sent(router) == [4, 5, 2, 3, 4, 5]
    assert router.element("k").times == [0.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    assert (router.handlers.read("f.filepos"), router.handlers.read("f.packet_filepos"),
            router.handlers.read("f.count")) == ("314", "314", "6")


def test_fromdump_starts_at_filepos(dated, small_reads):
    # Records start at 24, 82, 140, 198 and 256: FILEPOS 140 starts at the
    # third, in the second batch read; 141 is no packet's start.
    router = chain(("f", "FromDump", f"{dated}, FILEPOS 140, STOP true"), ("k", "StdTestSink", ""))
    run(router)
    assert sent(router) == [3, 4, 5]
    with pytest.raises(ConfigError, match="FILEPOS: no packet starts at 141"):
        run(chain(("f", "FromDump", f"{dated}, FILEPOS 141"), ("k", "StdTestSink", "")))


def test_fromdump_dates_are_exact(tmp_path):
    # A date of today in microseconds: 1700000001.123456 is exactly 1 s after
    # the first packet, 1700000001.123455 is not.
    path = tmp_path / "today.pcap"
    write_pcap(path, [(1700000000.123456, ether(0x0800, ipv4(1))),
                      (1700000001.123455, ether(0x0800, ipv4(2))),
                      (1700000001.123456, ether(0x0800, ipv4(3)))])
    for keywords, numbers in (("END_AFTER 1", [1, 2]), ("END 1700000001.123456", [1, 2]),
                              ("START 1700000001.123456", [3])):
        router = chain(("f", "FromDump", f"{path}, {keywords}"), ("k", "StdTestSink", ""))
        run(router)
        assert sent(router) == numbers, keywords
    # Nanoseconds: the records at 5.000000001 and 5.5.
    path = tmp_path / "nano.pcap"
    big_endian_nanosecond_pcap(path, [(5.000000001, ipv4(1)), (5.5, ipv4(2))])
    for keywords, count in (("START 5.000000001", "2"), ("START 5.000000002", "1"),
                            ("END 5.000000001", "0")):
        router = chain(("f", "FromDump", f"{path}, {keywords}"), ("k", "StdTestSink", ""))
        run(router)
        assert router.handlers.read("f.count") == count, keywords


def test_fromdump_end_date_with_stop_and_end_call(dated):
    # STOP: the driver stops at the third packet, which is not sent.
    router = chain(("f", "FromDump", f"{dated}, END_AFTER 1s, STOP true"),
                   ("k", "StdTestSink", ""))
    run(router)
    assert sent(router) == [1, 2]
    assert router.stop_reason == "f: end date reached"
    assert router.handlers.read("f.active") == "false"
    # An END_CALL that makes FromDump inactive: the third packet (58-byte
    # records from byte 24) is skipped.
    router = chain(("f", "FromDump", f"{dated}, END_AFTER 1s, END_CALL f.active false"),
                   ("k", "StdTestSink", ""))
    router.initialize()
    h = router.handlers
    try:
        router.scheduler.run()
        assert sent(router) == [1, 2]
        assert (h.read("f.active"), h.read("f.packet_filepos"), h.read("f.filepos")) == (
            "false", "140", "198")
    finally:
        router.cleanup()
    # Writing active true goes on with the fourth; at the file's end, END_CALL again.
    router = build([("f", "FromDump", f"{dated}, END_AFTER 1s, END_CALL f.active false"),
                    ("k", "StdTestSink", ""), ("s", "Script", "wait 1, write f.active true")],
                   [("f", 0, "k", 0)])
    run(router)
    assert sent(router) == [1, 2, 4, 5]
    assert router.element("k").times == [0.0, 0.0, 1.0, 1.0]  # a packet a run
    assert router.handlers.read("f.active") == "false"


def test_fromdump_extend_interval(dated):
    # END_AFTER 0.5: the end date is 1000.75; the third packet (1002) is
    # skipped. At 1 s it moves to 1002.25: the fourth (1003) ends it again
    # (and is skipped); at 2 s to 1012.25: the fifth goes out.
    script = "wait 1, write f.extend_interval 1.5, wait 1, write f.extend_interval 10s"
    router = build([("f", "FromDump", f"{dated}, END_AFTER 0.5"), ("k", "StdTestSink", ""),
                    ("s", "Script", script)], [("f", 0, "k", 0)])
    run(router)
    assert sent(router) == [1, 2, 5]
    assert router.element("k").times == [0.0, 0.0, 2.0]  # a packet a run
    assert router.handlers.read("f.active") == "false"
    with pytest.raises(HandlerError, match="expected time"):
        router.handlers.write("f.extend_interval", "-1")
    # Without an end date, STOP or END_CALL, only the date moves.
    router = build([("f", "FromDump", f"{dated}, ACTIVE false"), ("k", "StdTestSink", ""),
                    ("s", "Script", "write f.extend_interval 1001")], [("f", 0, "k", 0)])
    run(router)
    assert sent(router) == [] and router.handlers.read("f.active") == "false"


@pytest.mark.parametrize("timing", ["false", "true"])
def test_fromdump_through_a_queue_or_pulled_loses_nothing_at_stop(dated, timing):
    # A packet a task run, and the end found by the run after the last
    # packet's: Unqueue has taken the fifth packet from the Queue before STOP
    # stops the driver, with or without TIMING, as in Click.
    for middle in (("q", "Queue", ""), ("u", "Unqueue", "")), (("u", "Unqueue", ""),):
        router = chain(("f", "FromDump", f"{dated}, STOP true, TIMING {timing}"), *middle,
                       ("k", "StdTestSink", ""))
        run(router)
        assert sent(router) == [1, 2, 3, 4, 5], middle
        assert router.stop_reason == "f: all packets sent"
        if timing == "true":
            # Pulled too, each packet once due: the file's gaps from the first.
            assert router.element("k").times == pytest.approx([0.0, 0.25, 1.75, 2.75, 4.75])


def test_fromdump_pulled_inactive_then_active(dated):
    # Inactive, nothing is pulled; made active at 1 s, the five go out.
    router = build([("f", "FromDump", f"{dated}, ACTIVE false, STOP true"),
                    ("u", "Unqueue", ""), ("k", "StdTestSink", ""),
                    ("s", "Script", "wait 1, write f.active true")],
                   [("f", 0, "u", 0), ("u", 0, "k", 0)])
    run(router)
    assert sent(router) == [1, 2, 3, 4, 5]
    assert router.element("k").times == [1.0] * 5
    assert router.handlers.read("f.count") == "5"


@pytest.mark.parametrize("chunk", [None, 120])
def test_fromdump_timing_counts_from_the_first_packet_read(dated, chunk, monkeypatch):
    if chunk:
        monkeypatch.setattr(pcap, "CHUNK_BYTES", chunk)  # two records a batch
    # START_AFTER 1 skips the first two packets; the others keep their
    # distance from the first one: 1.75, 2.75 and 4.75 s.
    router = chain(("f", "FromDump", f"{dated}, TIMING true, START_AFTER 1, STOP true"),
                   ("k", "StdTestSink", ""))
    run(router)
    assert sent(router) == [3, 4, 5]
    assert router.element("k").times == pytest.approx([1.75, 2.75, 4.75])
    # With INTERVAL the end date is read right after the packet before it went out.
    router = chain(("f", "FromDump", f"{dated}, TIMING true, INTERVAL 2, STOP true"),
                   ("k", "StdTestSink", ""))
    run(router)
    assert sent(router) == [1, 2, 3]
    assert router.element("k").times == pytest.approx([0.0, 0.25, 1.75])


def test_fromdump_date_mistakes():
    text = config_error(("f", "FromDump", "x.pcap, START 5, START_AFTER 1, END 9, INTERVAL 2"))
    assert "f :: FromDump" in text
    assert "START and START_AFTER are mutually exclusive" in text
    assert "END, END_AFTER and INTERVAL are mutually exclusive" in text
    text = config_error(("f", "FromDump", "x.pcap, START -5, END_AFTER soon, FORCE_IP maybe"))
    assert "START: expected time (e.g. 10ms, 1s), got '-5'" in text
    assert "END_AFTER: expected time (e.g. 10ms, 1s), got 'soon'" in text
    assert "FORCE_IP: expected boolean" in text
