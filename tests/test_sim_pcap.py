"""Classic pcap reading, dissection to flow keys, and replay as NIC traffic."""

import struct

import numpy as np
import pytest

from pyclick.sim.flows import TCP, UDP, build_frame
from pyclick.sim.pcap import (LINKTYPE_RAW, FlowKey, PcapError, dissect, read_pcap,
                              write_pcap)
from pyclick.sim.toeplitz import MICROSOFT_KEY, address_bytes, toeplitz_hash, tuple_bytes
from pyclick.sim.traffic import PcapTraffic

V4A, V4B = address_bytes("66.9.149.187"), address_bytes("161.142.100.80")
V6A, V6B = address_bytes("3ffe:2501:200:1fff::7"), address_bytes("3ffe:2501:200:3::1")


def vlan_tagged(frame: bytes) -> bytes:
    return frame[:12] + struct.pack("!HH", 0x8100, 42) + frame[12:]


def fragment(frame: bytes) -> bytes:
    """Mark an IPv4 frame as a first fragment (more-fragments flag)."""
    return frame[:20] + struct.pack("!H", 0x2000) + frame[22:]


ARP = b"\xff" * 6 + b"\x02" * 6 + b"\x08\x06" + bytes(46)


@pytest.fixture
def capture(tmp_path):
    """A small capture: two TCP/UDP flows, a tagged one, IPv6, a fragment, ARP."""
    tcp4 = build_frame(V4A, V4B, 2794, 1766, TCP)
    udp6 = build_frame(V6A, V6B, 2794, 1766, UDP)
    records = [
        (100.000, tcp4), (100.0004, udp6), (100.0011, vlan_tagged(tcp4)),
        (100.0015, fragment(tcp4)), (100.0021, ARP), (100.0030, tcp4),
    ]
    path = tmp_path / "small.pcap"
    write_pcap(path, records)
    return path, records


def test_read_back_what_was_written(capture):
    path, records = capture
    linktype, read = read_pcap(path)
    assert linktype == 1
    assert [r.frame for r in read] == [frame for _, frame in records]
    assert [r.timestamp for r in read] == pytest.approx([t for t, _ in records], abs=1e-6)


def test_big_endian_nanosecond_files_are_read(tmp_path):
    frame = build_frame(V4A, V4B, 1, 2, UDP)
    header = struct.pack(">IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1)
    record = struct.pack(">IIII", 7, 500_000_000, len(frame), len(frame)) + frame
    path = tmp_path / "ns.pcap"
    path.write_bytes(header + record)
    _, read = read_pcap(path)
    assert read[0].timestamp == pytest.approx(7.5) and read[0].frame == frame


def test_dissection_finds_the_hash_input():
    tcp4 = build_frame(V4A, V4B, 2794, 1766, TCP)
    assert dissect(tcp4) == FlowKey(V4A, V4B, TCP, 2794, 1766)
    assert dissect(vlan_tagged(tcp4)) == FlowKey(V4A, V4B, TCP, 2794, 1766)
    assert dissect(fragment(tcp4)) == FlowKey(V4A, V4B, TCP)
    assert dissect(build_frame(V6A, V6B, 5, 6, UDP)) == FlowKey(V6A, V6B, UDP, 5, 6)
    assert dissect(ARP) is None
    assert dissect(tcp4[14:], LINKTYPE_RAW) == FlowKey(V4A, V4B, TCP, 2794, 1766)


def test_ipv6_extension_headers_are_skipped():
    frame = bytearray(build_frame(V6A, V6B, 5, 6, UDP))
    ip = 14
    payload = bytes(frame[ip + 40:])
    frame[ip + 6] = 0                                 # next: hop-by-hop options
    hop_by_hop = bytes([UDP, 0]) + bytes(6)           # 8 bytes, then UDP
    frame = bytes(frame[:ip + 40]) + hop_by_hop + payload
    assert dissect(frame) == FlowKey(V6A, V6B, UDP, 5, 6)


def test_replay_counts_packets_per_bucket_and_step(capture):
    path, _ = capture
    traffic = PcapTraffic(path, MICROSOFT_KEY, 128)
    tcp_bucket = 0x51CCC178 % 128
    udp6_bucket = 0x40207D3D % 128
    fragment_bucket = 0x323E8FC2 % 128
    counts = traffic.windows(0.0, 0.001, 4)
    assert counts.sum() == 6
    assert counts[0, tcp_bucket] == 1 and counts[0, udp6_bucket] == 1
    assert counts[1, tcp_bucket] == 1 and counts[1, fragment_bucket] == 1
    assert counts[2, 0] == 1                          # ARP: no hash, bucket 0
    assert counts[3, tcp_bucket] == 1
    assert traffic.duration == pytest.approx(0.003)


def test_replay_steers_through_the_table(capture):
    path, _ = capture
    traffic = PcapTraffic(path, MICROSOFT_KEY, 128)
    table = np.zeros(128, np.int64)
    table[0x51CCC178 % 128] = 1
    per_core, per_bucket = traffic.steered(0.0, 0.001, 4, table, 2)
    assert per_core[:, 1].tolist() == [1, 1, 0, 1]
    assert per_bucket.sum() == 6


def test_replay_packets_carry_hashes_flows_and_frames(capture):
    path, records = capture
    packets = PcapTraffic(path, MICROSOFT_KEY, 128, speedup=2.0).packets(0.0, 1.0)
    assert [p.data for p in packets] == [frame for _, frame in records]
    assert packets[0].rss_hash == toeplitz_hash(MICROSOFT_KEY,
                                                tuple_bytes(V4A, V4B, 2794, 1766))
    assert packets[0].flow == ("66.9.149.187", "161.142.100.80", 2794, 1766, TCP)
    assert packets[4].flow is None and packets[4].rss_hash == 0
    assert packets[-1].timestamp == pytest.approx(0.0015)


def test_unreadable_files_are_reported(tmp_path):
    pcapng = tmp_path / "a.pcapng"
    pcapng.write_bytes(struct.pack("<I", 0x0A0D0D0A) + bytes(40))
    with pytest.raises(PcapError, match="pcapng"):
        read_pcap(pcapng)
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"hello world, not a capture")
    with pytest.raises(PcapError, match="not a pcap"):
        read_pcap(junk)
    cut = tmp_path / "cut.pcap"
    write_pcap(cut, [(0.0, ARP)])
    cut.write_bytes(cut.read_bytes()[:-10])
    with pytest.raises(PcapError, match="truncated"):
        read_pcap(cut)
    empty = tmp_path / "empty.pcap"
    write_pcap(empty, [])
    with pytest.raises(ValueError, match="no packets"):
        PcapTraffic(empty, MICROSOFT_KEY, 128)
