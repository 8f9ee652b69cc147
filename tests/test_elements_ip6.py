"""The IPv6 elements, each as its Click manual describes it: CheckIP6Header,
GetIP6Address, LookupIP6Route, DecIP6HLIM, ICMP6Error, IP6Print."""

from __future__ import annotations

import ipaddress
import logging
import struct

import pytest

from pyclick.cli import main
from pyclick.errors import Landmark
from pyclick.packet import BROADCAST, MULTICAST, Packet
from tests.frames import checksum, click_hex
from tests.helpers import config_error_of, configured_router
from tests.sinks import KeepingTestSink

LANDMARK = Landmark("ip6.click", 4)
SINK = KeepingTestSink.__name__


def a6(text: str) -> bytes:
    return ipaddress.IPv6Address(text).packed


HOST, ROUTER, FAR = a6("3ffe:1ce1:2::2"), a6("3ffe:1ce1:2::1"), a6("3ffe:1ce1:9::7")


def ip6(src: bytes, dst: bytes, next_header: int, payload: bytes, *, hlim: int = 64,
        plen: int | None = None) -> bytes:
    """An IPv6 packet, field by field."""
    length = len(payload) if plen is None else plen
    return struct.pack("!IHBB", 0x60000000, length, next_header, hlim) + src + dst + payload


UDP6 = ip6(HOST, FAR, 17, struct.pack("!HHHH", 1000, 53, 12, 0) + b"abcd")


def element(cls: str, config: str = "", outputs: int = 1):
    elements = [("e", cls, config)] + [(f"s{i}", SINK, "") for i in range(outputs)]
    router = configured_router(elements, [("e", i, f"s{i}", 0) for i in range(outputs)],
                               at=LANDMARK, simtime=True)
    return router.element("e"), [router.element(f"s{i}") for i in range(outputs)]


def push(cls: str, config: str, frames: list[bytes | Packet], outputs: int = 2):
    e, sinks = element(cls, config, outputs)
    e.push(0, [f if isinstance(f, Packet) else Packet(f) for f in frames])
    return e, [s.packets for s in sinks]


def marked(frame: bytes, offset: int = 0) -> Packet:
    """A packet whose network header annotation is the IPv6 header at ``offset``."""
    packet = Packet(frame)
    packet.set_network_header(offset, 40)
    return packet


def printed(capsys) -> list[str]:
    """The lines on standard error, without the router's own log lines."""
    return [line for line in capsys.readouterr().err.split("\n") if " warning: " not in line]


def click(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# --- CheckIP6Header ------------------------------------------------------------------

def test_checkip6header_marks_a_valid_packet_and_cuts_the_padding():
    frame = bytes(14) + UDP6 + bytes(6)
    e, (good, bad) = push("CheckIP6Header", "OFFSET 14", [frame])
    (packet,) = good
    assert bad == []
    # 14 + 40 + the payload length 12: the 6 bytes of padding are gone.
    assert len(packet) == 66
    assert (packet.network_header_offset, packet.transport_header_offset) == (14, 54)


@pytest.mark.parametrize("frame, reason", [
    (UDP6[:39], "tiny packet"),
    (bytes([0x45]) + UDP6[1:], "bad IP6 version"),
    (UDP6[:4] + struct.pack("!H", 13) + UDP6[6:], "bad IP6 payload length"),
    (ip6(b"\xff" * 16, FAR, 17, b""), "bad source address"),
    (ip6(a6("3ffe:1ce1:2::ffff"), FAR, 17, b""), "bad source address"),
])
def test_checkip6header_refuses_invalid_packets(frame, reason, caplog):
    with caplog.at_level(logging.WARNING):
        e, (good, bad) = push("CheckIP6Header", "3ffe:1ce1:2::ffff 3ffe:1ce1:2:0:200::ffff",
                              [frame, frame])
    assert good == [] and len(bad) == 2
    assert e.router.handlers.read("e.drops") == "2"
    # Reported once, with the reason.
    assert caplog.text.count(f"IP6 header check failed: {reason}") == 1


def test_checkip6header_takes_the_unspecified_source_and_drops_without_output_1():
    dad = ip6(bytes(16), FAR, 58, b"")
    e, (good,) = push("CheckIP6Header", "", [dad, UDP6[:30]], outputs=1)
    assert [p.data for p in good] == [dad]
    assert e.router.handlers.read("e.drops") == "1"


def test_checkip6header_bad_address_is_a_configuration_error():
    err = config_error_of(element, "CheckIP6Header", "3ffe::1 nonsense")
    assert "ip6.click:4" in str(err) and "BADADDRS" in str(err)


# --- GetIP6Address -------------------------------------------------------------------

def test_getip6address_copies_16_bytes_to_the_annotation():
    e, (out,) = push("GetIP6Address", "24", [UDP6, UDP6[:30]], outputs=1)
    assert out[0].anno_bytes(0, 16) == FAR
    # Too short for the 16 bytes: unchanged annotation.
    assert out[1].anno_bytes(0, 16) == bytes(16)


# --- LookupIP6Route ------------------------------------------------------------------

ROUTES = ("3ffe:1ce1:2::2/128 0, 3ffe:1ce1:2::/80 1, 3ffe:1ce1:2:0:200::/80 1,"
          " ::/0 3ffe:1ce1:2::1 2")


def _destined(address: bytes) -> Packet:
    packet = Packet(UDP6)
    packet.set_anno_bytes(0, address)
    return packet


def test_lookupip6route_takes_the_longest_prefix_and_sets_the_gateway():
    on_link = a6("3ffe:1ce1:2::9")
    e, (local, link, far) = push("LookupIP6Route", ROUTES,
                                 [_destined(HOST), _destined(on_link), _destined(FAR)],
                                 outputs=3)
    assert [p.anno_bytes(0, 16) for p in local] == [HOST]
    # No gateway (::): the annotation stays the destination.
    assert [p.anno_bytes(0, 16) for p in link] == [on_link]
    assert [p.anno_bytes(0, 16) for p in far] == [ROUTER]


def test_lookupip6route_drops_packets_without_a_route():
    e, (zero, one) = push("LookupIP6Route", "3ffe:1ce1:2::/48 1", [_destined(FAR)])
    assert zero == one == []


def test_lookupip6route_table_add_and_remove_handlers():
    e, sinks = element("LookupIP6Route", "3ffe:1ce1:2::/48 0, 3ffe:1ce1:2::2 1", outputs=2)
    handlers = e.router.handlers
    assert handlers.read("e.table") == "3ffe:1ce1:2::2/128\t::\t1\n3ffe:1ce1:2::/48\t::\t0\n"
    handlers.write("e.add", "::/0 3ffe:1ce1:2::1 1")
    handlers.write("e.ctrl", "remove 3ffe:1ce1:2::2/128")
    assert handlers.read("e.table") == ("3ffe:1ce1:2::/48\t::\t0\n"
                                        "::/0\t3ffe:1ce1:2::1\t1\n")
    e.push(0, [_destined(FAR)])
    assert [p.anno_bytes(0, 16) for p in sinks[1].packets] == [ROUTER]


@pytest.mark.parametrize("routes, words", [
    ("3ffe::/64 5", "output 5 out of range"),
    ("3ffe::/64", "expected 'ADDR/PREFIX [GW] OUT'"),
    ("3ffe::/200 0", "expected IPv6 address with prefix"),
    ("3ffe::/64 nothere 0", "expected IPv6 address"),
])
def test_lookupip6route_bad_routes_are_configuration_errors(routes, words):
    err = config_error_of(element, "LookupIP6Route", routes, 2)
    assert "ip6.click:4" in str(err) and "route 1" in str(err) and words in str(err)


# --- DecIP6HLIM ----------------------------------------------------------------------

def test_decip6hlim_decrements_and_sends_expired_packets_to_output_1():
    alive = marked(bytes(14) + ip6(HOST, FAR, 17, b"", hlim=64), 14)
    dying = marked(ip6(HOST, FAR, 17, b"", hlim=1))
    dead = marked(ip6(HOST, FAR, 17, b"", hlim=0))
    e, (good, expired) = push("DecIP6HLIM", "", [alive, dying, dead])
    # The hop limit is byte 7 of the header (here after 14 bytes of Ethernet).
    assert [p.data[14 + 7] for p in good] == [63]
    assert len(expired) == 2 and expired[0].data[7] == 1
    assert e.router.handlers.read("e.drops") == "2"


# --- ICMP6Error ----------------------------------------------------------------------

def _pseudo_sum_ok(error: bytes) -> bool:
    """The ICMPv6 checksum, recomputed independently over the pseudo-header."""
    message = error[40:]
    pseudo = error[8:24] + error[24:40] + struct.pack("!I3xB", len(message), 58)
    return checksum(pseudo + message) == 0


def test_icmp6error_time_exceeded_layout():
    offending = ip6(HOST, FAR, 17, b"x" * 12, hlim=1)
    e, (out,) = push("ICMP6Error", "3ffe:1ce1:2::1, 3, 0", [marked(offending)], outputs=1)
    (error,) = out
    data = error.data
    # IPv6: version 6, payload = 8 bytes of ICMPv6 header + the quoted packet (52).
    assert struct.unpack("!IHBB", data[:8]) == (0x60000000, 60, 58, 255)
    assert data[8:24] == ROUTER and data[24:40] == HOST
    assert (data[40], data[41], data[44:48]) == (3, 0, bytes(4))
    assert data[48:] == offending
    assert _pseudo_sum_ok(data)
    assert error.anno_bytes(0, 16) == HOST
    assert error.anno_u8(19) == 1          # fix_ip_src
    assert error.network_header_offset == 0 and error.transport_header_offset == 40


def test_icmp6error_quotes_at_most_568_bytes():
    big = ip6(HOST, FAR, 17, bytes(1000))
    e, (out,) = push("ICMP6Error", "3ffe:1ce1:2::1, 1, 4", [marked(big)], outputs=1)
    assert len(out[0]) == 40 + 8 + 568
    assert out[0].data[48:] == big[:568]


def test_icmp6error_packet_too_big_mtu_and_parameter_problem_pointer():
    offending = marked(ip6(HOST, FAR, 17, b""))
    e, (out,) = push("ICMP6Error", "3ffe:1ce1:2::1, 2, 0", [offending], outputs=1)
    assert out[0].data[44:48] == struct.pack("!I", 1500)
    problem = marked(ip6(HOST, FAR, 17, b""))
    problem.set_anno_u8(17, 6)             # ICMP_PARAMPROB: the next header byte
    e, (out,) = push("ICMP6Error", "3ffe:1ce1:2::1, 4, 1", [problem], outputs=1)
    assert out[0].data[40:42] == bytes([4, 1]) and out[0].data[44:48] == struct.pack("!I", 6)
    assert _pseudo_sum_ok(out[0].data)


def test_icmp6error_redirect_carries_target_and_destination():
    offending = marked(ip6(HOST, FAR, 17, b""))
    offending.set_anno_bytes(0, ROUTER)
    e, (out,) = push("ICMP6Error", "3ffe:1ce1:2::1, 137, 0", [offending], outputs=1)
    data = out[0].data
    assert data[40] == 137 and data[44:48] == bytes(4)
    assert data[48:64] == ROUTER and data[64:80] == FAR and data[80:] == offending.data
    assert _pseudo_sum_ok(data)


def _icmp6(kind: int) -> bytes:
    return ip6(HOST, FAR, 58, bytes([kind, 0, 0, 0, 0, 0, 0, 0]))


@pytest.mark.parametrize("frame, packet_type", [
    (_icmp6(1), 0),                                        # an ICMPv6 error
    (_icmp6(3), 0),
    (ip6(HOST, a6("ff02::1"), 17, b""), 0),                # a multicast destination
    (ip6(bytes(16), FAR, 17, b""), 0),                     # from ::
    (ip6(a6("::1"), FAR, 17, b""), 0),                     # from the loopback address
    (ip6(HOST, FAR, 17, b""), BROADCAST),                  # a link-level broadcast
    (ip6(HOST, FAR, 17, b""), MULTICAST),
])
def test_icmp6error_never_answers(frame, packet_type):
    packet = marked(frame)
    packet.packet_type = packet_type
    e, (out,) = push("ICMP6Error", "3ffe:1ce1:2::1, 1, 0", [packet], outputs=1)
    assert out == []


def test_icmp6error_answers_echo_requests_and_needs_the_annotation():
    e, (out,) = push("ICMP6Error", "3ffe:1ce1:2::1, 1, 0",
                     [marked(_icmp6(128)), Packet(_icmp6(128))], outputs=1)
    assert len(out) == 1


@pytest.mark.parametrize("config, words", [
    ("3ffe::1, 128, 0", "not an error or redirect type"),
    ("3ffe::1, 3, 256", "CODE"),
    ("10.0.0.1, 3, 0", "expected IPv6 address"),
    ("3ffe::1, 3", "CODE: missing mandatory argument"),
])
def test_icmp6error_configuration_errors(config, words):
    err = config_error_of(element, "ICMP6Error", config)
    assert "ip6.click:4" in str(err) and words in str(err)


# --- IP6Print ------------------------------------------------------------------------

def test_ip6print_prints_the_header_fields(capsys):
    e, (out,) = push("IP6Print", "v6", [marked(UDP6)], outputs=1)
    assert out[0].data == UDP6
    assert printed(capsys) == ["v6: 3ffe:1ce1:2::2 -> 3ffe:1ce1:9::7 plen 12, next 17, hlim 64",
                               ""]


def test_ip6print_contents_in_groups_of_4_bytes_24_a_line(capsys):
    push("IP6Print", "CONTENTS true, NBYTES 30", [marked(UDP6)], outputs=1)
    lines = printed(capsys)
    assert lines[0].startswith("3ffe:1ce1:2::2 -> ")
    assert lines[1] == "  60000000 000c1140 3ffe1ce1 00020000 00000000 00000002"
    assert lines[2] == "  3ffe1ce1 0009"
    push("IP6Print", "", [Packet(UDP6[:20])], outputs=1)
    assert printed(capsys) == ["truncated-ip6", ""]


# --- one-liners ----------------------------------------------------------------------

def test_one_liner_expired_packets_become_icmp6_errors(capsys):
    expiring = ip6(HOST, FAR, 17, b"", hlim=1)
    config = (f"InfiniteSource(DATA {click_hex(expiring)}, LIMIT 4) -> CheckIP6Header"
              " -> dh :: DecIP6HLIM -> fwd :: Counter -> Discard;"
              " dh[1] -> ICMP6Error(3ffe:1ce1:2::1, 3, 0) -> CheckIP6Header"
              " -> GetIP6Address(24) -> rt :: LookupIP6Route(3ffe:1ce1:2::/64 0);"
              " rt[0] -> back :: Counter -> Discard")
    status, out, _ = click(capsys, "--simtime", "-e", config, "-h", "fwd.count",
                           "-h", "back.count", "-h", "dh.drops")
    assert status == 0
    assert out == "fwd.count:\n0\n\nback.count:\n4\n\ndh.drops:\n4\n\n"


def test_one_liner_hop_limit_counts_down(capsys):
    packet = ip6(HOST, FAR, 17, b"", hlim=3)
    config = (f"InfiniteSource(DATA {click_hex(packet)}, LIMIT 2) -> CheckIP6Header"
              " -> DecIP6HLIM -> DecIP6HLIM -> a :: DecIP6HLIM -> c :: Counter -> Discard;"
              " a[1] -> x :: Counter -> Discard")
    status, out, _ = click(capsys, "--simtime", "-e", config, "-h", "c.count", "-h", "x.count")
    assert (status, out) == (0, "c.count:\n0\n\nx.count:\n2\n\n")


# Configurations in the style of an IPv6 router's, checked only (-q).
ROUTER6 = """
// An IPv6 router between two Ethernets, answering neighbor discovery for itself.
c0 :: Classifier(12/86dd 20/3aff 54/87, 12/86dd 20/3aff 54/88, 12/86dd, -);
FromDump(in.pcap, STOP true) -> c0;
c0[0] -> IP6NDAdvertiser(3ffe:1ce1:2::1/128 00:00:c0:ae:67:ef) -> out0 :: Queue -> Discard;
c0[1] -> [1]nds :: IP6NDSolicitor(3ffe:1ce1:2::1, 00:00:c0:ae:67:ef);
c0[2] -> Strip(14) -> CheckIP6Header(3ffe:1ce1:2::ffff) -> IP6Print(in, NBYTES 64, CONTENTS true)
      -> GetIP6Address(24)
      -> rt :: LookupIP6Route(3ffe:1ce1:2::1/128 0, 3ffe:1ce1:2::/80 1, ::/0 3ffe:1ce1:2::2 1);
c0[3] -> Discard;
rt[0] -> Discard;
rt[1] -> dh :: DecIP6HLIM -> [0]nds;
dh[1] -> ICMP6Error(3ffe:1ce1:2::1, 3, 0) -> [0]nds;
nds -> out0;
"""


def test_an_ipv6_router_configuration_checks(capsys, tmp_path):
    conf = tmp_path / "router6.click"
    conf.write_text(ROUTER6)
    status, _, err = click(capsys, "-q", str(conf))
    assert (status, err) == (0, "")
