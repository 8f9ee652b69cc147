"""Classifier, IPClassifier and IPFilter: their manuals' behaviour, handlers and errors."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from pyclick.cli import main
from pyclick.errors import Landmark
from pyclick.packet import Packet
from pyclick.runtime.handlers import HandlerError
from tests.frames import click_hex, ether, icmp, ip_packet, tcp, udp
from tests.helpers import config_error_of, configured_router
from tests.sinks import KeepingTestSink

ROOT = Path(__file__).resolve().parents[1]
LANDMARK = Landmark("filters.click", 7)
SINK = KeepingTestSink.__name__
MAC_A, MAC_B = "00:00:00:00:00:0a", "00:00:00:00:00:0b"


def router_with(cls: str, config: str, outputs: int, info: str | None = None):
    """``cls`` with a test sink on each output; ``info``: the configuration of an
    AddressInfo declared after it."""
    elements = [("c", cls, config)] + [(f"s{i}", SINK, "") for i in range(outputs)]
    if info is not None:
        elements.append(("names", "AddressInfo", info))
    connections = [("c", i, f"s{i}", 0) for i in range(outputs)]
    return configured_router(elements, connections, at=LANDMARK, simtime=True)


def outputs_of(cls: str, config: str, outputs: int, frames: list[bytes],
               strip: int = 0, info: str | None = None) -> list[int]:
    """The output each frame leaves by (-1: dropped), pushed one by one, then as one batch
    (which must agree)."""
    router = router_with(cls, config, outputs, info)
    element = router.element("c")
    sinks = [router.element(f"s{i}") for i in range(outputs)]

    def packet(frame: bytes) -> Packet:
        return Packet(frame).pull(strip)

    singly = []
    for frame in frames:
        element.push(0, [packet(frame)])
        hit = [i for i, s in enumerate(sinks) if s.packets]
        singly.append(hit[0] if hit else -1)
        for s in sinks:
            s.packets.clear()
    batch = [packet(f) for f in frames]
    element.push(0, batch)
    batched = [next((i for i, s in enumerate(sinks) if any(p is q for q in s.packets)), -1)
               for p in batch]
    assert batched == singly
    return singly


# --- Classifier ---------------------------------------------------------------------

ARP_REQUEST = ether("ff:ff:ff:ff:ff:ff", MAC_A, 0x0806, bytes(6) + b"\x00\x01" + bytes(20))
ARP_REPLY = ether(MAC_B, MAC_A, 0x0806, bytes(6) + b"\x00\x02" + bytes(20))
IP_FRAME = ether(MAC_B, MAC_A, 0x0800, ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2)))
OTHER = ether(MAC_B, MAC_A, 0x86DD, bytes(40))


def test_classifier_manual_example():
    config = "12/0806 20/0001, 12/0806 20/0002, 12/0800, -"
    assert outputs_of("Classifier", config, 4, [ARP_REQUEST, ARP_REPLY, IP_FRAME, OTHER]) \
        == [0, 1, 2, 3]


def test_classifier_masks_wildcards_negation_and_short_packets():
    # 12/08?0: byte 12 is 08, byte 13's high nibble free and low nibble 0.
    config = "12/08?0, !12/0806 14/45%f0, 0/ff"
    frames = [bytes(12) + b"\x08\x50", bytes(12) + b"\x08\x06\x45",
              bytes(12) + b"\x08\x07\x4f", bytes(12) + b"\x08\x07\x54", b"\xff",
              bytes(12) + b"\x08"]
    assert outputs_of("Classifier", config, 3, frames) == [0, -1, 1, -1, 2, -1]


def test_classifier_clause_past_the_end_fails_and_its_negation_holds():
    assert outputs_of("Classifier", "20/01, !20/01", 2, [bytes(21), bytes(20)]) == [1, 1]
    assert outputs_of("Classifier", "20/01, !20/01", 2, [bytes(20) + b"\x01"]) == [0]


def test_classifier_reads_from_the_data_start_after_strip():
    frame = ether(MAC_B, MAC_A, 0x0800, ip_packet("1.2.3.4", "5.6.7.8", 6, tcp(1, 2)))
    # After Strip(14), offset 9 is the IP protocol.
    assert outputs_of("Classifier", "9/06, -", 2, [frame], strip=14) == [0]
    assert outputs_of("Classifier", "9/06, -", 2, [frame]) == [1]


def test_classifiers_of_the_same_patterns_share_one_compiled_classification():
    elements = [(name, "Classifier", config) for name, config in
                (("a", "12/0806, -"), ("b", "12/0806, -"), ("c", "12/0800, -"))]
    elements += [(f"{name}{i}", SINK, "") for name in "abc" for i in range(2)]
    connections = [(name, i, f"{name}{i}", 0) for name in "abc" for i in range(2)]
    router = configured_router(elements, connections, at=LANDMARK, simtime=True)
    a, b, c = (router.element(name) for name in "abc")
    assert a.classification is b.classification
    assert c.classification is not a.classification
    # Shared code, each element's own outputs.
    a.push(0, [Packet(ARP_REQUEST)])
    b.push(0, [Packet(IP_FRAME)])
    assert [len(router.element(n).packets) for n in ("a0", "a1", "b0", "b1")] == [1, 0, 0, 1]


def test_an_ipclassifier_pattern_written_changes_that_element_only():
    elements = [(name, "IPClassifier", "tcp, -") for name in "ab"]
    elements += [(f"{name}{i}", SINK, "") for name in "ab" for i in range(2)]
    connections = [(name, i, f"{name}{i}", 0) for name in "ab" for i in range(2)]
    router = configured_router(elements, connections, at=LANDMARK, simtime=True)
    router.initialize()
    try:
        router.handlers.write("a.pattern0", "udp")
        frame = udp_frame("1.1.1.1", "2.2.2.2", 1, 2)
        router.element("a").push(0, [Packet(frame)])
        router.element("b").push(0, [Packet(frame)])
        assert [len(router.element(n).packets) for n in ("a0", "a1", "b0", "b1")] \
            == [1, 0, 0, 1]
    finally:
        router.cleanup()


def test_classifier_program_handler():
    router = router_with("Classifier", "12/0806 20/0001, 12/0806 20/0002, 12/0800, -", 4)
    assert router.handlers.read("c.program") == (
        "0  data+12/0806%ffff  yes->step 1  no->step 3\n"
        "1  data+20/0001%ffff  yes->[0]  no->step 2\n"
        "2  data+20/0002%ffff  yes->[1]  no->[3]\n"
        "3  data+12/0800%ffff  yes->[2]  no->[3]\n")


@pytest.mark.parametrize("config, message", [
    ("12/080, -", "pattern 0: position 4: value has odd number of hex digits"),
    ("-, 12/0800%fff", "pattern 1: position 9: mask has too few hex digits"),
    ("-, 12/0800%fffff0", "pattern 1: position 9: mask has too many hex digits"),
    ("12/0, -", "pattern 0: position 4: value has less than 2 hex digits"),
    ("x12/00, -", "pattern 0: position 1: expected '!' or '-' or offset, got 'x'"),
    ("12 08, -", "pattern 0: position 4: expected '/', got '08'"),
    ("-, 12/", "pattern 1: position 4: expected hex value at end of pattern"),
])
def test_classifier_pattern_errors_carry_landmarks(config, message):
    err = config_error_of(router_with, "Classifier", config, 2)
    assert str(err) == f"filters.click:7: While configuring 'c :: Classifier': {message}"


def test_classifier_needs_one_pattern_per_output():
    err = config_error_of(router_with, "Classifier", "12/0800, 12/0806, -", 2)
    assert "need 2 arguments, one per output port" in str(err)


def test_classifier_warns_of_an_output_no_packet_reaches(caplog):
    router = router_with("Classifier", "12/0806 12/0800, -", 2)
    with caplog.at_level(logging.WARNING):
        router.initialize()
    assert "filters.click:7: c :: Classifier: output 0 matches no packets" in caplog.text


# --- IPClassifier -------------------------------------------------------------------

def tcp_frame(src, dst, sport, dport, flags=0x10, **fields):
    return ip_packet(src, dst, 6, tcp(sport, dport, flags), **fields)


def udp_frame(src, dst, sport, dport, **fields):
    return ip_packet(src, dst, 17, udp(sport, dport), **fields)


def test_ipclassifier_manual_example_one():
    config = "10.0.0.0/24 and syn, 10.0.0.0/24 and fin ack, 10.0.0.0/24 and tcp, -"
    frames = [tcp_frame("10.0.0.5", "1.1.1.1", 1000, 80, flags=0x02),
              tcp_frame("1.1.1.1", "10.0.0.7", 80, 1000, flags=0x11),
              tcp_frame("10.0.0.5", "1.1.1.1", 1000, 80, flags=0x01),
              tcp_frame("10.0.1.5", "1.1.1.1", 1000, 80, flags=0x02),
              udp_frame("10.0.0.5", "1.1.1.1", 53, 53)]
    assert outputs_of("IPClassifier", config, 4, frames) == [0, 1, 2, 3, 3]


def test_ipclassifier_manual_example_two():
    config = "dst tcp port 8000 or 8080, dst tcp port > 1023, tcp"
    frames = [tcp_frame("1.1.1.1", "2.2.2.2", 5, 8080), tcp_frame("1.1.1.1", "2.2.2.2", 5, 8000),
              tcp_frame("1.1.1.1", "2.2.2.2", 5, 1024), tcp_frame("1.1.1.1", "2.2.2.2", 5, 1023),
              udp_frame("1.1.1.1", "2.2.2.2", 5, 8080)]
    assert outputs_of("IPClassifier", config, 3, frames) == [0, 0, 1, 2, -1]


@pytest.mark.parametrize("pattern, frame, matches", [
    ("ip src 10.0.0.1 and tcp dst port 80", tcp_frame("10.0.0.1", "9.9.9.9", 1, 80), True),
    ("ip src 10.0.0.1 and tcp dst port 80", tcp_frame("10.0.0.2", "9.9.9.9", 1, 80), False),
    ("src host 10.0.0.1 and tcp dst port 80", udp_frame("10.0.0.1", "9.9.9.9", 1, 80), False),
    ("icmp type echo", ip_packet("1.1.1.1", "2.2.2.2", 1, icmp(8)), True),
    ("icmp type echo", ip_packet("1.1.1.1", "2.2.2.2", 1, icmp(0)), False),
    ("icmp type echo-reply", ip_packet("1.1.1.1", "2.2.2.2", 1, icmp(0)), True),
    ("ip proto 6", tcp_frame("1.1.1.1", "2.2.2.2", 1, 2), True),
    ("ip proto udp", tcp_frame("1.1.1.1", "2.2.2.2", 1, 2), False),
    ("src net 10.0.0.0/8", udp_frame("10.200.3.4", "1.1.1.1", 1, 2), True),
    ("src net 10.0.0.0 mask 255.0.0.0", udp_frame("11.0.0.1", "1.1.1.1", 1, 2), False),
    ("dst net 10.0.0.0/8", udp_frame("10.200.3.4", "1.1.1.1", 1, 2), False),
    ("net 10.0.0.0/8", udp_frame("1.1.1.1", "10.0.0.9", 1, 2), True),
    ("src and dst net 10.0.0.0/8", udp_frame("1.1.1.1", "10.0.0.9", 1, 2), False),
    ("ip[9] = 6", tcp_frame("1.1.1.1", "2.2.2.2", 1, 2), True),
    ("ip[8:1] < 10", tcp_frame("1.1.1.1", "2.2.2.2", 1, 2, ttl=9), True),
    ("ip[12:4] == 0x01010101", tcp_frame("1.1.1.1", "2.2.2.2", 1, 2), True),
    ("tcp opt syn", tcp_frame("1.1.1.1", "2.2.2.2", 1, 2, flags=0x12), True),
    ("tcp opt syn", tcp_frame("1.1.1.1", "2.2.2.2", 1, 2, flags=0x10), False),
    ("tcp[13] & 2 != 0", tcp_frame("1.1.1.1", "2.2.2.2", 1, 2, flags=0x02), True),
    ("tcp win 1024", tcp_frame("1.1.1.1", "2.2.2.2", 1, 2), True),
    ("ip frag", udp_frame("1.1.1.1", "2.2.2.2", 1, 2, frag=0x2000), True),
    ("ip frag", udp_frame("1.1.1.1", "2.2.2.2", 1, 2, frag=0x4000), False),
    ("ip unfrag", udp_frame("1.1.1.1", "2.2.2.2", 1, 2, frag=0x0001), False),
    # Not a first fragment: the bytes after the header are not a UDP header.
    ("udp port 2", udp_frame("1.1.1.1", "2.2.2.2", 1, 2, frag=0x0001), False),
    ("src tcp port != 5", tcp_frame("1.1.1.1", "2.2.2.2", 6, 2), True),
    ("src tcp port != 5", udp_frame("1.1.1.1", "2.2.2.2", 6, 2), False),
    ("not src tcp port 5", udp_frame("1.1.1.1", "2.2.2.2", 6, 2), True),
    ("ip ttl >= 64 && ip ttl <= 64", tcp_frame("1.1.1.1", "2.2.2.2", 1, 2), True),
    ("ip tos 0x12", tcp_frame("1.1.1.1", "2.2.2.2", 1, 2, tos=0x12), True),
    ("ip dscp 4", tcp_frame("1.1.1.1", "2.2.2.2", 1, 2, tos=0x12), True),
    ("ip ect", tcp_frame("1.1.1.1", "2.2.2.2", 1, 2, tos=0x01), True),
    ("ip ce", tcp_frame("1.1.1.1", "2.2.2.2", 1, 2, tos=0x01), False),
    ("ip id 7", tcp_frame("1.1.1.1", "2.2.2.2", 1, 2, ident=7), True),
    ("ip vers 4 and ip hl 5", tcp_frame("1.1.1.1", "2.2.2.2", 1, 2), True),
    ("port www", tcp_frame("1.1.1.1", "2.2.2.2", 80, 9999), True),
    ("src port 80 or 81", udp_frame("1.1.1.1", "2.2.2.2", 81, 9), True),
    ("src port 80 or 81", udp_frame("1.1.1.1", "2.2.2.2", 9, 81), False),
    ("tcp ? syn : udp", udp_frame("1.1.1.1", "2.2.2.2", 9, 81), True),
    ("tcp ? syn : udp", tcp_frame("1.1.1.1", "2.2.2.2", 9, 81), False),
    ("true", b"", True),
    ("false", tcp_frame("1.1.1.1", "2.2.2.2", 1, 2), False),
    ("udp port 53", ip_packet("1.1.1.1", "2.2.2.2", 17, b""), False),
    # As in Click, a comparison whose bytes are not all in the packet is false
    # whatever its operator (!=, <=, >=, a mask's != 0); "not" turns it true.
    ("udp port != 53", ip_packet("1.1.1.1", "2.2.2.2", 17, b""), False),
    ("not udp port 53", ip_packet("1.1.1.1", "2.2.2.2", 17, b""), True),
    ("src port <= 445", ip_packet("1.1.1.1", "2.2.2.2", 17, b""), False),
    ("tcp[13] & 2 != 0", ip_packet("1.1.1.1", "2.2.2.2", 6, b"\x16\x2a\xfd"), False),
    ("not tcp[13] & 2 != 0", ip_packet("1.1.1.1", "2.2.2.2", 6, b"\x16\x2a\xfd"), True),
    ("tcp win != 1024", ip_packet("1.1.1.1", "2.2.2.2", 6, b"\x16\x2a\xfd"), False),
    ("ip[30] != 0", ip_packet("1.1.1.1", "2.2.2.2", 17, b""), False),
    # ... but one every value passes is decided without reading the packet.
    ("dst port >= 0", ip_packet("1.1.1.1", "2.2.2.2", 17, b""), True),
    ("dst port <= 65535", ip_packet("1.1.1.1", "2.2.2.2", 6, b"\x16"), True),
])
def test_ipclassifier_primitives(pattern, frame, matches):
    assert outputs_of("IPClassifier", pattern, 1, [frame]) == [0 if matches else -1]


def test_ipclassifier_transport_header_after_options():
    # A 24-byte IP header (one option word): the ports start at byte 24.
    frame = ip_packet("1.1.1.1", "2.2.2.2", 17, udp(7, 53), options=b"\x01\x01\x01\x00")
    assert outputs_of("IPClassifier", "dst udp port 53", 1, [frame]) == [0]


def test_ipclassifier_uses_the_network_header_annotation():
    frame = ether(MAC_B, MAC_A, 0x0800, udp_frame("1.1.1.1", "2.2.2.2", 7, 53))
    router = router_with("IPClassifier", "dst udp port 53, -", 2)
    packet = Packet(frame)
    packet.set_network_header(14, 20)
    router.element("c").push(0, [packet])
    assert router.element("s0").packets == [packet]


def test_ether_host_reads_the_mac_header():
    frame = ether(MAC_B, MAC_A, 0x0800, udp_frame("1.1.1.1", "2.2.2.2", 7, 53))
    router = router_with("IPClassifier", f"src ether host {MAC_A}, ether host {MAC_A}, -", 3)
    marked = Packet(frame).pull(14)
    marked.set_mac_header(-14)
    unmarked = Packet(frame).pull(14)
    router.element("c").push(0, [marked, unmarked])
    assert router.element("s0").packets == [marked]
    assert router.element("s2").packets == [unmarked]


def test_ipclassifier_pattern_handlers():
    router = router_with("IPClassifier", "tcp, -", 2)
    router.initialize()
    try:
        assert router.handlers.read("c.pattern0") == "tcp"
        router.handlers.write("c.pattern0", " udp ")
        assert router.handlers.read("c.pattern0") == "udp"
        # The configuration reads with the new pattern, as Click's does.
        assert router.handlers.read("c.config") == "udp, -"
        router.element("c").push(0, [Packet(udp_frame("1.1.1.1", "2.2.2.2", 1, 2))])
        assert len(router.element("s0").packets) == 1
        with pytest.raises(HandlerError) as err:
            router.handlers.write("c.pattern1", "udp port")
        assert "pattern 1: position 1: port missing" in str(err.value)
        assert router.handlers.read("c.pattern1") == "-"
        assert router.handlers.read("c.config") == "udp, -"
    finally:
        router.cleanup()


@pytest.mark.parametrize("config, message", [
    ("tcp and or udp, -", "pattern 0: position 9: unknown word 'or'"),
    ("tcp ? udp, -", "pattern 0: position 10: expected "),
    ("(tcp or udp, -", "need 2 arguments, one per output port"),
    ("-, ip proto 300", "pattern 1: position 10: value 300 out of range (0 to 255)"),
    ("foo, -", "pattern 0: position 1: unknown word 'foo'"),
    ("80, -", "pattern 0: position 1: specify header field or 'port'"),
    ("udp and echo, -", "pattern 0: position 9: 'echo' is ambiguous"),
    ("icmp port 5, -", "pattern 0: position 1: port needs tcp or udp"),
    ("-, src host 10.0.0.1 and tcp port", "pattern 1: position 23: port missing"),
    ("ip ttl >, -", "pattern 0: position 8: dangling operator near '>'"),
    ("ip[1:5] 3, -", "pattern 0: position 1: field length must be 1 to 4 bytes"),
])
def test_ipclassifier_pattern_errors_carry_landmarks(config, message):
    err = config_error_of(router_with, "IPClassifier", config, 2)
    assert str(err).startswith(
        f"filters.click:7: While configuring 'c :: IPClassifier': {message}"), str(err)


# --- address names and ICMP type names ---------------------------------------------------

INFO = "intern 10.0.0.1 10.0.0.0/8 00:50:ba:85:84:a9, extern 209.6.198.213 209.6.198.0/24"


@pytest.mark.parametrize("pattern, frame, matches", [
    # A bare name is its IPv4 address: 10.0.0.1 only, not its network.
    ("dst intern", udp_frame("1.1.1.1", "10.0.0.1", 1, 2), True),
    ("dst intern", udp_frame("1.1.1.1", "10.0.0.2", 1, 2), False),
    ("dst host intern", udp_frame("10.0.0.1", "10.0.0.2", 1, 2), False),
    ("src host intern", udp_frame("10.0.0.1", "10.0.0.2", 1, 2), True),
    # After 'net', a name with a prefix is its prefix, 10.0.0.0/8.
    ("src net intern", udp_frame("10.9.8.7", "1.1.1.1", 1, 2), True),
    ("src net intern", udp_frame("11.0.0.1", "1.1.1.1", 1, 2), False),
    ("src intern:ipnet", udp_frame("10.200.0.1", "1.1.1.1", 1, 2), True),
    ("dst net extern:ipnet", udp_frame("1.1.1.1", "209.6.198.77", 1, 2), True),
    ("dst net extern:ipnet", udp_frame("1.1.1.1", "209.6.199.77", 1, 2), False),
    ("dst extern:bcast", udp_frame("1.1.1.1", "209.6.198.255", 1, 2), True),
    ("dst intern/24", udp_frame("1.1.1.1", "10.0.0.200", 1, 2), True),
    ("dst intern/24", udp_frame("1.1.1.1", "10.0.1.200", 1, 2), False),
    ("dst intern mask 255.255.0.0", udp_frame("1.1.1.1", "10.0.77.1", 1, 2), True),
    ("dst intern mask 255.255.0.0", udp_frame("1.1.1.1", "10.1.0.1", 1, 2), False),
    ("dst host intern or dst host extern", udp_frame("1.1.1.1", "209.6.198.213", 1, 2), True),
    ("src host extern and tcp port www", tcp_frame("209.6.198.213", "1.1.1.1", 9, 80), True),
    # 'icmp echo' is 'icmp type echo'; 'tcp echo' and 'port echo' are port 7.
    ("icmp echo", ip_packet("1.1.1.1", "2.2.2.2", 1, icmp(8)), True),
    ("icmp echo", ip_packet("1.1.1.1", "2.2.2.2", 1, icmp(0)), False),
    ("icmp echo-reply", ip_packet("1.1.1.1", "2.2.2.2", 1, icmp(0)), True),
    ("icmp type echo-reply", ip_packet("1.1.1.1", "2.2.2.2", 1, icmp(8)), False),
    ("dst intern and icmp echo", ip_packet("2.2.2.2", "10.0.0.1", 1, icmp(8)), True),
    ("tcp echo", tcp_frame("1.1.1.1", "2.2.2.2", 9, 7), True),
    ("port echo", udp_frame("1.1.1.1", "2.2.2.2", 7, 9), True),
    ("port echo", ip_packet("1.1.1.1", "2.2.2.2", 1, icmp(8)), False),
])
def test_ipclassifier_reads_address_names_and_icmp_names(pattern, frame, matches):
    assert outputs_of("IPClassifier", pattern, 1, [frame], info=INFO) == [0 if matches else -1]


def test_ether_host_reads_an_ethernet_name():
    frame = ether(MAC_B, "00:50:ba:85:84:a9", 0x0800, udp_frame("1.1.1.1", "2.2.2.2", 7, 53))
    router = router_with("IPClassifier", "src ether host intern, -", 2, INFO)
    marked = Packet(frame).pull(14)
    marked.set_mac_header(-14)
    router.element("c").push(0, [marked])
    assert router.element("s0").packets == [marked]


def test_host_with_an_ethernet_address_is_an_ethernet_host():
    # 'src host' followed by an Ethernet address (literal or a name for one only)
    # reads the MAC header, as 'src ether host' does.
    frame = ether(MAC_B, "00:50:ba:85:84:a9", 0x0800, udp_frame("1.1.1.1", "2.2.2.2", 7, 53))
    for pattern in ("src host 00:50:ba:85:84:a9", "src host lan_card"):
        router = router_with("IPClassifier", f"{pattern}, -", 2,
                             "lan_card 00:50:ba:85:84:a9")
        marked = Packet(frame).pull(14)
        marked.set_mac_header(-14)
        router.element("c").push(0, [marked])
        assert router.element("s0").packets == [marked], pattern


def test_ipfilter_reads_address_names():
    config = "allow src net intern and not dst intern, 1 dst host extern, deny all"
    frames = [udp_frame("10.3.3.3", "8.8.8.8", 1, 2), udp_frame("10.3.3.3", "10.0.0.1", 1, 2),
              udp_frame("8.8.8.8", "209.6.198.213", 1, 2)]
    assert outputs_of("IPFilter", config, 2, frames, info=INFO) == [0, -1, 1]


def test_a_network_device_name_is_its_address():
    # Click reads a device's name as its address: lo is 127.0.0.1 on every Linux.
    frames = [udp_frame("1.1.1.1", "127.0.0.1", 1, 2), udp_frame("1.1.1.1", "127.0.0.2", 1, 2)]
    assert outputs_of("IPClassifier", "dst host lo", 1, frames) == [0, -1]


def test_pattern_handler_reads_names_too():
    router = router_with("IPClassifier", "tcp, -", 2, INFO)
    router.initialize()
    try:
        router.handlers.write("c.pattern0", "dst extern")
        router.element("c").push(0, [Packet(udp_frame("1.1.1.1", "209.6.198.213", 1, 2))])
        assert len(router.element("s0").packets) == 1
    finally:
        router.cleanup()


@pytest.mark.parametrize("config, message", [
    ("dst host nowhere, -", "pattern 0: position 10: 'nowhere' is neither an address nor a "
                            "known address name"),
    ("-, src net nowhere:ipnet", "pattern 1: position 9: 'nowhere:ipnet' is neither"),
    ("dst nowhere, -", "pattern 0: position 5: 'nowhere' is neither"),
    ("nowhere, -", "pattern 0: position 1: unknown word 'nowhere'"),
    # A name of one kind only is not the other kind.
    ("net intern_only_ip, -", "pattern 0: position 1: address missing"),
    ("echo, -", "pattern 0: position 1: 'echo' is ambiguous; try 'port echo', 'icmp type echo'"),
    ("icmp www, -", "pattern 0: position 6: 'www' is meaningless here; try 'port www'"),
    ("udp syn, -", "pattern 0: position 5: 'syn' is meaningless here; try 'tcp opt syn'"),
])
def test_name_errors_carry_landmarks(config, message):
    err = config_error_of(router_with, "IPClassifier", config, 2, INFO + ", intern_only_ip 1.2.3.4")
    assert str(err).startswith(
        f"filters.click:7: While configuring 'c :: IPClassifier': {message}"), str(err)


# --- IPFilter -----------------------------------------------------------------------

def test_ipfilter_actions():
    config = ("deny src net 10.0.0.0/8, allow tcp dst port www && syn, 1 udp dst port dns, "
              "drop all")
    frames = [tcp_frame("10.1.1.1", "2.2.2.2", 9, 80, flags=0x02),
              tcp_frame("1.1.1.1", "2.2.2.2", 9, 80, flags=0x02),
              udp_frame("1.1.1.1", "2.2.2.2", 9, 53),
              udp_frame("1.1.1.1", "2.2.2.2", 9, 54)]
    assert outputs_of("IPFilter", config, 2, frames) == [-1, 0, 1, -1]


def test_ipfilter_host_and_port_lists_are_lookups():
    # 300 denied hosts, then 20 allowed UDP ports, then the rest: a list long enough
    # to be indexed, one lookup of the source among the hosts, one of the
    # destination port among the ports (each then asks UDP), the last rule apart.
    hosts = ", ".join(f"deny src host 10.0.{i >> 8}.{i & 255}" for i in range(300))
    ports = ", ".join(f"allow udp dst port {1000 + i}" for i in range(20))
    config = f"{hosts}, {ports}, 1 all"
    frames = [udp_frame("10.0.1.43", "2.2.2.2", 9, 1005),
              udp_frame("10.0.1.44", "2.2.2.2", 9, 1005),
              udp_frame("10.0.1.44", "2.2.2.2", 9, 1020),
              tcp_frame("10.0.1.44", "2.2.2.2", 9, 1005)]
    assert outputs_of("IPFilter", config, 2, frames) == [-1, 0, 1, 1]
    router = router_with("IPFilter", config, 2)
    program = router.handlers.read("c.program").splitlines()
    assert [line for line in program if line.startswith("part ")] == [
        "part 0, from pattern 0", "part 1, from pattern 300", "part 2, from pattern 320"]
    lookups = [line for line in program if "other->" in line]
    assert len(lookups) == 2
    assert lookups[0].count("[X]") == 300
    assert lookups[1].count("->step") == 20
    assert program[-1] == "all->#320[1]"


def test_ipfilter_errors_name_the_rule_and_position():
    err = config_error_of(router_with, "IPFilter",
                          "allow tcp, pass udp, 3 udp, allow src host 1.2.3.4 and ip ttl > 300", 2)
    prefix = "filters.click:7: While configuring 'c :: IPFilter': "
    assert str(err).splitlines() == [
        prefix + "pattern 1: position 1: expected an action (allow, deny, drop or an output "
                 "number), got 'pass'",
        prefix + "pattern 2: position 1: output 3 out of range (the element has 2 outputs)",
        prefix + "pattern 3: position 37: value 300 out of range (0 to 255)"]


# --- one-liners ----------------------------------------------------------------------

def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_one_liner_counts_through_classifier_and_ipclassifier(capsys):
    frames = [tcp_frame("1.1.1.1", "2.2.2.2", 1, 80), udp_frame("1.1.1.1", "2.2.2.2", 1, 53)]
    sources = " ".join(f"s{i} :: InfiniteSource({click_hex(ether(MAC_B, MAC_A, 0x0800, f))}, "
                       f"LIMIT {3 + i}, STOP true) -> m;" for i, f in enumerate(frames))
    config = (f"m :: Null; {sources} m -> c :: Classifier(12/0800, -); c[1] -> Discard; "
              "c[0] -> Strip(14) -> ic :: IPClassifier(udp, tcp dst port 80, -); "
              "ic[0] -> u :: Counter -> Discard; ic[1] -> t :: Counter -> Discard; "
              "ic[2] -> o :: Counter -> Discard;")
    status, out, err = run_cli(capsys, "-e", config, "-h", "u.count", "-h", "t.count",
                               "-h", "o.count")
    assert status == 0, err
    # s0 runs out first: its run that sends nothing stops the driver before
    # s1's fourth run, as in Click, so s1 sends 3 of its 4 packets.
    assert out == "u.count:\n3\n\nt.count:\n3\n\no.count:\n0\n\n"


def test_command_reports_pattern_errors():
    result = subprocess.run([sys.executable, "-m", "pyclick", "-q", "-e",
                             "InfiniteSource -> IPClassifier(tcp port) -> Discard"],
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 1
    assert result.stderr == ("config:1: While configuring 'IPClassifier@2 :: IPClassifier': "
                             "pattern 0: position 1: port missing\n")


def test_command_runs_module_entry_point_for_classifier_program():
    result = subprocess.run([sys.executable, "-m", "pyclick", "-q", "-e",
                             "c :: Classifier(12/0800, -); Idle -> c -> Discard; c[1] -> Discard",
                             "-h", "c.program"], capture_output=True, text=True, timeout=60,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "0  data+12/0800%ffff  yes->[0]  no->[1]\n"
