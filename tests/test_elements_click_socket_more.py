"""FromSocket, ToSocket, RawSocket, FromRawSocket, ToRawSocket and
McastSocket, from Click's user-level manuals.

FromSocket and ToSocket run over loopback. The raw and multicast sockets
run as root over the loopback device of a network namespace the test
creates and removes; elsewhere they skip with the reason, or fail under
CI=true.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import shutil
import socket
import subprocess
import sys
import uuid
from typing import Iterator

import pytest

from pyclick.elements.socketelement import Socket
from tests.helpers import config_error_of
from tests.netns import in_netns, inside, ip, require
from tests.sinks import KeepingTestSink  # noqa: F401  (the class the configurations name)
from tests.test_elements_click_socket import (DEADLINE, LOOPBACK, Running, free_port, peer,
                                              read_to_end, received, router_of, run_to_end,
                                              start_error, wait_until)

GROUP = "239.1.2.3"
#: 20 bytes of payload the tests send.
PAYLOAD = b"0123456789abcdefghij"


class Started(Running):
    """A router running on a background thread, once every socket element opened."""

    def started(self) -> bool:
        sockets = [e for e in self.router.elements if isinstance(e, Socket)]
        return self.failure is not None or all(e._receiver is not None for e in sockets)


@contextlib.contextmanager
def loopback_namespace(multicast: bool = True) -> Iterator[str]:
    """A fresh network namespace whose loopback device is up and, with
    ``multicast``, routes the multicast groups; the body runs inside it, and
    it is deleted however the test ends."""
    require("root", "netns", "ip", "sysctl")
    name = f"pyck-sock-{uuid.uuid4().hex[:12]}"
    ip("netns", "add", name)
    try:
        subprocess.run(in_netns(name, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1"),
                       check=True)
        ip("-n", name, "link", "set", "lo", "up", "multicast", "on")
        if multicast:
            ip("-n", name, "route", "add", "224.0.0.0/4", "dev", "lo")
        with inside(name):
            yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def udp_ip_packet(dport: int, payload: bytes) -> bytes:
    """An IPv4 UDP datagram from 127.0.0.1:1234 to 127.0.0.1:``dport``; the
    kernel fills in the IP checksum, and a UDP checksum of 0 means none."""
    total = 20 + 8 + len(payload)
    ip_header = (bytes.fromhex("4500") + total.to_bytes(2, "big") + bytes.fromhex("00000000")
                 + bytes.fromhex("4011") + bytes(2) + socket.inet_aton(LOOPBACK) * 2)
    udp_header = (1234).to_bytes(2, "big") + dport.to_bytes(2, "big") \
        + (8 + len(payload)).to_bytes(2, "big") + bytes(2)
    return ip_header + udp_header + payload


# --- FromSocket and ToSocket

def test_fromsocket_and_tosocket_are_socket_with_push_or_pull_ports(caplog):
    with caplog.at_level(logging.WARNING):
        router = router_of("Idle -> f :: FromSocket(UDP, 10.0.0.1, 53) -> Discard;"
                           "Idle -> t :: ToSocket(TCP, 10.0.0.1, www)")
    f, t = router.element("f"), router.element("t")
    # With an output, a server; without, a client: as Socket.
    assert (f.client, f.remote, t.client, t.remote) == \
        (False, ("10.0.0.1", 53), True, ("10.0.0.1", 80))
    # Idle, agnostic, pushes into FromSocket and is pulled by ToSocket.
    assert (f.input_is_pull(0), f.output_is_push(0), t.input_is_pull(0)) == (False, True, True)
    assert [r.getMessage() for r in caplog.records] == [
        "f :: FromSocket: FromSocket is deprecated, use Socket instead",
        "t :: ToSocket: ToSocket is deprecated, use Socket instead"]


@pytest.mark.parametrize("config, message", [
    ("f :: FromSocket(UDP, 1.2.3.4) -> Discard",
     "While configuring 'f :: FromSocket': PORT: missing mandatory argument"),
    ("f :: FromSocket(SCTP, 1.2.3.4, 5) -> Discard",
     "While configuring 'f :: FromSocket': TYPE: unknown socket type 'SCTP'"),
    ("Idle -> Queue -> t :: ToSocket(UDP, 1.2.3.4, 5, SNAPLEN 0)",
     "While configuring 't :: ToSocket': SNAPLEN: must be at least 1"),
    # A pull input cannot take pushed packets, nor a push input pulled ones.
    ("TimedSource -> t :: ToSocket(UDP, 1.2.3.4, 5)",
     "push output 0 connected to 't :: ToSocket' pull input 0"),
    ("Idle -> Queue -> f :: FromSocket(UDP, 1.2.3.4, 5) -> Discard",
     "pull output 0 connected to 'f :: FromSocket' push input 0"),
])
def test_fromsocket_tosocket_bad_configurations(config, message):
    assert message in str(config_error_of(router_of, config))


def test_tosocket_sends_what_it_pulls_and_fromsocket_emits_what_it_receives():
    with peer(socket.SOCK_DGRAM) as server:
        port = server.getsockname()[1]
        with Started(f'InfiniteSource(DATA "hello", LIMIT 3) -> Queue '
                     f"-> ToSocket(UDP, {LOOPBACK}, {port})"):
            assert received(server, 3) == [b"hello"] * 3
    port = free_port(socket.SOCK_DGRAM)
    with Started(f"FromSocket(UDP, {LOOPBACK}, {port}) -> k :: KeepingTestSink") as run, \
            peer(socket.SOCK_DGRAM) as client:
        client.sendto(b"one", (LOOPBACK, port))
        client.sendto(b"two", (LOOPBACK, port))
        assert run.wait_for_packets(2) == [b"one", b"two"]


def test_fromsocket_tcp_server_and_tosocket_tcp_client():
    port = free_port(socket.SOCK_STREAM)
    with Started(f"FromSocket(TCP, {LOOPBACK}, {port}) -> k :: KeepingTestSink") as run, \
            socket.create_connection((LOOPBACK, port), DEADLINE) as client:
        client.sendall(b"stream")
        wait_until(lambda: b"".join(run.kept()) == b"stream", "the bytes sent")
    with peer(socket.SOCK_STREAM) as listener:
        listener.listen(1)
        port = listener.getsockname()[1]
        run_to_end(f'InfiniteSource(DATA "ab", LIMIT 2, STOP true) -> Queue '
                   f"-> ToSocket(TCP, {LOOPBACK}, {port})")
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(DEADLINE)
            assert read_to_end(conn) == b"abab"


# --- RawSocket: arguments

def test_rawsocket_arguments():
    router = router_of("a :: RawSocket(TCP) -> Discard; b :: RawSocket(udp, domain) -> Discard;"
                       "c :: RawSocket(GRE, 65535, SNAPLEN 100, HEADROOM 0) -> Discard;"
                       "Idle -> Queue -> d :: RawSocket(1)")
    a, b, c, d = (router.element(n) for n in "abcd")
    # Protocols by name or number; a UDP or TCP port by number or service name.
    assert [(e.protocol, e.port) for e in (a, b, c, d)] == [(6, 0), (17, 53), (47, 65535), (1, 0)]
    assert (a.snaplen, a.headroom, c.snaplen, c.headroom) == (2048, 28, 100, 0)
    assert d.input_is_pull(0)


@pytest.mark.parametrize("config, message", [
    ("RawSocket", "TYPE: missing mandatory argument"),
    ("RawSocket(FOO)", "TYPE: expected IP protocol"),
    ("RawSocket(256)", "TYPE: expected IP protocol"),
    ("RawSocket(TCP, 70000)", "PORT: must be at least 0 and at most 65535"),
    ("RawSocket(ICMP, 70000)", "PORT: must be at least 0 and at most 65535"),
    ("RawSocket(ICMP, domain)", "PORT: expected unsigned integer"),
    ("RawSocket(TCP, 5, SNAPLEN 0)", "SNAPLEN: must be at least 1"),
    ("RawSocket(TCP, 5, HEADROOM -1)", "HEADROOM:"),
    ("RawSocket(TCP, 5, BOGUS 1)", "BOGUS: unknown keyword"),
    ("RawSocket(TCP, 5, 6)", "too many arguments"),
    ("FromRawSocket(UDP, x)", "PORT:"),
])
def test_rawsocket_bad_arguments_name_the_element_and_the_keyword(config, message):
    err = config_error_of(router_of, f"r :: {config} -> Discard")
    assert f"t.click:1: While configuring 'r :: {config.split('(')[0]}': {message}" in str(err)


def test_raw_and_multicast_sockets_refuse_simulated_time():
    for config in ("RawSocket(ICMP)", f"McastSocket({GROUP}, 5000)"):
        err = config_error_of(router_of, f"s :: {config} -> Discard", simtime=True)
        assert "a socket's packets come and go in real time" in str(err)


def test_fromrawsocket_and_torawsocket_warn_that_they_are_deprecated(caplog):
    with caplog.at_level(logging.WARNING):
        router = router_of("f :: FromRawSocket(ICMP) -> Discard; Idle -> Queue "
                           "-> t :: ToRawSocket(UDP, 9)")
    assert [r.getMessage() for r in caplog.records] == [
        "f :: FromRawSocket: FromRawSocket is deprecated, use RawSocket instead",
        "t :: ToRawSocket: ToRawSocket is deprecated, use RawSocket instead"]
    assert router.element("t").input_is_pull(0)


def test_a_raw_socket_needs_the_capability():
    # A user namespace of its own has no capability over the host's network.
    if shutil.which("unshare") is None:
        pytest.skip("the unshare command is not installed (util-linux)")
    done = subprocess.run(["unshare", "--user", "--", sys.executable, "-m", "pyclick", "-e",
                           "r :: RawSocket(ICMP) -> Discard"],
                          capture_output=True, text=True, timeout=60)
    if "unshare failed" in done.stderr:
        pytest.skip(f"no user namespaces here: {done.stderr.strip()}")
    assert done.returncode != 0
    assert "While initializing 'r :: RawSocket': socket: Operation not permitted" in done.stderr
    assert "Traceback" not in done.stderr


# --- RawSocket: packets (root, in a namespace)

def test_rawsocket_sends_echo_requests_and_receives_them_with_the_replies():
    with loopback_namespace():
        with Started("r :: RawSocket(ICMP) -> k :: KeepingTestSink;"
                     "InfiniteSource(LIMIT 2, LENGTH 8) -> ICMPPingEncap(127.0.0.1, 127.0.0.1) "
                     "-> Queue -> r") as run:
            run.wait_for_packets(4)
            wait_until(lambda: run.router.handlers.read("r.scheduled") == "false", "the task")
        packets = run.router.element("k").packets
    # Each request comes back through the loopback device, followed by the
    # kernel's reply: 20 bytes of IP header, 8 of ICMP, 8 of data.
    assert sorted((p.data[9], p.data[20], len(p)) for p in packets) == \
        [(1, 0, 36), (1, 0, 36), (1, 8, 36), (1, 8, 36)]
    loopback = socket.inet_aton(LOOPBACK)
    for p in packets:
        assert (p.data[12:16], p.dst_ip, p.network_header_offset, p.headroom) == \
            (loopback, loopback, 0, 28)
        assert p.timestamp > 0


def test_fromrawsocket_cuts_at_snaplen_and_reserves_its_port():
    with loopback_namespace():
        port = free_port(socket.SOCK_DGRAM)
        with Started(f"FromRawSocket(UDP, {port}, SNAPLEN 30, HEADROOM 4) "
                     "-> k :: KeepingTestSink") as run, peer(socket.SOCK_DGRAM) as sender:
            with pytest.raises(OSError) as taken, \
                    peer(socket.SOCK_DGRAM, address=("0.0.0.0", port)):
                pass
            assert taken.value.errno == errno.EADDRINUSE
            sender.sendto(PAYLOAD, (LOOPBACK, port))
            [packet] = run.wait_for_packets(1)
            received_packet = run.router.element("k").packets[0]
        with peer(socket.SOCK_DGRAM, address=("0.0.0.0", port)):
            pass  # free again once the router is gone
    # 20 bytes of IP, 8 of UDP, 2 of payload; the other 18 counted only.
    assert len(packet) == 30 and packet[9] == 17 and packet[28:] == b"01"
    assert (packet[22:24], received_packet.extra_length) == (port.to_bytes(2, "big"), 18)
    assert received_packet.headroom == 4


def test_torawsocket_sends_each_ip_packet_to_its_destination_and_drops_runts(caplog):
    with loopback_namespace():
        with peer(socket.SOCK_DGRAM) as server, caplog.at_level(logging.ERROR):
            port = server.getsockname()[1]
            datagram = udp_ip_packet(port, PAYLOAD).hex()
            run_to_end(f"InfiniteSource(\\<{datagram}>, LIMIT 2) -> Queue -> ToRawSocket(UDP);"
                       "InfiniteSource(DATA short, LIMIT 1) -> Queue -> u :: ToRawSocket(UDP);"
                       "Script(wait 0.3, stop)")
            assert [server.recvfrom(100) for _ in range(2)] == [(PAYLOAD, (LOOPBACK, 1234))] * 2
    assert "u :: ToRawSocket: runt IP packet (5 bytes)" in [r.getMessage() for r in caplog.records]


def test_a_packet_the_kernel_refuses_is_dropped_with_an_error(caplog):
    # The namespace has no route to 10.0.0.1; the next packet still goes out.
    with loopback_namespace(), caplog.at_level(logging.ERROR), \
            peer(socket.SOCK_DGRAM) as server:
        port = server.getsockname()[1]
        with Started(f"InfiniteSource(DATA x, LIMIT 1) -> UDPIPEncap({LOOPBACK}, 1, 10.0.0.1, 2)"
                     f" -> q :: Queue -> r :: RawSocket(UDP);"
                     f"InfiniteSource(\\<{udp_ip_packet(port, PAYLOAD).hex()}>, LIMIT 1) -> q"):
            assert server.recv(100) == PAYLOAD
            wait_until(lambda: caplog.records, "the error")
    assert "r :: RawSocket: sendto: Network is unreachable" in \
        [r.getMessage() for r in caplog.records]


def test_a_reserved_port_in_use_is_a_start_error():
    with loopback_namespace(), peer(socket.SOCK_STREAM, address=("0.0.0.0", 0)) as taken:
        port = taken.getsockname()[1]
        assert start_error(f"r :: RawSocket(TCP, {port}) -> Discard") == (
            f"t.click:1: While initializing 'r :: RawSocket': bind 0.0.0.0:{port}: "
            "Address already in use")


# --- McastSocket

def test_mcastsocket_arguments():
    router = router_of(f"a :: McastSocket({GROUP}, 5000) -> Discard;"
                       f"b :: McastSocket({GROUP}, domain, 127.0.0.1, 6000, LOOP false, "
                       "SNAPLEN 3, HEADROOM 0, TIMESTAMP false, SNDBUF 4096, RCVBUF 8192) "
                       "-> Discard")
    a, b = router.element("a"), router.element("b")
    assert (a.remote, a.source, a.loop, a.snaplen, a.headroom, a.timestamp, a.sndbuf,
            a.rcvbuf) == ((GROUP, 5000), ("0.0.0.0", 0), True, 2048, 28, True, None, None)
    assert (b.remote, b.source, b.loop, b.snaplen, b.headroom, b.timestamp, b.sndbuf,
            b.rcvbuf) == ((GROUP, 53), ("127.0.0.1", 6000), False, 3, 0, False, 4096, 8192)


@pytest.mark.parametrize("config, message", [
    (f"McastSocket({GROUP})", "MCASTPORT: missing mandatory argument"),
    (f"McastSocket({GROUP}, 70000)", "MCASTPORT: must be at least 0 and at most 65535"),
    ("McastSocket(x, 5)", "MCASTIP: expected IP address"),
    (f"McastSocket({GROUP}, 5, y)", "SOURCEIP: expected IP address"),
    (f"McastSocket({GROUP}, 5, 1.2.3.4, 6, 7)", "too many arguments"),
    (f"McastSocket({GROUP}, 5, LOOP 2)", "LOOP: expected boolean"),
    (f"McastSocket({GROUP}, 5, SNAPLEN 0)", "SNAPLEN: must be at least 1"),
    (f"McastSocket({GROUP}, 5, BOGUS 1)", "BOGUS: unknown keyword"),
])
def test_mcastsocket_bad_arguments_name_the_element_and_the_keyword(config, message):
    err = config_error_of(router_of, f"m :: {config} -> Discard")
    assert f"t.click:1: While configuring 'm :: McastSocket': {message}" in str(err)


@contextlib.contextmanager
def group_member(port: int) -> Iterator[socket.socket]:
    """A socket of the test that joined the group on ``port``."""
    with peer(socket.SOCK_DGRAM, address=None) as member:
        member.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        member.bind((GROUP, port))
        member.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                          socket.inet_aton(GROUP) + socket.inet_aton("0.0.0.0"))
        yield member


def test_mcastsocket_sends_to_the_group_and_receives_from_it():
    with loopback_namespace(), group_member(5000) as member, \
            peer(socket.SOCK_DGRAM) as outsider:
        with Started(f"m :: McastSocket({GROUP}, 5000) -> k :: KeepingTestSink;"
                     'InfiniteSource(DATA "hello", LIMIT 2) -> m') as run:
            assert received(member, 2) == [b"hello"] * 2
            # Without SOURCEIP, its own datagrams come back too.
            outsider.sendto(b"from outside", (GROUP, 5000))
            assert sorted(run.wait_for_packets(3)) == [b"from outside", b"hello", b"hello"]
            assert all(p.timestamp > 0 for p in run.router.element("k").packets)


def test_mcastsocket_with_a_source_drops_its_own_datagrams_and_cuts_at_snaplen():
    with loopback_namespace(), group_member(5000) as member:
        with Started(f"m :: McastSocket({GROUP}, 5000, {LOOPBACK}, 6000, SNAPLEN 3, "
                     "TIMESTAMP false) -> k :: KeepingTestSink;"
                     f"n :: McastSocket({GROUP}, 5000, {LOOPBACK}) -> l :: KeepingTestSink;"
                     "InfiniteSource(DATA hello, LIMIT 1) -> Queue -> m;"
                     "InfiniteSource(DATA xy, LIMIT 1) -> n") as run:
            assert sorted(member.recvfrom(100) for _ in range(2)) == \
                [(b"hello", (LOOPBACK, 6000)), (b"xy", (LOOPBACK, run.router.element("n")._own[1]))]
            assert run.wait_for_packets(1, "l") == [b"hello"]
            assert run.wait_for_packets(1, "k") == [b"xy"]
            member.sendto(b"12345", (GROUP, 5000))
            assert run.wait_for_packets(2, "k") == [b"xy", b"123"]
        kept = run.router.element("k").packets
        assert [(p.extra_length, p.timestamp) for p in kept] == [(0, 0.0), (2, 0.0)]


def test_a_send_error_closes_both_sockets(caplog):
    # A UDP datagram holds at most 65507 bytes: the 65535-byte packet is refused.
    with loopback_namespace(), caplog.at_level(logging.ERROR), group_member(5000) as member:
        with Started(f"m :: McastSocket({GROUP}, 5000) -> k :: KeepingTestSink;"
                     f"n :: McastSocket({GROUP}, 5000) -> l :: KeepingTestSink;"
                     "InfiniteSource(LENGTH 65535, LIMIT 1) -> m") as run:
            wait_until(lambda: caplog.records, "the error")
            member.sendto(b"late", (GROUP, 5000))
            assert run.wait_for_packets(1, "l") == [b"late"]
            assert run.kept("k") == []
    assert [r.getMessage() for r in caplog.records] == ["m :: McastSocket: Message too long"]


@pytest.mark.parametrize("multicast, source, message", [
    (True, "10.0.0.1", "bind 10.0.0.1:0: Cannot assign requested address"),
    (False, "0.0.0.0", "setsockopt(IP_ADD_MEMBERSHIP): No such device"),
])
def test_mcastsocket_start_errors_name_the_step(multicast, source, message):
    with loopback_namespace(multicast):
        assert start_error(f"m :: McastSocket({GROUP}, 5000, {source}) -> Discard") == \
            f"t.click:1: While initializing 'm :: McastSocket': {message}"
