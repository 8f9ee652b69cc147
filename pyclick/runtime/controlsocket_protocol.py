"""Click's ControlSocket protocol, version 1.3, without any I/O.

A :class:`Session` is one client connection seen as a byte-stream
transformer: :meth:`Session.receive` takes whatever the client sent, and
:meth:`Session.next_reply` answers one request at a time, so that a server
sends each reply before it reads more: a client that pipelines thousands of
requests without reading the answers is held back by its own socket, not
buffered by the server. :meth:`Session.feed` does both at once (all the
replies to what was given). The server (``pyclick.elements.controlsocket``)
only moves bytes; everything the protocol says lives here, so it can be
exercised against any :class:`HandlerTable`.

Every request gets an answer with a code, whatever it holds: bad lengths,
bytes that are not UTF-8, a handler that raises anything at all (520, with
the exception's type and message).

Wire format, as Click defines it: requests are lines ended by CR, LF or
CRLF; every reply is one or more ``CODE text`` lines ended by CRLF (all but
the last written ``CODE-text``), optionally followed by ``DATA n`` and n
bytes. Data sent with a request (``WRITEDATA h n``) follows its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

from pyclick.runtime.handlers import HandlerError

PROTOCOL_VERSION = "1.3"
BANNER = f"Click::ControlSocket/{PROTOCOL_VERSION}\r\n".encode()

#: Longest command line accepted (bytes, terminator excluded).
DEFAULT_MAX_LINE = 64 * 1024
#: Most data accepted with one request (WRITEDATA, READDATA, ...UNTIL).
DEFAULT_MAX_DATA = 16 * 1024 * 1024

_LINE_END = re.compile(rb"[\r\n]")
_DATA_LENGTH = re.compile(r"[0-9]+")
_HEX = re.compile(r"(0[xX])?[0-9A-Fa-f]+")
# A data length with more digits than this is beyond any limit anyway.
_LENGTH_DIGITS = 18


class Code(IntEnum):
    """Response codes of the protocol."""

    OK = 200
    OK_WARNINGS = 220
    SYNTAX = 500
    UNIMPLEMENTED = 501
    NO_ELEMENT = 510
    NO_HANDLER = 511
    HANDLER_ERROR = 520
    DATA_TOO_BIG = 521
    PERMISSION = 530
    NO_ROUTER = 540
    UNSPECIFIED = 590


class HandlerTable(Protocol):
    """What a session needs from a router: handler calls by full name.

    Names are ``element.handler`` or a bare global handler name. Failures
    raise :class:`~pyclick.runtime.handlers.HandlerError` with one of the
    :class:`Code` values (510 no element, 511 no handler, 530 wrong
    direction, 520 the handler itself failed).
    """

    def read(self, name: str, params: str = "") -> str:
        """Call a read handler and return its value."""

    def write(self, name: str, value: str) -> None:
        """Call a write handler."""

    def check(self, name: str, write: bool) -> None:
        """Return if the handler exists and is readable (writable), else raise."""


_HELP = (
    "READ handler [params]      call a read handler, answer DATA",
    "READDATA handler n         call a read handler with n bytes of params, answer DATA",
    "READUNTIL handler [term]   call a read handler with params up to a line 'term'",
    "WRITE handler [value]      call a write handler",
    "WRITEDATA handler n        call a write handler with the next n bytes",
    "WRITEUNTIL handler [term]  call a write handler with lines up to a line 'term'",
    "CHECKREAD handler          is the handler readable?",
    "CHECKWRITE handler         is the handler writable?",
    "LLRPC element#cmd [n]      answered: no LLRPC can be called remotely",
    "QUIT                       close the connection",
)


@dataclass
class _DataRequest:
    """A command waiting for the data that follows its line."""

    command: str          # "READ", "WRITE" or "LLRPC"
    target: str           # handler (or LLRPC) name
    length: int = -1      # bytes still expected, for the *DATA form
    terminator: str = ""  # closing line, for the *UNTIL form
    discard: bool = False  # too big: swallow it, the answer is already sent
    scanned: int = 0      # *UNTIL: bytes of the buffer already searched
    mid_line: bool = False  # *UNTIL, discarding: the buffer starts inside a line

    @property
    def until(self) -> bool:
        return self.length < 0


def _shortened(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else f"{text[:limit]}…({len(text)} characters)"


def _printable(text: str) -> str:
    """Escape what could break a reply line (CR, LF and other controls)."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def canonical_handler_name(name: str) -> str:
    """``.h`` and ``0.h`` name the global handler ``h``."""
    if name.startswith("."):
        return name[1:]
    if name.startswith("0."):
        return name[2:]
    return name


class Session:
    """One client connection's protocol state."""

    def __init__(self, handlers: HandlerTable, *, read_only: bool = False,
                 max_line: int = DEFAULT_MAX_LINE, max_data: int = DEFAULT_MAX_DATA) -> None:
        self.handlers = handlers
        self.read_only = read_only
        self.max_line = max_line
        self.max_data = max_data
        #: True once the client said QUIT (or its stream ended): send what
        #: feed() returned, then close.
        self.closed = False
        self._in = bytearray()
        self._out = bytearray()
        self._pending: _DataRequest | None = None
        self._eof = False
        self._skipping_line = False
        # A line ended by CR at the very end of a chunk may be the first
        # half of a CRLF: the LF, if it comes, is not an empty line.
        self._swallow_lf = False

    # --- stream interface
    def greeting(self) -> bytes:
        """What the server sends first on a new connection."""
        return BANNER

    def receive(self, data: bytes) -> None:
        """Take bytes from the client; :meth:`next_reply` answers them."""
        self._in += data

    def end_of_input(self) -> None:
        """The client closed its side: what is left is answered, then the session closes."""
        self._eof = True

    def next_reply(self) -> bytes | None:
        """Handle requests from the input until one is answered; return that answer.

        None when the input holds no complete request: read more from the
        client (or, after :meth:`end_of_input`, the session is closed).
        """
        while not self.closed and not self._out:
            if not self._step(at_eof=self._eof):
                if self._eof:
                    self._close_at_end_of_input()
                break
        return self._take_output() or None

    def feed(self, data: bytes) -> bytes:
        """Take bytes from the client; return every reply now complete."""
        self.receive(data)
        return b"".join(iter(self.next_reply, None))

    def finish(self) -> bytes:
        """The client closed its side: answer what is left, then close."""
        self.end_of_input()
        return b"".join(iter(self.next_reply, None))

    def _close_at_end_of_input(self) -> None:
        if self._pending is not None and not self._pending.discard:
            self._reply(Code.SYNTAX, "Not enough data")
        self.closed = True

    def _take_output(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    # --- framing
    def _step(self, at_eof: bool) -> bool:
        """Consume one unit of input if complete; tell whether anything moved."""
        if self._swallow_lf and self._in:
            self._swallow_lf = False
            if self._in[:1] == b"\n":
                del self._in[:1]
                return True
        if self._skipping_line:
            return self._skip_rest_of_line()
        if self._pending is None:
            return self._take_line(at_eof)
        if self._pending.until:
            return self._take_until(at_eof)
        return self._take_data()

    def _take_line(self, at_eof: bool) -> bool:
        found = _LINE_END.search(self._in)
        if found is None:
            if len(self._in) > self.max_line:
                self._reply(Code.SYNTAX, f"Line too long (limit {self.max_line} bytes)")
                self._in.clear()
                self._skipping_line = True
                return False
            if at_eof and self._in:
                line = bytes(self._in)
                self._in.clear()
                self._command(_decode(line))
                return True
            return False
        end = found.start()
        line = bytes(self._in[:end])
        self._consume_through_terminator(end)
        if len(line) > self.max_line:
            self._reply(Code.SYNTAX, f"Line too long (limit {self.max_line} bytes)")
        else:
            self._command(_decode(line))
        return True

    def _consume_through_terminator(self, end: int) -> None:
        if self._in[end:end + 2] == b"\r\n":
            del self._in[:end + 2]
        else:
            lone_cr = self._in[end:end + 1] == b"\r"
            del self._in[:end + 1]
            self._swallow_lf = lone_cr and not self._in

    def _skip_rest_of_line(self) -> bool:
        found = _LINE_END.search(self._in)
        if found is None:
            self._in.clear()
            return False
        self._skipping_line = False
        self._consume_through_terminator(found.start())
        return True

    def _take_data(self) -> bool:
        req = self._pending
        assert req is not None
        if req.discard:
            dropped = min(req.length, len(self._in))
            del self._in[:dropped]
            req.length -= dropped
            if req.length == 0:
                self._pending = None
                return True
            return False
        if len(self._in) < req.length:
            return False
        data = bytes(self._in[:req.length])
        del self._in[:req.length]
        self._pending = None
        self._dispatch(req, _decode(data))
        return True

    def _take_until(self, at_eof: bool) -> bool:
        """Collect lines up to one equal to the terminator (trailing blanks ignored)."""
        req = self._pending
        assert req is not None
        pos = req.scanned
        while True:
            found = _LINE_END.search(self._in, pos)
            if found is None or (found.group() == b"\r" and found.end() == len(self._in)
                                 and not at_eof):
                break
            start, end = pos, found.start()
            after = end + 2 if self._in[end:end + 2] == b"\r\n" else end + 1
            whole_line = not (start == 0 and req.mid_line)
            req.mid_line = False
            if whole_line and _decode(bytes(self._in[start:end])).rstrip() == req.terminator:
                data = bytes(self._in[:start])
                del self._in[:after]
                self._pending = None
                if not req.discard:
                    self._dispatch(req, _decode(data))
                return True
            pos = after
        if req.discard:
            del self._in[:pos]
            pos = 0
            if len(self._in) > self.max_line:
                # A line this long cannot be the terminator: forget its start.
                self._in.clear()
                req.mid_line = True
        elif len(self._in) > self.max_data:
            self._reply(Code.DATA_TOO_BIG, f"Data too large (limit {self.max_data} bytes)")
            req.discard = True
            del self._in[:pos]
            pos = 0
        req.scanned = pos
        return False

    # --- commands
    def _command(self, line: str) -> None:
        words = line.split()
        if not words:
            return
        verb = words[0].upper()
        rest = line.split(None, 2)[2].strip() if len(words) > 2 else ""
        if verb in ("READ", "GET", "WRITE", "SET"):
            if len(words) < 2:
                return self._reply(Code.SYNTAX, "Wrong number of arguments")
            command = "READ" if verb in ("READ", "GET") else "WRITE"
            self._dispatch(_DataRequest(command, words[1]), rest)
        elif verb in ("READDATA", "WRITEDATA", "SETDATA"):
            if len(words) != 3:
                return self._reply(Code.SYNTAX, "Wrong number of arguments")
            command = "READ" if verb == "READDATA" else "WRITE"
            self._expect_bytes(_DataRequest(command, words[1]), words[2])
        elif verb in ("READUNTIL", "WRITEUNTIL"):
            if len(words) < 2:
                return self._reply(Code.SYNTAX, "Wrong number of arguments")
            self._pending = _DataRequest(verb[:-5], words[1], terminator=rest)
        elif verb in ("CHECKREAD", "CHECKWRITE"):
            if len(words) != 2:
                return self._reply(Code.SYNTAX, "Wrong number of arguments")
            self._check(words[1], write=verb == "CHECKWRITE")
        elif verb == "LLRPC":
            if len(words) not in (2, 3):
                return self._reply(Code.SYNTAX, "Wrong number of arguments")
            count = words[2] if len(words) == 3 else "0"
            self._expect_bytes(_DataRequest("LLRPC", words[1]), count)
        elif verb in ("QUIT", "CLOSE"):
            self._reply(Code.OK, "Goodbye!")
            self.closed = True
        elif verb == "HELP":
            self._reply(Code.OK, "Commands supported:", *_HELP)
        else:
            self._reply(Code.UNIMPLEMENTED, f"Command '{_shortened(verb)}' unimplemented")

    def _expect_bytes(self, req: _DataRequest, count: str) -> None:
        if not _DATA_LENGTH.fullmatch(count):
            return self._reply(Code.SYNTAX, f"Bad data length '{_shortened(count)}'")
        req.length = int(count) if len(count) <= _LENGTH_DIGITS else 10 ** _LENGTH_DIGITS
        if req.length > self.max_data:
            self._reply(Code.DATA_TOO_BIG, f"Data too large (limit {self.max_data} bytes)")
            req.discard = True
        self._pending = req if req.length else None
        if not req.length:
            self._dispatch(req, "")

    def _dispatch(self, req: _DataRequest, data: str) -> None:
        if req.command == "READ":
            self._read(req.target, data)
        elif req.command == "WRITE":
            self._write(req.target, data)
        else:
            self._llrpc(req.target)

    def _read(self, name: str, params: str) -> None:
        try:
            value = self.handlers.read(canonical_handler_name(name), params)
        # As in Click, a read handler's own failure answers 590, a write handler's 520.
        except HandlerError as err:
            return self._reply_error(err, f"Read handler '{name}' error", Code.UNSPECIFIED)
        except BaseException as err:  # SystemExit too: the client gets its answer
            return self._reply_raised(err, f"Read handler '{name}' error", Code.UNSPECIFIED)
        payload = _encode(value)
        self._reply(Code.OK, f"Read handler '{name}' OK")
        self._out += b"DATA %d\r\n" % len(payload) + payload

    def _write(self, name: str, value: str) -> None:
        full = canonical_handler_name(name)
        try:
            if self.read_only:
                # Unknown names still get 510/511, and a handler that only reads
                # is read-only before any permission: only real writes are refused.
                if not self._writable(full):
                    return self._reply(Code.PERMISSION, f"Handler '{name}' read-only")
                return self._reply(Code.PERMISSION, f"Permission denied for '{name}'")
            self.handlers.write(full, value)
        except HandlerError as err:
            return self._reply_error(err, f"Write handler '{name}' error")
        except BaseException as err:  # SystemExit too: the client gets its answer
            return self._reply_raised(err, f"Write handler '{name}' error")
        self._reply(Code.OK, f"Write handler '{name}' OK")

    def _check(self, name: str, write: bool) -> None:
        try:
            self.handlers.check(canonical_handler_name(name), write)
        except HandlerError as err:
            return self._reply_error(err, None)
        except BaseException as err:
            return self._reply_raised(err, f"Handler '{name}' error")
        if write and self.read_only:
            return self._reply(Code.PERMISSION, f"Permission denied for '{name}'")
        self._reply(Code.OK, f"{'Write' if write else 'Read'} handler '{name}' OK")

    def _writable(self, full: str) -> bool:
        """Whether handler ``full`` writes; HandlerError (510, 511) when there is none."""
        try:
            self.handlers.check(full, write=True)
        except HandlerError as err:
            if err.code != Code.NO_HANDLER:
                raise
            # Not writable, or not there at all: only a readable one is there.
            try:
                self.handlers.check(full, write=False)
            except HandlerError:
                raise err from None
            return False
        return True

    def _llrpc(self, target: str) -> None:
        """No LLRPC can be called: each is answered as Click answers one it cannot
        call remotely, once its name (``element#hex``) and element are right."""
        element, hash_, command = target.partition("#")
        if not hash_ or not _HEX.fullmatch(command):
            return self._reply(Code.SYNTAX, f"Syntax error in LLRPC name '{target}'")
        try:
            self.handlers.check(canonical_handler_name(f"{element}.name"), write=False)
        except HandlerError as err:
            return self._reply_error(err, None)
        self._reply(Code.UNIMPLEMENTED, f"Cannot call LLRPC '{target}' remotely")

    # --- replies
    def _reply_raised(self, err: BaseException, context: str,
                      failed: int = Code.HANDLER_ERROR) -> None:
        """A handler raised something else than HandlerError: ``failed``, with what it was."""
        self._reply(failed, f"{context}:", f"{type(err).__name__}: {err}")

    def _reply_error(self, err: HandlerError, context: str | None,
                     failed: int = Code.HANDLER_ERROR) -> None:
        """``failed``: the code of a handler's own failure (HandlerError's 520)."""
        code = err.code if 200 <= err.code <= 599 else Code.UNSPECIFIED
        lines = [line for line in str(err.message).splitlines() if line.strip()]
        if code == Code.HANDLER_ERROR and context:
            code = failed
            lines = [context + (":" if lines else "")] + lines
        self._reply(code, *(lines or [context or "Error"]))

    def _reply(self, code: int, *lines: str) -> None:
        for i, line in enumerate(lines):
            sep = "-" if i < len(lines) - 1 else " "
            self._out += _encode(f"{int(code)}{sep}{_printable(line)}\r\n")
