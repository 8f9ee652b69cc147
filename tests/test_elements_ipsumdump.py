"""ToIPSummaryDump and the IP summary dump fields."""

from __future__ import annotations

import struct

import pytest

from pyclick.cli import main
from pyclick.elements.ipsumfields import find_field, md5_text
from pyclick.errors import Landmark
from pyclick.packet import ANNOTATIONS, Packet
from tests.helpers import config_error_of, configured_router

LANDMARK = Landmark("<test>", 3)
SRC, DST = bytes((10, 0, 0, 1)), bytes((10, 0, 0, 2))


def ip_header(proto: int, payload_length: int, *, ident: int = 0x1234, frag: int = 0,
              ttl: int = 64, tos: int = 0, total: int | None = None) -> bytes:
    length = 20 + payload_length if total is None else total
    return struct.pack("!BBHHHBBH4s4s", 0x45, tos, length, ident, frag, ttl, proto, 0, SRC, DST)


def ip_packet(proto: int, transport: bytes, **fields) -> Packet:
    packet = Packet(ip_header(proto, len(transport), **fields) + transport)
    packet.set_network_header(0, 20)
    return packet


def tcp_header(flags: int, options: bytes = b"", *, seq: int = 1000, ack: int = 0) -> bytes:
    offset = (20 + len(options)) // 4
    return struct.pack("!HHIIBBHHH", 1234, 80, seq, ack, offset << 4, flags, 8192, 0, 0) + options


MSS_1460 = bytes((2, 4, 0x05, 0xB4))
# MSS 1460, SACK permitted, timestamps 1 and 2, a NOP, window scale 7: 20 bytes.
MANY_OPTIONS = MSS_1460 + bytes((4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 3, 3, 7))


def summary(tmp_path, packets: list[Packet], config: str) -> str:
    """What ToIPSummaryDump(FILE, config) writes for ``packets`` pushed into it."""
    path = tmp_path / "dump.txt"
    router = configured_router([("t", "ToIPSummaryDump", f"{path}, {config}")],
                               at=LANDMARK, simtime=True)
    router.initialize()
    router.element("t").push(0, packets)
    router.cleanup()
    return path.read_text(encoding="latin-1")


def records(tmp_path, packets: list[Packet], fields: str, more: str = "") -> list[str]:
    return summary(tmp_path, packets, f"FIELDS {fields}, HEADER false{more}").splitlines()


def test_header_lines(tmp_path):
    text = summary(tmp_path, [], 'FIELDS src "tcp seq" ntimestamp, BANNER "a $b"')
    # Names become canonical ('src' is ip_src, 'tcp seq' tcp_seq); a nanosecond
    # timestamp is announced as a timestamp; the banner is quoted, '$' escaped.
    assert text == ('!IPSummaryDump 1.3\n!creator "a \\$b"\n'
                    "!data ip_src tcp_seq timestamp\n")
    assert summary(tmp_path, [], "HEADER false") == ""
    verbose = summary(tmp_path, [], "VERBOSE true").splitlines()
    assert verbose[0] == "!IPSummaryDump 1.3"
    assert verbose[1].startswith("!host ") and verbose[2].startswith("!runtime ")
    # The default fields.
    assert verbose[3] == "!data timestamp ip_src"


def test_tcp_syn_with_options(tmp_path):
    syn = ip_packet(6, tcp_header(0x02, MSS_1460), frag=0x4000)
    # IP length 20 + 24; DF set: ip_frag '!', ip_fragoff 0 with '!'; ID 0x1234
    # is 4660; TCP offset 24 bytes; flags S; no payload.
    fields = ("ip_src sport ip_dst dport ip_proto ip_len ip_frag ip_fragoff ip_ttl ip_id "
              "tcp_seq tcp_ack tcp_off tcp_flags tcp_window tcp_urp tcp_opt payload_len")
    assert records(tmp_path, [syn], fields) == [
        "10.0.0.1 1234 10.0.0.2 80 T 44 ! 0! 64 4660 1000 0 24 S 8192 0 mss1460 0"]
    many = ip_packet(6, tcp_header(0x12, MANY_OPTIONS))
    # tcp_ntopt leaves out the timestamp, tcp_sack keeps SACK options only.
    assert records(tmp_path, [many], "tcp_flags tcp_opt tcp_ntopt tcp_sack") == [
        "SA mss1460;sackok;ts1:2;wscale7 mss1460;sackok;wscale7 sackok"]
    # NOP NOP timestamp alone counts as no option for tcp_ntopt.
    stamp_only = ip_packet(6, tcp_header(0x10, bytes((1, 1, 8, 10)) + bytes(8)))
    assert records(tmp_path, [stamp_only], "tcp_opt tcp_ntopt") == ["ts0:0 ."]
    # A bad option length spoils the whole field.
    bad = ip_packet(6, tcp_header(0x18, bytes((2, 5, 0, 0))))
    assert records(tmp_path, [bad], "tcp_flags tcp_opt") == ["PA ?"]


def test_udp_datagram(tmp_path):
    datagram = ip_packet(17, struct.pack("!HHHH", 5353, 53, 12, 0) + b'ab"\n')
    # UDP length 8 + 4; the payload quoted with '"' and newline escaped; the
    # TCP and ICMP fields do not apply.
    assert records(tmp_path, [datagram],
                   "ip_proto sport dport udp_len payload_len payload tcp_seq icmp_type") == [
        'U 5353 53 12 4 "ab\\"\\n" - -']
    # MD5 of "ab\"\n", as hex and in Click's 22-character form.
    import hashlib
    digest = hashlib.md5(b'ab"\n').digest()
    assert records(tmp_path, [datagram], "payload_md5_hex payload_md5") == [
        f"{digest.hex()} {md5_text(digest)}"]


def test_md5_text_takes_six_bits_from_the_low_end():
    # Byte 0 = 1: the first character is index 1 ('b'); the rest are zero ('a').
    assert md5_text(b"\x01" + bytes(15)) == "b" + "a" * 21
    # Byte 0 = 0xC0: bits 6 and 7 are the low bits of the second character (3, 'd').
    assert md5_text(b"\xc0" + bytes(15)) == "ad" + "a" * 20


def test_icmp_echo_and_needfrag(tmp_path):
    echo = ip_packet(1, struct.pack("!BBHHH", 8, 0, 0, 0x0102, 3))
    fields = ("ip_proto icmp_type icmp_code icmp_type_name icmp_code_name icmp_flowid "
              "icmp_seq icmp_nextmtu sport")
    # Echo: identifier 0x0102 = 258, sequence 3; no next-hop MTU, no ports.
    assert records(tmp_path, [echo], fields) == ["I 8 0 echo 0 258 3 - -"]
    needfrag = ip_packet(1, struct.pack("!BBHHH", 3, 4, 0, 0, 1400))
    assert records(tmp_path, [needfrag], fields) == [
        "I 3 4 unreachable needfrag - - 1400 -"]


def test_fragments(tmp_path):
    # A first fragment (MF, offset 0) and a later one at 185 * 8 = 1480 bytes:
    # only the first has ports.
    first = ip_packet(17, struct.pack("!HHHH", 1, 2, 100, 0), frag=0x2000)
    later = ip_packet(17, b"later bytes", frag=0x2000 | 185)
    assert records(tmp_path, [first, later], "ip_frag ip_fragoff sport udp_len") == [
        "F 0+ 1 100", "f 1480+ - -"]


def test_truncated_packet_with_extra_length(tmp_path):
    def truncated(extra: int) -> Packet:
        # The IP length says 140 (40 bytes of headers, 100 of payload); 40 were kept.
        packet = Packet(ip_header(6, 0, total=140) + tcp_header(0x10))
        packet.set_network_header(0, 20)
        packet.extra_length = extra
        return packet
    packet = truncated(100)
    # Lengths come from the IP header: payload 140 - 40; 40 bytes captured.
    assert records(tmp_path, [packet], "ip_len payload_len ip_capture_len wire_len") == [
        "140 100 40 40"]
    # As in Click, the extra length annotation is used up.
    assert packet.extra_length == 0
    # 60 bytes short of the IP length: a '!bad' line before the record, with
    # BAD_PACKETS and CAREFUL_TRUNC, not without CAREFUL_TRUNC.
    assert records(tmp_path, [truncated(60)], "ip_len", ", BAD_PACKETS true") == [
        "!bad truncated IP missing 40", "140"]
    assert records(tmp_path, [truncated(60)], "ip_len",
                   ", BAD_PACKETS true, CAREFUL_TRUNC false") == ["140"]
    # Without a network header: the packet's length plus its extra length.
    bare = Packet(bytes(40))
    bare.extra_length = 100
    assert records(tmp_path, [bare], "ip_len ip_src", ", BAD_PACKETS true") == [
        "!bad no IP header", "140 -"]
    bare.extra_length = 100
    assert records(tmp_path, [bare], "ip_len", ", EXTRA_LENGTH false") == ["40"]


def test_annotations(tmp_path):
    packet = ip_packet(17, bytes(8))
    packet.timestamp = 12.5
    packet.first_timestamp = 10.000000250
    packet.paint = 1
    packet.aggregate = 973
    # Simulated time is its own date; a time that is not a whole
    # microsecond is written with nine decimals.
    assert records(tmp_path, [packet],
                   "timestamp ts_sec ts_usec ts_usec1 first_timestamp direction paint aggregate "
                   "count") == ["12.500000 12 500000 12500000 10.000000250 < 1 973 1"]


@pytest.mark.parametrize("when, line", [
    (-0.25, "-0.250000 4294967295 750000"),
    (-1.5, "-1.500000 4294967294 500000"),
    (-2.0, "-2.000000 4294967294 0"),
])
def test_times_before_the_epoch_keep_their_sign(tmp_path, when, line):
    # Seconds rounded down and the microseconds after them, as Click keeps a
    # time; the written time is the same number, its sign in front.
    packet = ip_packet(17, bytes(8))
    packet.timestamp = when
    assert records(tmp_path, [packet], "timestamp ts_sec ts_usec") == [line]


def test_ethernet_fields(tmp_path):
    frame = bytes(range(1, 13)) + b"\x08\x00" + ip_header(17, 0)
    packet = Packet(frame)
    packet.set_network_header(14, 20)
    # No MAC header annotation: the 14 bytes before the network header at the
    # start of the data make the Ethernet header.
    assert records(tmp_path, [packet], "eth_src eth_dst eth_type") == [
        "07-08-09-0A-0B-0C 01-02-03-04-05-06 0800"]
    stripped = ip_packet(17, b"")
    assert records(tmp_path, [stripped], "eth_src", ", BAD_PACKETS true") == [
        "!bad Ethernet header", "-"]


def test_multipacket_spreads_length_and_time(tmp_path):
    packet = Packet(bytes(40))
    packet.set_anno_u32(ANNOTATIONS["EXTRA_PACKETS"][0], 2)
    packet.extra_length = 100
    packet.first_timestamp = 10.0
    packet.timestamp = 12.0
    # Three packets share 140 bytes: 140 // 3 = 46, then 94 // 2 = 47, then
    # 47; their times step by (12 - 10) / 2 from the first timestamp.
    assert records(tmp_path, [packet], "timestamp ip_len", ", MULTIPACKET true") == [
        "10.000000 46", "11.000000 47", "12.000000 47"]
    assert packet.timestamp == 12.0
    # With the count field, one line that says 3 packets.
    again = Packet(bytes(40))
    again.set_anno_u32(ANNOTATIONS["EXTRA_PACKETS"][0], 2)
    assert records(tmp_path, [again], "count", ", MULTIPACKET true") == ["3"]


def test_binary_records(tmp_path):
    syn = ip_packet(6, tcp_header(0x02, MSS_1460))
    text = summary(tmp_path, [syn], "FIELDS ip_src sport ip_len tcp_opt, BINARY true")
    data = text.encode("latin-1")
    head = b"!IPSummaryDump 1.3\n!data ip_src sport ip_len tcp_opt\n!binary\n"
    assert data.startswith(head)
    # Length 4 + address 4 + port 2 + IP length 4 + options: as Click writes
    # them, counted twice (as they are, then up to an end of list), 2 * (1 + 4).
    assert data[len(head):] == (struct.pack("!I", 24) + SRC + struct.pack("!HI", 1234, 44)
                                + (b"\x04" + MSS_1460) * 2)


def test_field_names():
    assert find_field("src").name == "ip_src"
    assert find_field("tcp seq").name == "tcp_seq"
    assert find_field("ts").name == "timestamp"
    assert find_field("ip p").name == "ip_proto"
    assert find_field("bogus") is None


@pytest.mark.parametrize("config, message", [
    ("-, FIELDS ip_src bogus", "FIELDS: unknown field 'bogus'"),
    ("-, FIELDS payload, BINARY true", "field 'payload' has no binary form"),
    ("-, FIELDS", "FIELDS: no fields given"),
    ("-, HEADER maybe", "HEADER: expected boolean"),
    ("FIELDS ip_src", "FILENAME: missing mandatory argument"),
])
def test_argument_errors(config, message):
    error = config_error_of(configured_router, [("t", "ToIPSummaryDump", config)], at=LANDMARK)
    assert message in str(error)


def test_unwritable_file_is_a_config_error(tmp_path):
    router = configured_router([("t", "ToIPSummaryDump", f"{tmp_path}/no/such/dir")],
                               at=LANDMARK, simtime=True)
    error = config_error_of(router.initialize)
    assert "t :: ToIPSummaryDump" in str(error) and "No such file or directory" in str(error)


def test_pull_input_and_output(tmp_path, capsys):
    path = tmp_path / "pulled.txt"
    udp = ip_header(17, 8) + struct.pack("!HHHH", 7, 9, 8, 0)
    config = (f"InfiniteSource(\\<{udp.hex()}>, LIMIT 3) -> Queue -> MarkIPHeader "
              f"-> t :: ToIPSummaryDump({path}, FIELDS sport dport wire_len, HEADER false) "
              "-> c :: Counter -> Discard; DriverManager(wait 0.5s, stop)")
    assert main(["-e", config, "-h", "c.count"]) == 0
    assert capsys.readouterr().out == "3\n"
    assert path.read_text() == "7 9 28\n" * 3


def test_flush_handler(tmp_path):
    path = tmp_path / "flushed.txt"
    router = configured_router([("t", "ToIPSummaryDump", f"{path}, FIELDS ip_proto")],
                               at=LANDMARK, simtime=True)
    router.initialize()
    router.element("t").push(0, [ip_packet(1, bytes(8))])
    router.handlers.write("t.flush", "")
    assert path.read_text() == "!IPSummaryDump 1.3\n!data ip_proto\nI\n"
    router.cleanup()


@pytest.mark.parametrize("config", ["FIELDS ip_src, CONTENTS ip_dst", "CONTENTS ip_dst, FIELDS ip_src",
                                    "CONTENTS ip_src, DATA ip_dst", "DATA ip_dst, CONTENTS ip_src"])
def test_of_several_names_for_the_fields_the_one_click_reads_first_counts(tmp_path, config):
    # Click reads FIELDS, then CONTENTS, then DATA, and its Args keeps the first.
    packet = ip_packet(17, b"\x00" * 8)
    assert summary(tmp_path, [packet], f"HEADER false, {config}") == "10.0.0.1\n"
