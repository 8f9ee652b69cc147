"""Ethernet elements from their Click manuals: EtherRewrite, SetEtherAddress,
GetEtherAddress, ARPFaker and EtherPauseSource."""

from __future__ import annotations

import pytest

from pyclick.element import Element
from pyclick.errors import ConfigError
from pyclick.packet import Packet
from pyclick.runtime.handlers import HandlerError
from tests.test_elements_click_sources import router_of, run


class EtherMoreKeep(Element):
    """EtherMoreKeep() -- keeps each packet it receives, with the time it arrived"""

    port_count = "1/0"

    def configure(self, args) -> None:
        args.complete()
        self.packets: list[Packet] = []
        self.times: list[float] = []

    def push(self, port: int, batch: list[Packet]) -> None:
        self.packets += batch
        self.times += [self.router.now()] * len(batch)


def kept(config: str, name: str = "k") -> EtherMoreKeep:
    router = router_of(config)
    router.run(handle_signals=False)
    return router.element(name)


def data_of(config: str, name: str = "k") -> list[bytes]:
    return [p.data for p in kept(config, name).packets]


# A 14-byte Ethernet header (dst 0a..0f, src 10..15, type 0800) and 2 bytes of payload.
FRAME = "\\<0a0b0c0d0e0f 101112131415 0800 abcd>"
FRAME_BYTES = bytes.fromhex("0a0b0c0d0e0f 101112131415 0800 abcd")
ADDRS = bytes.fromhex("020202020202 010101010101")


# --- EtherRewrite

def test_etherrewrite_writes_both_addresses_and_keeps_the_type():
    assert data_of(f"InfiniteSource({FRAME}, LIMIT 2) -> MarkMACHeader "
                   "-> EtherRewrite(1:1:1:1:1:1, 2:2:2:2:2:2) -> k :: EtherMoreKeep") == \
        [ADDRS + bytes.fromhex("0800abcd")] * 2


def test_etherrewrite_without_mac_header_writes_at_the_start():
    assert data_of(f"InfiniteSource({FRAME}, LIMIT 1) "
                   "-> EtherRewrite(SRC 1:1:1:1:1:1, DST 2:2:2:2:2:2) -> k :: EtherMoreKeep") == \
        [ADDRS + bytes.fromhex("0800abcd")]


def test_etherrewrite_follows_the_mac_header():
    # The header starts 3 bytes in: the first 3 bytes stay.
    assert data_of(f"InfiniteSource({FRAME}, LIMIT 1) -> Strip(3) -> MarkMACHeader "
                   "-> EtherRewrite(1:1:1:1:1:1, 2:2:2:2:2:2) -> Unstrip(3) "
                   "-> k :: EtherMoreKeep") == [bytes.fromhex("0a0b0c") + ADDRS + b"\xcd"]
    # A header stripped off is rewritten where it lies, before the data.
    assert data_of(f"InfiniteSource({FRAME}, LIMIT 1) -> MarkMACHeader -> Strip(14) "
                   "-> EtherRewrite(1:1:1:1:1:1, 2:2:2:2:2:2) -> Unstrip(14) "
                   "-> k :: EtherMoreKeep") == [ADDRS + bytes.fromhex("0800abcd")]


def test_etherrewrite_leaves_what_lies_past_the_packet_unwritten():
    assert data_of("InfiniteSource(\\<0000000000>, LIMIT 1) -> MarkMACHeader "
                   "-> EtherRewrite(1:1:1:1:1:1, 2:2:2:2:2:2) -> k :: EtherMoreKeep") == \
        [b"\x02" * 5]


def test_etherrewrite_pulled_and_copies_untouched():
    router = router_of(f"InfiniteSource({FRAME}, LIMIT 3) -> t :: Tee -> Queue "
                       "-> EtherRewrite(1:1:1:1:1:1, 2:2:2:2:2:2) -> Unqueue -> k :: EtherMoreKeep;"
                       "t[1] -> k2 :: EtherMoreKeep")
    router.run(handle_signals=False)
    assert [p.data for p in router.element("k").packets] == [ADDRS + bytes.fromhex("0800abcd")] * 3
    assert router.element("k2").packets[0].data[:12] == bytes(range(10, 22))


def test_etherrewrite_handlers():
    router = router_of("Idle -> e :: EtherRewrite(SRC 1:1:1:1:1:1, DST a:2:2:2:2:2) -> Discard")
    h = router.handlers
    assert (h.read("e.src"), h.read("e.dst")) == ("01-01-01-01-01-01", "0A-02-02-02-02-02")
    h.write("e.src", "3:3:3:3:3:3")
    assert (h.read("e.src"), h.read("e.dst")) == ("03-03-03-03-03-03", "0A-02-02-02-02-02")
    assert h.read("e.config") == "DST a:2:2:2:2:2, SRC 3:3:3:3:3:3"
    router.element("e").push(0, [Packet(bytes(14))])
    with pytest.raises(HandlerError, match="expected Ethernet address"):
        h.write("e.dst", "bad")
    assert h.read("e.dst") == "0A-02-02-02-02-02"
    router = router_of("Idle -> e :: EtherRewrite(1:1:1:1:1:1, 2:2:2:2:2:2) -> Discard")
    router.handlers.write("e.dst", "4:4:4:4:4:4")
    assert router.handlers.read("e.config") == "1:1:1:1:1:1, 4:4:4:4:4:4"


def test_etherrewrite_errors():
    with pytest.raises(ConfigError, match="EtherRewrite.*DST: missing mandatory argument"):
        router_of("Idle -> e :: EtherRewrite(1:1:1:1:1:1) -> Discard")
    with pytest.raises(ConfigError, match="'e :: EtherRewrite'.*DST: expected Ethernet address"):
        router_of("Idle -> e :: EtherRewrite(1:1:1:1:1:1, 2:2:2:2:2) -> Discard")
    with pytest.raises(ConfigError, match="FOO: unknown keyword"):
        router_of("Idle -> e :: EtherRewrite(1:1:1:1:1:1, 2:2:2:2:2:2, FOO 1) -> Discard")


# --- SetEtherAddress and GetEtherAddress

def test_setetheraddress_sets_the_annotation():
    packet = kept("InfiniteSource(LIMIT 1) -> SetEtherAddress(0:1:2:3:4:5, 36) "
                  "-> k :: EtherMoreKeep").packets[0]
    assert packet.anno_bytes(36, 6) == bytes(range(6))
    assert packet.anno_bytes(30, 6) == bytes(6)
    # StoreEtherAddress writes it back into the data; the last possible offset is 42.
    assert data_of("InfiniteSource(\\<00000000000000000000>, LIMIT 1) "
                   "-> SetEtherAddress(ADDR a:b:c:d:e:f, ANNO 42) "
                   "-> StoreEtherAddress(ANNO 42, OFFSET 2) -> k :: EtherMoreKeep") == \
        [bytes.fromhex("00000a0b0c0d0e0f0000")]


def test_setetheraddress_addr_handler_and_errors():
    router = router_of("Idle -> s :: SetEtherAddress(1:2:3:4:5:6, 0) -> Discard")
    h = router.handlers
    assert h.read("s.addr") == "01-02-03-04-05-06"
    h.write("s.addr", "0:0:0:0:0:a")
    assert h.read("s.addr") == "00-00-00-00-00-0A"
    packet = Packet(b"x")
    router.element("s").push(0, [packet])
    assert packet.anno_bytes(0, 6) == bytes.fromhex("00000000000a")
    with pytest.raises(ConfigError, match="SetEtherAddress.*ANNO: expected 6-byte annotation"):
        router_of("Idle -> SetEtherAddress(1:2:3:4:5:6, 43) -> Discard")
    with pytest.raises(ConfigError, match="ANNO: annotation 'PAINT' is 1 bytes"):
        router_of("Idle -> SetEtherAddress(1:2:3:4:5:6, PAINT) -> Discard")
    with pytest.raises(ConfigError, match="ANNO: missing mandatory argument"):
        router_of("Idle -> SetEtherAddress(1:2:3:4:5:6) -> Discard")


def test_getetheraddress_copies_from_src_dst_or_an_offset():
    for offset, start in (("src", 6), ("DST", 0), ("8", 8)):
        packet = kept(f"InfiniteSource({FRAME}, LIMIT 1) -> GetEtherAddress(10, {offset}) "
                      "-> k :: EtherMoreKeep").packets[0]
        assert packet.anno_bytes(10, 6) == FRAME_BYTES[start:start + 6]


def test_getetheraddress_short_packets_leave_by_output_1_or_are_dropped():
    # 16 bytes: offset 10 is the last that holds 6 bytes.
    router = router_of(f"InfiniteSource({FRAME}, LIMIT 2) -> g :: GetEtherAddress(0, 11) "
                       "-> ok :: EtherMoreKeep; g[1] -> short :: EtherMoreKeep")
    router.run(handle_signals=False)
    assert len(router.element("ok").packets) == 0
    assert [p.data for p in router.element("short").packets] == [FRAME_BYTES] * 2
    assert run(f"InfiniteSource({FRAME}, LIMIT 2) -> GetEtherAddress(0, 10) -> c :: Counter "
               "-> Discard", "c.count") == ["2"]
    assert run(f"InfiniteSource({FRAME}, LIMIT 2) -> Queue -> GetEtherAddress(0, 11) -> Unqueue "
               "-> c :: Counter -> Discard", "c.count") == ["0"]


def test_getetheraddress_errors():
    for bad in ("foo", "-1"):
        with pytest.raises(ConfigError, match="GetEtherAddress.*OFFSET: expected offset"):
            router_of(f"Idle -> GetEtherAddress(0, {bad}) -> Discard")
    with pytest.raises(ConfigError, match="OFFSET: missing mandatory argument"):
        router_of("Idle -> GetEtherAddress(0) -> Discard")
    with pytest.raises(ConfigError, match="GetEtherAddress.*ANNO: expected 6-byte annotation"):
        router_of("Idle -> GetEtherAddress(43, src) -> Discard")


# --- ARPFaker

ARP_REPLY = bytes.fromhex(
    "00e02b0b1a00" "00a0c99cfd9c" "0806"            # to DSTETH, from SRCETH, ARP
    "0001" "0800" "06" "04" "0002"                  # Ethernet, IPv4, lengths, reply
    "00a0c99cfd9c" "121a0463"                       # SRCETH is at SRCIP 18.26.4.99
    "00e02b0b1a00" "121a0401")                      # for DSTETH at DSTIP 18.26.4.1


def test_arpfaker_sends_a_reply_after_1_then_every_10_seconds():
    k = kept("ARPFaker(18.26.4.1, 0:e0:2b:b:1a:0, 18.26.4.99, 00:a0:c9:9c:fd:9c) "
             "-> k :: EtherMoreKeep; Script(wait 25.5, stop)")
    assert k.times == [1.0, 11.0, 21.0]
    assert [p.data for p in k.packets] == [ARP_REPLY] * 3
    assert k.packets[0].mac_header_offset == 0


def test_arpfaker_errors():
    with pytest.raises(ConfigError, match="ARPFaker.*SRCETH: missing mandatory argument"):
        router_of("ARPFaker(18.26.4.1, 0:e0:2b:b:1a:0, 18.26.4.99) -> Discard")
    with pytest.raises(ConfigError, match="ARPFaker.*DSTIP: expected IP address"):
        router_of("ARPFaker(18.26.4, 0:e0:2b:b:1a:0, 18.26.4.99, 1:2:3:4:5:6) -> Discard")
    with pytest.raises(ConfigError, match="too many arguments"):
        router_of("ARPFaker(1.2.3.4, 0:e0:2b:b:1a:0, 18.26.4.99, 1:2:3:4:5:6, 7) -> Discard")


# --- EtherPauseSource

def pause(dst: str, src: str, quanta: str) -> bytes:
    return bytes.fromhex(dst + src + "8808" "0001" + quanta) + bytes(46)


def test_etherpausesource_frames_every_interval():
    k = kept("e :: EtherPauseSource(00:1e:13:22:48:91, 390, LIMIT 3) -> k :: EtherMoreKeep")
    assert k.times == [1.0, 2.0, 3.0]
    assert [p.data for p in k.packets] == [pause("0180c2000001", "001e13224891", "0186")] * 3
    assert len(k.packets[0]) == 64
    k = kept("EtherPauseSource(1:2:3:4:5:6, 0xffff, DST 7:8:9:a:b:c, LIMIT 2, INTERVAL 250ms) "
             "-> k :: EtherMoreKeep")
    assert k.times == [0.25, 0.5]
    assert k.packets[1].data == pause("0708090a0b0c", "010203040506", "ffff")


def test_etherpausesource_interval_is_whole_milliseconds():
    assert kept("EtherPauseSource(1:2:3:4:5:6, 1, LIMIT 2, INTERVAL 0.0104) "
                "-> k :: EtherMoreKeep").times == [0.01, 0.02]


def test_etherpausesource_pulled_gives_a_frame_per_pull():
    assert run("e :: EtherPauseSource(1:2:3:4:5:6, 1, LIMIT 5) -> Unqueue -> c :: Counter "
               "-> Discard; Script(wait 0.5, stop)", "c.count", "e.count") == ["5", "5"]
    assert run("e :: EtherPauseSource(1:2:3:4:5:6, 1, ACTIVE false) -> Unqueue -> c :: Counter "
               "-> Discard; Script(wait 0.5, stop)", "c.count") == ["0"]


def test_etherpausesource_inactive_or_zero_limit_sends_nothing():
    assert run("e :: EtherPauseSource(1:2:3:4:5:6, 1, ACTIVE false) -> c :: Counter -> Discard;"
               "Script(wait 5, stop)", "c.count", "e.active") == ["0", "false"]
    assert run("e :: EtherPauseSource(1:2:3:4:5:6, 1, LIMIT 0) -> c :: Counter -> Discard;"
               "Script(wait 5, stop)", "c.count", "e.limit") == ["0", "0"]


def test_etherpausesource_address_and_pausetime_handlers():
    router = router_of("e :: EtherPauseSource(1:2:3:4:5:6, 65535, DST 7:8:9:a:b:c, LIMIT 2, "
                       "INTERVAL 10ms) -> k :: EtherMoreKeep; Script(wait 15ms, "
                       "write e.src 0:0:0:0:0:1, write e.dst 0:0:0:0:0:2, write e.pausetime 7)")
    h = router.handlers
    assert (h.read("e.src"), h.read("e.dst"), h.read("e.pausetime")) == \
        ("01-02-03-04-05-06", "07-08-09-0A-0B-0C", "65535")
    router.run(handle_signals=False)
    assert [p.data for p in router.element("k").packets] == [
        pause("0708090a0b0c", "010203040506", "ffff"),
        pause("000000000002", "000000000001", "0007")]
    assert (h.read("e.src"), h.read("e.pausetime")) == ("00-00-00-00-00-01", "7")
    for name, value in (("pausetime", "65536"), ("src", "x"), ("dst", "1:2:3")):
        with pytest.raises(HandlerError):
            h.write(f"e.{name}", value)
    with pytest.raises(HandlerError, match="read-only"):
        h.write("e.count", "3")


def test_etherpausesource_limit_active_and_reset_counts():
    router = router_of("e :: EtherPauseSource(1:2:3:4:5:6, 1, INTERVAL 0.1, LIMIT 2) "
                       "-> k :: EtherMoreKeep;"
                       "Script(wait 0.5, write e.reset_counts, wait 0.5, write e.active false,"
                       "write e.limit 4, wait 0.5, write e.active true, wait 1, stop)")
    router.run(handle_signals=False)
    # Two frames; the reset sends one at once and one an interval later; the
    # higher limit waits for active, which sends two more, the first at once.
    times = [round(t, 6) for t in router.element("k").times]
    assert times == [0.1, 0.2, 0.5, 0.6, 1.5, 1.6]
    assert (router.handlers.read("e.count"), router.handlers.read("e.limit")) == ("4", "4")


def test_etherpausesource_inactive_stops_and_lower_limit_sends_no_more():
    router = router_of("e :: EtherPauseSource(1:2:3:4:5:6, 1, INTERVAL 0.1) -> k :: EtherMoreKeep;"
                       "Script(wait 0.25, write e.active false, wait 0.5, write e.limit 1,"
                       "write e.active true, wait 0.5, stop)")
    router.run(handle_signals=False)
    assert [round(t, 6) for t in router.element("k").times] == [0.1, 0.2]


def test_etherpausesource_errors():
    with pytest.raises(ConfigError, match="EtherPauseSource.*PAUSETIME: must be at least 0 and "
                                          "at most 65535"):
        router_of("EtherPauseSource(1:2:3:4:5:6, 65536) -> Discard")
    with pytest.raises(ConfigError, match="PAUSETIME: missing mandatory argument"):
        router_of("EtherPauseSource(1:2:3:4:5:6) -> Discard")
    with pytest.raises(ConfigError, match="STOP: unknown keyword"):
        router_of("EtherPauseSource(1:2:3:4:5:6, 1, STOP true) -> Discard")
    with pytest.raises(ConfigError, match="INTERVAL: must be at least 0.001"):
        router_of("EtherPauseSource(1:2:3:4:5:6, 1, INTERVAL 0) -> Discard")
    with pytest.raises(ConfigError, match="LIMIT: must be at least -2147483648"):
        router_of("EtherPauseSource(1:2:3:4:5:6, 1, LIMIT 3000000000) -> Discard")
    with pytest.raises(ConfigError, match="ACTIVE: expected boolean"):
        router_of("EtherPauseSource(1:2:3:4:5:6, 1, ACTIVE maybe) -> Discard")
