"""Socket, from Click's user-level manual: TCP, UDP and UNIX-domain sockets,
server and client, over loopback and in the test's own directory."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import stat
import threading
import time
from typing import Iterator

import pytest

from pyclick.lang import flatten
from pyclick.router import Router
from tests.helpers import config_error_of
from tests.sinks import KeepingTestSink  # noqa: F401  (the class the configurations name)

#: Longest any wait of these tests lasts.
DEADLINE = 10.0
LOOPBACK = "127.0.0.1"


def router_of(config: str, *, simtime: bool = False) -> Router:
    router = Router(flatten(config, filename="t.click"), simtime=simtime)
    router.configure()
    return router


def free_port(kind: int) -> int:
    """A loopback port the system just gave away (closed again, so free)."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def peer(kind: int, family: int = socket.AF_INET, address: object = (LOOPBACK, 0)
         ) -> Iterator[socket.socket]:
    """A socket of the test bound to ``address`` (None: unbound), closed whatever happens."""
    sock = socket.socket(family, kind)
    try:
        sock.settimeout(DEADLINE)
        if address is not None:
            sock.bind(address)
        yield sock
    finally:
        sock.close()


def wait_until(predicate, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


class Running:
    """A router running on a background thread, stopped and cleaned up on exit."""

    def __init__(self, config: str) -> None:
        self.router = router_of(config)
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.router.run(handle_signals=False)
        except BaseException as err:  # raised again on the test's thread
            self.failure = err

    def started(self) -> bool:
        """Whether every Socket opened its socket (or the start failed)."""
        sockets = [e for e in self.router.elements if e.class_name() == "Socket"]
        return self.failure is not None or all(e._receiver is not None for e in sockets)

    def __enter__(self) -> "Running":
        self.thread.start()
        wait_until(self.started, "the router to start")
        if self.failure is not None:
            raise self.failure
        return self

    def __exit__(self, *exc: object) -> None:
        self.router.stop("test over")
        self.thread.join(DEADLINE)
        assert not self.thread.is_alive()

    def kept(self, sink: str = "k") -> list[bytes]:
        return [p.data for p in self.router.element(sink).packets]

    def wait_for_packets(self, count: int, sink: str = "k") -> list[bytes]:
        wait_until(lambda: len(self.router.element(sink).packets) >= count, f"{count} packets")
        return self.kept(sink)


def run_to_end(config: str) -> Router:
    """Run a configuration that stops by itself, within the deadline."""
    running = Running(config)
    running.thread.start()
    running.thread.join(DEADLINE)
    if running.thread.is_alive():
        running.router.stop("too slow")
        running.thread.join(DEADLINE)
        pytest.fail("the router did not stop by itself")
    if running.failure is not None:
        raise running.failure
    return running.router


def received(sock: socket.socket, count: int) -> list[bytes]:
    return [sock.recv(65536) for _ in range(count)]


def read_to_end(conn: socket.socket) -> bytes:
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    return data


# --- arguments

def test_client_is_the_default_without_output_and_local_addresses_bind_clients_only():
    router = router_of("Idle -> a :: Socket(TCP, 10.0.0.1, 80);"
                       "b :: Socket(udp, 10.0.0.1, domain, 0.0.0.0, 4000) -> Discard;"
                       "Idle -> c :: Socket(UDP, 10.0.0.1, 53, 0.0.0.0, 4000) -> Discard;"
                       "d :: Socket(UDP, 10.0.0.1, 53, 127.0.0.1, CLIENT true) -> Discard")
    a, b, c, d = (router.element(n) for n in "abcd")
    assert (a.client, b.client, c.client, d.client) == (True, False, False, True)
    # The service name is read as a port of the socket's protocol.
    assert b.remote == ("10.0.0.1", 53)
    # A server binds its own address; a client binds its local port only when not 0.
    assert (b.local, d.local) == (None, None)
    router = router_of("Idle -> a :: Socket(UDP, 10.0.0.1, 53, 0.0.0.0, 4000, CLIENT yes) "
                       "-> Discard")
    assert router.element("a").local == ("0.0.0.0", 4000)


def test_defaults_and_keywords():
    s = router_of("s :: Socket(TCP, 1.2.3.4, 80) -> Discard").element("s")
    assert (s.snaplen, s.headroom, s.timestamp, s.nodelay, s.verbose) == \
        (2048, 28, True, True, False)
    assert (s.sndbuf, s.rcvbuf, s.allow, s.deny) == (None, None, None, None)
    s = router_of("s :: Socket(TCP, 1.2.3.4, 80, SNAPLEN 100, HEADROOM 0, TIMESTAMP false, "
                  "NODELAY 0, SNDBUF 65536, RCVBUF 4096, VERBOSE true, PROPER true) "
                  "-> Discard").element("s")
    assert (s.snaplen, s.headroom, s.timestamp, s.nodelay, s.verbose, s.sndbuf, s.rcvbuf) == \
        (100, 0, False, False, True, 65536, 4096)
    # Click reads NODELAY as an integer: any other than 0 is true; words are taken too.
    for value, nodelay in (("5", True), ("false", False), ("true", True)):
        s = router_of(f"s :: Socket(TCP, 1.2.3.4, 80, NODELAY {value}) -> Discard").element("s")
        assert s.nodelay is nodelay


@pytest.mark.parametrize("config, message", [
    ("Socket(FOO, 1.2.3.4, 5)", "TYPE: unknown socket type 'FOO'"),
    ("Socket", "TYPE: missing mandatory argument"),
    ("Socket(TCP, 1.2.3.4)", "PORT: missing mandatory argument"),
    ("Socket(TCP, 1.2.3.4, 65536)", "PORT: must be at least 0 and at most 65535"),
    ("Socket(UDP, nowhere, 5)", "ADDR: expected IP address"),
    ("Socket(UDP, 1.2.3.4, 5, 6, 7, 8)", "LOCAL_ADDR: expected IP address"),
    ("Socket(UNIX)", "FILENAME: missing mandatory argument"),
    (f"Socket(UNIX, /{'a' * 107})", "FILENAME: '/aaa"),
    (f"Socket(UNIX_DGRAM, /a, /{'b' * 107}, CLIENT true)", "LOCAL_FILENAME: '/bbb"),
    ("Socket(TCP, 1.2.3.4, 5, SNAPLEN 0)", "SNAPLEN: must be at least 1"),
    ("Socket(TCP, 1.2.3.4, 5, SNAPLEN -1)", "SNAPLEN: expected unsigned integer"),
    ("Socket(TCP, 1.2.3.4, 5, NODELAY maybe)", "NODELAY: expected boolean or integer"),
    ("Socket(TCP, 1.2.3.4, 5, CLIENT 2)", "CLIENT: expected boolean"),
    ("Socket(TCP, 1.2.3.4, 5, ALLOW nosuch)", "ALLOW: no element named 'nosuch'"),
    ("Socket(TCP, 1.2.3.4, 5, DENY c)", "DENY: 'c :: Counter' is not an IPRouteTable"),
    ("Socket(TCP, 1.2.3.4, 5, BOGUS 1)", "BOGUS: unknown keyword"),
])
def test_bad_arguments_name_the_element_and_the_keyword(config, message):
    err = config_error_of(router_of, f"Idle -> s :: {config} -> Discard; "
                          "Idle -> c :: Counter -> Discard")
    assert "t.click:1: While configuring 's :: Socket': " + message in str(err)


def test_socket_refuses_simulated_time():
    err = config_error_of(router_of, "s :: Socket(UDP, 127.0.0.1, 9) -> Discard", simtime=True)
    assert "'s :: Socket': a socket's packets come and go in real time" in str(err)


def test_configure_opens_nothing(tmp_path):
    path = tmp_path / "s.sock"
    port = free_port(socket.SOCK_STREAM)
    router_of(f"a :: Socket(UNIX, {path}) -> Discard; b :: Socket(TCP, {LOOPBACK}, {port}) "
              "-> Discard")
    assert not path.exists()
    with peer(socket.SOCK_STREAM, address=(LOOPBACK, port)):
        pass  # the port is still free


# --- UDP

def test_udp_server_emits_each_datagram_as_a_packet_with_its_timestamp():
    port = free_port(socket.SOCK_DGRAM)
    with Running(f"Socket(UDP, {LOOPBACK}, {port}) -> k :: KeepingTestSink") as run, \
            peer(socket.SOCK_DGRAM) as client:
        for data in (b"a", b"bb", b"", b"ccc"):
            client.sendto(data, (LOOPBACK, port))
        assert run.wait_for_packets(4) == [b"a", b"bb", b"", b"ccc"]
        packets = run.router.element("k").packets
        assert all(p.timestamp > 0 and p.headroom == 28 for p in packets)


def test_udp_snaplen_cuts_datagrams_and_counts_the_rest_as_extra_length():
    port = free_port(socket.SOCK_DGRAM)
    with Running(f"Socket(UDP, {LOOPBACK}, {port}, SNAPLEN 4, HEADROOM 8, TIMESTAMP false) "
                 "-> k :: KeepingTestSink") as run, peer(socket.SOCK_DGRAM) as client:
        client.sendto(b"0123456789", (LOOPBACK, port))
        client.sendto(b"abcd", (LOOPBACK, port))
        assert run.wait_for_packets(2) == [b"0123", b"abcd"]
        first, second = run.router.element("k").packets
        assert (first.extra_length, second.extra_length) == (6, 0)
        assert (first.timestamp, first.headroom) == (0.0, 8)


def test_udp_server_answers_the_last_sender():
    port = free_port(socket.SOCK_DGRAM)
    with Running(f"s :: Socket(UDP, {LOOPBACK}, {port}) -> s") as run, \
            peer(socket.SOCK_DGRAM) as one, peer(socket.SOCK_DGRAM) as two:
        assert run.router.element("s").client is False
        one.sendto(b"first", (LOOPBACK, port))
        assert one.recvfrom(100) == (b"first", (LOOPBACK, port))
        two.sendto(b"second", (LOOPBACK, port))
        assert two.recvfrom(100) == (b"second", (LOOPBACK, port))
        one.sendto(b"third", (LOOPBACK, port))
        assert one.recv(100) == b"third"


def test_udp_server_drops_what_comes_before_anyone_sent():
    # Nobody to answer yet: the source's packet is dropped, not sent anywhere.
    port = free_port(socket.SOCK_DGRAM)
    with Running(f"src :: InfiniteSource(DATA early, LIMIT 1) -> s :: Socket(UDP, {LOOPBACK}, "
                 f"{port}) -> k :: KeepingTestSink") as run, peer(socket.SOCK_DGRAM) as client:
        wait_until(lambda: run.router.handlers.read("src.count") == "1", "the source")
        client.sendto(b"late", (LOOPBACK, port))
        assert run.wait_for_packets(1) == [b"late"]
        client.settimeout(0.2)
        with pytest.raises(socket.timeout):
            client.recv(100)
    assert run.kept() == [b"late"]


@pytest.mark.parametrize("source, arguments, expected", [
    ('InfiniteSource(DATA "hello", LIMIT 3, STOP true)', f"{LOOPBACK}, {{port}}, CLIENT true",
     [b"hello"] * 3),
    # Address 0 sends each packet to its destination IP annotation.
    (f"InfiniteSource(DATA xy, LIMIT 2, STOP true) -> SetIPAddress({LOOPBACK})",
     "0.0.0.0, {port}", [b"xy"] * 2),
])
def test_udp_client_sends_each_packet_as_one_datagram(source, arguments, expected):
    with peer(socket.SOCK_DGRAM) as server:
        port = server.getsockname()[1]
        run_to_end(f"{source} -> Socket(UDP, {arguments.format(port=port)})")
        assert received(server, len(expected)) == expected


def test_udp_client_bound_locally_emits_the_answers():
    local = free_port(socket.SOCK_DGRAM)
    with peer(socket.SOCK_DGRAM) as server:
        port = server.getsockname()[1]
        with Running(f"src :: InfiniteSource(DATA ask, LIMIT 1) -> s :: Socket(UDP, {LOOPBACK}, "
                     f"{port}, {LOOPBACK}, {local}, CLIENT true) -> k :: KeepingTestSink") as run:
            data, sender = server.recvfrom(100)
            assert (data, sender) == (b"ask", (LOOPBACK, local))
            server.sendto(b"answer", sender)
            assert run.wait_for_packets(1) == [b"answer"]


def test_pull_input_sends_everything_the_queue_holds():
    with peer(socket.SOCK_DGRAM) as server:
        port = server.getsockname()[1]
        with Running(f"InfiniteSource(DATA p, LIMIT 5, BURST 5) -> q :: Queue "
                     f"-> s :: Socket(UDP, {LOOPBACK}, {port}, CLIENT true)") as run:
            assert received(server, 5) == [b"p"] * 5
            wait_until(lambda: run.router.handlers.read("q.length") == "0", "an empty queue")
            assert run.router.handlers.read("s.home_thread") == "0"


def test_allow_is_looked_up_before_deny():
    port = free_port(socket.SOCK_DGRAM)
    tables = ("allow :: RadixIPLookup(127.0.0.2/32 0); deny :: RadixIPLookup(0.0.0.0/0 0);"
              "Idle -> allow -> Discard; Idle -> deny -> Discard;")
    with Running(tables + f"Socket(UDP, 0.0.0.0, {port}, ALLOW allow, DENY deny) "
                 "-> k :: KeepingTestSink") as run, \
            peer(socket.SOCK_DGRAM, address=(LOOPBACK, 0)) as denied, \
            peer(socket.SOCK_DGRAM, address=("127.0.0.2", 0)) as allowed:
        denied.sendto(b"no", (LOOPBACK, port))
        allowed.sendto(b"yes", (LOOPBACK, port))
        # Datagrams are read in order: the first was refused once the second is in.
        assert run.wait_for_packets(1) == [b"yes"]
        allowed.sendto(b"again", (LOOPBACK, port))
        assert run.wait_for_packets(2) == [b"yes", b"again"]


# --- TCP

def test_tcp_server_serves_one_connection_at_a_time(caplog):
    port = free_port(socket.SOCK_STREAM)
    with caplog.at_level(logging.INFO, "pyclick.Socket"), \
            Running(f"s :: Socket(TCP, {LOOPBACK}, {port}, VERBOSE true) -> s") as run, \
            contextlib.ExitStack() as stack:
        first = stack.enter_context(socket.create_connection((LOOPBACK, port), DEADLINE))
        second = stack.enter_context(socket.create_connection((LOOPBACK, port), DEADLINE))
        first.sendall(b"one")
        assert first.recv(100) == b"one"
        # The second client waits in the listen queue while the first is served.
        second.sendall(b"two")
        second.settimeout(0.3)
        with pytest.raises(socket.timeout):
            second.recv(100)
        first.close()
        second.settimeout(DEADLINE)
        assert second.recv(100) == b"two"
        client_port = second.getsockname()[1]
    assert run.router.element("s").client is False
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0].startswith(f"s :: Socket: listening for connections on {LOOPBACK}:{port}")
    assert any(m.startswith("s :: Socket: closed connection") for m in messages)
    assert any(m.startswith("s :: Socket: opened connection")
               and m.endswith(f" from {LOOPBACK}:{client_port}") for m in messages)


def test_tcp_server_answers_what_came_before_the_end_of_the_stream_then_closes():
    port = free_port(socket.SOCK_STREAM)
    with Running(f"s :: Socket(TCP, {LOOPBACK}, {port}) -> s"), \
            socket.create_connection((LOOPBACK, port), DEADLINE) as client:
        client.sendall(b"last words")
        client.shutdown(socket.SHUT_WR)
        assert read_to_end(client) == b"last words"


def test_tcp_server_refuses_denied_clients():
    port = free_port(socket.SOCK_STREAM)
    with Running("deny :: RadixIPLookup(0.0.0.0/0 0); Idle -> deny -> Discard;"
                 f"Socket(TCP, {LOOPBACK}, {port}, DENY deny) -> k :: KeepingTestSink") as run, \
            socket.create_connection((LOOPBACK, port), DEADLINE) as client:
        assert client.recv(100) == b""
    assert run.kept() == []


def test_tcp_client_sends_the_bytes_of_every_packet_and_closes_at_cleanup():
    with peer(socket.SOCK_STREAM) as listener:
        listener.listen(1)
        port = listener.getsockname()[1]
        router = run_to_end(f'InfiniteSource(DATA "hello", LIMIT 3, STOP true) '
                            f"-> s :: Socket(TCP, {LOOPBACK}, {port})")
        assert router.element("s").nodelay is True
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(DEADLINE)
            assert read_to_end(conn) == b"hello" * 3


def test_tcp_client_emits_what_it_reads_and_does_not_reconnect():
    with peer(socket.SOCK_STREAM) as listener:
        listener.listen(1)
        port = listener.getsockname()[1]
        with Running(f"Idle -> Socket(TCP, {LOOPBACK}, {port}, CLIENT true, SNAPLEN 3) "
                     "-> k :: KeepingTestSink") as run:
            conn, _ = listener.accept()
            with conn:
                conn.sendall(b"abcdefg")
            wait_until(lambda: b"".join(run.kept()) == b"abcdefg", "the bytes sent")
            # Reads of at most SNAPLEN bytes.
            assert max(len(p) for p in run.kept()) <= 3
            listener.settimeout(0.3)
            with pytest.raises(socket.timeout):
                listener.accept()


# --- UNIX sockets

def test_unix_stream_server_echoes_and_removes_its_file(tmp_path):
    path = str(tmp_path / "server.sock")
    with Running(f"s :: Socket(UNIX, {path}) -> t :: Tee; t[0] -> k :: KeepingTestSink;"
                 "t[1] -> s") as run, peer(socket.SOCK_STREAM, socket.AF_UNIX, None) as client:
        assert stat.S_ISSOCK(os.stat(path).st_mode)
        client.connect(path)
        client.sendall(b"hello")
        echoed = b""
        while len(echoed) < 5:
            echoed += client.recv(100)
        assert echoed == b"hello" == b"".join(run.kept())
    assert not os.path.exists(path)


def test_unix_dgram_client_binds_its_local_file_and_removes_it(tmp_path):
    server_path = str(tmp_path / "server.sock")
    local = str(tmp_path / "client.sock")
    with peer(socket.SOCK_DGRAM, socket.AF_UNIX, server_path) as server:
        with Running(f"InfiniteSource(DATA hi, LIMIT 2) -> s :: Socket(UNIX_DGRAM, {server_path}, "
                     f"{local}, CLIENT true) -> k :: KeepingTestSink") as run:
            assert [server.recvfrom(100) for _ in range(2)] == [(b"hi", local)] * 2
            server.sendto(b"reply", local)
            assert run.wait_for_packets(1) == [b"reply"]
        assert not os.path.exists(local)
        # The server's file is the test's: untouched.
        assert os.path.exists(server_path)


def test_unix_dgram_server_answers_its_last_sender(tmp_path):
    path = str(tmp_path / "server.sock")
    with Running(f"s :: Socket(UNIX_DGRAM, {path}) -> s") as run, \
            peer(socket.SOCK_DGRAM, socket.AF_UNIX, str(tmp_path / "c.sock")) as client:
        client.sendto(b"ping", path)
        assert client.recv(100) == b"ping"
        assert run.router.element("s").client is False
    assert not os.path.exists(path)


# --- errors when the router starts

def start_error(config: str) -> str:
    router = router_of(config)
    return str(config_error_of(router.run, handle_signals=False))


def test_refused_connection_is_a_start_error():
    port = free_port(socket.SOCK_STREAM)
    message = start_error(f"Idle -> s :: Socket(TCP, {LOOPBACK}, {port})")
    assert message == (f"t.click:1: While initializing 's :: Socket': connect "
                       f"{LOOPBACK}:{port}: Connection refused")


def test_address_in_use_is_a_start_error():
    with peer(socket.SOCK_DGRAM) as taken:
        port = taken.getsockname()[1]
        message = start_error(f"s :: Socket(UDP, {LOOPBACK}, {port}) -> Discard")
    assert message == (f"t.click:1: While initializing 's :: Socket': bind "
                       f"{LOOPBACK}:{port}: Address already in use")


def test_bad_paths_are_start_errors_and_an_existing_file_is_kept(tmp_path):
    missing = tmp_path / "no" / "such.sock"
    assert start_error(f"s :: Socket(UNIX, {missing}) -> Discard") == (
        f"t.click:1: While initializing 's :: Socket': bind {missing}: "
        "No such file or directory")
    assert start_error(f"Idle -> s :: Socket(UNIX, {missing})") == (
        f"t.click:1: While initializing 's :: Socket': connect {missing}: "
        "No such file or directory")
    existing = tmp_path / "file"
    existing.write_text("mine")
    assert start_error(f"s :: Socket(UNIX_DGRAM, {existing}) -> Discard").endswith(
        f"bind {existing}: Address already in use")
    assert existing.read_text() == "mine"


def test_a_later_start_error_closes_the_sockets_already_open(tmp_path):
    path = tmp_path / "first.sock"
    port = free_port(socket.SOCK_STREAM)
    message = start_error(f"a :: Socket(UNIX, {path}) -> Discard;"
                          f"b :: Socket(TCP, {LOOPBACK}, {port}) -> Discard;"
                          f"c :: Socket(UNIX, {tmp_path}/no/such.sock) -> Discard")
    assert "While initializing 'c :: Socket'" in message
    assert not path.exists()
    with peer(socket.SOCK_STREAM, address=(LOOPBACK, port)):
        pass  # b's port is free again


def test_start_errors_stop_the_command_line_without_traceback(capsys):
    from pyclick.cli import main

    port = free_port(socket.SOCK_STREAM)
    assert main(["-e", f"Idle -> Socket(TCP, {LOOPBACK}, {port})"]) != 0
    err = capsys.readouterr().err
    assert "While initializing 'Socket@2 :: Socket': connect" in err
    assert "Traceback" not in err
