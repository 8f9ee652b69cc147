"""FromIPSummaryDump and the readers of the IP summary dump fields."""

from __future__ import annotations

import logging
import struct

import pytest

from pyclick.element import Element
from pyclick.elements.inet import checksum
from pyclick.elements.ipsumreaders import parse_ip_options, parse_tcp_options
from pyclick.errors import Landmark
from pyclick.packet import ANNOTATIONS, Packet
from pyclick.router import Router
from tests.helpers import config_error_of, configured_router

LANDMARK = Landmark("<test>", 3)
_EXTRA_PACKETS = ANNOTATIONS["EXTRA_PACKETS"][0]


class FromIPSumTestSink(Element):
    """FromIPSumTestSink() -- remembers every packet it receives and when"""

    port_count = "1/0"

    def initialize(self) -> None:
        self.packets: list[Packet] = []
        self.times: list[float] = []

    def push(self, port: int, batch: list[Packet]) -> None:
        self.packets.extend(batch)
        self.times.extend(self.router.now() for _ in batch)


def build(source: str, *middle: tuple[str, str, str]) -> Router:
    elements = [("f", "FromIPSummaryDump", source), *middle, ("k", "FromIPSumTestSink", "")]
    conns = [(a[0], 0, b[0], 0) for a, b in zip(elements, elements[1:])]
    return configured_router(elements, conns, at=LANDMARK, simtime=True)


def read_dump(tmp_path, text: str | bytes, more: str = "", *middle: tuple[str, str, str]
              ) -> tuple[Router, list[Packet]]:
    path = tmp_path / "in.ipsum"
    if isinstance(text, str):
        path.write_text(text, encoding="latin-1")
    else:
        path.write_bytes(text)
    router = build(f"{path}, STOP true{more}", *middle)
    router.run(handle_signals=False)
    return router, router.element("k").packets


def ip(proto: int, length: int, src: str = "1.0.0.1", dst: str = "2.0.0.2", *, ttl: int = 100,
       ident: int = 0, tos: int = 0, off: int = 0, hl: int = 5) -> bytes:
    """An IPv4 header as FromIPSummaryDump makes it, its checksum 0."""
    return struct.pack("!BBHHHBBH4s4s", 0x40 | hl, tos, length, ident, off, ttl, proto, 0,
                       bytes(int(x) for x in src.split(".")),
                       bytes(int(x) for x in dst.split(".")))


def test_tcp_line(tmp_path):
    _, packets = read_dump(tmp_path, "!IPSummaryDump 1.3\n"
                                     "!data ip_src ip_dst sport dport ip_proto tcp_seq tcp_flags\n"
                                     "1.0.0.1 2.0.0.2 1234 80 T 1000 S\n")
    # A 20-byte IP header (TTL 100, length 40 as the packet has no other),
    # then a 20-byte TCP header: ports, sequence number, offset 5, SYN.
    tcp = struct.pack("!HHIIBBHHH", 1234, 80, 1000, 0, 0x50, 0x02, 0, 0, 0)
    assert [p.data for p in packets] == [ip(6, 40) + tcp]
    packet = packets[0]
    assert packet.network_header_offset == 0 and packet.network_header_length == 20
    assert packet.dst_ip == bytes((2, 0, 0, 2))
    assert packet.extra_length == 0


def test_lengths_checksums_and_payload(tmp_path):
    text = "!data ip_src ip_dst ip_proto ip_len sport dport\n1.0.0.1 2.0.0.2 U 100 53 53\n"
    _, packets = read_dump(tmp_path, text)
    # UDP: 20 + 8 bytes held; the IP length 100 says 72 more (extra length);
    # the UDP length, 0, becomes 100 - 20.
    assert packets[0].data == ip(17, 100) + struct.pack("!HHHH", 53, 53, 80, 0)
    assert packets[0].extra_length == 72
    # CHECKSUM: the packet holds its whole IP length (zeros after the
    # headers), and each checksum sums to 0 with its header (and, for UDP,
    # the pseudo-header: addresses, protocol, UDP length).
    _, packets = read_dump(tmp_path, text, ", CHECKSUM true")
    data = packets[0].data
    assert len(data) == 100 and data[28:] == bytes(72) and packets[0].extra_length == 0
    assert checksum(data[:20]) == 0
    assert checksum(data[12:20] + struct.pack("!HH", 17, 80) + data[20:]) == 0
    # A payload fills the IP length: it follows the headers.
    text = ('!data ip_proto ip_len payload\n'
            'U 31 "ab\\001"\n')
    _, packets = read_dump(tmp_path, text)
    assert packets[0].data == (ip(17, 31, "0.0.0.0", "0.0.0.0") + bytes((0, 0, 0, 0, 0, 11, 0, 0))
                               + b"ab\x01")
    # When the IP length says more than the headers and payload, Click takes
    # the rest for header options (up to 40 bytes of IP options here), moving
    # on what follows the IP header after the payload was placed: the
    # payload ends up among the options, the UDP header after them.
    _, packets = read_dump(tmp_path, text.replace("31", "100"))
    data = packets[0].data
    assert data[0] == 0x4F and len(data) == 60 + 8 and data[28:31] == b"ab\x01"
    assert data[60:] == bytes((0, 0, 0, 0, 0, 40, 0, 0))


def test_icmp_fields_and_names(tmp_path):
    text = ("!data ip_proto icmp_type_name icmp_code icmp_flowid icmp_seq\n"
            "I echo 0 7 9\n"
            "I unreachable needfrag 7 9\n")
    _, packets = read_dump(tmp_path, text, ", PROTO 17")
    # Echo (8) carries the identifier and sequence number; an unreachable
    # (3, code 4 by name) has none: those fields are left out.
    assert [p.data for p in packets] == [
        ip(1, 28, "0.0.0.0", "0.0.0.0") + bytes((8, 0, 0, 0, 0, 7, 0, 9)),
        ip(1, 28, "0.0.0.0", "0.0.0.0") + bytes((3, 4, 0, 0, 0, 0, 0, 0))]


def test_missing_fields_comments_and_bad_lines(tmp_path, caplog):
    text = ("!IPSummaryDump 1.3\n"
            "# a comment\n"
            "!data ip_src ip_dst ip_ttl\n"
            "1.0.0.1 - 7\n"
            "nonsense words here\n"
            "\n"
            "1.0.0.2\n"
            "also bad\n")
    with caplog.at_level(logging.ERROR):
        _, packets = read_dump(tmp_path, text)
    # '-' and the missing ip_dst, ip_ttl are left out (TTL stays 100); the
    # lines where no field reads are skipped, the first one reported (line 5).
    assert [p.data for p in packets] == [ip(6, 40, dst="0.0.0.0", ttl=7) + _tcp20(),
                                         ip(6, 40, "1.0.0.2", "0.0.0.0") + _tcp20()]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "in.ipsum:5: packet parse error" in errors[0]


def _tcp20() -> bytes:
    """A TCP header of zeros but its offset (5 words)."""
    return bytes(12) + b"\x50" + bytes(7)


def test_proto_and_flowid_lines(tmp_path):
    text = ("!data ip_src\n"
            "1.0.0.1\n"
            "!proto U\n"
            "1.0.0.2\n"
            "!flowid 9.9.9.9 1 8.8.8.8 2 I\n"
            "1.0.0.3\n")
    _, packets = read_dump(tmp_path, text)
    # PROTO 6 first, then UDP (its length 8); after '!flowid', ICMP (its
    # addresses and ports are not used, as in Click).
    assert [p.data for p in packets] == [
        ip(6, 40, dst="0.0.0.0") + _tcp20(),
        ip(17, 28, "1.0.0.2", "0.0.0.0") + bytes((0, 0, 0, 0, 0, 8, 0, 0)),
        ip(1, 28, "1.0.0.3", "0.0.0.0") + bytes(8)]


def test_timestamps_annotations_and_wire_length(tmp_path):
    text = ("!data timestamp first_timestamp count direction aggregate wire_len ip_src\n"
            "5.25 4.5 3 < 77 1000 1.0.0.1\n")
    _, packets = read_dump(tmp_path, text)
    packet = packets[0]
    # Simulated time is the epoch's: 5.25 s; the wire length 1000 is 960
    # more than the 40 bytes made, and also the IP length.
    assert packet.timestamp == 5.25 and packet.first_timestamp == 4.5
    assert packet.anno_u32(_EXTRA_PACKETS) == 2 and packet.paint == 1
    assert packet.aggregate == 77 and packet.extra_length == 960
    assert packet.data[2:4] == (1000).to_bytes(2, "big")


def test_timestamp_with_an_empty_part(tmp_path):
    # Either side of the point may be left out; a lone point is no time, so
    # that packet's timestamp stays unset.
    text = "!data timestamp ip_src\n.25 1.0.0.1\n7. 1.0.0.2\n. 1.0.0.3\n"
    _, packets = read_dump(tmp_path, text)
    assert [p.timestamp for p in packets] == [0.25, 7.0, 0.0]


def test_multipacket(tmp_path):
    text = ("!data timestamp first_timestamp count ip_src ip_proto payload_len\n"
            "2 1 3 1.0.0.1 U 92\n")
    _, packets = read_dump(tmp_path, text, ", MULTIPACKET true")
    # 28 + 92 = 120 bytes for 3 packets: 40 each, the timestamps 1, 1.5, 2;
    # each has IP length 40 (UDP 20) and extra length 40 - 28.
    assert [p.timestamp for p in packets] == [1.0, 1.5, 2.0]
    assert [(p.data[2:4], p.data[24:26], p.extra_length) for p in packets] == [
        ((40).to_bytes(2, "big"), (20).to_bytes(2, "big"), 12)] * 3
    assert all(p.anno_u32(_EXTRA_PACKETS) == 0 for p in packets)


def test_timing_keeps_gaps(tmp_path):
    text = "!data timestamp ip_src\n10 1.0.0.1\n10.5 1.0.0.2\n12 1.0.0.3\n"
    router, packets = read_dump(tmp_path, text, ", TIMING true")
    times = router.element("k").times
    assert [t - times[0] for t in times] == [0.0, 0.5, 2.0]


def test_pull_output(tmp_path):
    text = "!data ip_src\n1.0.0.1\n1.0.0.2\n"
    _, packets = read_dump(tmp_path, text, "", ("u", "Unqueue", ""))
    assert [p.data[12:16] for p in packets] == [bytes((1, 0, 0, 1)), bytes((1, 0, 0, 2))]


def test_ethernet_fields(tmp_path):
    text = "!data eth_src eth_dst eth_type ip_src\n0:1:2:3:4:5 6-7-8-9-a-b 0800 1.0.0.1\n"
    _, packets = read_dump(tmp_path, text)
    # The Ethernet header comes first, the IP header after it.
    assert packets[0].data[:14] == bytes((6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5, 8, 0))
    assert packets[0].mac_header_offset == 0 and packets[0].network_header_offset == 14
    # Another type is no IP packet: the Ethernet header alone.
    _, packets = read_dump(tmp_path, text.replace("0800", "0806"))
    assert len(packets[0].data) == 14


def test_version_1_0_fragment_offsets(tmp_path):
    head = "!data ip_src ip_fragoff\n1.0.0.1 160+\n"
    # Version 1.3: 160 bytes is 20 units of 8; 1.0: units already; '+' is MF.
    for banner, units in (("", 20), ("!IPSummaryDump 1.0\n", 160)):
        _, packets = read_dump(tmp_path, banner + head)
        assert packets[0].data[6:8] == (0x2000 | units).to_bytes(2, "big")


def test_binary_records(tmp_path):
    text = b"!IPSummaryDump 1.3\n!data ip_src sport ip_ttl\n!binary\n"
    record = bytes((1, 0, 0, 1)) + (99).to_bytes(2, "big") + bytes((5,))
    bad = b"!bad thing"
    # Each record: its length (4 + data), then the fields; the top bit marks text.
    data = (text + (4 + len(record)).to_bytes(4, "big") + record
            + (0x80000000 | 4 + len(bad)).to_bytes(4, "big") + bad)
    _, packets = read_dump(tmp_path, data)
    assert [p.data for p in packets] == [
        ip(6, 40, dst="0.0.0.0", ttl=5) + struct.pack("!H", 99) + bytes(10) + b"\x50" + bytes(7)]


def test_handlers(tmp_path):
    path = tmp_path / "in.ipsum"
    path.write_text("!data ip_src\n1.0.0.1\n")
    router = build(f"{path}, SAMPLE 0.5, ACTIVE false")
    router.initialize()
    read = router.handlers.read
    assert read("f.sampling_prob") == "0.5" and read("f.encap") == "IP"
    assert read("f.filesize") == "21" and read("f.filepos") == "0"
    assert read("f.active") == "false"
    router.handlers.write("f.active", "true")
    router.handlers.write("f.stop", "")
    # The stop takes effect before the task runs: nothing was emitted.
    router.run(handle_signals=False)
    assert read("f.active") == "false" and router.stop_reason == "f: stop handler written"
    assert router.element("k").packets == []


def test_sample_zero_and_data(tmp_path, caplog):
    router = build('DATA "!data ip_src\n1.0.0.1\n", SAMPLE 0, STOP true')
    with caplog.at_level(logging.WARNING):
        router.run(handle_signals=False)
    # Probability 0: nothing leaves, and a warning says so.
    assert router.element("k").packets == []
    assert any("SAMPLE probability is 0" in r.getMessage() for r in caplog.records)


def test_option_text():
    # rr: kind 7, length 3 + 4 + 4 (one address, one free slot), pointer 8
    # (after the address).
    assert parse_ip_options("rr{1.2.3.4}+1") == bytes((7, 11, 8, 1, 2, 3, 4, 0, 0, 0, 0))
    assert parse_ip_options("nop;98=1:2") == bytes((1, 98, 4, 1, 2))
    assert parse_ip_options(".") == b"" and parse_ip_options("rr{") is None
    # The timestamp option is preceded by two NOPs when it comes first.
    assert parse_tcp_options("mss1460;sackok;wscale7", "mwstop") == bytes(
        (2, 4, 0x05, 0xB4, 4, 2, 3, 3, 7))
    assert parse_tcp_options("ts1:2", "mwstop") == bytes((1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2))
    assert parse_tcp_options("sack1-2,sack3-4", "s") == bytes((5, 18)) + struct.pack(
        "!IIII", 1, 2, 3, 4)
    assert parse_tcp_options("mss1460", "s") is None


def test_errors(tmp_path):
    missing = tmp_path / "none.ipsum"
    router = build(f"{missing}, STOP true")
    message = str(config_error_of(router.initialize))
    assert "f :: FromIPSummaryDump" in message and "none.ipsum" in message
    # ALLOW_NONEXISTENT: nothing to emit, and the driver stops.
    router = build(f"{missing}, STOP true, ALLOW_NONEXISTENT true")
    router.run(handle_signals=False)
    assert router.element("k").packets == []
    empty = tmp_path / "empty.ipsum"
    empty.write_text("")
    assert "empty file" in str(config_error_of(build(f"{empty}").initialize))
    for config, words in ((f"{empty}, DATA x", "FILENAME and DATA conflict"),
                          ("STOP true", "FILENAME: required argument missing"),
                          (f"{empty}, PROTO 256", "PROTO"),
                          (f"{empty}, STOP maybe", "STOP"),
                          (f"{empty}, SAMPLE x", "SAMPLE")):
        assert words in str(config_error_of(build, config))


@pytest.mark.parametrize("config", ["CONTENTS ip_dst, FIELDS ip_src", "FIELDS ip_src, CONTENTS ip_dst",
                                    "CONTENTS ip_src, DEFAULT_CONTENTS ip_dst"])
def test_of_several_names_for_the_contents_the_one_click_reads_first_counts(tmp_path, config):
    # Click reads DEFAULT_CONTENTS, DEFAULT_FIELDS, CONTENTS, FIELDS in that
    # order and keeps the first given: the address lands in ip_dst.
    path = tmp_path / "in.sum"
    path.write_text("1.0.0.1\n")
    router = configured_router([("f", "FromIPSummaryDump", f"{path}, {config}")], at=LANDMARK)
    router.initialize()
    packet = router.element("f").pull(0)
    router.cleanup()
    assert packet.data[12:20] == bytes((0, 0, 0, 0, 1, 0, 0, 1))


def test_an_empty_data_is_none(tmp_path):
    # As in Click: beside a file it is no conflict, alone it leaves the file missing.
    path = tmp_path / "in.sum"
    path.write_text("1.0.0.1\n")
    configured_router([("f", "FromIPSummaryDump", f'{path}, FIELDS ip_src, DATA ""')],
                      at=LANDMARK)
    error = config_error_of(configured_router, [("f", "FromIPSummaryDump", 'DATA ""')],
                            at=LANDMARK)
    assert error.messages == ["<test>:3: While configuring 'f :: FromIPSummaryDump': "
                              "FILENAME: required argument missing"]
