"""The IP utility elements, each as its Click manual describes it: ICMPPingSource,
ICMPPingResponder, IPMirror, IPEncap, StripIPHeader, SetIPChecksum,
SetTCPChecksum, SetUDPChecksum, StoreIPAddress, FixIPSrc, IPGWOptions,
CheckTCPHeader, CheckUDPHeader, CheckICMPHeader."""

from __future__ import annotations

import logging
import socket
import struct

import pytest

from pyclick.cli import main
from pyclick.errors import Landmark
from pyclick.packet import Packet
from tests.frames import checksum, click_hex, icmp, ip_header, ip_packet, tcp, udp
from tests.helpers import config_error_of, configured_router
from tests.sinks import KeepingTestSink

LANDMARK = Landmark("ipmisc.click", 5)
SINK = KeepingTestSink.__name__
A, B = socket.inet_aton("10.0.0.1"), socket.inet_aton("10.0.0.2")


def element(cls: str, config: str = "", outputs: int = 1):
    elements = [("e", cls, config)] + [(f"s{i}", SINK, "") for i in range(outputs)]
    router = configured_router(elements, [("e", i, f"s{i}", 0) for i in range(outputs)],
                               at=LANDMARK, simtime=True)
    return router.element("e"), [router.element(f"s{i}") for i in range(outputs)]


def push(cls: str, config: str, frames: list[bytes | Packet], outputs: int = 1):
    e, sinks = element(cls, config, outputs)
    e.push(0, [f if isinstance(f, Packet) else marked(f) for f in frames])
    return e, [s.packets for s in sinks]


def marked(frame: bytes) -> Packet:
    """A packet whose IPv4 header at its start is annotated (as CheckIPHeader does)."""
    packet = Packet(frame)
    packet.set_network_header(0, (frame[0] & 15) * 4)
    return packet


def click(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def word(data: bytes, at: int) -> int:
    return struct.unpack_from("!H", data, at)[0]


def pseudo_sum_ok(data: bytes, protocol: int) -> bool:
    """The transport checksum, verified independently over the IPv4 pseudo-header."""
    hlen = (data[0] & 15) * 4
    segment = data[hlen:word(data, 2)]
    pseudo = data[12:20] + struct.pack("!xBH", protocol, len(segment))
    return checksum(pseudo + segment) == 0


# --- ICMPPingSource and ICMPPingResponder --------------------------------------------

def test_ping_request_layout_worked_out_by_hand():
    e, (out,) = element("ICMPPingSource", "10.0.0.1, 10.0.0.2, IDENTIFIER 4660")
    request = e.request()
    # IP: 4500 001c 0001 0000 c801 [sum] 0a00 0001 0a00 0002; sum of the words 0x2122.
    assert request.data[:20] == bytes.fromhex("4500001c00010000c801dedd0a0000010a000002")
    # ICMP: 0800 [sum] 1234 0001; sum of the words 0x1a35.
    assert request.data[20:] == bytes.fromhex("0800e5ca12340001")
    assert request.dst_ip == B and request.network_header_offset == 0
    # The sequence and IP ID count up together.
    assert word(e.request().data, 4) == 2 and word(e.request().data, 26) == 3
    assert e.router.handlers.read("e.count") == "3"


def test_ping_request_carries_data():
    e, _ = element("ICMPPingSource", "10.0.0.1, 10.0.0.2, DATA abcd")
    data = e.request().data
    assert word(data, 2) == 32 and data[28:] == b"abcd" and checksum(data[20:]) == 0


def test_responder_turns_a_request_into_its_reply_by_hand():
    request = bytes.fromhex("4500001c00010000c801dedd0a0000010a000002" "0800e5ca12340001")
    e, (replies, others) = push("ICMPPingResponder", "", [request], outputs=2)
    (reply,) = replies
    # TTL 255, addresses swapped: the header words now sum to 0x5822.
    assert reply.data[:20] == bytes.fromhex("4500001c00010000ff01a7dd0a0000020a000001")
    # Echo reply: 0000 [sum] 1234 0001, words summing to 0x1235.
    assert reply.data[20:] == bytes.fromhex("0000edca12340001")
    assert reply.dst_ip == A and others == []


def test_responder_sends_other_packets_to_output_1():
    reply = ip_packet("10.0.0.1", "10.0.0.2", 1, icmp(0, 0, b"\0\1\0\1"))
    udp_packet = ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2))
    e, (replies, others) = push("ICMPPingResponder", "", [reply, udp_packet], outputs=2)
    assert replies == [] and len(others) == 2


def test_ping_one_liner_through_a_responder(capsys):
    status, out, err = click(
        capsys, "--simtime", "-e",
        "ping :: ICMPPingSource(10.0.0.1, 10.0.0.2, INTERVAL 10ms, LIMIT 3, STOP true)"
        " -> CheckIPHeader -> ICMPPingResponder -> ping;",
        "-h", "ping.count", "-h", "ping.summary")
    assert status == 0
    assert out == ("ping.count:\n3\n\nping.summary:\n3 packets transmitted, 3 received, "
                   "0% packet loss\nrtt min/avg/max/mdev = 0.000/0.000/0.000/0.000\n\n")
    assert "ping :: ICMPPingSource: 0 bytes from 10.0.0.2: icmp_seq=2 ttl=255 time=0.000 ms" \
        in err


def test_ping_statistics_from_timestamps():
    router = configured_router([("i", "Idle", ""),
                                ("p", "ICMPPingSource", "10.0.0.1, 10.0.0.2, VERBOSE false"),
                                ("s", SINK, "")], [("i", 0, "p", 0), ("p", 0, "s", 0)],
                               at=LANDMARK, simtime=True)
    router.initialize()
    try:
        ping = router.element("p")
        requests = [ping.request() for _ in range(4)]
        rtts = [0.002, 0.004, 0.006]
        replies = []
        for request, rtt in zip(requests, rtts):
            packet = Packet(request.data[:20] + b"\0\0" + request.data[22:], request.timestamp
                            + rtt)
            packet.set_network_header(0, 20)
            replies.append(packet)
        # A reply answered twice is a duplicate.
        ping.push(0, replies + [replies[0]])
        handlers = router.handlers
        # 2000, 4000, 6000, 2000 us: mean 3500, mean square 15 000 000, mdev sqrt(2 750 000).
        assert handlers.read("p.summary") == (
            "4 packets transmitted, 3 received, +1 duplicates, 25% packet loss\n"
            "rtt min/avg/max/mdev = 2.000/3.500/6.000/1.658\n")
        assert handlers.read("p.rtt_min") == "0.002s"
        assert handlers.read("p.rtt_max") == "0.006s"
        handlers.write("p.reset_counts", "")
        assert handlers.read("p.count") == "0"
        assert handlers.read("p.summary") == "0 packets transmitted, 0 received"
    finally:
        router.cleanup()


def test_ping_pull_output_one_request_per_pull(capsys):
    status, out, _ = click(capsys, "--simtime", "-e",
                           "ICMPPingSource(10.0.0.1, 10.0.0.2, LIMIT 5, STOP true)"
                           " -> Unqueue -> c :: Counter -> Discard", "-h", "c.count")
    assert (status, out) == (0, "5\n")


def test_ping_mirror_needs_a_push_output():
    err = config_error_of(configured_router, [
        ("p", "ICMPPingSource", "10.0.0.1, 10.0.0.2, MIRROR true"), ("u", "Unqueue", ""),
        ("d", "Discard", "")], [("p", 0, "u", 0), ("u", 0, "d", 0)], at=LANDMARK)
    assert "MIRROR: needs a push output" in str(err)


# --- IPMirror ------------------------------------------------------------------------

def test_ipmirror_swaps_addresses_ports_and_tcp_numbers():
    segment = struct.pack("!HHIIBBHHH", 1000, 80, 111, 222, 0x50, 0x10, 1024, 0, 0)
    frame = ip_packet("10.0.0.1", "10.0.0.2", 6, segment)
    e, (out,) = push("IPMirror", "", [frame])
    data = out[0].data
    assert data[12:16] == B and data[16:20] == A and out[0].dst_ip == A
    assert struct.unpack_from("!HHII", data, 20) == (80, 1000, 222, 111)
    # The swaps leave the header checksum right.
    assert checksum(data[:20]) == 0


def test_ipmirror_leaves_the_ports_of_later_fragments_and_the_annotation():
    fragment = ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1000, 53), frag=5)
    e, (out,) = push("IPMirror", "false", [fragment])
    assert out[0].data[20:24] == fragment[20:24] and out[0].dst_ip == bytes(4)


# --- IPEncap and StripIPHeader -------------------------------------------------------

def test_ipencap_header_worked_out_by_hand():
    e, (out,) = push("IPEncap", "4, 18.26.4.24, 140.247.60.147",
                     [Packet(b"12345678"), Packet(b"12345678")])
    first = out[0].data
    # 4500 001c 0000 0000 fa04 [sum] 121a 0418 8cf7 3c93: the words sum to 0x1ede.
    assert first == bytes.fromhex("4500001c00000000fa04e121121a04188cf73c93") + b"12345678"
    assert out[0].dst_ip == socket.inet_aton("140.247.60.147")
    assert (out[0].network_header_offset, out[0].transport_header_offset) == (0, 20)
    assert word(out[1].data, 4) == 1 and checksum(out[1].data[:20]) == 0


@pytest.mark.parametrize("keywords, tos, frag", [
    ("TOS 0x10", 16, 0), ("TOS 256", None, 0), ("DSCP 46", 46 << 2, 0), ("ECT true", 1, 0),
    ("ECT 2", 2, 0), ("DSCP 10, CE true", 40 + 3, 0), ("DF true, TTL 9", 0, 0x4000),
    # -1 is Click's "not set": beside the other one, and below it an error.
    ("TOS -1, DSCP 5", 5 << 2, 0), ("DSCP -1, TOS 3", 3, 0), ("TOS -2", None, 0),
])
def test_ipencap_tos_and_flags(keywords, tos, frag):
    if tos is None:
        err = config_error_of(element, "IPEncap", f"udp, 1.0.0.1, 2.0.0.2, {keywords}")
        assert "TOS" in str(err)
        return
    e, (out,) = push("IPEncap", f"udp, 1.0.0.1, 2.0.0.2, {keywords}", [Packet(b"x")])
    data = out[0].data
    assert (data[1], word(data, 6), data[9]) == (tos, frag, 17)
    assert checksum(data[:20]) == 0


def test_ipencap_dst_anno_and_handlers():
    packet = Packet(b"x")
    packet.dst_ip = B
    e, (out,) = push("IPEncap", "ipip, 10.0.0.1, DST_ANNO", [packet])
    assert out[0].data[16:20] == B and checksum(out[0].data[:20]) == 0
    handlers = e.router.handlers
    assert handlers.read("e.dst") == "DST_ANNO"
    handlers.write("e.dst", "10.0.0.9")
    handlers.write("e.src", "10.0.0.8")
    assert (handlers.read("e.src"), handlers.read("e.dst")) == ("10.0.0.8", "10.0.0.9")


@pytest.mark.parametrize("config, words", [
    ("300, 1.0.0.1, 2.0.0.2", "PROTO"),
    ("udp, 1.0.0.1, nowhere", "expected IP address or 'DST_ANNO'"),
    ("udp, 1.0.0.1, 2.0.0.2, TOS 1, DSCP 1", "cannot set both TOS and DSCP"),
    ("udp, 1.0.0.1, 2.0.0.2, TOS 1, CE true", "cannot set both TOS and ECN bits"),
    ("udp, 1.0.0.1, 2.0.0.2, ECT true, CE true", "can set at most one ECN option"),
    ("udp, 1.0.0.1, 2.0.0.2, ECT 3", "ECT"),
])
def test_ipencap_configuration_errors(config, words):
    err = config_error_of(element, "IPEncap", config)
    assert "ipmisc.click:5" in str(err) and words in str(err)


def test_stripipheader_removes_the_marked_header():
    inner = ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2))
    outer = ip_header("1.0.0.1", "2.0.0.2", 4, len(inner), options=b"\1\1\1\0") + inner
    e, (out,) = push("StripIPHeader", "", [marked(outer), Packet(inner)])
    assert out[0].data == inner
    # Without annotations, the packet passes unchanged.
    assert out[1].data == inner


def test_one_liner_ip_in_ip_round_trip(capsys):
    inner = ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2, b"hello"))
    config = (f"InfiniteSource(DATA {click_hex(inner)}, LIMIT 3)"
              " -> IPEncap(ipip, 1.0.0.1, 2.0.0.2)"
              " -> CheckIPHeader -> outer :: Counter -> StripIPHeader -> CheckIPHeader"
              " -> CheckUDPHeader -> inner :: Counter -> Discard")
    status, out, _ = click(capsys, "--simtime", "-e", config, "-h", "outer.byte_count",
                           "-h", "inner.byte_count")
    assert (status, out) == (0, f"outer.byte_count:\n{3 * 53}\n\ninner.byte_count:\n{3 * 33}\n\n")


# --- checksums -----------------------------------------------------------------------

def test_setipchecksum_worked_out_by_hand():
    header = bytes.fromhex("45000073000040004011" "0000" "c0a80001c0a800c7")
    e, (out,) = push("SetIPChecksum", "", [Packet(header + bytes(0x73 - 20)), Packet(b"E" * 10)])
    # The words sum to 0x479e (with the carry folded in); its complement is 0xb861.
    assert word(out[0].data, 10) == 0xB861
    assert len(out) == 1 and e.router.handlers.read("e.drops") == "1"


def test_settcpchecksum_worked_out_by_hand():
    frame = ip_packet("10.0.0.1", "10.0.0.2", 6, tcp(1, 2))
    e, (out,) = push("SetTCPChecksum", "", [frame])
    # TCP words 0x5414 plus pseudo-header 0x141d = 0x6831; complement 0x97ce.
    assert word(out[0].data, 36) == 0x97CE


def test_settcpchecksum_pseudo_header_names_the_ip_protocol():
    # As Click's: the pseudo-header carries the IP header's protocol (17), not
    # TCP's: 0x141d - 6 + 17 = 0x1428, plus 0x5414 = 0x683c, complement 0x97c3.
    e, (out,) = push("SetTCPChecksum", "", [ip_packet("10.0.0.1", "10.0.0.2", 17, tcp(1, 2))])
    assert word(out[0].data, 36) == 0x97C3


def test_settcpchecksum_fixoff_and_bad_lengths():
    short_offset = ip_packet("10.0.0.1", "10.0.0.2", 6, tcp(1, 2)[:12] + b"\x20"
                             + tcp(1, 2)[13:])
    long_offset = ip_packet("10.0.0.1", "10.0.0.2", 6, tcp(1, 2)[:12] + b"\xf0"
                            + tcp(1, 2)[13:] + bytes(4))
    e, (out,) = push("SetTCPChecksum", "true", [short_offset, long_offset,
                                                ip_packet("10.0.0.1", "10.0.0.2", 6, b"x")])
    assert [p.data[32] >> 4 for p in out] == [5, 6]
    assert all(pseudo_sum_ok(p.data, 6) for p in out)
    assert e.router.handlers.read("e.drops") == "1"


def test_setudpchecksum_worked_out_by_hand_and_refuses_fragments():
    frame = ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1000, 53, b"abcd"))
    fragment = ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1000, 53, b"abcd"), frag=0x2000)
    e, (good, bad) = push("SetUDPChecksum", "", [frame, fragment], outputs=2)
    # Pseudo-header words 0x1420 plus UDP words 0xc8ef = 0xdd0f; complement 0x22f0.
    assert word(good[0].data, 26) == 0x22F0
    assert [p.data for p in bad] == [fragment]


def test_setudpchecksum_takes_a_udp_length_below_8_as_it_is():
    # As Click's: a UDP length of 4 sums the first 4 bytes (0x0001 + 0x0002)
    # and a pseudo-header of length 4 (0x0a00 + 0x0001 + 0x0a00 + 0x0002 +
    # 0x0011 + 0x0004 = 0x1418): 0x141b, complement 0xebe4.
    frame = ip_packet("10.0.0.1", "10.0.0.2", 17, bytes.fromhex("0001000200040000"))
    e, (out,) = push("SetUDPChecksum", "", [frame])
    assert word(out[0].data, 26) == 0xEBE4


def test_one_liner_udp_checksums_set_then_checked(capsys):
    frame = ip_packet("10.0.0.1", "10.0.0.2", 17, struct.pack("!HHHH", 7, 9, 12, 0xBEEF)
                      + b"data")
    config = (f"InfiniteSource(DATA {click_hex(frame)}, LIMIT 4) -> CheckIPHeader"
              " -> before :: CheckUDPHeader -> Discard;"
              " before[1] -> SetUDPChecksum -> after :: CheckUDPHeader"
              " -> ok :: Counter -> Discard")
    status, out, _ = click(capsys, "--simtime", "-e", config, "-h", "before.drops",
                           "-h", "after.drops", "-h", "ok.count")
    assert (status, out) == (0, "before.drops:\n4\n\nafter.drops:\n0\n\nok.count:\n4\n\n")


# --- CheckTCPHeader and CheckUDPHeader -----------------------------------------------

def _with_sum(frame: bytes, at: int) -> bytes:
    """``frame`` with its transport checksum (at ``at``) set independently."""
    hlen = (frame[0] & 15) * 4
    segment = frame[hlen:]
    pseudo = frame[12:20] + struct.pack("!xBH", frame[9], len(segment))
    value = checksum(pseudo + segment)
    return frame[:at] + struct.pack("!H", value) + frame[at + 2:]


GOOD_TCP = _with_sum(ip_packet("10.0.0.1", "10.0.0.2", 6, tcp(1, 2, payload=b"hi")), 36)
GOOD_UDP = _with_sum(ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2, b"hi")), 26)


@pytest.mark.parametrize("cls, good, frame, reason", [
    ("CheckTCPHeader", GOOD_TCP, GOOD_UDP, "not TCP"),
    ("CheckTCPHeader", GOOD_TCP, GOOD_TCP[:36] + b"\0\0" + GOOD_TCP[38:], "bad TCP checksum"),
    ("CheckTCPHeader", GOOD_TCP, GOOD_TCP[:32] + b"\x40" + GOOD_TCP[33:], "bad packet length"),
    ("CheckTCPHeader", GOOD_TCP, GOOD_TCP[:32] + b"\xf0" + GOOD_TCP[33:], "bad packet length"),
    ("CheckUDPHeader", GOOD_UDP, GOOD_TCP, "not UDP"),
    ("CheckUDPHeader", GOOD_UDP, GOOD_UDP[:26] + b"\1\1" + GOOD_UDP[28:], "bad UDP checksum"),
    ("CheckUDPHeader", GOOD_UDP, GOOD_UDP[:24] + b"\0\7" + GOOD_UDP[26:], "bad packet length"),
    ("CheckUDPHeader", GOOD_UDP, GOOD_UDP[:24] + b"\0\x40" + GOOD_UDP[26:], "bad packet length"),
])
def test_transport_checks(cls, good, frame, reason, caplog):
    with caplog.at_level(logging.WARNING):
        e, (ok, bad) = push(cls, "DETAILS true", [good, frame, frame], outputs=2)
    assert [p.data for p in ok] == [good] and len(bad) == 2
    assert caplog.text.count(f"header check failed: {reason}") == 1
    e.router.initialize()
    try:
        assert e.router.handlers.read("e.drops") == "2"
        assert f"2\t{reason}\n" in e.router.handlers.read("e.drop_details")
    finally:
        e.router.cleanup()


def test_checkudpheader_accepts_no_checksum():
    no_sum = ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2, b"hi"))
    e, (ok, bad) = push("CheckUDPHeader", "", [no_sum], outputs=2)
    assert len(ok) == 1 and bad == []


# --- CheckICMPHeader ------------------------------------------------------------------

def _icmp_packet(message: bytes) -> bytes:
    return ip_packet("10.0.0.1", "10.0.0.2", 1, message)


def test_checkicmpheader_lengths_by_type_and_checksum():
    echo = icmp(8, 0, b"\0\1\0\2" + b"ping")                  # 12 bytes: any length
    unreachable = icmp(3, 3, bytes(4) + bytes(28))            # 8 + 28: just long enough
    short_error = icmp(11, 0, bytes(4) + bytes(27))           # one byte short
    timestamp = icmp(13, 0, bytes(16))                        # exactly 20
    long_timestamp = icmp(13, 0, bytes(17))
    bad_sum = bytearray(echo)
    bad_sum[2] ^= 0xFF
    good = [echo, unreachable, timestamp]
    bad = [short_error, long_timestamp, bytes(bad_sum), icmp(8)[:6]]
    frames = [_icmp_packet(m) for m in good + bad] + [ip_packet("10.0.0.1", "10.0.0.2", 17,
                                                               udp(1, 2))]
    e, (ok, refused) = push("CheckICMPHeader", "DETAILS true", frames, outputs=2)
    assert [p.data for p in ok] == [_icmp_packet(m) for m in good]
    assert len(refused) == 5
    e.router.initialize()
    try:
        assert e.router.handlers.read("e.drops") == "5"
        assert e.router.handlers.read("e.drop_details") == (
            "1\tnot ICMP\n3\tbad packet length\n1\tbad ICMP checksum\n")
    finally:
        e.router.cleanup()


# --- StoreIPAddress ------------------------------------------------------------------

def test_storeipaddress_offset_forms():
    anno = Packet(bytes(8))
    anno.dst_ip = B
    e, (out,) = push("StoreIPAddress", "2", [anno])
    assert out[0].data == b"\0\0" + B + b"\0\0"
    # A 0.0.0.0 annotation stores nothing: with an IP header the packet goes on
    # unchanged, without one (none marked, or shorter than 20 bytes) by output 1.
    ip = Packet(ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2)))
    ip.set_network_header(0, 20)
    short_header = Packet(bytes(28))
    short_header.set_network_header(0, 0)
    e, (out, refused) = push("StoreIPAddress", "2",
                             [ip, Packet(bytes(8)), short_header], outputs=2)
    assert [p.data for p in out] == [ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2))]
    assert [p.data for p in refused] == [bytes(8), bytes(28)]
    e, (out, short) = push("StoreIPAddress", "0.0.0.0, 1", [Packet(b"\xff" * 8),
                                                            Packet(b"\xff" * 4)], outputs=2)
    assert out[0].data == b"\xff" + bytes(4) + b"\xff" * 3
    assert [p.data for p in short] == [b"\xff" * 4]
    # Too short for the address: the same rule.
    ip = Packet(ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2)))
    ip.set_network_header(0, 20)
    e, (out, short) = push("StoreIPAddress", "1.2.3.4, 26", [ip], outputs=2)
    assert [p.data for p in out] == [ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2))]
    assert short == []


@pytest.mark.parametrize("protocol, segment, at", [
    (6, tcp(1, 2, payload=b"abc"), 36),
    (17, udp(1, 2, b"abc"), 26),
])
def test_storeipaddress_src_updates_every_checksum(protocol, segment, at):
    frame = _with_sum(ip_packet("10.0.0.1", "10.0.0.2", protocol, segment), at)
    e, (out,) = push("StoreIPAddress", "192.168.77.5, src", [frame])
    data = out[0].data
    assert data[12:16] == socket.inet_aton("192.168.77.5")
    assert checksum(data[:20]) == 0 and pseudo_sum_ok(data, protocol)


def test_storeipaddress_dst_keeps_a_zero_udp_checksum():
    frame = ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2))
    e, (out,) = push("StoreIPAddress", "10.9.9.9, dst", [frame])
    assert out[0].data[16:20] == socket.inet_aton("10.9.9.9")
    assert checksum(out[0].data[:20]) == 0 and word(out[0].data, 26) == 0


def test_storeipaddress_bad_offset():
    err = config_error_of(element, "StoreIPAddress", "1.2.3.4, middle")
    assert "OFFSET" in str(err) and "ipmisc.click:5" in str(err)


# --- SetIPDSCP and StripToNetworkHeader ------------------------------------------------

def test_setipdscp_sets_the_upper_six_bits_and_keeps_the_checksum_right():
    # TOS 0x01 (ECN 01): DSCP 46 makes it 46 << 2 | 1 = 0xb9.
    frame = ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2), tos=0x01)
    e, (out,) = push("SetIPDSCP", "46", [frame, frame[:12]])
    data = out[0].data
    assert data[1] == 0xB9 and checksum(data[:20]) == 0
    assert data[:1] + data[2:10] + data[12:] == frame[:1] + frame[2:10] + frame[12:]
    assert out[1].data == frame[:12]               # too short: unchanged
    handlers = e.router.handlers
    handlers.write("e.dscp", "0")
    assert handlers.read("e.dscp") == "0"
    e.push(0, [marked(frame)])
    assert out[2].data[1] == 0x01 and checksum(out[2].data[:20]) == 0
    assert "DSCP: must be at least 0 and at most 63" in str(
        config_error_of(element, "SetIPDSCP", "64"))


@pytest.mark.parametrize("config, tos", [
    ("ect2", 0xB8 | 2), ("ECT(1)", 0xB8 | 1), ("ce", 0xB8 | 3), ("no", 0xB8), ("-", 0xB8),
    ("3", 0xB8 | 3)])
def test_setipecn_sets_the_lower_two_bits(config, tos):
    # TOS 0xb9 (code point 46, ECN 1): only the ECN bits change.
    frame = ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2), tos=0xB9)
    e, (out,) = push("SetIPECN", config, [frame])
    assert out[0].data[1] == tos and checksum(out[0].data[:20]) == 0


def test_setipecn_refuses_other_words():
    assert "ECN: expected ECN codepoint" in str(config_error_of(element, "SetIPECN", "ect3"))


@pytest.mark.parametrize("config, ecn, marked_as", [
    ("", 1, 3), ("", 2, 3), ("", 3, 3), ("", 0, None), ("true", 0, 3), ("FORCE true", 0, 3)])
def test_markipce_marks_ecn_capable_packets(config, ecn, marked_as):
    # ECN 0 is not ECN-capable: dropped, unless FORCE.
    frame = ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2), tos=0xB8 | ecn)
    e, (out,) = push("MarkIPCE", config, [frame])
    assert [p.data[1] & 3 for p in out] == ([] if marked_as is None else [marked_as])
    assert all(checksum(p.data[:20]) == 0 for p in out)
    assert e.router.handlers.read("e.drops") == ("1" if marked_as is None else "0")


def test_striptonetworkheader_moves_the_start_to_the_network_header():
    frame = bytes(range(14)) + ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2))
    ahead = Packet(frame)
    ahead.set_network_header(14, 20)
    behind = Packet(frame)
    behind.set_network_header(14, 20)
    behind.pull(20)                                # its header 6 bytes before its data
    e, (out,) = push("StripToNetworkHeader", "", [ahead, behind, Packet(b"plain")])
    assert [p.data for p in out] == [frame[14:], frame[14:], b"plain"]
    assert out[0].network_header_offset == 0 and out[1].network_header_offset == 0
    assert out[0].push(14).data == frame          # the bytes stay in the headroom


# --- FixIPSrc and IPGWOptions --------------------------------------------------------

def test_fixipsrc_rewrites_flagged_packets_only():
    flagged = marked(ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2)))
    flagged.set_anno_u8(19, 1)
    plain = marked(ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2)))
    e, (out,) = push("FixIPSrc", "18.26.4.24", [flagged, plain])
    assert out[0].data[12:16] == socket.inet_aton("18.26.4.24")
    assert checksum(out[0].data[:20]) == 0 and out[0].anno_u8(19) == 0
    assert out[1].data[12:16] == A


def test_icmp_errors_get_the_outgoing_interface_address(capsys):
    expiring = ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2), ttl=1)
    config = (f"InfiniteSource(DATA {click_hex(expiring)}, LIMIT 2) -> CheckIPHeader"
              " -> dt :: DecIPTTL -> Discard;"
              " dt[1] -> ICMPError(192.168.0.1, timeexceeded) -> FixIPSrc(18.26.4.24)"
              " -> CheckIPHeader(BADSRC 192.168.0.1) -> c :: Counter -> Discard")
    status, out, _ = click(capsys, "--simtime", "-e", config, "-h", "c.count")
    assert (status, out) == (0, "2\n")


def _with_options(options: bytes) -> Packet:
    return marked(ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2), options=options))


def test_ipgwoptions_record_route():
    # Record route: type 7, length 11, pointer 4 (the first slot); two slots.
    e, (out, bad) = push("IPGWOptions", "18.26.4.24", [_with_options(
        bytes([7, 11, 4]) + bytes(8) + b"\0")], outputs=2)
    header = out[0].data[:32]
    assert header[20:31] == bytes([7, 11, 8]) + socket.inet_aton("18.26.4.24") + bytes(4)
    assert checksum(header) == 0 and bad == []


def test_ipgwoptions_timestamps_and_overflow():
    # One day, 1 hour, 2 minutes and 3.456 seconds: 3 723 456 ms since midnight.
    router = configured_router([("e", "IPGWOptions", "18.26.4.24, 10.0.0.2"), ("s", SINK, "")],
                               [("e", 0, "s", 0)], at=LANDMARK, simtime=True,
                               simtime_start=86400 + 3723.456)
    e, sink = router.element("e"), router.element("s")
    stamp = struct.pack("!I", 3723456)
    only = _with_options(bytes([68, 8, 5, 0]) + bytes(4))
    with_address = _with_options(bytes([68, 12, 5, 1]) + bytes(8))
    prespecified = _with_options(bytes([68, 12, 5, 3]) + B + bytes(4))
    full = _with_options(bytes([68, 8, 9, 0x20]) + bytes(4))
    e.push(0, [only, with_address, prespecified, full])
    out = [p.data for p in sink.packets]
    assert out[0][20:28] == bytes([68, 8, 9, 0]) + stamp
    assert out[1][20:32] == bytes([68, 12, 13, 1]) + socket.inet_aton("18.26.4.24") + stamp
    assert out[2][20:32] == bytes([68, 12, 13, 3]) + B + stamp
    # A full option counts the router in its overflow field (2 -> 3).
    assert out[3][20:24] == bytes([68, 8, 9, 0x30])
    assert all(checksum(d[:(d[0] & 15) * 4]) == 0 for d in out)


def test_ipgwoptions_bad_options_go_to_output_1_with_the_pointer():
    bad_length = _with_options(bytes([1, 7, 1, 0]))
    bad_pointer = _with_options(bytes([7, 7, 2, 0, 0, 0, 0, 0]))
    overflowing = _with_options(bytes([68, 8, 9, 0xF0]) + bytes(4))
    e, (out, bad) = push("IPGWOptions", "18.26.4.24",
                         [bad_length, bad_pointer, overflowing], outputs=2)
    assert out == [] and len(bad) == 3
    # The offending bytes: the length at 22, the pointer at 22, the flags at 23.
    assert [p.anno_u8(17) for p in bad] == [22, 22, 23]
    assert e.router.handlers.read("e.drops") == "3"


def test_ipgwoptions_passes_packets_without_options():
    plain = marked(ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2)))
    e, (out, bad) = push("IPGWOptions", "18.26.4.24", [plain], outputs=2)
    assert out[0].data == plain.data and bad == []


# --- configurations in the style of a router's, checked only (-q) ---------------------

ROUTER4 = """
// One interface of an IP router: options, source fixing, pings answered.
c :: Classifier(12/0800, -);
FromDump(in.pcap, STOP true) -> c;
c[1] -> Discard;
c[0] -> Strip(14) -> CheckIPHeader -> ipc :: IPClassifier(icmp type echo, -);
ipc[0] -> ICMPPingResponder -> out :: Queue -> Discard;
ipc[1] -> gio :: IPGWOptions(18.26.4.24, 18.26.7.1) -> FixIPSrc(18.26.4.24)
    -> dt :: DecIPTTL -> StoreIPAddress(18.26.4.1, 16) -> SetIPChecksum
    -> CheckTCPHeader -> IPMirror -> IPEncap(ipip, 18.26.4.24, DST_ANNO) -> out;
gio[1] -> ICMPError(18.26.4.24, parameterproblem) -> out;
dt[1] -> ICMPError(18.26.4.24, timeexceeded) -> out;
ping :: ICMPPingSource(18.26.4.24, 18.26.4.1, INTERVAL 0.5, LIMIT 10, STOP true) -> out;
"""


def test_an_ip_router_configuration_checks(capsys, tmp_path):
    conf = tmp_path / "router4.click"
    conf.write_text(ROUTER4)
    status, _, err = click(capsys, "-q", str(conf))
    assert (status, err) == (0, "")
