"""CheckARPHeader, ARPPrint, EnsureEther, TruncateIPPayload and EraseIPPayload,
worked out by hand from their manuals."""

from __future__ import annotations

import logging
import struct

import pytest

from pyclick.errors import Landmark
from pyclick.packet import Packet
from pyclick.runtime.handlers import HandlerError
from tests.frames import click_hex, ether, icmp, ip_packet, tcp, udp
from tests.helpers import config_error_of, handler_values
from tests.sinks import element_with_sinks, pushed

LANDMARK = Landmark("arp.click", 2)
BROADCAST, HOST_A, HOST_B = "ff:ff:ff:ff:ff:ff", "06:07:08:09:0a:0b", "00:01:02:03:04:05"
MAC_A = bytes.fromhex("060708090a0b")
MAC_T = bytes.fromhex("aabbccddeeff")
IP_A, IP_B = bytes([10, 0, 0, 2]), bytes([10, 0, 0, 1])


def element(cls: str, config: str = "", outputs: int = 1):
    return element_with_sinks(cls, config, outputs, LANDMARK)


def push(cls: str, config: str, frames: list[bytes | Packet], outputs: int = 1):
    return pushed(cls, config, frames, outputs, LANDMARK)


def arp(hardware: int = 1, protocol: int = 0x0800, hlen: int = 6, plen: int = 4,
        operation: int = 1, sha: bytes = MAC_A, spa: bytes = IP_A, tha: bytes = bytes(6),
        tpa: bytes = IP_B) -> bytes:
    """An ARP message; the addresses are laid out as given, whatever the lengths say."""
    return struct.pack("!HHBBH", hardware, protocol, hlen, plen, operation) \
        + sha + spa + tha + tpa


REQUEST = arp()


# --- CheckARPHeader --------------------------------------------------------------------

def test_checkarpheader_passes_a_valid_request_and_marks_its_header():
    frame = ether(BROADCAST, HOST_A, 0x0806, REQUEST)
    e, (good, bad) = push("CheckARPHeader", "14", [frame], outputs=2)
    (packet,) = good
    assert bad == [] and e.drops == 0
    # The header is the 8 fixed bytes and 2 * (6 + 4) of addresses, from byte 14.
    assert (packet.network_header_offset, packet.transport_header_offset) == (14, 14 + 28)
    assert packet.data == frame


@pytest.mark.parametrize("message, reason", [
    (REQUEST[:7], "tiny packet"),
    # 8 + 2 * (6 + 4) = 28 bytes announced, 27 present.
    (REQUEST[:27], "too small for addresses"),
    (arp(hlen=4, tha=bytes(4)), "bad hardware type/length"),
    (arp(plen=6, spa=bytes(6), tpa=bytes(6)), "bad protocol type/length"),
    (arp(protocol=0x86DD), "bad protocol type/length"),
])
def test_checkarpheader_refuses_invalid_packets_on_output_1(message, reason, caplog):
    with caplog.at_level(logging.WARNING):
        e, (good, bad) = push("CheckARPHeader", "DETAILS true", [message, message], outputs=2)
    assert good == [] and len(bad) == 2
    assert e.router.handlers.read("e.drops") == "2"
    # Reported once (no VERBOSE), with the reason.
    assert caplog.text.count(f"ARP header check failed: {reason}") == 1
    e.router.initialize()
    try:
        details = e.router.handlers.read("e.drop_details").splitlines()
    finally:
        e.router.cleanup()
    assert f"2\t{reason}" in details and len(details) == 4


def test_checkarpheader_only_checks_the_lengths_it_knows():
    # Hardware 6 (IEEE 802) with 4-byte addresses, and IPv6 with 16-byte ones, are
    # fine: only Ethernet hardware and IPv4/IPv6 protocols have a fixed length.
    other_hardware = arp(hardware=6, hlen=4, tha=bytes(4))
    ipv6 = arp(protocol=0x86DD, plen=16, spa=bytes(16), tpa=bytes(16))
    # No addresses at all: 8 bytes are enough.
    empty = struct.pack("!HHBBH", 7, 0x1234, 0, 0, 1)
    e, (good,) = push("CheckARPHeader", "", [other_hardware, ipv6, empty])
    assert [p.transport_header_offset for p in good] == [8 + 2 * (4 + 4), 8 + 2 * (6 + 16), 8]
    assert e.drops == 0


def test_checkarpheader_without_output_1_drops_and_verbose_reports_each(caplog):
    with caplog.at_level(logging.WARNING):
        # OFFSET beyond the packet: nothing of the header is there.
        e, (good,) = push("CheckARPHeader", "OFFSET 100, VERBOSE true", [REQUEST] * 3)
    assert good == [] and e.drops == 3
    assert caplog.text.count("ARP header check failed: tiny packet") == 3


def test_checkarpheader_drop_details_needs_details():
    e, _ = element("CheckARPHeader")
    e.router.initialize()
    try:
        with pytest.raises(HandlerError):
            e.router.handlers.read("e.drop_details")
    finally:
        e.router.cleanup()


def test_checkarpheader_drops_handler_from_the_command_line(capsys):
    # Two requests and one 10-byte runt: one drop.
    config = (f"InfiniteSource(DATA {click_hex(REQUEST)}, LIMIT 2, STOP true) -> c :: "
              f"CheckARPHeader -> Discard; InfiniteSource(DATA {click_hex(REQUEST[:10])}, "
              "LIMIT 1) -> c")
    assert handler_values(capsys, ["-e", config], "c.drops") == ["1"]


@pytest.mark.parametrize("config, message", [
    ("-1", "OFFSET: expected unsigned integer"),
    ("65536", "OFFSET: must be at least 0 and at most 65535"),
    ("VERBOSE maybe", "VERBOSE: expected boolean"),
    ("0, DETAILS 2", "DETAILS: expected boolean"),
    ("0, 1", "too many arguments"),
])
def test_checkarpheader_argument_errors(config, message):
    assert message in str(config_error_of(element, "CheckARPHeader", config))


# --- ARPPrint ---------------------------------------------------------------------------

def marked(message: bytes, at: int = 0, timestamp: float = 0.0) -> Packet:
    packet = Packet(message, timestamp)
    packet.set_network_header(at, len(message) - at)
    return packet


@pytest.mark.parametrize("message, line", [
    (REQUEST, "arp who-has 10.0.0.1 tell 10.0.0.2"),
    # The target's hardware address is shown when it is not all zeros.
    (arp(tha=MAC_T), "arp who-has 10.0.0.1 (AA-BB-CC-DD-EE-FF) tell 10.0.0.2"),
    (arp(operation=2), "arp reply 10.0.0.2 is-at 06-07-08-09-0A-0B"),
    (arp(operation=3, tha=MAC_T), "rarp who-is AA-BB-CC-DD-EE-FF tell 06-07-08-09-0A-0B"),
    (arp(operation=4, tha=MAC_T), "rarp reply AA-BB-CC-DD-EE-FF at 10.0.0.1"),
    (arp(operation=8, tha=MAC_T), "invarp who-is AA-BB-CC-DD-EE-FF tell 06-07-08-09-0A-0B"),
    (arp(operation=9, tha=MAC_T), "invarp reply AA-BB-CC-DD-EE-FF at 10.0.0.1"),
    (arp(operation=7), "arp-#7"),
    (arp(protocol=0x1000), "trailer-arp who-has 10.0.0.1 tell 10.0.0.2"),
    # Hardware 6: the number follows the line without a space.
    (arp(hardware=6, operation=2), "arp reply 10.0.0.2 is-at 06-07-08-09-0A-0Bhardware #6"),
    # One-byte hardware addresses: only the first byte of the target's (0) counts.
    (arp(hlen=1, tha=bytes(5) + b"\x09"), "arp who-has 10.0.0.1 tell 10.0.0.2"),
    (arp(hlen=1, tha=b"\x09" + bytes(5)),
     "arp who-has 10.0.0.1 (09-00-00-00-00-00) tell 10.0.0.2"),
    # 26 bytes: the last two of the target's address read as zeros.
    (REQUEST[:26], "arp who-has 10.0.0.0 tell 10.0.0.2"),
    (REQUEST[:7], "truncated-arp (7)"),
])
def test_arpprint_lines(message, line):
    e, _ = element("ARPPrint", "TIMESTAMP false")
    assert e.line(marked(message)) == line


@pytest.mark.parametrize("message", [
    arp(protocol=0x86DD), arp(plen=6), arp(hlen=0),
])
def test_arpprint_prints_nothing_for_other_protocols(message, capsys):
    e, (sink,) = element("ARPPrint", "TIMESTAMP false")
    assert e.line(marked(message)) is None
    capsys.readouterr()
    e.push(0, [marked(message)])
    assert capsys.readouterr().err == "" and len(sink.packets) == 1


def test_arpprint_label_timestamp_and_ether(capsys):
    frame = ether(BROADCAST, HOST_A, 0x0806, REQUEST)
    e, (sink,) = element("ARPPrint", "x, ETHER true")
    capsys.readouterr()
    e.push(0, [marked(frame, 14, 1.5)])
    # Source, then destination, in Click's dashed capitals.
    date = e.router.to_epoch(1.5)
    assert capsys.readouterr().err == (
        f"x: {date:.6f}: 06-07-08-09-0A-0B > FF-FF-FF-FF-FF-FF: "
        "arp who-has 10.0.0.1 tell 10.0.0.2\n")
    assert sink.packets[0].data == frame


def test_arpprint_ether_needs_a_whole_header_before_the_arp_one():
    e, _ = element("ARPPrint", "TIMESTAMP false, ETHER true")
    frame = ether(BROADCAST, HOST_A, 0x0806, REQUEST)
    # ARP header at 13: no room for 14 bytes of Ethernet header before it.
    assert e.line(marked(frame[1:], 13)) == "arp who-has 10.0.0.1 tell 10.0.0.2"
    # The MAC header annotation, when set, is where the addresses are read,
    # even after Strip took the Ethernet header off.
    packet = marked(frame, 14)
    packet.set_mac_header(0)
    packet.pull(14)
    assert e.line(packet) == ("06-07-08-09-0A-0B > FF-FF-FF-FF-FF-FF: "
                                  "arp who-has 10.0.0.1 tell 10.0.0.2")


def test_arpprint_outfile_active_and_unmarked_packets(tmp_path):
    path = tmp_path / "arp.txt"
    e, (sink,) = element("ARPPrint", f"p, TIMESTAMP false, OUTFILE {path}")
    e.router.initialize()
    try:
        e.push(0, [marked(REQUEST), Packet(REQUEST)])
        assert e.router.handlers.read("e.active") == "true"
        e.router.handlers.write("e.active", "false")
        e.push(0, [marked(REQUEST)])
    finally:
        e.router.cleanup()
    assert path.read_text() == "p: arp who-has 10.0.0.1 tell 10.0.0.2\n"
    assert len(sink.packets) == 3


@pytest.mark.parametrize("config, message", [
    ("a, b", "too many arguments"),
    ("ETHER perhaps", "ETHER: expected boolean"),
    ("TIMESTAMP 2", "TIMESTAMP: expected boolean"),
    # IPPrint's keywords are not ARPPrint's.
    ("CONTENTS hex", "CONTENTS: unknown keyword"),
])
def test_arpprint_argument_errors(config, message):
    assert message in str(config_error_of(element, "ARPPrint", config))


# --- EnsureEther ------------------------------------------------------------------------

IP = ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2, b"data"))
#: The default header: to 02:02:02:02:02:02, from 01:01:01:01:01:01, type IPv4.
DEFAULT_HEADER = b"\x02" * 6 + b"\x01" * 6 + b"\x08\x00"


def ip_marked(data: bytes, at: int) -> Packet:
    packet = Packet(data)
    packet.set_network_header(at, 20)
    return packet


def test_ensureether_keeps_an_ethernet_header_of_an_ip_type():
    for ethertype in (0x0800, 0x86DD):
        frame = ether(HOST_B, HOST_A, ethertype, IP)
        _, (out,) = push("EnsureEther", "", [ip_marked(frame, 14)])
        assert out[0].data == frame


def test_ensureether_replaces_a_header_of_another_type():
    frame = ether(HOST_B, HOST_A, 0x0806, IP)
    _, (out,) = push("EnsureEther", f"0x86DD, {HOST_A}, {HOST_B}", [ip_marked(frame, 14)])
    # DST first, then SRC, then the type.
    assert out[0].data == bytes.fromhex("000102030405") + MAC_A + b"\x86\xdd" + IP


def test_ensureether_restores_a_stripped_header():
    frame = ether(HOST_B, HOST_A, 0x0800, IP)
    packet = ip_marked(frame, 14)
    packet.pull(14)
    _, (out,) = push("EnsureEther", "", [packet])
    assert out[0].data == frame and out[0].network_header_offset == 14


def test_ensureether_adds_its_header_when_the_stripped_one_is_not_ip():
    packet = ip_marked(ether(HOST_B, HOST_A, 0x0806, IP), 14)
    packet.pull(14)
    bare = ip_marked(IP, 0)
    _, (out,) = push("EnsureEther", "", [packet, bare])
    assert [p.data for p in out] == [DEFAULT_HEADER + IP] * 2


def test_ensureether_removes_what_precedes_the_ip_header():
    # An 802.1Q-tagged frame: the IP header is 18 bytes in; the tag goes too.
    tagged = ether(HOST_B, HOST_A, 0x8100, b"\x00\x07\x08\x00" + IP)
    _, (out,) = push("EnsureEther", f"SRC {HOST_A}", [ip_marked(tagged, 18)])
    assert out[0].data == b"\x02" * 6 + MAC_A + b"\x08\x00" + IP


def test_ensureether_leaves_packets_that_are_not_marked_ip():
    stripped = ip_marked(ether(HOST_B, HOST_A, 0x0806, IP), 0)
    stripped.pull(14)
    _, (out,) = push("EnsureEther", "", [Packet(IP), stripped])
    # No annotation; an IP header pulled off (offset -14).
    assert [p.data for p in out] == [IP, IP]


@pytest.mark.parametrize("config, message", [
    ("0x10000", "ETHERTYPE: must be at least 0 and at most 65535"),
    ("0x800, 1:2:3", "SRC: expected Ethernet address"),
    ("DST nowhere", "DST: expected Ethernet address"),
    ("0x800, 1:1:1:1:1:1, 2:2:2:2:2:2, 4", "too many arguments"),
])
def test_ensureether_argument_errors(config, message):
    assert message in str(config_error_of(element, "EnsureEther", config))


# --- TruncateIPPayload ------------------------------------------------------------------

TCP10 = ip_packet("1.1.1.1", "2.2.2.2", 6, tcp(1, 2, payload=b"0123456789"))
UDP10 = ip_packet("1.1.1.1", "2.2.2.2", 17, udp(1, 2, b"0123456789"))


def truncated(config: str, packet: Packet) -> Packet:
    _, ((out,),) = push("TruncateIPPayload", config, [packet])
    return out


@pytest.mark.parametrize("config, frame, kept", [
    # IP 20 + TCP 20 + LENGTH 4.
    ("4", TCP10, 44),
    # IP 20 + UDP 8, nothing of the payload.
    ("", UDP10, 28),
    # Only the IP header counts as header: 20 + 4.
    ("4, false", TCP10, 24),
    ("LENGTH 4, TRANSPORT false", UDP10, 24),
    # Enough room already: unchanged.
    ("10", UDP10, 38),
    # ICMP echo: an 8-byte header; a timestamp request: 20 bytes.
    ("1", ip_packet("1.1.1.1", "2.2.2.2", 1, icmp(8, 0, bytes(12))), 20 + 8 + 1),
    ("1", ip_packet("1.1.1.1", "2.2.2.2", 1, icmp(13, 0, bytes(20))), 20 + 20 + 1),
    # Less than 8 bytes of ICMP: no ICMP header counted, 20 + 2.
    ("2", ip_packet("1.1.1.1", "2.2.2.2", 1, bytes(7)), 22),
    # A TCP data offset of 2 (too small) counts as 20: 20 + 20 + 1.
    ("1", ip_packet("1.1.1.1", "2.2.2.2", 6, tcp(1, 2)[:12] + b"\x20" + tcp(1, 2)[13:]
                    + bytes(8)), 41),
    # A TCP data offset of 8 (32 bytes): 20 + 32 + 0.
    ("", ip_packet("1.1.1.1", "2.2.2.2", 6, tcp(1, 2)[:12] + b"\x80" + tcp(1, 2)[13:]
                   + bytes(20)), 52),
    # Other protocols: the IP header only, 20 + 3.
    ("3", ip_packet("1.1.1.1", "2.2.2.2", 47, bytes(30)), 23),
    # An IP header length below 5 words counts as 20 bytes, with no transport
    # header after it: 20 + 0.
    ("", b"\x44" + UDP10[1:], 20),
])
def test_truncateippayload_keeps_headers_and_length_bytes(config, frame, kept):
    out = truncated(config, ip_marked(frame, 0))
    assert out.data == frame[:kept]
    assert out.extra_length == len(frame) - kept


def test_truncateippayload_keeps_what_precedes_the_ip_header_and_counts_padding():
    # 14 bytes of Ethernet, a UDP packet with 10 payload bytes, 6 bytes of padding:
    # 14 + 20 + 8 + 3 stay.
    frame = ether(HOST_B, HOST_A, 0x0800, UDP10) + bytes(6)
    out = truncated("3, EXTRA_LENGTH false", ip_marked(frame, 14))
    assert out.data == frame[:45] and out.extra_length == 0


def test_truncateippayload_cuts_unmarked_packets_to_length():
    packet = Packet(bytes(range(50)))
    packet.extra_length = 5
    out = truncated("16", packet)
    # 34 bytes cut off, added to the 5 already missing.
    assert out.data == bytes(range(16)) and out.extra_length == 39
    assert truncated("60", Packet(bytes(50))).data == bytes(50)


@pytest.mark.parametrize("config, message", [
    ("65536", "LENGTH: must be at least 0 and at most 65535"),
    ("4, maybe", "TRANSPORT: expected boolean"),
    ("EXTRA_LENGTH 9", "EXTRA_LENGTH: expected boolean"),
    ("1, true, 3", "too many arguments"),
])
def test_truncateippayload_argument_errors(config, message):
    assert message in str(config_error_of(element, "TruncateIPPayload", config))


# --- EraseIPPayload ---------------------------------------------------------------------

def erased(packets: list[Packet]) -> list[Packet]:
    _, (out,) = push("EraseIPPayload", "", packets)
    return out


def test_eraseippayload_zeroes_tcp_and_udp_payloads_and_checksums():
    tcp_packet = ip_packet("1.1.1.1", "2.2.2.2", 6,
                           tcp(1, 2, payload=b"secret")[:16] + b"\xab\xcd"
                           + tcp(1, 2, payload=b"secret")[18:])
    udp_packet = ip_packet("1.1.1.1", "2.2.2.2", 17,
                           udp(1, 2, b"secret")[:6] + b"\xab\xcd" + b"secret")
    frame = ether(HOST_B, HOST_A, 0x0800, udp_packet)
    stripped = ip_marked(frame, 14)
    stripped.pull(14)
    out = erased([ip_marked(tcp_packet, 0), stripped])
    # TCP: bytes 16-17 of its header (the checksum) and the 6 payload bytes.
    assert out[0].data == tcp_packet[:36] + b"\0\0" + tcp_packet[38:40] + bytes(6)
    # UDP: bytes 6-7 of its header and the payload; the stripped Ethernet
    # header is still there to put back.
    assert out[1].data == udp_packet[:26] + b"\0\0" + bytes(6)
    assert out[1].push(14).data[:14] == frame[:14]


def test_eraseippayload_passes_icmp_and_drops_other_packets():
    ping = ip_packet("1.1.1.1", "2.2.2.2", 1, icmp(8, 0, b"abcdefgh"))
    gre = ip_packet("1.1.1.1", "2.2.2.2", 47, bytes(8))
    out = erased([ip_marked(ping, 0), ip_marked(gre, 0), Packet(ping),
                  ip_marked(ping[:9], 0)])
    # GRE, an unmarked packet and one cut before the protocol byte are dropped.
    assert [p.data for p in out] == [ping]


def test_eraseippayload_leaves_headers_cut_short():
    tcp_packet = ip_packet("1.1.1.1", "2.2.2.2", 6, tcp(1, 2, payload=b"x"))
    # 12 bytes of TCP: no data offset, nothing erased. 6 bytes of UDP: no
    # payload, and the checksum is not all there.
    udp_packet = ip_packet("1.1.1.1", "2.2.2.2", 17, udp(1, 2, b"x"))
    out = erased([ip_marked(tcp_packet[:32], 0), ip_marked(udp_packet[:26], 0)])
    assert [p.data for p in out] == [tcp_packet[:32], udp_packet[:26]]
    # 17 bytes of TCP: no payload, the checksum (bytes 16-17) cut: unchanged too.
    (out,) = erased([ip_marked(tcp_packet[:37], 0)])
    assert out.data == tcp_packet[:37]


def test_eraseippayload_takes_no_arguments():
    assert "too many arguments" in str(config_error_of(element, "EraseIPPayload", "1"))
