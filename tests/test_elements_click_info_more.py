"""Routing on Click's simple table, information elements, locks and chatter, from
their Click manuals: LookupIPRouteMP, LinuxIPLookup, FlowInfo, DevirtualizeInfo,
SpinlockInfo, SpinlockAcquire, SpinlockRelease, SpinlockPush, ChatterSocket."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from typing import Iterator

import pytest

from pyclick.elements import iptablelookup
from pyclick.elements.spinlocks import Spinlock
from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.router import Router
from pyclick.runtime.notifier import upstream_empty_signal
from tests.sinks import KeepingTestSink  # noqa: F401  (the class the configurations name)

DEADLINE = 10.0


def destinations(router: Router, name: str) -> list[bytes]:
    return [packet.dst_ip for packet in router.element(name).packets]


def router_of(config: str) -> Router:
    router = Router(flatten(config, filename="t.click"), simtime=True)
    router.configure()
    return router


def run(config: str) -> Router:
    router = router_of(config)
    router.run(handle_signals=False)
    return router


def ip(text: str) -> bytes:
    return bytes(int(part) for part in text.split("."))


# --- LookupIPRouteMP

def test_lookupiproutemp_takes_the_most_specific_route_and_its_gateway():
    router = run("InfiniteSource(LIMIT 1) -> SetIPAddress(18.26.4.24) -> t :: Tee(3);"
                 "t[0] -> r :: LookupIPRouteMP(18.26.4.0/24 0, 18.26.4.24/32 1.2.3.4 1, 0/0 2);"
                 "t[1] -> SetIPAddress(18.26.5.1) -> r; t[2] -> SetIPAddress(9.9.9.9) -> r;"
                 "r[0] -> a :: KeepingTestSink; r[1] -> b :: KeepingTestSink; r[2] -> c :: KeepingTestSink")
    # /32 beats /24 beats /0; only the /32 route has a gateway.
    assert destinations(router, "b") == [ip("1.2.3.4")]
    assert destinations(router, "a") == []
    assert destinations(router, "c") == [ip("18.26.5.1"), ip("9.9.9.9")]


def test_lookupiproutemp_equal_routes_the_later_wins_and_zero_gateway_is_none():
    router = run("InfiniteSource(LIMIT 2) -> SetIPAddress(18.26.4.24)"
                 "-> r :: LookupIPRouteMP(18.26.4.0/24 0, 18.26.4.7/24 0.0.0.0 1);"
                 "r[0] -> a :: KeepingTestSink; r[1] -> b :: KeepingTestSink")
    # 18.26.4.7/24 is the network 18.26.4.0/24 again: the second route wins.
    assert destinations(router, "b") == [ip("18.26.4.24")] * 2
    assert router.element("a").packets == []


def test_lookupiproutemp_drops_and_reports_packets_without_route(caplog):
    router = run("InfiniteSource(LIMIT 2) -> SetIPAddress(1.0.0.2)"
                 "-> r :: LookupIPRouteMP(18.26.4.0/24 0) -> a :: KeepingTestSink")
    assert router.element("a").packets == []
    # 1.0.0.2 as Click prints it: the four bytes, last first, in hexadecimal.
    assert [m for m in caplog.messages if "no gw" in m] == \
        ["r :: LookupIPRouteMP: no gw for 2000001"] * 2


def test_lookupiproutemp_without_routes_warns(caplog):
    router_of("Idle -> r :: LookupIPRouteMP() -> Discard")
    assert "r :: LookupIPRouteMP: no routes" in caplog.messages


@pytest.mark.parametrize("routes, message", [
    ("18.26.4.0/24 - 0", "argument 1 should be `DADDR/MASK"),
    ("18.0.0.0/8 0, 1.2.3.4/32 x", "argument 2 should be `DADDR/MASK"),
    ("1.2.3.4 -1", "argument 1 should be `DADDR/MASK"),
    ("1.2.3.4", "argument 1 should be `DADDR/MASK"),
    ("18.0.0.0/8 3", "need 4 or more output ports"),
])
def test_lookupiproutemp_bad_routes_name_the_element(routes, message):
    with pytest.raises(ConfigError, match=f"t.click:1: While configuring 'r :: LookupIPRouteMP': "
                                          f"{message}"):
        router_of(f"Idle -> r :: LookupIPRouteMP({routes}) -> Discard")


# --- LinuxIPLookup

ROUTES = ("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
          "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
          "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
          "wlan0\t00000A0A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n")


@pytest.fixture
def route_file(tmp_path, monkeypatch):
    path = tmp_path / "route"
    path.write_text(ROUTES)
    monkeypatch.setattr(iptablelookup, "ROUTE_FILE", str(path))
    return path


def test_linuxiplookup_routes_by_the_kernel_table(route_file, caplog):
    caplog.set_level(logging.INFO)
    router = run("InfiniteSource(LIMIT 1) -> t :: Tee(3);"
                 "t[0] -> SetIPAddress(8.8.8.8) -> r :: LinuxIPLookup(wlan0, eth0);"
                 "t[1] -> SetIPAddress(192.0.2.9) -> r; t[2] -> SetIPAddress(10.10.3.4) -> r;"
                 "r[0] -> a :: KeepingTestSink; r[1] -> b :: KeepingTestSink; r[2] -> c :: KeepingTestSink")
    # 8.8.8.8 by the default route through 192.0.2.1; 192.0.2.9 on the link.
    assert destinations(router, "b") == [ip("192.0.2.1"), ip("192.0.2.9")]
    assert destinations(router, "a") == [ip("10.10.3.4")]
    assert router.element("c").packets == []
    assert "r :: LinuxIPLookup: routed 8080808 to 10200c0 1" in caplog.messages
    assert "r :: LinuxIPLookup: routed 90200c0 to 0 1" in caplog.messages


def test_linuxiplookup_unnamed_devices_are_left_out_and_misses_go_to_output_n(route_file, caplog):
    router = run("InfiniteSource(LIMIT 1) -> SetIPAddress(8.8.8.8) -> r :: LinuxIPLookup(wlan0);"
                 "r[0] -> a :: KeepingTestSink; r[1] -> b :: KeepingTestSink")
    assert destinations(router, "b") == [ip("8.8.8.8")]
    assert router.element("a").packets == []
    assert caplog.messages.count("r :: LinuxIPLookup: no output for dev eth0") == 2
    assert "r :: LinuxIPLookup: no gw for 8080808" in caplog.messages
    # Without output N, such packets are dropped.
    router = run("InfiniteSource(LIMIT 1) -> SetIPAddress(8.8.8.8) -> r :: LinuxIPLookup(wlan0)"
                 "-> a :: KeepingTestSink")
    assert router.element("a").packets == []


def test_linuxiplookup_needs_n_or_n_plus_one_outputs_and_the_table(route_file):
    with pytest.raises(ConfigError, match="'r :: LinuxIPLookup': need 2 or 3 output ports"):
        router_of("Idle -> r :: LinuxIPLookup(lo, eth0) -> Discard")
    route_file.unlink()
    router = router_of("Idle -> r :: LinuxIPLookup(eth0) -> Discard")
    with pytest.raises(ConfigError, match="r :: LinuxIPLookup: cannot open"):
        router.initialize()


# --- FlowInfo and DevirtualizeInfo

FLOW = "Idle -> q :: Queue -> n :: Null -> u :: Unqueue -> Discard;"


def test_flowinfo_gives_its_code_to_the_notifier_walks():
    plain = router_of(FLOW)
    signal = upstream_empty_signal(plain.element("u"), 0)
    assert plain.element("n").flow_code == "x/x"
    assert not signal.busy and len(signal.notifiers) == 1
    router = router_of("FlowInfo(n x/y);" + FLOW)
    assert router.element("n").flow_code == "x/y"
    # Through n no packet travels now: Unqueue finds no queue to wait on.
    assert upstream_empty_signal(router.element("u"), 0).busy


def test_flowinfo_later_code_wins_and_mistakes_do_not_stop_the_router(caplog):
    router = router_of("FlowInfo(n x/y, n #/#, foo x/x, n, n a b, n x/);" + FLOW)
    assert router.element("n").flow_code == "#/#"
    errors = [m for m in caplog.messages if m.startswith("FlowInfo@1")]
    assert errors == ["FlowInfo@1 :: FlowInfo: 'foo' does not name an element",
                      "FlowInfo@1 :: FlowInfo: expected 'ELEMENT CODE'",
                      "FlowInfo@1 :: FlowInfo: expected 'ELEMENT CODE'",
                      "FlowInfo@1 :: FlowInfo: 'n :: Null' flow code: missing or bad '/'"]


def test_devirtualizeinfo_accepts_anything():
    router = run("DevirtualizeInfo(q Queue, 1 2 3, KEY value);"
                 "InfiniteSource(LIMIT 3) -> c :: Counter -> Discard")
    assert router.handlers.read("c.count") == "3"


# --- Spinlocks

def test_spinlocks_let_packets_through_and_are_left_free():
    router = run("SpinlockInfo(a, \"b c\");"
                 "InfiniteSource(LIMIT 3) -> SpinlockAcquire(a) -> c :: Counter"
                 "-> SpinlockRelease(a) -> SpinlockPush(\"b c\") -> k :: KeepingTestSink")
    assert len(router.element("k").packets) == 3
    info = router.element("SpinlockInfo@1")
    for lock in info.locks.values():
        # Free: another thread takes it at once.
        took = []
        thread = threading.Thread(target=lambda: took.append(lock._lock.acquire(timeout=1)))
        thread.start()
        thread.join()
        assert took == [True]


def test_spinlockpush_holds_the_lock_downstream_only():
    held: list[int] = []
    router = router_of("SpinlockInfo(l); InfiniteSource(LIMIT 2) -> SpinlockPush(l)"
                       "-> k :: KeepingTestSink")
    lock = router.element("SpinlockInfo@1").locks["l"]
    keep = router.element("k")
    original = keep.push

    def push(port, batch):
        held.append(lock._depth)
        original(port, batch)

    keep.push = push
    router.run(handle_signals=False)
    assert held and set(held) == {1}
    assert lock._depth == 0


def test_spinlock_is_recursive_and_excludes_other_threads():
    warnings: list[str] = []
    lock = Spinlock(warnings.append)
    lock.acquire()
    lock.acquire()
    lock.release()
    order: list[str] = []

    def other() -> None:
        lock.acquire()
        order.append("other")
        lock.release()

    thread = threading.Thread(target=other)
    thread.start()
    time.sleep(0.05)
    order.append("main")
    lock.release()
    thread.join(DEADLINE)
    assert order == ["main", "other"]
    # Released once too often: nobody holds it, and its depth is 0 already.
    lock.release()
    assert warnings == ['Spinlock::release(): assertion "owner == click_current_processor()" '
                        'failed', 'Spinlock::release(): assertion "_depth > 0" failed']


def test_spinlock_names_are_local_to_compounds():
    run("elementclass C { input -> SpinlockAcquire(y) -> output }; SpinlockInfo(y);"
        "InfiniteSource(LIMIT 1) -> C -> SpinlockRelease(y) -> Discard")
    with pytest.raises(ConfigError, match="'r :: SpinlockRelease': LOCK: cannot locate spinlock x"):
        router_of("elementclass C { SpinlockInfo(x); input -> SpinlockAcquire(x) -> output };"
                  "Idle -> C -> r :: SpinlockRelease(x) -> Discard")


@pytest.mark.parametrize("config, message", [
    ("SpinlockInfo(a); Idle -> s :: SpinlockAcquire(c) -> Discard",
     "'s :: SpinlockAcquire': LOCK: cannot locate spinlock c"),
    ("SpinlockInfo(a); Idle -> s :: SpinlockRelease() -> Discard",
     "'s :: SpinlockRelease': LOCK: missing mandatory argument"),
    ("SpinlockInfo(a); Idle -> s :: SpinlockPush(a, b) -> Discard",
     "'s :: SpinlockPush': too many arguments"),
    ("s :: SpinlockInfo(a b); Idle -> Discard", "'s :: SpinlockInfo': bad NAME"),
    ("s :: SpinlockInfo(a, , b); Idle -> Discard", "'s :: SpinlockInfo': bad NAME"),
])
def test_spinlock_bad_arguments_name_the_element(config, message):
    with pytest.raises(ConfigError, match=f"t.click:1: While configuring {message}"):
        router_of(config)


# --- ChatterSocket

def receive(client: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        more = client.recv(4096)
        assert more, "connection closed"
        data += more
    return data


@contextlib.contextmanager
def chatter(path: str, options: str = "") -> Iterator[tuple[Router, socket.socket]]:
    """A started router whose ChatterSocket c listens at ``path``, and a client
    connected to it; both closed whatever happens."""
    router = router_of(f"c :: ChatterSocket(UNIX, {path}{options}); Idle -> Discard")
    router.initialize()
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.settimeout(DEADLINE)
        client.connect(path)
        yield router, client
    finally:
        router.cleanup()
        client.close()


def test_chattersocket_greets_and_copies_log_messages(tmp_path):
    path = str(tmp_path / "chatter")
    with chatter(path) as (router, client):
        assert receive(client, 26) == b"Click::ChatterSocket/1.0\r\n"
        logging.getLogger("pyclick.Test").warning("one")
        logging.getLogger("pyclick.Test").error("two %d", 2)
        assert receive(client, 8) == b"one\ntwo 2\n"
        router.cleanup()
        # Cleanup closes the clients, removes the socket file and the log handler.
        assert client.recv(100) == b""
    assert not os.path.exists(path)
    assert not [h for h in logging.getLogger("pyclick").handlers
                if type(h).__name__ == "_Forward"]


def test_chattersocket_without_greeting_sends_messages_only(tmp_path):
    with chatter(str(tmp_path / "chatter"), ", GREETING false") as (router, client):
        element = router.element("c")
        deadline = time.monotonic() + DEADLINE
        while not element._clients:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        element.log.warning("%s: note", "c :: ChatterSocket")
        line = b"t.click:1: warning: c :: ChatterSocket: note\n"
        assert receive(client, len(line)) == line


def test_chattersocket_other_channels_get_nothing(tmp_path):
    with chatter(str(tmp_path / "chatter"), ", CHANNEL verbose") as (_, client):
        assert receive(client, 26) == b"Click::ChatterSocket/1.0\r\n"
        logging.getLogger("pyclick.Test").warning("one")
        client.settimeout(0.2)
        with pytest.raises(socket.timeout):
            client.recv(100)


def test_chattersocket_retries_then_stops_the_router(tmp_path, caplog):
    path = tmp_path / "taken"
    path.write_text("")
    router = router_of(f"c :: ChatterSocket(UNIX, {path}, RETRIES 2)")
    assert router.run(handle_signals=False) == 0
    messages = [m for m in caplog.messages if m.startswith("c :: ")]
    assert messages == ["c :: ChatterSocket: bind: Address already in use (2 tries left)",
                        "c :: ChatterSocket: bind: Address already in use (1 try left)",
                        "c :: ChatterSocket: bind: Address already in use"]
    # An existing file is never removed.
    assert path.exists()


def test_chattersocket_open_failure_without_retries_is_a_start_error(tmp_path):
    router = router_of(f"c :: ChatterSocket(UNIX, {tmp_path}/no/such/dir)")
    with pytest.raises(ConfigError, match="While initializing 'c :: ChatterSocket': "
                                          "bind: No such file or directory"):
        router.initialize()


@pytest.mark.parametrize("config, message", [
    ("ChatterSocket(FOO, 1)", "TYPE: unknown socket type `FOO'"),
    ("ChatterSocket(TCP)", "PORT: missing mandatory argument"),
    ("ChatterSocket(TCP, 70000)", "PORT"),
    ("ChatterSocket(TCP, 7000, RETRIES x)", "RETRIES"),
    ("ChatterSocket(TCP, 7000, GREETING maybe)", "GREETING"),
    ("ChatterSocket(UNIX, /" + "x" * 107 + ")", "filename too long"),
])
def test_chattersocket_bad_arguments_name_the_element(config, message):
    with pytest.raises(ConfigError, match=f"'ChatterSocket@1 :: ChatterSocket': {message}"):
        router_of(config)
