"""Writing an element's ``config`` handler: Click's live reconfiguration.

The element takes the new configuration while running, keeps its running
state (queued packets, counters, task), and refuses a configuration with a
mistake, left exactly as it was.
"""

from __future__ import annotations

import pytest

from pyclick.errors import Landmark
from pyclick.lang import flatten
from pyclick.packet import Packet
from pyclick.registry import Registry
from pyclick.router import Router
from pyclick.runtime.handlers import HANDLER_FAILED, PERMISSION_DENIED, HandlerError
from tests.helpers import manual_example
from tests.sinks import KeepingTestSink, element_with_sinks  # noqa: F401  (named by configurations)
from tests.test_elements_click_queue import run

AT = Landmark("live.click", 1)
IPV4 = bytes(12) + b"\x08\x00" + bytes(6)
ARP = bytes(12) + b"\x08\x06" + bytes(6)


def test_a_new_configuration_changes_what_the_element_does():
    classifier, (ip, other) = element_with_sinks("Classifier", "12/0800, -", 2, AT)
    router = classifier.router
    classifier.push(0, [Packet(IPV4), Packet(ARP)])
    router.handlers.write("e.config", "12/0806, -")
    classifier.push(0, [Packet(IPV4), Packet(ARP)])
    # Before: the IPv4 frame to output 0; after: the ARP frame.
    assert [p.data[12:14] for p in ip.packets] == [b"\x08\x00", b"\x08\x06"]
    assert [p.data[12:14] for p in other.packets] == [b"\x08\x06", b"\x08\x00"]
    assert router.handlers.read("e.config") == "12/0806, -"


def test_a_configuration_with_a_mistake_is_refused_and_changes_nothing():
    truncate, (out,) = element_with_sinks("Truncate", "4", 1, AT)
    handlers = truncate.router.handlers
    with pytest.raises(HandlerError) as caught:
        handlers.write("e.config", "2, EXTRA_LENGTH maybe")
    assert caught.value.code == HANDLER_FAILED
    # The message names the handler and the keyword, not the configuration's place.
    assert caught.value.message.startswith("e.config: EXTRA_LENGTH: ")
    assert "live.click" not in caught.value.message
    truncate.push(0, [Packet(bytes(10))])
    assert [len(p.data) for p in out.packets] == [4]
    assert handlers.read("e.config") == "4"
    with pytest.raises(HandlerError) as caught:
        handlers.write("e.config", "2, BOGUS 1")
    assert "BOGUS: unknown keyword" in caught.value.message
    assert handlers.read("e.nbytes") == "4"


def test_an_element_that_cannot_be_reconfigured_has_a_read_only_config():
    counter, _ = element_with_sinks("Counter", "", 1, AT)
    handlers = counter.router.handlers
    with pytest.raises(HandlerError) as caught:
        handlers.write("e.config", "")
    assert caught.value.code == PERMISSION_DENIED
    listed = dict(line.split("\t") for line in handlers.read("e.handlers").splitlines())
    assert listed["config"] == "r"


def test_a_queue_keeps_its_packets_and_frees_those_beyond_a_smaller_capacity():
    router = Router(flatten("Idle -> e :: Queue(5) -> Idle", filename="live.click"),
                    simtime=True)
    router.configure()
    queue, handlers = router.element("e"), router.handlers
    queue.push(0, [Packet(bytes([i])) for i in range(4)])
    handlers.write("e.config", "8")
    assert [handlers.read(h) for h in ("e.length", "e.capacity", "e.drops")] == ["4", "8", "0"]
    # Down to 2: the two oldest stay, the two newest are freed, uncounted as drops.
    handlers.write("e.config", "2")
    assert [handlers.read(h) for h in ("e.length", "e.capacity", "e.drops")] == ["2", "2", "0"]
    assert [queue.pull(0).data for _ in range(2)] == [b"\x00", b"\x01"]
    # The flat configuration shows the element as it is now, as Click's does.
    assert "e :: Queue(2);" in handlers.read("flatconfig").splitlines()
    listed = dict(line.split("\t") for line in handlers.read("e.handlers").splitlines())
    assert listed["config"] == "rw"


def test_a_class_with_its_own_config_reader_can_still_be_reconfigured():
    # RatedSplitter reads config as its rate; the write still reconfigures.
    splitter, _ = element_with_sinks("RatedSplitter", "10", 2, AT)
    handlers = splitter.router.handlers
    handlers.write("e.config", "5")
    assert handlers.read("e.rate") == "5"


def test_a_reconfigured_source_sends_under_its_new_settings_from_a_count_of_zero():
    # The source sends 2, stops; at 1 s its new configuration (LIMIT 3)
    # starts the count again: 3 more, 5 in all.
    assert run("s :: InfiniteSource(LIMIT 2, STOP false) -> c :: Counter -> Discard;"
               "Script(wait 1, write s.config LIMIT 3, wait 1, stop)",
               "c.count", "s.count", "s.config", "s.limit") == ["5", "3", "LIMIT 3", "3"]


def test_an_inactive_source_reconfigured_without_active_false_starts_sending():
    # The new configuration leaves ACTIVE at its default, true: the same task
    # is scheduled and sends LIMIT 4, then goes to sleep.
    assert run("s :: InfiniteSource(LIMIT 2, ACTIVE false, STOP false) -> c :: Counter -> Discard;"
               "Script(wait 1, write s.config LIMIT 4, wait 1, stop)",
               "c.count", "s.active", "s.scheduled") == ["4", "true", "false"]


def test_headers_keep_counting_their_ip_ids_across_a_reconfiguration():
    encap, (out,) = element_with_sinks("IPEncap", "4, 1.0.0.1, 2.0.0.2", 1, AT)
    encap.push(0, [Packet(b"x")])
    encap.router.handlers.write("e.config", "17, 1.0.0.1, 3.0.0.3")
    encap.push(0, [Packet(b"y")])
    # IP ids 0 then 1 (bytes 4-5); protocol 4 then 17 (byte 9); the new destination.
    assert [(p.data[4:6], p.data[9], p.data[16:20]) for p in out.packets] == [
        (b"\x00\x00", 4, bytes([2, 0, 0, 2])), (b"\x00\x01", 17, bytes([3, 0, 0, 3]))]


def test_stride_scheduling_takes_new_tickets():
    sched = Router(flatten("Idle -> a :: Queue -> [0] s :: StrideSched(1, 2);"
                           "Idle -> b :: Queue -> [1] s; s -> Idle", filename="live.click"),
                   simtime=True)
    sched.configure()
    sched.initialize()
    handlers = sched.handlers
    handlers.write("s.config", "3, 0")
    assert [handlers.read("s.tickets0"), handlers.read("s.tickets1")] == ["3", "0"]
    with pytest.raises(HandlerError) as caught:
        handlers.write("s.config", "3")
    assert caught.value.message == "s.config: need 2 arguments, one per input port"
    assert handlers.read("s.config") == "3, 0"
    sched.cleanup()


def test_an_arp_querier_keeps_its_table_and_the_settings_not_given():
    querier, _ = element_with_sinks(
        "ARPQuerier", "1.0.0.1/24, 0:0:0:0:0:1, TIMEOUT 10, CAPACITY 7, POLL_TIMEOUT 3, "
        "BROADCAST_POLL true", 2, AT)
    handlers = querier.router.handlers
    waiting = Packet(b"x")
    waiting.dst_ip = bytes([1, 0, 0, 3])
    querier.push(0, [waiting])
    handlers.write("e.insert", "1.0.0.2 0:0:0:0:0:2")
    handlers.write("e.config", "1.0.0.1/16, 0:0:0:0:0:1, ENTRY_CAPACITY 5")
    table = querier.neighbors
    # Same addresses: the entries and the waiting packet stay, and so do the
    # settings not given (not Click's defaults), and the query count.
    assert [handlers.read(h) for h in ("e.count", "e.length", "e.queries")] == ["2", "1", "1"]
    assert (table.timeout, table.capacity, table.entry_capacity) == (10, 7, 5)
    assert (querier.poll_timeout, querier.broadcast_poll) == (3, True)
    assert handlers.read("e.broadcast") == "1.0.255.255"
    # A new ETH: the table is forgotten, its packet dropped; counts stay.
    handlers.write("e.config", "1.0.0.1/16, 0:0:0:0:0:9")
    assert [handlers.read(h) for h in ("e.count", "e.length", "e.queries")] == ["0", "0", "1"]
    assert handlers.read("e.stats") == "1 packets killed\n1 ARP queries sent\n"


def test_an_arp_querier_leaves_a_shared_table_alone():
    router = Router(flatten("t :: ARPTable(CAPACITY 7);"
                            "Idle -> q :: ARPQuerier(1.0.0.1, 0:0:0:0:0:1, TABLE t) -> Idle;"
                            "Idle -> [1]q", filename="live.click"), simtime=True)
    router.configure()
    router.initialize()
    handlers = router.handlers
    handlers.write("t.insert", "1.0.0.2 0:0:0:0:0:2")
    handlers.write("q.config", "1.0.0.9, 0:0:0:0:0:9, CAPACITY 3, TABLE t")
    assert handlers.read("q.count") == "1"
    assert router.element("t").neighbors.capacity == 7
    assert handlers.read("q.ipaddr") == "1.0.0.9"
    router.cleanup()


def test_an_arp_table_keeps_its_entries_and_capacities_but_not_its_timeout():
    router = Router(flatten("t :: ARPTable(CAPACITY 7, ENTRY_CAPACITY 4, TIMEOUT 10)",
                            filename="live.click"), simtime=True)
    router.configure()
    router.initialize()
    handlers, table = router.handlers, router.element("t").neighbors
    handlers.write("t.insert", "1.0.0.2 0:0:0:0:0:2")
    handlers.write("t.config", "ENTRY_PACKET_CAPACITY 2")
    assert handlers.read("t.count") == "1"
    assert (table.capacity, table.entry_capacity, table.entry_packet_capacity) == (7, 4, 2)
    assert table.timeout == 300
    with pytest.raises(HandlerError):
        handlers.write("t.config", "CAPACITY_SLIM_FACTOR 0")
    assert handlers.read("t.config") == "ENTRY_PACKET_CAPACITY 2"
    router.cleanup()


def test_an_arp_table_given_a_shorter_timeout_expires_by_it():
    # The new TIMEOUT 2 (at 1 s) looks at the table at 3 s: the entry, 3 s old, goes.
    assert run("t :: ARPTable(TIMEOUT 100);"
               "Script(write t.insert 1.0.0.2 0:0:0:0:0:2, wait 1, write t.config TIMEOUT 2,"
               " wait 2.5, stop)", "t.count") == ["0"]


#: Configurations no element should take blindly.
HOSTILE = ["", "\x00", "-1", "nan", "1e999", "x" * 10_000, "a, b, c, d, e, f, g, h", "BOGUS 1",
           "\"unterminated"]
LIVE_CLASSES = sorted(name for name, cls in Registry().all_classes().items()
                      if cls.__module__.startswith("pyclick.elements.")
                      and cls.can_live_reconfigure)


@pytest.mark.parametrize("name", LIVE_CLASSES)
def test_every_live_class_takes_its_own_configuration_and_refuses_a_bad_one_unchanged(name):
    cls = Registry().all_classes()[name]
    example = manual_example(cls)
    assert example is not None, f"{name}: its manual has no example"
    router = Router(flatten(example, filename="example.click"), simtime=True)
    router.configure()
    element = next(e for e in router.elements if type(e) is cls)
    handler = f"{element.name}.config"
    config = element.config
    router.handlers.write(handler, config)
    assert element.config == config
    for value in HOSTILE:
        before = dict(vars(element))
        try:
            router.handlers.write(handler, value)
        except HandlerError as err:
            assert err.code == HANDLER_FAILED
            assert err.message.startswith(f"{handler}: ")
            assert vars(element).keys() == before.keys()
            assert all(vars(element)[k] is v for k, v in before.items()), value
            assert element.config == config
        else:
            config = element.config
