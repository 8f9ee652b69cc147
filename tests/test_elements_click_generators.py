"""Packet generators, from their Click manuals: FastUDPFlows, FastTCPFlows,
DynamicUDPIPEncap, TCPIPSend, RIPSend."""

from __future__ import annotations

import logging
import struct

import pytest

from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.packet import Packet
from pyclick.router import Router
from pyclick.runtime.handlers import HandlerError
from tests.sinks import KeepingTestSink  # noqa: F401  (the class the configurations name)

ETH = "0:0:0:0:0:1, 1.0.0.1, 2:2:2:2:2:2, 2.0.0.2"
SRC, DST = bytes([1, 0, 0, 1]), bytes([2, 0, 0, 2])


def router_of(config: str) -> Router:
    router = Router(flatten(config, filename="g.click"), simtime=True)
    router.configure()
    return router


def ran(config: str, *handlers: str, seed: int | None = None) -> tuple[Router, list[str]]:
    router = router_of(config)
    if seed is not None:
        router.element("f")._random.seed(seed)
    values: list[str] = []
    router.run(handle_signals=False,
               before_cleanup=lambda: values.extend(router.handlers.read(h) for h in handlers))
    return router, values


def frames(config: str, *handlers: str, seed: int = 1, script: str = ""
           ) -> tuple[list[bytes], list[str]]:
    router, values = ran(f"{config} -> Unqueue -> k :: KeepingTestSink; {script}", *handlers,
                         seed=seed)
    return [bytes(p.data) for p in router.element("k").packets], values


def ones_sum(data: bytes) -> int:
    """The Internet checksum, worked out word by word."""
    if len(data) % 2:
        data += b"\0"
    total = 0
    for i in range(0, len(data), 2):
        total += data[i] << 8 | data[i + 1]
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def transport_ok(ip_packet: bytes) -> bool:
    """Whether the TCP or UDP checksum of an IP packet without options is right."""
    segment = ip_packet[20:]
    pseudo = ip_packet[12:20] + bytes([0, ip_packet[9]]) + struct.pack("!H", len(segment))
    return ones_sum(pseudo + segment) == 0


def ip_header(length: int, proto: int, ttl: int, src: bytes = SRC, dst: bytes = DST,
              ident: int = 0, frag: int = 0) -> bytes:
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, length, ident, frag, ttl, proto, 0, src, dst)
    return head[:10] + struct.pack("!H", ones_sum(head)) + head[12:]


def config(cls: str, args: str) -> str:
    return f"f :: {cls}({args})"


# --- FastUDPFlows

def test_fastudpflows_builds_udp_frames_of_its_flows():
    got, values = frames(config("FastUDPFlows", f"0, 6, 60, {ETH}, 1, 2"), "f.count")
    assert values == ["6"] and len(got) == 6
    ether = bytes.fromhex("020202020202 000000000001 0800")
    # IP header: total length 46, ID 0, TTL 250, UDP; checksum worked out by hand.
    ip = bytes.fromhex("4500002e00000000fa11bdbc0100000102000002")
    for frame in got:
        assert frame[:14] == ether and frame[14:34] == ip
        assert frame[38:40] == b"\x00\x1a" and frame[42:] == bytes(18)
        assert transport_ok(frame[14:])
    # One flow of 2 packets: the ports change every other packet.
    ports = [frame[34:38] for frame in got]
    assert ports[0] == ports[1] != ports[2] == ports[3] != ports[4] == ports[5]


def test_fastudpflows_picks_among_flows_each_at_most_flowsize_packets_per_ports():
    got, _ = frames(config("FastUDPFlows", f"0, 40, 60, {ETH}, 3, 4"), seed=7)
    ports = [frame[34:38] for frame in got]
    assert len(got) == 40
    # Each port pair of a flow serves at most 4 packets (ports rarely repeat).
    runs: dict[bytes, int] = {}
    for pair in ports:
        runs[pair] = runs.get(pair, 0) + 1
    assert max(runs.values()) <= 4 and len(runs) >= 10


def test_fastudpflows_checksum_false_leaves_the_udp_checksum_zero():
    got, _ = frames(config("FastUDPFlows", f"0, 3, 80, {ETH}, 2, 5, false"))
    assert all(len(f) == 80 and f[38:40] == b"\x00\x2e" and f[40:42] == b"\0\0" for f in got)


def test_fastudpflows_sets_annotations_and_raises_short_lengths(caplog):
    caplog.set_level(logging.WARNING)
    router, _ = ran(config("FastUDPFlows", f"0, 1, 20, {ETH}, 1, 1")
                    + " -> Unqueue -> k :: KeepingTestSink", seed=3)
    (packet,) = router.element("k").packets
    assert len(packet) == 60 and packet.dst_ip == DST
    assert packet.network_header_offset == 14
    assert "packet length < 60, defaulting to 60" in caplog.text


def test_fastudpflows_length_handler_rebuilds_the_flows():
    router = router_of(config("FastUDPFlows", f"0, 2, 60, {ETH}, 1, 5")
                       + " -> Unqueue -> k :: KeepingTestSink;"
                       "Script(wait 1, write f.length 70, read f.count, write f.limit 5)")
    router.run(handle_signals=False)
    sizes = [len(p) for p in router.element("k").packets]
    # The write starts counting afresh: 5 more packets of the new length.
    assert sizes == [60, 60, 70, 70, 70, 70, 70]
    assert router.handlers.read("f.length") == "70"
    assert router.handlers.read("f.count") == "5"


def test_fastudpflows_rate_limit_and_active():
    _, values = frames(config("FastUDPFlows", f"10, 5, 60, {ETH}, 2, 2"), "f.count", "f.rate")
    # 5 packets 0.1 s apart: 5 in 0.4 s.
    assert values == ["5", "12"]
    _, values = frames(config("FastUDPFlows", f"0, 5, 60, {ETH}, 2, 2, ACTIVE false"),
                       "f.count", script="Script(wait 1, read f.count, write f.active true)")
    assert values == ["5"]
    _, values = frames(config("FastUDPFlows", f"0, -1, 60, {ETH}, 2, 2, false, false"),
                       "f.count", script="Script(write f.limit 3, write f.active true)")
    assert values == ["3"]


@pytest.mark.parametrize("args, message", [
    (f"0, 5, 60, {ETH}, 0, 3", "FLOWS: must be at least 1"),
    (f"0, 5, 60, {ETH}, 1", "FLOWSIZE: missing mandatory argument"),
    (f"0, 3000000000, 60, {ETH}, 1, 3", "LIMIT: must be at least -2147483648 and at most"),
    (f"0, 5, 70000, {ETH}, 1, 3", "LENGTH: must be at least 0 and at most 65535"),
    (f"2000000000, 5, 60, {ETH}, 1, 3", "RATE: must be"),
])
def test_fastudpflows_rejects_bad_arguments(args, message):
    with pytest.raises(ConfigError, match=f"f :: FastUDPFlows': {message}"):
        router_of(config("FastUDPFlows", args) + " -> Discard")


# --- FastTCPFlows

def tcp_parts(frame: bytes) -> tuple[bytes, bytes, int]:
    """A frame's ports, its sequence and acknowledgment numbers, its flags."""
    return frame[34:38], frame[38:46], frame[47]


def test_fasttcpflows_flow_is_syn_data_fin_and_keeps_its_numbers():
    got, values = frames(config("FastTCPFlows", f"0, 6, 60, {ETH}, 1, 3"), "f.count")
    assert values == ["6"] and len(got) == 6
    ip = bytes.fromhex("4500002e00000000fa06bdc70100000102000002")
    for frame in got:
        assert frame[:14] == bytes.fromhex("0202020202020000000000010800")
        assert frame[14:34] == ip and transport_ok(frame[14:])
        # Header length 5 words, window 65535, urgent pointer 0, payload zeros.
        assert frame[46] == 0x50 and frame[48:50] == b"\xff\xff"
        assert frame[52:54] == b"\0\0" and frame[54:] == bytes(6)
    parts = [tcp_parts(f) for f in got]
    assert [p[2] for p in parts] == [0x02, 0x18, 0x01] * 2
    assert parts[0][0] == parts[1][0] == parts[2][0] != parts[3][0]
    # New ports, same sequence numbers: each kind keeps its own.
    assert [p[1] for p in parts[:3]] == [p[1] for p in parts[3:]]
    assert len({p[1] for p in parts[:3]}) == 3


def test_fasttcpflows_closes_every_open_flow_after_limit():
    # LIMIT 1: a SYN, then a FIN for each flow not closed, the unused one too.
    got, values = frames(config("FastTCPFlows", f"0, 1, 60, {ETH}, 2, 3"), "f.count")
    assert [tcp_parts(f)[2] for f in got] == [0x02, 0x01, 0x01] and values == ["3"]
    syn_ports = tcp_parts(got[0])[0]
    assert syn_ports in {tcp_parts(got[1])[0], tcp_parts(got[2])[0]}
    got, values = frames(config("FastTCPFlows", f"0, 1, 60, {ETH}, 2, 3"), "f.count",
                         script="Script(wait 1, write f.reset)")
    # Both flows were closed: after the reset only the one picked needs a FIN.
    assert [tcp_parts(f)[2] for f in got] == [0x02, 0x01, 0x01, 0x02, 0x01]
    assert values == ["2"]


def test_fasttcpflows_raises_short_flows_to_three(caplog):
    caplog.set_level(logging.WARNING)
    got, _ = frames(config("FastTCPFlows", f"0, 6, 60, {ETH}, 1, 1"))
    assert [tcp_parts(f)[2] for f in got] == [0x02, 0x18, 0x01] * 2
    assert "flow size < 3, defaulting to 3" in caplog.text


def test_fasttcpflows_rejects_bad_arguments():
    with pytest.raises(ConfigError, match="f :: FastTCPFlows': CHECKSUM: unknown keyword"):
        router_of(config("FastTCPFlows", f"0, 5, 60, {ETH}, 1, 3, CHECKSUM false") + " -> Discard")
    with pytest.raises(ConfigError, match="f :: FastTCPFlows': SRCETH: expected Ethernet address"):
        router_of(config("FastTCPFlows", "0, 5, 60, 0:0:0, 1.0.0.1, 2:2:2:2:2:2, 2.0.0.2, 1, 3")
                  + " -> Discard")


# --- DynamicUDPIPEncap

def encapped(args: str, payload: str = "0102030405", limit: int = 5) -> list[bytes]:
    router, _ = ran(f"InfiniteSource(\\<{payload}>, LIMIT {limit}, STOP true)"
                    f" -> DynamicUDPIPEncap({args}) -> k :: KeepingTestSink")
    return [bytes(p.data) for p in router.element("k").packets]


def test_dynamicudpipencap_moves_its_ports_every_interval():
    got = encapped("1.0.0.1, 65534, 2.0.0.2, 7, INTERVAL 2")
    ports = [(0xFFFE, 7), (0xFFFE, 7), (0xFFFF, 8), (0xFFFF, 8), (0, 9)]
    for ident, (frame, (sport, dport)) in enumerate(zip(got, ports)):
        assert frame[:20] == ip_header(33, 17, 250, ident=ident)
        assert struct.unpack("!HHH", frame[20:26]) == (sport, dport, 13)
        assert frame[28:] == bytes([1, 2, 3, 4, 5]) and transport_ok(frame)


def test_dynamicudpipencap_without_interval_or_checksum():
    got = encapped("1.0.0.1, www, 2.0.0.2, 7, false", payload="01", limit=3)
    assert [f[20:28] for f in got] == [bytes.fromhex("0050000700090000")] * 3


def test_dynamicudpipencap_sets_annotations():
    router, _ = ran("InfiniteSource(LIMIT 1, STOP true)"
                    " -> DynamicUDPIPEncap(1.0.0.1, 1, 2.0.0.2, 2)"
                    " -> k :: KeepingTestSink")
    (packet,) = router.element("k").packets
    assert packet.dst_ip == DST and packet.network_header_offset == 0


@pytest.mark.parametrize("args, message", [
    ("1.0.0.1, 70000, 2.0.0.2, 7", "SPORT: must be at least 0 and at most 65535"),
    ("1.0.0.1, 1, DST_ANNO, 7", "DST: expected IP address"),
    ("1.0.0.1, 1, 2.0.0.2", "DPORT: missing mandatory argument"),
    ("1.0.0.1, 1, 2.0.0.2, 7, INTERVAL -1", "INTERVAL: expected unsigned integer"),
])
def test_dynamicudpipencap_rejects_bad_arguments(args, message):
    with pytest.raises(ConfigError, match=f"d :: DynamicUDPIPEncap': {message}"):
        router_of(f"Idle -> d :: DynamicUDPIPEncap({args}) -> Discard")


# --- TCPIPSend

def tcp_frame(src: bytes, sport: int, dst: bytes, dport: int, seq: int, ack: int,
              flags: int) -> bytes:
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 0x50, flags, 32120, 0, 0)
    pseudo = src + dst + bytes([0, 6]) + struct.pack("!H", 20)
    tcp = tcp[:16] + struct.pack("!H", ones_sum(pseudo + tcp)) + tcp[18:]
    return ip_header(40, 6, 255, src, dst, frag=0x4000) + tcp


def sent(*writes: str) -> tuple[Router, list[Packet]]:
    router = router_of("t :: TCPIPSend -> k :: KeepingTestSink")
    router.initialize()
    for value in writes:
        router.handlers.write("t.send", value)
    return router, router.element("k").packets


def test_tcpipsend_sends_count_packets():
    _, got = sent("1.0.0.1 1234 2.0.0.2 www 1 2 0x12 2", "1.0.0.1 1 2.0.0.2 2 3 4 5 0")
    expected = tcp_frame(SRC, 1234, DST, 80, 1, 2, 0x12)
    assert [bytes(p.data) for p in got] == [expected, expected]
    assert got[0].network_header_offset == 0


def test_tcpipsend_reads_numbers_as_click_lays_them_out():
    _, got = sent("16909060 1 3 80 4294967295 0 63")
    assert bytes(got[0].data) == tcp_frame(bytes([4, 3, 2, 1]), 1, bytes([3, 0, 0, 0]), 80,
                                           0xFFFFFFFF, 0, 63)


def test_tcpipsend_stop_stops_the_driver():
    router = router_of("t :: TCPIPSend -> c :: Counter -> Discard;"
                       "Script(write t.send 1.0.0.1 1 2.0.0.2 2 3 4 5 2 true, wait 5,"
                       " write t.send 1.0.0.1 1 2.0.0.2 2 3 4 5)")
    values: list[str] = []
    router.run(handle_signals=False,
               before_cleanup=lambda: values.append(router.handlers.read("c.count")))
    assert values == ["2"]


@pytest.mark.parametrize("value, message", [
    ("1.0.0.1 99999 2.0.0.2 80 1 2 18", "SPORT: must be at least 0 and at most 65535"),
    ("1.0.0.1 1 2.0.0.2 80 4294967295 0 256", "FLAGS: must be at least 0 and at most 255"),
    ("1.0.0.1 1 2.0.0.2 80 4294967295 0", "FLAGS: missing mandatory argument"),
    ("1.0.0.1 1 2.0.0.2 80 4294967296 0 1", "SEQNO: must be at least 0"),
    ("1.0.0.1 1 2.0.0.2 80 1 0 1 1 maybe", "STOP: expected boolean"),
])
def test_tcpipsend_rejects_bad_sends(value, message):
    router, got = sent()
    with pytest.raises(HandlerError, match=f"send: {message}"):
        router.handlers.write("t.send", value)
    assert got == []


# --- RIPSend

def rip_packets(stop_after: float) -> list[bytes]:
    router, _ = ran("RIPSend(18.26.4.24, 18.26.4.255, 10.1.2.3/8, -3) -> k :: KeepingTestSink;"
                    f"Script(wait {stop_after}, stop)")
    packets = router.element("k").packets
    assert all(p.network_header_offset == 0 for p in packets)
    return [bytes(p.data) for p in packets]


def test_ripsend_sends_a_response_at_3_seconds_then_every_30():
    assert [len(rip_packets(t)) for t in (2.9, 3.1, 32.9, 33.1, 63.1)] == [0, 1, 1, 2, 3]
    src, dst = bytes([18, 26, 4, 24]), bytes([18, 26, 4, 255])
    rip = bytes([2, 2, 0, 0, 0, 2, 0, 0, 10, 1, 2, 3, 255, 0, 0, 0]) + src + b"\xff\xff\xff\xfd"
    udp = struct.pack("!HHH", 520, 520, 32)
    pseudo = src + dst + bytes([0, 17, 0, 32])
    udp += struct.pack("!H", ones_sum(pseudo + udp + b"\0\0" + rip))
    assert rip_packets(3.1) == [ip_header(52, 17, 200, src, dst) + udp + rip]


@pytest.mark.parametrize("args, message", [
    ("18.26.4.24, 18.26.4.255, 10.1.2.3/33, 1", "PREFIX: expected IP address with prefix"),
    ("18.26.4.24, 18.26.4.255, 10.0.0.0/8, ten", "METRIC: expected integer"),
    ("18.26.4.24, 18.26.4.255, 10.0.0.0/8", "METRIC: missing mandatory argument"),
    ("18.26.4, 18.26.4.255, 10.0.0.0/8, 1", "SRC: expected IP address"),
])
def test_ripsend_rejects_bad_arguments(args, message):
    with pytest.raises(ConfigError, match=f"r :: RIPSend': {message}"):
        router_of(f"r :: RIPSend({args}) -> Discard")
