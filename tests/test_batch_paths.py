"""The whole-batch paths (packet functions, Strip, Counter, CheckIPHeader, Queue)
do to every packet exactly what the packet-at-a-time paths do."""

from __future__ import annotations

import struct

from pyclick.errors import Landmark
from pyclick.packet import Packet, batch_length, fresh_batch, pull_batch, push_batch
from tests.frames import ip_header, ip_packet, udp
from tests.helpers import configured_router
from tests.sinks import KeepingTestSink

LANDMARK = Landmark("batch.click", 1)
UDP = ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1000, 53, b"abcd"))


def observed(packet: Packet) -> tuple:
    return (packet.data, packet.headroom, packet.network_header_offset,
            packet.transport_header_offset, packet.anno_bytes(0, 48), packet.timestamp,
            packet.rss_hash, packet.flow, packet.packet_type)


def test_fresh_batch_makes_what_the_constructor_makes():
    data = bytes(range(60))
    batch = fresh_batch(data, 3, 2.5)
    assert len(batch) == 3 and len({id(p) for p in batch}) == 3
    assert all(observed(p) == observed(Packet(data, 2.5)) for p in batch)
    # Shared copy-on-write: a write gives the writer its own buffer.
    batch[0].write(0, b"\xff")
    assert batch[0].data[:2] == b"\xff\x01" and batch[1].data[:2] == b"\x00\x01"
    assert batch[1].data is data


def test_pull_and_push_batch_equal_pull_and_push_one_by_one():
    lengths = [0, 5, 14, 40]
    ones = [Packet(bytes(n)) for n in lengths]
    batch = [Packet(bytes(n)) for n in lengths]
    for packet in ones:
        packet.pull(14)
    pull_batch(batch, 14)
    assert [len(p) for p in batch] == [0, 0, 0, 26] == [len(p) for p in ones]
    for packet in ones:
        packet.push(20)
    push_batch(batch, 20)
    # 14 bytes of headroom at most: each push of 20 reallocates with zeros in front
    # of what is left (nothing but 26 bytes of the 40-byte packet).
    assert [observed(p) for p in batch] == [observed(p) for p in ones]
    assert [len(p) for p in batch] == [20, 20, 20, 46]
    assert batch_length(batch) == 106


def test_annotations_of_clones_are_copied_on_write():
    packet = Packet(bytes(20))
    packet.paint = 7
    twin = packet.clone()
    twin.paint = 9
    twin.dst_ip = b"\x01\x02\x03\x04"
    assert (packet.paint, twin.paint) == (7, 9)
    assert packet.dst_ip == bytes(4) and twin.dst_ip == b"\x01\x02\x03\x04"
    third = twin.clone()
    third.set_anno_u8(16, 3)
    assert (twin.paint, third.paint, third.dst_ip) == (9, 3, b"\x01\x02\x03\x04")


def check(config: str, packets: list[Packet], batched: bool):
    """The packets out of a CheckIPHeader's outputs 0 and 1, and its drops."""
    router = configured_router(
        [("e", "CheckIPHeader", config), ("s0", KeepingTestSink.__name__, ""),
         ("s1", KeepingTestSink.__name__, "")],
        [("e", 0, "s0", 0), ("e", 1, "s1", 0)], at=LANDMARK, simtime=True)
    e = router.element("e")
    if batched:
        e.push(0, packets)
    else:
        for packet in packets:
            e.push(0, [packet])
    return router.element("s0").packets, router.element("s1").packets, e.drops


def frames() -> list[Packet]:
    options = ip_header("10.0.0.1", "10.0.0.9", 17, 8, options=b"\x01\x01\x01\x00") + udp(1, 2)
    painted = Packet(b"\xaa" * 14 + UDP + bytes(6))
    painted.paint = 5
    cloned = painted.clone()
    return [
        Packet(b"\xaa" * 14 + UDP + bytes(6)),                       # padded: cut to 14 + 32
        Packet(b"\xaa" * 14 + options),                              # 24-byte header
        Packet(b"\xaa" * 14 + UDP[:19]),                             # tiny
        Packet(b"\xaa" * 14 + bytes([0x65]) + UDP[1:]),              # bad version
        Packet(b"\xaa" * 14 + bytes([0x44]) + UDP[1:]),              # bad header length
        Packet(b"\xaa" * 14 + UDP[:2] + struct.pack("!H", 33) + UDP[4:]),  # bad length
        Packet(b"\xaa" * 14 + ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2),
                                        good_checksum=False)),      # bad checksum
        painted,                                                     # own annotation area
        cloned,                                                      # shared annotation area
    ]


def test_checkipheader_batch_equals_one_by_one():
    good, bad, drops = check("14", frames(), batched=True)
    one_good, one_bad, one_drops = check("14", frames(), batched=False)
    assert [observed(p) for p in good] == [observed(p) for p in one_good]
    assert [observed(p) for p in bad] == [observed(p) for p in one_bad]
    assert drops == one_drops == 5
    assert [len(p) for p in good] == [46, 14 + 24 + 8, 46, 46]
    assert [(p.network_header_offset, p.transport_header_offset) for p in good] == \
        [(14, 34), (14, 38), (14, 34), (14, 34)]
    assert [p.dst_ip for p in good] == [bytes([10, 0, 0, d]) for d in (2, 9, 2, 2)]
    assert [p.paint for p in good] == [0, 0, 5, 5]


def test_checkipheader_checksum_false_passes_a_bad_checksum_in_a_batch():
    frame = ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2), good_checksum=False)
    good, bad, drops = check("CHECKSUM false", [Packet(frame), Packet(frame)], batched=True)
    assert (len(good), bad, drops) == (2, [], 0)


def test_queue_pull_batch_takes_all_or_part_in_order():
    router = configured_router([("q", "Queue", "10"), ("s", KeepingTestSink.__name__, "")],
                               [], at=LANDMARK, simtime=True)
    queue = router.element("q")
    packets = [Packet(bytes([i])) for i in range(5)]
    queue.push(0, packets)
    assert queue.pull_batch(0, 2) == packets[:2]
    assert queue.pull_batch(0, 10) == packets[2:]
    assert queue.pull_batch(0, 10) == []


def test_an_annotation_area_set_by_checkipheader_reads_and_writes_as_a_full_one():
    (packet,), _, _ = check("14", [Packet(b"\xaa" * 14 + UDP)], batched=True)
    assert packet.dst_ip == bytes([10, 0, 0, 2])
    assert (packet.paint, packet.anno_u8(47), packet.anno_u32(28), packet.first_timestamp) == \
        (0, 0, 0, 0.0)
    assert packet.anno_bytes(44, 4) == bytes(4)
    twin = packet.clone()
    twin.paint = 3
    twin.set_anno_u8(47, 1)
    assert twin.anno_bytes(0, 48) == bytes([10, 0, 0, 2]) + bytes(12) + b"\x03" + bytes(30) + b"\x01"
    assert packet.anno_bytes(0, 48) == bytes([10, 0, 0, 2]) + bytes(44)
