"""More of Click's queues and their kin, from their Click manuals: FullNoteQueue,
QuickNoteQueue, MixedQueue, StrideSwitch, SetAnnoByte; and the information
elements PortInfo, AlignmentInfo and AnnotationInfo."""

from __future__ import annotations

import logging

import pytest

from pyclick.errors import ConfigError
from pyclick.packet import Packet
from pyclick.router import Router
from pyclick.runtime.handlers import HandlerError
from pyclick.runtime.notifier import EMPTY
from tests.sinks import KeepingTestSink  # noqa: F401  (the class the configurations name)
from tests.test_elements_click_queue import configure, run


def packets(*contents: bytes) -> list[Packet]:
    return [Packet(data) for data in contents]


def data(kept: list[Packet]) -> list[bytes]:
    return [bytes(packet.data) for packet in kept]


# --- FullNoteQueue, QuickNoteQueue

@pytest.mark.parametrize("cls", ["FullNoteQueue", "QuickNoteQueue"])
def test_note_queues_stop_their_source_when_full(cls):
    # As Queue: the source waits while the queue is full, and nothing is dropped.
    assert run(f"InfiniteSource(LIMIT 100) -> q :: {cls}(3) -> Unqueue -> c :: Counter -> "
               "Discard", "c.count", "q.drops", "q.class") == ["100", "0", cls]


@pytest.mark.parametrize("cls", ["FullNoteQueue", "QuickNoteQueue"])
def test_note_queues_drop_past_capacity(cls):
    # A burst of 5 into 3 places: the last 2 are dropped.
    assert run(f"InfiniteSource(LIMIT 5, BURST 5) -> q :: {cls}(3) -> Discard(ACTIVE false)",
               "q.length", "q.drops", "q.capacity") == ["3", "2", "3"]


def test_quick_note_queue_puts_its_pullers_to_sleep_as_soon_as_it_is_empty():
    router = configure("q :: QuickNoteQueue; Idle -> q -> Discard(ACTIVE false)")
    queue = router.element("q")
    note = queue.port_notifier(True, 0, EMPTY)
    queue.push(0, packets(b"a", b"b"))
    assert queue.pull(0) is not None and note.active
    assert queue.pull(0) is not None and not note.active
    queue.push(0, packets(b"c"))
    assert note.active
    assert len(queue.pull_batch(0, 5)) == 1 and not note.active


def test_full_note_queue_waits_for_ten_failed_pulls_before_sleeping():
    router = configure("q :: FullNoteQueue; Idle -> q -> Discard(ACTIVE false)")
    queue = router.element("q")
    note = queue.port_notifier(True, 0, EMPTY)
    queue.push(0, packets(b"a"))
    assert queue.pull(0) is not None and note.active
    for _ in range(9):
        assert queue.pull(0) is None
    assert note.active
    queue.pull(0)
    assert not note.active


@pytest.mark.parametrize("cls", ["FullNoteQueue", "QuickNoteQueue"])
def test_note_queue_capacity_errors_name_the_element(cls):
    with pytest.raises(ConfigError, match=rf"'q :: {cls}': CAPACITY: expected unsigned "
                                          r"integer, got '-1'"):
        configure(f"Idle -> q :: {cls}(-1) -> Discard")


# --- MixedQueue

MIXED = ("q :: MixedQueue({capacity}); Idle -> [0] q; Idle -> [1] q;"
         "q -> Discard(ACTIVE false); q[1] -> over :: KeepingTestSink")


def test_mixed_queue_is_fifo_for_input_0_and_lifo_for_input_1():
    router = configure(MIXED.format(capacity=10))
    queue = router.element("q")
    a, b, c, d, e = packets(b"A", b"B", b"C", b"D", b"E")
    queue.push(0, [a])
    queue.push(0, [b])
    queue.push(1, [c])
    queue.push(0, [d])
    queue.push(1, [e])
    assert data(queue.pull_batch(0, 10)) == [b"E", b"C", b"A", b"B", b"D"]
    assert (queue.drops, queue.highwater_length) == (0, 5)


def test_mixed_queue_lifo_batch_puts_its_last_packet_first():
    router = configure(MIXED.format(capacity=10))
    queue = router.element("q")
    queue.push(0, packets(b"A"))
    queue.push(1, packets(b"B", b"C"))
    assert data(queue.pull_batch(0, 10)) == [b"C", b"B", b"A"]


def test_full_mixed_queue_drops_new_fifo_packets_and_the_tail_for_lifo_ones(caplog):
    router = configure(MIXED.format(capacity=3))
    queue = router.element("q")
    with caplog.at_level(logging.WARNING):
        queue.push(0, packets(b"A", b"B", b"C", b"D"))  # D does not fit: [A B C]
        queue.push(1, packets(b"E"))                    # C, at the tail, goes: [E A B]
        queue.push(1, packets(b"F", b"G"))              # then B and A: [G F E]
    assert data(router.element("over").packets) == [b"D", b"C", b"B", b"A"]
    assert [router.handlers.read(f"q.{h}") for h in ("length", "drops", "highwater_length")] \
        == ["3", "4", "3"]
    assert data(queue.pull_batch(0, 10)) == [b"G", b"F", b"E"]
    assert [r.getMessage() for r in caplog.records] == ["q :: MixedQueue: overflow"]


def test_mixed_queue_wakes_its_puller_but_never_stops_its_sources():
    # Nobody drains the queue: the sources keep pushing, and what does not fit is dropped.
    assert run("InfiniteSource(LIMIT 6) -> [0] q :: MixedQueue(4); "
               "InfiniteSource(LIMIT 2) -> [1] q; q -> Discard(ACTIVE false)",
               "q.length", "q.drops") == ["4", "4"]
    router = configure(MIXED.format(capacity=4))
    queue = router.element("q")
    note = queue.port_notifier(True, 0, EMPTY)
    assert queue.port_notifier(False, 0, "full") is None
    note.sleep()
    queue.push(1, packets(b"A"))
    assert note.active


def test_mixed_queue_handlers_as_queue():
    router = configure(MIXED.format(capacity=2))
    queue = router.element("q")
    queue.push(0, packets(b"A", b"B", b"C"))
    h = router.handlers
    h.write("q.reset_counts")
    assert (h.read("q.drops"), h.read("q.highwater_length")) == ("0", "2")
    h.write("q.reset")
    assert h.read("q.length") == "0"
    assert data(router.element("over").packets) == [b"C", b"A", b"B"]


def test_mixed_queue_needs_both_inputs():
    with pytest.raises(ConfigError, match=r"'q :: MixedQueue' input 1 unused"):
        configure("Idle -> q :: MixedQueue -> Discard")


# --- StrideSwitch

STRIDE = ("s :: StrideSwitch({tickets}); Idle -> s;"
          "s[0] -> a :: KeepingTestSink; s[1] -> b :: KeepingTestSink; s[2] -> c :: KeepingTestSink")


def outputs(router: Router) -> list[list[bytes]]:
    return [data(router.element(name).packets) for name in "abc"]


@pytest.mark.parametrize("batched", [False, True])
def test_stride_switch_follows_the_stride_schedule(batched):
    # Strides 21845, 65536, 32768; each packet to the lowest pass, the lower
    # port among equal passes: a c a a c b, twice.
    router = configure(STRIDE.format(tickets="3, 1, 2"))
    switch = router.element("s")
    sent = packets(*(bytes([i]) for i in range(1, 13)))
    if batched:
        switch.push(0, sent)
    else:
        for packet in sent:
            switch.push(0, [packet])
    assert outputs(router) == [[bytes([i]) for i in (1, 3, 4, 7, 9, 10)],
                               [bytes([i]) for i in (6, 12)],
                               [bytes([i]) for i in (2, 5, 8, 11)]]
    assert router.handlers.read("s.config") == "3, 1, 2"


def test_stride_switch_tickets_handlers():
    router = configure(STRIDE.format(tickets="0, 2, 0"))
    router.initialize()
    switch, h = router.element("s"), router.handlers
    switch.push(0, packets(*(b"x" for _ in range(8))))
    assert [len(kept) for kept in outputs(router)] == [0, 8, 0]
    # Output 0 joins one stride past the head of the schedule: b b b a b b a b.
    h.write("s.tickets0", "1")
    switch.push(0, packets(*(bytes([i]) for i in range(8))))
    assert outputs(router)[0] == [bytes([3]), bytes([6])]
    h.write("s.tickets1", "0")
    assert (h.read("s.tickets0"), h.read("s.tickets1"), h.read("s.config")) == \
        ("1", "0", "1, 0, 0")
    switch.push(0, packets(b"y"))
    assert outputs(router)[0][-1] == b"y"
    with pytest.raises(HandlerError, match="must be at least 0"):
        h.write("s.tickets2", "-1")
    router.cleanup()


def test_stride_switch_without_tickets_drops():
    assert run("InfiniteSource(LIMIT 4) -> s :: StrideSwitch(0, 0) -> c :: Counter -> Discard;"
               "s[1] -> d :: Counter -> Discard", "c.count", "d.count") == ["0", "0"]


def test_stride_switch_caps_tickets_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        router = configure("Idle -> s :: StrideSwitch(40000, 1) -> Discard; s[1] -> Discard")
    router.initialize()
    assert router.handlers.read("s.tickets0") == "32768"
    router.cleanup()
    assert "s :: StrideSwitch: output 0's tickets reduced to 32768" in caplog.text


@pytest.mark.parametrize("config, message", [
    ("3, 1", "need 1 arguments, one per output port"),
    ("-1", "TICKETS0: must be at least 0, got '-1'"),
    ("many", "TICKETS0: expected integer, got 'many'"),
])
def test_stride_switch_errors_name_the_element(config, message):
    with pytest.raises(ConfigError, match=rf"'s :: StrideSwitch': {message}"):
        configure(f"Idle -> s :: StrideSwitch({config}) -> Discard")


# --- SetAnnoByte

def test_set_anno_byte_sets_one_annotation_byte(caplog):
    with caplog.at_level(logging.WARNING):
        router = configure("s :: SetAnnoByte(5, 200); t :: SetAnnoByte(PAINT, 0x0f);"
                           "Idle -> s -> t -> k :: KeepingTestSink")
    assert "SetAnnoByte(ANNO, VALUE) is obsolete, use Paint(VALUE, ANNO) instead" in caplog.text
    router.element("s").push(0, packets(b"x"))
    [packet] = router.element("k").packets
    assert (packet.anno_u8(5), packet.anno_u8(16)) == (200, 15)
    h = router.handlers
    assert (h.read("s.anno"), h.read("s.value"), h.read("t.anno")) == ("5", "200", "16")
    h.write("s.value", "7")
    assert h.read("s.value") == "7"
    with pytest.raises(HandlerError, match="at most 255"):
        h.write("s.value", "256")


@pytest.mark.parametrize("config, message", [
    ("48, 1", "ANNO: expected 1-byte annotation"),
    ("DST_IP, 1", "ANNO: annotation 'DST_IP' is 4 bytes, expected 1"),
    ("3, 256", "VALUE: must be at least 0 and at most 255, got '256'"),
    ("3", "VALUE: missing mandatory argument"),
])
def test_set_anno_byte_errors_name_the_element(config, message):
    with pytest.raises(ConfigError, match=rf"'s :: SetAnnoByte': {message}"):
        configure(f"Idle -> s :: SetAnnoByte({config}) -> Discard")


# --- PortInfo

def udp_ports(packet: Packet) -> tuple[int, int]:
    header = bytes(packet.data)[20:24]
    return int.from_bytes(header[:2], "big"), int.from_bytes(header[2:], "big")


def encapsulated(info: str, sport: str, dport: str) -> tuple[int, int]:
    router = configure(f"{info}; InfiniteSource(LIMIT 1) -> "
                       f"UDPIPEncap(1.0.0.1, {sport}, 2.0.0.2, {dport}) -> k :: KeepingTestSink")
    router.run(handle_signals=False)
    [packet] = router.element("k").packets
    return udp_ports(packet)


def test_port_info_names_ports_for_udp_ip_encap():
    info = "PortInfo(src 10, dns 53/udp domain2 #comment notaname, , # all a comment)"
    assert encapsulated(info, "src", "dns") == (10, 53)
    assert encapsulated(info, "domain2", "0x10") == (53, 16)


def test_port_info_names_win_over_well_known_ones_and_the_last_port_wins():
    assert encapsulated("PortInfo(x 1)", "www", "x") == (80, 1)
    assert encapsulated("PortInfo(www 8080, x 1, x 2)", "www", "x") == (8080, 2)
    assert encapsulated("PortInfo(n 017/17)", "n", "n") == (15, 15)


@pytest.mark.parametrize("info", ["PortInfo(t 7/tcp)", "PortInfo(t 7/quic)", "Idle"])
def test_port_info_names_are_per_protocol(info):
    # A TCP port is no UDP port; an unknown protocol's entry is skipped.
    with pytest.raises(ConfigError, match=r"'e :: UDPIPEncap': SPORT: expected unsigned integer, "
                                          r"got 't'"):
        configure(f"{info}; Idle -> e :: UDPIPEncap(1.0.0.1, t, 2.0.0.2, 1) -> Discard")


def test_port_info_port_must_fit_where_it_is_used():
    with pytest.raises(ConfigError, match=r"SPORT: must be at least 0 and at most 65535"):
        configure("PortInfo(big 70000); Idle -> UDPIPEncap(1.0.0.1, big, 2.0.0.2, 1) -> Discard")


def test_port_info_names_are_local_to_their_compound():
    inside = ("c :: { PortInfo(p 99); input -> UDPIPEncap(1.0.0.1, p, 2.0.0.1, p) -> output };"
              "InfiniteSource(LIMIT 1) -> c -> k :: KeepingTestSink")
    router = configure(inside)
    router.run(handle_signals=False)
    assert udp_ports(router.element("k").packets[0]) == (99, 99)
    with pytest.raises(ConfigError, match="SPORT: expected unsigned integer, got 'p'"):
        configure("c :: { PortInfo(p 99); input -> output };"
                  "Idle -> c -> UDPIPEncap(1.0.0.1, p, 2.0.0.1, 1) -> Discard")


def test_port_info_names_in_fast_udp_source():
    router = configure("PortInfo(s 1234, d 53/udp); f :: FastUDPSource(0, 1, 60, 0:0:0:0:0:1, "
                       "1.0.0.1, s, 0:0:0:0:0:2, 2.0.0.2, d) -> Discard")
    element = router.element("f")
    assert (element.sport, element.dport) == (1234, 53)


@pytest.mark.parametrize("info, pattern, count", [
    ("PortInfo(web 8080)", "udp dst port web", "3"),
    ("PortInfo(web 8080/udp)", "dst port web", "3"),
    ("PortInfo(web 8080)", "web", "3"),
    ("PortInfo(web 8081)", "udp port web", "0"),
    ("PortInfo(web 8080/tcp, web 8080/udp)", "port web", "3"),
])
def test_port_info_names_in_ip_filter_patterns(info, pattern, count):
    assert run(f"{info}; InfiniteSource(LIMIT 3) -> UDPIPEncap(1.0.0.1, 1, 2.0.0.2, 8080) -> "
               f"IPFilter(allow {pattern}, deny all) -> c :: Counter -> Discard",
               "c.count") == [count]


@pytest.mark.parametrize("info, pattern, message", [
    ("PortInfo(x 1/tcp, x 2/udp)", "port x", "'x' is ambiguous; try 'tcp port x', 'udp port x'"),
    ("PortInfo(x 1/tcp)", "udp port x", "'x' is meaningless here; try 'tcp port x'"),
    ("PortInfo(x 70000)", "tcp port x", "value 70000 out of range"),
])
def test_port_info_names_in_ip_filter_errors(info, pattern, message):
    with pytest.raises(ConfigError, match=message):
        configure(f"{info}; Idle -> IPFilter(allow {pattern}) -> Discard")


@pytest.mark.parametrize("argument", ["p", "p x80", "q 8a", "r /tcp"])
def test_port_info_errors_name_the_element(argument):
    with pytest.raises(ConfigError, match=rf"'i :: PortInfo': expected 'NAME PORT/PROTO', "
                                          rf"got '{argument}'"):
        configure(f"i :: PortInfo({argument})")


# --- AlignmentInfo

def test_alignment_info_checks_and_has_no_effect(caplog):
    with caplog.at_level(logging.WARNING):
        assert run("AlignmentInfo(c 4 2, nowhere 8 x, c 4 2); InfiniteSource(LIMIT 2) -> "
                   "c :: Counter -> Discard", "c.count") == ["2"]
    assert caplog.records == []


def test_alignment_info_mistakes_are_reported_but_do_not_stop_the_router(caplog):
    with caplog.at_level(logging.WARNING):
        assert run("a :: AlignmentInfo(c 4 2 8, , c 4 x); b :: AlignmentInfo(c 8 1);"
                   "InfiniteSource(LIMIT 1) -> c :: Counter -> Discard", "c.count") == ["1"]
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("ERROR", "a :: AlignmentInfo: expected 'ELEMENTNAME CHUNK OFFSET [CHUNK OFFSET...]'"),
        ("WARNING", "a :: AlignmentInfo: empty configuration argument 1"),
        ("ERROR", "a :: AlignmentInfo: expected OFFSET"),
        ("ERROR", "a :: AlignmentInfo: conflicting AlignmentInfo for 'c'"),
        ("ERROR", "b :: AlignmentInfo: conflicting AlignmentInfo for 'c'"),
    ]


# --- AnnotationInfo

def painted(config: str) -> Packet:
    router = configure(f"{config} -> k :: KeepingTestSink")
    router.run(handle_signals=False)
    return router.element("k").packets[0]


def test_annotation_info_names_annotations_for_other_elements():
    packet = painted("AnnotationInfo(MINE 20 1, ANY 30, AGAIN MINE);"
                     "InfiniteSource(LIMIT 1) -> Paint(7, ANNO MINE) -> SetAnnoByte(ANY, 9)"
                     "-> CheckPaint(7, ANNO AGAIN)")
    assert (packet.anno_u8(20), packet.anno_u8(30)) == (7, 9)


def test_annotation_info_names_are_local_to_their_compound():
    packet = painted("c :: { AnnotationInfo(IN 30 1); input -> Paint(1, ANNO IN) -> output };"
                     "InfiniteSource(LIMIT 1) -> c")
    assert packet.anno_u8(30) == 1
    with pytest.raises(ConfigError, match=r"'p :: Paint': ANNO: expected 1-byte annotation"):
        configure("c :: { AnnotationInfo(IN 30 1); input -> output };"
                  "Idle -> c -> p :: Paint(1, ANNO IN) -> Discard")


def test_annotation_info_size_must_match_where_it_is_used():
    with pytest.raises(ConfigError, match=r"'p :: Paint': ANNO: annotation 'TWO' is 2 bytes, "
                                          r"expected 1"):
        configure("AnnotationInfo(TWO 20 2); Idle -> p :: Paint(7, ANNO TWO) -> Discard")


@pytest.mark.parametrize("argument, message", [
    ("PAINT 20 1", "bad NAME 'PAINT'"),
    ("5 1", "bad NAME '5'"),
    ("'A' 1", "bad NAME ''A''"),
    ("A", "bad entry for 'A'"),
    ("A PAINT 2", "bad entry for 'A'"),
    ("A 47 2", "bad entry for 'A'"),
    ("A 48", "bad entry for 'A'"),
    ("A -1", "bad entry for 'A'"),
    ("A 2 -1", "bad entry for 'A'"),
    ("A 2 1 x", "bad entry for 'A'"),
    ("A NOWHERE", "bad entry for 'A'"),
])
def test_annotation_info_errors_name_the_element(argument, message):
    with pytest.raises(ConfigError, match=rf"While configuring 'i :: AnnotationInfo': {message}"):
        configure(f"i :: AnnotationInfo({argument})")


def test_annotation_info_checks_overlaps_when_the_router_starts():
    # Sizes 0 count as one byte: 2 and 3 do not overlap, 2 (4 bytes) and 3 do.
    run("AnnotationInfo(A 2 0, B 3, CHECK_OVERLAP A B PAINT 47, , #x)")
    router = configure("i :: AnnotationInfo(A 2 4, B 3, CHECK_OVERLAP A B, "
                       "CHECK_OVERLAP DST_IP 4 3 ZZ)")
    with pytest.raises(ConfigError) as info:
        router.run(handle_signals=False)
    assert [m.split("AnnotationInfo': ")[1] for m in info.value.messages] == [
        "annotations 'A' and 'B' conflict", "bad ANNO 'ZZ'",
        "annotations 'DST_IP' and '3' conflict"]
