"""Flow tables, flow keys and state kinds (pyclick.flow)."""

from __future__ import annotations

import struct
import threading

import pytest

from pyclick.flow.guard import CheckedFlowTable, OwnershipCheck
from pyclick.flow.key import flow_key, parse_frame
from pyclick.flow.state import FLOW_STATE, StateKind, parse_state_kind, state_of
from pyclick.flow.table import FlowTable
from pyclick.packet import Packet
from pyclick.sim.flows import build_frame


def test_lookup_creates_state_once_per_flow():
    table = FlowTable(3, capacity=10, factory=dict)
    first = table.lookup(("a",), 1.0)
    first.state["x"] = 1
    again = table.lookup(("a",), 2.0)
    assert again is first and again.state == {"x": 1}
    assert again.last_seen == 2.0
    assert table.lookup(("b",), 2.0) is not first
    assert len(table) == 2


def test_full_table_refuses_new_flows_but_serves_known_ones():
    table = FlowTable(0, capacity=2, factory=dict)
    assert table.lookup(1, 0.0) and table.lookup(2, 0.0)
    assert table.lookup(3, 0.0) is None
    assert table.lookup(1, 1.0) is not None
    assert len(table) == 2


def test_expire_forgets_only_idle_flows():
    table = FlowTable(0, capacity=10, factory=dict)
    table.lookup("old", 1.0)
    table.lookup("new", 5.0)
    assert table.expire(idle_since=3.0) == 1
    assert [key for key, _ in table.items()] == ["new"]


def test_ipv4_frame_gives_the_five_tuple():
    frame = build_frame(bytes([10, 0, 0, 1]), bytes([192, 0, 2, 7]), 1234, 443, 6)
    assert parse_frame(frame) == ("10.0.0.1", "192.0.2.7", 1234, 443, 6)


def test_ipv6_udp_frame_gives_the_five_tuple():
    src = bytes.fromhex("20010db8000100000000000000000001")
    dst = bytes.fromhex("20010db8000200000000000000000002")
    frame = build_frame(src, dst, 5353, 53, 17)
    assert parse_frame(frame) == ("2001:db8:1::1", "2001:db8:2::2", 5353, 53, 17)


def test_vlan_tag_is_skipped():
    frame = build_frame(bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]), 1, 2, 17)
    tagged = frame[:12] + struct.pack("!HH", 0x8100, 42) + frame[12:]
    assert parse_frame(tagged) == ("10.0.0.1", "10.0.0.2", 1, 2, 17)


def test_later_fragments_and_portless_protocols_have_zero_ports():
    frame = bytearray(build_frame(bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]), 7, 8, 17))
    frame[14 + 6:14 + 8] = struct.pack("!H", 100)  # fragment offset 100
    assert parse_frame(bytes(frame)) == ("10.0.0.1", "10.0.0.2", 0, 0, 17)
    icmp = bytearray(build_frame(bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]), 7, 8, 17))
    icmp[14 + 9] = 1
    assert parse_frame(bytes(icmp)) == ("10.0.0.1", "10.0.0.2", 0, 0, 1)


def test_non_ip_and_short_frames_have_no_key():
    arp = b"\xff" * 12 + b"\x08\x06" + b"\x00" * 28
    assert parse_frame(arp) is None
    assert parse_frame(b"\x00" * 10) is None
    assert flow_key(Packet(data=arp)) is None


def test_flow_field_wins_over_the_frame():
    frame = build_frame(bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]), 1, 2, 6)
    assert flow_key(Packet(data=frame, flow=("x", "y", 3, 4, 6))) == ("x", "y", 3, 4, 6)


def test_state_kinds():
    assert parse_state_kind("dict").make_factory(0)() == {}
    assert parse_state_kind("bytes").make_factory(8)() == bytearray(8)
    counter = parse_state_kind("collections.Counter").make_factory(0)()
    assert type(counter).__name__ == "Counter"


@pytest.mark.parametrize("text, fragment", [
    ("nothing", "expected 'dict', 'bytes' or a dotted Python name"),
    ("no_such_module_xyz.Thing", "cannot import state factory"),
    ("math.pi", "is not callable"),
])
def test_bad_state_kinds_are_refused(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_state_kind(text)


def test_bytes_state_needs_reserve():
    with pytest.raises(ValueError, match="RESERVE"):
        StateKind("bytes").make_factory(0)


def test_state_of_reads_the_annotation_and_explains_its_absence():
    state = {"n": 1}
    assert state_of(Packet(anno={FLOW_STATE: state})) is state
    with pytest.raises(LookupError, match="downstream of a FlowIPManager"):
        state_of(Packet())


def _use_from_thread(table: FlowTable) -> None:
    thread = threading.Thread(target=table.lookup, args=("k", 0.0))
    thread.start()
    thread.join()


def test_checked_table_accepts_a_proper_hand_off():
    check = OwnershipCheck()
    table = CheckedFlowTable(5, 10, dict, check)
    table.placed(0)
    table.lookup("k", 0.0)
    table.released(0)
    other = threading.Thread(target=lambda: (table.adopted(1), table.lookup("k", 1.0)))
    other.start()
    other.join()
    assert check.violations == []


def test_checked_table_catches_a_second_thread_without_hand_off():
    check = OwnershipCheck()
    table = CheckedFlowTable(5, 10, dict, check)
    table.placed(0)
    table.lookup("k", 0.0)
    _use_from_thread(table)
    assert len(check.violations) == 1
    assert "bucket 5: table used by a thread that does not hold it" in check.violations[0]


def test_checked_table_catches_use_in_transit_and_foreign_release():
    check = OwnershipCheck()
    table = CheckedFlowTable(1, 10, dict, check)
    table.placed(0)
    table.lookup("k", 0.0)
    table.released(0)
    table.lookup("k", 0.0)
    assert "in transit" in check.violations[-1]
    table.adopted(1)
    releaser = threading.Thread(target=table.released, args=(1,))
    releaser.start()
    releaser.join()
    assert "released a table another thread holds" in check.violations[-1]


def test_checked_table_catches_two_threads_inside_at_once():
    check = OwnershipCheck()
    inside = threading.Event()
    leave = threading.Event()

    def blocking_factory():
        inside.set()
        leave.wait(5)
        return {}

    table = CheckedFlowTable(2, 10, blocking_factory, check)
    table.placed(0)
    first = threading.Thread(target=table.lookup, args=("a", 0.0))
    first.start()
    inside.wait(5)
    second = threading.Thread(target=table.lookup, args=("b", 0.0))
    second.start()
    second.join(0.2)
    leave.set()
    first.join()
    second.join()
    assert any("two threads inside the table at once" in v for v in check.violations)
