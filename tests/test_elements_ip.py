"""The IP and Ethernet elements, each as its Click manual describes it."""

from __future__ import annotations

import logging
import struct

import pytest

from pyclick.cli import main
from pyclick.elements.inet import IPADDR, checksum
from pyclick.errors import Landmark
from pyclick.packet import ANNOTATIONS, BROADCAST, HOST, MULTICAST, OTHERHOST, Packet
from pyclick.runtime.handlers import HandlerError
from pyclick.sim.pcap import read_pcap
from tests.frames import click_hex, ether, ip_header, ip_packet, tcp, udp
from tests.helpers import config_error_of, configured_router
from tests.sinks import element_with_sinks, pushed

LANDMARK = Landmark("ip.click", 3)
ME, OTHER = "00:00:00:00:00:0a", "00:00:00:00:00:0b"


def element(cls: str, config: str = "", outputs: int = 1):
    return element_with_sinks(cls, config, outputs, LANDMARK)


def push(cls: str, config: str, frames: list[bytes | Packet], outputs: int = 2):
    return pushed(cls, config, frames, outputs, LANDMARK)


UDP = ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1000, 53, b"abcd"))


# --- CheckIPHeader -------------------------------------------------------------------

def test_checkipheader_passes_a_valid_packet_and_marks_it():
    padded = ether(OTHER, ME, 0x0800, UDP) + bytes(6)
    e, (good, bad) = push("CheckIPHeader", "14", [padded])
    (packet,) = good
    assert bad == []
    # Cut to 14 + the IP length (32); the IP header annotation at 14, 20 bytes.
    assert len(packet) == 14 + 32
    assert (packet.network_header_offset, packet.transport_header_offset) == (14, 34)
    assert packet.dst_ip == bytes([10, 0, 0, 2])


@pytest.mark.parametrize("frame, reason", [
    (UDP[:19], "tiny packet"),
    (bytes([0x65]) + UDP[1:], "bad IP version"),
    (bytes([0x44]) + UDP[1:], "bad IP header length"),
    (UDP[:2] + struct.pack("!H", 33) + UDP[4:], "bad IP length"),
    (UDP[:2] + struct.pack("!H", 19) + UDP[4:], "bad IP length"),
    (ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2), good_checksum=False), "bad IP checksum"),
])
def test_checkipheader_refuses_invalid_packets_on_output_1(frame, reason, caplog):
    with caplog.at_level(logging.WARNING):
        e, (good, bad) = push("CheckIPHeader", "DETAILS true", [frame, frame])
    assert good == [] and len(bad) == 2
    assert e.router.handlers.read("e.drops") == "2"
    assert caplog.text.count(f"IP header check failed: {reason}") == 1
    e.router.initialize()
    try:
        details = e.router.handlers.read("e.drop_details").splitlines()
        assert f"2\t{reason}" in details and len(details) == 6
    finally:
        e.router.cleanup()


def test_checkipheader_without_output_1_drops_and_checksum_false_skips_the_check():
    frame = ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2), good_checksum=False)
    e, (good,) = push("CheckIPHeader", "", [frame], outputs=1)
    assert good == [] and e.drops == 1
    e, (good,) = push("CheckIPHeader", "CHECKSUM false", [frame], outputs=1)
    assert len(good) == 1


def test_checkipheader2_skips_only_the_checksum():
    bad_sum = ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2), good_checksum=False)
    bad_version = bytes([0x65]) + UDP[1:]
    e, (good, bad) = push("CheckIPHeader2", "", [bad_sum, bad_version])
    assert [p.data for p in good] == [bad_sum] and [p.data for p in bad] == [bad_version]
    assert good[0].network_header_offset == 0 and good[0].dst_ip == bytes([10, 0, 0, 2])
    e, (good, bad) = push("CheckIPHeader2", "CHECKSUM true", [bad_sum])
    assert good == [] and len(bad) == 1


def test_markmacheader_sets_the_mac_and_network_header_annotations():
    # Without LENGTH only the MAC header is marked, as in Click.
    e, (out,) = push("MarkMACHeader", "", [ether(OTHER, ME, 0x0800, UDP)], outputs=1)
    assert (out[0].mac_header_offset, out[0].network_header_offset) == (0, None)
    e, (out,) = push("MarkMACHeader", "0, 14", [ether(OTHER, ME, 0x0800, UDP)], outputs=1)
    assert (out[0].mac_header_offset, out[0].network_header_offset) == (0, 14)
    e, (out,) = push("MarkMACHeader", "4, 18", [bytes(4) + ether(OTHER, ME, 0x8100, UDP)],
                     outputs=1)
    assert (out[0].mac_header_offset, out[0].network_header_offset) == (4, 22)


def test_unstripipheader_puts_back_what_stripipheader_took():
    e, (out,) = push("CheckIPHeader", "", [UDP], outputs=1)
    stripped = out[0]
    stripped.pull(20)
    e, (back,) = push("UnstripIPHeader", "", [stripped, Packet(b"plain")], outputs=1)
    assert [p.data for p in back] == [UDP, b"plain"]


def test_checkipheader_interfaces_refuse_broadcast_sources_except_to_us():
    def frame(src, dst):
        return ip_packet(src, dst, 17, udp(1, 2))
    config = "INTERFACES 18.26.4.9/24 18.32.9.44/28"
    frames = [frame("18.26.4.255", "1.1.1.1"), frame("18.32.9.47", "1.1.1.1"),
              frame("0.0.0.0", "1.1.1.1"), frame("18.26.4.255", "18.26.4.9"),
              frame("18.26.4.7", "1.1.1.1")]
    e, (good, bad) = push("CheckIPHeader", config, frames)
    assert [p.data for p in bad] == frames[:3]
    assert [p.data for p in good] == frames[3:]


def test_checkipheader_in_pull_context(capsys):
    config = (f"InfiniteSource({click_hex(UDP)}, LIMIT 5, STOP true) -> q :: Queue "
              "-> c :: CheckIPHeader -> Unqueue -> n :: Counter -> Discard; c[1] -> Discard")
    assert main(["-e", config, "-h", "n.count", "-h", "c.drops"]) == 0
    assert capsys.readouterr().out == "n.count:\n5\n\nc.drops:\n0\n\n"


def test_markipheader():
    frame = ether(OTHER, ME, 0x0800, ip_packet("1.1.1.1", "2.2.2.2", 6, tcp(1, 2),
                                                options=b"\x01\x01\x01\x00"))
    e, (out,) = push("MarkIPHeader", "14", [frame], outputs=1)
    assert (out[0].network_header_offset, out[0].network_header_length) == (14, 24)


# --- DecIPTTL ------------------------------------------------------------------------

def test_decipttl_decrements_and_keeps_the_checksum_right():
    frame = ip_packet("1.1.1.1", "2.2.2.2", 6, tcp(1, 2), ttl=64)
    e, (out, expired) = push("DecIPTTL", "", [frame])
    data = out[0].data
    assert data[8] == 63 and checksum(data[:20]) == 0
    assert data == ip_packet("1.1.1.1", "2.2.2.2", 6, tcp(1, 2), ttl=63)
    # The original bytes are untouched (the packet was copied before writing).
    assert frame[8] == 64


@pytest.mark.parametrize("ttl", [0, 1])
def test_decipttl_expired_packets_leave_by_output_1(ttl):
    frame = ip_packet("1.1.1.1", "2.2.2.2", 6, tcp(1, 2), ttl=ttl)
    e, (out, expired) = push("DecIPTTL", "", [frame])
    assert out == [] and [p.data for p in expired] == [frame]
    assert e.router.handlers.read("e.drops") == "1"


def test_decipttl_uses_the_ip_header_annotation_and_multicast_setting():
    frame = ether(OTHER, ME, 0x0800, ip_packet("1.1.1.1", "224.0.0.5", 17, udp(1, 2), ttl=5))
    packet = Packet(frame)
    packet.set_network_header(14, 20)
    e, (out, _) = push("DecIPTTL", "", [packet])
    assert out[0].data[14 + 8] == 4
    packet = Packet(frame)
    packet.set_network_header(14, 20)
    e, (out, _) = push("DecIPTTL", "MULTICAST false", [packet])
    assert out[0].data[14 + 8] == 5


def test_decipttl_checksum_carries_around():
    # A checksum of 0xFF00 plus 0x0100 overflows: the carry wraps to 0x0001.
    header = bytearray(ip_header("1.1.1.1", "2.2.2.2", 6, 0, ttl=9))
    header[10:12] = b"\xff\x00"
    e, (out, _) = push("DecIPTTL", "", [bytes(header)])
    assert out[0].data[10:12] == b"\x00\x01"


# --- EtherEncap and UDPIPEncap --------------------------------------------------------

def test_etherencap_prepends_the_header():
    e, (out,) = push("EtherEncap", "0x0800, 1:1:1:1:1:1, 2:2:2:2:2:2", [b"payload"], outputs=1)
    assert out[0].data == b"\x02" * 6 + b"\x01" * 6 + b"\x08\x00payload"
    assert out[0].mac_header_offset == 0
    handlers = e.router.handlers
    assert handlers.read("e.src") == "01-01-01-01-01-01"
    assert handlers.read("e.ethertype") == "2048"
    assert handlers.read("e.etht") == "2048"


def test_etherencap_after_strip_reuses_the_headroom():
    frame = ether(OTHER, ME, 0x0800, b"data")
    packet = Packet(frame).pull(14)
    e, (out,) = push("EtherEncap", f"0x86dd, {ME}, {OTHER}", [packet], outputs=1)
    assert out[0].data == ether(OTHER, ME, 0x86DD, b"data")
    assert out[0].headroom == packet.headroom


def test_etherencap_handlers_write():
    e, (sink,) = element("EtherEncap", "0x0800, 1:1:1:1:1:1, 2:2:2:2:2:2")
    e.router.handlers.write("e.dst", "00-00-00-00-00-0b")
    e.push(0, [Packet(b"x")])
    assert sink.packets[0].data[:6] == bytes.fromhex("00000000000b")
    e.router.handlers.write("e.etht", "0x86dd")
    assert e.router.handlers.read("e.ethertype") == "34525"
    e.router.handlers.write("e.ethertype", "0x0806")
    e.push(0, [Packet(b"y")])
    assert sink.packets[1].data[12:14] == b"\x08\x06"
    assert e.router.handlers.read("e.etht") == "2054"


def test_udpipencap_builds_valid_headers():
    e, (out,) = push("UDPIPEncap", "1.0.0.1, 1234, 2.0.0.2, 5678", [b"hello", b"hi"], outputs=1)
    first, second = (p.data for p in out)
    ip, udp_header = first[:20], first[20:28]
    assert ip == ip_header("1.0.0.1", "2.0.0.2", 17, 13, ttl=250, ident=0)
    assert second[4:6] == b"\x00\x01"  # the ID counts up
    sport, dport, length, csum = struct.unpack("!HHHH", udp_header)
    assert (sport, dport, length) == (1234, 5678, 13)
    pseudo = bytes([1, 0, 0, 1, 2, 0, 0, 2, 0, 17]) + struct.pack("!H", 13)
    assert checksum(pseudo + first[20:]) == 0
    assert out[0].network_header_offset == 0 and out[0].dst_ip == bytes([2, 0, 0, 2])


def test_udpipencap_without_checksum_and_with_dst_anno():
    packet = Packet(b"x")
    packet.dst_ip = bytes([9, 9, 9, 9])
    e, (out,) = push("UDPIPEncap", "1.0.0.1, 1, DST_ANNO, 2, false", [packet], outputs=1)
    assert out[0].data[16:20] == bytes([9, 9, 9, 9]) and out[0].data[26:28] == b"\0\0"
    assert e.router.handlers.read("e.dst") == "DST_ANNO"


def test_udpipencap_round_trip_through_checkipheader_and_strip(capsys):
    config = ("InfiniteSource(LIMIT 4, STOP true) -> UDPIPEncap(1.0.0.1, 1, 2.0.0.2, 2) "
              "-> c :: CheckIPHeader -> i :: IPClassifier(udp dst port 2 and src host 1.0.0.1) "
              "-> Strip(28) -> n :: Counter -> Discard; c[1] -> Discard")
    assert main(["-e", config, "-h", "n.count", "-h", "n.byte_count"]) == 0
    assert capsys.readouterr().out == "n.count:\n4\n\nn.byte_count:\n276\n\n"


@pytest.mark.parametrize("cls, config, message", [
    ("EtherEncap", "0x10000, 1:1:1:1:1:1, 2:2:2:2:2:2", "ETHERTYPE: must be at least 0 and at most 65535"),
    ("EtherEncap", "0x0800, 1:1:1:1:1, 2:2:2:2:2:2", "SRC: expected Ethernet address"),
    ("UDPIPEncap", "1.0.0.1, 70000, 2.0.0.2, 1", "SPORT: must be at least 0 and at most 65535"),
    ("UDPIPEncap", "1.0.0.256, 1, 2.0.0.2, 1", "SRC: expected IP address"),
    ("CheckIPHeader", "INTERFACES 1.2.3.4/33", "INTERFACES: list item 1: expected IP address"),
    ("SetIPAddress", "1.2.3", "IPADDR: expected IP address"),
    ("GetIPAddress", "", "OFFSET: missing mandatory argument"),
    ("HostEtherFilter", "", "ETHER: missing mandatory argument"),
])
def test_argument_errors_carry_landmarks(cls, config, message):
    err = config_error_of(element, cls, config)
    assert str(err).startswith(f"ip.click:3: While configuring 'e :: {cls}': {message}"), \
        str(err)


# --- addresses and annotations --------------------------------------------------------

def test_getipaddress_copies_four_bytes_into_the_annotation():
    e, (out,) = push("GetIPAddress", "16", [UDP, UDP[:18]], outputs=1)
    assert out[0].dst_ip == bytes([10, 0, 0, 2])
    assert out[1].dst_ip == bytes(4)
    e, (out,) = push("GetIPAddress", "IP src", [UDP], outputs=1)
    assert out[0].dst_ip == bytes([10, 0, 0, 1])
    e, (out,) = push("GetIPAddress", "12, 4", [UDP], outputs=1)
    assert out[0].anno_bytes(4, 4) == bytes([10, 0, 0, 1]) and out[0].dst_ip == bytes(4)


@pytest.mark.parametrize("text, address", [
    ("10.1.2.3", bytes([10, 1, 2, 3])), (" 10.1.2.3 ", bytes([10, 1, 2, 3])),
    # Leading zeros are decimal, as Click reads them.
    ("010.001.0002.255", bytes([10, 1, 2, 255])), ("0000000010.0.0.1", bytes([10, 0, 0, 1])),
])
def test_ip_addresses_as_click_reads_them(text, address):
    assert IPADDR(text) == address


@pytest.mark.parametrize("text", ["10.1", "256.1.1.1", "1.2.3.4.", "0x0a000001",
                                  "10.0.0.1/24", "\u0661.2.3.4", "0" * 70 + "1.2.3.4"])
def test_what_is_no_ip_address(text):
    with pytest.raises(ValueError, match="expected IP address"):
        IPADDR(text)


def test_setipaddress_and_its_handler():
    e, (out,) = push("SetIPAddress", "10.1.2.3", [b"x"], outputs=1)
    assert out[0].dst_ip == bytes([10, 1, 2, 3])
    e.router.handlers.write("e.addr", "10.9.9.9")
    assert e.router.handlers.read("e.addr") == "10.9.9.9"
    # IPADDR is the keyword's name, as in Click.
    e, (out,) = push("SetIPAddress", "IPADDR 10.4.5.6", [b"x"], outputs=1)
    assert out[0].dst_ip == bytes([10, 4, 5, 6])


def test_hostetherfilter_sets_packet_types_and_filters():
    frames = [ether(ME, OTHER, 0x0800, b""), ether("ff:ff:ff:ff:ff:ff", OTHER, 0x0800, b""),
              ether("01:00:5e:00:00:01", OTHER, 0x0800, b""), ether(OTHER, ME, 0x0800, b""),
              ether("00:00:00:00:00:0c", OTHER, 0x0800, b"")]
    e, (out, filtered) = push("HostEtherFilter", ME, frames)
    assert [p.packet_type for p in out] == [HOST, BROADCAST, MULTICAST]
    assert [p.data for p in filtered] == frames[3:]
    assert filtered[1].packet_type == OTHERHOST
    e, (out, filtered) = push("HostEtherFilter", f"{ME}, true, false", frames)
    assert [p.data for p in filtered] == [frames[3]]
    assert [p.packet_type for p in out] == [HOST, BROADCAST, MULTICAST, OTHERHOST]


def test_hostetherfilter_ether_handler():
    frames = [ether(ME, OTHER, 0x0800, b""), ether(OTHER, ME, 0x0800, b"")]
    e, (out, filtered) = element("HostEtherFilter", "0a:0b:0c:0d:0e:0f", outputs=2)
    assert e.router.handlers.read("e.ether") == "0A-0B-0C-0D-0E-0F"
    e.router.handlers.write("e.ether", OTHER)
    assert e.router.handlers.read("e.ether") == "00-00-00-00-00-0B"
    e.push(0, [Packet(f) for f in frames])
    assert [p.data for p in out.packets] == frames[1:]
    assert [p.packet_type for p in out.packets] == [HOST]
    assert [p.data for p in filtered.packets] == frames[:1]


def test_dropbroadcasts():
    packets = [Packet(b"a"), Packet(b"b"), Packet(b"c")]
    packets[1].packet_type = BROADCAST
    packets[2].packet_type = MULTICAST
    e, (out, dropped) = push("DropBroadcasts", "", packets)
    assert out == packets[:1] and dropped == packets[1:]
    assert e.router.handlers.read("e.drops") == "2"


# --- ToDump ---------------------------------------------------------------------------

def test_todump_writes_a_classic_pcap(tmp_path, capsys):
    path = tmp_path / "out.pcap"
    frame = ether(OTHER, ME, 0x0800, UDP)
    config = (f"InfiniteSource({click_hex(frame)}, LIMIT 2, STOP true) -> SetTimestamp(1.25) "
              f"-> t :: ToDump({path}, SNAPLEN 20) -> c :: Counter -> Discard")
    assert main(["-e", config, "-h", "t.count", "-h", "c.count"]) == 0
    assert capsys.readouterr().out == "t.count:\n2\n\nc.count:\n2\n\n"
    data = path.read_bytes()
    magic, major, minor, _, _, snaplen, linktype = struct.unpack("=IHHiIII", data[:24])
    assert (magic, major, minor, snaplen, linktype) == (0xA1B2C3D4, 2, 4, 20, 1)
    record = struct.pack("=IIII", 1, 250000, 20, len(frame)) + frame[:20]
    assert data[24:] == record * 2


def test_todump_on_a_full_disk_ends_its_file_and_lets_packets_on(tmp_path, capsys):
    # /dev/full fails every write with ENOSPC, as a full disk does; 20,000
    # packets fill the write buffer well before the end.
    import os
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full to stand for a full disk")
    path = tmp_path / "out.pcap"
    os.symlink("/dev/full", path)
    config = (f"InfiniteSource(LIMIT 20000, STOP true) -> t :: ToDump({path}) -> c :: Counter "
              "-> Discard")
    assert main(["-e", config, "-h", "c.count"]) == 0
    printed = capsys.readouterr()
    assert printed.out == "20000\n"
    assert printed.err.count("cannot write") == 1
    assert f"t :: ToDump: {path}: cannot write: {os.strerror(28)}; the file ends here" \
        in printed.err


def test_fromdump_says_why_it_cannot_read_its_file(tmp_path, capsys):
    assert main(["-e", f"FromDump({tmp_path}) -> Discard"]) == 1
    assert capsys.readouterr().err == (f"config:1: FromDump@1 :: FromDump: cannot read "
                                       f"'{tmp_path}': Is a directory\n")


def test_todump_round_trips_through_fromdump(tmp_path, capsys):
    first, second = tmp_path / "a.pcap", tmp_path / "b.pcap"
    frames = [ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 53)),
              ip_packet("10.0.0.1", "10.0.0.2", 6, tcp(1, 80)),
              ip_packet("10.0.0.3", "10.0.0.2", 17, udp(1, 54))]
    sources = " ".join(f"s{i} :: InfiniteSource({click_hex(f)}, LIMIT 1, STOP true) -> m;"
                       for i, f in enumerate(frames))
    config = f"m :: Null; {sources} m -> ToDump({first}, ENCAP IP, SNAPLEN 0)"
    assert main(["-e", config]) == 0
    config = (f"f :: FromDump({first}, STOP true) -> c :: IPClassifier(udp, -); "
              f"c[0] -> u :: Counter -> ToDump({second}, USE_ENCAP_FROM f, SNAPLEN 0); "
              "c[1] -> Discard")
    assert main(["-e", config, "-h", "u.count", "-h", "f.encap"]) == 0
    assert capsys.readouterr().out == "u.count:\n2\n\nf.encap:\nIP\n\n"
    linktype, records = read_pcap(str(second))
    assert linktype == 101 and [r.frame for r in records] == [frames[0], frames[2]]


def test_todump_dates_records_by_the_wall_clock(tmp_path, capsys):
    # Packets carry the router's (monotonic) time; the file holds dates.
    import time
    path = tmp_path / "now.pcap"
    assert main(["-e", f"InfiniteSource(LIMIT 1, STOP true) -> ToDump({path})"]) == 0
    (seconds,) = struct.unpack("=I", path.read_bytes()[24:28])
    assert abs(seconds - time.time()) < 60


def test_todump_dates_a_packet_without_a_timestamp_when_it_writes_it(tmp_path):
    # TIMESTAMP false: the packets carry no time. Written at simulated 2.5 s
    # (the second Script wait), the record says 2.5 s; a stamped one keeps its own.
    path = tmp_path / "unstamped.pcap"
    assert main(["--simtime", "-e", "s :: InfiniteSource(LIMIT 1, TIMESTAMP false, ACTIVE false) "
                 f"-> w :: ToDump({path}); t :: InfiniteSource(LIMIT 1, ACTIVE false) -> w; "
                 "Script(wait 1, write t.active true, wait 1.5, write s.active true, wait 1, stop)"]) == 0
    records = read_pcap(path)[1]
    assert [r.timestamp for r in records] == [1.0, 2.5]


def test_fromdump_dates_are_long_past_for_delayshaper(tmp_path, capsys):
    # Dated 1,000 s after the epoch, the packets are due at once, as in Click
    # (they were held until the router's clock reached the date).
    path = tmp_path / "old.pcap"
    assert main(["-e", f"InfiniteSource(LIMIT 3, STOP true) -> SetTimestamp(1000) "
                       f"-> ToDump({path})"]) == 0
    config = (f"FromDump({path}) -> Queue -> DelayShaper(0.05) -> Unqueue -> c :: Counter "
              "-> Discard; DriverManager(wait 0.3s, stop)")
    assert main(["-e", config, "-h", "c.count"]) == 0
    assert capsys.readouterr().out == "3\n"


def test_todump_in_pull_context_pulls_by_itself(tmp_path, capsys):
    path = tmp_path / "pulled.pcap"
    config = f"InfiniteSource(LIMIT 5, STOP true) -> Queue -> t :: ToDump({path}, NANO true)"
    assert main(["-e", config, "-h", "t.count"]) == 0
    assert capsys.readouterr().out == "5\n"
    data = path.read_bytes()
    assert struct.unpack("=I", data[:4])[0] == 0xA1B23C4D
    assert len(data) == 24 + 5 * (16 + 69)


def test_todump_errors(tmp_path):
    err = config_error_of(element, "ToDump", f"{tmp_path}/x.pcap, ENCAP TOKENRING", 0)
    assert "ENCAP: expected encapsulation (ETHER, IP" in str(err)
    e, _ = element("ToDump", f"{tmp_path}/missing/x.pcap", 0)
    err = config_error_of(e.router.initialize)
    assert str(err).startswith("ip.click:3: e :: ToDump: ") and "No such file" in str(err)


# --- IPPrint ----------------------------------------------------------------------------

def marked(frame: bytes, timestamp: float = 0.0) -> Packet:
    packet = Packet(frame, timestamp)
    packet.set_network_header(0, (frame[0] & 15) * 4)
    return packet


@pytest.mark.parametrize("config, frame, line", [
    ("x, TIMESTAMP false", UDP, "x: 10.0.0.1.1000 > 10.0.0.2.53: udp 12"),
    ("TIMESTAMP false",
     ip_packet("1.1.1.1", "2.2.2.2", 6, tcp(80, 1000, 0x12, 512, b"hello")),
     # SYN counts one: 1:7(6,...); SYN and ACK: "S" then " ack 0".
     "1.1.1.1.80 > 2.2.2.2.1000: S 1:7(6,45,45) ack 0 win 512"),
    ("TIMESTAMP false", ip_packet("1.1.1.1", "2.2.2.2", 6, tcp(80, 1000, 0x00)),
     "1.1.1.1.80 > 2.2.2.2.1000: . 1:1(0,40,40) win 1024"),
    ("TIMESTAMP false, ID true, TTL true, TOS true, LENGTH true",
     ip_packet("1.1.1.1", "2.2.2.2", 50, b"", ident=9, ttl=3, tos=4),
     "id 9 ttl 3 tos 4 length 20 1.1.1.1 > 2.2.2.2: ip-proto-50"),
    ("TIMESTAMP false", ip_packet("1.1.1.1", "2.2.2.2", 1, bytes([8, 0, 0, 0, 0, 7, 0, 2])),
     "1.1.1.1 > 2.2.2.2: icmp echo (7, 2)"),
    ("TIMESTAMP false, SWAP false",
     ip_packet("1.1.1.1", "2.2.2.2", 1, bytes([8, 0, 0, 0, 0, 7, 0, 2])),
     "1.1.1.1 > 2.2.2.2: icmp echo (1792, 512)"),
    ("TIMESTAMP false", ip_packet("1.1.1.1", "2.2.2.2", 17, udp(1, 2), frag=0x2000, ident=5),
     "1.1.1.1.1 > 2.2.2.2.2: udp 8 (frag 5:8@0+)"),
    ("TIMESTAMP false", ip_packet("1.1.1.1", "2.2.2.2", 17, udp(1, 2), frag=0x0003, ident=5),
     "1.1.1.1 > 2.2.2.2: udp (frag 5:8@24)"),
    ("TIMESTAMP false", UDP[:12], "truncated-ip"),
    ("l", UDP, "l: 1.500000: 10.0.0.1.1000 > 10.0.0.2.53: udp 12"),
    ("TIMESTAMP false, PAYLOAD ASCII", UDP, "10.0.0.1.1000 > 10.0.0.2.53: udp 12\n  abcd"),
    ("TIMESTAMP false, CONTENTS HEX, MAXLENGTH 6", UDP,
     "10.0.0.1.1000 > 10.0.0.2.53: udp 12\n  45000020 0000"),
    # NBYTES: Click's older name for MAXLENGTH.
    ("TIMESTAMP false, CONTENTS HEX, NBYTES 5", UDP,
     "10.0.0.1.1000 > 10.0.0.2.53: udp 12\n  45000020 00"),
    # Any case, and booleans, as Click reads them.
    ("TIMESTAMP false, CONTENTS hex, MAXLENGTH 6", UDP,
     "10.0.0.1.1000 > 10.0.0.2.53: udp 12\n  45000020 0000"),
    ("TIMESTAMP false, CONTENTS true, MAXLENGTH 6", UDP,
     "10.0.0.1.1000 > 10.0.0.2.53: udp 12\n  45000020 0000"),
    ("TIMESTAMP false, PAYLOAD yes, CONTENTS false", UDP,
     "10.0.0.1.1000 > 10.0.0.2.53: udp 12\n  61626364"),
    ("TIMESTAMP false, PAYLOAD no, CONTENTS ascii, MAXLENGTH 1", UDP,
     "10.0.0.1.1000 > 10.0.0.2.53: udp 12\n  E"),
    # ASCII as Click groups it: 8 bytes a group, 48 a line. UDP's 32 bytes
    # (45 00 00 20 00 00 00 00 | 40 11 66 cb 0a 00 00 01 | 0a 00 00 02 03 e8
    # 00 35 | 00 0c 00 00 "abcd"): 0x20 is a space, 0x66 'f', 0x35 '5'.
    ("TIMESTAMP false, CONTENTS ascii", UDP,
     "10.0.0.1.1000 > 10.0.0.2.53: udp 12\n  E.. .... @.f..... .......5 ....abcd"),
    # No payload, no line for it.
    ("TIMESTAMP false, PAYLOAD ascii", UDP[:28], "10.0.0.1.1000 > 10.0.0.2.53: udp 12"),
])
def test_ipprint_lines(config, frame, line):
    e, _ = element("IPPrint", config)
    assert e.line(marked(frame, 1.5)) == line


# Codes by their names where Click names them, by number elsewhere.
@pytest.mark.parametrize("kind, code, text", [
    (11, 1, "timeexceeded reassembly"), (11, 0, "timeexceeded transit"),
    (5, 3, "redirect toshost"), (12, 2, "parameterproblem length"),
    (11, 7, "timeexceeded code 7"), (4, 0, "sourcequench"),
])
def test_ipprint_names_icmp_codes(kind, code, text):
    e, _ = element("IPPrint", "TIMESTAMP false")
    frame = ip_packet("1.1.1.1", "2.2.2.2", 1, bytes([kind, code, 0, 0, 0, 0, 0, 0]))
    assert e.line(marked(frame)) == f"1.1.1.1 > 2.2.2.2: icmp {text}"


def test_ipprint_names_every_unreachable_code():
    e, _ = element("IPPrint", "TIMESTAMP false")
    quoted = ip_header("2.2.2.2", "9.9.9.9", 6, 0)
    frame = ip_packet("1.1.1.1", "2.2.2.2", 1, bytes([3, 13, 0, 0, 0, 0, 0, 0]) + quoted)
    assert e.line(marked(frame)) == "1.1.1.1 > 2.2.2.2: icmp 9.9.9.9 unreachable filterprohibited"


@pytest.mark.parametrize("config, message", [
    ("CONTENTS hex, PAYLOAD ascii", "give at most one of CONTENTS and PAYLOAD"),
    ("PAYLOAD none", "PAYLOAD: expected one of HEX, ASCII"),
])
def test_ipprint_contents_mistakes(config, message):
    assert message in str(config_error_of(element, "IPPrint", config))


def test_ipprint_writes_outfile_skips_unmarked_packets_and_inactive(tmp_path):
    path = tmp_path / "lines.txt"
    e, (sink,) = element("IPPrint", f"p, TIMESTAMP false, OUTFILE {path}")
    e.router.initialize()
    try:
        e.push(0, [marked(UDP), Packet(UDP)])
        e.router.handlers.write("e.active", "false")
        e.push(0, [marked(UDP)])
    finally:
        e.router.cleanup()
    assert path.read_text() == "p: 10.0.0.1.1000 > 10.0.0.2.53: udp 12\n"
    assert len(sink.packets) == 3


# --- StaticIPLookup ----------------------------------------------------------------------

ROUTES = "18.26.4.24/32 0, 18.26.4.0/255.255.255.0 1, 0.0.0.0/0 18.26.4.1 1, 10.0.0.0/8 2"


def with_destination(address: str) -> Packet:
    packet = Packet(b"x")
    packet.dst_ip = bytes(int(x) for x in address.split("."))
    return packet


def test_staticiplookup_longest_prefix_and_gateway(caplog):
    packets = [with_destination(a) for a in
               ("18.26.4.24", "18.26.4.25", "1.2.3.4", "10.9.9.9")]
    e, (zero, one, two) = push("StaticIPLookup", ROUTES, packets, outputs=3)
    assert zero == packets[:1] and one == packets[1:3] and two == packets[3:]
    assert packets[1].dst_ip == bytes([18, 26, 4, 25])
    assert packets[2].dst_ip == bytes([18, 26, 4, 1])
    assert e.router.handlers.read("e.table") == (
        "18.26.4.24/32\t\t-\t\t0\n"
        "18.26.4.0/24\t\t-\t\t1\n"
        "0.0.0.0/0\t\t18.26.4.1\t1\n"
        "10.0.0.0/8\t\t-\t\t2\n")


def test_staticiplookup_without_route_drops_and_lookup_handler(caplog):
    with caplog.at_level(logging.WARNING):
        e, (zero,) = push("StaticIPLookup", "18.26.4.24/32 0", [with_destination("1.1.1.1")],
                          outputs=1)
    assert zero == [] and "no route for 1.1.1.1" in caplog.text
    e, _ = element("StaticIPLookup", ROUTES, 3)
    e.router.initialize()
    try:
        assert e.router.handlers.read("e.lookup", "18.26.4.24") == "0"
        assert e.router.handlers.read("e.lookup", "99.1.1.1") == "1 18.26.4.1"
    finally:
        e.router.cleanup()


def test_staticiplookup_errors():
    err = config_error_of(element, "StaticIPLookup",
                          "1.0.0.0/8 0, 1.0.0.0/8 0, 2.0.0.0/33 0, 3.0.0.0/8 4, 4.0.0.0/8", 1)
    prefix = "ip.click:3: While configuring 'e :: StaticIPLookup': "
    assert str(err).splitlines() == [
        prefix + "route 2: a route for 1.0.0.0/8 already exists",
        prefix + "route 3: bad network '2.0.0.0/33'",
        prefix + "route 4: output 4 out of range (the element has 1 outputs)",
        prefix + "route 5: expected 'ADDR/MASK [GW] OUT'"]


CHANGING = ["LinearIPLookup", "RadixIPLookup", "DirectIPLookup"]


@pytest.mark.parametrize("cls", CHANGING + ["StaticIPLookup"])
def test_every_routing_table_routes_alike(cls):
    packets = [with_destination(a) for a in
               ("18.26.4.24", "18.26.4.25", "1.2.3.4", "10.9.9.9")]
    e, (zero, one, two) = push(cls, ROUTES.replace("1.0.0.0/8 2", "1.0.0.0/8 - 2"),
                               packets, outputs=3)
    assert zero == packets[:1] and one == packets[1:3] and two == packets[3:]
    assert packets[2].dst_ip == bytes([18, 26, 4, 1])


def test_a_gateway_may_be_written_as_a_dash():
    e, _ = element("StaticIPLookup", "10.0.0.0/8 - 0, 0/0 - 0", 1)
    assert e.router.handlers.read("e.table") == "10.0.0.0/8\t\t-\t\t0\n0.0.0.0/0\t\t-\t\t0\n"


@pytest.mark.parametrize("cls", CHANGING)
def test_routes_change_at_run_time(cls):
    e, _ = element(cls, "18.26.4.0/24 0", 3)
    handlers = e.router.handlers
    e.router.initialize()
    try:
        handlers.write("e.add", "0.0.0.0/0 18.26.4.1 1")
        assert handlers.read("e.lookup", "9.9.9.9") == "1 18.26.4.1"
        with pytest.raises(HandlerError, match="conflict with existing route "
                                               "'0.0.0.0/0 18.26.4.1 1'"):
            handlers.write("e.add", "0.0.0.0/0 2")
        handlers.write("e.set", "0.0.0.0/0 2")
        assert handlers.read("e.lookup", "9.9.9.9") == "2"
        # A removal naming a gateway and an output must name the route's own.
        with pytest.raises(HandlerError, match="route '0.0.0.0/0 - 1' not found"):
            handlers.write("e.remove", "0.0.0.0/0 - 1")
        handlers.write("e.remove", "0.0.0.0/0 - 2")
        assert handlers.read("e.lookup", "9.9.9.9") == "-1"
        handlers.write("e.add", "18.26.4.24/32 2")
        handlers.write("e.remove", "18.26.4.24/32")
        with pytest.raises(HandlerError, match="output 3 out of range"):
            handlers.write("e.add", "1.0.0.0/8 3")
        assert handlers.read("e.table") == "18.26.4.0/24\t\t-\t\t0\n"
    finally:
        e.router.cleanup()


@pytest.mark.parametrize("cls", CHANGING)
def test_ctrl_changes_every_route_or_none(cls):
    e, _ = element(cls, "18.26.4.0/24 0", 2)
    handlers = e.router.handlers
    handlers.write("e.ctrl", "add 10.0.0.0/8 1\n\nset 18.26.4.0/24 1\n")
    assert handlers.read("e.table") == "18.26.4.0/24\t\t-\t\t1\n10.0.0.0/8\t\t-\t\t1\n"
    # The third line fails: the first two are undone.
    with pytest.raises(HandlerError, match="route '11.0.0.0/8 - -1' not found"):
        handlers.write("e.ctrl", "remove 10.0.0.0/8\nadd 12.0.0.0/8 0\nremove 11.0.0.0/8")
    with pytest.raises(HandlerError, match="bad command 'move'"):
        handlers.write("e.ctrl", "add 13.0.0.0/8 0\nmove 12.0.0.0/8 0")
    assert handlers.read("e.table") == "18.26.4.0/24\t\t-\t\t1\n10.0.0.0/8\t\t-\t\t1\n"


@pytest.mark.parametrize("cls, has_flush", [
    ("RadixIPLookup", True), ("DirectIPLookup", True), ("LinearIPLookup", False)])
def test_flush_removes_every_route(cls, has_flush):
    e, (sink,) = element(cls, "18.26.4.0/24 0, 0.0.0.0/0 0", 1)
    handlers = e.router.handlers
    if not has_flush:
        with pytest.raises(HandlerError, match="No handler named 'e.flush'"):
            handlers.write("e.flush", "")
        return
    handlers.write("e.flush", "")
    assert handlers.read("e.table") == ""
    e.push(0, [with_destination("18.26.4.24")])
    assert sink.packets == []
    handlers.write("e.add", "0.0.0.0/0 0")
    e.push(0, [with_destination("18.26.4.24")])
    assert len(sink.packets) == 1


def test_a_static_table_has_no_handler_to_change_it():
    e, _ = element("StaticIPLookup", "18.26.4.0/24 0", 1)
    with pytest.raises(HandlerError, match="No handler named 'e.add'"):
        e.router.handlers.write("e.add", "10.0.0.0/8 0")


def test_the_lookup_handler_wants_an_address():
    e, _ = element("LinearIPLookup", "18.26.4.0/24 0", 1)
    e.router.initialize()
    try:
        with pytest.raises(HandlerError, match="expected IP address, not 'nowhere'"):
            e.router.handlers.read("e.lookup", "nowhere")
    finally:
        e.router.cleanup()


def test_lookups_agree_with_a_longest_prefix_search_on_random_tables():
    # Random routes and addresses drawn near them; the expected port is worked
    # out by checking every route, the longest prefix holding the address winning.
    import ipaddress
    import random

    draw = random.Random(7)
    for _ in range(20):
        routes = {}
        for _ in range(draw.randrange(1, 60)):
            prefix = draw.choice([0, 8, 12, 16, 20, 24, 28, 31, 32])
            net = ipaddress.IPv4Network((draw.getrandbits(32), prefix), strict=False)
            routes[net] = draw.randrange(3)
        e, _ = element("LinearIPLookup", ", ".join(f"{n} {p}" for n, p in routes.items()), 3)
        for net in list(routes)[:10]:
            for _ in range(5):
                address = ipaddress.IPv4Address(int(net.network_address)
                                                | draw.getrandbits(32 - net.prefixlen))
                holding = [n for n in routes if address in n]
                expected = routes[max(holding, key=lambda n: n.prefixlen)]
                found = e.lookup(address.packed)
                assert found is not None and found.port == expected


def test_a_routing_table_looks_up_many_routes_by_prefix():
    # 4,096 /24 routes and 16 /16 ones: the longest prefix in use wins.
    routes = [f"10.{i // 256}.{i % 256}.0/24 {i % 2}" for i in range(4096)]
    routes += [f"10.{i}.0.0/16 2" for i in range(16, 32)] + ["0.0.0.0/0 3"]
    e, (zero, one, two, three) = push(
        "RadixIPLookup", ", ".join(routes),
        [with_destination(a) for a in ("10.0.5.1", "10.15.255.9", "10.20.1.1", "11.0.0.1")],
        outputs=4)
    assert [len(zero), len(one), len(two), len(three)] == [0, 2, 1, 1]


# --- ICMPError ------------------------------------------------------------------------------

def test_icmperror_time_exceeded():
    original = ip_packet("10.0.0.1", "20.0.0.2", 17, udp(1000, 53, b"abcd"), ttl=1)
    e, (out,) = push("ICMPError", "18.26.4.24, timeexceeded", [marked(original)], outputs=1)
    (error,) = out
    icmp = struct.pack("!BBHI", 11, 0, 0, 0) + original
    icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
    assert error.data == ip_header("18.26.4.24", "10.0.0.1", 1, len(icmp), ttl=200, ident=1) + icmp
    assert error.dst_ip == bytes([10, 0, 0, 1]) and error.network_header_offset == 0
    assert error.anno_u8(19) == 1


def test_icmperror_needfrag_carries_the_pmtu_and_mtu_limits_the_quote():
    original = ip_packet("10.0.0.1", "20.0.0.2", 6, tcp(1, 2, payload=bytes(100)))
    e, (out,) = push("ICMPError", "1.1.1.1, unreachable, needfrag, PMTU 1400, MTU 60",
                     [marked(original)], outputs=1)
    data = out[0].data
    assert len(data) == 60 and data[20:22] == bytes([3, 4])
    assert struct.unpack("!I", data[24:28])[0] == 1400 and data[28:] == original[:32]
    assert checksum(data[20:]) == 0 and checksum(data[:20]) == 0


def test_icmperror_src_mtu_pmtu_handlers():
    e, (sink,) = element("ICMPError", "1.1.1.1, unreachable, needfrag")
    h = e.router.handlers
    assert (h.read("e.src"), h.read("e.mtu"), h.read("e.pmtu")) == ("1.1.1.1", "576", "0")
    h.write("e.src", "2.2.2.2")
    h.write("e.mtu", "60")
    h.write("e.pmtu", "1400")
    assert (h.read("e.src"), h.read("e.mtu"), h.read("e.pmtu")) == ("2.2.2.2", "60", "1400")
    original = ip_packet("10.0.0.1", "20.0.0.2", 6, tcp(1, 2, payload=bytes(100)))
    e.push(0, [marked(original)])
    data = sink.packets[0].data
    assert len(data) == 60 and data[12:16] == bytes([2, 2, 2, 2])
    assert struct.unpack("!I", data[24:28])[0] == 1400
    with pytest.raises(HandlerError):
        h.write("e.mtu", "20")


#: A strict source route through 5.5.5.5 and 6.6.6.6, next 7.7.7.7 (pointer 12),
#: after a no-operation and padded with an end of options.
_ROUTED = bytes([1, 137, 15, 12, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 0, 0, 0, 0])


def test_icmperror_sends_the_error_back_along_the_source_route():
    original = ip_packet("10.0.0.1", "20.0.0.2", 17, udp(1, 2), options=_ROUTED)
    e, (out,) = push("ICMPError", "1.1.1.1, timeexceeded", [marked(original)], outputs=1)
    data = out[0].data
    # The hops made, last first, the pointer on the first, then an end of options.
    route = bytes([137, 11, 4, 6, 6, 6, 6, 5, 5, 5, 5, 0])
    assert data[0] == 0x48 and data[20:32] == route and checksum(data[:32]) == 0
    assert struct.unpack("!H", data[2:4])[0] == len(data) == 32 + 8 + len(original)
    assert data[32] == 11 and data[40:] == original and checksum(data[32:]) == 0
    assert out[0].network_header_length == 32


def test_icmperror_quotes_less_to_fit_the_route_in_the_mtu():
    original = ip_packet("10.0.0.1", "20.0.0.2", 17, udp(1, 2, bytes(100)), options=_ROUTED)
    e, (out,) = push("ICMPError", "1.1.1.1, unreachable, MTU 80", [marked(original)], outputs=1)
    assert len(out[0].data) == 80 and out[0].data[40:] == original[:40]


def test_icmperror_source_route_exceptions():
    # No redirect for a source-routed packet.
    original = ip_packet("10.0.0.1", "20.0.0.2", 17, udp(1, 2), options=_ROUTED)
    e, (out,) = push("ICMPError", "1.1.1.1, redirect", [marked(original)], outputs=1)
    assert out == []
    # A parameter problem about the route (pointer 24: in the option at 21 to 35) leaves it
    # out; about another byte, keeps it.
    for pointer, header_length in ((24, 20), (8, 32)):
        packet = marked(original)
        packet.set_anno_u8(ANNOTATIONS["ICMP_PARAMPROB"][0], pointer)
        e, (out,) = push("ICMPError", "1.1.1.1, parameterproblem", [packet], outputs=1)
        assert out[0].network_header_length == header_length
        assert out[0].data[header_length + 4] == pointer
    # A pointer not on an address makes the option no source route.
    bad = bytearray(_ROUTED)
    bad[3] = 13
    original = ip_packet("10.0.0.1", "20.0.0.2", 17, udp(1, 2), options=bytes(bad))
    e, (out,) = push("ICMPError", "1.1.1.1, timeexceeded", [marked(original)], outputs=1)
    assert out[0].network_header_length == 20


@pytest.mark.parametrize("frame, packet_type", [
    (ip_packet("10.0.0.1", "20.0.0.2", 1, bytes([3, 1, 0, 0, 0, 0, 0, 0])), HOST),
    (ip_packet("10.0.0.1", "255.255.255.255", 17, udp(1, 2)), HOST),
    (ip_packet("10.0.0.1", "224.0.0.1", 17, udp(1, 2)), HOST),
    (ip_packet("0.0.0.1", "20.0.0.2", 17, udp(1, 2)), HOST),
    (ip_packet("127.0.0.1", "20.0.0.2", 17, udp(1, 2)), HOST),
    (ip_packet("10.0.0.1", "20.0.0.2", 17, udp(1, 2), frag=0x0001), HOST),
    (ip_packet("10.0.0.1", "20.0.0.2", 17, udp(1, 2)), BROADCAST),
    (ip_packet("10.0.0.9", "20.0.0.2", 17, udp(1, 2)), HOST),
])
def test_icmperror_never_answers(frame, packet_type):
    packet = marked(frame)
    packet.packet_type = packet_type
    e, (out,) = push("ICMPError", "1.1.1.1, 3, 1, BADADDRS 10.0.0.9", [packet], outputs=1)
    assert out == []


def test_icmperror_redirect_gateway_and_errors():
    packet = marked(ip_packet("10.0.0.1", "20.0.0.2", 17, udp(1, 2)))
    packet.dst_ip = bytes([10, 0, 0, 254])
    e, (out,) = push("ICMPError", "1.1.1.1, redirect, host", [packet], outputs=1)
    assert out[0].data[20:22] == bytes([5, 1]) and out[0].data[24:28] == bytes([10, 0, 0, 254])
    err = config_error_of(element, "ICMPError", "1.1.1.1, redirect, port")
    assert "CODE: expected ICMP code (0-255 or net, host, tosnet, toshost), got 'port'" \
        in str(err)
    err = config_error_of(element, "ICMPError", "1.1.1.1, bogus")
    assert "TYPE: expected ICMP type (0-255 or a name: echo-reply, unreachable" in str(err)
    # Echo is an ICMP type, not an error type, by name or by number.
    for config in ("1.1.1.1, echo", "1.1.1.1, 8"):
        err = config_error_of(element, "ICMPError", config)
        assert "TYPE: ICMP type 8 is not an error type" in str(err)
    err = config_error_of(element, "ICMPError", "1.1.1.1, 3, USE_FIX_ANNO true, SET_FIX_ANNO true")
    assert "give at most one of USE_FIX_ANNO and SET_FIX_ANNO" in str(err)


@pytest.mark.parametrize("config, code, fix_ip_src", [
    ("unreachable, filterprohibited", 13, 1),
    ("unreachable, precedencecutoff, SET_FIX_ANNO false", 15, 0),
    ("redirect, tosnet, USE_FIX_ANNO false", 2, 0),
    ("parameterproblem, length", 2, 1),
])
def test_icmperror_takes_every_code_name_and_both_fix_anno_keywords(config, code, fix_ip_src):
    original = ip_packet("10.0.0.1", "20.0.0.2", 17, udp(1000, 53))
    e, (out,) = push("ICMPError", f"18.26.4.24, {config}", [marked(original)], outputs=1)
    assert out[0].data[21] == code and out[0].anno_u8(19) == fix_ip_src


def test_decipttl_to_icmperror_one_liner(capsys):
    frame = ip_packet("10.0.0.1", "20.0.0.2", 17, udp(1, 2), ttl=1)
    config = (f"InfiniteSource({click_hex(frame)}, LIMIT 3, STOP true) -> CheckIPHeader "
              "-> dt :: DecIPTTL -> Discard; dt[1] -> ICMPError(18.26.4.24, timeexceeded) "
              "-> i :: IPClassifier(icmp type timeexceeded and dst host 10.0.0.1) "
              "-> n :: Counter -> Discard")
    assert main(["-e", config, "-h", "n.count", "-h", "dt.drops"]) == 0
    assert capsys.readouterr().out == "n.count:\n3\n\ndt.drops:\n3\n\n"


# --- ARPResponder ------------------------------------------------------------------------------

def arp(op: int, sender_ether: str, sender_ip: str, target_ether: str, target_ip: str) -> bytes:
    def mac(text):
        return bytes(int(x, 16) for x in text.split(":"))
    body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + mac(sender_ether) + \
        bytes(int(x) for x in sender_ip.split(".")) + mac(target_ether) + \
        bytes(int(x) for x in target_ip.split("."))
    dst = "ff:ff:ff:ff:ff:ff" if op == 1 else target_ether
    return ether(dst, sender_ether, 0x0806, body)


RESPONDER = "18.26.4.24 18.26.7.0/24 00-00-C0-AE-67-EF, 18.26.7.9 00:00:00:00:00:99"


def test_arpresponder_answers_what_it_knows():
    asker = "00:00:00:00:00:01"
    request = arp(1, asker, "18.26.4.1", "00:00:00:00:00:00", "18.26.7.5")
    e, (out, other) = push("ARPResponder", RESPONDER, [request])
    assert other == []
    assert out[0].data == arp(2, "00:00:c0:ae:67:ef", "18.26.7.5", asker, "18.26.4.1")
    # 18.26.7.9/32 is more specific than 18.26.7.0/24.
    request = arp(1, asker, "18.26.4.1", "00:00:00:00:00:00", "18.26.7.9")
    e, (out, other) = push("ARPResponder", RESPONDER, [request])
    assert out[0].data[6:12] == bytes.fromhex("000000000099")


def named_router(info: str, *declarations: tuple[str, str, str]):
    """A router of ``declarations`` with an AddressInfo(``info``) declared last."""
    return configured_router(list(declarations) + [("names", "AddressInfo", info)],
                             at=LANDMARK, simtime=True)


def test_arpresponder_reads_names_written_in_capitals():
    # Names look like keywords (MY_ADDR 00:...): as in Click, the arguments are read whole.
    router = named_router("MY_ADDR 18.26.4.24 00:00:00:00:00:99, LAN 18.26.7.0/24",
                          ("e", "ARPResponder", "MY_ADDR, LAN:ipnet 00:00:00:00:00:10"))
    assert router.handlers.read("e.table") == ("18.26.4.24/32 00-00-00-00-00-99\n"
                                               "18.26.7.0/24 00-00-00-00-00-10\n")


def test_arpresponder_handlers_read_names():
    router = named_router("HOST 10.1.0.5/16 00:00:00:00:00:05",
                          ("e", "ARPResponder", "10.9.9.9 00:00:00:00:00:09"))
    handlers = router.handlers
    router.initialize()
    try:
        handlers.write("e.add", "HOST:ipnet HOST:eth")
        assert handlers.read("e.table") == ("10.9.9.9/32 00-00-00-00-00-09\n"
                                            "10.1.0.0/16 00-00-00-00-00-05\n")
        assert handlers.read("e.lookup", "HOST") == "00-00-00-00-00-05"
        handlers.write("e.remove", "HOST:ipnet")
        assert handlers.read("e.table") == "10.9.9.9/32 00-00-00-00-00-09\n"
    finally:
        router.cleanup()


def test_arpresponder_warns_of_two_entries_for_one_network(caplog):
    with caplog.at_level(logging.WARNING):
        e, _ = element("ARPResponder", "10.0.0.1 00:00:00:00:00:01, "
                                       "10.0.0.0/8 10.0.0.1/32 00:00:00:00:00:02", 1)
    assert caplog.text.count("multiple entries for 10.0.0.1/32") == 1
    # The later entry stays.
    assert e.router.handlers.read("e.table") == ("10.0.0.1/32 00-00-00-00-00-02\n"
                                                 "10.0.0.0/8 00-00-00-00-00-02\n")


def test_arpresponder_reply_is_a_new_packet_without_timestamp():
    request = Packet(arp(1, "00:00:00:00:00:01", "18.26.4.1", "00:00:00:00:00:00", "18.26.4.24"))
    request.timestamp, request.vlan_tci = 7.5, 3
    _, (out, _) = push("ARPResponder", RESPONDER, [request])
    assert (out[0].timestamp, out[0].vlan_tci) == (0.0, 3)


def test_arpquerier_reports_only_its_bad_ethernet_address():
    err = config_error_of(named_router, "ME 18.26.4.24",
                          ("e", "ARPQuerier", "ME, no-such-device0"))
    assert str(err).splitlines() == [
        "ip.click:3: While configuring 'e :: ARPQuerier': ETH: expected Ethernet address "
        "(e.g. 00:11:22:33:44:55), got 'no-such-device0'"]


def test_arpresponder_passes_the_rest_on_output_1():
    asker = "00:00:00:00:00:01"
    frames = [arp(1, asker, "18.26.4.1", "00:00:00:00:00:00", "18.26.8.5"),
              arp(2, asker, "18.26.4.1", "00:00:00:00:00:02", "18.26.4.24"), UDP]
    e, (out, other) = push("ARPResponder", RESPONDER, frames)
    assert out == [] and [p.data for p in other] == frames


def test_arpresponder_handlers():
    e, _ = element("ARPResponder", RESPONDER, 1)
    handlers = e.router.handlers
    e.router.initialize()
    try:
        # 18.26.7.9 lies in 18.26.7.0/24, so it comes first (as in Click).
        assert handlers.read("e.table") == ("18.26.4.24/32 00-00-C0-AE-67-EF\n"
                                            "18.26.7.9/32 00-00-00-00-00-99\n"
                                            "18.26.7.0/24 00-00-C0-AE-67-EF\n")
        assert handlers.read("e.lookup", "18.26.7.200") == "00-00-C0-AE-67-EF"
        handlers.write("e.add", "10.0.0.0/8 00:00:00:00:00:10")
        handlers.write("e.remove", "18.26.7.0/24")
        assert handlers.read("e.lookup", "10.1.1.1") == "00-00-00-00-00-10"
        assert handlers.read("e.lookup", "18.26.7.200") == ""
    finally:
        e.router.cleanup()
    err = config_error_of(element, "ARPResponder", "18.26.4.24, 1.2.3.4/40 00:00:00:00:00:01")
    prefix = "ip.click:3: While configuring 'e :: ARPResponder': "
    assert str(err).splitlines() == [
        prefix + "argument 1: expected 'IP/MASK [IP/MASK...] ETH'",
        prefix + "argument 2: bad IP address or network '1.2.3.4/40'"]


# --- ARPQuerier ------------------------------------------------------------------------------

QUERIER = "18.26.4.24/24, 00:00:c0:ae:67:ef"
MY_MAC = "00:00:c0:ae:67:ef"


def to(address: str, payload: bytes = UDP) -> Packet:
    packet = Packet(payload)
    packet.dst_ip = bytes(int(x) for x in address.split("."))
    return packet


def test_arpquerier_queries_then_sends_what_waited(monkeypatch):
    e, (out, queries) = element("ARPQuerier", QUERIER, 2)
    e.push(0, [to("18.26.4.9"), to("18.26.4.9")])
    # One query (at most 10 a second for an address), two packets waiting.
    assert [q.data for q in queries.packets] == [
        arp(1, MY_MAC, "18.26.4.24", "00:00:00:00:00:00", "18.26.4.9")]
    assert out.packets == [] and e.router.handlers.read("e.length") == "2"
    e.push(1, [Packet(arp(2, "00:00:00:00:00:09", "18.26.4.9", MY_MAC, "18.26.4.24"))])
    assert [p.data for p in out.packets] == [ether("00:00:00:00:00:09", MY_MAC, 0x0800, UDP)] * 2
    e.push(0, [to("18.26.4.9")])
    assert len(out.packets) == 3 and len(queries.packets) == 1
    handlers = e.router.handlers
    assert handlers.read("e.table") == "18.26.4.9 1 00-00-00-00-00-09 0.000000\n"
    assert (handlers.read("e.queries"), handlers.read("e.responses")) == ("1", "1")
    # Ages count whole milliseconds, as Click's jiffies do.
    learned = e.router.now()
    monkeypatch.setattr(e.router, "now", lambda: learned + 2.5007)
    assert handlers.read("e.table") == "18.26.4.9 1 00-00-00-00-00-09 2.500000\n"
    # Past TIMEOUT (5 minutes) the entry is no longer used: a new query goes out.
    monkeypatch.setattr(e.router, "now", lambda: 301.0)
    e.push(0, [to("18.26.4.9")])
    assert len(out.packets) == 3 and len(queries.packets) == 2
    # The packet waiting keeps the entry just short of expiring: exactly
    # TIMEOUT old; a moment later it is past it.
    assert handlers.read("e.table") == "18.26.4.9 1 00-00-00-00-00-09 300.000000\n"
    monkeypatch.setattr(e.router, "now", lambda: 301.5)
    assert handlers.read("e.table") == "18.26.4.9 0 00-00-00-00-00-09 300.500000\n"


def test_arpquerier_query_carries_the_timestamp_and_vlan_of_its_cause():
    e, (out, queries) = element("ARPQuerier", QUERIER, 2)
    cause = to("18.26.4.9")
    cause.timestamp, cause.vlan_tci = 12.25, 5
    e.push(0, [cause])
    (query,) = queries.packets
    assert (query.timestamp, query.vlan_tci) == (12.25, 5)


def test_arpquerier_broadcast_multicast_and_zero():
    e, (out, queries) = element("ARPQuerier", QUERIER, 2)
    e.push(0, [to("255.255.255.255"), to("18.26.4.255"), to("224.129.2.3"), to("0.0.0.0")])
    assert [p.data[:6] for p in out.packets] == [b"\xff" * 6, b"\xff" * 6,
                                                 bytes.fromhex("01005e010203")]
    assert queries.packets == [] and e.router.handlers.read("e.drops") == "1"
    assert e.router.handlers.read("e.broadcast") == "18.26.4.255"


def test_arpquerier_renewal_poll_and_one_output(monkeypatch):
    e, (out,) = element("ARPQuerier", QUERIER + ", POLL_TIMEOUT 10s", 1)
    e.router.handlers.write("e.insert", "18.26.4.9 00:00:00:00:00:09")
    monkeypatch.setattr(e.router, "now", lambda: 11.0)
    e.push(0, [to("18.26.4.9")])
    # A unicast renewal query, then the packet, both on output 0.
    query = arp(1, MY_MAC, "18.26.4.24", "00:00:00:00:00:00", "18.26.4.9")
    assert [p.data for p in out.packets] == [
        ether("00:00:00:00:00:09", MY_MAC, 0x0806, query[14:]),
        ether("00:00:00:00:00:09", MY_MAC, 0x0800, UDP)]


def test_arpquerier_slows_its_queries_after_ten_unanswered(monkeypatch):
    e, (out, queries) = element("ARPQuerier", QUERIER, 2)
    sent = []
    for step in range(20):
        monkeypatch.setattr(e.router, "now", lambda: step * 0.25)
        e.push(0, [to("18.26.4.9")])
        sent.append(len(queries.packets))
    # One query every quarter second up to the tenth (at 2.25 s), then the
    # next 2 seconds after it.
    assert sent == list(range(1, 11)) + [10] * 7 + [11, 11, 11]


def test_arpquerier_renews_at_once_after_a_reply(monkeypatch):
    e, (out, queries) = element("ARPQuerier", QUERIER + ", POLL_TIMEOUT 0.05s", 2)
    e.push(0, [to("18.26.4.9")])
    e.push(1, [Packet(arp(2, "00:00:00:00:00:09", "18.26.4.9", MY_MAC, "18.26.4.24"))])
    # Past POLL_TIMEOUT, though less than 0.1 s after the first query: the
    # reply allowed a renewal query.
    monkeypatch.setattr(e.router, "now", lambda: 0.0625)
    e.push(0, [to("18.26.4.9")])
    assert [q.data[:6] for q in queries.packets] == [b"\xff" * 6, bytes.fromhex("000000000009")]
    assert len(out.packets) == 2


def test_arpquerier_sends_packets_before_the_query_that_follows_them():
    e, (out,) = element("ARPQuerier", QUERIER, 1)
    e.router.handlers.write("e.insert", "18.26.4.9 00:00:00:00:00:09")
    e.push(0, [to("18.26.4.9"), to("18.26.4.255"), to("18.26.4.7"), to("18.26.4.9")])
    # One output: packet, broadcast packet, the query for 18.26.4.7, packet.
    assert [(p.data[:6], p.data[12:14]) for p in out.packets] == [
        (bytes.fromhex("000000000009"), b"\x08\x00"), (b"\xff" * 6, b"\x08\x00"),
        (b"\xff" * 6, b"\x08\x06"), (bytes.fromhex("000000000009"), b"\x08\x00")]


def test_arpquerier_capacities_and_table_writes():
    e, (out, queries) = element("ARPQuerier", QUERIER + ", ENTRY_PACKET_CAPACITY 1", 2)
    e.push(0, [to("18.26.4.9"), to("18.26.4.9")])
    handlers = e.router.handlers
    # The second packet finds its queue full: dropped from the table, not by
    # the querier itself (drops), though stats counts it.
    assert (handlers.read("e.length"), handlers.read("e.drops")) == ("1", "0")
    assert handlers.read("e.stats") == "1 packets killed\n1 ARP queries sent\n"
    assert handlers.read("e.count") == "1"
    assert handlers.read("e.table") == "18.26.4.9 0 FF-FF-FF-FF-FF-FF 0.000000\n"
    # delete only forgets the address: the entry and its packet stay.
    handlers.write("e.insert", "18.26.4.7 00:00:00:00:00:07")
    handlers.write("e.delete", "18.26.4.7")
    assert (handlers.read("e.length"), handlers.read("e.count")) == ("1", "2")
    handlers.write("e.insert", "18.26.4.8 00:00:00:00:00:08")
    assert handlers.read("e.table") == ("18.26.4.9 0 FF-FF-FF-FF-FF-FF 0.000000\n"
                                        "18.26.4.7 0 FF-FF-FF-FF-FF-FF 0.000000\n"
                                        "18.26.4.8 1 00-00-00-00-00-08 0.000000\n")
    # clear drops the waiting packet and zeroes the querier's own counts.
    handlers.write("e.clear", "")
    assert (handlers.read("e.count"), handlers.read("e.length")) == ("0", "0")
    assert handlers.read("e.stats") == "2 packets killed\n0 ARP queries sent\n"


def test_arpquerier_broadcast_handler():
    e, _ = element("ARPQuerier", "18.26.4.24, 00:00:c0:ae:67:ef", 1)
    assert e.router.handlers.read("e.broadcast") == "255.255.255.255"
    e.router.handlers.write("e.broadcast", "18.26.4.127")
    assert e.router.handlers.read("e.broadcast") == "18.26.4.127"
    # A /31's upper address is its own prefix's broadcast address: none then.
    for address, broadcast in (("18.26.4.24/31", "18.26.4.25"),
                               ("18.26.4.25/31", "255.255.255.255"),
                               ("18.26.4.24/32", "255.255.255.255")):
        e, _ = element("ARPQuerier", f"{address}, 00:00:c0:ae:67:ef", 1)
        assert e.router.handlers.read("e.broadcast") == broadcast


def test_arpquerier_counts_every_response_and_ignores_unusable_ones():
    e, (out, queries) = element("ARPQuerier", QUERIER, 2)
    request = arp(1, "00:00:00:00:00:09", "18.26.4.9", MY_MAC, "18.26.4.24")
    group = arp(2, "01:00:00:00:00:09", "18.26.4.9", MY_MAC, "18.26.4.24")
    e.push(1, [Packet(request), Packet(group), Packet(request[:41])])
    handlers = e.router.handlers
    assert (handlers.read("e.responses"), handlers.read("e.drops")) == ("2", "0")
    assert handlers.read("e.count") == "0"


# --- IPFragmenter -----------------------------------------------------------------------------

def test_ipfragmenter_splits_into_fragments_of_the_mtu():
    payload = bytes(range(256)) * 5 + bytes(120)  # 1400 bytes
    original = ip_packet("1.0.0.1", "2.0.0.2", 17, udp(1, 2, payload), ident=77)
    packet = Packet(original)
    packet.paint = 3
    e, (out, refused) = push("IPFragmenter", "576", [packet])
    assert refused == [] and len(out) == 3
    transport = original[20:]
    # 1408 bytes after the header: 552 + 552 + 304, offsets 0, 69 and 138 (units of 8).
    expected = [(552, 0, 0x2000), (552, 69, 0x2000), (304, 138, 0)]
    start = 0
    for fragment, (length, offset, more) in zip(out, expected):
        data = fragment.data
        assert data == ip_header("1.0.0.1", "2.0.0.2", 17, length, ident=77,
                                 frag=offset | more) + transport[start:start + length]
        assert fragment.paint == 3 and fragment.network_header_offset == 0
        start += length
    assert e.router.handlers.read("e.fragments") == "3"
    # The fragments after the first get HEADROOM bytes in front (Click's 28 by default).
    assert [f.headroom for f in out[1:]] == [28, 28]
    e, (out, _) = push("IPFragmenter", "576, HEADROOM 64", [Packet(original)])
    assert [f.headroom for f in out[1:]] == [64, 64]


def test_ipfragmenter_df_small_packets_and_options():
    small = ip_packet("1.0.0.1", "2.0.0.2", 17, udp(1, 2, bytes(100)))
    df = ip_packet("1.0.0.1", "2.0.0.2", 17, udp(1, 2, bytes(100)), frag=0x4000)
    e, (out, refused) = push("IPFragmenter", "100", [small, df])
    assert [p.data for p in refused] == [df] and len(out) == 2  # small: 128 > 100: split
    assert e.router.handlers.read("e.drops") == "1"
    e, (out, refused) = push("IPFragmenter", "128", [small])
    assert [p.data for p in out] == [small]
    e, (out, refused) = push("IPFragmenter", "100, HONOR_DF false", [df])
    assert refused == [] and len(out) == 2 and not out[0].data[6] & 0x40
    # A copied option (0x83, loose source route, 8 bytes with padding) goes to every
    # fragment; a non-copied one (0x07, record route) only to the first.
    options = bytes([0x83, 7, 4, 1, 2, 3, 4, 0, 0x07, 3, 4, 0])
    original = ip_packet("1.0.0.1", "2.0.0.2", 17, bytes(64), options=options)
    e, (out, _) = push("IPFragmenter", "64", [original])
    assert out[0].data[20:32] == options
    assert [p.data[0] for p in out[1:]] == [0x47] * (len(out) - 1)
    assert out[1].data[20:28] == bytes([0x83, 7, 4, 1, 2, 3, 4, 0])
    assert all(checksum(p.data[:(p.data[0] & 15) * 4]) == 0 for p in out)
    assert b"".join(p.data[(p.data[0] & 15) * 4:] for p in out) == bytes(64)


def test_ipfragmenter_first_fragment_keeps_what_lies_before_its_header():
    # As in Click, the first fragment is the packet cut short: the Ethernet header
    # stripped before it is still there to restore; the others are new packets.
    original = ip_packet("1.0.0.1", "2.0.0.2", 17, udp(1, 2, bytes(100)))
    frame = ether(OTHER, ME, 0x0800, original)
    packet = Packet(frame)
    packet.pull(14)
    packet.set_network_header(0, 20)
    e, (out, _) = push("IPFragmenter", "60", [packet])
    # 108 bytes after the header, 40 in each fragment: 40 + 40 + 28.
    assert [len(p) for p in out] == [60, 60, 48]
    assert out[0].push(14).data[:14] == frame[:14]
    assert out[1].push(14).data[:14] == bytes(14)


# --- IPReassembler -----------------------------------------------------------------------------

def fragments_of(original: bytes, mtu: int) -> list[Packet]:
    e, (out, _) = push("IPFragmenter", str(mtu), [Packet(original)])
    return out


def test_ipreassembler_restores_the_datagram_in_any_order():
    original = ip_packet("1.0.0.1", "2.0.0.2", 17, udp(1, 2, bytes(range(200)) * 6), ident=5)
    pieces = fragments_of(original, 300)
    assert len(pieces) == 5
    plain = Packet(UDP)
    e, (out, incomplete) = push("IPReassembler", "MAX_MTU_ANNO 28",
                                [pieces[3], plain, pieces[0], pieces[4], pieces[2], pieces[1]])
    assert out[0] is plain
    assert [p.data for p in out[1:]] == [original] and incomplete == []
    assert out[1].anno_u16(28) == 300  # 20 + 280 data bytes in each full fragment
    assert e.router.handlers.read("e.held") == "0" and e.memory == 0


def test_ipreassembler_dump_and_bad_fragments():
    original = ip_packet("1.0.0.1", "2.0.0.2", 17, udp(1, 2, bytes(range(200)) * 6), ident=5)
    # 1208 bytes after the header, 280 a fragment: 0-280, 280-560, 560-840, ...
    pieces = fragments_of(original, 300)
    short = Packet(pieces[1].data[:-10])
    other = ip_packet("1.0.0.1", "2.0.0.2", 17, udp(3, 4, bytes(600)), ident=0x0203)
    batch = [pieces[2], short, pieces[0], fragments_of(other, 300)[1]]
    e, (out,) = push("IPReassembler", "", batch, outputs=1)
    assert out == []
    # The one with IP ID 0x0203 comes after: the table is ordered by the ID's high byte.
    assert e.router.handlers.read("e.dump") == (
        "frags seen total:    4\n"
        "good reassemblies:   0\n"
        "failed reassemblies: 0\n"
        "bad fragments seen:  1\n"
        "cached chunk data:\n"
        " (1.0.0.1, 1, 2.0.0.2, 2) 5 (0,280) (560,840)\n"
        " (1.0.0.1, 0, 2.0.0.2, 0) 515 (280,560)\n")
    e.push(0, pieces[1:2] + pieces[3:])
    assert e.router.handlers.read("e.dump").splitlines()[:2] == [
        "frags seen total:    7", "good reassemblies:   1"]


def test_ipreassembler_keeps_the_mac_header_of_the_first_fragment():
    original = ip_packet("1.0.0.1", "2.0.0.2", 17, udp(1, 2, bytes(100)))
    pieces = fragments_of(original, 60)
    first = Packet(ether(OTHER, ME, 0x0800, pieces[0].data))
    first.set_network_header(14, 20)
    e, (out,) = push("IPReassembler", "", [first] + pieces[1:], outputs=1)
    assert [p.data for p in out] == [ether(OTHER, ME, 0x0800, original)]
    assert out[0].network_header_offset == 14


def test_ipreassembler_dates_the_datagram_by_the_fragment_that_completed_it():
    original = ip_packet("1.0.0.1", "2.0.0.2", 17, udp(1, 2, bytes(100)))
    pieces = fragments_of(original, 60)
    for seconds, piece in enumerate(pieces, start=10):
        piece.timestamp = float(seconds)
    e, (out,) = push("IPReassembler", "", [pieces[1], pieces[0]] + pieces[2:], outputs=1)
    assert [p.data for p in out] == [original]
    assert out[0].timestamp == 9.0 + len(pieces)


def test_ipreassembler_gives_up_past_himem_onto_output_1():
    datagrams = [ip_packet("1.0.0.1", "2.0.0.2", 17, udp(1, 2, bytes(1000)), ident=i)
                 for i in range(3)]
    # The first fragment of each (536 data bytes) only: 3 x (536 + 64) > 1024.
    firsts = [fragments_of(d, 556)[0] for d in datagrams]
    e, (out, given_up) = push("IPReassembler", "HIMEM 1024", firsts)
    assert out == [] and len(given_up) == 2
    assert given_up[0].data[:20] == ip_header("1.0.0.1", "2.0.0.2", 17, 536, ident=0)
    assert given_up[0].data[20:] == datagrams[0][20:556]
    assert e.router.handlers.read("e.held") == "1"


def test_fragment_reassemble_one_liner(capsys):
    config = ("InfiniteSource(LENGTH 1400, LIMIT 3, STOP true) -> UDPIPEncap(1.0.0.1, 1, 2.0.0.2, 2) "
              "-> f :: IPFragmenter(576) -> a :: Counter -> IPReassembler -> c :: CheckIPHeader "
              "-> b :: Counter -> Discard")
    assert main(["-e", config, "-h", "a.count", "-h", "b.count", "-h", "b.byte_count"]) == 0
    assert capsys.readouterr().out == "a.count:\n9\n\nb.count:\n3\n\nb.byte_count:\n4284\n\n"


def test_ipreassembler_expires_incomplete_datagrams_after_30_seconds(capsys):
    original = ip_packet("1.0.0.1", "2.0.0.2", 17, udp(1, 2, bytes(100)))
    first = fragments_of(original, 60)[0]
    config = (f"InfiniteSource({click_hex(first.data)}, LIMIT 1) -> r :: IPReassembler "
              "-> Discard; r[1] -> c :: Counter -> Discard; "
              "Script(wait 29s, read c.count, read r.held, wait 7s, stop)")
    assert main(["--simtime", "-e", config, "-h", "c.count", "-h", "r.held"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "c.count:\n1\n\nr.held:\n0\n\n"
    assert "c.count:\n0" in captured.err and "r.held:\n1" in captured.err
