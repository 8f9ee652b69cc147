"""ControlSocket under abuse: random and binary input, pipelining, crowds of clients.

The protocol engine is fuzzed on its own (hypothesis: random request
streams cut at random places, against handlers that fail in every way);
then a live server is fed junk, pipelined 5,000 requests by a client that
does not read, and 200 clients at once. Every request must be answered
with a well-formed reply, the server must stay up, its memory bounded.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyclick.runtime.controlsocket_protocol import Session
from pyclick.runtime.handlers import HandlerError
from tests.test_controlsocket import Running, counting_router

REPO = Path(__file__).resolve().parent.parent

#: Codes a reply may carry (pyclick.runtime.controlsocket_protocol.Code).
CODES = {200, 220, 500, 501, 510, 511, 520, 521, 530, 540, 590}
_REPLY_LINE = re.compile(rb"(\d{3})([ -])([^\r\n]*)\r\n")
_DATA = re.compile(rb"DATA (\d+)\r\n")


def parse_replies(out: bytes) -> list[int]:
    """The code of each reply in ``out``; AssertionError if anything is malformed."""
    codes, pos, continued = [], 0, False
    while pos < len(out):
        line = _REPLY_LINE.match(out, pos)
        assert line is not None, f"malformed reply at {pos}: {out[pos:pos + 80]!r}"
        code, sep = int(line.group(1)), line.group(2)
        assert code in CODES, code
        pos = line.end()
        if sep == b"-":
            continued = True
            continue
        continued = False
        codes.append(code)
        data = _DATA.match(out, pos)
        if code == 200 and data is not None:
            pos = data.end() + int(data.group(1))
            assert pos <= len(out), "DATA block cut short"
    assert not continued, "a reply ended on a continuation line"
    return codes


class FailingTable:
    """Handlers that answer, fail with HandlerError, or raise anything else."""

    RAISED = {"exit": SystemExit(2), "interrupt": KeyboardInterrupt(), "bug": ZeroDivisionError(),
              "memory": MemoryError(), "value": ValueError("bad\nvalue")}

    def _call(self, name: str, params: str) -> str:
        element, _, handler = name.rpartition(".")
        if element not in ("", "e"):
            raise HandlerError(510, f"no element named '{element}'")
        if handler == "ok":
            return f"<{params}>"
        if handler == "big":
            return "b" * 10_000
        if handler in self.RAISED:
            raise self.RAISED[handler]
        raise HandlerError(511, f"no handler named '{name}'")

    def read(self, name: str, params: str = "") -> str:
        return self._call(name, params)

    def write(self, name: str, value: str) -> None:
        self._call(name, value)

    def check(self, name: str, write: bool) -> None:
        self._call(name, "")


VERBS = ["READ", "WRITE", "GET", "SET", "READDATA", "WRITEDATA", "READUNTIL", "WRITEUNTIL",
         "CHECKREAD", "CHECKWRITE", "LLRPC", "HELP", "QUIT", "FROB", "read", ""]
NAMES = ["e.ok", "e.big", "e.exit", "e.interrupt", "e.bug", "e.memory", "e.value", "nope.x",
         "e.none", "ok", ".ok", "0.ok", "3.ok", "\u00b2.ok", "e." + "n" * 300, ""]
ARGS = ["", "1", "0", "5", "\u00b2", "-1", "99999999999999999999999", "END", "a b c", "\x00\x01"]
SIMPLE_VERBS = ["READ", "WRITE", "GET", "SET", "CHECKREAD", "CHECKWRITE", "HELP", "FROB"]

request_lines = st.builds(lambda v, n, a: " ".join(w for w in (v, n, a) if w).encode(
    "utf-8", "surrogatepass"), st.sampled_from(VERBS), st.sampled_from(NAMES),
    st.sampled_from(ARGS))
line_ends = st.sampled_from([b"\n", b"\r\n", b"\r"])
pieces = st.one_of(st.tuples(request_lines, line_ends).map(b"".join),
                   st.binary(max_size=64), st.sampled_from([b"\r", b"\n", b"\r\n", b"\0" * 300]))
streams = st.lists(pieces, max_size=25).map(b"".join)

FUZZ = settings(deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


def new_session() -> Session:
    return Session(FailingTable(), max_line=256, max_data=1024)


@settings(FUZZ, max_examples=800)
@given(streams, st.lists(st.integers(0, 2000), max_size=8))
def test_any_stream_gets_well_formed_replies_wherever_it_is_cut(stream, cuts):
    whole = new_session()
    expected = whole.feed(stream) + whole.finish()
    parse_replies(expected)
    pieces_session = new_session()
    out, last = b"", 0
    for cut in sorted(c for c in cuts if c <= len(stream)) + [len(stream)]:
        out += pieces_session.feed(stream[last:cut])
        last = cut
    out += pieces_session.finish()
    assert out == expected


@settings(FUZZ, max_examples=500)
@given(st.lists(st.builds(lambda v, n, a: f"{v} {n} {a}".strip().encode("utf-8",
                                                                         "surrogatepass"),
                          st.sampled_from(SIMPLE_VERBS), st.sampled_from(NAMES),
                          st.sampled_from(ARGS)), min_size=1, max_size=40))
def test_every_request_gets_exactly_one_reply(lines):
    session = new_session()
    session.receive(b"\n".join(lines) + b"\n")
    replies = []
    while (reply := session.next_reply()) is not None:
        replies.append(reply)
    assert len(replies) == len(lines)
    assert all(len(parse_replies(reply)) == 1 for reply in replies)


# --- a live server -------------------------------------------------------------------

@pytest.fixture(scope="module")
def live():
    with Running(counting_router("TCP, 0")) as run:
        yield run


def exchange(run: Running, payload: bytes) -> bytes:
    """Send ``payload``, close the sending side, and read everything the server says."""
    with socket.create_connection(("127.0.0.1", run.cs.port), timeout=30) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@settings(FUZZ, max_examples=150)
@given(streams)
def test_junk_on_the_wire_is_answered_and_the_server_stays_up(live, stream):
    out = exchange(live, stream)
    assert out.startswith(b"Click::ControlSocket/1.3\r\n")
    parse_replies(out[len(b"Click::ControlSocket/1.3\r\n"):])
    after = exchange(live, b"READ version\r\n")
    assert parse_replies(after.split(b"\r\n", 1)[1]) == [200]


def test_binary_junk_without_line_ends(live):
    out = exchange(live, os.urandom(300_000).replace(b"\r", b"").replace(b"\n", b""))
    codes = parse_replies(out.split(b"\r\n", 1)[1])
    assert set(codes) == {500}                   # "Line too long", and nothing else


def test_two_hundred_clients_at_once_are_all_answered(live):
    """Every client connects before any is served: the backlog holds them."""
    count, answers, failures = 200, [], []
    start = threading.Barrier(count)
    lock = threading.Lock()

    def client() -> None:
        try:
            start.wait(30)
            with socket.create_connection(("127.0.0.1", live.cs.port), timeout=30) as sock:
                sock.sendall(b"READ c.count\r\nQUIT\r\n")
                reader = sock.makefile("rb")
                assert reader.readline() == b"Click::ControlSocket/1.3\r\n"
                assert reader.readline() == b"200 Read handler 'c.count' OK\r\n"
                size = int(reader.readline().split()[1])
                value = reader.read(size)
            with lock:
                answers.append(value)
        except Exception as err:  # collected: the test names every failure
            with lock:
                failures.append(repr(err))

    began = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    took = time.monotonic() - began
    assert failures == [] and len(answers) == count
    assert set(answers) == {b"25"} and took < 30


def _vm_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def test_pipelined_reads_leave_the_server_memory_bounded(tmp_path):
    """5,000 'READ config' (100 KB each) sent at once by a client that reads late:
    replies are made one at a time, so the server grows by far less than 500 MB."""
    requests, comment = 5000, "x" * 100_000
    config = f"Idle -> Discard; // {comment}\n"
    sock_path = tmp_path / "ctl"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "pyclick", "-u", str(sock_path), "-e", config],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not sock_path.exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.02)
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(sock_path))
            sock.settimeout(60)
            reader = sock.makefile("rb")
            assert reader.readline().startswith(b"Click::ControlSocket/")
            before = _vm_kb(proc.pid, "VmRSS")
            sock.sendall(b"READ config\r\n" * requests)
            time.sleep(1.0)                   # the server is held back meanwhile
            for _ in range(requests):
                assert reader.readline() == b"200 Read handler 'config' OK\r\n"
                size = int(reader.readline().split()[1])
                assert reader.read(size) == config.encode()
            grown_mb = (_vm_kb(proc.pid, "VmHWM") - before) / 1024
            sock.sendall(b"WRITE stop\r\n")
            assert reader.readline().startswith(b"200")
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert grown_mb < 50, f"the server grew by {grown_mb:.0f} MB"
