"""The pattern languages and their compiler: the decision tree agrees with the
patterns read one by one, on random patterns and random packets."""

from __future__ import annotations

import weakref
from unittest.mock import patch

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pyclick.classify import expand, tree
from pyclick.classify import indexed as indexed_module
from pyclick.classify.ippatterns import GRAMMAR as IP_GRAMMAR
from pyclick.classify.ippatterns import parse_ip_pattern
from pyclick.classify.rawpatterns import GRAMMAR as RAW_GRAMMAR
from pyclick.classify.rawpatterns import PatternError, parse_pattern
from pyclick.classify.syntax import Branch, Lexeme
from pyclick.classify.compiled import Classification, compile_patterns, forget_classifications
from pyclick.classify.expand import TooComplex
from pyclick.classify.tree import (DATA, NET, Field, Layout, conj, disj, evaluate, ip_layout,
                                   data_layout, neg)
from pyclick.packet import Packet
from tests.frames import icmp, ip_header, tcp, udp


@pytest.fixture(autouse=True)
def fresh_classifications():
    """Each test compiles its patterns under its own limits, never finding those of
    another test (or of its own other parameters) already made."""
    forget_classifications()
    yield
    forget_classifications()


def test_a_classification_is_shared_while_held_and_let_go_after():
    tcp_ = Field(NET, 9, 1, 0xFF, "==", 6)
    held = compile_patterns([(0, tcp_), (1, True)], ip_layout)
    assert compile_patterns([(0, tcp_), (1, True)], ip_layout) is held
    # Other outputs, another layout: other classifications.
    assert compile_patterns([(1, tcp_), (0, True)], ip_layout) is not held
    assert compile_patterns([(0, tcp_), (1, True)], data_layout) is not held
    # Nothing holds this one: it is not kept.
    gone = weakref.ref(compile_patterns([(0, neg(tcp_)), (1, True)], ip_layout))
    assert gone() is None


def answers(classification: Classification, formulas: list, layout: Layout,
            packets: list[Packet]) -> list[int]:
    """What the patterns read one by one give ``packets``, checked to be what the
    compiled ``classification`` gives them, packet by packet and as a batch."""
    expected = [evaluate(formulas, layout, packet) for packet in packets]
    assert [classification.match(packet) for packet in packets] == expected
    assert classification.match_batch(packets) == expected
    return expected


# --- Classifier patterns ---------------------------------------------------------------

BYTES = st.sampled_from([0x00, 0x06, 0x08, 0x45, 0xFF, 0x0F, 0xF0])


@st.composite
def raw_clause(draw) -> str:
    size = draw(st.integers(1, 3))
    value = "".join(draw(st.sampled_from("0068f?")) for _ in range(2 * size))
    mask = ""
    if draw(st.booleans()):
        mask = "%" + "".join(draw(st.sampled_from("0f8?")) for _ in range(2 * size))
    bang = "!" if draw(st.booleans()) else ""
    return f"{bang}{draw(st.integers(0, 12))}/{value}{mask}"


raw_pattern = st.one_of(st.just("-"), st.lists(raw_clause(), min_size=1, max_size=3)
                        .map(" ".join))


@settings(max_examples=300, deadline=None)
@given(st.lists(raw_pattern, min_size=1, max_size=8),
       st.lists(st.lists(BYTES, max_size=16).map(bytes), min_size=1, max_size=20),
       st.integers(0, 3), st.sampled_from([None, 1, 2]))
def test_classifier_tree_equals_patterns_read_one_by_one(texts, frames, strip, group):
    # ``group``: None, one tree; else every list indexed, groups of that many or more.
    formulas = [(i, parse_pattern(t)) for i, t in enumerate(texts)]
    with patch.object(indexed_module, "INDEX_PATTERNS", 10_000 if group is None else 1), \
            patch.object(indexed_module, "GROUP_PATTERNS", group or 1):
        classification = compile_patterns(formulas, data_layout)
    packets = [Packet(frame).pull(strip) for frame in frames]
    answers(classification, formulas, data_layout, packets)


# --- IPClassifier patterns ---------------------------------------------------------------

PRIMITIVES = ["tcp", "udp", "icmp", "ip proto 50", "src host 10.0.0.1", "dst host 10.0.0.2",
              "net 10.0.0.0/8", "src or dst net 192.168.0.0/16", "src and dst net 10.0.0.0/8",
              "port 53", "dst port 80", "src udp port 53", "tcp dst port > 1023",
              "tcp port != 80", "udp src port <= 81", "syn", "ack", "fin ack", "tcp opt rst",
              "icmp type echo", "icmp type != 0", "ip frag", "ip unfrag", "ip ttl < 10",
              "ip ttl >= 64", "ip tos 0x10", "ip dscp 4", "ip ect", "ip ce", "ip hl 6",
              "ip[9] = 17", "ip[12:2] == 0x0a00", "transp[0:2] & 0xff00 != 0",
              "tcp[13] & 0x12", "tcp win 1024", "ip id > 100", "true", "false",
              "src port 53 or 80"]
#: Tests on the same bytes as others (the protocol, the TTL), drawn often: they
#: are where the compiler draws conclusions from one answer to another.
OVERLAPPING = ["tcp", "udp", "icmp", "ip proto 50", "ip ttl 64", "ip ttl > 64", "ip ttl < 64",
               "ip ttl 10", "ip ttl > 9", "ip ttl > 10", "ip ttl != 10", "ip ttl >= 64",
               "ip ttl <= 10", "ip ttl < 11", "ip ttl > 254", "ip ttl < 1",
               "tcp dst port >= 81", "dst port <= 80", "src port < 1024"]


@st.composite
def ip_expression(draw, depth: int = 0) -> str:
    if depth >= 2 or draw(st.booleans()):
        return draw(st.sampled_from(OVERLAPPING) | st.sampled_from(PRIMITIVES))
    left = draw(ip_expression(depth + 1))
    right = draw(ip_expression(depth + 1))
    form = draw(st.sampled_from(["{} and {}", "{} or {}", "not ({}) and {}", "({}) || !({})",
                                 "{} ? {} : tcp", "({}) ({})"]))
    return form.format(left, right)


ip_pattern = st.one_of(st.just("-"), ip_expression())


@st.composite
def ip_frame(draw) -> bytes:
    proto = draw(st.sampled_from([1, 6, 17, 50]))
    sport = draw(st.sampled_from([53, 80, 81, 1023, 1024]))
    dport = draw(st.sampled_from([53, 80, 81, 1023, 1024]))
    if proto == 6:
        transport = tcp(sport, dport, draw(st.integers(0, 63)), draw(st.sampled_from([1024, 5])))
    elif proto == 17:
        transport = udp(sport, dport)
    elif proto == 1:
        transport = icmp(draw(st.sampled_from([0, 8, 3])))
    else:
        transport = bytes(8)
    addresses = st.sampled_from(["10.0.0.1", "10.0.0.2", "192.168.1.1", "1.2.3.4"])
    options = draw(st.sampled_from([b"", b"\x01\x01\x01\x00"]))
    frame = ip_header(draw(addresses), draw(addresses), proto, len(transport),
                      ttl=draw(st.sampled_from([0, 1, 9, 10, 11, 63, 64, 65, 200, 255])),
                      tos=draw(st.sampled_from([0, 0x10, 0x11, 0x13])),
                      ident=draw(st.sampled_from([0, 100, 101])),
                      frag=draw(st.sampled_from([0, 0x4000, 0x2000, 0x0001])),
                      options=options) + transport
    truncated = draw(st.integers(0, 4)) == 0
    return frame[:draw(st.integers(0, len(frame)))] if truncated else frame


def annotated(frame: bytes, how: int) -> Packet:
    """0: a bare IP packet; 1: behind an Ethernet header, with the MAC and network
    header annotations set (as CheckIPHeader would); 2: the same, stripped to IP."""
    if how == 0 or len(frame) < 20:
        return Packet(frame)
    packet = Packet(bytes(range(14)) + frame)
    packet.set_mac_header(0)
    packet.set_network_header(14, (frame[0] & 15) * 4)
    return packet.pull(14) if how == 2 else packet


PRIMITIVES += ["ether host 00:01:02:03:04:05", "src ether host 06:07:08:09:0a:0b"]


@settings(max_examples=300, deadline=None)
@given(st.lists(ip_pattern, min_size=1, max_size=5),
       st.lists(st.tuples(ip_frame(), st.integers(0, 2)), min_size=1, max_size=20))
def test_ipclassifier_tree_equals_patterns_read_one_by_one(texts, frames):
    formulas = [(i, parse_ip_pattern(t)) for i, t in enumerate(texts)]
    classification = compile_patterns(formulas, ip_layout)
    packets = [annotated(frame, how) for frame, how in frames]
    answers(classification, formulas, ip_layout, packets)


# --- the compiler ------------------------------------------------------------------------

def test_a_known_byte_decides_the_other_tests_on_it():
    tcp_, udp_ = Field(NET, 9, 1, 0xFF, "==", 6), Field(NET, 9, 1, 0xFF, "==", 17)
    classification = compile_patterns([(0, tcp_), (1, udp_), (2, True)], ip_layout)
    # The tree never asks "udp?" of a TCP packet.
    assert classification.program() == ("0  net+9/06%ff  yes->[0]  no->step 1\n"
                                         "1  net+9/11%ff  yes->[1]  no->[2]\n")


def test_a_known_address_decides_the_tests_of_some_of_its_bits():
    host = parse_ip_pattern("src host 10.1.2.3")
    formulas = [(0, conj(host, parse_ip_pattern("src net 10.0.0.0/8"))),
                (1, conj(host, parse_ip_pattern("src net 11.0.0.0/8"))),
                (2, parse_ip_pattern("src net 10.0.0.0/8")), (3, True)]
    classification = compile_patterns(formulas, ip_layout)
    # Knowing the whole address, the tree asks nothing more of it; asked of an address
    # not known, the /8 still is.
    assert classification.program() == ("0  net+12/0a010203%ffffffff  yes->[0]  no->step 1\n"
                                        "1  net+12/0a000000%ff000000  yes->[2]  no->[3]\n")
    packets = [Packet(ip_header(src, "2.2.2.2", 6, 0)) for src in ("10.1.2.3", "10.9.9.9",
                                                                   "11.1.2.3")]
    assert answers(classification, formulas, ip_layout, packets) == [0, 2, 3]


def test_ordering_tests_follow_from_a_known_value():
    ttl = Field(NET, 8, 1, 0xFF, "==", 64)
    low = Field(NET, 8, 1, 0xFF, "<", 10)
    classification = compile_patterns([(0, conj(ttl, low)), (1, True)], ip_layout)
    assert classification.outputs() == {1}


def test_subtrees_are_shared_and_code_stays_linear():
    # 12 independent byte tests in a chain of ors: a tree would double at
    # every level; the shared subtrees keep one node per test.
    fields = [Field(DATA, i, 1, 0xFF, "==", 1) for i in range(12)]
    classification = compile_patterns([(0, disj(*fields)), (1, True)], data_layout)
    assert len(classification.program().splitlines()) == 12
    assert classification.match(Packet(bytes(11) + b"\x01")) == 0
    assert classification.match(Packet(bytes(12))) == 1


def test_too_many_decisions_is_an_error(monkeypatch):
    monkeypatch.setattr(expand, "MAX_NODES", 5)
    fields = [Field(DATA, i, 1, 0xFF, "==", 1) for i in range(8)]
    with pytest.raises(TooComplex):
        compile_patterns([(i, f) for i, f in enumerate(fields)], data_layout)


def test_the_limit_on_decisions_is_per_tree_of_an_indexed_list(monkeypatch):
    # 40 values of byte 0, each with a test of byte 1: indexed, each value's tree
    # is one decision, 40 in all, past a limit of 5 decisions a tree.
    monkeypatch.setattr(expand, "MAX_NODES", 5)
    patterns = [(i, conj(Field(DATA, 0, 1, 0xFF, "==", i), Field(DATA, 1, 1, 0xFF, "==", 1)))
                for i in range(40)]
    classification = compile_patterns(patterns, data_layout)
    assert len(classification.program().splitlines()) == 42
    assert classification.match(Packet(bytes([39, 1]))) == 39
    assert classification.match(Packet(bytes([39, 2]))) == -1


def test_a_long_chain_of_alternatives_is_one_level():
    # 600 hosts joined by 'or' (past the 200 levels groups may nest), and as
    # many joined by 'and': each chain is one level, its formula balanced.
    hosts = [f"10.0.{i >> 8}.{i & 255}" for i in range(600)]
    anyone = parse_ip_pattern(" or ".join(f"src host {h}" for h in hosts))
    everyone = parse_ip_pattern(" and ".join(f"src host {h}" for h in hosts))
    classification = compile_patterns([(0, anyone), (1, everyone), (2, True)], ip_layout)
    for address, expected in (("10.0.2.87", 0), ("10.0.0.0", 0), ("10.0.2.88", 2)):
        frame = ip_header(address, "10.9.9.9", 17, 8) + udp(1, 2)
        packet = annotated(frame, 0)
        assert classification.match(packet) == expected
        assert evaluate([(0, anyone), (1, everyone), (2, True)], ip_layout, packet) == expected


@pytest.mark.parametrize("indexed", [False, True])
def test_thousands_of_patterns_that_exclude_each_other_compile(indexed, monkeypatch):
    # 1,500 values of one 2-byte field, each with a test of the third byte (so
    # that no lookup of the field's value settles them). As one tree: a chain of
    # 1,500 decisions, deeper than Python's recursion, written as if/elif chains
    # of at most MAX_CHAIN branches. Indexed: a lookup of the field, each value
    # leading to its pattern's test of the third byte, and the last pattern apart.
    if not indexed:
        monkeypatch.setattr(indexed_module, "INDEX_PATTERNS", 10_000)
    values = range(0, 3000, 2)
    third = Field(DATA, 2, 1, 0xFF, "==", 1)
    patterns = [(i, conj(Field(DATA, 0, 2, 0xFFFF, "==", v), third))
                for i, v in enumerate(values)]
    classification = compile_patterns(patterns + [(len(values), True)], data_layout)
    program = classification.program().splitlines()
    if indexed:
        assert program[0] == "part 0, from pattern 0"
        assert program[1].startswith("0  data+0%ffff  =0000->step 1  =0002->step 2")
        assert program[1].endswith("=0bb6->step 1500  other->none")
        assert program[2] == "1  data+2/01%ff  yes->#0[0]  no->none"
        assert program[-3:] == ["1500  data+2/01%ff  yes->#1499[1499]  no->none",
                                "part 1, from pattern 1500", "all->#1500[1500]"]
    else:
        assert len(program) == 2 * len(values)
    for v, last, expected in ((0, 1, 0), (2, 1, 1), (1498, 1, 749), (2998, 1, 1499),
                              (2998, 0, 1500), (1, 1, 1500), (2999, 1, 1500)):
        packet = Packet(v.to_bytes(2, "big") + bytes([last]))
        assert classification.match(packet) == expected
        assert classification.match_batch([packet, packet]) == [expected, expected]


def test_a_chain_of_thousands_of_alternatives_is_one_lookup():
    # 3,000 hosts joined by 'or' and a pattern after them: the source is looked up
    # among the hosts at once, and TCP asked of the others.
    hosts = [f"10.0.{i >> 8}.{i & 255}" for i in range(3000)]
    anyone = parse_ip_pattern(" or ".join(f"src host {h}" for h in hosts))
    patterns = [(0, anyone), (1, parse_ip_pattern("tcp")), (2, True)]
    classification = compile_patterns(patterns, ip_layout)
    program = classification.program().splitlines()
    assert len(program) == 2
    assert program[0].startswith("0  net+12%ffffffff  =0a000000->[0]  =0a000001->[0]")
    assert program[0].endswith("=0a000bb7->[0]  other->step 1")
    assert program[1] == "1  net+9/06%ff  yes->[1]  no->[2]"
    for address, protocol, expected in (("10.0.11.183", 6, 0), ("10.0.0.0", 17, 0),
                                        ("10.0.11.184", 6, 1), ("10.0.11.184", 17, 2)):
        packet = Packet(ip_header(address, "10.9.9.9", protocol, 8) + udp(1, 2))
        assert classification.match(packet) == expected
        assert evaluate(patterns, ip_layout, packet) == expected


def test_a_list_of_values_of_one_field_is_one_lookup():
    # Ten hosts, then TCP, then the rest: the hosts are looked up at once (their
    # outputs in a dictionary); any other source goes on to the TCP test.
    hosts = [(i % 3, parse_ip_pattern(f"src host 10.0.0.{i + 1}")) for i in range(10)]
    patterns = hosts + [(3, parse_ip_pattern("tcp")), (4, True)]
    classification = compile_patterns(patterns, ip_layout)
    assert classification.program() == (
        "0  net+12%ffffffff  =0a000001->[0]  =0a000002->[1]  =0a000003->[2]  "
        "=0a000004->[0]  =0a000005->[1]  =0a000006->[2]  =0a000007->[0]  =0a000008->[1]  "
        "=0a000009->[2]  =0a00000a->[0]  other->step 1\n"
        "1  net+9/06%ff  yes->[3]  no->[4]\n")
    packets = [Packet(ip_header(source, "10.9.9.9", protocol, 8) + udp(1, 2))
               for source, protocol in (("10.0.0.5", 17), ("10.0.0.10", 6), ("10.0.0.11", 6),
                                        ("10.0.0.11", 17))]
    # Cut before its source address, a header still has its protocol byte.
    packets.append(Packet(ip_header("10.0.0.1", "10.9.9.9", 6, 8)[:14]))
    assert [classification.match(packet) for packet in packets] == [1, 0, 3, 4, 3]
    assert classification.match_batch(packets) == [1, 0, 3, 4, 3]


def test_values_behind_other_patterns_are_looked_up_after_them():
    # A host list after a TCP rule: the rule is asked first, then the hosts at once.
    hosts = [(1, parse_ip_pattern(f"src host 10.0.0.{i + 1}")) for i in range(10)]
    patterns = [(0, parse_ip_pattern("tcp"))] + hosts + [(2, True)]
    program = compile_patterns(patterns, ip_layout).program().splitlines()
    assert program[0] == "0  net+9/06%ff  yes->[0]  no->step 1"
    assert program[1].startswith("1  net+12%ffffffff  =0a000001->[1]")
    assert program[1].endswith("=0a00000a->[1]  other->[2]")
    assert len(program) == 2


def test_a_long_list_is_indexed_by_the_bytes_its_patterns_name(monkeypatch):
    # Worked by hand. Bytes 0 and 2 name values in patterns 0 and 2, byte 0 in 4
    # too, byte 1 in 1 and 3. Byte 0's values are as distinct as byte 2's and
    # named by more patterns: 0, 2 and 4 are looked up by byte 0, 1 and 3 by byte
    # 1, and "-" is a part of its own. A value leads to the tree of its patterns,
    # the value known; a packet gets the earliest pattern any part finds.
    monkeypatch.setattr(indexed_module, "INDEX_PATTERNS", 6)
    monkeypatch.setattr(indexed_module, "GROUP_PATTERNS", 2)
    texts = ["0/01 2/05", "1/07", "0/02 2/06", "1/08", "0/01", "-"]
    formulas = [(i, parse_pattern(t)) for i, t in enumerate(texts)]
    classification = compile_patterns(formulas, data_layout)
    assert classification.program() == (
        "part 0, from pattern 0\n"
        "0  data+0%ff  =01->step 1  =02->step 2  other->none\n"
        "1  data+2/05%ff  yes->#0[0]  no->#4[4]\n"
        "2  data+2/06%ff  yes->#2[2]  no->none\n"
        "part 1, from pattern 1\n"
        "0  data+1%ff  =07->#1[1]  =08->#3[3]  other->none\n"
        "part 2, from pattern 5\n"
        "all->#5[5]\n")
    packets = [Packet(bytes(frame)) for frame in
               ([1, 7, 5], [1, 7, 9], [2, 8, 6], [2, 8, 0], [3, 0, 0], [1], [1, 0, 9])]
    expected = [0, 1, 2, 3, 5, 4, 4]
    assert answers(classification, formulas, data_layout, packets) == expected
    assert classification.outputs() == {0, 1, 2, 3, 4, 5}


def test_an_indexed_pattern_that_contradicts_itself_reaches_no_output(monkeypatch):
    # Byte 1 cannot be 7 and 8: looked up by byte 0, pattern 0 leads nowhere, as
    # in one tree, so that the warning of an unreachable output still names it.
    monkeypatch.setattr(indexed_module, "INDEX_PATTERNS", 2)
    monkeypatch.setattr(indexed_module, "GROUP_PATTERNS", 1)
    formulas = [(0, parse_pattern("0/05 1/07 1/08")), (1, parse_pattern("0/06"))]
    classification = compile_patterns(formulas, data_layout)
    assert classification.program() == ("part 0, from pattern 0\n"
                                        "0  data+0%ff  =05->none  =06->#1[1]  other->none\n")
    assert classification.outputs() == {1, -1}


def test_a_pattern_of_alternatives_on_different_bytes_joins_a_group_with_each(monkeypatch):
    # Worked by hand. 'host' is a source or a destination: patterns 0 and 1 join
    # the source lookup with one alternative and the destination lookup with the
    # other; pattern 2 joins the source lookup alone. TCP (one pattern of the
    # protocol, fewer than a group needs) and the last pattern make a tree.
    monkeypatch.setattr(indexed_module, "INDEX_PATTERNS", 5)
    monkeypatch.setattr(indexed_module, "GROUP_PATTERNS", 2)
    texts = ["host 10.0.0.1", "host 10.0.0.2", "src host 10.0.0.3", "tcp"]
    formulas = [(i, parse_ip_pattern(t)) for i, t in enumerate(texts)] + [(4, True)]
    classification = compile_patterns(formulas, ip_layout)
    assert classification.program() == (
        "part 0, from pattern 0\n"
        "0  net+12%ffffffff  =0a000001->#0[0]  =0a000002->#1[1]  =0a000003->#2[2]  "
        "other->none\n"
        "part 1, from pattern 0\n"
        "0  net+16%ffffffff  =0a000001->#0[0]  =0a000002->#1[1]  other->none\n"
        "part 2, from pattern 3\n"
        "0  net+9/06%ff  yes->#3[3]  no->#4[4]\n")
    packets = [Packet(ip_header(source, destination, protocol, 8) + udp(1, 2))
               for source, destination, protocol in (
                   ("9.9.9.9", "10.0.0.2", 17), ("10.0.0.3", "10.0.0.1", 6),
                   ("10.0.0.3", "9.9.9.9", 6), ("9.9.9.9", "9.9.9.9", 6),
                   ("9.9.9.9", "9.9.9.9", 17))]
    expected = [1, 0, 2, 3, 4]
    assert answers(classification, formulas, ip_layout, packets) == expected


def test_a_list_of_ranges_places_the_value_among_their_cuts(monkeypatch):
    # Worked by hand, on bytes 0-1 (v): pattern 0 is 10 <= v <= 19 (negations of
    # tests, so it also holds when the bytes are missing), 1 is 15 < v < 30 and byte
    # 2 is 1, 2 is v > 100. They cut v after 9, 15, 19, 29 and 100: pattern 0 covers
    # the intervals [10, 15] and [16, 19], where it holds whatever byte 2 is (pattern
    # 1 never comes first there, and the two intervals are one), 1 covers [20, 29]
    # where it asks byte 2, and 2 covers [101, 65535]. A packet without bytes 0-1
    # gets pattern 0; the last pattern is a part of its own.
    monkeypatch.setattr(indexed_module, "INDEX_PATTERNS", 4)
    monkeypatch.setattr(indexed_module, "GROUP_PATTERNS", 3)

    def v(op: str, value: int) -> Field:
        return Field(DATA, 0, 2, 0xFFFF, op, value)

    formulas = [(0, conj(tree.neg(v("<", 10)), tree.neg(v(">", 19)))),
                (1, conj(v(">", 15), v("<", 30), Field(DATA, 2, 1, 0xFF, "==", 1))),
                (2, v(">", 100)), (3, True)]
    classification = compile_patterns(formulas, data_layout)
    assert classification.program() == (
        "part 0, from pattern 0\n"
        "0  data+0%ffff  <=0009->none  <=0013->#0[0]  <=001d->step 1  <=0064->none  "
        ">0064->#2[2]  absent->#0[0]\n"
        "1  data+2/01%ff  yes->#1[1]  no->none\n"
        "part 1, from pattern 3\n"
        "all->#3[3]\n")
    packets = [Packet(bytes(frame)) for frame in
               ([0, 9, 1], [0, 10, 0], [0, 19, 1], [0, 20, 1], [0, 29, 0], [0, 100, 1],
                [0, 101, 0], [255, 255], [], [7])]
    expected = [3, 0, 0, 1, 3, 3, 2, 2, 0, 0]
    assert answers(classification, formulas, data_layout, packets) == expected


def test_ranges_of_two_fields_are_placed_by_bit_vectors(monkeypatch):
    # Worked by hand, on bytes 0 (a) and 1 (b): pattern 0 is 10 < a < 20 and b > 5,
    # 1 is a < 15 and b < 3, 2 is b <= 100 (it also holds without byte 1). The
    # range group of b is given up (COVER_WORK 0), and bit vectors place the
    # three patterns (bits 0, 1, 2) by b, named by three, and a, named by two.
    # b's cuts 2, 5, 100 give the masks 110, 100, 101, 001 and, without byte
    # 1, 100; a's cuts 10, 14, 19 give 110, 111, 101, 100 and, without byte 0,
    # 100 (pattern 2 names no a). With both bytes each pattern's ranges hold
    # where its bit is: it holds. With a byte missing only pattern 2 can.
    monkeypatch.setattr(indexed_module, "INDEX_PATTERNS", 4)
    monkeypatch.setattr(indexed_module, "GROUP_PATTERNS", 2)
    monkeypatch.setattr(indexed_module, "COVER_WORK", 0)

    def a(op: str, value: int) -> Field:
        return Field(DATA, 0, 1, 0xFF, op, value)

    def b(op: str, value: int) -> Field:
        return Field(DATA, 1, 1, 0xFF, op, value)

    formulas = [(0, conj(a(">", 10), a("<", 20), b(">", 5))), (1, conj(a("<", 15), b("<", 3))),
                (2, tree.neg(b(">", 100))), (3, True)]
    classification = compile_patterns(formulas, data_layout)
    assert classification.program() == (
        "part 0, from pattern 0\n"
        "0  bits of data+1%ff (3 cuts), data+0%ff (3 cuts)  present->#0[0] #1[1] #2[2]  "
        "missing data+1%ff->none none #2[2]  missing data+0%ff->none none #2[2]  "
        "missing data+1%ff, data+0%ff->none none #2[2]\n"
        "part 1, from pattern 3\n"
        "all->#3[3]\n")
    packets = [Packet(bytes(frame)) for frame in
               ([15, 7], [12, 1], [30, 50], [30, 200], [12], [], [5, 4])]
    assert answers(classification, formulas, data_layout, packets) == [0, 1, 2, 3, 2, 2, 2]
    assert classification.outputs() == {0, 1, 2, 3}


def test_bits_no_mask_picks_match_nothing_and_say_so(monkeypatch):
    # One pattern, byte 1 <= 100, placed by bit vectors: byte 1's cut at 100
    # picks bit 0 at or below it, nothing above; without byte 1 the pattern
    # holds (<= is a negated >). Above 100 no rule answers and the packet
    # matches nothing: no leaf says so, and the outputs must still hold -1.
    monkeypatch.setattr(indexed_module, "INDEX_PATTERNS", 1)
    monkeypatch.setattr(indexed_module, "GROUP_PATTERNS", 1)
    monkeypatch.setattr(indexed_module, "COVER_WORK", 0)
    formulas = [(0, tree.neg(Field(DATA, 1, 1, 0xFF, ">", 100)))]
    classification = compile_patterns(formulas, data_layout)
    assert classification.program() == (
        "part 0, from pattern 0\n"
        "0  bits of data+1%ff (1 cuts)  present->#0[0]  missing data+1%ff->#0[0]\n")
    packets = [Packet(bytes(frame)) for frame in ([0, 7], [0, 100], [0, 101], [0, 255], [5])]
    assert answers(classification, formulas, data_layout, packets) == [0, 0, -1, -1, 0]
    assert classification.outputs() == {0, -1}


def test_a_comparison_known_decides_the_comparisons_it_implies():
    # Asked first, v > 100 decides pattern 0 when it holds; when it does not, it
    # says v > 200 does not either: three decisions, not four.
    def v(op: str, value: int) -> Field:
        return Field(DATA, 0, 1, 0xFF, op, value)

    formulas = [(0, v(">", 100)), (1, conj(v(">", 50), v("<", 60))), (2, v(">", 200)),
                (3, True)]
    classification = compile_patterns(formulas, data_layout)
    assert classification.program() == ("0  data+0/>64%ff  yes->[0]  no->step 1\n"
                                        "1  data+0/>32%ff  yes->step 2  no->[3]\n"
                                        "2  data+0/<3c%ff  yes->[1]  no->[3]\n")
    packets = [Packet(bytes([value])) for value in (0, 51, 59, 60, 101, 255)] + [Packet(b"")]
    assert answers(classification, formulas, data_layout, packets) == [3, 1, 1, 3, 0, 0, 3]


def test_a_pattern_of_many_tests_nests_no_deeper_than_python_allows():
    # 150 tests that must all hold: each "yes" one level deeper.
    tests = [Field(DATA, i, 1, 0xFF, "==", 1) for i in range(150)]
    formulas = [(0, conj(*tests)), (1, True)]
    classification = compile_patterns(formulas, data_layout)
    packets = [Packet(bytes([1] * 150)), Packet(bytes([1] * 149 + [0])), Packet(bytes([1] * 149))]
    assert answers(classification, formulas, data_layout, packets) == [0, 1, 1]


def test_patterns_after_one_that_always_holds_are_left_out_of_the_index(monkeypatch):
    # Two patterns are left, as many as a list to index must have here.
    monkeypatch.setattr(indexed_module, "INDEX_PATTERNS", 2)
    monkeypatch.setattr(indexed_module, "GROUP_PATTERNS", 1)
    formulas = [(0, parse_pattern("0/01")), (1, True), (2, parse_pattern("0/02")),
                (3, parse_pattern("1/02"))]
    classification = compile_patterns(formulas, data_layout)
    assert classification.program() == ("part 0, from pattern 0\n"
                                        "0  data+0%ff  =01->#0[0]  other->none\n"
                                        "part 1, from pattern 1\n"
                                        "all->#1[1]\n")
    assert classification.outputs() == {0, 1}


def test_too_much_rewriting_is_an_error(monkeypatch):
    monkeypatch.setattr(expand, "MAX_WORK", 100)
    # Two bytes each, so that no lookup of one byte's value settles them.
    patterns = [(i, conj(Field(DATA, 0, 1, 0xFF, "==", i), Field(DATA, 1, 1, 0xFF, "==", i)))
                for i in range(20)]
    with pytest.raises(TooComplex, match="more than 100 rewrites of their tests"):
        compile_patterns(patterns, data_layout)


def test_missing_base_fails_its_tests_and_their_negations_hold():
    mac = Field(tree.MAC, 0, 6, (1 << 48) - 1, "==", 0)
    classification = compile_patterns([(0, mac), (1, neg(mac))], ip_layout)
    assert classification.match(Packet(bytes(40))) == 1


#: Pieces of Classifier patterns, right and wrong, and the grammar's spaces.
RAW_PIECES = ["0", "12", "9", "/", "%", "!", "-", "0800", "0a", "?f", "F", "ab", " ", "\t",
              "\n", "  ", "x", "\v"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(RAW_PIECES), max_size=12))
@example(["12", "/", "0800", "13", "/", "00"])   # a value runs into the next offset
@example(["12", "/", "08", " ", "!", "13", "/", "00", "%", "0f"])
@example([" ", "-", "\n"])
def test_classifier_patterns_read_plainly_are_lark_s_and_the_others_are_left_to_it(pieces):
    text = "".join(pieces)
    plain = RAW_GRAMMAR.plain(text)
    try:
        parsed = RAW_GRAMMAR.parse(text)
    except PatternError:
        parsed = None
    assert plain == parsed


#: Pieces of IPClassifier patterns: words, operators, and words that start like one.
IP_PIECES = ["tcp", "udp", "dst", "port", "80", "and", "or", "not", "!", "&&", "||", "(", ")",
             "src", "host", "1.2.3.4", "10.0.0.0/8", " ", " ", "\t", "\n", "order", "and.x",
             "?", ":", "==", "tcp[0]", "-", "[", "&", "x-y", "note", "a:b", "www", ".x", "\v",
             "<", "<=", ">", ">=", "=", "!=", "ttl"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(IP_PIECES), max_size=8))
@example(["tcp", " ", "dst", " ", "port", " ", "80"])
@example(["src", " ", "or", " ", "dst"])
@example(["src", " ", "host", " ", "1.2.3.4", "&&", "dst", " ", "port", "||", "udp"])
@example(["tcp", "\t", "and", "\n", "www", " ", "or", " ", "port", " ", "80"])
@example(["ip", " ", "ttl", "<", "80", "&&", "tcp", " ", "port", "!=", "80"])
@example(["ttl", "!", "=", "80"])
def test_ip_patterns_read_plainly_are_lark_s_and_the_others_are_left_to_it(pieces):
    text = "".join(pieces)
    plain = IP_GRAMMAR.plain(text)
    if plain is not None:
        assert plain == IP_GRAMMAR.parse(text)


def test_ip_patterns_of_words_alone_are_read_plainly():
    assert IP_GRAMMAR.plain(" tcp dst port 80\t") == IP_GRAMMAR.parse(" tcp dst port 80\t")
    assert IP_GRAMMAR.plain("ip ttl<=64") == IP_GRAMMAR.parse("ip ttl<=64")
    assert IP_GRAMMAR.plain("ip ttl<=64").children[2] == Lexeme("RELOP", "<=", 6)
    assert [IP_GRAMMAR.plain(text) for text in ("src or dst host a", "not tcp", "order",
                                                "(udp)", "tcp[0] = 1", "")] == [None] * 6


def test_words_joined_by_and_and_or_are_read_plainly():
    # "and" first, then "or", each left to right: ((a && b c) || d) || (e && f).
    text = "a && b c or d||e and f"
    words = {word: Lexeme("WORD", word, text.index(word)) for word in "abcdef"}
    run = lambda *names: Branch("run", tuple(words[name] for name in names))  # noqa: E731
    first = Branch("and_", (run("a"), Lexeme("AND", "&&", 2), run("b", "c")))
    last = Branch("and_", (run("e"), Lexeme("AND", "and", 17), run("f")))
    expected = Branch("or_", (Branch("or_", (first, Lexeme("OR", "or", 9), run("d"))),
                              Lexeme("OR", "||", 13), last))
    assert IP_GRAMMAR.plain(text) == expected == IP_GRAMMAR.parse(text)
    assert [IP_GRAMMAR.plain(text) for text in ("a and", "or b", "a && && b", "src && dst",
                                                "a andx b", "a && not b")] == [None] * 6


def test_pattern_positions():
    with pytest.raises(PatternError) as err:
        parse_pattern("12/0800 !14/4%f")
    assert (err.value.position, err.value.message) == (13, "value has less than 2 hex digits")
    with pytest.raises(PatternError) as err:
        parse_ip_pattern("tcp and ip ttl > 256")
    assert (err.value.position, err.value.message) == (18,
                                                       "value 256 out of range (0 to 255)")


def test_nesting_is_bounded_with_an_error_not_a_crash():
    # 199 groups around one test are 200 levels, read; one more group is refused.
    assert parse_ip_pattern("(" * 199 + "tcp" + ")" * 199) == parse_ip_pattern("tcp")
    with pytest.raises(PatternError, match="nested more than 200 levels deep"):
        parse_ip_pattern("(" * 200 + "tcp" + ")" * 200)
    with pytest.raises(PatternError, match="nested more than 200 levels deep"):
        parse_ip_pattern("(" * 5000 + "tcp" + ")" * 5000)


def test_src_or_dst_and_juxtaposition_read_as_click_does():
    assert parse_ip_pattern("src or dst host 1.2.3.4") == parse_ip_pattern("host 1.2.3.4")
    assert parse_ip_pattern("fin ack") == parse_ip_pattern("tcp opt fin and tcp opt ack")
    assert parse_ip_pattern("src port 80 or 81") == \
        parse_ip_pattern("src port 80 or src port 81")
    assert parse_ip_pattern("10.0.0.0/8") == parse_ip_pattern("net 10.0.0.0 mask 255.0.0.0")
    assert parse_ip_pattern("any") is True and parse_ip_pattern("all") is True


class Names:
    """Address names as an AddressInfo(me 10.0.0.1 10.0.0.0/8 00:00:00:00:00:01) gives them."""

    def ip(self, word):
        return {"me": 0x0A000001, "me:ip": 0x0A000001}.get(word)

    def prefix(self, word):
        return {"me": (0x0A000000, 0xFF000000), "me:ipnet": (0x0A000000, 0xFF000000),
                "me/24": (0x0A000001, 0xFFFFFF00)}.get(word)

    def ether(self, word):
        return {"me": bytes(5) + b"\x01", "me:eth": bytes(5) + b"\x01"}.get(word)


def test_names_read_as_click_reads_them():
    names = Names()
    assert parse_ip_pattern("dst me", names) == parse_ip_pattern("dst host 10.0.0.1")
    assert parse_ip_pattern("dst host me:ip", names) == parse_ip_pattern("dst host 10.0.0.1")
    assert parse_ip_pattern("src net me", names) == parse_ip_pattern("src net 10.0.0.0/8")
    assert parse_ip_pattern("me:ipnet", names) == parse_ip_pattern("net 10.0.0.0/8")
    assert parse_ip_pattern("src me/24", names) == parse_ip_pattern("src net 10.0.0.0/24")
    assert parse_ip_pattern("ether host me", names) == \
        parse_ip_pattern("ether host 00:00:00:00:00:01")
    assert parse_ip_pattern("src me:eth", names) == \
        parse_ip_pattern("src ether host 00:00:00:00:00:01")
    assert parse_ip_pattern("src host me:eth", names) == \
        parse_ip_pattern("src ether host 00:00:00:00:00:01")
    with pytest.raises(PatternError) as err:
        parse_ip_pattern("tcp and net me:eth", names)
    assert (err.value.position, err.value.message) == (9, "address missing")


def test_icmp_type_names_after_icmp():
    assert parse_ip_pattern("icmp echo") == parse_ip_pattern("icmp type 8")
    assert parse_ip_pattern("icmp echo-reply") == parse_ip_pattern("icmp type 0")
    assert parse_ip_pattern("tcp echo") == parse_ip_pattern("tcp port 7")
    assert parse_ip_pattern("port echo") == parse_ip_pattern("port 7")
    with pytest.raises(PatternError) as err:
        parse_ip_pattern("src echo")
    assert (err.value.position, err.value.message) == (
        5, "'echo' is ambiguous; try 'port echo', 'icmp type echo'")


def test_tcpudp_is_tcp_or_udp():
    either = parse_ip_pattern("tcp or udp")
    assert parse_ip_pattern("tcpudp") == either
    assert parse_ip_pattern("ip proto tcpudp") == either
    assert parse_ip_pattern("ip proto != tcpudp") == neg(either)
    assert parse_ip_pattern("tcpudp src port 80") == parse_ip_pattern("src port 80")
    assert parse_ip_pattern("tcpudp port >= 1024") == parse_ip_pattern("port >= 1024")
    assert parse_ip_pattern("tcpudp port echo") == parse_ip_pattern("port 7")
    with pytest.raises(PatternError) as err:
        parse_ip_pattern("ip proto > tcpudp")
    assert (err.value.position, err.value.message) == (
        1, "operator or mask not supported for 'tcpudp'")
    with pytest.raises(PatternError, match="'syn' is meaningless here"):
        parse_ip_pattern("tcpudp syn")


@st.composite
def overlapping_pattern(draw) -> str:
    words = draw(st.lists(st.sampled_from(OVERLAPPING), min_size=1, max_size=3))
    joins = draw(st.lists(st.sampled_from([" and ", " or ", " and not "]),
                          min_size=len(words) - 1, max_size=len(words) - 1))
    return words[0] + "".join(j + w for j, w in zip(joins, words[1:]))


@settings(max_examples=200, deadline=None)
@example(["ip ttl 64 and ip ttl < 64", "ip ttl 10 and ip ttl > 10 or tcp"],
         [ip_header("1.1.1.1", "2.2.2.2", 6, 0, ttl=64), ip_header("1.1.1.1", "2.2.2.2", 6, 0, ttl=10)])
@given(st.lists(overlapping_pattern(), min_size=1, max_size=4),
       st.lists(ip_frame(), min_size=1, max_size=20))
def test_conclusions_between_tests_on_the_same_bytes_are_sound(texts, frames):
    formulas = [(i, parse_ip_pattern(t)) for i, t in enumerate(texts)]
    classification = compile_patterns(formulas, ip_layout)
    packets = [Packet(frame) for frame in frames]
    answers(classification, formulas, ip_layout, packets)


@settings(max_examples=200, deadline=None)
@given(st.lists(overlapping_pattern(), min_size=1, max_size=4),
       st.lists(ip_frame(), min_size=1, max_size=20))
def test_formulas_that_name_only_their_keys_compile_to_the_same_answers(texts, frames):
    # With READS_NAMED at 0 every formula of two tests or more is vague: an
    # answer must then rewrite every formula that reads its key.
    formulas = [(i, parse_ip_pattern(t)) for i, t in enumerate(texts)]
    with patch.object(expand, "READS_NAMED", 0):
        vague = compile_patterns(formulas, ip_layout)
    packets = [Packet(frame) for frame in frames]
    assert vague.program() == compile_patterns(formulas, ip_layout).program()
    assert [vague.match(packet) for packet in packets] == \
        [evaluate(formulas, ip_layout, packet) for packet in packets]


#: Patterns of few fields and few values, many of one comparison alone: lists of
#: them make lookups, among other patterns on the same bytes.
LISTED = ["ip ttl 1", "ip ttl 9", "ip ttl 10", "ip ttl 64", "ip ttl 200", "ip ttl < 10",
          "ip ttl > 63", "ip id 100", "ip id 101", "ip id 0", "tcp", "udp", "ip proto 50",
          "ip tos 0x10", "ip tos 0x11", "ip ttl 64 and ip id 100", "not ip ttl 9", "-",
          "ip ttl 10 or ip id 0", "ip ttl 1 or ip ttl 9 or ip ttl 200", "ip id 100 or ip id 0",
          "ip ttl 64 or ip ttl < 10", "ip ttl >= 10 and ip ttl <= 64", "ip ttl > 9 and ip ttl < 65",
          "ip ttl <= 9", "ip ttl >= 200", "ip ttl > 1 and ip ttl < 10 or ip ttl > 100",
          "tcp dst port >= 80 and tcp dst port <= 1023", "udp src port > 53", "dst port < 1024",
          "src port >= 81 and src port < 1024 and ip ttl < 64"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(LISTED), min_size=4, max_size=14),
       st.lists(ip_frame(), min_size=1, max_size=20), st.integers(2, 4), st.integers(1, 3))
def test_lookups_give_the_patterns_answers(texts, frames, least, growth):
    formulas = [(i, True if t == "-" else parse_ip_pattern(t)) for i, t in enumerate(texts)]
    with patch.object(expand, "DISPATCH_VALUES", least), patch.object(expand, "DISPATCH_GROWTH",
                                                                    growth):
        classification = compile_patterns(formulas, ip_layout)
    packets = [Packet(frame) for frame in frames]
    answers(classification, formulas, ip_layout, packets)


@settings(max_examples=300, deadline=None)
@given(st.lists(ip_pattern | st.sampled_from(LISTED), min_size=1, max_size=12),
       st.lists(st.tuples(ip_frame(), st.integers(0, 2)), min_size=1, max_size=20),
       st.integers(1, 3), st.sampled_from([1, 16]))
def test_indexed_lists_give_the_patterns_answers(texts, frames, least, cover):
    # Every list indexed, groups of ``least`` patterns or more; range groups given
    # up at times (``cover``).
    formulas = [(i % 4 - 1, True if t == "-" else parse_ip_pattern(t))
                for i, t in enumerate(texts)]
    with patch.object(indexed_module, "INDEX_PATTERNS", 1), \
            patch.object(indexed_module, "GROUP_PATTERNS", least), \
            patch.object(indexed_module, "COVER_WORK", cover):
        classification = compile_patterns(formulas, ip_layout)
    packets = [annotated(frame, how) for frame, how in frames]
    assert set(answers(classification, formulas, ip_layout, packets)) <= classification.outputs()


#: Patterns of ranges on two or three fields at once, and a few others.
RANGED = ["ip ttl >= 10 and ip ttl <= 64 and tcp dst port >= 80 and tcp dst port <= 1023",
          "ip ttl > 9 and udp src port < 1024", "dst port >= 81 and ip ttl < 65",
          "src port > 53 and src port < 1024 and dst port > 79", "ip ttl <= 9",
          "ip ttl > 63 or dst port < 81", "ip id 100 and ip ttl >= 10", "tcp",
          "src port >= 1023 and dst port <= 80 and ip ttl > 0",
          "ip ttl > 10 and ip ttl < 200 and src port < 81", "udp dst port > 1023 and ip ttl < 11"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(RANGED) | ip_pattern, min_size=1, max_size=12),
       st.lists(st.tuples(ip_frame(), st.integers(0, 2)), min_size=1, max_size=20),
       st.integers(1, 3))
def test_bit_vectors_give_the_patterns_answers(texts, frames, least):
    # Every range group placed by bit vectors.
    formulas = [(i % 4 - 1, True if t == "-" else parse_ip_pattern(t))
                for i, t in enumerate(texts)]
    with patch.object(indexed_module, "INDEX_PATTERNS", 1), \
            patch.object(indexed_module, "GROUP_PATTERNS", least), \
            patch.object(indexed_module, "COVER_WORK", 0):
        classification = compile_patterns(formulas, ip_layout)
    packets = [annotated(frame, how) for frame, how in frames]
    assert set(answers(classification, formulas, ip_layout, packets)) <= classification.outputs()


WORDS = st.sampled_from(PRIMITIVES + OVERLAPPING + [
    "and", "or", "not", "!", "(", ")", "?", ":", "&", "==", "!=", "<", ">=", "src", "dst",
    "src or dst", "ip", "ether", "host", "net", "port", "proto", "opt", "type", "ttl", "mask",
    "255.0.0.0", "10.0.0.0/33", "1.2.3", "00:11:22:33:44:55", "99999999999", "0x", "ip[",
    "ip[1:9]", "tcp[70000]", "transp[2:2]", "-", "all", "echo", "www", "icmp type", ","])


@settings(max_examples=400, deadline=None)
@given(st.lists(WORDS, max_size=8).map(" ".join) | st.text(max_size=30))
def test_any_ip_pattern_text_parses_or_fails_with_a_position(text):
    try:
        formula = parse_ip_pattern(text)
    except PatternError as err:
        assert 1 <= err.position <= len(text) + 1
    else:
        compile_patterns([(0, formula)], ip_layout)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789abcdef?/%! -x", max_size=30))
def test_any_classifier_pattern_text_parses_or_fails_with_a_position(text):
    try:
        formula = parse_pattern(text)
    except PatternError as err:
        assert 1 <= err.position <= len(text) + 1
    else:
        compile_patterns([(0, formula)], data_layout)
