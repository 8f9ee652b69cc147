"""Flow and address analysis elements, from their Click manuals:
AggregateIPAddrPair, AggregateIPFlows, AggregatePacketCounter, AnonymizeIPAddr
and IPRateMonitor."""

from __future__ import annotations

import socket
import struct
from pathlib import Path
from typing import Callable

import pytest

from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.packet import ANNOTATIONS, Packet
from pyclick.router import Router
from pyclick.runtime.handlers import HandlerError
from tests.frames import checksum, icmp, ip_packet, tcp, udp
from tests.sinks import KeepingTestSink  # noqa: F401  (the sink the configurations name)

AGGREGATE = ANNOTATIONS["AGGREGATE"][0]
PACKET_NUMBER = ANNOTATIONS["PACKET_NUMBER"][0]
FWD_RATE = ANNOTATIONS["FWD_RATE"][0]
SYN, FIN, ACK, RST = 0x02, 0x01, 0x10, 0x04
TCP, UDP = 6, 17


def started(config: str) -> Router:
    """A router of ``config`` (simulated time), configured and initialized; the
    tests push into its elements, whose inputs may be left unconnected."""
    router = Router(flatten(config, filename="an.click"), simtime=True, partial=True)
    router.configure()
    router.initialize()
    return router


def finished(config: str, at_end: Callable[[Router], list[str]]) -> tuple[Router, list[str]]:
    """Run ``config`` (simulated time) to its end; the router and what
    ``at_end(router)`` says before cleanup."""
    router = Router(flatten(config, filename="an.click"), simtime=True)
    router.configure()
    values: list[str] = []
    router.run(handle_signals=False, before_cleanup=lambda: values.extend(at_end(router)))
    return router, values


def run(config: str, *handlers: str) -> list[str]:
    """Run ``config`` to its end; the handlers' values before cleanup."""
    return finished(config, lambda router: [router.handlers.read(h) for h in handlers])[1]


def refusal(config: str) -> str:
    with pytest.raises(ConfigError) as caught:
        started(config)
    return str(caught.value)


def ip(src: str, dst: str, proto: int, transport: bytes, at: float = 1.0, **fields) -> Packet:
    """An IP packet stamped ``at``, its network and transport header annotations set."""
    data = ip_packet(src, dst, proto, transport, **fields)
    packet = Packet(data, timestamp=at)
    packet.set_network_header(0, (data[0] & 15) * 4)
    return packet


def aggs(packets: list[Packet]) -> list[tuple[int, int]]:
    return [(p.anno_u32(AGGREGATE), p.paint) for p in packets]


def sinks(router: Router, *names: str) -> list[list[Packet]]:
    return [router.element(name).packets for name in names]


# --- AggregateIPAddrPair

PAIR = "a :: AggregateIPAddrPair({}) -> k :: KeepingTestSink; a[1] -> d :: KeepingTestSink"


def test_address_pairs_are_numbered_in_order_replies_painted_1():
    router = started(PAIR.format(""))
    a = router.element("a")
    no_header = Packet(ip_packet("1.0.0.1", "2.0.0.2", UDP, udp(1, 2)), timestamp=1)
    a.push(0, [ip("1.0.0.1", "2.0.0.2", UDP, udp(1, 2)), ip("2.0.0.2", "1.0.0.1", UDP, udp(2, 1)),
               ip("5.0.0.5", "4.0.0.4", TCP, tcp(1, 2)), ip("1.0.0.1", "3.0.0.3", UDP, udp(1, 2)),
               ip("4.0.0.4", "5.0.0.5", UDP, udp(9, 9)), no_header,
               ip("2.0.0.2", "1.0.0.1", TCP, tcp(7, 7))])
    kept, dropped = sinks(router, "k", "d")
    # The pair's first packet is paint 0 whichever address is higher;
    # protocols and ports do not matter.
    assert aggs(kept) == [(1, 0), (1, 1), (2, 0), (3, 0), (2, 1), (1, 1)]
    assert dropped == [no_header]


def test_address_pair_timeout_starts_a_new_aggregate_and_tells_listeners():
    router = started("a :: AggregateIPAddrPair(TIMEOUT 5) -> l :: AggregateLast(NOTIFIER a)"
                     " -> k :: KeepingTestSink; a[1] -> Discard")
    a, kept = router.element("a"), router.element("k").packets
    first = ip("1.0.0.1", "2.0.0.2", UDP, b"", at=1)
    second = ip("2.0.0.2", "1.0.0.1", UDP, b"", at=6)
    a.push(0, [first, second])
    # 6 - 5 = 1 is not after the last packet's second 1: the pair lives on.
    assert aggs([first, second]) == [(1, 0), (1, 1)] and kept == []
    third = ip("2.0.0.2", "1.0.0.1", UDP, b"", at=12.5)
    a.push(0, [third])
    # Second 6 is before 12 - 5: the pair ended, AggregateLast lets its last
    # packet go; the reply now opens aggregate 2 with paint 0.
    assert aggs([third]) == [(2, 0)] and kept == [second]
    router.handlers.write("a.clear", "")
    assert kept == [second, third]
    fourth = ip("1.0.0.1", "2.0.0.2", UDP, b"", at=13)
    a.push(0, [fourth])
    assert aggs([fourth]) == [(3, 0)]


def test_address_pair_clear_forgets_pairs_without_timeout():
    router = started(PAIR.format(""))
    a = router.element("a")
    a.push(0, [ip("1.0.0.1", "2.0.0.2", UDP, b"")])
    router.handlers.write("a.clear", "")
    a.push(0, [ip("2.0.0.2", "1.0.0.1", UDP, b"")])
    assert aggs(router.element("k").packets) == [(1, 0), (2, 0)]


def test_address_pair_refuses_bad_timeouts():
    assert "'a :: AggregateIPAddrPair': TIMEOUT: expected time" in refusal(PAIR.format("TIMEOUT -1"))
    assert "REAP: expected time" in refusal(PAIR.format("REAP x"))


# --- AggregateIPFlows

FLOWS = "a :: AggregateIPFlows({}) -> k :: KeepingTestSink; a[1] -> d :: KeepingTestSink"


def test_flows_are_numbered_by_addresses_and_ports():
    router = started(FLOWS.format(""))
    a = router.element("a")
    packets = [ip("1.0.0.1", "2.0.0.2", TCP, tcp(1000, 80, SYN)),
               ip("2.0.0.2", "1.0.0.1", TCP, tcp(80, 1000, SYN | ACK)),
               ip("1.0.0.1", "2.0.0.2", UDP, udp(1000, 80)),
               ip("1.0.0.1", "2.0.0.2", TCP, tcp(1001, 80)),
               ip("2.0.0.2", "1.0.0.1", UDP, udp(80, 1000)),
               ip("1.0.0.1", "2.0.0.2", 1, icmp(8)),
               ip("0.0.0.0", "0.0.0.0", UDP, udp(1, 2)),
               ip("1.0.0.1", "2.0.0.2", UDP, b"\0\1")]
    a.push(0, packets)
    kept, dropped = sinks(router, "k", "d")
    # TCP and UDP are apart; the same ports both ways are one flow.
    assert aggs(kept) == [(1, 0), (1, 1), (2, 0), (3, 0), (2, 1)]
    # Not TCP or UDP, both addresses 0, too short for the ports.
    assert dropped == packets[5:]


def test_same_address_flows_tell_directions_by_port_order():
    router = started(FLOWS.format(""))
    a = router.element("a")
    packets = [ip("3.3.3.3", "3.3.3.3", UDP, udp(5, 7)), ip("3.3.3.3", "3.3.3.3", UDP, udp(7, 5))]
    a.push(0, packets)
    assert aggs(packets) == [(1, 0), (1, 1)]


def test_tcp_flow_over_after_fins_restarts_on_syn_and_udp_times_out():
    router = started("a :: AggregateIPFlows(UDP_TIMEOUT 30, TCP_DONE_TIMEOUT 0)"
                     " -> l :: AggregateLast(NOTIFIER a) -> k :: KeepingTestSink")
    a = router.element("a")
    fins = [ip("1.0.0.1", "2.0.0.2", TCP, tcp(1000, 80, FIN), at=2),
            ip("2.0.0.2", "1.0.0.1", TCP, tcp(80, 1000, FIN | ACK), at=2.1)]
    a.push(0, [ip("1.0.0.1", "2.0.0.2", TCP, tcp(1000, 80, SYN), at=1)] + fins)
    syn = ip("1.0.0.1", "2.0.0.2", TCP, tcp(1000, 80, SYN), at=3)
    a.push(0, [syn])
    # A FIN each way ended the flow: the SYN opens flow 2 and AggregateLast
    # lets flow 1's last packet go.
    assert aggs([syn]) == [(2, 0)]
    assert router.element("k").packets == [fins[1]]
    late = [ip("1.0.0.1", "2.0.0.2", UDP, udp(53, 53), at=3),
            ip("2.0.0.2", "1.0.0.1", UDP, udp(53, 53), at=33),
            ip("1.0.0.1", "2.0.0.2", UDP, udp(53, 53), at=64)]
    a.push(0, late)
    # 30 seconds after its last packet the UDP flow lives; 31 is too late.
    assert aggs(late) == [(3, 0), (3, 1), (4, 0)]


def test_fragments_take_their_first_fragments_flow_and_wait_for_it():
    router = started(FLOWS.format(""))
    a = router.element("a")
    first = ip("1.0.0.1", "2.0.0.2", UDP, udp(53, 53, b"x" * 16), ident=7, frag=0x2000)
    later = ip("1.0.0.1", "2.0.0.2", UDP, b"y" * 8, at=1.1, ident=7, frag=3)
    other = ip("1.0.0.1", "2.0.0.2", UDP, udp(53, 53), at=1.2, ident=8)
    a.push(0, [later, first, other])
    # All wait behind the fragments, until they time out or clear.
    assert router.element("k").packets == []
    router.handlers.write("a.clear", "")
    assert router.element("k").packets == [later, first, other]
    assert aggs([later, first, other]) == [(1, 0), (1, 0), (1, 0)]


def test_held_fragments_leave_after_fragment_timeout():
    router = started(FLOWS.format("FRAGMENT_TIMEOUT 5"))
    a = router.element("a")
    orphan = ip("1.0.0.1", "2.0.0.2", UDP, b"y" * 8, at=1, ident=9, frag=3)
    whole = ip("1.0.0.1", "2.0.0.2", UDP, udp(53, 53), at=2)
    a.push(0, [orphan, whole])
    assert router.element("k").packets == []
    late = ip("1.0.0.1", "2.0.0.2", UDP, udp(53, 53), at=7)
    a.push(0, [late])
    # Second 1 is before 7 - 5: the fragment whose first fragment never came
    # is dropped, the packets behind it leave.
    assert router.element("k").packets == [whole, late]
    assert router.element("d").packets == []


def test_without_fragments_later_fragments_go_to_output_1():
    router = started(FLOWS.format("FRAGMENTS false"))
    later = ip("1.0.0.1", "2.0.0.2", UDP, b"y" * 8, ident=7, frag=3)
    router.element("a").push(0, [later])
    assert sinks(router, "k", "d") == [[], [later]]


def test_icmp_errors_get_their_flows_aggregate_and_paint_2_or_3():
    router = started(FLOWS.format("ICMP true"))
    a = router.element("a")
    sent = ip_packet("1.0.0.1", "2.0.0.2", UDP, udp(53, 1000))
    errors = [ip("2.0.0.2", "1.0.0.1", 1, icmp(3, 1, b"\0" * 4 + sent)),
              ip("9.9.9.9", "2.0.0.2", 1, icmp(11, 0, b"\0" * 4 + sent)),
              ip("2.0.0.2", "1.0.0.1", 1, icmp(8, 0, b"\0" * 4 + sent))]
    a.push(0, [ip("2.0.0.2", "1.0.0.1", UDP, udp(1000, 53))] + errors)
    kept, dropped = sinks(router, "k", "d")
    # The flow began 2.0.0.2 -> 1.0.0.1; the quoted packet goes the other way.
    assert aggs(kept) == [(1, 0), (1, 3), (1, 3)]
    assert dropped == errors[2:]


def test_traceinfo_reports_each_flow(tmp_path: Path):
    out = tmp_path / "flows.xml"
    router = started(f"a :: AggregateIPFlows(TRACEINFO {out}) -> Discard")
    a = router.element("a")
    a.push(0, [ip("2.0.0.2", "1.0.0.1", TCP, tcp(80, 1000), at=10.25),
               ip("1.0.0.1", "2.0.0.2", TCP, tcp(1000, 80), at=11),
               ip("2.0.0.2", "1.0.0.1", TCP, tcp(80, 1000), at=12.5)])
    router.cleanup()
    assert out.read_text() == (
        "<?xml version='1.0' standalone='yes'?>\n<trace>\n"
        "<flow aggregate='1' src='2.0.0.2' sport='80' dst='1.0.0.1' dport='1000'"
        " begin='10.250000000' duration='2.250000000'>\n"
        "  <stream dir='0' packets='2' /><stream dir='1' packets='1' />\n</flow>\n</trace>\n")


def test_flows_refuse_bad_settings():
    assert "TCP_TIMEOUT: expected unsigned integer" in refusal(FLOWS.format("TCP_TIMEOUT 1s"))
    assert "SOURCE: no element named 'zz'" in refusal(FLOWS.format("SOURCE zz"))
    message = refusal("Idle -> Queue -> a :: AggregateIPFlows(FRAGMENTS true) -> Unqueue"
                      " -> Discard")
    assert "'a :: AggregateIPFlows': 'FRAGMENTS true' is incompatible with pull" in message


# --- AggregatePacketCounter

COUNTER = ("c :: AggregatePacketCounter({}); Idle -> [0] c [0] -> k0 :: KeepingTestSink;"
           " Idle -> [1] c [1] -> k1 :: KeepingTestSink")


def numbered(aggregate: int, number: int) -> Packet:
    packet = Packet(b"x" * 20)
    packet.set_anno_u32(AGGREGATE, aggregate)
    packet.set_anno_u32(PACKET_NUMBER, number)
    return packet


def counted(config: str = "") -> Router:
    router = started(COUNTER.format(config))
    c = router.element("c")
    c.push(0, [numbered(5, n) for n in (0, 1, 2, 2, 3)] + [numbered(7, 4), numbered(0, 9)])
    c.push(1, [numbered(5, n) for n in (0, 2, 5)])
    return router


def test_packet_counter_counts_packet_numbers_per_aggregate_and_input():
    router = counted()
    read = router.handlers.read
    assert [len(k) for k in sinks(router, "k0", "k1")] == [7, 3]
    # Aggregate 0 is not counted.
    assert read("c.count") == "9"
    assert read("c.received", "5") == "0\n1\n2\n3\n5\n"
    # Number 2 came twice on input 0, once on input 1; number 5 only on input 1.
    assert read("c.undelivered", "5") == "1\n2\n3\n"
    assert [read("c.received", "0x7"), read("c.received", ""), read("c.undelivered", "8")] == \
        ["4\n", "", ""]
    with pytest.raises(HandlerError, match="argument should be aggregate number"):
        read("c.received", "-1")
    router.handlers.write("c.clear", "")
    assert [read("c.count"), read("c.received", "5")] == ["0", ""]


def test_packet_counter_without_annotation_counts_number_0():
    read = counted("ANNO NONE").handlers.read
    assert [read("c.count"), read("c.received", "5"), read("c.undelivered", "5")] == \
        ["9", "0\n", "0\n"]


def test_packet_counter_undelivered_needs_two_inputs():
    router = started("Idle -> c :: AggregatePacketCounter -> Discard")
    with pytest.raises(HandlerError):
        router.handlers.read("c.undelivered", "5")


def test_packet_counter_warns_when_no_packet_had_an_aggregate(caplog):
    run("InfiniteSource(LIMIT 2, STOP true) -> c :: AggregatePacketCounter -> Discard")
    assert "c :: AggregatePacketCounter: saw no packets with aggregate annotations" in caplog.text


def test_packet_counter_refuses_bad_annotations():
    assert "'c :: AggregatePacketCounter': ANNO: annotation 'PAINT' is 1 bytes" in \
        refusal(COUNTER.format("ANNO PAINT"))
    assert "ANNO: expected 4-byte annotation" in refusal(COUNTER.format("ANNO 46"))
    assert "NOTIFIER: no element named 'zz'" in refusal(COUNTER.format("NOTIFIER zz"))


# --- AnonymizeIPAddr

ANON = "a :: AnonymizeIPAddr({}) -> k :: KeepingTestSink; a[1] -> d :: KeepingTestSink"


def anonymized(config: str, pairs: list[tuple[str, str]]) -> dict[str, str]:
    """What AnonymizeIPAddr(config) makes of each address of ``pairs``,
    checking each header's checksum is still right."""
    router = started(ANON.format(config))
    router.element("a").push(0, [ip(src, dst, UDP, udp(1, 2)) for src, dst in pairs])
    mapping: dict[str, str] = {}
    for (src, dst), packet in zip(pairs, router.element("k").packets):
        assert checksum(packet.data[:20]) == 0
        for old, new in ((src, packet.data[12:16]), (dst, packet.data[16:20])):
            assert mapping.setdefault(old, socket.inet_ntoa(new)) == socket.inet_ntoa(new)
    return mapping


def common_prefix(a: str, b: str) -> int:
    x = int.from_bytes(socket.inet_aton(a), "big") ^ int.from_bytes(socket.inet_aton(b), "big")
    return 32 - x.bit_length()


ADDRS = [("1.2.3.4", "1.2.3.5"), ("0.0.0.0", "255.255.255.255"), ("10.0.0.1", "200.1.1.1"),
         ("18.26.4.9", "19.1.1.1"), ("1.2.200.1", "128.0.0.1"), ("10.0.0.1", "1.2.3.4")]


def test_anonymization_preserves_prefixes_and_checksums():
    mapping = anonymized("", ADDRS)
    assert mapping["0.0.0.0"] == "0.0.0.0" and mapping["255.255.255.255"] == "255.255.255.255"
    names = [a for a in mapping if a not in ("0.0.0.0", "255.255.255.255")]
    assert len({mapping[a] for a in names}) == len(names)
    for a in names:
        for b in names:
            if a != b:
                assert common_prefix(mapping[a], mapping[b]) == common_prefix(a, b)


def test_anonymization_keeps_classes_and_listed_nets():
    mapping = anonymized("CLASS 4, PRESERVE_8 18 10, SEED false", ADDRS)
    # Leading ones up to 4: class A stays 0..., class C 110...
    assert int(mapping["1.2.3.4"].split(".")[0]) < 128
    assert int(mapping["200.1.1.1"].split(".")[0]) >> 5 == 0b110
    assert int(mapping["128.0.0.1"].split(".")[0]) >> 6 == 0b10
    # Nets 10 and 18 map to themselves, and so does 19 (it shares 18's first 7 bits).
    assert [mapping[a].split(".")[0] for a in ("10.0.0.1", "18.26.4.9", "19.1.1.1")] == \
        ["10", "18", "19"]


def test_anonymization_rewrites_the_header_quoted_by_an_icmp_error():
    router = started(ANON.format(""))
    quoted = ip_packet("1.2.3.4", "5.6.7.8", UDP, udp(1, 2))
    error = ip("5.6.7.8", "1.2.3.4", 1, icmp(3, 3, b"\0" * 4 + quoted))
    not_ip4 = Packet(b"\x60" + b"\0" * 39, timestamp=1)
    not_ip4.set_network_header(0, 40)
    router.element("a").push(0, [error, not_ip4])
    kept, dropped = sinks(router, "k", "d")
    data = kept[0].data
    # The error goes back to the quoted packet's source: the addresses swap.
    assert data[12:16] == data[44:48] and data[16:20] == data[40:44]
    assert checksum(data[:20]) == 0 and checksum(data[20:]) == 0
    assert dropped == [not_ip4]


def test_anonymization_refuses_bad_settings():
    assert "'a :: AnonymizeIPAddr': CLASS: must be between 0 and 32" in \
        refusal(ANON.format("CLASS 33"))
    assert "PRESERVE_8: expects integers between 0 and 255" in \
        refusal(ANON.format("PRESERVE_8 18 256"))
    assert "SEED: expected boolean" in refusal(ANON.format("SEED 3"))


# --- IPRateMonitor

RATED = ("RatedSource(RATE 125, LIMIT {}, STOP true) -> IPEncap(6, 1.0.0.1, 2.0.0.2)"
         " -> CheckIPHeader -> r :: IPRateMonitor({}) -> k :: KeepingTestSink")


def test_rate_monitor_measures_per_prefix_and_refines_hot_ones():
    router, values = finished(RATED.format(3, "BYTES, 1, 1"), lambda router: [
        router.handlers.read(f"r.{h}") for h in ("look", "mem", "thresh")])
    # The source's first two 89-byte packets share the first 8 ms epoch; the
    # third starts the next, which averages the first: (178 * 1024 + 16) >> 5
    # = 5696, 5696 * 125 / 1024 = 695.3125 bytes a second. That is over
    # THRESH: 1.0 gets a rate of its own, starting from 1's.
    assert values == ["1\n1\t695.3125\t0\n\t1.0\t695.3125\t0\n",
                      str(2 * 2080 + 2 * 40), "1"]
    assert [p.anno_u32(FWD_RATE) for p in router.element("k").packets] == [0, 0, 695]


def test_rate_monitor_below_threshold_keeps_the_slash_8():
    # (2 * 1024 + 16) >> 5 = 64; 64 * 125 / 1024 = 7.8125 packets a second.
    assert run(RATED.format(3, "PACKETS, 1, 1000"), "r.look", "r.mem") == \
        ["1\n1\t7.8125\t0\n", "2120"]


def test_rate_monitor_folds_cooled_prefixes_and_resets():
    config = ("RatedSource(RATE 100, LIMIT 100) -> IPEncap(6, 1.0.0.1, 2.0.0.2) -> CheckIPHeader"
              " -> r :: IPRateMonitor(PACKETS, 1, 10) -> Discard; RatedSource(RATE 5, LIMIT 30,"
              " STOP true) -> IPEncap(6, 3.0.0.3, 2.0.0.2) -> CheckIPHeader -> [1] r [1] -> Discard")

    def at_end(router: Router) -> list[str]:
        read = router.handlers.read
        values = [read("r.mem"), read("r.look")]
        router.handlers.write("r.reset", "")
        return values + [read("r.look"), read("r.mem")]

    values = finished(config, at_end)[1]
    # 1.0.0.1 was refined down to the address (4 tables, 4 counters) in its
    # second of traffic; once it stopped, its tables were folded, one a
    # second at least, in the 5 seconds input 1 went on. Input 1 counts
    # 2.0.0.2, under THRESH: its /8 only.
    lines = values[1].split("\n")
    assert values[0] == str(2080 + 2 * 40)
    assert len(lines) == 3 and lines[1].startswith("2\t0\t") and lines[2] == ""
    # After a reset no rate is left; the /8 counters' memory is not given
    # back, as in Click.
    assert values[2:] == ["0\n", str(2080 + 2 * 40)]


def test_rate_monitor_anno_level_and_memmax():
    router = started("Idle -> r :: IPRateMonitor(PACKETS, 0.5, 100, 5, false) -> Discard")
    read, write = router.handlers.read, router.handlers.write
    assert [read("r.thresh"), read("r.memmax"), read("r.mem")] == ["50", "102400", "2080"]
    write("r.memmax", "0")
    assert read("r.memmax") == "0"
    with pytest.raises(HandlerError, match="expecting 3 arguments"):
        write("r.anno_level", "1.0.0.0 1 2")
    with pytest.raises(HandlerError, match="between 0 and 3"):
        write("r.anno_level", "1.0.0.0, 4, 2")
    with pytest.raises(HandlerError, match="not an integer"):
        write("r.memmax", "a")


def test_rate_monitor_anno_level_folds_below_the_level():
    def at_end(router: Router) -> list[str]:
        read = router.handlers.read
        values = [read("r.mem")]
        router.handlers.write("r.anno_level", "1.0.0.0, 0, 5")
        return values + [read("r.mem"), read("r.look")]

    values = finished(RATED.format(200, "PACKETS, 1, 10"), at_end)[1]
    # Refined to the address: 4 tables, 4 counters. Level 0 of 1.0.0.0 folds
    # all under 1: the base table and its counter are left.
    assert values[:2] == [str(4 * 2080 + 4 * 40), str(2080 + 40)]
    assert [line.split("\t")[0] for line in values[2].split("\n")[1:]] == ["1", ""]


def test_rate_monitor_refuses_bad_settings():
    assert "TYPE: must be PACKETS or BYTES, got 'PAKETS'" in \
        refusal("Idle -> r :: IPRateMonitor(PAKETS, 1, 10) -> Discard")
    assert "RATIO: ratio must be between 0 and 1" in \
        refusal("Idle -> r :: IPRateMonitor(PACKETS, 2, 10) -> Discard")
    assert "THRESH: missing mandatory argument" in \
        refusal("Idle -> r :: IPRateMonitor(PACKETS, 1) -> Discard")
    # Click multiplies THRESH by RATIO in 32-bit unsigned arithmetic.
    router = started("Idle -> r :: IPRateMonitor(PACKETS, 1, -3) -> Discard")
    assert router.handlers.read("r.thresh") == str((-3 * 65536) % 2**32 >> 16)
