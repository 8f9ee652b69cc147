"""IP elements from their Click manuals: IPInputCombo, IPOutputCombo,
RangeIPLookup, SortedIPLookup, SetRandIPAddress, ICMPPingEncap, ICMPIPEncap
and ICMPSendPings."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.packet import ANNOTATIONS, Packet
from pyclick.router import Router
from pyclick.runtime.handlers import HandlerError, Handlers
from tests.sinks import KeepingTestSink  # noqa: F401  (the class the configurations name)

PAINT, PARAMPROB, FIX_IP_SRC = (ANNOTATIONS[name][0]
                                for name in ("PAINT", "ICMP_PARAMPROB", "FIX_IP_SRC"))


KEEP = "k :: KeepingTestSink"


def router_of(config: str) -> Router:
    router = Router(flatten(config, filename="t.click"), simtime=True)
    router.configure()
    return router


def kept(config: str, *names: str) -> list[list[Packet]]:
    router = router_of(config)
    router.run(handle_signals=False)
    return [router.element(name).packets for name in names]


def source(hex_data: str, limit: int = 1) -> str:
    return f"InfiniteSource(\\<{hex_data}>, LIMIT {limit}, STOP true)"


# A UDP datagram from 10.0.0.1 to 10.0.0.2 (TTL 64, ID 1, ports 1 and 2): the IP
# header's words other than the checksum sum to 0x9931, so the checksum is 0x66ce.
DATAGRAM = "4500001c 00010000 401166ce 0a000001 0a000002 00010002 00080000"
FRAME = "001122334455 001122334455 0800 " + DATAGRAM
# 4 bytes "abcd" in a 24-byte IP packet, TTL 64: the header's words sum to 0x992d.
SMALL = "45000018 00010000 401166d2 0a000001 0a000002 61626364"
# SMALL forwarded: TTL 0x40 -> 0x3f, the words' sum down 0x100 to 0x982d.
FORWARDED = "45000018000100003f1167d20a0000010a00000261626364"


# --- IPInputCombo

def test_ipinputcombo_paints_strips_checks_and_annotates():
    # Two bytes of Ethernet padding after the datagram are cut off.
    (out,) = kept(f"{source(FRAME + ' ffff')} -> c :: IPInputCombo(300) -> {KEEP}", "k")
    (packet,) = out
    assert packet.data == bytes.fromhex(DATAGRAM)
    # The color's low byte: 300 - 256.
    assert packet.anno_u8(PAINT) == 44
    assert packet.dst_ip == bytes([10, 0, 0, 2])
    assert (packet.network_header_offset, packet.network_header_length) == (0, 20)
    (out,) = kept(f"{source(FRAME)} -> IPInputCombo(-1) -> {KEEP}", "k")
    assert out[0].anno_u8(PAINT) == 255


def test_ipinputcombo_drops_bad_packets_and_reports_the_first(caplog):
    bad_checksum = FRAME.replace("66ce", "66cf")
    router = router_of(f"{source(bad_checksum, 2)} -> c :: IPInputCombo(1) -> {KEEP};"
                       f"{source('001122334455 001122334455')} -> c2 :: IPInputCombo(1) -> k")
    with caplog.at_level(logging.WARNING):
        router.run(handle_signals=False)
    assert router.element("k").packets == []
    assert router.handlers.read("c.drops") == "2" and router.handlers.read("c2.drops") == "1"
    assert sorted(r.getMessage() for r in caplog.records) == [
        "c :: IPInputCombo: IP checksum failed", "c2 :: IPInputCombo: IP checksum failed"]


@pytest.mark.parametrize("args, passes", [
    ("BADSRC 10.0.0.1", False),
    ("BADSRC 10.0.0.9 10.0.0.1", False),
    ("BADSRC 10.0.0.1, GOODDST 10.0.0.2", True),
    # The second argument outweighs the BADSRC keyword, and adds 0.0.0.0 and 255.255.255.255.
    ("10.0.0.1, BADSRC 10.0.0.9", False),
    ("10.0.0.9, BADSRC 10.0.0.1", True),
    ("10.0.0.1, GOODDST 10.0.0.2", True),
    # INTERFACES outweighs BADSRC and GOODDST: only 10.255.255.255, 0.0.0.0 and
    # 255.255.255.255 are refused, and only 10.0.0.5 is exempt.
    ("INTERFACES 10.0.0.5/8, BADSRC 10.0.0.1", True),
    ("10.0.0.1, INTERFACES 10.0.0.5/8, GOODDST 10.0.0.2", False),
    # 10.0.0.1/30's broadcast address is 10.0.0.3; a bare address is its own.
    ("INTERFACES 10.0.0.3/8 10.0.0.1/30", True),
    ("INTERFACES 10.0.0.1", False),
])
def test_ipinputcombo_source_checks(args, passes):
    (out,) = kept(f"{source(FRAME)} -> IPInputCombo(3, {args}) -> {KEEP}", "k")
    assert len(out) == (1 if passes else 0)


def test_ipinputcombo_errors():
    with pytest.raises(ConfigError, match="'c :: IPInputCombo'.*COLOR: missing mandatory"):
        router_of("Idle -> c :: IPInputCombo -> Discard")
    with pytest.raises(ConfigError, match="'c :: IPInputCombo'.*COLOR: expected integer"):
        router_of("Idle -> c :: IPInputCombo(red) -> Discard")
    with pytest.raises(ConfigError, match="'c :: IPInputCombo'.*BADSRC: list item 1: "
                                          "expected IP address"):
        router_of("Idle -> c :: IPInputCombo(1, 10.0.0.1/8) -> Discard")
    with pytest.raises(ConfigError, match="'c :: IPInputCombo'.*INTERFACES: "):
        router_of("Idle -> c :: IPInputCombo(1, INTERFACES x) -> Discard")


# --- IPOutputCombo

OUTPUTS = "; ".join(f"c[{n}] -> o{n} :: KeepingTestSink" for n in range(5))


def combo(data: str, before: str = "", args: str = "7, 9.9.9.9, 1500") -> list[list[Packet]]:
    return kept(f"{source(data)} -> MarkIPHeader {before} -> c :: IPOutputCombo({args}); "
                + OUTPUTS, "o0", "o1", "o2", "o3", "o4")


def datas(outputs: list[list[Packet]]) -> list[list[str]]:
    return [[p.data.hex() for p in out] for out in outputs]


def test_ipoutputcombo_forwards_with_one_less_ttl():
    assert datas(combo(SMALL)) == [[FORWARDED], [], [], [], []]


def test_ipoutputcombo_copies_painted_packets_first():
    router = router_of(f"{source(SMALL)} -> MarkIPHeader -> Paint(7) "
                       f"-> c :: IPOutputCombo(7, 9.9.9.9, 1500); c[0] -> {KEEP}; "
                       "c[1] -> k; c[2] -> Discard; c[3] -> Discard; c[4] -> Discard")
    router.run(handle_signals=False)
    # The copy leaves untouched (TTL 64), before the original is changed.
    assert [p.data.hex() for p in router.element("k").packets] == [SMALL.replace(" ", ""),
                                                                   FORWARDED]
    # A color only an int matches never matches the one-byte paint.
    assert datas(combo(SMALL, "-> Paint(7)", "263, 9.9.9.9, 1500"))[1] == []


def test_ipoutputcombo_expired_and_long_packets():
    # TTL 1: the words sum to 0x5a2d; TTL 0: to 0x592d.
    expired = "450000180001000001 11a5d20a0000010a00000261626364".replace(" ", "")
    assert datas(combo(expired)) == [[], [], [], [expired], []]
    # A painted packet with TTL 0: its copy, then the packet itself as expired.
    dead = "450000180001000000 11a6d20a0000010a00000261626364".replace(" ", "")
    assert datas(combo(dead, "-> Paint(7)")) == [[], [dead], [], [dead], []]
    # 24 bytes: longer than an MTU of 23, after the TTL went down.
    assert datas(combo(SMALL, args="7, 9.9.9.9, 23")) == [[], [], [], [], [FORWARDED]]
    assert datas(combo(SMALL, args="7, 9.9.9.9, 24")) == [[FORWARDED], [], [], [], []]


@pytest.mark.parametrize("packet_type", ["BROADCAST", "MULTICAST"])
def test_ipoutputcombo_drops_link_broadcasts(packet_type):
    assert datas(combo(SMALL, f"-> SetPacketType({packet_type}) -> Paint(7)")) == [[]] * 5
    assert datas(combo(SMALL, "-> SetPacketType(OTHERHOST)"))[0] != []


def test_ipoutputcombo_records_the_route():
    # A Record Route option with room for one address, then an end of options.
    rr = "47000020 00010000 401143b1 0a000001 0a000002 07070400 00000000 61626364"
    # 9.9.9.9 recorded, pointer 4 -> 8, TTL 63: the words sum to 0xbb4e.
    assert datas(combo(rr))[0] == ["47000020000100003f1144b10a0000010a000002"
                                   "070708090909090061626364"]


def test_ipoutputcombo_sends_bad_options_to_output_2():
    # An option of length 1: the ICMP_PARAMPROB annotation points at the length, byte 21.
    bad = "4600001c 00010000 40115ecd 0a000001 0a000002 07010000 61626364"
    o0, o1, o2, o3, o4 = combo(bad)
    assert [p.data.hex() for p in o2] == [bad.replace(" ", "")]
    assert o2[0].anno_u8(PARAMPROB) == 21 and o0 == o3 == []
    # A Record Route before a bad option (type 0x99, length 0) stays recorded,
    # the checksum as it was; the bad length is byte 28.
    partial = "48000024 00010000 40115826 0a000001 0a000002 07070400 00000099 00000000 61626364"
    (out,) = combo(partial)[2]
    assert out.data.hex() == partial.replace(" ", "").replace("0707040000000099",
                                                              "0707080909090999")
    assert out.anno_u8(PARAMPROB) == 28


def test_ipoutputcombo_fixes_the_source_when_asked():
    # 9.9.9.9 as source, TTL 63: the words sum to 0xa03e, checksum 0x5fc1.
    o0, *_ = combo(SMALL, "-> Paint(1, 19)")
    assert o0[0].data.hex() == "45000018000100003f115fc1090909090a00000261626364"
    assert o0[0].anno_u8(FIX_IP_SRC) == 0


def test_ipoutputcombo_checksum_as_click_updates_it():
    # Checksum 0xfeff: ~(~0xfeff + 0xfeff) is 0x0000, not the 0xffff a plain sum gives.
    header = "45000014 7beb0000 4000feff 00000000 00000000"
    assert datas(combo(header))[0] == ["450000147beb00003f0000000000000000000000"]


def test_ipoutputcombo_timestamp_option():
    # Flag 1: the address then the time; pointer 5 -> 13.
    header = "49000028 00010000 40110000 0a000001 0a000002 "
    ts = header + "440c0501 00000000 00000000 00000000 61626364"
    (out,) = combo(ts)[0]
    assert out.data[20:32].hex()[:16] == "440c0d0109090909"
    # A full option counts one more router in its overflow field (3 -> 4) ...
    full = header + "440c0d30 00000000 00000000 00000000 61626364"
    (out,) = combo(full)[0]
    assert out.data[20:24].hex() == "440c0d40"
    # ... until it would pass 15: the flags byte, 23, is the bad one.
    (out,) = combo(full.replace("440c0d30", "440c0df0"))[2]
    assert out.anno_u8(PARAMPROB) == 23


def test_ipoutputcombo_short_packets_skip_the_ip_steps():
    assert datas(combo("0011", args="7, 9.9.9.9, 1")) == [[], [], [], [], ["0011"]]


def test_ipoutputcombo_errors():
    with pytest.raises(ConfigError, match="'c :: IPOutputCombo'.*MTU: missing mandatory"):
        router_of("Idle -> c :: IPOutputCombo(1, 10.0.0.1); " + OUTPUTS)
    with pytest.raises(ConfigError, match="'c :: IPOutputCombo'.*MTU: "):
        router_of("Idle -> c :: IPOutputCombo(1, 10.0.0.1, -1); " + OUTPUTS)
    with pytest.raises(ConfigError, match="'c :: IPOutputCombo'.*IPADDR: expected IP address"):
        router_of("Idle -> c :: IPOutputCombo(1, 10.0.0, 1500); " + OUTPUTS)
    with pytest.raises(ConfigError, match="output 4 unused"):
        router_of("Idle -> c :: IPOutputCombo(1, 10.0.0.1, 1500); c[0] -> Discard; "
                  "c[1] -> Discard; c[2] -> Discard; c[3] -> Discard")


# --- RangeIPLookup and SortedIPLookup

ROUTES = ("10.0.0.0/8 0, 10.1.0.0/16 1.2.3.4 1, 0.0.0.0/0 2, 10.1.2.0/24 1, "
          "192.168.0.0/16 0, 10.1.2.3/32 2, 10.2.0.0/16 1")


@contextmanager
def table_router(cls: str) -> Iterator[Router]:
    """An initialized router (its lookup handlers ready) around the table ``r``."""
    router = router_of(f"Idle -> r :: {cls}({ROUTES}); r[0] -> Idle; r[1] -> Idle; r[2] -> Idle")
    router.initialize()
    try:
        yield router
    finally:
        router.cleanup()


def lines(*routes: str) -> str:
    return "".join(route + "\n" for route in routes)


def test_rangeiplookup_table_and_lookups():
    with table_router("RangeIPLookup") as router:
        check_range_table(router.handlers)


def check_range_table(h: Handlers) -> None:
    # In the order of Click's DirectIPLookup hash table, as Click's RangeIPLookup lists them.
    assert h.read("r.table") == lines(
        "0.0.0.0/0\t\t-\t\t2", "10.0.0.0/8\t\t-\t\t0", "10.2.0.0/16\t\t-\t\t1",
        "10.1.0.0/16\t\t1.2.3.4\t\t1", "10.1.2.3/32\t\t-\t\t2", "192.168.0.0/16\t\t-\t\t0",
        "10.1.2.0/24\t\t-\t\t1")
    assert [h.read("r.lookup", a) for a in ("10.1.2.3", "10.1.9.9", "11.0.0.1")] == \
        ["2", "1 1.2.3.4", "2"]
    h.write("r.remove", "0.0.0.0/0")
    assert h.read("r.lookup", "11.0.0.1") == "-1"
    h.write("r.flush", "")
    assert h.read("r.table") == "" and h.read("r.lookup", "10.1.2.3") == "-1"
    h.write("r.add", "10.0.0.0/8 1")
    assert h.read("r.table") == lines("10.0.0.0/8\t\t-\t\t1")
    with pytest.raises(HandlerError, match="conflict"):
        h.write("r.add", "10.0.0.0/8 0")


def test_rangeiplookup_routes_packets_and_drops_the_others_silently(caplog):
    router = router_of("InfiniteSource(LIMIT 1, STOP true) -> t :: Tee(3);"
                       "t[0] -> SetIPAddress(10.1.2.3) -> r :: RangeIPLookup(10.0.0.0/8 0, "
                       "10.1.0.0/16 1.2.3.4 1); t[1] -> SetIPAddress(10.9.9.9) -> r;"
                       "t[2] -> SetIPAddress(11.0.0.1) -> r;"
                       "r[0] -> k0 :: KeepingTestSink; r[1] -> k1 :: KeepingTestSink")
    with caplog.at_level(logging.WARNING):
        router.run(handle_signals=False)
    assert [p.dst_ip for p in router.element("k0").packets] == [bytes([10, 9, 9, 9])]
    assert [p.dst_ip for p in router.element("k1").packets] == [bytes([1, 2, 3, 4])]
    assert caplog.records == []


def test_sortediplookup_lists_specific_routes_first(caplog):
    with caplog.at_level(logging.WARNING), table_router("SortedIPLookup") as router:
        assert [r.getMessage() for r in caplog.records] == [
            "r :: SortedIPLookup: SortedIPLookup is deprecated; use LinearIPLookup or "
            "RadixIPLookup instead"]
        check_sorted_table(router.handlers)


def check_sorted_table(h: Handlers) -> None:
    # Click's order: 192.168.0.0/16 contains nothing, then 10.1.2.3/32 places the
    # /24 it completes, which places 10.1.0.0/16; 10.2.0.0/16 places 10.0.0.0/8,
    # which places 0.0.0.0/0.
    assert h.read("r.table") == lines(
        "192.168.0.0/16\t\t-\t\t0", "10.1.2.3/32\t\t-\t\t2", "10.1.2.0/24\t\t-\t\t1",
        "10.1.0.0/16\t\t1.2.3.4\t\t1", "10.2.0.0/16\t\t-\t\t1", "10.0.0.0/8\t\t-\t\t0",
        "0.0.0.0/0\t\t-\t\t2")
    assert [h.read("r.lookup", a) for a in ("10.1.2.3", "10.1.9.9", "11.0.0.1")] == \
        ["2", "1 1.2.3.4", "2"]
    h.write("r.remove", "0.0.0.0/0")
    # A route added goes before the routes containing it.
    h.write("r.add", "10.1.0.0/20 0")
    h.write("r.set", "10.1.0.0/20 9.9.9.9 2")
    assert h.read("r.table") == lines(
        "192.168.0.0/16\t\t-\t\t0", "10.1.2.3/32\t\t-\t\t2", "10.1.2.0/24\t\t-\t\t1",
        "10.1.0.0/20\t\t9.9.9.9\t\t2", "10.1.0.0/16\t\t1.2.3.4\t\t1",
        "10.2.0.0/16\t\t-\t\t1", "10.0.0.0/8\t\t-\t\t0")
    h.write("r.ctrl", "add 1.0.0.0/8 1\nremove 10.0.0.0/8")
    assert h.read("r.table").splitlines()[-1] == "1.0.0.0/8\t\t-\t\t1"


def test_sortediplookup_reports_every_packet_without_a_route(caplog):
    router = router_of("InfiniteSource(LIMIT 2, STOP true) -> SetIPAddress(11.0.0.1) "
                       "-> r :: SortedIPLookup(10.0.0.0/8 0) -> Discard")
    with caplog.at_level(logging.WARNING):
        router.run(handle_signals=False)
    # 11.0.0.1's bytes 0b 00 00 01 as one number, last byte first.
    assert [r.getMessage() for r in caplog.records if "no gw" in r.getMessage()] == \
        ["r :: SortedIPLookup: no gw for 100000b"] * 2


# --- SetRandIPAddress

def addresses(config: str, count: int = 300) -> list[bytes]:
    (out,) = kept(f"InfiniteSource(LIMIT {count}, STOP true) -> {config} -> {KEEP}", "k")
    return [p.dst_ip for p in out]


def test_setrandipaddress_stays_in_the_prefix_below_128_in_the_last_byte():
    drawn = addresses("SetRandIPAddress(10.1.2.3/24)")
    assert {a[:3] for a in drawn} == {bytes([10, 1, 2])}
    assert max(a[3] for a in drawn) < 128 and len(set(drawn)) > 50
    # A /0 leaves every bit to the draw, but the last byte's high one.
    assert max(a[3] for a in addresses("SetRandIPAddress(0.0.0.0/0)")) < 128
    assert set(addresses("SetRandIPAddress(10.1.2.3)", 3)) == {bytes([10, 1, 2, 3])}


def test_setrandipaddress_limit():
    drawn = addresses("SetRandIPAddress(10.0.0.0/8, 3)")
    assert 1 <= len(set(drawn)) <= 3 and all(a[0] == 10 for a in drawn)
    # Zero or a negative LIMIT: no limit.
    assert len(set(addresses("SetRandIPAddress(10.0.0.0/8, 0)"))) > 3
    assert len(set(addresses("SetRandIPAddress(10.0.0.0/8, LIMIT -5)"))) > 3


def test_setrandipaddress_errors():
    with pytest.raises(ConfigError, match="'s :: SetRandIPAddress'.*PREFIX: missing mandatory"):
        router_of("Idle -> s :: SetRandIPAddress -> Discard")
    with pytest.raises(ConfigError, match="'s :: SetRandIPAddress'.*PREFIX: expected IP address"):
        router_of("Idle -> s :: SetRandIPAddress(10.0.0.0/33) -> Discard")
    with pytest.raises(ConfigError, match="'s :: SetRandIPAddress'.*LIMIT: expected integer"):
        router_of("Idle -> s :: SetRandIPAddress(10.0.0.0/8, x) -> Discard")


# --- ICMPPingEncap and ICMPIPEncap

def encapsulated(hex_data: str, element: str, count: int = 1) -> list[str]:
    (out,) = kept(f"{source(hex_data, count)} -> {element} -> {KEEP}", "k")
    return [p.data.hex() for p in out]


def test_icmppingencap_by_hand():
    # IP: 4500 0021 0001 0000 ff01 [sum] 0100 0001 0200 0002, words summing to 0x4727;
    # ICMP: 0800 [sum] 1234 0001 6162 6364 6500, words summing to 0x43fc. Each next
    # packet has ID and sequence one more, both checksums one less.
    assert encapsulated("6162636465", "ICMPPingEncap(1.0.0.1, 2.0.0.2, IDENTIFIER 0x1234)", 3) == [
        "4500002100010000ff01b8d80100000102000002" "0800bc0312340001" "6162636465",
        "4500002100020000ff01b8d70100000102000002" "0800bc0212340002" "6162636465",
        "4500002100030000ff01b8d60100000102000002" "0800bc0112340003" "6162636465"]
    (out,) = kept(f"{source('')} -> ICMPPingEncap(1.0.0.1, 2.0.0.2) -> {KEEP}", "k")
    (packet,) = out
    assert packet.dst_ip == bytes([2, 0, 0, 2])
    assert (packet.network_header_offset, packet.network_header_length) == (0, 20)


def test_icmppingencap_sequence_skips_zero():
    (out,) = kept("InfiniteSource(LIMIT 65537, STOP true) -> ICMPPingEncap(1.0.0.1, 2.0.0.2) "
                  f"-> {KEEP}", "k")
    # The 65535th packet has ID and sequence 0xffff; the next two 1 and 2.
    assert [p.data[4:6].hex() + p.data[26:28].hex() for p in out[-3:]] == \
        ["ffffffff", "00010001", "00020002"]


def test_icmppingencap_handlers_and_errors():
    router = router_of("Idle -> e :: ICMPPingEncap(1.0.0.1, 2.0.0.2) -> Discard")
    h = router.handlers
    h.write("e.src", "5.5.5.5")
    assert (h.read("e.src"), h.read("e.dst")) == ("5.5.5.5", "2.0.0.2")
    with pytest.raises(HandlerError, match="expected IP address"):
        h.write("e.dst", "bad")
    with pytest.raises(ConfigError, match="'e :: ICMPPingEncap'.*DST: missing mandatory"):
        router_of("Idle -> e :: ICMPPingEncap(1.0.0.1) -> Discard")
    with pytest.raises(ConfigError, match="'e :: ICMPPingEncap'.*IDENTIFIER: .*65535"):
        router_of("Idle -> e :: ICMPPingEncap(1.0.0.1, 2.0.0.2, IDENTIFIER 65536) -> Discard")
    with pytest.raises(ConfigError, match="SEQUENCE: unknown keyword"):
        router_of("Idle -> e :: ICMPPingEncap(1.0.0.1, 2.0.0.2, SEQUENCE 1) -> Discard")


def test_icmpipencap_types_and_codes_by_hand():
    ip = "4500001e 0001 0000 ff01 b8db 01000001 02000002".replace(" ", "")
    # Unreachable/port: no identifier or sequence; 0303 + 6162 sum to 0x6465.
    assert encapsulated("6162", "ICMPIPEncap(1.0.0.1, 2.0.0.2, unreachable, port, "
                                "IDENTIFIER 5)") == [ip + "03039b9a000000006162"]
    # Echo reply: sequence 1; 0000 + 0001 + 6162 sum to 0x6163.
    assert encapsulated("6162", "ICMPIPEncap(1.0.0.1, 2.0.0.2, echo-reply)") == \
        [ip + "00009e9c000000016162"]
    # Inforeq reply with code 9: identifier 0, sequence 1; 1009 + 0001 + 6162 = 0x716c.
    assert encapsulated("6162", "ICMPIPEncap(1.0.0.1, 2.0.0.2, 16, 9)") == \
        [ip + "10098e93000000016162"]
    # Mask request has neither: 1100 + 6162 = 0x7262.
    assert encapsulated("6162", "ICMPIPEncap(1.0.0.1, 2.0.0.2, maskreq, IDENTIFIER 9)") == \
        [ip + "11008d9d000000006162"]
    # Timestamp: a 20-byte header, three zero timestamps; 0d00 + 0005 + 0001 + 6162 = 0x6e68.
    assert encapsulated("6162", "ICMPIPEncap(1.0.0.1, 2.0.0.2, timestamp, IDENTIFIER 5)") == [
        "4500002a00010000ff01b8cf0100000102000002" "0d009197" "00050001" + "00" * 12 + "6162"]


def test_icmpipencap_errors():
    with pytest.raises(ConfigError, match="'e :: ICMPIPEncap'.*TYPE: missing mandatory"):
        router_of("Idle -> e :: ICMPIPEncap(1.0.0.1, 2.0.0.2) -> Discard")
    with pytest.raises(ConfigError, match="'e :: ICMPIPEncap'.*TYPE: expected ICMP type"):
        router_of("Idle -> e :: ICMPIPEncap(1.0.0.1, 2.0.0.2, 256) -> Discard")
    with pytest.raises(ConfigError, match=r"'e :: ICMPIPEncap'.*CODE: expected ICMP code "
                                          r"\(0-255\) for TYPE 8, got 'port'"):
        router_of("Idle -> e :: ICMPIPEncap(1.0.0.1, 2.0.0.2, echo, port) -> Discard")
    with pytest.raises(ConfigError, match="'e :: ICMPIPEncap'.*CODE: expected ICMP code"):
        router_of("Idle -> e :: ICMPIPEncap(1.0.0.1, 2.0.0.2, unreachable, 256) -> Discard")


# --- ICMPSendPings

def test_icmpsendpings_works_as_icmppingsource():
    router = router_of("x :: ICMPSendPings(1.0.0.1, 2.0.0.2, LIMIT 2, INTERVAL 0.01, "
                       f"DATA \\<6162>, STOP true) -> {KEEP}")
    router.run(handle_signals=False)
    h = router.handlers
    assert (h.read("x.class"), h.read("x.count")) == ("ICMPSendPings", "2")
    # TTL 200, ID and sequence 1 then 2: the IP words sum to 0x1024 then 0x1025, the
    # ICMP ones to 0x6963 then 0x6964.
    assert [p.data.hex() for p in router.element("k").packets] == [
        "4500001e00010000c801efdb0100000102000002" "0800969c00000001" "6162",
        "4500001e00020000c801efda0100000102000002" "0800969b00000002" "6162"]
    with pytest.raises(ConfigError, match="'x :: ICMPSendPings'.*DST: missing mandatory"):
        router_of("x :: ICMPSendPings(1.0.0.1) -> Discard")
