"""Read handler values that print as Click's elements print them."""

from __future__ import annotations

import pytest

from pyclick.errors import Landmark
from pyclick.packet import Packet
from pyclick.runtime.handlers import HandlerError
from tests.frames import ip_packet, udp
from tests.helpers import config_error_of, configured_router, handler_values
from tests.sinks import element_with_sinks

LANDMARK = Landmark("values.click", 1)


def element(cls: str, config: str = "", outputs: int = 1):
    return element_with_sinks(cls, config, outputs, LANDMARK)


# --- PullSwitch ------------------------------------------------------------------------------

def pull_switch(config: str):
    router = configured_router(
        [("a", "Idle", ""), ("b", "Idle", ""), ("s", "PullSwitch", config)],
        [("a", 0, "s", 0), ("b", 0, "s", 1)], at=LANDMARK, simtime=True)
    router.initialize()
    return router.handlers


def test_pullswitch_config_reads_the_chosen_input():
    # No argument: INPUT defaults to 0, and config says so, as switch does.
    handlers = pull_switch("")
    assert handlers.read("s.config") == "0"
    handlers.write("s.switch", "1")
    assert handlers.read("s.config") == handlers.read("s.switch") == "1"
    # Input 5 does not exist (two inputs): the switch is off, -1.
    handlers.write("s.switch", "5")
    assert handlers.read("s.config") == "-1"


# --- SetIPECN --------------------------------------------------------------------------------

@pytest.mark.parametrize("config, written", [("ect2", "ect2"), ("ECT(1)", "ECT(1)"),
                                             ("ECN ce", "ce"), ("3", "3")])
def test_setipecn_ecn_reads_the_setting_as_written(config, written):
    e, _ = element("SetIPECN", config)
    assert e.router.handlers.read("e.ecn") == written


def test_setipecn_ecn_write_changes_word_and_packets():
    e, (out,) = element("SetIPECN", "ect2")
    handlers = e.router.handlers
    handlers.write("e.ecn", " ce ")
    assert handlers.read("e.ecn") == "ce"
    # TOS 0xb8 (code point 46, ECN 0) becomes 0xbb with CE (3).
    e.push(0, [Packet(ip_packet("10.0.0.1", "10.0.0.2", 17, udp(1, 2), tos=0xB8))])
    assert out.packets[0].data[1] == 0xBB
    with pytest.raises(HandlerError):
        handlers.write("e.ecn", "ect3")
    assert handlers.read("e.ecn") == "ce"


def test_setipecn_bad_word_is_a_configuration_error():
    assert "ECN: expected ECN codepoint" in str(config_error_of(element, "SetIPECN", "cee"))


# --- ARPQuerier ------------------------------------------------------------------------------

QUERIER = "18.26.4.24/24, 00:00:c0:ae:67:ef"


def to(address: str) -> Packet:
    packet = Packet(ip_packet("18.26.4.24", address, 17, udp(1, 2)))
    packet.dst_ip = bytes(int(x) for x in address.split("."))
    return packet


def test_arpquerier_full_table_drops_the_oldest_packets():
    e, _ = element("ARPQuerier", QUERIER + ", CAPACITY 4", 2)
    handlers = e.router.handlers
    # A, A, B, C wait (4 = CAPACITY). The next, for C, would be the 5th: the
    # table slims to CAPACITY - CAPACITY/2 = 2 packets counting the new one,
    # so 1 may stay: A's two and B's one go (3 dropped), C's first stays.
    e.push(0, [to("18.26.4.1"), to("18.26.4.1"), to("18.26.4.2"), to("18.26.4.3"),
               to("18.26.4.3")])
    assert handlers.read("e.length") == "2"
    assert handlers.read("e.stats").split("\n")[0] == "3 packets killed"
    # The entries stay, without packets.
    assert handlers.read("e.count") == "3"


def test_arpquerier_slim_factor():
    e, _ = element("ARPQuerier", QUERIER + ", CAPACITY 3, CAPACITY_SLIM_FACTOR 1", 2)
    handlers = e.router.handlers
    # Factor 1: slim to 3 - 3 = 0, at least 1, counting the new packet, so all
    # 3 waiting go and only the 4th packet waits.
    e.push(0, [to("18.26.4.1"), to("18.26.4.2"), to("18.26.4.3"), to("18.26.4.3")])
    assert handlers.read("e.length") == "1"
    assert handlers.read("e.stats").split("\n")[0] == "3 packets killed"


def test_arpquerier_slim_factor_zero_is_refused():
    error = config_error_of(element, "ARPQuerier", QUERIER + ", CAPACITY_SLIM_FACTOR 0", 2)
    assert "CAPACITY_SLIM_FACTOR" in str(error)


# --- ARPResponder ----------------------------------------------------------------------------

@pytest.mark.parametrize("config, table", [
    # 10.1.1.1 lies inside 10.0.0.0/8: it comes first, wherever it was written.
    ("10.0.0.1/8 1:2:3:4:5:6, 10.1.1.1 2:2:2:2:2:2",
     "10.1.1.1/32 02-02-02-02-02-02\n10.0.0.0/8 01-02-03-04-05-06\n"),
    ("10.1.1.1 2:2:2:2:2:2, 10.0.0.1/8 1:2:3:4:5:6",
     "10.1.1.1/32 02-02-02-02-02-02\n10.0.0.0/8 01-02-03-04-05-06\n"),
    # Unrelated networks keep their order; of two entries for 18.26.4.24 the
    # later stays, in the first one's place.
    ("18.26.4.24 18.26.7.0/24 0-0-c0-ae-67-ef, 1.0.0.0/8 1:1:1:1:1:1, 18.26.4.24 2:2:2:2:2:2",
     "18.26.4.24/32 02-02-02-02-02-02\n18.26.7.0/24 00-00-C0-AE-67-EF\n"
     "1.0.0.0/8 01-01-01-01-01-01\n"),
    # A chain: each network just before the first one that holds it (2.0.0.0/8
    # lies in 0/0 only, so it goes before 0/0, after 1.0.0.0/8).
    ("0/0 4:4:4:4:4:4, 1.0.0.0/8 1:1:1:1:1:1, 1.2.0.0/16 1:2:3:4:5:6, 2.0.0.0/8 3:3:3:3:3:3",
     "1.2.0.0/16 01-02-03-04-05-06\n1.0.0.0/8 01-01-01-01-01-01\n"
     "2.0.0.0/8 03-03-03-03-03-03\n0.0.0.0/0 04-04-04-04-04-04\n"),
])
def test_arpresponder_table_order(config, table):
    e, _ = element("ARPResponder", config)
    assert e.router.handlers.read("e.table") == table


def test_arpresponder_add_keeps_the_order_and_the_later_entry():
    e, _ = element("ARPResponder", "10.0.0.0/8 1:1:1:1:1:1")
    handlers = e.router.handlers
    e.router.initialize()
    handlers.write("e.add", "10.0.0.0/8 2:2:2:2:2:2 10.9.0.0/16")
    assert handlers.read("e.table") == ("10.9.0.0/16 02-02-02-02-02-02\n"
                                        "10.0.0.0/8 02-02-02-02-02-02\n")
    # The later entry for 10.0.0.0/8 answers.
    try:
        assert handlers.read("e.lookup", "10.1.2.3") == "02-02-02-02-02-02"
    finally:
        e.router.cleanup()


# --- FastUDPSource ---------------------------------------------------------------------------

def test_fastudpsource_keeps_its_rate_with_time_near_1e9(capsys):
    # As at time 0: RATE 100 lets a packet out every 10 ms, LIMIT 5 packets at
    # 0, 10, ..., 40 ms; the average over those 40 ms is 5 / 0.04 = 125 a
    # second. Near 1e9 s a time difference loses its last digits: still 5.
    config = ("f :: FastUDPSource(100, 5, 60, 0:0:0:0:0:0, 1.0.0.1, 1234, 1:1:1:1:1:1,"
              " 2.0.0.2, 1234) -> Unqueue -> Discard; DriverManager(wait 1s, stop)")
    assert handler_values(capsys, ["--simtime=1000000000", "-e", config],
                          "f.count", "f.rate") == ["5", "125"]


# --- DirectIPLookup --------------------------------------------------------------------------

def test_directiplookup_bucket_is_clicks_hash():
    # 0.0.0.0/0: every term is 0, bucket 0. 1.0.0.0/8 (net 0x01000000, 8), by hand:
    # 0x01000000 ^ 8<<5 ^ ((net >> 2) - 8 = 0x003ffff8) = 0x013ffef8;
    # ^= (>>23: 2) ^ (>>15: 0x27f, *8: 0x13f8) ^ ((net >> 17) * 53 = 0x1a80): 0x013ff782;
    # -= (net >> 3 = 0x200000) ^ (>>8: 0x13ff7, *7: 0x8bfc1) ^ (>>11: 0x27fe, *103:
    # 0x101732) = 0x38a8f3: 0x01074e8f; ^ (>>17: 0x83) = 0x01074e0c; low 16 bits 0x4e0c.
    from pyclick.elements.directiplookup import click_bucket

    assert click_bucket(0, 0) == 0
    assert click_bucket(0x01000000, 8) == 0x4E0C


def test_directiplookup_table_lists_routes_by_bucket():
    # 0.0.0.0/0 is in bucket 0, 1.0.0.0/8 in 0x4e0c: the default route comes
    # first though written last.
    e, _ = element("DirectIPLookup", "1.0.0.0/8 1, 0.0.0.0/0 0", 2)
    assert e.router.handlers.read("e.table") == ("0.0.0.0/0\t\t-\t\t0\n"
                                                 "1.0.0.0/8\t\t-\t\t1\n")


# --- writes that set an argument of config, as Click's reconfigure handlers ---------------

@pytest.mark.parametrize("cls, config, writes, after", [
    ("EtherEncap", "0x0800, 1:1:1:1:1:1, 2:2:2:2:2:2",
     [("dst", "02-02-02-02-02-02"), ("ethertype", "2048")],
     "2048, 1:1:1:1:1:1, 02-02-02-02-02-02"),
    ("UDPIPEncap", "1.0.0.1, 1234, 2.0.0.2, 1234", [("sport", "0"), ("dst", "3.3.3.3")],
     "1.0.0.1, 0, 3.3.3.3, 1234"),
    ("IPEncap", "4, 1.0.0.1, DST 2.0.0.2", [("src", "9.9.9.9"), ("dst", "8.8.8.8")],
     "4, 9.9.9.9, DST 8.8.8.8"),
    ("SetIPDSCP", "DSCP 46", [("dscp", "10")], "DSCP 10"),
    ("SetIPECN", "ect2", [("ecn", "ce")], "ce"),
])
def test_a_write_sets_its_argument_in_config_as_click_s(cls, config, writes, after):
    # Each value worked out as Click's reconfigure handlers rewrite the
    # arguments (and checked against Click with DriverManager writes).
    e, _ = element(cls, config)
    for name, value in writes:
        e.router.handlers.write(f"e.{name}", value)
    assert e.router.handlers.read("e.config") == after


def test_a_queue_capacity_written_is_added_to_an_empty_config():
    router = configured_router([("i", "Idle", ""), ("q", "ThreadSafeQueue", ""),
                                ("d", "Discard", "")],
                               [("i", 0, "q", 0), ("q", 0, "d", 0)], at=LANDMARK, simtime=True)
    router.handlers.write("q.capacity", "1000")
    assert router.handlers.read("q.config") == "CAPACITY 1000"
    assert router.handlers.read("q.capacity") == "1000"


def test_a_refused_write_leaves_config_as_it_was():
    e, _ = element("EtherEncap", "0x0800, 1:1:1:1:1:1, 2:2:2:2:2:2")
    with pytest.raises(HandlerError):
        e.router.handlers.write("e.ethertype", "70000")
    assert e.router.handlers.read("e.config") == "0x0800, 1:1:1:1:1:1, 2:2:2:2:2:2"
