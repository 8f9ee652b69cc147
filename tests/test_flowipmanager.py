"""FlowIPManager and FlowCounter as elements of a router (one thread, synchronous)."""

from __future__ import annotations

import logging

import pytest

from pyclick.errors import Landmark
from pyclick.lang.model import FlatConfig, FlatConnection, FlatElement
from pyclick.packet import Packet
from pyclick.router import Router
from pyclick.sim.flows import build_frame
from tests.helpers import config_error_of

LINE = Landmark("flows.click", 3)


def router(fim_config: str, *, rejects: bool = False) -> Router:
    """fim :: FlowIPManager(...) -> fc :: FlowCounter -> Discard, [fim[1] -> rc :: Counter]."""
    elements = [FlatElement("fim", "FlowIPManager", fim_config, LINE),
                FlatElement("fc", "FlowCounter", "", Landmark("flows.click", 4)),
                FlatElement("sink", "Discard", "", Landmark("flows.click", 5))]
    connections = [FlatConnection("fim", 0, "fc", 0, LINE),
                   FlatConnection("fc", 0, "sink", 0, LINE)]
    if rejects:
        elements.append(FlatElement("rc", "Counter", "", Landmark("flows.click", 6)))
        elements.append(FlatElement("rsink", "Discard", "", Landmark("flows.click", 6)))
        connections += [FlatConnection("fim", 1, "rc", 0, LINE),
                        FlatConnection("rc", 0, "rsink", 0, LINE)]
    built = Router(FlatConfig(elements, connections), partial=True)
    built.configure()
    built.initialize()
    return built


def ipv4(sport: int, bucket: int, time: float = 0.0, size: int = 60) -> Packet:
    frame = build_frame(bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]), sport, 80, 6)
    return Packet(data=frame.ljust(size, b"\0"), timestamp=time, rss_hash=bucket)


def read(r: Router, name: str) -> str:
    return r.handlers.read(name)


def per_flow_packets(r: Router) -> dict[int, int]:
    fim, fc = r.element("fim"), r.element("fc")
    return {key[2]: fc.tally_of(state).packets for key, state in fim.flow_items()}


@pytest.mark.parametrize("config, message", [
    ("RETA_SIZE 0", "RETA_SIZE: must be at least 1"),
    ("CAPACITY 0", "CAPACITY: must be at least 1"),
    ("TIMEOUT soon", "TIMEOUT: expected time"),
    ("STATE nothing", "STATE: expected 'dict', 'bytes' or a dotted Python name"),
    ("STATE bytes", "STATE bytes needs RESERVE"),
    ("SIZE 3", "SIZE: unknown keyword"),
])
def test_configuration_mistakes_name_the_place_element_and_keyword(config, message):
    text = str(config_error_of(router, config))
    assert "flows.click:3:" in text and "fim :: FlowIPManager" in text and message in text


def test_flows_get_state_that_counters_fill():
    r = router("RETA_SIZE 8")
    fim = r.element("fim")
    fim.push(0, [ipv4(1000, 1), ipv4(1001, 2), ipv4(1000, 1, size=100)])
    fim.push(0, [ipv4(1002, 2)])
    assert read(r, "fim.count") == "3"
    assert read(r, "fim.flows") == "0 1 2 0 0 0 0 0"
    assert read(r, "fc.count") == "4" and read(r, "fc.flows") == "3"
    assert read(r, "fc.byte_count") == str(60 + 60 + 100 + 60)
    assert per_flow_packets(r) == {1000: 2, 1001: 1, 1002: 1}


def test_without_worker_threads_a_migration_completes_at_once_and_state_follows():
    r = router("RETA_SIZE 4")
    fim = r.element("fim")
    fim.init_assignment([0, 0, 1, 1])
    fim.push(0, [ipv4(7, 2), ipv4(7, 2)])
    fim.pre_migrate(1, [(2, 0)])
    assert read(r, "fim.pending") == "1"
    fim.post_migrate([(2, 1, 0)])
    assert read(r, "fim.pending") == "0" and read(r, "fim.migrations") == "1"
    assert read(r, "fim.owners") == "0 0 0 1"
    fim.push(0, [ipv4(7, 2)])
    assert per_flow_packets(r) == {7: 3}
    assert read(r, "fim.parked_total") == "0"


def test_packets_without_five_tuple_leave_on_output_1():
    r = router("", rejects=True)
    arp = Packet(data=b"\xff" * 12 + b"\x08\x06" + b"\0" * 46, rss_hash=5)
    r.element("fim").push(0, [arp, ipv4(1, 5)])
    assert read(r, "rc.count") == "1" and read(r, "fc.count") == "1"
    assert read(r, "fim.rejected") == "1"


def test_a_full_table_refuses_new_flows_and_drops_them_without_output_1():
    r = router("RETA_SIZE 2, CAPACITY 2")
    r.element("fim").push(0, [ipv4(1, 0), ipv4(2, 0), ipv4(3, 0), ipv4(1, 0), ipv4(4, 1)])
    assert per_flow_packets(r) == {1: 2, 2: 1, 4: 1}
    assert read(r, "fim.rejected") == "1"


def test_idle_flows_expire_on_their_owner_and_start_afresh():
    r = router("RETA_SIZE 2, TIMEOUT 10")
    fim = r.element("fim")
    fim.push(0, [ipv4(1, 0, time=0.0), ipv4(2, 1, time=1.0)])
    fim.push(0, [ipv4(2, 1, time=9.0)])
    fim.push(0, [ipv4(3, 0, time=12.0)])          # flow 1 idle for 12 s: gone
    assert read(r, "fim.expired") == "1"
    assert per_flow_packets(r) == {2: 2, 3: 1}
    fim.push(0, [ipv4(1, 0, time=12.5)])
    assert per_flow_packets(r)[1] == 1


def test_timeout_zero_keeps_flows_forever():
    r = router("TIMEOUT 0")
    fim = r.element("fim")
    fim.push(0, [ipv4(1, 0, time=0.0)])
    fim.push(0, [ipv4(2, 0, time=1e6)])
    assert read(r, "fim.expired") == "0" and read(r, "fim.count") == "2"


def test_bytes_state_is_a_reserved_area_and_flowcounter_says_it_cannot_use_it(caplog):
    r = router("STATE bytes, RESERVE 16")
    seen = []
    r.element("fc").push = lambda port, batch: seen.extend(batch)
    r.element("fim").push(0, [ipv4(1, 0)])
    assert seen[0].anno["flow_state"] == bytearray(16)

    r = router("STATE bytes, RESERVE 16")
    with caplog.at_level(logging.ERROR):
        r.element("fim").push(0, [ipv4(1, 0), ipv4(1, 0)])
    assert read(r, "fc.count") == "0"
    complaints = [rec for rec in caplog.records if "not a dict" in rec.getMessage()]
    assert len(complaints) == 1 and "flows.click:4" in complaints[0].getMessage()


def test_state_factory_by_dotted_name():
    r = router("STATE collections.OrderedDict")
    r.element("fim").push(0, [ipv4(1, 0)])
    (_, state), = r.element("fim").flow_items()
    assert type(state).__name__ == "OrderedDict"


def test_violations_handler_lists_what_the_check_found():
    r = router("RETA_SIZE 2, CHECK true")
    fim = r.element("fim")
    fim.push(0, [ipv4(1, 0)])
    assert read(r, "fim.violations") == ""
    fim.ownership.tables[0].released(0)           # a table leaving without a new owner
    fim.push(0, [ipv4(1, 0)])
    assert "bucket 0: table used while in transit between cores" in read(r, "fim.violations")
