"""IPAddrRewriter, IPAddrPairRewriter and SourceIPHashMapper, checked against Click's
manuals and its user-level driver.

Expected frames are built from scratch with every checksum computed in full
(tests.frames), so the rewriters' incremental updates are checked against an
independent computation. The hash mapper's choices are worked out by hand
from the C library's well-known first outputs after ``srandom(1)``.
"""

from __future__ import annotations

import struct

import pytest

from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.packet import Packet
from pyclick.router import Router
from pyclick.runtime.handlers import HandlerError
from tests.frames import click_hex, icmp, ip_packet, tcp, udp
from tests.sinks import KeepingTestSink
from tests.test_elements_rewriter import with_checksum

SINK = KeepingTestSink.__name__


def router(text: str) -> Router:
    built = Router(flatten(text, filename="t.click"), simtime=True)
    built.configure()
    built.initialize()
    return built


def two_way(cls: str, specs: str) -> str:
    """A rewriter ``rw`` of class ``cls`` with two inputs and outputs kept by out0, out1."""
    return (f"rw :: {cls}({specs});\nIdle -> [0]rw; Idle -> [1]rw;\n"
            f"rw[0] -> out0 :: {SINK}; rw[1] -> out1 :: {SINK};\n")


def push(r: Router, port: int, *frames: bytes) -> list[Packet]:
    packets = [Packet(f) for f in frames]
    r.element("rw").push(port, packets)
    return packets


def kept(r: Router, sink: str) -> list[bytes]:
    return [p.data for p in r.element(sink).packets]


def read(r: Router, handler: str) -> str:
    return r.handlers.read(handler)


def udp_frame(src: str, dst: str, sport: int = 5000, dport: int = 53) -> bytes:
    return with_checksum(ip_packet(src, dst, 17, udp(sport, dport, b"query")))


def tcp_frame(src: str, dst: str, sport: int = 1234, dport: int = 80) -> bytes:
    return with_checksum(ip_packet(src, dst, 6, tcp(sport, dport, payload=b"hi")))


# --- IPAddrRewriter ---------------------------------------------------------------------------

def test_addr_rewriter_rewrites_the_source_and_the_replies_destination():
    r = router(two_way("IPAddrRewriter", "pattern 1.0.0.1-1.0.0.5# - 0 1, drop"))
    push(r, 0, udp_frame("10.0.0.1", "2.2.2.2"), tcp_frame("10.0.0.2", "2.2.2.2"))
    assert kept(r, "out0") == [udp_frame("1.0.0.1", "2.2.2.2"), tcp_frame("1.0.0.2", "2.2.2.2")]
    # Replies may come from anywhere, on any port: only the address counts.
    push(r, 1, tcp_frame("3.3.3.3", "1.0.0.1", 22, 99), udp_frame("2.2.2.2", "1.0.0.2", 53, 7))
    assert kept(r, "out1") == [tcp_frame("3.3.3.3", "10.0.0.1", 22, 99),
                               udp_frame("2.2.2.2", "10.0.0.2", 53, 7)]
    assert read(r, "rw.table_size") == "2" and read(r, "rw.size") == "2"


def test_addr_rewriter_table_prints_reply_mappings_as_click_does():
    r = router(two_way("IPAddrRewriter", "pattern 1.0.0.1-1.0.0.5# - 0 1, drop"))
    push(r, 0, udp_frame("10.0.0.1", "2.2.2.2"))
    # Default timeout two hours; Click prints the reply direction with zero addresses.
    assert read(r, "rw.table") == ("10.0.0.1 => 1.0.0.1 [*0 1] i0 exp7200\n"
                                   "0.0.0.0 => 0.0.0.0 [0 *1] i0 exp7200\n")
    assert read(r, "rw.mappings") == read(r, "rw.table")
    assert read(r, "rw.patterns") == "1.0.0.1-1.0.0.5 - [1]\n<drop>\n"
    assert read(r, "rw.pattern0") == "1.0.0.1-1.0.0.5 - [1]\n"


def test_addr_rewriter_checksums_of_other_protocols_fragments_and_empty_udp_sums():
    r = router(two_way("IPAddrRewriter", "pattern 1.0.0.9 - 0 1, drop"))
    ping = ip_packet("10.0.0.1", "2.2.2.2", 1, icmp(8, 0, b"\0\7\0\1xx"))
    later_fragment = ip_packet("10.0.0.1", "2.2.2.2", 6, bytes(24), frag=2)
    no_sum = ip_packet("10.0.0.1", "3.3.3.3", 17, udp(1, 2, b"abcd"))
    push(r, 0, ping, later_fragment, no_sum)
    # Only the IP header changes: ICMP has no pseudo-header, a later fragment
    # no transport header, and a UDP checksum of 0 means none.
    assert kept(r, "out0") == [ip_packet("1.0.0.9", "2.2.2.2", 1, icmp(8, 0, b"\0\7\0\1xx")),
                               ip_packet("1.0.0.9", "2.2.2.2", 6, bytes(24), frag=2),
                               ip_packet("1.0.0.9", "3.3.3.3", 17, udp(1, 2, b"abcd"))]


def test_addr_rewriter_ip_checksum_by_hand():
    r = router(two_way("IPAddrRewriter", "pattern 10.0.0.2 - 0 1, drop"))
    frame = ip_packet("10.0.0.1", "2.2.2.2", 1, b"")
    (before,) = struct.unpack_from("!H", frame, 10)
    push(r, 0, frame)
    (after,) = struct.unpack_from("!H", kept(r, "out0")[0], 10)
    # The source's low word grows by one, so the one's complement sum does
    # too, and the checksum (its complement) drops by one.
    assert after == before - 1


def test_addr_rewriter_hands_out_addresses_until_none_is_left():
    r = router(two_way("IPAddrRewriter", "pattern 1.0.0.1-1.0.0.2# - 0 1, drop"))
    push(r, 0, *(udp_frame(f"10.0.0.{i}", "2.2.2.2") for i in (1, 2, 3)))
    assert [f[12:16] for f in kept(r, "out0")] == [bytes([1, 0, 0, 1]), bytes([1, 0, 0, 2])]
    assert read(r, "rw.mapping_failures") == "1" and read(r, "rw.nmappings") == "2"
    # A mapped host keeps its address, to any destination.
    push(r, 0, udp_frame("10.0.0.2", "8.8.8.8"))
    assert kept(r, "out0")[-1] == udp_frame("1.0.0.2", "8.8.8.8")


def test_addr_rewriter_source_mapping_wins_over_reply_mapping():
    r = router(two_way("IPAddrRewriter", "pattern 1.0.0.1-1.0.0.2# - 0 1, drop"))
    push(r, 0, udp_frame("10.0.0.1", "2.2.2.2"), udp_frame("10.0.0.2", "2.2.2.2"))
    # From one mapped host to the other's new address: the source's mapping
    # applies, the destination stays.
    push(r, 1, udp_frame("10.0.0.2", "1.0.0.1"))
    assert kept(r, "out0")[2:] == [udp_frame("1.0.0.2", "1.0.0.1")] and kept(r, "out1") == []


def test_addr_rewriter_sets_the_destination_annotation_of_replies_only():
    r = router(two_way("IPAddrRewriter", "pattern 1.0.0.1 - 0 1, drop"))
    out, = push(r, 0, udp_frame("10.0.0.1", "2.2.2.2"))
    back, = push(r, 1, udp_frame("2.2.2.2", "1.0.0.1"))
    assert out.dst_ip == bytes(4) and back.dst_ip == bytes([10, 0, 0, 1])


def test_addr_rewriter_drops_flows_its_pattern_gives_a_destination_or_ports():
    r = router(two_way("IPAddrRewriter", "pattern 1.0.0.1 5.5.5.5 0 1, "
                                         "pattern 1.0.0.2 7 - - 0 1"))
    push(r, 0, udp_frame("10.0.0.1", "2.2.2.2"))
    push(r, 1, udp_frame("10.0.0.2", "2.2.2.2"))
    assert kept(r, "out0") == [] and read(r, "rw.table_size") == "0"
    assert read(r, "rw.mapping_failures") == "0"
    assert read(r, "rw.patterns") == "1.0.0.1 5.5.5.5\n1.0.0.2 7 - -\n"


def test_addr_rewriter_reads_four_field_and_named_patterns():
    r = router("IPRewriterPatterns(far 1.0.0.7 - - -);\n"
               + two_way("IPAddrRewriter", "pattern 1.0.0.9 - - - 0 1, pattern far 1 0"))
    push(r, 0, udp_frame("10.0.0.1", "2.2.2.2"))
    push(r, 1, udp_frame("10.0.0.2", "2.2.2.2"))
    assert kept(r, "out0") == [udp_frame("1.0.0.9", "2.2.2.2")]
    assert kept(r, "out1") == [udp_frame("1.0.0.7", "2.2.2.2")]


def test_addr_rewriter_pass_drop_and_short_packets():
    r = router(two_way("IPAddrRewriter", "pass 1, drop"))
    push(r, 0, udp_frame("10.0.0.1", "2.2.2.2"), b"short")
    push(r, 1, udp_frame("10.0.0.1", "2.2.2.2"), b"short")
    assert kept(r, "out1") == [udp_frame("10.0.0.1", "2.2.2.2"), b"short"]
    assert kept(r, "out0") == [] and read(r, "rw.patterns") == "<nochange>\n<drop>\n"


def test_addr_rewriter_timeout_and_guarantee(monkeypatch):
    r = router(two_way("IPAddrRewriter", "pattern 1.0.0.1-1.0.0.3# - 0 1, drop, "
                                         "TIMEOUT 30, GUARANTEE 40"))
    push(r, 0, udp_frame("10.0.0.1", "2.2.2.2"))
    # The table shows the best-effort expiry, 30s; the mapping lives 40s.
    assert read(r, "rw.table").splitlines()[0] == "10.0.0.1 => 1.0.0.1 [*0 1] i0 exp30"
    monkeypatch.setattr(r, "now", lambda: 39.0)
    assert read(r, "rw.table_size") == "1"
    monkeypatch.setattr(r, "now", lambda: 40.0)
    push(r, 1, udp_frame("2.2.2.2", "1.0.0.1"))
    assert kept(r, "out1") == [] and read(r, "rw.table") == ""


def test_addr_rewriter_capacity_refuses_guaranteed_mappings():
    r = router(two_way("IPAddrRewriter", "pattern 1.0.0.1-1.0.0.9# - 0 1, drop, CAPACITY 1"))
    push(r, 0, udp_frame("10.0.0.1", "2.2.2.2"), udp_frame("10.0.0.2", "2.2.2.2"))
    assert len(kept(r, "out0")) == 1 and read(r, "rw.mapping_failures") == "1"
    assert read(r, "rw.capacity") == "1"


def test_addr_rewriter_handlers_replace_a_spec_clear_and_shrink():
    r = router(two_way("IPAddrRewriter", "pattern 1.0.0.1 - 0 1, drop"))
    push(r, 0, udp_frame("10.0.0.1", "2.2.2.2"))
    r.handlers.write("rw.pattern0", "pattern 1.0.0.7 - 0 1")
    assert read(r, "rw.pattern0") == "1.0.0.7 -\n" and read(r, "rw.size") == "0"
    push(r, 0, udp_frame("10.0.0.4", "2.2.2.2"))
    r.handlers.write("rw.pattern1", "keep 1 0")
    assert read(r, "rw.patterns") == "1.0.0.7 - [1]\n<keep>\n"
    r.handlers.write("rw.capacity", "0")
    assert (read(r, "rw.capacity"), read(r, "rw.size")) == ("0", "0")
    r.handlers.write("rw.capacity", "5")
    push(r, 0, udp_frame("10.0.0.4", "2.2.2.2"))
    r.handlers.write("rw.clear", "")
    assert read(r, "rw.size") == "0" and read(r, "rw.table") == ""
    with pytest.raises(HandlerError, match="input spec 0: bad source address"):
        r.handlers.write("rw.pattern0", "pattern nowhere.x - 0 1")


def test_addr_rewriter_accepts_reply_anno_without_effect():
    r = router(two_way("IPAddrRewriter", "pattern 1.0.0.1 - 0 1, drop, REPLY_ANNO PAINT"))
    first = Packet(udp_frame("10.0.0.1", "2.2.2.2"))
    first.paint = 7
    r.element("rw").push(0, [first])
    back, = push(r, 1, udp_frame("2.2.2.2", "1.0.0.1"))
    assert back.paint == 0


def test_addr_rewriters_share_a_capacity():
    r = router("a :: IPAddrRewriter(pattern 1.0.0.1-1.0.0.9# - 0 0, CAPACITY 3);\n"
               "b :: IPAddrPairRewriter(pattern 1.0.0.1 - 0 0, CAPACITY a);\n"
               "Idle -> a -> Discard; Idle -> b -> Discard;")
    r.element("a").push(0, [Packet(udp_frame("10.0.0.1", "2.2.2.2"))])
    r.element("b").push(0, [Packet(udp_frame("10.0.0.1", "2.2.2.2"))])
    assert read(r, "a.size") == read(r, "b.size") == "2"
    assert read(r, "a.table_size") == read(r, "b.table_size") == "1"
    assert read(r, "b.capacity") == "3"


@pytest.mark.parametrize("specs, message", [
    ("pattern 1.0.0.300 - 0 1, drop", "input spec 0: bad source address"),
    ("pattern 1.0.0.1 x 0 1, drop", "input spec 0: bad destination address"),
    ("pattern 1.0.0.1 - 0 2, drop", "input spec 0: output port out of range"),
    ("pattern 1.0.0.1 - 0 x, drop", "input spec 0: bad reply port"),
    ("pattern nosuch 0 1, drop", "input spec 0: no such pattern 'nosuch'"),
    ("pattern 1.0.0.1 - - - - 0 1, drop", "input spec 0: syntax error"),
    ("drop", "need 2 arguments, one per input port"),
    ("drop, drop, TIMEOUT soon", "TIMEOUT: expected time (e.g. 10ms, 1s), got 'soon'"),
    ("drop, drop, REPLY_ANNO nowhere",
     "REPLY_ANNO: expected 1-byte annotation (a name, or an offset from 0 to 47), got 'nowhere'"),
    ("drop, drop, DST_ANNO false",
     "DST_ANNO: unknown keyword (known: REPLY_ANNO, CAPACITY, MAPPING_CAPACITY, TIMEOUT, "
     "GUARANTEE, REAP_INTERVAL, REAP_TIME)"),
])
def test_addr_rewriter_errors_name_the_element_and_the_spec_or_keyword(specs, message):
    with pytest.raises(ConfigError) as caught:
        router(two_way("IPAddrRewriter", specs))
    assert str(caught.value) == f"t.click:1: While configuring 'rw :: IPAddrRewriter': {message}"


# --- IPAddrPairRewriter -----------------------------------------------------------------------

def test_pair_rewriter_rewrites_both_addresses_and_back():
    r = router(two_way("IPAddrPairRewriter", "pattern 1.0.0.1-1.0.0.5# 3.3.3.3 0 1, drop"))
    out = push(r, 0, tcp_frame("10.0.0.1", "2.2.2.2"), udp_frame("10.0.0.1", "4.4.4.4"))
    assert kept(r, "out0") == [tcp_frame("1.0.0.1", "3.3.3.3"), udp_frame("1.0.0.2", "3.3.3.3")]
    back = push(r, 1, tcp_frame("3.3.3.3", "1.0.0.1", 80, 1234))
    assert kept(r, "out1") == [tcp_frame("2.2.2.2", "10.0.0.1", 80, 1234)]
    # The destination annotation follows the new destination both ways.
    assert [p.dst_ip for p in out + back] == [bytes([3, 3, 3, 3])] * 2 + [bytes([10, 0, 0, 1])]
    assert read(r, "rw.table") == (
        "(10.0.0.1, 2.2.2.2) => (1.0.0.1, 3.3.3.3) [*0 1] i0 exp7200\n"
        "(3.3.3.3, 1.0.0.1) => (2.2.2.2, 10.0.0.1) [0 *1] i0 exp7200\n"
        "(10.0.0.1, 4.4.4.4) => (1.0.0.2, 3.3.3.3) [*0 1] i0 exp7200\n"
        "(3.3.3.3, 1.0.0.2) => (4.4.4.4, 10.0.0.1) [0 *1] i0 exp7200\n")
    assert read(r, "rw.patterns") == "1.0.0.1-1.0.0.5 3.3.3.3 [2]\n<drop>\n"


def test_pair_rewriter_keeps_a_field_given_as_dash_and_drops_unknown_replies():
    r = router(two_way("IPAddrPairRewriter", "pattern - 6.6.6.6 0 1, drop"))
    push(r, 0, udp_frame("10.0.0.1", "2.2.2.2"))
    push(r, 1, udp_frame("2.2.2.2", "10.0.0.1"))
    assert kept(r, "out0") == [udp_frame("10.0.0.1", "6.6.6.6")] and kept(r, "out1") == []


def test_pair_rewriter_drops_flows_its_pattern_gives_ports():
    r = router(two_way("IPAddrPairRewriter", "pattern 1.0.0.1 - - 53 0 1, drop"))
    push(r, 0, udp_frame("10.0.0.1", "2.2.2.2"))
    assert kept(r, "out0") == [] and read(r, "rw.mapping_failures") == "0"


def test_pair_rewriter_errors():
    with pytest.raises(ConfigError) as caught:
        router(two_way("IPAddrPairRewriter", "pattern 1.0.0.1 2.0.0.1 x 0 1, drop"))
    assert str(caught.value) == ("t.click:1: While configuring 'rw :: IPAddrPairRewriter': "
                                 "input spec 0: bad source port")


# --- SourceIPHashMapper -----------------------------------------------------------------------

def test_c_random_matches_the_c_library():
    from pyclick.elements.siphmapper import CRandom
    # glibc's first outputs after srandom(1); a zero seed counts as 1.
    for seed in (1, 0):
        generator = CRandom(seed)
        assert [generator.random() for _ in range(3)] == [1804289383, 846930886, 1681692777]


def test_tree_order_lays_out_a_balanced_search_tree():
    from pyclick.elements.siphmapper import tree_order
    assert tree_order(1) == [0]
    assert tree_order(3) == [1, 0, 2]
    # Root the third smallest; its left child the second, right child the
    # fourth; the smallest under the second.
    assert tree_order(4) == [2, 1, 3, 0]


def test_source_hash_by_hand():
    from pyclick.elements.siphmapper import source_hash
    # 10.0.0.1 read little-endian is 0x0100000A; times 0x0A000001 modulo
    # 2^32 is 0x0100000A + 0x64000000.
    assert source_hash(bytes([10, 0, 0, 1])) == 0x6500000A
    assert source_hash(bytes([1, 0, 0, 1])) == 0x02000001


MAPPER_RUN = """
sm :: SourceIPHashMapper(1 1, - - 9.9.9.1 - 0 0 {first}, - - 9.9.9.2 - 0 0 {second});
rw :: IPRewriter(sm) -> k :: {sink};
InfiniteSource(DATA {a}, LIMIT 2, STOP false) -> MarkIPHeader -> rw;
InfiniteSource(DATA {b}, LIMIT 1, STOP false) -> MarkIPHeader -> rw;
Script(wait 1, stop);
"""


@pytest.mark.parametrize("first, second", [(0, 1), (1, 0)])
def test_hash_mapper_chooses_by_source_address(first, second):
    # srandom(1): server 0 gets point 1804289383, server 1 point 846930886.
    # 10.0.0.1 hashes to 0x6500000A, past 846930886: the point 1804289383,
    # rank 0; 1.0.0.1 to 0x02000001: the point 846930886, rank 1. Rank r
    # takes the r-th pattern as written, whatever its ID.
    a = click_hex(udp_frame("10.0.0.1", "2.2.2.2"))
    b = click_hex(udp_frame("1.0.0.1", "2.2.2.2"))
    r = Router(flatten(MAPPER_RUN.format(first=first, second=second, sink=SINK, a=a, b=b),
                       filename="t.click"), simtime=True)
    r.configure()
    r.run(handle_signals=False)
    assert sorted(kept(r, "k")) == sorted([udp_frame("10.0.0.1", "9.9.9.1")] * 2
                                          + [udp_frame("1.0.0.1", "9.9.9.2")])


def test_hash_mapper_drops_when_its_pattern_is_full_without_trying_others():
    r = router("sm :: SourceIPHashMapper(1 1, 1.0.0.1-1.0.0.2# - 0 0 0, 1.0.0.5 - 0 0 1);\n"
               + two_way("IPAddrRewriter", "sm, drop"))
    push(r, 0, *(udp_frame(f"10.0.0.{i}", "2.2.2.2") for i in (1, 1, 2, 3)))
    # 10.0.0.2 and 10.0.0.3 hash as 10.0.0.1 does, to 0x6600000A and 0x6700000A:
    # rank 0 again, whose two addresses are then both taken.
    assert kept(r, "out0") == [udp_frame("1.0.0.1", "2.2.2.2")] * 2 + [
        udp_frame("1.0.0.2", "2.2.2.2")]
    assert read(r, "rw.mapping_failures") == "1"
    assert read(r, "rw.patterns") == "<mapper> [2]\n<drop>\n"


@pytest.mark.parametrize("config, message", [
    ("", "no hash seed given"),
    ("5 7", "no patterns given"),
    ("5, - - 1.0.0.1 - 0 0 1, - - 1.0.0.2 - 0 0 2", "requires 2 config params: numnodes seed"),
    ("0 7, - - 1.0.0.1 - 0 0 1, - - 1.0.0.2 - 0 0 2", "NNODES: must be at least 1, got '0'"),
    ("5 x, - - 1.0.0.1 - 0 0 1, - - 1.0.0.2 - 0 0 2", "SEED: expected integer, got 'x'"),
    ("5 7, - - 1.0.0.1 - 0 0 -1, - - 1.0.0.2 - 0 0 2", "bad server ID in pattern spec"),
    ("5 7, - - 1.0.0.1 - 0 0 1, - - 1.0.0.2 - 0 0 1", "server ID 1 given twice"),
    ("5 7, - - bad - 0 0 1, - - 1.0.0.2 - 0 0 2", "bad destination address"),
])
def test_hash_mapper_errors_name_the_element(config, message):
    with pytest.raises(ConfigError) as caught:
        router(f"sm :: SourceIPHashMapper({config});\n" + two_way("IPRewriter", "sm, drop"))
    prefix = "t.click:1: While configuring 'sm :: SourceIPHashMapper': "
    assert str(caught.value) == prefix + message


def test_hash_mapper_outputs_must_exist_on_the_rewriter():
    with pytest.raises(ConfigError, match="input spec 0: output port out of range in "
                                          "sm :: SourceIPHashMapper pattern 1"):
        router("sm :: SourceIPHashMapper(3 3, - - 1.0.0.1 - 0 0 1, - - 1.0.0.2 - 0 2 2);\n"
               + two_way("IPRewriter", "sm, drop"))
