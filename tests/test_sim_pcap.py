"""Classic pcap reading, dissection to flow keys, and replay as NIC traffic."""

import struct

import numpy as np
import pytest

from pyclick.errors import Landmark
from pyclick.rss.toeplitz import MICROSOFT_KEY, address_bytes, toeplitz_hash, tuple_bytes
from pyclick.sim.flows import TCP, UDP, build_frame
from pyclick.sim.dissect import FlowKey, dissect
from pyclick.sim.pcap import LINKTYPE_RAW, PcapError, read_pcap, write_pcap
from pyclick.sim.traffic import PcapTraffic, TrafficConfig, TrafficGenerator
from tests.helpers import config_error_of, configured_router

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


# --- streaming replay

def mixed_frames():
    """One frame of every kind the batch reader meets, and of the rarer ones it hands on."""
    tcp4 = build_frame(V4A, V4B, 2794, 1766, TCP)
    udp6 = build_frame(V6A, V6B, 2794, 1766, UDP)
    options = bytearray(build_frame(V4B, V4A, 80, 4321, TCP))
    options[14] = 0x46                                   # IHL 6: four bytes of options
    options = bytes(options[:34]) + b"\x01\x01\x01\x00" + bytes(options[34:])
    extension = bytearray(udp6)
    extension[14 + 6] = 0                                # hop-by-hop, then UDP
    extension = bytes(extension[:54]) + bytes([UDP, 0]) + bytes(6) + bytes(extension[54:])
    four_tags = tcp4[:12] + struct.pack("!HHHHHHHH", 0x88A8, 1, 0x8100, 2, 0x8100, 3,
                                        0x8100, 4) + tcp4[12:]
    five_tags = tcp4[:12] + struct.pack("!HH", 0x8100, 9) + four_tags[12:]
    return [tcp4, udp6, vlan_tagged(tcp4), fragment(tcp4), ARP, options, extension,
            four_tags, five_tags, tcp4[:40], udp6[:60], tcp4[:10], b"",
            build_frame(V4A, V4B, 5, 6, 132), build_frame(V4A, V4B, 0, 0, 1)]


def whole_file_counts(path, key, reta, dt, count):
    """Per-window, per-bucket counts from the whole-file reader and the scalar hash."""
    _, records = read_pcap(path)
    counts = np.zeros((count, reta), np.int64)
    first = records[0].timestamp
    for record in records:
        flow = dissect(record.frame)
        value = 0 if flow is None else toeplitz_hash(key, flow.hash_input())
        window = int(np.floor((record.timestamp - first) / dt + 1e-9))
        if window < count:
            counts[window, value % reta] += 1
    return counts


def generated_capture(path, packets=3000, seed=7):
    """Flows of the synthetic model, and the rarer frames above, over 0.3 s."""
    traffic = TrafficGenerator(TrafficConfig(seed=seed, rate_pps=packets / 0.3, flows=400,
                                             ipv6_fraction=0.3), MICROSOFT_KEY, 128)
    records = [(1000.0 + p.timestamp, p.data) for p in traffic.packets(0.0, 0.3)]
    rng = np.random.default_rng(seed)
    extra = mixed_frames()
    for i in rng.choice(len(records), 200, replace=False):
        records[i] = (records[i][0], extra[i % len(extra)])
    write_pcap(path, records)
    return records


def test_batch_hashes_agree_with_the_scalar_dissection(tmp_path):
    path = tmp_path / "mixed.pcap"
    write_pcap(path, [(i * 0.001, frame) for i, frame in enumerate(mixed_frames())])
    traffic = PcapTraffic(path, MICROSOFT_KEY, 128)
    packets = traffic.packets(0.0, 1.0)
    for packet, frame in zip(packets, mixed_frames()):
        flow = dissect(frame)
        expected = 0 if flow is None else toeplitz_hash(MICROSOFT_KEY, flow.hash_input())
        assert packet.rss_hash == expected, frame.hex()
    assert len(packets) == len(mixed_frames())


def test_streaming_gives_the_whole_file_readers_counts(tmp_path):
    path = tmp_path / "generated.pcap"
    records = generated_capture(path)
    expected = whole_file_counts(path, MICROSOFT_KEY, 128, 0.001, 320)
    # Batches of about 40 records: a hundred reads over the capture.
    traffic = PcapTraffic(path, MICROSOFT_KEY, 128, chunk_bytes=4000)
    got = np.concatenate([traffic.windows(start * 0.001, 0.001, size)
                          for start, size in ((0, 1), (1, 7), (8, 100), (108, 2), (110, 210))])
    assert got.sum() == len(records)
    assert np.array_equal(got, expected)


def test_steered_streaming_agrees_with_the_whole_file_reader(tmp_path):
    path = tmp_path / "generated.pcap"
    generated_capture(path, seed=8)
    expected = whole_file_counts(path, MICROSOFT_KEY, 128, 0.01, 31)
    table = np.arange(128) % 3
    traffic = PcapTraffic(path, MICROSOFT_KEY, 128, chunk_bytes=2048)
    per_core, per_bucket = traffic.steered(0.0, 0.01, 31, table, 3)
    assert np.array_equal(per_bucket, expected.sum(axis=0))
    assert np.array_equal(per_core, np.stack([np.bincount(table, weights=row, minlength=3)
                                              for row in expected]).astype(np.int64))


def test_the_capture_is_read_as_time_advances(tmp_path):
    path = tmp_path / "generated.pcap"
    generated_capture(path)
    traffic = PcapTraffic(path, MICROSOFT_KEY, 128, chunk_bytes=4000)
    assert traffic.bytes_read == 24                        # the header only
    traffic.windows(0.0, 0.001, 10)                        # 10 ms of the 300
    assert 24 < traffic.bytes_read < traffic.size / 5
    traffic.windows(0.01, 0.001, 400)
    assert traffic.bytes_read == traffic.size


def test_packets_out_of_order_across_batches_arrive_now(tmp_path):
    frame = build_frame(V4A, V4B, 1, 2, UDP)
    path = tmp_path / "late.pcap"
    # Records of 76 bytes, one per batch; the last is stamped 5 ms.
    write_pcap(path, [(0.0, frame), (0.010, frame), (0.020, frame), (0.005, frame)])
    traffic = PcapTraffic(path, MICROSOFT_KEY, 128, chunk_bytes=76)
    # The first 12 ms need the records up to the one stamped 20 ms, not the last.
    counts = np.concatenate([traffic.windows(0.0, 0.001, 12),
                             traffic.windows(0.012, 0.001, 18)]).sum(axis=1)
    # Read when the replay had reached 12 ms: it arrives at 12 ms.
    assert np.flatnonzero(counts).tolist() == [0, 10, 12, 20] and counts.sum() == 4


def test_capture_length_comes_from_the_end_of_the_file(tmp_path):
    path = tmp_path / "generated.pcap"
    records = generated_capture(path)
    walked = []
    traffic = PcapTraffic(path, MICROSOFT_KEY, 128, speedup=2.0)
    assert traffic.capture_length(walked.append) == pytest.approx(
        (records[-1][0] - records[0][0]) / 2, abs=1e-6)
    assert walked == []                      # the end was enough
    # Frames ending in zeros (which look like empty records) do not fool it.
    zeros = build_frame(V4A, V4B, 1, 2, UDP) + bytes(200)
    padded = tmp_path / "zeros.pcap"
    write_pcap(padded, [(5.0, zeros), (6.5, zeros), (7.25, zeros)])
    assert PcapTraffic(padded, MICROSOFT_KEY, 128).duration == pytest.approx(2.25)


def cut_capture(tmp_path, keep):
    """Fifty records of a 60-byte frame (76 bytes each, from byte 24), cut after ``keep`` bytes."""
    frame = build_frame(V4A, V4B, 1, 2, UDP)
    path = tmp_path / "cut.pcap"
    write_pcap(path, [(i * 0.001, frame) for i in range(50)])
    path.write_bytes(path.read_bytes()[:keep])
    return path


def test_a_truncated_record_is_reported_when_reached(tmp_path):
    # Record 40 starts at byte 24 + 40 * 76 = 3064; 30 of its 60 data bytes are left.
    path = cut_capture(tmp_path, 3064 + 16 + 30)
    traffic = PcapTraffic(path, MICROSOFT_KEY, 128, chunk_bytes=1000)
    assert traffic.windows(0.0, 0.001, 30).sum() == 30     # the first 30 ms replay
    with pytest.raises(PcapError, match=f"{path}: truncated record at byte 3064 "
                                        r"\(30 of 60 bytes of packet data\)"):
        traffic.windows(0.030, 0.001, 20)


def test_a_truncated_record_header_is_reported(tmp_path):
    path = cut_capture(tmp_path, 3064 + 10)
    traffic = PcapTraffic(path, MICROSOFT_KEY, 128)
    with pytest.raises(PcapError, match=r"truncated record header at byte 3064 \(10 of 16"):
        traffic.windows(0.0, 0.001, 50)


def test_a_truncated_capture_still_has_a_length(tmp_path):
    # The end does not chain up: the headers are walked, up to the damage.
    path = cut_capture(tmp_path, 3064 + 16 + 30)
    walked = []
    traffic = PcapTraffic(path, MICROSOFT_KEY, 128)
    assert traffic.capture_length(walked.append) == pytest.approx(0.039)
    assert walked and walked[-1] == 3064


def test_garbage_in_the_middle_is_reported_with_its_offset(tmp_path):
    path = cut_capture(tmp_path, 24 + 50 * 76)
    data = bytearray(path.read_bytes())
    data[24 + 20 * 76 + 8:24 + 20 * 76 + 12] = struct.pack("<I", 9_000_000)
    path.write_bytes(bytes(data))
    traffic = PcapTraffic(path, MICROSOFT_KEY, 128)
    with pytest.raises(PcapError, match="bad record at byte 1544: captured length 9000000 "
                                        "is over 262144 bytes"):
        traffic.windows(0.0, 0.001, 50)


@pytest.mark.parametrize("content, message", [
    (b"", "0 bytes, too short for a pcap header"),
    (b"\xd4\xc3\xb2\xa1" + bytes(10), "14 bytes, too short"),
    (b"GARBAGE!" + bytes(30), r"not a pcap file \(bad magic number 47415242 at byte 0\)"),
])
def test_a_bad_header_is_refused_at_once(tmp_path, content, message):
    path = tmp_path / "bad.pcap"
    path.write_bytes(content)
    with pytest.raises(PcapError, match=f"{path}: {message}"):
        PcapTraffic(path, MICROSOFT_KEY, 128)


def test_an_unsupported_link_type_is_refused_at_once(tmp_path):
    path = tmp_path / "usb.pcap"
    write_pcap(path, [(0.0, ARP)], linktype=189)
    with pytest.raises(PcapError, match="unsupported pcap link type 189"):
        PcapTraffic(path, MICROSOFT_KEY, 128)


# --- in SimNIC

def replay_router(config: str):
    return configured_router([("fd", "SimNIC", config)], at=Landmark("replay.click", 5))


def test_simnic_replays_for_the_captures_length(tmp_path, capsys):
    path = cut_capture(tmp_path, 24 + 50 * 76)            # 50 packets, 1 ms apart
    router = replay_router(f"CORES 2, PCAP {path}, PROGRESS 0")
    assert router.element("fd").duration == pytest.approx(0.049 + 0.001)
    assert router.run() == 0
    assert router.element("fd").nic.received_total.sum() == 50


def test_simnic_stops_with_an_error_at_a_truncated_record(tmp_path, capsys, caplog):
    path = cut_capture(tmp_path, 3064 + 16 + 30)
    router = replay_router(f"CORES 2, PCAP {path}, DURATION 1, PROGRESS 10ms, QUIET true")
    assert router.run() == 1
    (failure,) = [r for r in caplog.records if "failed" in r.getMessage()]
    assert (failure.landmark, failure.getMessage()) == \
        ("replay.click:5", f"timer of 'fd :: SimNIC' failed: {path}: truncated record at byte "
         "3064 (30 of 60 bytes of packet data)")
    # Replayed 10 ms at a time: the first 30 ms, then the next 10 needed the damaged record.
    assert router.element("fd").nic.received_total.sum() == 30


def test_simnic_refuses_a_bad_header_at_configure(tmp_path):
    path = tmp_path / "text.pcap"
    path.write_bytes(b"time,src,dst\n0.1,10.0.0.1,10.0.0.2\n")
    message = str(config_error_of(replay_router, f"PCAP {path}"))
    assert message == (f"replay.click:5: While configuring 'fd :: SimNIC': PCAP: {path}: "
                       "not a pcap file (bad magic number 74696d65 at byte 0)")
