"""The Ethernet header elements: VLANEncap, VLANDecap, EtherVLANEncap,
StripEtherVLANHeader and StoreEtherAddress, worked out by hand."""

from __future__ import annotations

import pytest

from pyclick.packet import Packet
from pyclick.runtime.handlers import HandlerError
from tests.frames import ether
from tests.helpers import config_error_of, configured_router
from tests.sinks import KeepingTestSink  # noqa: F401  (the class the configurations name)

AT = "ether.click:1"

FRAME = ether("00:01:02:03:04:05", "06:07:08:09:0a:0b", 0x0800, b"payload")
ADDRESSES = FRAME[:12]


def run(cls: str, config: str, packets: list[Packet]) -> list[Packet]:
    router = configured_router([("e", cls, config), ("k", "KeepingTestSink", "")],
                               [("e", 0, "k", 0)], at=AT)
    router.element("e").push(0, packets)
    return router.element("k").packets


@pytest.mark.parametrize("config, tag", [
    # TCI = VLAN ID | PCP << 13: 7 | 5 << 13 = 0xa007.
    ("VLAN_ID 7, VLAN_PCP 5", b"\x81\x00\xa0\x07"),
    ("0x2007", b"\x81\x00\x20\x07"),
    ("VLAN_ID 9, ETHERTYPE 0x88a8", b"\x88\xa8\x00\x09"),
])
def test_vlanencap_inserts_the_tag_after_the_addresses(config, tag):
    (out,) = run("VLANEncap", config, [Packet(FRAME)])
    assert out.data == ADDRESSES + tag + FRAME[12:]
    assert out.mac_header_offset == 0


def test_vlanencap_leaves_the_native_vlan_untagged_and_reads_the_annotation():
    # VLAN 0 is the native one by default: nothing is added.
    assert [p.data for p in run("VLANEncap", "", [Packet(FRAME)])] == [FRAME]
    assert [p.data for p in run("VLANEncap", "VLAN_ID 3, NATIVE_VLAN 3",
                                [Packet(FRAME)])] == [FRAME]
    annotated = Packet(FRAME)
    annotated.vlan_tci = 0x0123
    (out,) = run("VLANEncap", "ANNO", [annotated])
    assert out.data == ADDRESSES + b"\x81\x00\x01\x23" + FRAME[12:]
    # Shorter than an Ethernet header: unchanged.
    assert [p.data for p in run("VLANEncap", "VLAN_ID 7", [Packet(b"short")])] == [b"short"]


def test_vlandecap_removes_the_tag_and_keeps_its_tci():
    tagged = Packet(ADDRESSES + b"\x81\x00\xa0\x07" + FRAME[12:])
    plain = Packet(FRAME)
    plain.vlan_tci = 0x0555
    out = run("VLANDecap", "", [tagged, plain])
    assert [p.data for p in out] == [FRAME, FRAME]
    assert [p.vlan_tci for p in out] == [0xA007, 0]
    # ANNO false leaves the annotation alone; another ETHERTYPE is not a tag.
    plain = Packet(ADDRESSES + b"\x81\x00\xa0\x07" + FRAME[12:])
    plain.vlan_tci = 0x0555
    (out,) = run("VLANDecap", "false, ETHERTYPE 0x88a8", [plain])
    assert out.data == ADDRESSES + b"\x81\x00\xa0\x07" + FRAME[12:] and out.vlan_tci == 0x0555


@pytest.mark.parametrize("config, message", [
    ("VLAN_ID 1, VLAN_PCP 8", "VLAN_PCP: must be at least 0 and at most 7"),
    ("0x10000", "VLAN_TCI: must be at least 0 and at most 65535"),
    ("VLAN_ID 4096", "VLAN_ID: must be at least 0 and at most 4095"),
])
def test_vlan_arguments_out_of_range(config, message):
    assert message in str(config_error_of(configured_router, [("e", "VLANEncap", config)],
                                          at=AT))


DST, SRC = "00:01:02:03:04:05", "06:07:08:09:0a:0b"
IP = b"\x45" + bytes(19)


def test_ethervlanencap_puts_a_whole_tagged_header_in_front():
    (out,) = run("EtherVLANEncap", f"0x0800, {SRC}, {DST}, VLAN_ID 7, VLAN_PCP 5",
                 [Packet(IP)])
    assert out.data == ADDRESSES + b"\x81\x00\xa0\x07\x08\x00" + IP
    assert out.mac_header_offset == 0
    # The native VLAN (0 by default) gets a plain Ethernet header.
    (out,) = run("EtherVLANEncap", f"0x86dd, {SRC}, {DST}", [Packet(IP)])
    assert out.data == ADDRESSES + b"\x86\xdd" + IP


def test_stripethervlanheader_keeps_the_vlan_in_the_annotation():
    tagged = Packet(ADDRESSES + b"\x81\x00\xa0\x07\x08\x00" + IP)
    untagged = Packet(ADDRESSES + b"\x08\x00" + IP)
    router = configured_router([("e", "StripEtherVLANHeader", "NATIVE_VLAN 9"),
                                ("k", "KeepingTestSink", "")], [("e", 0, "k", 0)], at=AT)
    router.element("e").push(0, [tagged, untagged])
    out = router.element("k").packets
    assert [p.data for p in out] == [IP, IP] and [p.vlan_tci for p in out] == [0xA007, 9]
    # NATIVE_VLAN -1: an untagged frame, or a runt, leaves by output 1.
    router = configured_router([("e", "StripEtherVLANHeader", "-1"), ("k", "KeepingTestSink", ""),
                                ("r", "KeepingTestSink", "")],
                               [("e", 0, "k", 0), ("e", 1, "r", 0)], at=AT)
    router.element("e").push(0, [Packet(ADDRESSES + b"\x08\x00" + IP), Packet(b"runt")])
    assert router.element("k").packets == []
    assert [p.data for p in router.element("r").packets] == [ADDRESSES + b"\x08\x00" + IP,
                                                             b"runt"]


# --- StoreEtherAddress ----------------------------------------------------------------

def test_storeetheraddress_writes_an_address_or_an_annotation():
    (out,) = run("StoreEtherAddress", "0a:0b:0c:0d:0e:0f, src", [Packet(FRAME)])
    assert out.data == FRAME[:6] + bytes.fromhex("0a0b0c0d0e0f") + FRAME[12:]
    annotated = Packet(FRAME)
    annotated.dst_ip = bytes([1, 2, 3, 4])
    (out,) = run("StoreEtherAddress", "OFFSET dst, ANNO 0", [annotated])
    # The annotation area's first 6 bytes: the destination IP address, then zeros.
    assert out.data == bytes([1, 2, 3, 4, 0, 0]) + FRAME[6:]
    router = configured_router([("e", "StoreEtherAddress", "0:0:0:0:0:1, 10"),
                                ("k", "KeepingTestSink", ""), ("r", "KeepingTestSink", "")],
                               [("e", 0, "k", 0), ("e", 1, "r", 0)], at=AT)
    router.element("e").push(0, [Packet(bytes(15)), Packet(bytes(16))])
    assert [p.data for p in router.element("r").packets] == [bytes(15)]    # 10 + 6 > 15
    assert [p.data for p in router.element("k").packets] == [bytes(15) + b"\1"]


@pytest.mark.parametrize("config", ["src", "0:1:2:3:4:5, src, ANNO 0", "OFFSET 0, ANNO PAINT"])
def test_storeetheraddress_needs_exactly_one_source(config):
    assert config_error_of(configured_router, [("e", "StoreEtherAddress", config)], at=AT)


def tagger(cls: str, config: str):
    """A router holding ``e``, a ``cls`` element, ahead of a KeepingTestSink ``k``."""
    return configured_router([("e", cls, config), ("k", "KeepingTestSink", "")],
                             [("e", 0, "k", 0)], at=AT)


def read_all(router, *names: str) -> list[str]:
    return [router.handlers.read(f"e.{name}") for name in names]


VLAN_HANDLERS = ("vlan_tci", "vlan_id", "vlan_pcp", "native_vlan", "config")


@pytest.mark.parametrize("config, values", [
    # 7 | 5 << 13 = 40967; native_vlan reads empty for its default 0.
    ("VLAN_ID 7, VLAN_PCP 5", ["40967", "7", "5", "", "VLAN_ID 7, VLAN_PCP 5"]),
    # 0x2345 = 0010 0011 0100 0101: PCP 1 (bits 13-15), bit 12 clear, ID 0x345 = 837.
    ("0x2345, NATIVE_VLAN -1",
     ["9029", "837", "1", "-1", "VLAN_ID 837, VLAN_PCP 1, NATIVE_VLAN -1"]),
    # A VLAN_PCP on top of the TCI: 0x2345 | 3 << 13 = 0x6345 = 25413, PCP 3.
    ("0x2345, 3", ["25413", "837", "3", "", "VLAN_ID 837, VLAN_PCP 3"]),
    # With ANNO, neither the ID nor the PCP is known.
    ("ANNO, NATIVE_VLAN 5", ["ANNO", "", "", "5", "ANNO, NATIVE_VLAN 5"]),
])
def test_vlanencap_handlers_read_the_settings(config, values):
    assert read_all(tagger("VLANEncap", config), *VLAN_HANDLERS) == values


def test_vlanencap_writes_change_the_frames_that_follow():
    router = tagger("VLANEncap", "VLAN_ID 7, ETHERTYPE 0x88a8")
    # 0x88a8 = 34984.
    assert read_all(router, "ethertype") == ["34984"]
    router.element("e").push(0, [Packet(FRAME)])
    # The ID only: PCP stays 0, so the TCI becomes 9; PCP 5 then: 9 | 5 << 13 = 0xa009 = 40969.
    router.handlers.write("e.vlan_id", "9")
    router.handlers.write("e.vlan_pcp", "5")
    assert read_all(router, *VLAN_HANDLERS) == ["40969", "9", "5", "", "VLAN_ID 9, VLAN_PCP 5"]
    router.element("e").push(0, [Packet(FRAME)])
    # A whole TCI replaces both: 0x1234 has PCP 0, bit 12 set, ID 0x234 = 564.
    router.handlers.write("e.vlan_tci", "0x1234")
    router.handlers.write("e.ethertype", "0x8100")
    assert read_all(router, "vlan_tci", "config", "ethertype") == \
        ["4660", "VLAN_ID 564, VLAN_PCP 0", "33024"]
    router.element("e").push(0, [Packet(FRAME)])
    # VLAN 564 now native: untagged.
    router.handlers.write("e.native_vlan", "564")
    router.element("e").push(0, [Packet(FRAME)])
    # ANNO: the annotation's TCI, whatever the VLAN ID written afterwards.
    router.handlers.write("e.vlan_tci", "ANNO")
    router.handlers.write("e.vlan_id", "1")
    router.handlers.write("e.native_vlan", "-1")
    assert read_all(router, "vlan_tci", "vlan_id", "config") == \
        ["ANNO", "", "ANNO, NATIVE_VLAN -1"]
    annotated = Packet(FRAME)
    annotated.vlan_tci = 0x0123
    router.element("e").push(0, [annotated])
    assert [p.data for p in router.element("k").packets] == [
        ADDRESSES + b"\x88\xa8\x00\x07" + FRAME[12:],
        ADDRESSES + b"\x88\xa8\xa0\x09" + FRAME[12:],
        ADDRESSES + b"\x81\x00\x12\x34" + FRAME[12:],
        FRAME,
        ADDRESSES + b"\x81\x00\x01\x23" + FRAME[12:],
    ]


@pytest.mark.parametrize("handler, value, message", [
    ("vlan_id", "4096", "at most 4095"),
    ("vlan_pcp", "8", "at most 7"),
    ("vlan_tci", "0x10000", "at most 65535"),
    ("vlan_tci", "blue", "blue"),
    ("native_vlan", "-2", "at least -1"),
    ("ethertype", "0x10000", "at most 65535"),
    ("src", "1:2:3", "1:2:3"),
])
def test_vlan_handler_writes_refuse_bad_values_and_change_nothing(handler, value, message):
    router = tagger("EtherVLANEncap", f"0x0800, {SRC}, {DST}, VLAN_ID 7, VLAN_PCP 5")
    with pytest.raises(HandlerError) as caught:
        router.handlers.write(f"e.{handler}", value)
    assert message in str(caught.value)
    assert read_all(router, "config") == \
        ["06-07-08-09-0A-0B, 00-01-02-03-04-05, 2048, VLAN_ID 7, VLAN_PCP 5"]


def test_ethervlanencap_handlers_read_and_write_the_header():
    router = tagger("EtherVLANEncap", f"0x0800, {SRC}, {DST}, 0x2345, 3, NATIVE_VLAN 9")
    # Addresses as Click writes them; 0x0800 = 2048; TCI 0x2345 | 3 << 13 = 25413.
    assert read_all(router, "src", "dst", "ethertype", *VLAN_HANDLERS) == [
        "06-07-08-09-0A-0B", "00-01-02-03-04-05", "2048", "25413", "837", "3", "9",
        "06-07-08-09-0A-0B, 00-01-02-03-04-05, 2048, VLAN_ID 837, VLAN_PCP 3, NATIVE_VLAN 9"]
    router.handlers.write("e.src", "1:1:1:1:1:1")
    router.handlers.write("e.dst", "2:2:2:2:2:2")
    router.handlers.write("e.ethertype", "0x86dd")
    # ID 9 is native: a plain header.
    router.handlers.write("e.vlan_id", "9")
    router.element("e").push(0, [Packet(IP)])
    # PCP 0 then: TCI 0x0009 | bit 12 of 0x2345 (clear) = 9, ID 9 still native; native -1: tagged.
    router.handlers.write("e.vlan_pcp", "0")
    router.handlers.write("e.native_vlan", "-1")
    assert read_all(router, "ethertype", "vlan_tci", "config") == [
        "34525", "9", "01-01-01-01-01-01, 02-02-02-02-02-02, 34525, VLAN_ID 9, VLAN_PCP 0, "
        "NATIVE_VLAN -1"]
    router.element("e").push(0, [Packet(IP)])
    addresses = b"\x02" * 6 + b"\x01" * 6
    assert [p.data for p in router.element("k").packets] == [
        addresses + b"\x86\xdd" + IP,
        addresses + b"\x81\x00\x00\x09\x86\xdd" + IP,
    ]
