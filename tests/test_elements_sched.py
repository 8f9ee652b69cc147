"""Pull schedulers, timed sinks and shapers, link emulation, splitters, RED,
FastUDPSource, Align, and the information elements: behaviour from their
manuals, with hand-worked expected values, as one-liners and as whole
configurations written in the style of Click's examples."""

from __future__ import annotations

import socket
import struct

import pytest

from pyclick.cli import main
from pyclick.elements.inet import checksum
from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.packet import ANNOTATIONS, Packet
from pyclick.router import Router
from tests.helpers import handler_values as shared_handler_values
from tests.netns import inside, ip
from tests.sinks import KeepingTestSink
from tests.test_packet_io import namespace, needs_namespace, running, wait_until

assert KeepingTestSink  # registered by import, used by name in configurations

FWD_RATE = ANNOTATIONS["FWD_RATE"][0]


def router_of(text: str, *, simtime: bool = True) -> Router:
    router = Router(flatten(text, "sched.click"), simtime=simtime)
    router.configure()
    return router


def started(text: str) -> Router:
    router = router_of(text)
    router.initialize()
    return router


def painted(*colors: int) -> list[Packet]:
    packets = []
    for color in colors:
        packet = Packet.make(b"\0" * 20)
        packet.paint = color
        packets.append(packet)
    return packets


def handler_values(capsys, config: str, *names: str, options: tuple[str, ...] = ()) -> list[str]:
    return shared_handler_values(capsys, ["--simtime", *options, "-e", config], *names)


THREE_QUEUES = ("q0 :: Queue -> [0] s; q1 :: Queue -> [1] s; q2 :: Queue -> [2] s;"
                "Idle -> q0; Idle -> q1; Idle -> q2; s -> Idle;")


def pulled_colors(router: Router, count: int) -> list[int | None]:
    sched = router.element("s")
    colors = []
    for _ in range(count):
        packet = sched.pull(0)
        colors.append(None if packet is None else packet.paint)
    return colors


# --- pull schedulers

def test_roundrobinsched_takes_turns_and_skips_empty_inputs():
    router = started("s :: RoundRobinSched;" + THREE_QUEUES)
    try:
        router.element("q0").push(0, painted(0, 0, 0))
        router.element("q1").push(0, painted(1))
        # q2 is empty: its turn passes without a pull.
        assert pulled_colors(router, 5) == [0, 1, 0, 0, None]
    finally:
        router.cleanup()


def test_priosched_prefers_the_lowest_input():
    router = started("s :: PrioSched;" + THREE_QUEUES)
    try:
        router.element("q2").push(0, painted(2))
        router.element("q1").push(0, painted(1, 1))
        router.element("q0").push(0, painted(0))
        assert pulled_colors(router, 5) == [0, 1, 1, 2, None]
    finally:
        router.cleanup()


def test_stridesched_shares_by_tickets():
    # Strides 65536/3 = 21845 and 65536; passes start at the strides. The
    # passes of input 0 go 21845, 43690, 65535, 87380...: it is ahead of
    # input 1 (65536) three times out of four.
    router = started("s :: StrideSched(3, 1, 0);" + THREE_QUEUES)
    try:
        for name, color in (("q0", 0), ("q1", 1), ("q2", 2)):
            router.element(name).push(0, painted(*[color] * 10))
        assert pulled_colors(router, 8) == [0, 0, 0, 1, 0, 0, 0, 1]
        handlers = router.handlers
        assert handlers.read("s.config") == "3, 1, 0"
        # Input 0 leaves the schedule; input 2 joins it.
        handlers.write("s.tickets0", "0")
        handlers.write("s.tickets2", "1")
        assert handlers.read("s.tickets2") == "1"
        assert set(pulled_colors(router, 4)) == {1, 2}
    finally:
        router.cleanup()


def test_stridesched_passes_over_an_empty_input():
    router = started("s :: StrideSched(1, 1, 1);" + THREE_QUEUES)
    try:
        router.element("q1").push(0, painted(1, 1))
        router.element("q2").push(0, painted(2, 2))
        # Strides and passes all 65536, so port order: input 0 (empty) is only
        # stridden, input 1 gives; both go back at pass 131072, each before
        # the equal passes already there: [2, 1, 0]. Input 2 gives and goes
        # back first again ([2, 1, 0] at 131072); then input 1 gives.
        assert pulled_colors(router, 5) == [1, 2, 2, 1, None]
    finally:
        router.cleanup()


def test_stridesched_arguments():
    with pytest.raises(ConfigError) as err:
        router_of("s :: StrideSched(1, -2); Idle -> [0] s; Idle -> [1] s; s -> Idle")
    assert str(err.value) == ("sched.click:1: While configuring 's :: StrideSched': "
                              "TICKETS1: must be at least 0, got '-2'")
    with pytest.raises(ConfigError) as err:
        router_of("s :: StrideSched(1); Idle -> [0] s; Idle -> [1] s; s -> Idle")
    assert str(err.value) == ("sched.click:1: While configuring 's :: StrideSched': "
                              "need 2 arguments, one per input port")


def test_schedulers_feed_an_unqueue_until_the_queues_are_empty(capsys):
    config = ("a :: InfiniteSource(LIMIT 3) -> Queue -> [0] rr :: RoundRobinSched;"
              "b :: InfiniteSource(LIMIT 5) -> Queue -> [1] rr;"
              "rr -> Unqueue -> c :: Counter -> Discard")
    assert handler_values(capsys, config, "c.count") == ["8"]


def test_stride_scheduled_one_liner(capsys):
    # Both queues are full before the first pull: 3 of every 4 from input 0.
    config = ("InfiniteSource(LIMIT 20, BURST 20) -> Paint(0) -> Queue"
              " -> [0] s :: StrideSched(3, 1);"
              "InfiniteSource(LIMIT 20, BURST 20) -> Paint(1) -> Queue -> [1] s;"
              "s -> Unqueue(LIMIT 8) -> ps :: PaintSwitch;"
              "ps[0] -> a :: Counter -> Discard; ps[1] -> b :: Counter -> Discard")
    assert handler_values(capsys, config, "a.count", "b.count") == ["6", "2"]


# --- timed sinks, shapers, links

def test_timedsink_pulls_one_packet_per_interval(capsys):
    # Pulls at 100, 200 and 300 ms; the script stops at 350 ms.
    config = ("InfiniteSource(LIMIT 5) -> q :: Queue -> t :: TimedSink(100ms);"
              "Script(wait 350ms, stop)")
    assert handler_values(capsys, config, "t.count", "q.length", "t.interval") == [
        "3", "2", "100ms"]


@pytest.mark.parametrize("delay, printed", [
    ("0", "0ms"), ("0.0015", "1500us"), ("0.000999999", "999999ns"), ("0.0000000015", "2ns"),
    ("1", "1.000000s"), ("1.0000015", "1.000001500s"), ("0.9999999999", "1.000000s"),
])
def test_intervals_print_to_the_nanosecond_as_click_prints_them(delay, printed):
    router = router_of(f"Idle -> Queue -> d :: DelayShaper({delay}) -> Unqueue -> Discard")
    assert router.handlers.read("d.delay") == printed


def test_delayshaper_holds_each_packet_for_delay(capsys):
    # Unstamped packets are stamped when pulled: the first leaves at 1 s, the
    # second is pulled then and leaves at 2 s, the third at 3 s.
    config = ("InfiniteSource(LIMIT 3, TIMESTAMP false) -> Queue -> d :: DelayShaper(1s)"
              " -> Unqueue -> c :: Counter -> Discard;"
              "Script(wait 1.5s, print $(c.count), wait 1s, print $(c.count), stop)")
    assert main(["--simtime", "-e", config, "-h", "d.delay"]) == 0
    assert capsys.readouterr().out == "1\n2\n1.000000s\n"


@pytest.mark.parametrize("queue", ["Queue", "SimpleQueue"])
def test_linkunqueue_emulates_latency_and_bandwidth(capsys, queue):
    # 100-byte packets at 80kbps (10,000 bytes/s) take 10 ms each, after 10 ms
    # of latency, back to back: they arrive at 20, 30 and 40 ms. Below a
    # SimpleQueue, which has no notifier, the link polls it while it has
    # room: simulated time still reaches each arrival (it stayed at 0.2 ms,
    # polling, and nothing came out).
    config = (f"InfiniteSource(LIMIT 3, LENGTH 100) -> {queue} -> l :: LinkUnqueue(10ms, 80kbps)"
              " -> c :: Counter -> Discard;"
              "Script(wait 15ms, print $(c.count) $(l.size), wait 10ms, print $(c.count),"
              " wait 10ms, print $(c.count), wait 10ms, print $(c.count) $(l.size), stop)")
    assert main(["--simtime", "-e", config, "-h", "l.latency", "-h", "l.bandwidth"]) == 0
    assert capsys.readouterr().out == ("0 2\n1\n2\n3 0\nl.latency:\n10ms\n\n"
                                       "l.bandwidth:\n10000\n\n")


def test_linkunqueue_refuses_a_bandwidth_below_100_bytes_per_second():
    with pytest.raises(ConfigError) as err:
        router_of("Idle -> Queue -> LinkUnqueue(1ms, 700bps) -> Discard")
    assert ("BANDWIDTH: must be at least 100 and at most 100000000000, got '700bps'"
            in str(err.value))


def test_ratedsplitter_sends_the_excess_to_output_1(capsys):
    # Ten packets at once; the bucket holds 4 tokens.
    config = ("InfiniteSource(LIMIT 10, BURST 10) -> rs :: RatedSplitter(1, BURST_SIZE 4);"
              "rs[0] -> a :: Counter -> Discard; rs[1] -> b :: Counter -> Discard")
    assert handler_values(capsys, config, "a.count", "b.count", "rs.rate") == ["4", "6", "1"]


def test_ratedsplitter_config_reads_the_rate():
    router = router_of("Idle -> rs :: RatedSplitter(RATE 7) -> Discard; rs[1] -> Discard")
    assert router.handlers.read("rs.config") == "7"
    router.handlers.write("rs.rate", "9")
    assert router.handlers.read("rs.config") == "9"


# --- plumbing

@pytest.mark.parametrize("paint, copies", [(7, "4"), (3, "0")])
def test_painttee_copies_packets_of_its_color(capsys, paint, copies):
    config = (f"InfiniteSource(LIMIT 4) -> Paint({paint}) -> pt :: PaintTee(7)"
              " -> a :: Counter -> Discard; pt[1] -> b :: Counter -> Discard")
    assert handler_values(capsys, config, "a.count", "b.count") == ["4", copies]


def test_painttee_pulled_copies_packets_of_its_color(capsys):
    config = ("InfiniteSource(LIMIT 4) -> Paint(7) -> Queue -> pt :: PaintTee(7)"
              " -> Unqueue -> a :: Counter -> Discard; pt[1] -> b :: Counter -> Discard")
    assert handler_values(capsys, config, "a.count", "b.count", "pt.ports") == [
        "4", "4", "1 input\npull~\t-\tQueue@3 [0]\n2 outputs\npull~\t-\t[0] Unqueue@5\n"
        "push\t-\t[0] b"]


def test_block_splits_by_the_rate_annotation():
    router = started("b :: Block(5); Idle -> b -> KeepingTestSink; b[1] -> KeepingTestSink")
    try:
        batch = painted(*range(4))
        for packet, rate in zip(batch, (3, 5, 6, 100)):
            packet.set_anno_u32(FWD_RATE, rate)
        router.element("b").push(0, batch)
        low, high = (router.elements[i] for i in (2, 3))
        assert [p.paint for p in low.packets] == [0, 1]
        assert [p.paint for p in high.packets] == [2, 3]
        router.handlers.write("b.thresh", "0")
        router.element("b").push(0, painted(9))
        assert [p.paint for p in low.packets] == [0, 1, 9]
    finally:
        router.cleanup()


def test_align_moves_data_and_headers():
    router = started("a :: Align(4, 2); Idle -> a -> Idle")
    try:
        packet = Packet.make(b"0123456789abcdef", headroom=28)
        packet.set_mac_header(0, 6)
        packet.set_network_header(6, 4)
        aligned = router.element("a").simple_action(packet)
        # 28 is a multiple of 4: the data moves 2 bytes on.
        assert aligned.data_offset == 30
        assert aligned.data == b"0123456789abcdef"
        assert (aligned.mac_header_offset, aligned.network_header_offset,
                aligned.transport_header_offset) == (0, 6, 10)
        again = router.element("a").simple_action(aligned)
        assert again.data_offset == 30
    finally:
        router.cleanup()


def test_align_arguments():
    with pytest.raises(ConfigError) as err:
        router_of("Idle -> Align(3, 0) -> Idle; Idle -> Align(4, 4) -> Idle")
    assert str(err.value).splitlines() == [
        "sched.click:1: While configuring 'Align@2 :: Align': MODULUS: must be 2, 4 or 8, "
        "got '3'",
        "sched.click:1: While configuring 'Align@5 :: Align': OFFSET: must be at least 0 and "
        "at most 3, got '4'"]


# --- FastUDPSource

def test_fastudpsource_builds_a_valid_udp_frame():
    router = started("f :: FastUDPSource(0, 4, 50, 0:0:0:0:0:1, 1.0.0.1, 1234, 2:2:2:2:2:2,"
                     " 2.0.0.2, 80, INTERVAL 2) -> Idle")
    try:
        source = router.element("f")
        frames = [source.pull(0) for _ in range(5)]
        assert frames[4] is None and source.count == 4
        # LENGTH 50 is raised to 60.
        first = frames[0].data
        assert len(first) == 60
        assert first[:14] == bytes.fromhex("020202020202" "000000000001" "0800")
        ip, udp = first[14:34], first[34:60]
        assert checksum(ip) == 0 and ip[8] == 250 and ip[9] == 17
        assert struct.unpack("!HH", ip[2:4] + ip[6:8]) == (46, 0)
        assert struct.unpack("!HHH", udp[:6]) == (1234, 80, 26)
        pseudo = ip[12:20] + struct.pack("!BBH", 0, 17, 26)
        assert checksum(pseudo + udp) == 0
        # After every 2 packets both ports go up by one.
        ports = [struct.unpack("!HH", frame.data[34:38]) for frame in frames[:4]]
        assert ports == [(1234, 80), (1234, 80), (1235, 81), (1235, 81)]
        assert frames[0].dst_ip == bytes([2, 0, 0, 2])
    finally:
        router.cleanup()


def test_fastudpsource_rate_and_limit(capsys):
    config = ("f :: FastUDPSource(10, 5, 60, 0:0:0:0:0:0, 1.0.0.1, 1234, 1:1:1:1:1:1,"
              " 2.0.0.2, 1234) -> Unqueue -> c :: Counter -> Discard;"
              "Script(wait 250ms, print $(c.count), wait 1s, print $(c.count) $(f.rate), stop)")
    # At 10 a second: packets at 0, 100 and 200 ms by 250 ms; five in 400 ms
    # make an average of 12.5 a second, printed as 12.
    assert main(["--simtime", "-e", config]) == 0
    assert capsys.readouterr().out == "3\n5 12\n"


# --- RED

def test_red_drops_everything_above_max_thresh_without_gentle(capsys):
    # STABILITY 0 uses the queue length itself; MAX_P 0 drops nothing up to
    # MAX_THRESH: 11 packets get in (lengths 0..10), the other 29 are dropped.
    config = ("InfiniteSource(LIMIT 40, BURST 40) -> r :: RED(2, 10, 0, STABILITY 0,"
              " GENTLE false) -> q :: Queue(100) -> Idle")
    assert handler_values(capsys, config, "r.drops", "q.length", "r.queues", "r.config") == [
        "29", "11", "q", "2, 10, 0, QUEUES q, STABILITY 0, GENTLE false"]


def test_red_average_and_max_p_print_in_fixed_point(capsys):
    # Lengths 1..19 met by packets 2..20, each weighted 1/16 (15/16)^(19 - L):
    # 8.40094, which is 8603 / 2^10, printed 8.401. MAX_P .123456 is 8091 / 2^16,
    # printed 0.12346; no drops at all below MAX_THRESH with MAX_P 0.
    config = ("InfiniteSource(LIMIT 20, BURST 20) -> r :: RED(5, 10, 0, GENTLE false)"
              " -> q :: Queue(100) -> Idle")
    assert handler_values(capsys, config, "r.stats", "r.avg_queue_size") == [
        "20 current queue\n8.401 avg queue\n0 drops", "8.401"]
    router = router_of("r :: RED(5, 10, .123456); Idle -> r -> q :: Queue -> Idle")
    router.initialize()
    try:
        h = router.handlers
        assert (h.read("r.max_p"), h.read("r.avg_queue_size")) == ("0.12346", "0")
        assert h.read("r.config") == "5, 10, 0.12346, QUEUES q, STABILITY 4"
        h.write("r.max_p", "0.5")
        assert h.read("r.stats") == "0 current queue\n0 avg queue\n0 drops\n"
        assert h.read("r.max_p") == "0.5"
    finally:
        router.cleanup()


def test_red_probability_curve():
    # MAX_P is kept to 2^-16: 0.125 exactly (0.1 would be 6554 / 2^16).
    router = router_of("r :: RED(10, 20, 0.125, QUEUES q); Idle -> r -> q :: Queue -> Idle")
    red = router.element("r")
    for average, expected in ((5, 0.0), (10, 0.0), (15, 0.0625), (20, 0.125), (30, 0.5625),
                              (40, 1.0)):
        red.average = average
        assert red.probability() == pytest.approx(expected)


def test_red_in_pull_context_watches_the_queue_upstream_and_errors():
    router = started("q :: Queue -> r :: RED(1, 2, 0.5) -> Unqueue -> Discard; Idle -> q")
    try:
        assert router.handlers.read("r.queues") == "q\n"
    finally:
        router.cleanup()
    with pytest.raises(ConfigError) as err:
        router_of("Idle -> r :: RED(5, 2, 0.1) -> Discard")
    assert str(err.value) == ("sched.click:1: While configuring 'r :: RED': "
                              "MAX_THRESH (2) is below MIN_THRESH (5)")
    router = router_of("Idle -> r :: RED(1, 2, 0.1) -> Discard")
    with pytest.raises(ConfigError) as err:
        router.initialize()
    assert str(err.value) == ("sched.click:1: While initializing 'r :: RED': "
                              "no nearby Queues")


# --- information elements

def test_scheduleinfo_checks_its_arguments():
    router = router_of("ScheduleInfo(u 2, c/i 0.5); Idle -> Queue -> u :: Unqueue -> Discard")
    assert router.elements[0].parameters == {"u": 2.0, "c/i": 0.5}
    with pytest.raises(ConfigError) as err:
        router_of("ScheduleInfo(u, v -1)")
    assert str(err.value).splitlines() == [
        "sched.click:1: While configuring 'ScheduleInfo@1 :: ScheduleInfo': "
        "argument 1: expected 'ELEMENTNAME PARAM'",
        "sched.click:1: While configuring 'ScheduleInfo@1 :: ScheduleInfo': "
        "PARAM: must be at least 0 and at most 32768, got '-1'"]


def test_clickyinfo_takes_anything():
    router = router_of('ClickyInfo(STYLE #c { decorations: activity }, anything, X 1)')
    assert router.elements[0].styles == ["STYLE #c { decorations: activity }", "anything",
                                         "X 1"]


# --- whole configurations, as Click's examples are written

PRIORITY_LINK = """
// Two classes of traffic share one emulated link: the first has strict
// priority, both are delayed as by a 1 Mbps serial line with 5 ms latency.
AddressInfo(sender 10.1.0.1 02:00:00:00:00:01, receiver 10.1.0.2 02:00:00:00:00:02);

hi :: InfiniteSource(LIMIT 4, LENGTH 60, TIMESTAMP false)
    -> Paint(1) -> hq :: Queue(10);
lo :: InfiniteSource(LIMIT 4, LENGTH 60, TIMESTAMP false)
    -> Paint(2) -> lq :: Queue(10);
hq -> [0] prio :: PrioSched;
lq -> [1] prio;
prio -> link :: LinkUnqueue(5ms, 1Mbps)
     -> EtherEncap(0x0800, sender, receiver)
     -> ps :: PaintSwitch;
ps[1] -> high :: Counter -> Discard;
ps[2] -> low :: Counter -> Discard;
ps[0] -> Discard;
ScheduleInfo(hi 2, lo 1);
ClickyInfo(STYLE #link { decorations: activity });
"""

STRIDE_SAMPLER = """
// Three stride-scheduled queues drained at a fixed interval; a rated
// splitter samples what the first source sends.
elementclass Sampled {
  input -> rs :: RatedSplitter(1000, BURST_SIZE 2);
  rs[0] -> t :: Tee; t[0] -> [0] output; t[1] -> [1] output;
  rs[1] -> [0] output;
}
s1 :: InfiniteSource(LIMIT 6, BURST 6) -> sample :: Sampled -> q1 :: Queue;
sample[1] -> sampled :: Counter -> Discard;
s2 :: InfiniteSource(LIMIT 6, BURST 6) -> q2 :: Queue;
s3 :: InfiniteSource(LIMIT 6, BURST 6) -> RED(20, 40, 0.1) -> q3 :: Queue;
q1 -> [0] ss :: StrideSched(1, 2, 3);
q2 -> [1] ss;
q3 -> [2] ss;
ss -> sink :: TimedSink(10ms);
"""


def test_a_priority_link_configuration(tmp_path, capsys):
    path = tmp_path / "prio-link.click"
    path.write_text(PRIORITY_LINK)
    # 60-byte frames take 480 us at 1 Mbps; the last of 8 arrives at
    # 5 ms + 8 x 0.48 ms = 8.84 ms. The high-priority ones go first.
    assert main(["--simtime", str(path), "-h", "high.count", "-h", "low.count"]) == 0
    assert capsys.readouterr().out == "high.count:\n4\n\nlow.count:\n4\n\n"
    assert main(["-q", str(path)]) == 0


def test_a_stride_sampler_configuration(tmp_path, capsys):
    path = tmp_path / "stride-sampler.click"
    path.write_text(STRIDE_SAMPLER)
    assert main(["-q", str(path)]) == 0
    # The bucket holds 2 tokens: 2 of the first source's 6 packets are sampled.
    config = STRIDE_SAMPLER + "Script(wait 1s, stop);"
    assert main(["--simtime", "-e", config, "-h", "sampled.count", "-h", "sink.count"]) == 0
    assert capsys.readouterr().out == "sampled.count:\n2\n\nsink.count:\n18\n\n"


def test_kerneltap_is_kerneltun_on_a_tap_device():
    router = router_of("AddressInfo(tap_remote 2:2:2:2:2:2);"
                       "tap :: KernelTap(10.9.0.1/24, ETHER tap_remote) -> Discard",
                       simtime=False)
    tap = router.element("tap")
    assert tap.tap and tap.ether == bytes([2] * 6) and str(tap.address) == "10.9.0.1/24"
    tun = router_of("tun :: KernelTun(10.9.0.1/24) -> Discard", simtime=False).element("tun")
    assert not tun.tap
    with pytest.raises(ConfigError) as err:
        router_of("KernelTap(10.9.0.1/24, ETHER nobody) -> Discard", simtime=False)
    assert str(err.value) == (
        "sched.click:1: While configuring 'KernelTap@1 :: KernelTap': ETHER: expected "
        "Ethernet address (e.g. 00:11:22:33:44:55), got 'nobody'")


@needs_namespace
def test_kerneltap_answers_the_kernels_arp_and_receives_its_frames():
    # The kernel sends to 10.7.0.2 through the TAP device: it asks for its
    # Ethernet address first; the ARPResponder answers through the device,
    # and the five datagrams follow, as Ethernet frames.
    with namespace() as ns:
        config = ("AddressInfo(peer 10.7.0.2 02:00:00:00:00:08);"
                  "tap :: KernelTap(10.7.0.1/24, ETHER 02:00:00:00:00:07, DEVNAME pyk7)"
                  " -> c :: Classifier(12/0806, 12/0800);"
                  "c[0] -> arps :: Counter -> ARPResponder(peer) -> tap;"
                  "c[1] -> ips :: Counter -> Discard")
        with running(config, ns) as router:
            # The router sets the device up on its own thread.
            assert wait_until(lambda: "10.7.0.1/24" in ip("-n", ns, "-o", "addr", "show")
                              and ",UP" in ip("-n", ns, "-o", "link", "show", "pyk7"))
            with inside(ns):
                sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            with sender:
                for _ in range(5):
                    sender.sendto(b"x", ("10.7.0.2", 9))
                assert wait_until(lambda: router.read("ips.count") == "5")
            assert router.read("arps.count") != "0"
            assert (router.read("tap.dev_name"), router.read("tap.drops")) == ("pyk7", "0")


def test_schedordertest_records_the_stride_order_of_tasks(capsys):
    # Tickets 1024, 2048, 3072: strides 64, 32, 21. Scheduled in turn, each
    # at the head's pass plus its stride: s1 64, s2 64 + 32 = 96, s3 64 + 21
    # = 85. Runs, lowest pass first, each moving on by its stride: s1 (to
    # 128), s3 (106), s2 (128, behind s1), s3 (127), s3 (148), s1 (192),
    # s2 (its second and last run). The record holds the largest SIZE, 7
    # IDs; once it is full, s1 stops the router. (Click's order too.)
    config = ("s1 :: SchedOrderTest(1, SIZE 7, STOP true);"
              "s2 :: SchedOrderTest(2, SIZE 4, LIMIT 2); s3 :: SchedOrderTest(3, SIZE 5);"
              "ScheduleInfo(s1 1, s2 2, s3 3)")
    assert handler_values(capsys, config, "s3.order") == ["1 3 2 3 3 1 2"]
