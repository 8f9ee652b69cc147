"""ControlSocket: the protocol engine on its own, then the element over real sockets."""

from __future__ import annotations

import os
import re
import socket
import stat
import threading
import time

import pytest

from pyclick.element import Element, read_handler, write_handler
from pyclick.elements.controlsocket import listen_backlog
from pyclick.errors import ConfigError, Landmark
from pyclick.router import Router
from pyclick.runtime.controlsocket_protocol import BANNER, Session
from pyclick.runtime.handlers import HandlerError
from tests.helpers import Connection, Declaration, config_error_of, configured_router


# --- the protocol engine, against a plain table of handlers ------------------

class TableOfHandlers:
    """Handlers kept in dicts: ``reads[name](params)`` and ``writes[name](value)``."""

    def __init__(self) -> None:
        self.values = {"e.x": "5"}
        self.reads = {
            "e.x": lambda params: self.values["e.x"],
            "e.echo": lambda params: f"<{params}>",
            "e.broken": self._fail,
            "version": lambda params: "1.0",
        }
        self.writes = {"e.x": self._set_x, "e.broken": self._fail}

    def _set_x(self, value: str) -> None:
        self.values["e.x"] = value

    @staticmethod
    def _fail(value: str) -> str:
        raise HandlerError(520, "it broke\nsecond line")

    def _exists(self, name: str) -> None:
        element = name.partition(".")[0] if "." in name else ""
        if element and element != "e":
            raise HandlerError(510, f"No element named '{element}'")
        if name not in self.reads and name not in self.writes:
            raise HandlerError(511, f"No handler named '{name}'")

    def read(self, name: str, params: str = "") -> str:
        self._exists(name)
        if name not in self.reads:
            raise HandlerError(530, f"Handler '{name}' write-only")
        return self.reads[name](params)

    def write(self, name: str, value: str) -> None:
        self._exists(name)
        if name not in self.writes:
            raise HandlerError(530, f"Handler '{name}' read-only")
        self.writes[name](value)

    def check(self, name: str, write: bool) -> None:
        self._exists(name)
        if name not in (self.writes if write else self.reads):
            raise HandlerError(511, f"Handler '{name}' not {'writable' if write else 'readable'}")


def session(**options) -> tuple[Session, TableOfHandlers]:
    table = TableOfHandlers()
    return Session(table, **options), table


def codes(reply: bytes) -> list[int]:
    """The final reply code of each reply in ``reply`` (continuations skipped)."""
    return [int(m) for m in re.findall(rb"^(\d{3}) ", reply, re.M)]


def test_greeting_is_the_version_banner():
    s, _ = session()
    assert s.greeting() == b"Click::ControlSocket/1.3\r\n" == BANNER


def test_read_returns_data_block():
    s, _ = session()
    assert s.feed(b"READ e.x\r\n") == b"200 Read handler 'e.x' OK\r\nDATA 1\r\n5"


def test_read_passes_parameters():
    s, _ = session()
    assert s.feed(b"READ e.echo a  b\n").endswith(b"DATA 6\r\n<a  b>")


def test_write_then_read_sees_new_value():
    s, table = session()
    assert codes(s.feed(b"WRITE e.x 42\n")) == [200]
    assert table.values["e.x"] == "42"
    assert s.feed(b"READ e.x\n").endswith(b"DATA 2\r\n42")


def test_commands_are_case_insensitive_and_get_set_are_aliases():
    s, table = session()
    assert codes(s.feed(b"set e.x 7\nget e.x\n")) == [200, 200]
    assert table.values["e.x"] == "7"


def test_global_handler_with_and_without_dot():
    s, _ = session()
    out = s.feed(b"READ version\nREAD .version\nREAD 0.version\n")
    assert out.count(b"DATA 3\r\n1.0") == 3


def test_writedata_takes_exact_bytes_even_split_byte_by_byte():
    s, table = session()
    request = b"WRITEDATA e.x 6\r\na\r\nb\ncREAD e.x\n"
    out = b"".join(s.feed(request[i:i + 1]) for i in range(len(request)))
    assert table.values["e.x"] == "a\r\nb\nc"
    assert codes(out) == [200, 200]
    assert out.endswith(b"DATA 6\r\na\r\nb\nc")


def test_readdata_passes_bytes_as_parameters():
    s, _ = session()
    assert s.feed(b"READDATA e.echo 3\nxyzQUIT\n").startswith(
        b"200 Read handler 'e.echo' OK\r\nDATA 5\r\n<xyz>200 Goodbye!")


def test_writeuntil_collects_lines_up_to_terminator():
    s, table = session()
    out = s.feed(b"WRITEUNTIL e.x END\nline 1\nline 2\nEND   \nREAD e.x\n")
    assert table.values["e.x"] == "line 1\nline 2\n"
    assert codes(out) == [200, 200]


def test_writeuntil_default_terminator_is_blank_line():
    s, table = session()
    s.feed(b"WRITEUNTIL e.x\r\nv1\r\nv2\r\n\r\n")
    assert table.values["e.x"] == "v1\r\nv2\r\n"


def test_readuntil_waits_for_terminator_across_chunks():
    s, _ = session()
    assert s.feed(b"READUNTIL e.echo .\nab") == b""
    assert s.feed(b"c\n") == b""
    assert s.feed(b".\n").endswith(b"DATA 6\r\n<abc\n>")


def test_check_commands():
    s, _ = session()
    out = s.feed(b"CHECKREAD e.x\nCHECKWRITE e.x\nCHECKREAD nope.x\nCHECKWRITE e.zz\n")
    assert codes(out) == [200, 200, 510, 511]


def test_error_codes_for_unknown_element_and_handler():
    s, _ = session()
    assert codes(s.feed(b"READ nope.x\n")) == [510]
    assert codes(s.feed(b"READ e.nope\n")) == [511]
    assert codes(s.feed(b"WRITE e.echo 1\n")) == [530]


def test_handler_failure_is_590_for_a_read_520_for_a_write_with_every_message_line():
    # Click's codes: a read handler's failure is "unspecified", a write handler's a
    # handler error.
    s, _ = session()
    out = s.feed(b"READ e.broken\n")
    assert out == (b"590-Read handler 'e.broken' error:\r\n590-it broke\r\n"
                   b"590 second line\r\n")
    out = s.feed(b"WRITE e.broken 1\n")
    assert out == (b"520-Write handler 'e.broken' error:\r\n520-it broke\r\n"
                   b"520 second line\r\n")


def test_checks_for_the_other_direction_are_511_and_wrong_directions_530():
    s, table = session()
    table.reads["e.ro"] = lambda params: "1"
    out = s.feed(b"CHECKWRITE e.ro\nCHECKREAD e.ro\nWRITE e.ro 2\n")
    assert out == (b"511 Handler 'e.ro' not writable\r\n"
                   b"200 Read handler 'e.ro' OK\r\n"
                   b"530 Handler 'e.ro' read-only\r\n")
    s, table = session(read_only=True)
    table.reads["e.ro"] = lambda params: "1"
    assert s.feed(b"WRITE e.ro 2\n") == b"530 Handler 'e.ro' read-only\r\n"


def test_readonly_refuses_writes_but_still_reports_missing_handlers():
    s, table = session(read_only=True)
    out = s.feed(b"WRITE e.x 9\nCHECKWRITE e.x\nWRITE e.nope 1\nREAD e.x\n")
    assert codes(out) == [530, 530, 511, 200]
    assert table.values["e.x"] == "5"


def test_readonly_writedata_still_consumes_its_data():
    s, _ = session(read_only=True)
    assert codes(s.feed(b"WRITEDATA e.x 5\nREAD \nREAD e.x\n")) == [530, 200]


def test_malformed_requests_get_500():
    s, _ = session()
    out = s.feed(b"READ\nWRITEDATA e.x abc\nWRITEDATA e.x\nCHECKREAD\nREADDATA e.x -1\n")
    assert codes(out) == [500, 500, 500, 500, 500]


def test_unknown_command_and_llrpc_are_501_and_llrpc_data_is_skipped():
    s, table = session()
    table.reads["e.name"] = lambda params: "e"
    out = s.feed(b"FROB x\nLLRPC e#1234 4\nREADREAD e.x\n")
    assert codes(out) == [501, 501, 200]
    assert b"501 Cannot call LLRPC 'e#1234' remotely" in out
    # As in Click: the name must be element#hex, and the element must exist.
    out = s.feed(b"LLRPC e.x\nLLRPC e#xyz\nLLRPC nope#12\n")
    assert out == (b"500 Syntax error in LLRPC name 'e.x'\r\n"
                   b"500 Syntax error in LLRPC name 'e#xyz'\r\n"
                   b"510 No element named 'nope'\r\n")


def test_empty_lines_are_ignored():
    s, _ = session()
    assert s.feed(b"\n\r\n   \n") == b""


def test_oversized_line_gets_500_and_the_session_recovers():
    s, _ = session(max_line=100)
    out = s.feed(b"READ " + b"x" * 300)
    assert codes(out) == [500] and b"too long" in out
    assert s.feed(b"y" * 1000) == b""            # still the same long line: skipped
    out = s.feed(b"zzz\nREAD e.x\n")
    assert codes(out) == [200]


def test_oversized_line_in_one_chunk_with_its_newline():
    s, _ = session(max_line=10)
    assert codes(s.feed(b"READ e.x      padding\nREAD e.x\n")) == [500, 200]


def test_oversized_data_gets_521_and_is_skipped():
    s, table = session(max_data=10)
    out = s.feed(b"WRITEDATA e.x 50\n" + b"R" * 30)
    assert codes(out) == [521]
    out = s.feed(b"R" * 20 + b"READ e.x\n")
    assert codes(out) == [200] and table.values["e.x"] == "5"


def test_oversized_until_data_gets_521_and_is_skipped_to_terminator():
    s, table = session(max_data=10, max_line=20)
    out = s.feed(b"WRITEUNTIL e.x END\n" + b"0123456789\n" * 3)
    assert codes(out) == [521]
    assert s.feed(b"A" * 100) == b""            # a very long line while skipping
    out = s.feed(b"\nEND\nREAD e.x\n")
    assert codes(out) == [200] and table.values["e.x"] == "5"


def test_cr_only_and_split_crlf_line_endings():
    s, table = session()
    out = s.feed(b"WRITE e.x 1\r")
    assert codes(out) == [200]
    # The LF completing that CRLF must not count as an (empty) line of data.
    out = s.feed(b"\nWRITEUNTIL e.x\rv\r\r")
    # A final CR may be half of a CRLF: the blank line is known with the next byte.
    assert out == b""
    out = s.feed(b"QUIT\r")
    assert codes(out) == [200, 200] and table.values["e.x"] == "v\r"


def test_quit_closes_and_ignores_the_rest():
    s, table = session()
    out = s.feed(b"QUIT\nWRITE e.x 3\n")
    assert out == b"200 Goodbye!\r\n" and s.closed and table.values["e.x"] == "5"


def test_end_of_stream_runs_last_line_and_reports_missing_data():
    s, table = session()
    assert s.feed(b"WRITE e.x 8") == b""
    assert codes(s.finish()) == [200] and table.values["e.x"] == "8"
    s, _ = session()
    s.feed(b"WRITEDATA e.x 10\nabc")
    out = s.finish()
    assert codes(out) == [500] and b"Not enough data" in out and s.closed


def test_reply_lines_cannot_be_forged_by_names():
    s, _ = session()
    out = s.feed(b"READ e.\x07x\n")
    assert codes(out) == [511] and b"\\x07" in out


def test_help_lists_commands():
    s, _ = session()
    out = s.feed(b"HELP\n")
    assert out.startswith(b"200-") and out.count(b"\r\n200-") >= 5 and codes(out) == [200]


# --- the element, over real sockets ------------------------------------------

LANDMARK = Landmark("<test>", 1)


def build(elements: list[Declaration], connections: list[Connection] = ()) -> Router:
    return configured_router(elements, connections, at=LANDMARK)


class Running:
    """A router running on a background thread for the duration of a test."""

    def __init__(self, router: Router, cs: str = "cs") -> None:
        self.router = router
        self.cs = router.element(cs)
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.router.run(handle_signals=False)
        except BaseException as err:  # surfaced by stop()
            self.failure = err

    def __enter__(self) -> "Running":
        self.thread.start()
        deadline = time.monotonic() + 10
        while self.cs._server is None and self.cs._connection is None and self.failure is None:
            assert time.monotonic() < deadline, "router did not start"
            time.sleep(0.01)
        if self.failure is not None:
            raise self.failure
        return self

    def __exit__(self, *exc) -> None:
        self.router.stop("test over")
        self.thread.join(10)
        assert not self.thread.is_alive()

    def connect(self) -> "Client":
        if self.cs.kind == "TCP":
            sock = socket.create_connection(("127.0.0.1", self.cs.port), timeout=30)
        else:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(30)
            sock.connect(self.cs.path)
        return Client(sock)


class Client:
    """A raw protocol client: sends lines, parses replies."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""
        self.banner = self._line()

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buffer += chunk

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            self._fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def reply(self) -> tuple[int, list[str]]:
        """One reply: its code and the text of each of its lines."""
        lines = []
        while True:
            line = self._line().decode()
            lines.append(line[4:])
            if line[3] == " ":
                return int(line[:3]), lines

    def data(self) -> str:
        header = self._line().decode()
        assert header.startswith("DATA ")
        size = int(header[5:])
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data.decode()

    def send(self, raw: bytes) -> None:
        self.sock.sendall(raw)

    def command(self, line: str) -> int:
        self.send(line.encode() + b"\r\n")
        return self.reply()[0]

    def read(self, handler: str) -> str:
        code = self.command(f"READ {handler}")
        assert code == 200
        return self.data()

    def at_eof(self) -> bool:
        return self.sock.recv(1) == b""

    def close(self) -> None:
        self.sock.close()


def counting_router(cs_config: str) -> Router:
    return build([("src", "InfiniteSource", "LIMIT 25, BURST 5"), ("c", "Counter", ""),
                  ("d", "Discard", ""), ("cs", "ControlSocket", cs_config)],
                 [("src", 0, "c", 0), ("c", 0, "d", 0)])


def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_tcp_read_write_and_errors():
    with Running(counting_router("TCP, 0")) as run:
        client = run.connect()
        assert client.banner == b"Click::ControlSocket/1.3"
        wait_for(lambda: run.router.element("d").count == 25)
        assert client.read("c.count") == "25"
        assert client.read("2.count") == "25"          # elements by number, from 1
        assert client.read("cs.port") == str(run.cs.port)
        assert client.command("WRITE c.reset") == 200
        assert client.read("c.count") == "0"
        assert client.command("READ nosuch.count") == 510
        assert client.command("READ c.nosuch") == 511
        assert client.command("WRITE c.count 3") == 530
        assert client.command("READ c.reset") == 530
        assert client.command("READ c.count extra params") == 590
        assert client.command("CHECKWRITE c.reset") == 200
        assert client.command("BOGUS") == 501
        assert client.command("WRITEDATA c.reset x") == 500
        assert client.command("QUIT") == 200
        assert client.at_eof()
        client.close()


def test_tcp_listens_on_localhost_only_by_default():
    with Running(counting_router("TCP, 0")) as run:
        assert run.cs._server.server_address[0] == "127.0.0.1"


def test_readonly_refuses_writes_over_the_wire():
    with Running(counting_router("TCP, 0, READONLY true")) as run:
        client = run.connect()
        wait_for(lambda: run.router.element("d").count == 25)
        assert client.command("WRITE c.reset") == 530
        assert client.command("CHECKWRITE c.reset") == 530
        assert client.command("WRITE c.nosuch") == 511
        assert client.read("c.count") == "25"
        assert client.command("WRITE stop") == 530
        assert not run.router.stopped


def test_oversized_requests_are_refused_and_connection_survives():
    with Running(counting_router("TCP, 0")) as run:
        client = run.connect()
        client.send(b"READ " + b"x" * (run.cs.max_line + 10) + b"\r\n")
        code, lines = client.reply()
        assert code == 500 and "too long" in lines[0]
        client.send(b"WRITEDATA c.reset %d\r\n" % (run.cs.max_data + 1))
        assert client.reply()[0] == 521
        client.send(b"\0" * (run.cs.max_data + 1))
        assert client.read("c.byte_count").isdigit()
        client.close()


def test_many_clients_at_once():
    with Running(counting_router("TCP, 0")) as run:
        wait_for(lambda: run.router.element("d").count == 25)
        results: list[str] = []
        lock = threading.Lock()

        def talk() -> None:
            client = run.connect()
            values = [client.read("c.count") for _ in range(20)]
            client.command("QUIT")
            client.close()
            with lock:
                results.extend(values)

        clients = [run.connect() for _ in range(5)]      # idle ones stay connected
        wait_for(lambda: run.cs._server is not None and len(run.cs._server.clients) == 5)
        workers = [threading.Thread(target=talk) for _ in range(16)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(60)
        assert results == ["25"] * (16 * 20)
        for c in clients:
            c.close()


def test_stop_with_clients_connected_closes_them():
    run = Running(counting_router("TCP, 0"))
    with run:
        client = run.connect()
        client.send(b"READ c.co")                         # a request cut in the middle
    assert client.at_eof()
    client.close()


def test_unix_socket_mode_and_removal(tmp_path):
    path = tmp_path / "ctl.sock"
    with Running(counting_router(f"UNIX, {path}")) as run:
        mode = os.stat(path).st_mode
        assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
        assert sorted(os.listdir(tmp_path)) == ["ctl.sock"]
        client = run.connect()
        assert client.banner == b"Click::ControlSocket/1.3"
        assert client.read("cs.filename") == str(path)
        assert client.command("READ nope.x") == 510
        assert client.command("QUIT") == 200
        client.close()
    assert not path.exists()


def test_unix_socket_replaces_a_stale_socket(tmp_path):
    path = tmp_path / "ctl.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()                                          # file left, nobody listening
    with Running(counting_router(f"UNIX, {path}")) as run:
        assert run.connect().read("c.count").isdigit()


def test_unix_socket_refuses_to_replace_a_file_or_a_live_socket(tmp_path):
    path = tmp_path / "file"
    path.write_text("precious")
    router = counting_router(f"UNIX, {path}")
    with pytest.raises(ConfigError) as err:
        router.run(handle_signals=False)
    assert "not a socket" in str(err.value) and "<test>:1" in str(err.value)
    assert path.read_text() == "precious"

    live = tmp_path / "live.sock"
    with Running(counting_router(f"UNIX, {live}")):
        with pytest.raises(ConfigError) as err:
            counting_router(f"UNIX, {live}").run(handle_signals=False)
        assert "listening" in str(err.value)


def test_tcp_port_in_use_and_port_search():
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    try:
        with pytest.raises(ConfigError) as err:
            counting_router(f"TCP, {port}").run(handle_signals=False)
        assert f"port {port}" in str(err.value)
        with Running(counting_router(f"TCP, {port}+")) as run:
            assert run.cs.port > port
            assert run.connect().read("c.count").isdigit()
    finally:
        blocker.close()


def test_a_connection_on_a_file_descriptor_is_served_then_closed():
    ours, theirs = socket.socketpair()
    fd = theirs.detach()
    try:
        with Running(counting_router(f"SOCKET, {fd}")) as run:
            client = Client(ours)
            client.sock.settimeout(30)
            assert client.banner == BANNER.rstrip(b"\r\n")
            assert client.read("cs.clients") == "1"
            assert client.command("WRITE c.reset") == 200
            assert client.read("cs.config") == f"SOCKET, {fd}"
            # The other end closing ends the connection, not the router.
            ours.shutdown(socket.SHUT_WR)
            assert client.at_eof()
            wait_for(lambda: run.router.handlers.read("cs.clients") == "0")
            assert run.thread.is_alive()
        # The router closed its end once the session ended.
        with pytest.raises(OSError):
            os.fstat(fd)
    finally:
        ours.close()


def test_a_file_descriptor_that_is_not_open_fails_at_initialize():
    reader, writer = os.pipe()
    os.close(reader)
    os.close(writer)
    with pytest.raises(ConfigError) as err:
        counting_router(f"SOCKET, {reader}").run(handle_signals=False)
    assert str(err.value) == f"<test>:1: cs :: ControlSocket: FD {reader}: Bad file descriptor"


@pytest.mark.parametrize("config, message", [
    ("", "TYPE: missing mandatory argument"),
    ("UDP, 5", "TYPE: expected TCP, UNIX or SOCKET, got 'UDP'"),
    ("SOCKET", "FD: missing mandatory argument"),
    ("SOCKET, -1", "FD: expected unsigned integer, got '-1'"),
    ("TCP", "PORT: missing mandatory argument"),
    ("TCP, 70000", "PORT: expected TCP port"),
    ("TCP, abc", "PORT: expected unsigned integer, got 'abc'"),
    ("TCP, 0, READONLY maybe", "READONLY: expected boolean"),
    ("TCP, 0, ADDRESS 10.0.0.1, LOCALHOST true", "ADDRESS: not a loopback address"),
    ("TCP, 0, ADDRESS nowhere", "ADDRESS: expected IP address"),
    ("UNIX, /" + "x" * 120, "FILENAME: longer than 107 bytes"),
    ("TCP, 0, COLOUR red", "COLOUR: unknown keyword"),
])
def test_configuration_mistakes_name_element_and_keyword(config, message):
    text = str(config_error_of(build, [("cs", "ControlSocket", config)]))
    assert "<test>:1" in text and "cs :: ControlSocket" in text and message in text


# --- robustness: one reply at a time, every request answered ------------------------

def test_next_reply_answers_one_request_at_a_time():
    s, table = session()
    s.receive(b"WRITE e.x 1\nREAD e.x\nWRITE e.x 2\nREAD e.x")
    assert s.next_reply() == b"200 Write handler 'e.x' OK\r\n"
    assert s.next_reply() == b"200 Read handler 'e.x' OK\r\nDATA 1\r\n1"
    assert table.values["e.x"] == "1"                 # the next write waits for its turn
    assert codes(s.next_reply()) == [200]
    assert s.next_reply() is None                      # 'READ e.x' has no line end yet
    s.end_of_input()
    assert s.next_reply() == b"200 Read handler 'e.x' OK\r\nDATA 1\r\n2"
    assert s.next_reply() is None and s.closed


def test_blank_lines_and_data_commands_do_not_end_the_turn_early():
    s, table = session()
    s.receive(b"\n\nWRITEUNTIL e.x\nv\n\nREAD e.x\n")
    assert codes(s.next_reply()) == [200] and table.values["e.x"] == "v\n"
    assert s.next_reply().endswith(b"DATA 2\r\nv\n")
    assert s.next_reply() is None and not s.closed


@pytest.mark.parametrize("request_line", [
    "READDATA e.echo \u00b2", "READDATA e.echo \u0661", "WRITEDATA e.x 1e3", "LLRPC e#1 \u00b2",
    "READDATA e.echo -" + "9" * 5000])
def test_malformed_data_lengths_are_answered(request_line):
    s, _ = session()
    out = s.feed(request_line.encode() + b"\n" + b"READ e.x\n")
    assert codes(out) == [500, 200] and b"Bad data length" in out
    assert len(out.split(b"\r\n")[0]) < 200


def test_a_huge_data_length_is_refused_as_too_large():
    s, _ = session()
    assert codes(s.feed(b"READDATA e.echo " + b"9" * 5000 + b"\n")) == [521]


@pytest.mark.parametrize("raised", [SystemExit(3), KeyboardInterrupt(), GeneratorExit(),
                                    RuntimeError("bug"), MemoryError()])
def test_a_handler_raising_anything_is_answered_and_the_session_goes_on(raised):
    s, table = session()

    def fail(params: str) -> str:
        raise raised

    table.reads["e.odd"] = fail
    table.writes["e.odd"] = fail
    out = s.feed(b"READ e.odd\nWRITE e.odd 1\nREAD e.x\n")
    assert codes(out) == [590, 520, 200]
    assert type(raised).__name__.encode() in out and not s.closed


def test_an_unknown_command_of_any_length_is_answered_briefly():
    s, _ = session()
    out = s.feed(b"X" * 60_000 + b"\n")
    assert codes(out) == [501] and len(out) < 200


class ExitingHandlers(Element):
    """ExitingHandlers() -- handlers that raise SystemExit and KeyboardInterrupt"""

    @read_handler("exit")
    def _exit(self) -> str:
        raise SystemExit(4)

    @write_handler("interrupt")
    def _interrupt(self, value: str) -> None:
        raise KeyboardInterrupt


def test_base_exceptions_of_handlers_over_the_wire_are_answered():
    router = build([("x", "ExitingHandlers", ""), ("cs", "ControlSocket", "TCP, 0")])
    with Running(router) as run:
        client = run.connect()
        client.send(b"READ x.exit\r\n")
        code, lines = client.reply()
        assert code == 590 and lines[-1] == "SystemExit: 4"
        assert client.command("WRITE x.interrupt 1") == 520
        assert client.read("x.class") == "ExitingHandlers"     # still usable
        assert not run.router.stopped
        client.close()


def test_listen_backlog_is_the_system_maximum_and_at_least_128():
    with open("/proc/sys/net/core/somaxconn") as f:
        system = int(f.read())
    assert listen_backlog() == max(128, system)
    with Running(counting_router("TCP, 0")) as run:
        assert run.cs._server.request_queue_size == listen_backlog()


# --- the command line's -p and -u ---------------------------------------------------

@pytest.mark.parametrize("option, value, message", [
    ("-p", "0, ADDRESS 127.0.0.2", "-p/--port: expected a TCP port from 0 to 65535"),
    ("-p", "70000", "-p/--port: expected a TCP port from 0 to 65535"),
    ("-p", "", "-p/--port: expected a TCP port"),
    ("-p", "12 34", "-p/--port: expected a TCP port"),
    ("-p", "\u00b2", "-p/--port: expected a TCP port"),
    ("-p", "7" * 500, "got '" + "7" * 60 + "…"),
    ("-u", "", "-u/--unix-socket: expected a socket path of 1 to 107 bytes"),
    ("-u", "/tmp/" + "s" * 200, "-u/--unix-socket: expected a socket path of 1 to 107 bytes"),
    ("-u", "/tmp/a\0b", "-u/--unix-socket: expected a socket path"),
    ("--socket", "three", "--socket: expected an open file descriptor's number, got 'three'"),
    ("--socket", "-1", "--socket: expected an open file descriptor's number"),
    ("--socket", "9" * 11, "--socket: expected an open file descriptor's number"),
])
def test_command_line_sockets_are_checked_before_the_configuration(capsys, option, value,
                                                                   message):
    from pyclick.cli import main

    assert main([option, value, "-q", "-e", "Idle -> Discard"]) == 1
    err = capsys.readouterr().err
    assert message in err and "Usage:" in err and err.count("\n") <= 4


@pytest.mark.parametrize("value", ["0", "7777", "65535", "9000+"])
def test_command_line_ports_that_are_accepted(capsys, value):
    from pyclick.cli import main

    assert main(["-p", value, "-q", "-e", "Idle -> Discard"]) == 0


def test_command_line_sockets_have_clicks_names(tmp_path, capsys):
    from pyclick.cli import main

    # The first is click_driver@@ControlSocket, the next numbered from 1.
    assert main(["-p", "0", "-u", str(tmp_path / "s"), "-q", "-e", "Idle -> Discard",
                 "-h", "click_driver@@ControlSocket.config",
                 "-h", "click_driver@@ControlSocket@1.config"]) == 0
    assert capsys.readouterr().out == (
        f"click_driver@@ControlSocket.config:\nTCP, 0\n\n"
        f"click_driver@@ControlSocket@1.config:\nUNIX, {tmp_path}/s\n\n")


def test_the_command_line_serves_a_passed_descriptor_under_clicks_name():
    import subprocess
    import sys

    ours, theirs = socket.socketpair()
    fd = theirs.fileno()
    with ours:
        router = subprocess.Popen(
            [sys.executable, "-m", "pyclick", "--socket", str(fd), "-e",
             "c :: Counter; Idle -> c -> Discard"], pass_fds=[fd],
            stderr=subprocess.PIPE, text=True)
        try:
            theirs.close()
            ours.settimeout(30)
            client = Client(ours)
            assert client.read("click_driver@@ControlSocket.config") == f"SOCKET, {fd}"
            assert client.read("click_driver@@ControlSocket.clients") == "1"
            assert client.command("WRITE stop") == 200
            assert router.wait(30) == 0
        finally:
            router.kill()
            router.wait()
        assert router.stderr.read() == ""


def test_a_unix_path_from_the_command_line_is_one_argument(tmp_path, capsys):
    from pyclick.cli import main

    path = tmp_path / 'odd", ADDRESS 0.0.0.0'
    assert main(["-u", str(path), "-q", "-e", "Idle -> Discard",
                 "-h", "click_driver@@ControlSocket.config"]) == 0
    escaped = str(path).replace('"', '\\"')
    assert capsys.readouterr().out == f'UNIX, "{escaped}"\n'
