"""The rewriters: IPRewriter, TCPRewriter, UDPRewriter, ICMPPingRewriter, ICMPRewriter,
IPRewriterPatterns and RoundRobinIPMapper, checked against Click's manuals.

Frames are built field by field (tests.frames), expected frames from
scratch with checksums computed in full, so that the rewriters' incremental
updates are checked against an independent computation; a few checksums
are worked out by hand in the comments.
"""

from __future__ import annotations

import struct

import pytest

from pyclick.cli import main
from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.packet import Packet
from pyclick.router import Router
from pyclick.runtime.handlers import HandlerError
from tests.frames import checksum, icmp, ip_packet, tcp, udp
from tests.sinks import KeepingTestSink

SINK = KeepingTestSink.__name__
INSIDE, OUTSIDE, NAT = "10.0.0.1", "1.1.1.1", "18.26.4.24"


def router(text: str) -> Router:
    """A configured, initialized router of ``text`` (file nat.click), in simulated time."""
    built = Router(flatten(text, "nat.click"), simtime=True)
    built.configure()
    built.initialize()
    return built


def two_way(element: str, spec: str, cls: str = "IPRewriter",
            sinks: tuple[str, str] = ("out0", "out1")) -> str:
    """``element`` with inputs 0 and 1, and outputs 0 and 1 kept by ``sinks``."""
    return (f"{element} :: {cls}({spec});\n"
            f"Idle -> [0]{element}; Idle -> [1]{element};\n"
            f"{element}[0] -> {sinks[0]} :: {SINK}; {element}[1] -> {sinks[1]} :: {SINK};\n")


def kept(r: Router, sink: str) -> list[bytes]:
    return [p.data for p in r.element(sink).packets]


def push(r: Router, element: str, port: int, *frames: bytes) -> None:
    r.element(element).push(port, [Packet(f) for f in frames])


def read(r: Router, handler: str, params: str = "") -> str:
    return r.handlers.read(handler, params)


def with_checksum(frame: bytes) -> bytes:
    """``frame`` (IPv4, TCP or UDP) with its transport checksum computed in full."""
    frame = bytearray(frame)
    hlen = (frame[0] & 15) * 4
    at = hlen + (16 if frame[9] == 6 else 6)
    frame[at:at + 2] = b"\0\0"
    pseudo = frame[12:20] + bytes([0, frame[9]]) + struct.pack("!H", len(frame) - hlen)
    frame[at:at + 2] = struct.pack("!H", checksum(bytes(pseudo + frame[hlen:])))
    return bytes(frame)


def udp_frame(src: str, dst: str, sport: int, dport: int, payload: bytes = b"") -> bytes:
    return with_checksum(ip_packet(src, dst, 17, udp(sport, dport, payload)))


def tcp_frame(src: str, dst: str, sport: int, dport: int, flags: int = 0x10,
              payload: bytes = b"") -> bytes:
    return with_checksum(ip_packet(src, dst, 6, tcp(sport, dport, flags, payload=payload)))


def segment(src: str, dst: str, sport: int, dport: int, seq: int, ack: int,
            options: bytes = b"", payload: bytes = b"") -> bytes:
    """A TCP ACK segment with the given numbers, TCP options and data."""
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (5 + len(options) // 4) << 4,
                         0x10, 1024, 0, 0) + options
    return with_checksum(ip_packet(src, dst, 6, header + payload))


# --- input specifications ----------------------------------------------------------------------

@pytest.mark.parametrize("spec, shown", [
    ("drop", "<drop>"),
    ("discard", "<drop>"),
    ("pass 1", "<nochange>"),
    ("passthrough", "<nochange>"),
    ("nochange 0", "<nochange>"),
    ("keep 0 1", "<keep>"),
    ("pattern 18.26.4.24 1024-65535 - - 0 1", "18.26.4.24 1024-65535 - -"),
    ("pattern - - 2.2.2.2 80 1 0", "- - 2.2.2.2 80"),
    ("pattern 18.26.4.24 7 - - 0 1", "18.26.4.24 7 - -"),
    ("pattern 18.26.4.24 0-10# - - 0 1", "18.26.4.24 0-10 - -"),
    ("pattern 18.26.4.24 5-6? 3.3.3.3 - 0 1", "18.26.4.24 5-6 3.3.3.3 -"),
    ("pattern 10.0.0.5-10.0.0.9 - - - 0 1", "10.0.0.5-10.0.0.9 - - -"),
    # A /24 leaves out its network and broadcast addresses: .1 to .254.
    ("pattern 10.0.0.0/24# 99 - - 0 1", "10.0.0.1-10.0.0.254 99 - -"),
    # Two fields: the addresses only; three: the addresses, then the source port.
    ("pattern 18.26.4.24 - 0 1", "18.26.4.24 -"),
    ("pattern 18.26.4.24 3.3.3.3 7-9 0 1", "18.26.4.24 7-9 3.3.3.3 -"),
])
def test_input_spec_grammar(spec, shown):
    r = router(two_way("rw", f"{spec}, drop"))
    assert read(r, "rw.patterns") == shown + "\n<drop>\n"


@pytest.mark.parametrize("spec, message", [
    ("drop 1", "input spec 0: syntax error, expected 'drop'"),
    ("pass 0 1", "input spec 0: syntax error, expected 'pass [OUTPUT]'"),
    ("pass 2", "input spec 0: output port out of range"),
    ("keep 0", "input spec 0: bad forward port"),
    ("keep 0 x", "input spec 0: bad reply port"),
    ("keep x 1", "input spec 0: bad forward port"),
    ("keep 0 2", "input spec 0: output port out of range"),
    ("pattern 1.2.3.4 - - - - 0 1", "input spec 0: syntax error"),
    ("pattern 1.2.3.400 - - - 0 1", "input spec 0: bad source address"),
    ("pattern 1.2.3.4 10-5 - - 0 1", "input spec 0: bad source port"),
    ("pattern 1.2.3.4 0 - - 0 1", "input spec 0: bad source port"),
    ("pattern 1.2.3.4 70000 - - 0 1", "input spec 0: bad source port"),
    ("pattern - - nowhere - 0 1", "input spec 0: bad destination address"),
    ("pattern - - - 0 0 1", "input spec 0: bad destination port"),
    ("pattern - - - - 0 x", "input spec 0: bad reply port"),
    ("pattern missing 0 1", "input spec 0: no such pattern 'missing'"),
    ("frobnicate", "input spec 0: unknown specification"),
    ("out0 extra", "input spec 0: syntax error, expected element name"),
    ("out0", "input spec 0: element is not an IPMapper"),
])
def test_input_spec_errors_name_the_element_and_the_spec(spec, message):
    with pytest.raises(ConfigError) as caught:
        router(two_way("rw", f"{spec}, drop"))
    assert str(caught.value) == f"nat.click:1: While configuring 'rw :: IPRewriter': {message}"


def test_every_bad_spec_and_keyword_is_reported_with_its_landmark():
    text = ("// a NAT with mistakes\n"
            "Idle -> [0]rw :: IPRewriter(pattern 1.2.3.4 9-8 - - 0 1, pass 7, UDP_TIMEOUT -1)"
            " -> Discard;\nIdle -> [1]rw;\n")
    with pytest.raises(ConfigError) as caught:
        router(text)
    prefix = "nat.click:2: While configuring 'rw :: IPRewriter': "
    lines = str(caught.value).splitlines()
    assert lines[0].startswith(prefix + "UDP_TIMEOUT: ")
    assert lines[1:] == [prefix + "input spec 0: bad source port",
                         prefix + "input spec 1: output port out of range"]
    with pytest.raises(ConfigError) as caught:
        router(two_way("rw", "drop"))
    assert str(caught.value) == ("nat.click:1: While configuring 'rw :: IPRewriter': "
                                 "need 2 arguments, one per input port")


def test_cli_reports_a_bad_spec_with_file_and_line(tmp_path, capsys):
    path = tmp_path / "bad.click"
    path.write_text("Idle\n  -> rw :: TCPRewriter(pattern 1.2.3.4 1024-65535 - - 0 3)\n"
                    "  -> Discard;\n")
    assert main(["-q", str(path)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"{path}:2: While configuring 'rw :: TCPRewriter': input spec 0: output port out of range")


# --- the NAT round trip ------------------------------------------------------------------------

def test_udp_round_trip_rewrites_the_flow_and_maps_replies_back():
    r = router(two_way("rw", f"pattern {NAT} 1024-65535# - - 0 1, drop"))
    out = udp_frame(INSIDE, OUTSIDE, 5000, 53, b"query")
    push(r, "rw", 0, out, out)
    expected = udp_frame(NAT, OUTSIDE, 1024, 53, b"query")
    assert kept(r, "out0") == [expected, expected]
    assert r.element("out0").packets[0].dst_ip == bytes([1, 1, 1, 1])
    # The reply to the chosen port comes back as a reply to the inside host;
    # one to a port nobody was given is dropped (input 1 drops).
    push(r, "rw", 1, udp_frame(OUTSIDE, NAT, 53, 1024, b"answer"),
         udp_frame(OUTSIDE, NAT, 53, 1025, b"stray"))
    assert kept(r, "out1") == [udp_frame(OUTSIDE, INSIDE, 53, 5000, b"answer")]
    assert r.element("out1").packets[0].dst_ip == bytes([10, 0, 0, 1])
    assert read(r, "rw.udp_table") == (
        "(10.0.0.1, 5000, 1.1.1.1, 53) => (18.26.4.24, 1024, 1.1.1.1, 53) [*0 1] i0 exp300\n"
        "(1.1.1.1, 53, 18.26.4.24, 1024) => (1.1.1.1, 53, 10.0.0.1, 5000) [0 *1] i0 exp300\n")
    assert read(r, "rw.tcp_table") == ""
    assert (read(r, "rw.table_size"), read(r, "rw.nmappings"), read(r, "rw.size")) == \
        ("1", "1", "1")
    assert read(r, "rw.patterns") == "18.26.4.24 1024-65535 - - [1]\n<drop>\n"


@pytest.mark.parametrize("cls, keyword, replied", [
    ("IPRewriter", ", REPLY_ANNO PAINT", 7), ("UDPRewriter", ", REPLY_ANNO PAINT", 7),
    ("IPRewriter", "", 2)])
def test_reply_anno_gives_replies_the_annotation_their_flow_began_with(cls, keyword, replied):
    r = router(two_way("rw", f"pattern {NAT} 1024-65535# - - 0 1, drop{keyword}", cls))
    painted = []
    for payload, paint in ((b"query", 7), (b"again", 9)):
        painted.append(Packet(udp_frame(INSIDE, OUTSIDE, 5000, 53, payload)))
        painted[-1].paint = paint
    r.element("rw").push(0, painted)
    # Packets going out keep their own; with REPLY_ANNO a reply gets the
    # first packet's 7, whatever it carried (2), and keeps its 2 without.
    assert [p.paint for p in r.element("out0").packets] == [7, 9]
    reply = Packet(udp_frame(OUTSIDE, NAT, 53, 1024, b"answer"))
    reply.paint = 2
    r.element("rw").push(1, [reply])
    assert [p.paint for p in r.element("out1").packets] == [replied]


def test_ip_checksum_worked_out_by_hand():
    # 10.0.0.1 -> 1.1.1.1, UDP, 28 bytes, TTL 64: header words 4500 001c 0000
    # 0000 4011 ---- 0a00 0001 0101 0101 sum to 0x9130, checksum 0x6ecf.
    # With the source 18.26.4.24 (121a 0418) instead: 0x9d61, checksum 0x629e.
    r = router(two_way("rw", f"pattern {NAT} 1024 - - 0 1, drop"))
    frame = ip_packet(INSIDE, OUTSIDE, 17, udp(5000, 53))
    assert frame[10:12] == bytes.fromhex("6ecf")
    push(r, "rw", 0, frame)
    (sent,) = kept(r, "out0")
    assert sent[10:12] == bytes.fromhex("629e")
    # A UDP checksum of 0 means none and stays 0.
    assert sent[26:28] == b"\0\0"


def test_udp_checksum_worked_out_by_hand():
    # UDP 5000 -> 53, no payload, from 10.0.0.1 to 1.1.1.1: the pseudo-header
    # (0a00 0001 0101 0101 0011 0008) and header (1388 0035 0008) sum to 0x1fe1,
    # checksum 0xe01e. Rewritten to 18.26.4.24 (121a 0418) port 1024 (0400):
    # 0x1fe1 - 0a00 - 0001 + 121a + 0418 - 1388 + 0400 = 0x1c8a, checksum 0xe375.
    r = router(two_way("rw", f"pattern {NAT} 1024 - - 0 1, drop"))
    frame = udp_frame(INSIDE, OUTSIDE, 5000, 53)
    assert frame[26:28] == bytes.fromhex("e01e")
    push(r, "rw", 0, frame)
    assert kept(r, "out0")[0][26:28] == bytes.fromhex("e375")


def test_tcp_round_trip_keeps_checksums_right_and_follows_the_connection():
    r = router(two_way("rw", f"pattern {NAT} 4000-5000 2.2.2.2 80 0 1, drop"))
    push(r, "rw", 0, tcp_frame(INSIDE, OUTSIDE, 4500, 8080, 0x02))
    # The packet's own port is in the range and free: kept.
    assert kept(r, "out0") == [tcp_frame(NAT, "2.2.2.2", 4500, 80, 0x02)]
    push(r, "rw", 1, tcp_frame("2.2.2.2", NAT, 80, 4500, 0x12, b"hello"))
    assert kept(r, "out1") == [tcp_frame(OUTSIDE, INSIDE, 8080, 4500, 0x12, b"hello")]
    assert read(r, "rw.tcp_lookup", f"{INSIDE} 4500 {OUTSIDE} 8080") == f"{NAT} 4500 2.2.2.2 80"
    assert read(r, "rw.tcp_lookup", f"{INSIDE} 4501 {OUTSIDE} 8080") == ""


def test_keep_pass_drop_and_packets_that_are_not_tcp_or_udp():
    r = router(two_way("rw", "keep 0 1, pass 1"))
    frame = udp_frame(INSIDE, OUTSIDE, 5000, 53)
    ping = ip_packet(INSIDE, OUTSIDE, 1, icmp(8))
    push(r, "rw", 0, frame, ping)
    assert kept(r, "out0") == [frame]
    push(r, "rw", 1, ping, udp_frame(OUTSIDE, INSIDE, 53, 5000))
    # The ping passes (spec 'pass 1'); the reply matches the keep mapping: output 1.
    assert [p[9] for p in kept(r, "out1")] == [1, 17]
    r = router(two_way("rw", "drop, drop"))
    push(r, "rw", 0, frame)
    assert kept(r, "out0") == []
    # A fragment other than the first has no ports: dropped unless passed.
    r = router(two_way("rw", "keep 0 1, pass 1"))
    later = ip_packet(INSIDE, OUTSIDE, 17, udp(5000, 53), frag=10)
    push(r, "rw", 0, later)
    push(r, "rw", 1, later)
    assert kept(r, "out0") == [] and kept(r, "out1") == [later]


def test_pattern_handlers_read_and_replace_one_input_spec():
    r = router(two_way("rw", f"pattern {NAT} 1024-65535# - - 0 1, drop"))
    push(r, "rw", 0, udp_frame(INSIDE, OUTSIDE, 5000, 53))
    assert (read(r, "rw.pattern0"), read(r, "rw.pattern1")) == \
        ("18.26.4.24 1024-65535 - - [1]\n", "<drop>\n")
    r.handlers.write("rw.pattern0", "pattern 9.9.9.9 - - - 1 0")
    # The old spec's flow is gone; new flows follow the new spec.
    assert read(r, "rw.udp_table") == "" and read(r, "rw.table_size") == "0"
    push(r, "rw", 0, udp_frame(INSIDE, OUTSIDE, 5000, 53))
    assert kept(r, "out1") == [udp_frame("9.9.9.9", OUTSIDE, 5000, 53)]
    with pytest.raises(HandlerError) as caught:
        r.handlers.write("rw.pattern1", "keep 0 9")
    assert "input spec 1: output port out of range" in str(caught.value)
    assert read(r, "rw.pattern1") == "<drop>\n"


# --- choosing ports ----------------------------------------------------------------------------

def test_ports_from_a_range_prefer_the_packets_own_then_any_free():
    r = router(two_way("rw", f"pattern {NAT} 5000-5001 - - 0 1, drop"))
    push(r, "rw", 0, udp_frame(INSIDE, OUTSIDE, 5000, 53), udp_frame("10.0.0.2", OUTSIDE, 5000, 53),
         udp_frame("10.0.0.3", OUTSIDE, 5000, 53), udp_frame("10.0.0.4", OUTSIDE, 9, 53))
    ports = [struct.unpack("!H", p[20:22])[0] for p in kept(r, "out0")]
    # 5000 is kept for the first; the second gets the only other one; nothing
    # is left for the third and fourth: mapping failures.
    assert ports == [5000, 5001]
    assert read(r, "rw.mapping_failures") == "2"


def test_sequential_ports_go_on_from_the_last_one_given():
    r = router(two_way("rw", f"pattern {NAT} 1024-1026# - - 0 1, drop"))
    for host in range(1, 5):
        push(r, "rw", 0, udp_frame(f"10.0.0.{host}", OUTSIDE, 1025, 53))
    # '#' does not prefer the packet's port (1025): 1024, 1025, 1026, then none.
    assert [struct.unpack("!H", p[20:22])[0] for p in kept(r, "out0")] == [1024, 1025, 1026]
    assert read(r, "rw.mapping_failures") == "1"


def test_random_ports_stay_in_the_range_and_apart():
    r = router(two_way("rw", f"pattern {NAT} 2000-2009? - - 0 1, drop"))
    for host in range(1, 11):
        push(r, "rw", 0, udp_frame(f"10.0.0.{host}", OUTSIDE, 2000, 53))
    ports = sorted(struct.unpack("!H", p[20:22])[0] for p in kept(r, "out0"))
    assert ports == list(range(2000, 2010))


def test_source_addresses_from_a_range():
    r = router(two_way("rw", "pattern 18.26.4.1-18.26.4.2# - - - 0 1, drop"))
    for host in range(1, 4):
        push(r, "rw", 0, udp_frame(f"10.0.0.{host}", OUTSIDE, 7, 53))
    # The same reply flow (1.1.1.1:53 -> X:7) may exist once per address.
    assert [p[12:16] for p in kept(r, "out0")] == [bytes([18, 26, 4, 1]), bytes([18, 26, 4, 2])]
    assert read(r, "rw.mapping_failures") == "1"


# --- named patterns ----------------------------------------------------------------------------

def test_two_rewriters_share_a_named_pattern_and_its_sequence():
    text = (f"pats :: IPRewriterPatterns(to_world {NAT} 1024-65535# - -, "
            "to_server - - 10.0.0.80 80);\n"
            + two_way("a", "pattern to_world 0 1, pattern to_server 0 1", sinks=("a0", "a1"))
            + two_way("b", "pattern to_world 0 1, drop", cls="UDPRewriter", sinks=("b0", "b1")))
    r = router(text)
    push(r, "a", 0, udp_frame(INSIDE, OUTSIDE, 5000, 53))
    push(r, "b", 0, udp_frame(INSIDE, OUTSIDE, 5000, 53))
    push(r, "a", 0, udp_frame("10.0.0.2", OUTSIDE, 5000, 53))
    # One pattern, one sequence: a gets 1024, b 1025, a 1026.
    assert [struct.unpack("!H", p[20:22])[0] for p in kept(r, "a0")] == [1024, 1026]
    assert [struct.unpack("!H", p[20:22])[0] for p in kept(r, "b0")] == [1025]
    push(r, "a", 1, udp_frame(OUTSIDE, NAT, 99, 1234))
    assert kept(r, "a0")[-1] == udp_frame(OUTSIDE, "10.0.0.80", 99, 80)
    assert read(r, "pats.patterns") == ("to_world 18.26.4.24 1024-65535 - -\n"
                                        "to_server - - 10.0.0.80 80\n")


def test_pattern_names_may_be_capitals():
    r = router("IPRewriterPatterns(NAT 18.26.4.24 1024-65535# - -);\n"
               "m :: RoundRobinIPMapper(NAT 0 1, NAT 1 0);\n" + two_way("rw", "pattern NAT 0 1, m"))
    push(r, "rw", 0, udp_frame(INSIDE, OUTSIDE, 5000, 53))
    push(r, "rw", 1, udp_frame("10.0.0.2", OUTSIDE, 5000, 53),
         udp_frame("10.0.0.3", OUTSIDE, 5000, 53))
    # One sequence (1024, 1025, 1026); the mapper's second pattern sends to output 1.
    assert [p[20:22] for p in kept(r, "out0")] == [b"\x04\x00", b"\x04\x01"]
    assert [p[20:22] for p in kept(r, "out1")] == [b"\x04\x02"]


def test_pattern_names_are_defined_once():
    text = ("IPRewriterPatterns(p 1.1.1.1 - - -);\nIPRewriterPatterns(p 2.2.2.2 - - -, "
            "q 1.1.1.1 x - -);\n")
    with pytest.raises(ConfigError) as caught:
        router(text)
    prefix = "nat.click:2: While configuring 'IPRewriterPatterns@2 :: IPRewriterPatterns': "
    assert str(caught.value).splitlines() == [prefix + "pattern 'p' already defined",
                                             prefix + "pattern 'q': bad source port"]


# --- timeouts and capacity ---------------------------------------------------------------------

def at_time(r: Router, monkeypatch, seconds: float) -> None:
    monkeypatch.setattr(r, "now", lambda: seconds)


def test_udp_flows_expire_after_their_timeout(monkeypatch):
    r = router(two_way("rw", f"pattern {NAT} 1024-1025# - - 0 1, drop, UDP_TIMEOUT 10, "
                             "UDP_GUARANTEE 0"))
    push(r, "rw", 0, udp_frame(INSIDE, OUTSIDE, 5000, 53), udp_frame("10.0.0.2", OUTSIDE, 5000, 53))
    at_time(r, monkeypatch, 4.0)
    push(r, "rw", 0, udp_frame("10.0.0.2", OUTSIDE, 5000, 53),
         udp_frame("10.0.0.3", OUTSIDE, 5000, 53))
    assert len(kept(r, "out0")) == 3 and read(r, "rw.mapping_failures") == "1"
    at_time(r, monkeypatch, 9.0)
    assert [line[-5:] for line in read(r, "rw.udp_table").splitlines()] == \
        [" exp1", " exp1", " exp5", " exp5"]
    at_time(r, monkeypatch, 10.0)
    # The first flow expired: its port is free again for another host.
    push(r, "rw", 0, udp_frame("10.0.0.3", OUTSIDE, 5000, 53))
    assert kept(r, "out0")[-1] == udp_frame(NAT, OUTSIDE, 1024, 53)
    assert read(r, "rw.table_size") == "2"


def test_tcp_timeouts_follow_the_connection_state(monkeypatch):
    r = router(two_way("rw", f"pattern {NAT} 1024 - - 0 1, drop, TCP_TIMEOUT 1000, "
                             "TCP_NODATA_TIMEOUT 100, TCP_DONE_TIMEOUT 10, TCP_GUARANTEE 0"))
    push(r, "rw", 0, tcp_frame(INSIDE, OUTSIDE, 5000, 80, 0x02))
    assert "exp100\n" in read(r, "rw.tcp_table")
    push(r, "rw", 0, tcp_frame(INSIDE, OUTSIDE, 5000, 80, 0x18, b"GET"))
    push(r, "rw", 1, tcp_frame(OUTSIDE, NAT, 80, 1024, 0x18, b"200"))
    assert "exp1000\n" in read(r, "rw.tcp_table")
    push(r, "rw", 0, tcp_frame(INSIDE, OUTSIDE, 5000, 80, 0x11))
    assert "exp1000\n" in read(r, "rw.tcp_table")
    push(r, "rw", 1, tcp_frame(OUTSIDE, NAT, 80, 1024, 0x11))
    assert "exp10\n" in read(r, "rw.tcp_table")
    at_time(r, monkeypatch, 10.0)
    assert read(r, "rw.tcp_table") == ""


def test_a_full_table_evicts_the_flow_that_expires_first_unless_guaranteed(monkeypatch):
    r = router(two_way("rw", "keep 0 1, drop, MAPPING_CAPACITY 2, UDP_TIMEOUT 100, "
                             "UDP_GUARANTEE 5"))
    push(r, "rw", 0, udp_frame("10.0.0.1", OUTSIDE, 1, 53), udp_frame("10.0.0.2", OUTSIDE, 1, 53))
    push(r, "rw", 0, udp_frame("10.0.0.3", OUTSIDE, 1, 53))
    # Both flows are in their guarantee: the new one is refused.
    assert len(kept(r, "out0")) == 2 and read(r, "rw.mapping_failures") == "1"
    at_time(r, monkeypatch, 6.0)
    push(r, "rw", 0, udp_frame("10.0.0.2", OUTSIDE, 1, 53))
    push(r, "rw", 0, udp_frame("10.0.0.3", OUTSIDE, 1, 53))
    # 10.0.0.1's flow would expire first and is past its guarantee: evicted.
    table = read(r, "rw.udp_table")
    assert "10.0.0.1," not in table and "10.0.0.2," in table and "10.0.0.3," in table
    assert read(r, "rw.capacity") == "2"
    r.handlers.write("rw.capacity", "1")
    assert read(r, "rw.size") == "1" and "10.0.0.3," in read(r, "rw.udp_table")
    r.handlers.write("rw.clear")
    assert read(r, "rw.udp_table") == "" and read(r, "rw.table_size") == "0"


def test_a_new_flow_that_would_expire_first_is_itself_refused():
    r = router(two_way("rw", "keep 0 1, drop, MAPPING_CAPACITY 1, UDP_TIMEOUT 10, "
                             "UDP_STREAMING_TIMEOUT 100, UDP_GUARANTEE 0"))
    push(r, "rw", 0, udp_frame(INSIDE, OUTSIDE, 1, 53), udp_frame(INSIDE, OUTSIDE, 1, 53))
    push(r, "rw", 1, udp_frame(OUTSIDE, INSIDE, 53, 1))
    # Three packets and a reply: the flow now streams, 100 s to live.
    assert "exp100\n" in read(r, "rw.udp_table")
    push(r, "rw", 0, udp_frame("10.0.0.9", OUTSIDE, 1, 53))
    # Nothing is guaranteed, but the newcomer's 10 s are the shortest.
    assert read(r, "rw.mapping_failures") == "1" and len(kept(r, "out0")) == 2
    assert "10.0.0.9," not in read(r, "rw.udp_table")


def test_rewriters_share_a_capacity_by_name():
    text = (two_way("a", "keep 0 1, drop, CAPACITY 1, GUARANTEE 0", sinks=("a0", "a1"))
            + two_way("b", "keep 0 1, drop, MAPPING_CAPACITY a", cls="TCPRewriter",
                      sinks=("b0", "b1")))
    r = router(text)
    push(r, "a", 0, tcp_frame(INSIDE, OUTSIDE, 1, 80, 0x02))
    assert (read(r, "a.size"), read(r, "b.size")) == ("1", "1")
    push(r, "b", 0, tcp_frame("10.0.0.2", OUTSIDE, 1, 80, 0x02))
    # One flow set of capacity 1: b's flow evicted a's.
    assert (read(r, "a.table_size"), read(r, "b.table_size"), read(r, "b.capacity")) == \
        ("0", "1", "1")
    with pytest.raises(ConfigError) as caught:
        router(two_way("rw", "drop, drop, CAPACITY out0"))
    assert "CAPACITY: 'out0 :: KeepingTestSink' is not a rewriter" in str(caught.value)


# --- TCPRewriter's sequence numbers -----------------------------------------------------------

def test_tcp_sequence_deltas_shift_seq_and_ack_and_sack():
    r = router(two_way("rw", f"pattern {NAT} 1024 - - 0 1, drop", cls="TCPRewriter"))
    push(r, "rw", 0, tcp_frame(INSIDE, OUTSIDE, 5000, 80, 0x02))
    flow, direction = r.element("rw").table[(bytes([10, 0, 0, 1]), 5000, bytes([1, 1, 1, 1]), 80)]
    assert direction == 0
    # The inside host's bytes from sequence number 100 on are 5 further on.
    assert flow.update_seqno_delta(0, 100, 5)
    assert not flow.update_seqno_delta(0, 50, 1)

    push(r, "rw", 0, segment(INSIDE, OUTSIDE, 5000, 80, 99, 7),
         segment(INSIDE, OUTSIDE, 5000, 80, 100, 7))
    assert kept(r, "out0")[1:] == [segment(NAT, OUTSIDE, 1024, 80, 99, 7),
                                   segment(NAT, OUTSIDE, 1024, 80, 105, 7)]
    # The outside host acknowledges (and SACKs) shifted numbers: shifted back.
    sack = bytes([1, 1, 5, 10]) + struct.pack("!II", 110, 120)
    push(r, "rw", 1, segment(OUTSIDE, NAT, 80, 1024, 7, 105, sack))
    sack_back = bytes([1, 1, 5, 10]) + struct.pack("!II", 105, 115)
    assert kept(r, "out1") == [segment(OUTSIDE, INSIDE, 80, 5000, 7, 100, sack_back)]
    assert " seq +5 [*0 1]" in read(r, "rw.table")
    assert read(r, "rw.lookup", f"{INSIDE} 5000 {OUTSIDE} 80") == f"{NAT} 1024 {OUTSIDE} 80"


def test_tcprewriter_and_udprewriter_take_their_protocols():
    r = router(two_way("rw", "keep 0 1, drop", cls="TCPRewriter"))
    push(r, "rw", 0, udp_frame(INSIDE, OUTSIDE, 1, 2), tcp_frame(INSIDE, OUTSIDE, 1, 2))
    assert [p[9] for p in kept(r, "out0")] == [6]
    r = router(two_way("rw", "keep 0 1, drop, TIMEOUT 1, STREAMING_TIMEOUT 50",
                       cls="UDPRewriter"))
    push(r, "rw", 0, udp_frame(INSIDE, OUTSIDE, 1, 2), ip_packet(INSIDE, OUTSIDE, 1, icmp(8)))
    push(r, "rw", 1, udp_frame(OUTSIDE, INSIDE, 2, 1))
    assert "exp1\n" in read(r, "rw.table")
    # Three packets, one of them a reply: streaming.
    push(r, "rw", 0, udp_frame(INSIDE, OUTSIDE, 1, 2))
    assert "exp50\n" in read(r, "rw.table")
    assert [p[9] for p in kept(r, "out0")] == [17, 17]


def test_ftp_port_commands_are_rewritten_and_the_stream_shifted():
    text = (f"control :: TCPRewriter(pattern {NAT} 1024-65535# - - 0 1, drop);\n"
            f"data :: IPRewriter(pattern {NAT} 9000-14000# - - 0 1, drop);\n"
            "Idle -> ftp :: FTPPortMapper(control, data, 0) -> [0]control; Idle -> [1]control;\n"
            f"control[0] -> out0 :: {SINK}; control[1] -> out1 :: {SINK};\n"
            "Idle -> [0]data; Idle -> [1]data; data[0] -> Discard; data[1] -> Discard;\n")
    r = router(text)
    client, server = "10.0.0.1", "2.0.0.2"
    push(r, "ftp", 0, segment(client, server, 6587, 21, 0, 0))
    # PORT 10,0,0,1,3,9 announces 10.0.0.1:777 (3 * 256 + 9); the data rewriter
    # gives it 18.26.4.24:9000, announced as 18,26,4,24,35,40 (35 * 256 + 40):
    # 4 bytes longer.
    push(r, "ftp", 0, segment(client, server, 6587, 21, 1, 1, payload=b"PORT 10,0,0,1,3,9\r\n"))
    push(r, "ftp", 0, segment(client, server, 6587, 21, 20, 1, payload=b"LIST\r\n"))
    assert kept(r, "out0")[1:] == [
        segment(NAT, server, 1024, 21, 1, 1, payload=b"PORT 18,26,4,24,35,40\r\n"),
        segment(NAT, server, 1024, 21, 24, 1, payload=b"LIST\r\n")]
    push(r, "control", 1, segment(server, NAT, 21, 1024, 1, 30))
    assert kept(r, "out1") == [segment(server, client, 21, 6587, 1, 26)]
    assert read(r, "data.tcp_table").splitlines()[0].startswith(
        "(10.0.0.1, 777, 2.0.0.2, 20) => (18.26.4.24, 9000, 2.0.0.2, 20) [*0 1] i0")
    # Not a PORT command, or a connection the control rewriter does not map: unchanged.
    other = segment(client, server, 6587, 21, 26, 1, payload=b"PORT 1,2,3\r\n")
    stranger = segment("10.0.0.9", server, 1, 21, 1, 1, payload=b"PORT 10,0,0,9,3,9\r\n")
    assert r.element("ftp").simple_action(Packet(other)).data == other
    assert r.element("ftp").simple_action(Packet(stranger)).data == stranger


# --- ICMPPingRewriter -------------------------------------------------------------------------

def echo(src: str, dst: str, kind: int, identifier: int, sequence: int = 0) -> bytes:
    return ip_packet(src, dst, 1, icmp(kind, 0, struct.pack("!HH", identifier, sequence)))


def test_ping_identifiers_are_rewritten_and_replies_mapped_back():
    r = router(two_way("pr", f"pattern {NAT} 1024-1025# - - 0 1, drop", cls="ICMPPingRewriter"))
    request = echo(INSIDE, OUTSIDE, 8, 1)
    # By hand: echo request 0800 ----, identifier 0001, sequence 0000: checksum
    # ~0x0801 = 0xf7fe; with identifier 0400 (1024), ~0x0c00 = 0xf3ff. IP:
    # 4500 001c 0000 0000 4001 ---- 0a00 0001 0101 0101 -> 0x6edf; from
    # 18.26.4.24 (121a 0418) -> 0x62ae.
    assert request[22:24] == bytes.fromhex("f7fe") and request[10:12] == bytes.fromhex("6edf")
    push(r, "pr", 0, request, echo("10.0.0.2", OUTSIDE, 8, 1))
    first, second = kept(r, "out0")
    assert first == echo(NAT, OUTSIDE, 8, 1024)
    assert first[22:24] == bytes.fromhex("f3ff") and first[10:12] == bytes.fromhex("62ae")
    assert second == echo(NAT, OUTSIDE, 8, 1025)
    push(r, "pr", 1, echo(OUTSIDE, NAT, 0, 1025, 3), echo(OUTSIDE, NAT, 0, 1024, 4),
         echo(OUTSIDE, NAT, 0, 999, 5))
    # Unexpected replies are dropped (input 1's spec is drop).
    assert kept(r, "out1") == [echo(OUTSIDE, "10.0.0.2", 0, 1, 3), echo(OUTSIDE, INSIDE, 0, 1, 4)]
    assert read(r, "pr.table").splitlines()[:2] == [
        "(10.0.0.1, 1.1.1.1, 1) => (18.26.4.24, 1.1.1.1, 1024) [*0 1] i0 exp300",
        # As Click prints replies: the identifier plus one in network byte
        # order, read back: 1024 = 0x0400 -> 0x0004 + 1 -> 0x0500 = 1280, and
        # 1 -> 0x0100 + 1 -> 0x0101 = 257.
        "(1.1.1.1, 18.26.4.24, 1280) => (1.1.1.1, 10.0.0.1, 257) [0 *1] i0 exp300"]
    push(r, "pr", 0, echo("10.0.0.3", OUTSIDE, 8, 1))
    assert read(r, "pr.mapping_failures") == "1"


def test_ping_pattern_of_three_fields_and_a_reply_of_all_zeros():
    # SADDR DADDR SPORT: the identifier range comes last.
    r = router(two_way("pr", f"pattern {NAT} - 1-2# 0 1, drop", cls="ICMPPingRewriter"))
    push(r, "pr", 0, echo(INSIDE, OUTSIDE, 8, 0))
    assert kept(r, "out0") == [echo(NAT, OUTSIDE, 8, 1)]
    push(r, "pr", 1, echo(OUTSIDE, NAT, 0, 1))
    # The reply rewritten is an echo reply of zeros only: its checksum is
    # ~0 = 0xffff, not the 0x0000 an incremental update gives.
    assert kept(r, "out1") == [echo(OUTSIDE, INSIDE, 0, 0)]
    assert kept(r, "out1")[0][22:24] == b"\xff\xff"


def test_ping_rewriter_passes_what_is_not_an_echo_on_pass_inputs():
    r = router(two_way("pr", "pass 1, pass 0", cls="ICMPPingRewriter"))
    other = ip_packet(INSIDE, OUTSIDE, 1, icmp(13))
    push(r, "pr", 0, other, udp_frame(INSIDE, OUTSIDE, 1, 2))
    push(r, "pr", 1, echo(OUTSIDE, INSIDE, 0, 9))
    assert len(kept(r, "out1")) == 2 and kept(r, "out0") == [echo(OUTSIDE, INSIDE, 0, 9)]


# --- ICMPRewriter -----------------------------------------------------------------------------

def icmp_error(src: str, dst: str, quoted: bytes, kind: int = 3, code: int = 3) -> bytes:
    return ip_packet(src, dst, 1, icmp(kind, code, b"\0\0\0\0" + quoted))


NAT_CONFIG = f"""
rw :: IPRewriter(pattern {NAT} 1024-65535# - - 0 1, drop);
pr :: ICMPPingRewriter(pattern {NAT} 2000-2999# - - 0 1, drop);
Idle -> [0]rw; Idle -> [1]rw; Idle -> [0]pr; Idle -> [1]pr;
rw[0] -> Discard; rw[1] -> Discard; pr[0] -> Discard; pr[1] -> Discard;
"""


def test_icmp_errors_about_rewritten_flows_are_rewritten_back():
    r = router(NAT_CONFIG + f"Idle -> er :: ICMPRewriter(rw pr) -> back :: {SINK};\n"
                            f"er[1] -> other :: {SINK};")
    original = udp_frame(INSIDE, OUTSIDE, 5000, 53, b"query")
    push(r, "rw", 0, original)
    sent = udp_frame(NAT, OUTSIDE, 1024, 53, b"query")
    # The outside host cannot reach port 53 and quotes the header and 8 bytes.
    push(r, "er", 0, icmp_error(OUTSIDE, NAT, sent[:28]))
    assert kept(r, "back") == [icmp_error(OUTSIDE, INSIDE, original[:28])]
    assert r.element("back").packets[0].dst_ip == bytes([10, 0, 0, 1])
    # About a rewritten ping, from a router on the way (time exceeded).
    push(r, "pr", 0, echo(INSIDE, OUTSIDE, 8, 77))
    push(r, "er", 0, icmp_error("5.5.5.5", NAT, echo(NAT, OUTSIDE, 8, 2000), kind=11, code=0))
    assert kept(r, "back")[1] == icmp_error("5.5.5.5", INSIDE, echo(INSIDE, OUTSIDE, 8, 77),
                                            kind=11, code=0)
    # No mapping, or not an error: output 1.
    unknown = icmp_error(OUTSIDE, NAT, udp_frame(NAT, OUTSIDE, 9999, 53)[:28])
    ping = echo(OUTSIDE, NAT, 8, 5)
    push(r, "er", 0, unknown, ping, udp_frame(OUTSIDE, NAT, 1, 2))
    assert kept(r, "other") == [unknown, ping]


def test_icmp_error_about_a_reply_gets_the_flows_reply_anno():
    r = router(f"rw :: IPRewriter(pattern {NAT} 1024-65535# - - 0 1, drop, REPLY_ANNO PAINT);"
               "Idle -> [0]rw; Idle -> [1]rw; rw[0] -> Discard; rw[1] -> Discard;"
               f"Idle -> er :: ICMPRewriter(rw, REPLY_ANNO PAINT) -> back :: {SINK};")
    first = Packet(udp_frame(INSIDE, OUTSIDE, 5000, 53, b"query"))
    first.paint = 7
    r.element("rw").push(0, [first])
    error = Packet(icmp_error(OUTSIDE, NAT, udp_frame(NAT, OUTSIDE, 1024, 53, b"query")[:28]))
    error.paint = 2
    r.element("er").push(0, [error])
    # The error travels as the flow's replies do, back to the inside host: 7.
    assert [p.paint for p in r.element("back").packets] == [7]


def test_icmp_error_checksums_are_those_computed_in_full():
    r = router(NAT_CONFIG + f"Idle -> er :: ICMPRewriter(rw) -> back :: {SINK};")
    push(r, "rw", 0, tcp_frame(INSIDE, OUTSIDE, 4321, 80, 0x02))
    sent = tcp_frame(NAT, OUTSIDE, 1024, 80, 0x02)
    push(r, "er", 0, icmp_error(OUTSIDE, NAT, sent[:40], code=1))
    (error,) = kept(r, "back")
    assert checksum(error[:20]) == 0 and checksum(error[20:]) == 0
    assert checksum(error[28:48]) == 0
    assert error[48:68] == tcp_frame(INSIDE, OUTSIDE, 4321, 80, 0x02)[20:40]


def test_icmprewriter_port_offsets_and_errors():
    text = (NAT_CONFIG + "Idle -> er :: ICMPRewriter(rw:1, DST_ANNO false);\n"
            f"er[0] -> a :: {SINK}; er[1] -> b :: {SINK};\n")
    with pytest.raises(ConfigError) as caught:
        router(text)
    assert "MAPS: rw:1 port offset requires more than 2 outputs" in str(caught.value)
    r = router(text.replace("rw:1", "rw:0"))
    push(r, "rw", 0, udp_frame(INSIDE, OUTSIDE, 5000, 53))
    sent = udp_frame(NAT, OUTSIDE, 1024, 53)
    push(r, "er", 0, icmp_error(OUTSIDE, NAT, sent[:28]))
    # The mapping found is the reply mapping, whose output is 1: offset 0 + 1.
    assert len(kept(r, "b")) == 1 and kept(r, "a") == []
    for maps, message in [("nowhere", "MAPS: no element named 'nowhere'"),
                          ("a", "MAPS: a not an IP rewriter"),
                          ("rw:x", "MAPS: rw:x not an IP rewriter"),
                          ("''", "MAPS: no IP rewriters supplied")]:
        with pytest.raises(ConfigError) as caught:
            router(text.replace("rw:1", maps))
        assert message in str(caught.value)


# --- RoundRobinIPMapper -----------------------------------------------------------------------

def test_round_robin_mapper_spreads_flows_over_its_patterns():
    text = ("servers :: RoundRobinIPMapper(- - 10.0.0.80 80 0 1, - - 10.0.0.81 80 0 1, "
            "web 1 0);\nIPRewriterPatterns(web - - 10.0.0.82 8080);\n"
            + two_way("rw", "servers, drop"))
    r = router(text)
    for host in range(1, 5):
        push(r, "rw", 0, tcp_frame(f"9.9.9.{host}", NAT, 3000, 80, 0x02))
    assert [p[16:20] for p in kept(r, "out0")] == [bytes([10, 0, 0, 80]), bytes([10, 0, 0, 81]),
                                                    bytes([10, 0, 0, 80])]
    # The third pattern's flows leave by output 1, their replies by output 0.
    assert kept(r, "out1") == [tcp_frame("9.9.9.3", "10.0.0.82", 3000, 8080, 0x02)]
    push(r, "rw", 1, tcp_frame("10.0.0.82", "9.9.9.3", 8080, 3000, 0x12))
    assert kept(r, "out0")[-1] == tcp_frame(NAT, "9.9.9.3", 80, 3000, 0x12)
    assert read(r, "rw.patterns") == "<mapper> [4]\n<drop>\n"


def test_round_robin_mapper_errors():
    with pytest.raises(ConfigError) as caught:
        router("m :: RoundRobinIPMapper(- - 1.1.1.1 80 0 5);\n" + two_way("rw", "m, drop"))
    assert str(caught.value) == ("nat.click:2: While initializing 'rw :: IPRewriter': input spec 0:"
                                 " output port out of range in m :: RoundRobinIPMapper pattern 0")
    with pytest.raises(ConfigError) as caught:
        router("m :: RoundRobinIPMapper(- - - - - 0 1, nope 0 1);")
    assert str(caught.value).splitlines() == [
        "nat.click:1: While configuring 'm :: RoundRobinIPMapper': pattern 0: syntax error",
        "nat.click:1: While configuring 'm :: RoundRobinIPMapper': pattern 1: "
        "no such pattern 'nope'"]
    with pytest.raises(ConfigError) as caught:
        router("m :: RoundRobinIPMapper();")
    assert "no patterns given" in str(caught.value)


# --- a whole NAT --------------------------------------------------------------------------------

HOME_NAT = """// A home gateway: eth1 inside (10.0.0.0/24), eth0 outside (18.26.4.24).
// TCP and UDP leave through one address from a sequential port range, pings
// through their own rewriter, and ICMP errors follow the mappings back.
define($OUTSIDE 18.26.4.24);

IPRewriterPatterns(outward $OUTSIDE 40000-49999# - -,
                   web_server $OUTSIDE 50000-50999# 10.0.0.80 -);

nat :: IPRewriter(pattern outward 0 1,      // inside to the world
                  pattern web_server 1 0,   // the world to the web server
                  pass 2,                   // to the gateway itself
                  TCP_TIMEOUT 2h, UDP_TIMEOUT 1min, MAPPING_CAPACITY 8192);
pings :: ICMPPingRewriter(pattern outward 0 1, drop, MAPPING_CAPACITY nat);
errors :: ICMPRewriter(nat pings);

FromDevice(eth0) -> Strip(14) -> CheckIPHeader
    -> from_world :: IPClassifier(tcp dst port 80, tcp or udp, icmp type echo-reply,
                                  icmp, -);
FromDevice(eth1) -> Strip(14) -> CheckIPHeader
    -> from_home :: IPClassifier(dst host $OUTSIDE, tcp or udp, icmp type echo, -);

from_world[0] -> [1]nat;
from_world[1] -> [2]nat;
from_world[2] -> [1]pings;
from_world[3] -> errors;
from_world[4] -> Discard;
from_home[0] -> Discard;
from_home[1] -> [0]nat;
from_home[2] -> [0]pings;
from_home[3] -> Discard;

to_world :: Queue(200) -> Unqueue -> Discard;
to_home :: Queue(200) -> Unqueue -> Discard;
to_gateway :: Discard;
nat[0] -> to_world;
nat[1] -> to_home;
nat[2] -> to_gateway;
pings[0] -> to_world;
pings[1] -> to_home;
errors[0] -> to_home;
errors[1] -> Discard;
"""


def test_a_home_nat_configuration_passes_quiet_mode(tmp_path, capsys):
    path = tmp_path / "home-nat.click"
    path.write_text(HOME_NAT)
    assert main(["-q", str(path)]) == 0
    assert capsys.readouterr().err == ""


def test_the_home_nat_forwards_a_web_connection_from_the_world():
    r = router(HOME_NAT.replace("FromDevice(eth0)", "Idle").replace("FromDevice(eth1)", "Idle"))
    push(r, "nat", 1, tcp_frame("7.7.7.7", NAT, 6000, 80, 0x02))
    push(r, "nat", 0, tcp_frame(INSIDE, OUTSIDE, 6000, 80, 0x02))
    assert read(r, "nat.tcp_table").splitlines()[::2] == [
        "(7.7.7.7, 6000, 18.26.4.24, 80) => (18.26.4.24, 50000, 10.0.0.80, 80) [*1 0] i1 exp300",
        "(10.0.0.1, 6000, 1.1.1.1, 80) => (18.26.4.24, 40000, 1.1.1.1, 80) [*0 1] i0 exp300"]
    assert read(r, "pings.capacity") == "8192"
