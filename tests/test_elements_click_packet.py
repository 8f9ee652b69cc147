"""The packet model Click's elements rely on: headroom, copy-on-write clones,
Click's annotation area and header offsets."""

from __future__ import annotations

import sys

import pytest

from pyclick.packet import ANNO_SIZE, ANNOTATIONS, DEFAULT_HEADROOM, HOST, Packet


def test_construction_stays_compatible():
    packet = Packet(b"abc", 1.5, 7, ("a", "b", 1, 2, 17), {"k": 1})
    assert (packet.data, packet.timestamp, packet.rss_hash, packet.flow, packet.anno) == \
        (b"abc", 1.5, 7, ("a", "b", 1, 2, 17), {"k": 1})
    assert len(Packet()) == 0 and Packet().anno == {} and Packet().packet_type == HOST
    assert Packet(bytearray(b"xy")).data == b"xy"


def test_data_of_a_fresh_packet_is_the_same_object():
    data = bytes(64)
    assert Packet(data).data is data


def test_pull_and_push_move_the_window_without_copying():
    data = b"0123456789"
    packet = Packet(data)
    packet.pull(4)
    assert (packet.data, packet.headroom, len(packet)) == (b"456789", 4, 6)
    packet.push(4)
    assert packet.data == data and packet.buffer is data


def test_pull_past_the_end_empties_the_packet():
    packet = Packet(b"abc").pull(10)
    assert (packet.data, packet.headroom) == (b"", 3)


def test_push_beyond_the_headroom_reallocates_with_default_headroom():
    packet = Packet(b"ab").push(3)
    assert packet.data == b"\0\0\0ab"
    assert packet.headroom == DEFAULT_HEADROOM
    assert isinstance(packet.buffer, bytearray)


def test_take_and_put():
    packet = Packet(b"abcdef").take(2)
    assert packet.data == b"abcd" and packet.tailroom == 2
    packet.put(3)
    assert packet.data == b"abcd\0\0\0"


def test_clones_share_until_one_writes():
    original = Packet.make(b"hello", headroom=4)
    clone = original.clone()
    assert clone.buffer is original.buffer
    clone.write(0, b"J")
    assert (clone.data, original.data) == (b"Jello", b"hello")
    original.write(4, b"!")
    assert (clone.data, original.data) == (b"Jello", b"hell!")


def test_writable_data_is_a_view_of_the_packet():
    packet = Packet(b"abcd").pull(1)
    view = packet.writable_data()
    view[0:3] = b"XYZ"
    assert packet.data == b"XYZ"
    packet.push(1)
    assert packet.data == b"aXYZ"       # the pulled byte was kept through the copy


def test_write_outside_the_packet_is_refused():
    with pytest.raises(IndexError):
        Packet(b"ab").write(1, b"xy")
    with pytest.raises(IndexError):
        Packet(b"ab").byte(2)
    assert Packet(b"ab").byte(1) == ord("b")


def test_make_gives_head_and_tailroom():
    packet = Packet.make(b"xyz", headroom=10, tailroom=5, timestamp=2.0)
    assert (packet.headroom, packet.tailroom, packet.data, packet.timestamp) == \
        (10, 5, b"xyz", 2.0)
    packet.push(10)
    assert packet.headroom == 0 and len(packet) == 13


def test_annotation_area_with_clicks_layout():
    packet = Packet(b"")
    assert packet.anno_bytes(0, ANNO_SIZE) == bytes(ANNO_SIZE)
    packet.paint = 3
    packet.dst_ip = bytes([10, 0, 0, 1])
    packet.set_anno_u8(ANNOTATIONS["ICMP_PARAMPROB"][0], 9)
    packet.aggregate = 0x01020304
    assert packet.anno_u8(16) == 3 and packet.paint == 3
    assert packet.anno_bytes(0, 4) == b"\n\0\0\1"
    assert packet.anno_u8(17) == 9
    assert packet.anno_u32(20) == 0x01020304
    # VLAN_TCI and AGGREGATE share bytes, in host byte order, as in Click.
    assert packet.vlan_tci == (0x0304 if sys.byteorder == "little" else 0x0102)
    packet.extra_length = 40
    packet.first_timestamp = 1.25
    assert (packet.extra_length, packet.first_timestamp) == (40, 1.25)
    with pytest.raises(IndexError):
        packet.set_anno_u8(ANNO_SIZE, 1)
    with pytest.raises(ValueError):
        packet.dst_ip = b"\1\2"


def test_clone_copies_annotations_independently():
    packet = Packet(b"x", anno={"a": 1})
    packet.paint = 5
    clone = packet.clone()
    clone.paint = 6
    clone.anno["a"] = 2
    assert (packet.paint, packet.anno["a"], clone.paint, clone.anno["a"]) == (5, 1, 6, 2)


def test_header_offsets_follow_the_data():
    packet = Packet(bytes(14 + 20 + 8))
    packet.set_mac_header(0)
    assert (packet.mac_header_offset, packet.network_header_offset) == (0, 14)
    packet.set_network_header(14, 20)
    assert (packet.transport_header_offset, packet.network_header_length) == (34, 20)
    packet.pull(14)
    assert (packet.mac_header_offset, packet.network_header_offset,
            packet.transport_header_offset) == (-14, 0, 20)
    packet.push(20)               # beyond the headroom: a new buffer, offsets kept
    assert (packet.network_header_offset, packet.transport_header_offset) == (20, 40)
    assert len(packet.network_header()) == 20


def test_headers_unset():
    packet = Packet(b"abc")
    assert (packet.mac_header_offset, packet.network_header_offset,
            packet.transport_header_offset, packet.network_header_length) == \
        (None, None, None, None)
    assert packet.network_header() == b""
    with pytest.raises(ValueError):
        packet.set_network_header_length(20)
