"""IP6NDAdvertiser and IP6NDSolicitor, with neighbor discovery frames built field by field.

Each ICMPv6 checksum is worked out here: the one's complement sum of the 16-bit words of
the pseudo-header (source, destination, length, next header 58) and of the message."""

from __future__ import annotations

import ipaddress
import struct

from pyclick.errors import Landmark
from pyclick.packet import Packet
from tests.frames import ether
from tests.helpers import config_error_of, configured_router
from tests.sinks import KeepingTestSink

LANDMARK = Landmark("nd.click", 2)
ME, PEER = "00:00:00:00:00:0a", "00:00:00:00:00:0b"
PAYLOAD = bytes.fromhex("6000000000083b40") + bytes(32) + b"abcdefgh"


def element(cls: str, config: str, outputs: int, info: str | None = None):
    """``cls`` with a test sink on each output; ``info``: an AddressInfo declared after it."""
    elements = [("e", cls, config)] + [(f"s{i}", KeepingTestSink.__name__, "")
                                       for i in range(outputs)]
    if info is not None:
        elements.append(("names", "AddressInfo", info))
    router = configured_router(elements, [("e", i, f"s{i}", 0) for i in range(outputs)],
                               at=LANDMARK, simtime=True)
    return router.element("e"), [router.element(f"s{i}") for i in range(outputs)]


def fold(total: int) -> int:
    """The one's complement of a sum of 16-bit words, its carries folded back in."""
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ip6(text: str) -> bytes:
    return ipaddress.IPv6Address(text).packed


def nd(dst_mac: str, src_mac: str, src: str, dst: str, message: bytes, csum: int,
       hop_limit: int = 255) -> bytes:
    """An Ethernet frame with an IPv6 header and the ICMPv6 ``message`` (checksum ``csum``)."""
    message = message[:2] + struct.pack("!H", csum) + message[4:]
    header = struct.pack("!IHBB", 0x60000000, len(message), 58, hop_limit) + ip6(src) + ip6(dst)
    return ether(dst_mac, src_mac, 0x86DD, header + message)


def mac(text: str) -> bytes:
    return bytes(int(x, 16) for x in text.split(":"))


def solicitation(target: str, option: bytes = b"") -> bytes:
    return struct.pack("!BBH4x", 135, 0, 0) + ip6(target) + option


def advertisement(flags: int, target: str, ether_address: str) -> bytes:
    return struct.pack("!BBHB3x", 136, 0, 0, flags) + ip6(target) + b"\x02\x01" + mac(ether_address)


#: fe80::2 asks for fe80::1 (at ff02::1:ff00:1), giving its own address in an option:
#: fe80 + 0002 | ff02 + 0001 + ff00 + 0001 | length 0020 | 003a | 8700 | fe80 + 0001 | 0101 + 000b
ASK_FE80_1 = nd("33:33:ff:00:00:01", PEER, "fe80::2", "ff02::1:ff00:1",
                solicitation("fe80::1", b"\x01\x01" + mac(PEER)),
                fold(0xFE80 + 0x0002 + 0xFF02 + 0x0001 + 0xFF00 + 0x0001 + 0x0020 + 0x003A
                     + 0x8700 + 0xFE80 + 0x0001 + 0x0101 + 0x000B))


def test_checksums_worked_by_hand():
    # 3 * fe80 + ff02 + ff00 + 8700 and the small words (0x16b) make 0x4836d: 0x8371, ~ 0x7c8e.
    assert ASK_FE80_1[54 + 2:54 + 4] == b"\x7c\x8e"


def test_advertiser_answers_a_solicitation_for_its_address():
    e, (out, other) = element("IP6NDAdvertiser", f"fe80::1 {ME}, fe80::/64 {PEER}", 2)
    e.push(0, [Packet(ASK_FE80_1)])
    # From fe80::1 to fe80::2, Router and Solicited flags (c0), option 2 with ME:
    # fe80 + 0001 + fe80 + 0002 + 0020 + 003a + 8800 + c000 + fe80 + 0001 + 0201 + 000a = 0x445e9
    # -> 0x45ed -> 0xba12. The /128 entry wins over the /64 one.
    assert [p.data for p in out.packets] == [
        nd(PEER, ME, "fe80::1", "fe80::2", advertisement(0xC0, "fe80::1", ME), 0xBA12)]
    assert other.packets == []
    assert e.router.handlers.read("e.table") == (
        "fe80::1/128 00-00-00-00-00-0A\nfe80::/64 00-00-00-00-00-0B\n")


def test_advertiser_answers_duplicate_address_detection_to_all_nodes():
    e, (out,) = element("IP6NDAdvertiser", f"fe80::1 {ME}", 1)
    # From :: with no option: ff02 + 0001 + ff00 + 0001 + 0018 + 003a + 8700 + fe80 + 0001
    # = 0x383d7 -> 0x83da -> 0x7c25.
    e.push(0, [Packet(nd("33:33:ff:00:00:01", PEER, "::", "ff02::1:ff00:1",
                         solicitation("fe80::1"), 0x7C25))])
    # To ff02::1, Router flag only: fe80 + 0001 + ff02 + 0001 + 0020 + 003a + 8800 + 8000
    # + fe80 + 0001 + 0201 + 000a = 0x4066a -> 0x066e -> 0xf991.
    assert [p.data for p in out.packets] == [
        nd("33:33:00:00:00:01", ME, "fe80::1", "ff02::1", advertisement(0x80, "fe80::1", ME),
           0xF991)]


def test_advertiser_refuses_what_it_must_not_answer():
    e, (out, other) = element("IP6NDAdvertiser", f"fe80::1 {ME}", 2)
    damaged = bytearray(ASK_FE80_1)
    damaged[-1] ^= 1
    forwarded = ASK_FE80_1[:21] + b"\x40" + ASK_FE80_1[22:]  # hop limit 64, not 255
    unknown = nd("33:33:ff:00:00:03", PEER, "fe80::2", "ff02::1:ff00:3",
                 solicitation("fe80::3"),
                 fold(0xFE80 + 0x0002 + 0xFF02 + 0x0001 + 0xFF00 + 0x0003 + 0x0018 + 0x003A
                      + 0x8700 + 0xFE80 + 0x0003))
    frames = [bytes(damaged), forwarded, unknown, ASK_FE80_1[:60]]
    e.push(0, [Packet(f) for f in frames])
    assert out.packets == [] and [p.data for p in other.packets] == frames


def test_advertiser_configuration_errors():
    err = config_error_of(element, "IP6NDAdvertiser", f"fe80::1, fe80::1/129 {ME}", 1)
    prefix = "nd.click:2: While configuring 'e :: IP6NDAdvertiser': "
    assert str(err).splitlines() == [
        prefix + "argument 1: expected 'IP6/PREFIX [IP6/PREFIX...] ETH'",
        prefix + "argument 2: bad IPv6 address or prefix 'fe80::1/129'"]


def test_advertiser_reads_address_names():
    # 'me' names both fe80::1 and ME: alone it is the whole entry, as in ARPResponder(me).
    info = f"me fe80::1 {ME}, lan fe80::/64, peer {PEER}"
    e, (out,) = element("IP6NDAdvertiser", "me, lan:ip6net peer", 1, info)
    assert e.router.handlers.read("e.table") == (
        "fe80::1/128 00-00-00-00-00-0A\nfe80::/64 00-00-00-00-00-0B\n")
    e.push(0, [Packet(ASK_FE80_1)])
    # The same advertisement as for IP6NDAdvertiser(fe80::1 ME): checksum 0xba12.
    assert [p.data for p in out.packets] == [
        nd(PEER, ME, "fe80::1", "fe80::2", advertisement(0xC0, "fe80::1", ME), 0xBA12)]


def test_advertiser_refuses_an_unknown_name():
    err = config_error_of(element, "IP6NDAdvertiser", f"nowhere {ME}", 1, f"me fe80::1 {ME}")
    assert str(err).splitlines() == [
        "nd.click:2: While configuring 'e :: IP6NDAdvertiser': argument 1: "
        "bad IPv6 address or prefix 'nowhere'"]


def test_solicitor_reads_address_names():
    e, (out,) = element("IP6NDSolicitor", "me, me", 1, f"me fe80::1 {ME}")
    assert (e.ip, e.ether) == (ip6("fe80::1"), mac(ME))


def to(address: str) -> Packet:
    packet = Packet(PAYLOAD)
    packet.set_anno_bytes(0, ip6(address))
    return packet


#: What IP6NDSolicitor(fe80::1, ME) sends for fe80::2: to ff02::1:ff00:2 (33:33:ff:00:00:02),
#: fe80 + 0001 + ff02 + 0001 + ff00 + 0002 + 0020 + 003a + 8700 + fe80 + 0002 + 0101 + 000a
#: = 0x4836d -> 0x8371 -> 0x7c8e.
ASK_FE80_2 = nd("33:33:ff:00:00:02", ME, "fe80::1", "ff02::1:ff00:2",
                solicitation("fe80::2", b"\x01\x01" + mac(ME)), 0x7C8E)
#: fe80::2 answers, Solicited and Override flags (60):
#: fe80 + 0002 + fe80 + 0001 + 0020 + 003a + 8800 + 6000 + fe80 + 0002 + 0201 + 000b
#: = 0x3e5eb -> 0xe5ee -> 0x1a11.
ANSWER_FE80_2 = nd(ME, PEER, "fe80::2", "fe80::1", advertisement(0x60, "fe80::2", PEER), 0x1A11)


def test_solicitor_solicits_then_sends_what_waited(monkeypatch):
    e, (out, asked) = element("IP6NDSolicitor", f"fe80::1, {ME}", 2)
    e.push(0, [to("fe80::2")])
    assert [p.data for p in asked.packets] == [ASK_FE80_2] and out.packets == []
    handlers = e.router.handlers
    assert handlers.read("e.table") == "fe80::2 0 00-00-00-00-00-00\n"
    e.push(1, [Packet(ANSWER_FE80_2)])
    assert [p.data for p in out.packets] == [ether(PEER, ME, 0x86DD, PAYLOAD)]
    e.push(0, [to("fe80::2")])
    assert len(out.packets) == 2 and len(asked.packets) == 1
    assert handlers.read("e.table") == "fe80::2 1 00-00-00-00-00-0B\n"
    # Past TIMEOUT (5 minutes) the address is asked for again.
    monkeypatch.setattr(e.router, "now", lambda: 300.0)
    e.push(0, [to("fe80::2")])
    assert len(out.packets) == 2 and len(asked.packets) == 2
    assert handlers.read("e.table") == "fe80::2 0 00-00-00-00-00-0B\n"


def test_solicitor_keeps_one_packet_and_ignores_bad_answers():
    e, (out,) = element("IP6NDSolicitor", f"fe80::1, {ME}, TIMEOUT 10s", 1)
    first, second = to("fe80::2"), to("fe80::2")
    second.paint = 7
    e.push(0, [first, second])
    # Both solicitations on output 0; the second packet replaced the first.
    assert [p.data for p in out.packets] == [ASK_FE80_2, ASK_FE80_2]
    damaged = bytearray(ANSWER_FE80_2)
    damaged[-1] ^= 1
    unasked = nd(ME, PEER, "fe80::3", "fe80::1", advertisement(0x60, "fe80::3", PEER),
                 fold(0xFE80 + 0x0003 + 0xFE80 + 0x0001 + 0x0020 + 0x003A + 0x8800 + 0x6000
                      + 0xFE80 + 0x0003 + 0x0201 + 0x000B))
    e.push(1, [Packet(bytes(damaged)), Packet(unasked)])
    assert len(out.packets) == 2
    e.push(1, [Packet(ANSWER_FE80_2)])
    assert [(p.data, p.paint) for p in out.packets[2:]] == [(ether(PEER, ME, 0x86DD, PAYLOAD), 7)]
    assert e.router.handlers.read("e.stats") == (
        "1 packets killed\n2 neighbor solicitations sent\n")


def test_solicitor_sends_multicast_without_asking():
    e, (out, asked) = element("IP6NDSolicitor", f"fe80::1, {ME}", 2)
    e.push(0, [to("ff02::1:2")])
    assert [p.data for p in out.packets] == [ether("33:33:00:01:00:02", ME, 0x86DD, PAYLOAD)]
    assert asked.packets == []


def test_solicitor_configuration_errors():
    err = config_error_of(element, "IP6NDSolicitor", f"10.0.0.1, {ME}, TIMEOUT 0", 1)
    text = str(err)
    assert "IP6" in text and "expected IPv6 address" in text and "TIMEOUT" in text
