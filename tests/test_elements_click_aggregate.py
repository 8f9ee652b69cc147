"""The aggregate elements, from their Click manuals: AggregateIP (with Click's IP
field syntax), AggregateCounter and its files, AggregateLength, AggregatePaint,
AggregateFirst, AggregateLast and AggregateFilter."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

from pyclick.element import Element, write_handler
from pyclick.elements.aggregatemisc import DELETE_AGG, AggregateListener
from pyclick.elements.ipfield import parse_ip_field, unparse_ip_field
from pyclick.errors import ConfigError, Landmark
from pyclick.lang import flatten
from pyclick.packet import ANNOTATIONS, Packet
from pyclick.router import Router
from pyclick.runtime.handlers import HandlerError
from tests.frames import ether, ip_packet, tcp, udp
from tests.helpers import config_error_of, configured_router
from tests.sinks import KeepingTestSink, pushed  # noqa: F401  (the sink the configurations name)

LANDMARK = Landmark("agg.click", 3)
AGGREGATE = ANNOTATIONS["AGGREGATE"][0]
EXTRA_PACKETS = ANNOTATIONS["EXTRA_PACKETS"][0]
MAC = ("00:11:22:33:44:55", "66:77:88:99:aa:bb")

# The capture the counters read: (source, transport, bytes lost by the capture).
# Frames are 14 + 20 + transport bytes long: 44, 48, 44 and 54 (60 on the wire).
TRACE = [("10.0.0.1", 17, udp(53, 1000, b"ab"), 0),
         ("10.0.0.2", 17, udp(53, 1000, b"abcdef"), 0),
         ("10.0.0.1", 17, udp(53, 1001, b"cd"), 0),
         ("192.168.0.1", 6, tcp(80, 2000), 6)]
# The sources as aggregates (ip src), host order.
A1, A2, A3 = 0x0A000001, 0x0A000002, 0xC0A80001


def frame(src: str, proto: int, transport: bytes, **fields) -> bytes:
    return ether(*MAC, 0x0800, ip_packet(src, "10.0.0.9", proto, transport, **fields))


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    """TRACE as a little-endian microsecond pcap, packet i at second 1000 + i."""
    path = tmp_path / "trace.pcap"
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, (src, proto, transport, lost) in enumerate(TRACE):
            data = frame(src, proto, transport)
            out.write(struct.pack("<IIII", 1000 + i, 0, len(data), len(data) + lost) + data)
    return path


def run(config: str, *handlers: str) -> tuple[Router, list[str]]:
    router = Router(flatten(config, filename="agg.click"), simtime=True)
    router.configure()
    values: list[str] = []
    router.run(handle_signals=False,
               before_cleanup=lambda: values.extend(router.handlers.read(h) for h in handlers))
    return router, values


def counted(trace: Path, counter: str, *handlers: str, field: str = "ip src",
            then: str = "") -> list[str]:
    """Run the trace through AggregateIP(field) into ``ac :: counter``; then
    the DriverManager instructions ``then``; the handler values."""
    config = (f"FromDump({trace}, STOP true) -> CheckIPHeader(14) -> AggregateIP({field})"
              f" -> ac :: {counter} -> Discard; DriverManager(wait_stop{then})")
    return run(config, *handlers)[1]


def ip_frame_packet(data: bytes) -> Packet:
    """A packet of an Ethernet frame with its network header annotation set."""
    packet = Packet(data)
    packet.set_mac_header(0)
    packet.set_network_header(14, (data[14] & 15) * 4)
    return packet


def with_aggregate(value: int, data: bytes = b"x" * 20) -> Packet:
    packet = Packet(data)
    packet.set_anno_u32(AGGREGATE, value)
    return packet


def refusal(cls: str, config: str) -> str:
    """The configuration error of element ``e :: cls(config)``."""
    return str(config_error_of(pushed, cls, config, [], 1, LANDMARK))


def aggregates(packets: list[Packet]) -> list[int]:
    return [p.anno_u32(AGGREGATE) for p in packets]


# --- Click's IP field syntax

@pytest.mark.parametrize("text, written, offset, length", [
    ("ip src", "ip src", 96, 32),
    ("ip dst/24", "ip dst/24", 128, 24),
    ("ip[12]", "ip src/8", 96, 8),
    ("ip{96-103}", "ip src/8", 96, 8),
    ("ip[16:4]", "ip dst", 128, 32),
    ("ip src [0:1]", "ip src/8", 96, 8),
    ("ip src {3}", "ip src{3}", 99, 1),
    ("ip src & 0xFF00", "ip src[2]", 112, 8),
    ("ip src & 0x7FFFFFFF", "ip src{1:31}", 97, 31),
    # Bits 4-9 of the 16 bits from byte 8.
    ("ip[8:2] & 0x3F0", "ip{70:6}", 70, 6),
    ("ip tos", "ip tos", 8, 8),
    ("ip [1] / 4", "ip tos/4", 8, 4),
    ("ip dscp", "ip dscp", 8, 6),
    ("ip fragoff", "ip fragoff", 51, 13),
    ("ip df", "ip df", 49, 1),
    ("ip sport", "tcpudp sport", 0, 16),
    ("tcp sport", "tcp sport", 0, 16),
    ("tcp [0:2]", "tcp sport", 0, 16),
    ("tcp seqno", "tcp seq", 32, 32),
    ("tcp push", "tcp psh", 108, 1),
    ("tcp ack", "tcp ack", 107, 1),
    ("tcp win & 0xF0", "tcp win{8:4}", 120, 4),
    ("udp dport", "udp dport", 16, 16),
    ("icmp type", "icmp type", 0, 8),
    ("ip proto 6 [12]/4", "tcp hl", 96, 4),
    ("ip proto 17 sport", "udp sport", 0, 16),
    ("ip proto 300 [0]", "ip proto 300[0]", 0, 8),
    ("transp [4]", "transp[4]", 32, 8),
    ("transp [2000]", "transp[2000]", 16000, 8),
    ("payload [0:2]", "payload[0:2]", 0, 16),
    ("gre [0:2]", "gre[0:2]", 0, 16),
    # As Click counts it: the last byte from the first offset in bits (8), so
    # [1-9] is 2 bytes.
    ("ip[1-9]", "ip[1:2]", 8, 16),
    ("ip[0x0c]", "ip src/8", 96, 8),
    ("ip[014]", "ip src/8", 96, 8),
    ("ip[ 1 : 2 ]", "ip[1:2]", 8, 16),
])
def test_fields_read_and_write_as_in_click(text, written, offset, length):
    field, end = parse_ip_field(text)
    assert (unparse_ip_field(field), field.bit_offset, field.bit_length, end) == \
        (written, offset, length, len(text))


@pytest.mark.parametrize("text, message", [
    ("ip", "expected 'HEADER [NAME] [{OFFSET:LENGTH}] [/PREFIX] [& MASK]'"),
    ("tcp[0:2]", "expected 'HEADER"),
    ("tcp ackf", "expected 'HEADER"),
    ('"ip[12, 1]"', "expected 'HEADER"),
    ("ip[4:0]", "bad offset or length in TCP/IP field"),
    ("ip src [8:1]", "bad offset or length"),
    ("ip[12-15]", "bad offset or length"),
    ("ip src/33", "bad prefix or mask in TCP/IP field"),
    ("ip src & 0", "bad prefix or mask"),
    ("ip src & 5", "bad prefix or mask"),
])
def test_bad_fields_are_refused(text, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("{", r"\{")):
        parse_ip_field(text)


# --- AggregateIP

TCP_FRAME = frame("10.0.0.1", 6, tcp(1234, 80, payload=b"\x07hi!"), tos=0x28, ident=0x1234)
UDP_FRAME = frame("10.0.2.3", 17, udp(53, 5353, b"\x09abc"))
LATER_FRAGMENT = frame("10.0.0.1", 6, tcp(1234, 80), frag=1)


def aggregate_ip(config: str, frames: list[bytes], before: int | None = None):
    packets = [ip_frame_packet(f) for f in frames]
    if before is not None:
        for p in packets:
            p.set_anno_u32(AGGREGATE, before)
    _, (good, bad) = pushed("AggregateIP", config, packets, 2, LANDMARK)
    return aggregates(good), len(bad)


@pytest.mark.parametrize("config, expected", [
    ("ip src", [0x0A000001, 0x0A000203]),
    ("ip src/24", [0x0A0000, 0x0A0002]),
    ("ip src/8, UNSHIFT_IP_ADDR true", [0x0A000000, 0x0A000000]),
    ("ip dst & 0xFF", [9, 9]),
    ("ip proto", [6, 17]),
    ("ip dscp", [0x28 >> 2, 0]),
    ("ip id", [0x1234, 0]),
    ("tcpudp dport", [80, 5353]),
    ("transp [0:2]", [1234, 53]),
    # The first payload byte, after the 20-byte TCP header or the 8-byte UDP header.
    ("payload [0]", [7, 9]),
])
def test_aggregate_ip_takes_the_field_value(config, expected):
    assert aggregate_ip(config, [TCP_FRAME, UDP_FRAME]) == (expected, 0)


def test_packets_without_the_field_leave_by_output_1():
    # A UDP packet has no TCP port, a later fragment no transport header.
    assert aggregate_ip("tcp dport", [TCP_FRAME, UDP_FRAME, LATER_FRAGMENT]) == ([80], 2)
    assert aggregate_ip("ip id", [LATER_FRAGMENT]) == ([0], 0)
    # The whole word holding the field must be there: bytes 20-23 of a
    # 20-byte IP packet are not, nor the 4 bytes of a 3-byte payload.
    short_payload = frame("10.0.0.1", 17, udp(53, 5353, b"abc"))
    assert aggregate_ip("payload [0]", [short_payload]) == ([], 1)
    bare = ether(*MAC, 0x0800, ip_packet("1.2.3.4", "5.6.7.8", 99, b""))
    assert aggregate_ip("ip[20]", [bare]) == ([], 1)
    assert aggregate_ip("ip[19]", [bare]) == ([8], 0)
    # No network header annotation: no field.
    _, (good, bad) = pushed("AggregateIP", "ip src", [TCP_FRAME], 2, LANDMARK)
    assert (good, len(bad)) == ([], 1)
    # Without output 1 they are dropped.
    _, (good,) = pushed("AggregateIP", "udp sport", [ip_frame_packet(TCP_FRAME)], 1, LANDMARK)
    assert good == []


def test_incremental_shifts_in_the_field():
    # Protocol 6, then the 16-bit port: (6 << 16) + 80.
    assert aggregate_ip("tcp dport, INCREMENTAL true", [TCP_FRAME], before=6) == \
        ([(6 << 16) + 80], 0)
    # The annotation keeps its 32 bits.
    assert aggregate_ip("ip ttl, INCREMENTAL true", [TCP_FRAME], before=0x12345678) == \
        ([0x34567840], 0)


def test_aggregate_ip_handlers_describe_the_field():
    e, _ = pushed("AggregateIP", "tcp [13] & 0x3F", [], 1, LANDMARK)
    read = e.router.handlers.read
    assert [read("e.field"), read("e.header"), read("e.bit_offset"), read("e.bit_length")] == \
        ["tcp flags{2:6}", "tcp", "106", "6"]
    e, _ = pushed("AggregateIP", "ip src", [], 1, LANDMARK)
    assert e.router.handlers.read("e.header") == ""


@pytest.mark.parametrize("config, message", [
    ("ip src junk", "FIELD: garbage after field specification"),
    ("ip[2:4]", "FIELD: field specification does not fit within a single word"),
    # As in Click, a mask reaching the top bit does not fit.
    ("ip src & 0xFF000000", "FIELD: field specification does not fit within a single word"),
    ("ip src/0", "FIELD: field specification does not fit within a single word"),
    ("ip src/33", "FIELD: bad prefix or mask in TCP/IP field"),
    ("ip src, INCREMENTAL true", "INCREMENTAL: incompatible with a field of 32 bits"),
    ("", "FIELD: missing mandatory argument"),
    ("ip src, UNSHIFT_IP_ADDR maybe", "UNSHIFT_IP_ADDR: expected boolean"),
])
def test_aggregate_ip_errors_name_the_element_and_keyword(config, message):
    assert "agg.click:3: While configuring 'e :: AggregateIP': " + message in \
        refusal("AggregateIP", config)


# --- AggregateCounter

HEAD = "!IPAggregate 1.0\n"


def test_counter_files_byte_for_byte(trace, tmp_path):
    files = {name: tmp_path / name for name in ("t.txt", "a.txt", "b.bin", "i.txt", "p.txt")}
    then = "".join(f", write ac.{h} {files[n]}" for h, n in [
        ("write_text_file", "t.txt"), ("write_ascii_file", "a.txt"), ("write_file", "b.bin"),
        ("write_ip_file", "i.txt"), ("write_pdf_file", "p.txt")])
    assert counted(trace, 'AggregateCounter(BANNER "# trace")', "ac.nagg", "ac.count",
                   then=then) == ["3", "4"]
    text = f"{HEAD}# trace\n!num_nonzero 3\n{A1} 2\n{A2} 1\n{A3} 1\n"
    assert files["t.txt"].read_text() == text
    assert files["a.txt"].read_text() == text
    assert files["i.txt"].read_text() == (f"{HEAD}# trace\n!num_nonzero 3\n!ip\n10.0.0.1 2\n"
                                          "10.0.0.2 1\n192.168.0.1 1\n")
    assert files["p.txt"].read_text() == \
        f"{HEAD}# trace\n!num_nonzero 3\n{A1} 0.5\n{A2} 0.25\n{A3} 0.25\n"
    order = "<" if sys.byteorder == "little" else ">"
    packed = f"!packed_{'le' if order == '<' else 'be'}\n".encode()
    assert files["b.bin"].read_bytes() == \
        f"{HEAD}# trace\n!num_nonzero 3\n".encode() + packed + \
        struct.pack(f"{order}6I", A1, 2, A2, 1, A3, 1)


def test_counter_writes_to_standard_output(trace, capfd):
    counted(trace, "AggregateCounter", then=", write ac.write_text_file -")
    assert capfd.readouterr().out == f"{HEAD}!num_nonzero 3\n{A1} 2\n{A2} 1\n{A3} 1\n"


@pytest.mark.parametrize("keywords, expected", [
    # Frames of 44, 48, 44 and 54 bytes, the last one 60 on the wire.
    ("BYTES true", [88, 48, 60]),
    ("BYTES true, EXTRA_LENGTH false", [88, 48, 54]),
    ("BYTES true, IP_BYTES true", [60, 34, 46]),
])
def test_counter_counts_bytes(trace, capfd, keywords, expected):
    assert counted(trace, f"AggregateCounter({keywords})", "ac.count",
                   then=", write ac.write_text_file -") == [str(sum(expected))]
    lines = capfd.readouterr().out.splitlines()[2:]
    assert lines == [f"{a} {n}" for a, n in zip((A1, A2, A3), expected)]


def test_frozen_counter_counts_only_aggregates_it_knows(trace):
    # Frozen after one aggregate: the 10.0.0.2 and 192.168.0.1 packets are
    # not counted, and leave by output 1.
    config = (f"FromDump({trace}, STOP true) -> CheckIPHeader(14) -> AggregateIP(ip src)"
              " -> ac :: AggregateCounter(AGGREGATE_FREEZE 1) -> c0 :: Counter -> Discard;"
              " ac[1] -> c1 :: Counter -> Discard")
    assert run(config, "ac.nagg", "ac.count", "ac.freeze", "c0.count", "c1.count")[1] == \
        ["1", "2", "true", "2", "2"]
    # Input 1 is always frozen: each packet counts there once input 0 saw its aggregate.
    config = (f"FromDump({trace}, STOP true) -> CheckIPHeader(14) -> AggregateIP(ip src)"
              " -> t :: Tee; t[0] -> ac :: AggregateCounter -> Discard; t[1] -> [1] ac")
    assert run(config, "ac.nagg", "ac.count", "ac.freeze")[1] == ["3", "8", "false"]


def test_aggregate_stop_stops_before_counting_one_more(trace):
    router, values = run(
        f"FromDump({trace}, STOP true) -> CheckIPHeader(14) -> AggregateIP(ip src)"
        " -> ac :: AggregateCounter(AGGREGATE_STOP 2) -> Discard", "ac.nagg", "ac.count",
        "ac.active", "ac.aggregate_call")
    assert values == ["2", "3", "false", ""]
    assert router.stop_reason == "ac: stop handler written"


def test_count_call_calls_once_the_total_is_reached(trace):
    # The call is 'stop': the counter's own stop handler, as Click finds it.
    assert counted(trace, "AggregateCounter(COUNT_CALL 3 freeze true)", "ac.count",
                   "ac.freeze", "ac.count_call") == ["3", "true", ""]
    assert counted(trace, "AggregateCounter(AGGREGATE_CALL 2 stop)", "ac.count",
                   "ac.active") == ["3", "false"]
    assert counted(trace, "AggregateCounter(COUNT_CALL 9 ac.clear)", "ac.count_call",
                   "ac.aggregate_call") == ["9 ac.clear", ""]
    assert counted(trace, "AggregateCounter(AGGREGATE_FREEZE 7)",
                   "ac.aggregate_call") == ["7 ac.freeze true"]


def test_a_call_finds_the_counters_own_handlers_first(trace, tmp_path):
    # Once two packets are counted, one of each of the first two sources.
    counted(trace, f"AggregateCounter(COUNT_CALL 2 write_text_file {tmp_path}/early.txt)")
    assert (tmp_path / "early.txt").read_text() == f"{HEAD}!num_nonzero 2\n{A1} 1\n{A2} 1\n"


def test_call_handlers_can_be_set_and_cleared(trace):
    then = (", write ac.aggregate_call 1 ac.freeze true, write ac.count_call 100 ac.clear,"
            " write ac.count_call")
    assert counted(trace, "AggregateCounter", "ac.aggregate_call", "ac.count_call",
                   then=then) == ["1 ac.freeze true", ""]
    router, _ = run(f"FromDump({trace}, STOP true) -> CheckIPHeader(14) -> AggregateIP(ip src)"
                    " -> ac :: AggregateCounter -> Discard")
    write = router.handlers.write
    for value, message in [("x ac.clear", "argument to 'aggregate_call' should be"),
                           ("5 ac.nagg", "no 'ac.nagg' write handler"),
                           ("5 zz.clear", "no element named 'zz'")]:
        with pytest.raises(HandlerError, match=message):
            write("ac.aggregate_call", value)


def test_counts_pdf_counts_the_counts_as_click_does(tmp_path):
    # Aggregate 1 three times, then 2 once. Click's trie then has five nodes:
    # three of them count 0 and give aggregate 0 a count of 3.
    config = ("a :: InfiniteSource(LIMIT 3) -> Paint(1) -> AggregatePaint -> ac :: AggregateCounter"
              " -> Discard; b :: InfiniteSource(LIMIT 1, ACTIVE false) -> Paint(2)"
              f" -> AggregatePaint -> ac; DriverManager(wait 0.1s, write b.active true,"
              f" wait 0.1s, write ac.counts_pdf, write ac.write_text_file {tmp_path}/1.txt,"
              f" write ac.reaggregate_counts, write ac.write_text_file {tmp_path}/2.txt, stop)")
    assert run(config, "ac.nagg", "ac.count")[1] == ["3", "5"]
    assert (tmp_path / "1.txt").read_text() == f"{HEAD}!num_nonzero 3\n0 3\n1 1\n3 1\n"
    # Again: counts 3, 1, 1 and two more zero-count nodes.
    assert (tmp_path / "2.txt").read_text() == f"{HEAD}!num_nonzero 3\n0 2\n1 2\n3 1\n"


def test_counter_state_handlers(trace, tmp_path):
    router, _ = run(f"FromDump({trace}, STOP true) -> CheckIPHeader(14) -> AggregateIP(ip src)"
                    " -> ac :: AggregateCounter -> Discard")
    read, write = router.handlers.read, router.handlers.write
    write("ac.banner", "# one")
    assert read("ac.banner") == "# one\n"
    write("ac.banner", "\n")
    assert read("ac.banner") == ""
    assert type(router.element("ac")).raw_handler("banner")
    write("ac.freeze", "true")
    write("ac.active", "false")
    assert [read("ac.freeze"), read("ac.active")] == ["true", "false"]
    write("ac.clear")
    assert [read("ac.nagg"), read("ac.count")] == ["0", "0"]
    with pytest.raises(HandlerError, match="expected boolean"):
        write("ac.freeze", "maybe")
    with pytest.raises(HandlerError, match="argument should be filename"):
        write("ac.write_file", "")
    with pytest.raises(HandlerError, match="No such file or directory"):
        write("ac.write_text_file", str(tmp_path / "missing" / "x.txt"))


@pytest.mark.parametrize("keywords, message", [
    ("AGGREGATE_STOP 1, AGGREGATE_FREEZE 2",
     "'AGGREGATE_FREEZE', 'AGGREGATE_STOP', and 'AGGREGATE_CALL' are mutually exclusive"),
    ("COUNT_STOP 1, COUNT_CALL 5 ac.clear",
     "'COUNT_FREEZE', 'COUNT_STOP', and 'COUNT_CALL' are mutually exclusive"),
    ("AGGREGATE_CALL x ac.clear",
     "AGGREGATE_CALL: first word should be unsigned (number of aggregates)"),
    ("COUNT_CALL 5 zz.clear", "COUNT_CALL: no element named 'zz'"),
    ("AGGREGATE_STOP 4294967296", "AGGREGATE_STOP: must be at least 0 and at most 4294967295"),
    ("BYTES maybe", "BYTES: expected boolean"),
])
def test_counter_errors_name_the_element_and_keyword(keywords, message):
    assert f"While configuring 'e :: AggregateCounter': {message}" in \
        refusal("AggregateCounter", keywords.replace("ac.", "e."))


def test_counter_checks_its_call_handler_when_it_initializes():
    router = configured_router([("ac", "AggregateCounter", "AGGREGATE_CALL 5 ac.nagg")],
                               at=LANDMARK)
    with pytest.raises(ConfigError, match="no 'ac.nagg' write handler"):
        router.initialize()


def test_counter_pulled_counts_what_passes():
    config = ("InfiniteSource(LIMIT 5) -> AggregateLength -> Queue -> ac :: AggregateCounter"
              " -> Unqueue -> Discard; Script(wait 1, stop)")
    assert run(config, "ac.nagg", "ac.count")[1] == ["1", "5"]


# --- AggregateLength, AggregatePaint

def test_aggregate_length_adds_the_extra_length():
    packet = ip_frame_packet(TCP_FRAME)
    packet.extra_length = 4
    _, (out,) = pushed("AggregateLength", "", [packet], 1, LANDMARK)
    assert aggregates(out) == [len(TCP_FRAME) + 4]
    _, (out,) = pushed("AggregateLength", "IP true", [ip_frame_packet(TCP_FRAME)], 1, LANDMARK)
    assert aggregates(out) == [len(TCP_FRAME) - 14]
    # Without a network header annotation there is no IP length.
    _, (out,) = pushed("AggregateLength", "IP true", [Packet(TCP_FRAME)], 1, LANDMARK)
    assert out == []


def test_aggregate_paint_takes_the_low_bits():
    def painted(config: str, before: int = 0) -> list[int]:
        packet = with_aggregate(before)
        packet.paint = 0xB7
        return aggregates(pushed("AggregatePaint", config, [packet], 1, LANDMARK)[1][0])
    assert painted("") == [0xB7]
    assert painted("2") == [3]
    assert painted("BITS 3, INCREMENTAL true", before=5) == [(5 << 3) + 7]
    for bits in ("0", "9"):
        with pytest.raises(ConfigError, match="BITS: must be at least 1 and at most 8"):
            painted(bits)


# --- AggregateFirst, AggregateLast

class AggTestNotifier(Element):
    """AggTestNotifier() -- tells its listeners that the aggregate written to 'end' ended"""

    port_count = "0/0"

    def configure(self, args) -> None:
        args.complete()
        self.listeners: list[AggregateListener] = []

    def add_aggregate_listener(self, listener: AggregateListener) -> None:
        self.listeners.append(listener)

    @write_handler("end")
    def _end(self, value: str) -> None:
        for listener in self.listeners:
            listener.aggregate_notify(int(value), DELETE_AGG, None)


def notified_router(cls: str, config: str) -> Router:
    router = configured_router([("n", "AggTestNotifier", ""), ("e", cls, config),
                                ("s0", "KeepingTestSink", ""), ("s1", "KeepingTestSink", "")],
                               [("e", 0, "s0", 0), ("e", 1, "s1", 0)], at=LANDMARK, simtime=True)
    router.initialize()
    return router


def test_aggregate_first_passes_the_first_packet_of_each_aggregate():
    _, (first, later) = pushed("AggregateFirst", "", [with_aggregate(a) for a in (1, 2, 1, 3, 2)],
                               2, LANDMARK)
    assert (aggregates(first), aggregates(later)) == ([1, 2, 3], [1, 2])


def test_aggregate_first_forgets_the_aggregates_its_notifier_ends():
    router = notified_router("AggregateFirst", "NOTIFIER n")
    e = router.element("e")
    e.push(0, [with_aggregate(1), with_aggregate(1)])
    router.handlers.write("n.end", "1")
    e.push(0, [with_aggregate(1)])
    assert aggregates(router.element("s0").packets) == [1, 1]
    assert aggregates(router.element("s1").packets) == [1]
    router.cleanup()


def test_aggregate_last_keeps_the_last_packet_with_the_totals(trace):
    router = Router(flatten(
        f"FromDump({trace}, STOP true) -> CheckIPHeader(14) -> AggregateIP(ip src)"
        " -> al :: AggregateLast(STOP_AFTER_CLEAR true) -> k0 :: KeepingTestSink;"
        " al[1] -> k1 :: KeepingTestSink; dm :: DriverManager(pause, write al.clear, wait_stop)",
        filename="agg.click"), simtime=True)
    router.configure()
    router.run(handle_signals=False)
    replaced, kept = router.element("k1").packets, router.element("k0").packets
    assert aggregates(replaced) == [A1]
    # In the order of the aggregates; the 10.0.0.1 packet stands for two.
    assert aggregates(kept) == [A1, A2, A3]
    assert [p.anno_u32(EXTRA_PACKETS) for p in kept] == [1, 0, 0]
    assert [p.extra_length for p in kept] == [44, 0, 6]
    assert [p.first_timestamp for p in kept] == \
        [replaced[0].timestamp, kept[1].timestamp, kept[2].timestamp]
    assert kept[0].timestamp - kept[0].first_timestamp == pytest.approx(2.0)
    # STOP_AFTER_CLEAR: the clear ends the driver's wait_stop.
    assert router.stop_reason == "dm: stop"


def test_aggregate_last_sends_what_its_notifier_ends():
    router = notified_router("AggregateLast", "NOTIFIER n")
    e = router.element("e")
    e.push(0, [with_aggregate(4, b"a" * 10), with_aggregate(5), with_aggregate(4, b"b" * 30)])
    router.handlers.write("n.end", "4")
    router.handlers.write("n.end", "6")
    out = router.element("s0").packets
    assert [(p.data, p.anno_u32(EXTRA_PACKETS), p.extra_length) for p in out] == \
        [(b"b" * 30, 1, 10)]
    assert [p.data for p in router.element("s1").packets] == [b"a" * 10]
    router.cleanup()


def test_notifier_must_be_an_aggregate_notifier():
    with pytest.raises(ConfigError, match="NOTIFIER: 'n :: Idle' is not an AggregateNotifier"):
        configured_router([("n", "Idle", ""), ("e", "AggregateFirst", "NOTIFIER n")],
                          at=LANDMARK)


# --- AggregateFilter

def test_aggregate_filter_sends_by_the_first_filter_listing_the_aggregate(caplog):
    values = (1, 2, 3, 4, 5, 6, 7, 100)
    _, (allowed, ones) = pushed("AggregateFilter", "allow 1 5-7, 1 3 6, drop 2, 1 all",
                                [with_aggregate(a) for a in values], 2, LANDMARK)
    assert (aggregates(allowed), aggregates(ones)) == ([1, 5, 6, 7], [3, 4, 100])
    assert "pattern 1: aggregate 6 already filtered to output 0" in caplog.text
    # Not listed, or sent to a missing output: dropped.
    _, (allowed, ones) = pushed("AggregateFilter", "allow 1, 7 2", [with_aggregate(a)
                                                                   for a in (1, 2, 3)],
                                2, LANDMARK)
    assert (aggregates(allowed), aggregates(ones)) == ([1], [])


def test_aggregate_filter_warns_of_filters_after_all(caplog):
    _, (allowed,) = pushed("AggregateFilter", "allow -, 0 1", [with_aggregate(9)], 1, LANDMARK)
    assert aggregates(allowed) == [9]
    assert "pattern 1 matches no packets" in caplog.text
    # The whole 32-bit range in one filter.
    _, (allowed,) = pushed("AggregateFilter", "deny 4294967295, allow 4000000000-4294967295",
                           [with_aggregate(a) for a in (4294967295, 4294967294, 3)], 1,
                           LANDMARK)
    assert aggregates(allowed) == [4294967294]


@pytest.mark.parametrize("config, message", [
    ("x 1", "pattern 0: expected a port number"),
    ("-1 2", "pattern 0: expected a port number"),
    ("allow", "pattern 0 has no aggregates"),
    ("allow 1, 1 a-b", "pattern 1: bad aggregate number 'a-b'"),
    ("allow 7-", "pattern 0: bad aggregate number '7-'"),
    ("allow 1 -", "pattern 0: bad aggregate number '-'"),
    ("allow 4294967296", "pattern 0: bad aggregate number '4294967296'"),
])
def test_aggregate_filter_errors(config, message):
    assert f"While configuring 'e :: AggregateFilter': {message}" in \
        refusal("AggregateFilter", config)
