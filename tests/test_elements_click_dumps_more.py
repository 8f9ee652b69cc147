"""Trace readers and markers from Click's analysis package: FromTcpdump,
FromNetFlowSummaryDump and StoreUDPTimeSeqRecord."""

from __future__ import annotations

import logging
import struct

import pytest

from pyclick.elements.inet import checksum
from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.packet import Packet
from pyclick.router import Router
from tests.sinks import KeepingTestSink  # noqa: F401  (the class the configurations name)


def run(config: str, *handlers: str) -> tuple[list[Packet], list[str]]:
    """Run a configuration whose sink is ``k`` to its end: the packets kept
    and the handlers read before cleanup."""
    router = Router(flatten(config, filename="t.click"), simtime=True)
    router.configure()
    values: list[str] = []
    router.run(handle_signals=False,
               before_cleanup=lambda: values.extend(router.handlers.read(h) for h in handlers))
    return router.element("k").packets, values


def configure_error(config: str) -> str:
    with pytest.raises(ConfigError) as caught:
        Router(flatten(config, filename="t.click"), simtime=True).configure()
    return str(caught.value)


def read_file(tmp_path, source: str, name: str, data: str | bytes, more: str = "",
              *handlers: str, extra: str = "") -> tuple[list[Packet], list[str]]:
    """Run ``f :: SOURCE(file, ...) -> k``, the file holding ``data``."""
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="latin-1")
    else:
        path.write_bytes(data)
    return run(f'f :: {source}("{path}"{more}) -> k :: KeepingTestSink; {extra}', *handlers)


def words(packet: Packet, start: int, count: int) -> tuple[int, ...]:
    return struct.unpack_from(f"!{count}I", packet.data, start)


# --- StoreUDPTimeSeqRecord

def udp_packet(payload: bytes = bytes(22), udp_sum: int = 0) -> bytes:
    """20-byte IPv4 header, 8-byte UDP header (checksum ``udp_sum``), payload."""
    ip = bytes.fromhex("45000032000000004011") + bytes(2) + bytes((1, 0, 0, 1, 2, 0, 0, 2))
    return ip + struct.pack("!HHHH", 5, 6, 8 + len(payload), udp_sum) + payload


def x86_sum(data: bytes) -> int:
    """The one's complement sum's complement over little-endian words."""
    total = sum(struct.unpack(f"<{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def test_store_udp_time_seq_record_numbers_and_dates_packets():
    data = udp_packet().hex()
    packets, values = run(
        f"InfiniteSource(DATA \\<{data}>, LIMIT 2, STOP true) -> s :: StoreUDPTimeSeqRecord(0)"
        " -> k :: KeepingTestSink", "s.count")
    assert values == ["2"]
    # Simulated time starts at 0: the dates are 0 seconds, 0 nanoseconds.
    assert [words(p, 28, 5) for p in packets] == [(1, 0, 0, 0, 0), (2, 0, 0, 0, 0)]
    # Old record 0, new record (n, 0, 0, 0, 0): the stored checksum, read
    # little-endian, gains x86_sum(new) less x86_sum(zeros) = ~n' - 0xFFFF.
    for n, packet in enumerate(packets, 1):
        record = struct.pack("!IIIII", n, 0, 0, 0, 0)
        total = (x86_sum(record) - x86_sum(bytes(20))) & 0xFFFFFFFF
        total = (total & 0xFFFF) + (total >> 16)
        assert packet.data[26:28] == (total & 0xFFFF).to_bytes(2, "little")
    assert packets[0].data[26:28] == bytes.fromhex("fffe")


def test_store_udp_time_seq_record_delta_writes_the_time_since_the_first_date():
    # First date 1 s 500000000 ns; the packet passes at simulated second 3.
    payload = struct.pack("!IIIII", 7, 1, 500_000_000, 0, 0) + bytes(2)
    data = udp_packet(payload, udp_sum=0x1234).hex()
    packets, values = run(
        f"i :: InfiniteSource(DATA \\<{data}>, LIMIT 1, ACTIVE false) "
        "-> s :: StoreUDPTimeSeqRecord(OFFSET 0, DELTA true) -> k :: KeepingTestSink;"
        "Script(wait 3, write i.active true, wait 1, stop)", "s.count")
    assert values == ["1"]
    (packet,) = packets
    assert words(packet, 28, 5) == (7, 1, 500_000_000, 1, 500_000_000)
    # Only the difference's sum is added to the stored checksum: 0x3412
    # (12 34 read little-endian) + ~(0x0100 + 0xcd1d + 0x0065) = 0x658f.
    assert packet.data[26:28] == bytes.fromhex("8f65")


def test_store_udp_time_seq_record_drops_what_it_cannot_mark():
    short = udp_packet(bytes(19)).hex()
    ip6_tcp = ("60000000001a0640" + "00" * 32 + "00" * 8 + "00" * 22)
    ip6_udp = ("60000000001e1140" + "00" * 32 + "00" * 8 + "00" * 22)
    version5 = "5" + udp_packet().hex()[1:]
    config = "".join(
        f"InfiniteSource(DATA \\<{d}>, LIMIT 1, STOP true) -> s;"
        for d in (short, ip6_tcp, ip6_udp, version5))
    packets, values = run(f"s :: StoreUDPTimeSeqRecord(0) -> k :: KeepingTestSink; {config}",
                          "s.count")
    # Only the IPv6 UDP packet is marked: its record starts after 40 + 8 bytes.
    assert values == ["1"]
    assert [len(p) for p in packets] == [70]
    assert words(packets[0], 48, 1) == (1,)


def test_store_udp_time_seq_record_offset_and_reset():
    data = ("00" * 14) + udp_packet().hex()
    packets, values = run(
        "s :: StoreUDPTimeSeqRecord(14) -> k :: KeepingTestSink;"
        f"InfiniteSource(DATA \\<{data}>, LIMIT 2) -> s;"
        f"i :: InfiniteSource(DATA \\<{data}>, LIMIT 1, ACTIVE false) -> s;"
        "Script(wait 1, write s.reset, write i.active true, wait 1, stop)", "s.count")
    assert [words(p, 42, 1)[0] for p in packets] == [1, 2, 1]
    assert values == ["1"]


def test_store_udp_time_seq_record_arguments():
    for config, keyword in (("", "OFFSET"), ("0, DELTA maybe", "DELTA"), ("-1", "OFFSET")):
        message = configure_error(f"Idle -> StoreUDPTimeSeqRecord({config}) -> Discard")
        assert "StoreUDPTimeSeqRecord" in message and keyword in message


# --- FromNetFlowSummaryDump

FLOWS = ("# flows\n"
         "!note\n"
         "1.0.0.1|2.0.0.2|x|3|4|2|100|1000|1002|10|20|y|18|6|0|z\n"
         "1.0.0.1|2.0.0.2|x|3|300|1|90|1000|0|10|20|y|0|17|16|z\n"
         "5.0.0.5|6.0.0.6|x|3|4|1|50|1000|1002|10|20|y|0|47|0\n")


def netflow(tmp_path, text: str, more: str = "", *handlers: str
            ) -> tuple[list[Packet], list[str]]:
    return read_file(tmp_path, "FromNetFlowSummaryDump", "flows.txt", text,
                     ", STOP true" + more, *handlers)


def test_netflow_records_become_packets(tmp_path):
    packets, values = netflow(tmp_path, FLOWS, "", "f.encap", "f.filepos", "f.filesize")
    tcp, udp, other = packets
    assert tcp.data == bytes.fromhex("45000064 00000000 00060000 01000001 02000002"
                                     "000a0014 00000000 00000000 50120000 00000000")
    assert (tcp.timestamp, tcp.first_timestamp, tcp.anno_u32(24), tcp.extra_length,
            tcp.paint) == (1002.0, 1000.0, 1, 60, 3)
    # UDP: 8-byte header, length 90 - 20; a last date of 0 is the first date.
    assert udp.data == bytes.fromhex("4510005a 00000000 00110000 01000001 02000002"
                                     "000a0014 00460000")
    assert (udp.timestamp, udp.anno_u32(24), udp.extra_length) == (1000.0, 0, 62)
    # 15 fields exactly: the TOS holds the line's end and is not read; the
    # other 11 readings are enough.
    assert other.data == bytes.fromhex("45000032 00000000 002f0000 05000005 06000006")
    assert values == ["IP", str(len(FLOWS)), str(len(FLOWS))]


def test_netflow_multipacket_spreads_a_flow(tmp_path):
    packets, _ = netflow(tmp_path, FLOWS.splitlines(keepends=True)[2], ", MULTIPACKET true")
    assert [(len(p), p.data[2:4], p.extra_length, p.timestamp, p.anno_u32(24))
            for p in packets] == [(40, b"\x00\x32", 10, 1000.0, 0),
                                  (40, b"\x00\x32", 10, 1002.0, 0)]


def test_netflow_link_sets_the_paint(tmp_path):
    line = FLOWS.splitlines(keepends=True)[3]
    assert [netflow(tmp_path, line, f", LINK {link}")[0][0].paint
            for link in ("input", "OUTPUT", "both")] == [3, 255, 0x3F]


def test_netflow_bad_line_ends_the_file(tmp_path, caplog):
    text = FLOWS[:-1] + "\n\n" + FLOWS
    with caplog.at_level(logging.ERROR):
        packets, _ = netflow(tmp_path, text)
    # The blank line 6 is bad: what follows is not read.
    assert len(packets) == 3
    assert "flows.txt:6: bad format" in caplog.text
    assert "FromNetFlowSummaryDump" in caplog.text


def test_netflow_arguments_and_handlers():
    message = configure_error("FromNetFlowSummaryDump(x, LINK sideways) -> Discard")
    assert "FromNetFlowSummaryDump" in message and "LINK" in message
    message = configure_error("FromNetFlowSummaryDump(x, SAMPLE 0.5) -> Discard")
    assert "SAMPLE" in message
    assert "FILENAME" in configure_error("FromNetFlowSummaryDump -> Discard")
    from pyclick.elements.fromnetflowsumdump import FromNetFlowSummaryDump
    assert sorted(FromNetFlowSummaryDump.read_handlers) == \
        ["active", "encap", "filename", "filepos", "filesize"]
    assert sorted(FromNetFlowSummaryDump.write_handlers) == ["active"]


# --- FromTcpdump

TCPDUMP = (
    "1000.000001 10.0.0.1.1234 > 10.0.0.2.80: S 100:100(0) win 8192 "
    "<mss 1460,nop,wscale 2,sackOK,timestamp 5 0> (DF) (ttl 64, id 7, len 60)\n"
    "1000.000002 10.0.0.2.80 > 10.0.0.1.1234: S 500:500(0) ack 101 win 5792 "
    "<mss 1460,sackOK,timestamp 9 5,nop,wscale 0> (DF)\n"
    "# comment\n"
    "1000.000003 10.0.0.1.1234 > 10.0.0.2.80: P 1:101(100) ack 1 win 2920 (DF) [tos 0x10]\n"
    "garbage\n"
    "1000.000004 10.0.0.2.80 > 10.0.0.1.1234: . ack 201 win 5792 "
    "<nop,nop,sack sack 1 {201:301} > (ttl 50, id 9, len 64)\n"
    "1000.000006 10.0.0.3.53 > 10.0.0.4.1025: udp 30 (ttl 9, id 3)\n"
    "1000.000007 10.0.0.3 > 10.0.0.4: icmp: echo request (frag 44:60@8+) [tos 0x2,ECT(0)]\n")


def tcpdump(tmp_path, text: str, more: str = "", *handlers: str
            ) -> tuple[list[Packet], list[str]]:
    return read_file(tmp_path, "FromTcpdump", "trace.txt", text, ", STOP true" + more, *handlers)


def test_tcpdump_lines_become_packets(tmp_path, caplog):
    with caplog.at_level(logging.ERROR):
        packets, values = tcpdump(tmp_path, TCPDUMP, "", "f.sampling_prob", "f.encap")
    assert values == ["1", "IP"]
    assert "trace.txt:5: packet parse error" in caplog.text
    syn, synack, data, sack, udp, icmp = packets
    assert syn.data == bytes.fromhex(
        "4500003c 00074000 40060000 0a000001 0a000002 04d20050 00000064 00000000 a0022000"
        "00000000 020405b4 01030302 0402080a 00000005 00000000")
    assert (syn.timestamp, syn.extra_length) == (1000.000001, 0)
    assert synack.data[20:] == bytes.fromhex(
        "005004d2 000001f4 00000065 a01216a0 00000000"
        "020405b4 0402080a 00000009 00000005 01030300")
    # Relative numbers made absolute: 1 + 100 and 1 + 500; 100 data bytes.
    assert data.data == bytes.fromhex("4510008c 00004000 02060000 0a000001 0a000002"
                                      "04d20050 00000065 000001f5 50180b68 00000000")
    assert data.extra_length == 100
    # A pure ACK takes the sequence number after the SYN's (501); the SACK
    # block is made absolute (+100); 'len 64' adds 12 more option bytes.
    assert len(sack) == 64 and sack.data[2:4] == b"\x00\x40"
    assert sack.data[20:52] == bytes.fromhex(
        "005004d2 000001f5 0000012d b01016a0 00000000 0101050a 0000012d 00000191")
    assert sack.data[52:] == bytes(12)
    assert udp.data == bytes.fromhex("4500003a 00030000 09110000 0a000003 0a000004"
                                     "00350401 00260000")
    assert udp.extra_length == 30
    assert icmp.data == bytes.fromhex("45010050 002c2008 02010000 0a000003 0a000004")


def test_tcpdump_checksums(tmp_path):
    packets, _ = tcpdump(tmp_path, TCPDUMP, ", CHECKSUM true")
    for packet in packets:
        assert checksum(packet.data[:20]) == 0
    for packet in packets[:5]:
        proto = packet.data[9]
        pseudo = packet.data[12:20] + bytes((0, proto)) + struct.pack("!H", len(packet) - 20)
        assert checksum(pseudo + packet.data[20:]) == 0


def test_tcpdump_warns_of_a_file_that_does_not_look_like_one(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        packets, _ = tcpdump(tmp_path, "hello\n" + TCPDUMP)
    assert len(packets) == 6
    assert "first line suspicious" in caplog.text and "trace.txt" in caplog.text


def test_tcpdump_arguments(tmp_path):
    for config, keyword in (("", "FILENAME"), ("x, SAMPLE -1", "SAMPLE"),
                            ("x, CHECKSUM maybe", "CHECKSUM"), ("x, TIMING true", "TIMING")):
        message = configure_error(f"FromTcpdump({config}) -> Discard")
        assert "FromTcpdump" in message and keyword in message
    router = Router(flatten(f'FromTcpdump("{tmp_path}/missing.txt") -> Discard',
                            filename="t.click"), simtime=True)
    router.configure()
    with pytest.raises(ConfigError, match="FromTcpdump.*cannot read .*missing.txt"):
        router.initialize()


# --- FromNLANRDump

def ip_header(last: int, hl: int = 5, version: int = 4) -> bytes:
    """A 20-byte IPv4 header to 2.0.0.``last`` (TCP, length 40), then 16 zero bytes."""
    return bytes((version << 4 | hl, 0)) + bytes.fromhex("002800010000400600000100 0001") \
        + bytes((2, 0, 0, last)) + bytes(16)


def tsh(seconds: int, usec: int, link: int, header: bytes) -> bytes:
    return struct.pack("!II", seconds, link << 24 | usec) + header


TRACE = (tsh(1000, 500_000, 3, ip_header(1)) + tsh(1001, 1, 4, ip_header(2, hl=6))
         + tsh(1002, 2, 5, ip_header(3, version=6)) + tsh(1003, 999_999, 0, ip_header(4))
         + tsh(1004, 7, 0, ip_header(5)))


def nlanr(tmp_path, data: bytes, more: str = "", *handlers: str, name: str = "trace.tsh",
          extra: str = "") -> tuple[list[Packet], list[str]]:
    return read_file(tmp_path, "FromNLANRDump", name, data, more, *handlers, extra=extra)


def test_nlanr_tsh_records_become_ip_packets(tmp_path):
    packets, values = nlanr(
        tmp_path, TRACE, ", STOP true", "f.encap", "f.filepos", "f.packet_filepos", "o.count",
        extra="f[1] -> o :: Counter -> Discard")
    # Records 2 (IP options) and 3 (IPv6) leave by output 1.
    assert [p.data for p in packets] == [TRACE[8:44], TRACE[140:176], TRACE[184:220]]
    assert [p.timestamp for p in packets] == [1000.5, 1003.999999, 1004.000007]
    assert [p.paint for p in packets] == [3, 0, 0]
    assert [p.dst_ip for p in packets] == [bytes((2, 0, 0, n)) for n in (1, 4, 5)]
    assert values == ["IP", "220", "220", "2"]


def test_nlanr_formats(tmp_path, caplog):
    # FR+ keeps the whole microsecond word: without link bits the dates are the same.
    plain = b"".join(TRACE[i:i + 4] + bytes(1) + TRACE[i + 5:i + 44] for i in range(0, 220, 44))
    packets, _ = nlanr(tmp_path, plain, ", FORMAT fr+, STOP true", name="trace.fr+")
    assert [p.timestamp for p in packets] == [1000.5, 1003.999999, 1004.000007]
    assert [p.paint for p in packets] == [0, 0, 0]
    # A name ending in '.fr+' is not recognized: a warning, and TSH (the link
    # bits of record 1 are the paint then).
    with caplog.at_level(logging.WARNING):
        packets, _ = nlanr(tmp_path, TRACE, ", STOP true", name="trace.fr+")
    assert "cannot guess file format from filename, assuming 'tsh'" in caplog.text
    assert [p.paint for p in packets] == [3, 0, 0]
    # FR records give no packets.
    fr = b"".join(TRACE[i:i + 24] for i in range(0, 220, 44))
    assert nlanr(tmp_path, fr, ", STOP true", name="trace.fr")[0] == []


def test_nlanr_times_and_end_call(tmp_path):
    # START skips the first record; INTERVAL 3.4 ends at 1004.0: the last
    # record then waits, the element inactive. The first packet is not the
    # file's first record: as in Click, the file goes back to its record
    # once it is read ahead, and it is emitted twice.
    packets, values = nlanr(tmp_path, TRACE, ", START 1000.6, INTERVAL 3.4", "f.active",
                            extra="Script(wait 1, stop)")
    assert [p.timestamp for p in packets] == [1003.999999, 1003.999999]
    assert values == ["false"]
    # Extending the interval makes it active again and emits the rest.
    packets, values = nlanr(tmp_path, TRACE, ", END_AFTER 2.5", "f.active",
                            extra="Script(wait 1, write f.extend_interval 2, wait 1, stop)")
    assert [p.timestamp for p in packets] == [1000.5, 1003.999999, 1004.000007]
    assert values == ["false"]
    # FILEPOS changes nothing.
    packets, _ = nlanr(tmp_path, TRACE, ", START 1003, STOP true, FILEPOS 44")
    assert [p.timestamp for p in packets] == [1003.999999, 1003.999999, 1004.000007]


def test_nlanr_truncated_record_ends_the_file(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        packets, _ = nlanr(tmp_path, TRACE + TRACE[:30], ", STOP true")
    assert len(packets) == 3
    assert "trace.tsh: truncated record at byte 220" in caplog.text


def test_nlanr_arguments():
    for config, keyword in (("x.tsh, FORMAT xx", "FORMAT"),
                            ("x.tsh, START 1, START_AFTER 2", "START_AFTER"),
                            ("x.tsh, END 1, INTERVAL 2", "INTERVAL"),
                            ("x.tsh, STOP true, END_CALL f.active false", "END_CALL"),
                            ("x.tsh, ZERO true", "ZERO")):
        message = configure_error(f"f :: FromNLANRDump({config}) -> Discard")
        assert "FromNLANRDump" in message and keyword in message


# --- FromDAGDump

def erf(seconds: int, fraction: int, kind: int, body: bytes, wire: int) -> bytes:
    return struct.pack("<Q", seconds << 32 | fraction) + bytes((kind, 0)) \
        + struct.pack("!HHH", 16 + len(body), 0, wire) + body


IPV4 = bytes.fromhex("45000028000100004006000001000001")
ETHER_IP = bytes.fromhex("0a0000000001 0a0000000002 0800") + IPV4 + bytes((2, 0, 0, 1)) + bytes(20)
ETHER_ARP = bytes.fromhex("ffffffffffff 0a0000000002 0806") + bytes(28)
HDLC_IP = bytes.fromhex("0f000800") + IPV4 + bytes((2, 0, 0, 2)) + bytes(20)
ATM_IP = bytes(4) + bytes.fromhex("aaaa030000000800") + IPV4 + bytes((2, 0, 0, 3)) + bytes(20)
ERF = (erf(1000, 0x80000000, 2, bytes(2) + ETHER_IP, len(ETHER_IP) + 14)
       + erf(1001, 0x40000000, 2, bytes(2) + ETHER_ARP, 64)
       + erf(1002, 1, 1, HDLC_IP, len(HDLC_IP) + 100)
       + erf(1003, 0xFFFFFFFF, 3, ATM_IP, 0))


def dag(tmp_path, data: bytes, more: str = "", *handlers: str, extra: str = ""
        ) -> tuple[list[Packet], list[str]]:
    return read_file(tmp_path, "FromDAGDump", "trace.erf", data, more, *handlers, extra=extra)


def test_dag_records_become_packets(tmp_path):
    packets, values = dag(tmp_path, ERF, ", STOP true", "f.encap", "f.filepos")
    assert [p.data for p in packets] == [ETHER_IP, ETHER_ARP, HDLC_IP, ATM_IP]
    # 2^31 / 2^32 s is 0.5 s; 1 / 2^32 s rounds to 0; 0xFFFFFFFF / 2^32 s to the next second.
    assert [p.timestamp for p in packets] == [1000.5, 1001.25, 1002.0, 1004.0]
    # Ethernet's wire length counts the CRC; the ATM record gives none.
    assert [p.extra_length for p in packets] == [10, 64 - 4 - 42, 100, 0]
    assert values == ["SUNATM", str(len(ERF))]


def test_dag_force_ip(tmp_path):
    packets, values = dag(tmp_path, ERF, ", STOP true, FORCE_IP true", "o.count",
                          extra="f[1] -> o :: Counter -> Discard")
    assert [p.dst_ip for p in packets] == [bytes((2, 0, 0, n)) for n in (1, 2, 3)]
    assert [p.network_header_offset for p in packets] == [14, 4, 12]
    assert values == ["1"]


def test_dag_old_style_cells(tmp_path, caplog):
    cell = struct.pack("<Q", 1005 << 32) + bytes.fromhex("aaaa030000000800") \
        + IPV4 + bytes((2, 0, 0, 9)) + bytes(28)
    with caplog.at_level(logging.WARNING):
        packets, _ = dag(tmp_path, cell * 2, ", STOP true")
    # Type 0xaa: the cells are read as ATM, the packet the 48 bytes after the header.
    assert [p.data for p in packets] == [cell[16:]] * 2
    assert "odd type 170" in caplog.text
    # ENCAP IP: the packet starts 8 bytes into the header; it holds no IP
    # header there.
    packets, values = dag(tmp_path, cell * 2, ", STOP true, ENCAP IP", "f.encap")
    assert [p.data for p in packets] == [cell[8:]] * 2
    assert values == ["IP"]
    packets, _ = dag(tmp_path, cell * 2, ", STOP true, ENCAP IP, FORCE_IP true")
    assert packets == []
    # Type 0: an ATM cell, no warning; its LLC/SNAP header leads to the IP header.
    atm = struct.pack("<Q", 1006 << 32) + bytes(8) + bytes.fromhex("aaaa030000000800") \
        + IPV4 + bytes((2, 0, 0, 8)) + bytes(20)
    packets, values = dag(tmp_path, atm, ", STOP true, FORCE_IP true", "f.encap")
    assert [(p.network_header_offset, p.dst_ip) for p in packets] == [(8, bytes((2, 0, 0, 8)))]
    assert values == ["ATM"]


def test_dag_truncated_record_and_arguments(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        packets, _ = dag(tmp_path, ERF + ERF[:20], ", STOP true")
    assert len(packets) == 4
    assert f"trace.erf: truncated record at byte {len(ERF)}" in caplog.text
    for config, keyword in (("x, ENCAP ip", "ENCAP"), ("x, ENCAP FDDI", "ENCAP"),
                            ("x, START 1, START_AFTER 2", "START"),
                            ("x, FORMAT tsh", "FORMAT")):
        message = configure_error(f"f :: FromDAGDump({config}) -> Discard")
        assert "FromDAGDump" in message and keyword in message
    router = Router(flatten(f'FromDAGDump("{tmp_path}/trace.erf", FORCE_IP true, TIMING true)'
                            " -> Discard", filename="t.click"), simtime=True)
    router.configure()
    with pytest.raises(ConfigError, match="FORCE_IP and TIMING options are incompatible"):
        router.initialize()


# --- ToIPFlowDumps

FLOW_LINES = (
    "1000.000001 10.0.0.1.1234 > 10.0.0.2.80: S 100:100(0) win 8192 "
    "<mss 1460,nop,wscale 2,sackOK,timestamp 5 0> (DF) (ttl 64, id 7, len 60)\n"
    "1000.000002 10.0.0.2.80 > 10.0.0.1.1234: S 500:500(0) ack 101 win 5792 "
    "<mss 1460,sackOK,timestamp 9 5,nop,wscale 0> (DF)\n"
    "1000.000004 10.0.0.1.1234 > 10.0.0.2.80: P 1:101(100) ack 1 win 2920 (DF) (id 300)\n"
    "1000.500004 10.0.0.2.80 > 10.0.0.1.1234: . 1:1(0) ack 101 win 5792 "
    "<nop,nop,sack sack 1 {201:301} > (ttl 50, id 9, len 64)\n"
    "1000.600006 10.0.0.3.53 > 10.0.0.4.1025: udp 30 (ttl 9, id 3)\n"
    "1000.700006 10.0.0.4.1025 > 10.0.0.3.53: udp 10 (ttl 9, id 3)\n"
    "1001.000007 10.0.0.1.1234 > 10.0.0.2.80: F 101:101(0) ack 1 win 2920 "
    "<nop,nop,timestamp 7 9> (DF)\n")


def flow_dumps(tmp_path, more: str = "", *handlers: str, extra: str = "") -> list[str]:
    trace = tmp_path / "trace.txt"
    trace.write_text(FLOW_LINES, encoding="latin-1")
    run(f'FromTcpdump("{trace}", STOP true) -> a :: AggregateIPFlows '
        f'-> t :: ToIPFlowDumps("{tmp_path}/out/f%n-%p.txt"{more}) -> k :: KeepingTestSink; '
        f'{extra}', *handlers)
    return sorted(path.name for path in (tmp_path / "out").iterdir())


BANNER = ("!IPSummaryDump 1.3\n!flowid 10.0.0.1 1234 10.0.0.2 80 T\n!aggregate 1\n"
          "!data ntimestamp direction {}tcp_flags tcp_seq payload_len tcp_ack tcp_{}\n")


def test_flow_dumps_write_a_file_per_flow(tmp_path):
    assert flow_dumps(tmp_path, ", TCP_OPT true, IP_ID true, TCP_WINDOW true") == \
        ["f1-T.txt", "f2-U.txt"]
    # Times from 1 ns before the first packet; numbers from each way's first;
    # IP IDs read little-endian (7 -> 1792, 300 -> 11265); the kept options.
    assert (tmp_path / "out/f1-T.txt").read_text() == BANNER.format("ip_id ", "ntopt") + (
        "!firstseq > 100\n!firstseq < 500\n!firsttime 1000.000000999\n"
        "0.000000001 > 1792 S 0 0 0 8192 mss1460;wscale2;sackok\n"
        "0.000001001 < 0 SA 0 0 1 5792 mss1460;sackok;wscale0\n"
        "0.000003001 > 11265 PA 1 100 1 2920\n"
        "0.500003001 < 2304 A 1 0 101 5792 sack201-301\n"
        "1.000006001 > 0 FA 101 0 1 2920\n")
    # UDP: the payload length is the IP length less 8, as Click computes it.
    assert (tmp_path / "out/f2-U.txt").read_text() == (
        "!IPSummaryDump 1.3\n!flowid 10.0.0.3 53 10.0.0.4 1025 U\n!aggregate 2\n"
        "!data ntimestamp direction ip_id payload_len\n!firsttime 1000.600005999\n"
        "0.000000001 > 768 50\n0.100000001 < 768 30\n")


def test_flow_dumps_absolute_and_all_options(tmp_path):
    flow_dumps(tmp_path, ", ALL_TCP_OPT true, ABSOLUTE_TIME true, ABSOLUTE_SEQ true")
    assert (tmp_path / "out/f1-T.txt").read_text() == BANNER.format("", "opt") + (
        "1000.000001 > S 100 0 0 mss1460;wscale2;sackok;ts5:0\n"
        "1000.000002 < SA 500 0 101 mss1460;sackok;ts9:5;wscale0\n"
        "1000.000004 > PA 101 100 501\n"
        "1000.500004 < A 501 0 201 sack301-401\n"
        "1001.000007 > FA 201 0 501 ts7:9\n")


def test_flow_dumps_binary(tmp_path):
    flow_dumps(tmp_path, ", BINARY true, ALL_TCP_OPT true")
    data = (tmp_path / "out/f1-T.txt").read_bytes()
    banner, records = data.split(b"!binary\n")
    assert banner.endswith(b"!data ntimestamp tcp_seq payload_len tcp_ack tcp_flags direction "
                           b"tcp_opt\n!firstseq > 100\n!firstseq < 500\n"
                           b"!firsttime 1000.000000999\n")
    # The first: length, 0 s 1 ns, seq 0, payload 0, ack 0, SYN, direction 0,
    # then a count and 4 + 3 + 2 + 10 option bytes (MSS, window scale, SACK
    # permitted, timestamp).
    first = struct.pack("!IIIIIIBBB", 4 + 20 + 2 + 1 + 19, 0, 1, 0, 0, 0, 2, 0, 19)
    assert records.startswith(first + bytes.fromhex("020405b4 030302 0402 080a0000000500000000"))
    # The third (PA, 100 bytes, no options) follows the second.
    second_length = _u32_at(records, len(first) + 19)
    third = records[len(first) + 19 + second_length:][:26]
    assert third == struct.pack("!IIIIIIBB", 26, 0, 3001, 1, 100, 1, 0x18, 0)


def _u32_at(data: bytes, at: int) -> int:
    return struct.unpack_from("!I", data, at)[0]


def test_flow_dumps_mincount_and_clear(tmp_path):
    # The UDP flow has 2 packets: below MINCOUNT 3, its file is not kept.
    assert flow_dumps(tmp_path, ", MINCOUNT 3") == ["f1-T.txt"]


def test_flow_dumps_gzip_and_pattern(tmp_path):
    import gzip

    trace = tmp_path / "trace.txt"
    trace.write_text(FLOW_LINES, encoding="latin-1")
    run(f'FromTcpdump("{trace}", STOP true) -> AggregateIPFlows '
        f'-> ToIPFlowDumps("{tmp_path}/z/%04n.%.3d.%S.%x", GZIP true) -> k :: KeepingTestSink')
    assert sorted(p.name for p in (tmp_path / "z").iterdir()) == \
        ["0001.2.1234.1.gz", "0002.4.53.2.gz"]
    assert gzip.decompress((tmp_path / "z/0002.4.53.2.gz").read_bytes()).endswith(
        b"0.000000001 > 50\n0.100000001 < 30\n")


def test_flow_dumps_icmp_errors_are_notes(tmp_path):
    syn = "4500002800010000400677cd010000010200000204d20050000003e8000000005002200000000000"
    error = ("4500003800010000400167b2090909090100000103010000000000004500002800010000"
             "400677cd010000010200000204d20050000003e8")
    run(f"i :: InfiniteSource(DATA \\<{syn}>, LIMIT 1) -> SetTimestamp(1000.25) -> u :: Null;"
        f"e :: InfiniteSource(DATA \\<{error}>, LIMIT 1, ACTIVE false) -> SetTimestamp(1001.5)"
        " -> u -> CheckIPHeader -> AggregateIPFlows(ICMP true) "
        f'-> t :: ToIPFlowDumps("{tmp_path}/%n") -> k :: KeepingTestSink;'
        "Script(wait 1, write e.active true, wait 1, write t.clear, stop)")
    assert (tmp_path / "1").read_text().endswith(
        "!firsttime 1000.249999999\n0.000000001 > S 0 0 0\n#1001.500000 < ICMP_error\n")


def test_flow_dumps_arguments(tmp_path, caplog):
    message = configure_error("Idle -> ToIPFlowDumps(x%n, NOTIFIER i) -> Discard; i :: Idle")
    assert "ToIPFlowDumps" in message and "NOTIFIER" in message
    message = configure_error("Idle -> ToIPFlowDumps(x%n, MINCOUNT -1) -> Discard")
    assert "MINCOUNT" in message
    with caplog.at_level(logging.WARNING):
        run(f'InfiniteSource(LIMIT 2, STOP true) -> ToIPFlowDumps("{tmp_path}/same")'
            " -> k :: KeepingTestSink")
    assert "OUTPUT_PATTERN has no % escapes" in caplog.text
    assert "saw no packets with aggregate annotations" in caplog.text


def test_flow_dumps_end_a_flow_the_notifier_deleted(tmp_path):
    from pyclick.elements.aggregatemisc import DELETE_AGG

    udp = bytes.fromhex("4500001c00010000401177ce0100000102000002000a000b00080000")
    router = Router(flatten(f'Idle -> a :: AggregateIPFlows -> t :: ToIPFlowDumps('
                            f'"{tmp_path}/%n", NOTIFIER a) -> Discard; Script(wait 1, stop)',
                            filename="t.click"), simtime=True)
    router.configure()
    router.initialize()
    dumps = router.element("t")
    packet = Packet(udp)
    packet.set_network_header(0, 20)
    packet.set_anno_u32(20, 7)
    packet.timestamp = 2.0
    dumps.push(0, [packet])
    seen: list[bool] = []
    dumps.aggregate_notify(7, DELETE_AGG, None)
    dumps.aggregate_notify(8, DELETE_AGG, None)
    router.run(handle_signals=False,
               before_cleanup=lambda: seen.append((tmp_path / "7").exists()))
    # Written a quarter second after the notice, before cleanup.
    assert seen == [True]
    assert (tmp_path / "7").read_text() == (
        "!IPSummaryDump 1.3\n!flowid 1.0.0.1 10 2.0.0.2 11 U\n!aggregate 7\n"
        "!data ntimestamp direction payload_len\n!firsttime 1.999999999\n0.000000001 > 20\n")


def test_flow_dumps_clear_starts_the_files_again(tmp_path):
    udp = "4500001c00010000401177ce0100000102000002000a000b00080000"
    run(f"InfiniteSource(DATA \\<{udp}>, LIMIT 2) -> SetTimestamp(5) -> u :: Null;"
        f"i :: InfiniteSource(DATA \\<{udp}>, LIMIT 1, ACTIVE false) -> SetTimestamp(9) -> u;"
        f'u -> CheckIPHeader -> AggregateIPFlows -> t :: ToIPFlowDumps("{tmp_path}/%n") '
        "-> k :: KeepingTestSink; Script(wait 1, write t.clear, write i.active true, wait 1, stop)")
    # The flow is ended by clear: the packet after it starts the file again.
    assert (tmp_path / "1").read_text().endswith("!firsttime 8.999999999\n0.000000001 > 20\n")
