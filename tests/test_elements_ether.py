"""The Ethernet header elements: VLANEncap, VLANDecap, EtherVLANEncap,
StripEtherVLANHeader and StoreEtherAddress, worked out by hand."""

from __future__ import annotations

import pytest

from pyclick.packet import Packet
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
