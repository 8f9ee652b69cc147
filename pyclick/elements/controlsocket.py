"""ControlSocket: the router's handlers over TCP or a UNIX socket.

The protocol itself is :mod:`pyclick.runtime.controlsocket_protocol`; this
module listens, accepts, and moves bytes between sockets and sessions, one
thread per client (socketserver), handler calls going through
``router.handlers`` (which runs them on the owning element's thread).

Each client thread answers one request at a time and sends the answer
before it reads more, so a client that sends faster than it reads is slowed
by its own socket buffers, and the server's memory stays bounded by one
request and one reply per client. The listen backlog is the system's
(``/proc/sys/net/core/somaxconn``, at least 128), so that a burst of
connections waits in the kernel instead of being refused.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import re
import select
import socket
import socketserver
import stat
import sys
import tempfile
import threading
from typing import Callable

from pyclick.args import BOOL, FILENAME, STRING, UNSIGNED, WORD, Args, shorten
from pyclick.element import Element, RouterServices, read_handler
from pyclick.errors import ConfigError
from pyclick.runtime.controlsocket_protocol import (DEFAULT_MAX_DATA, DEFAULT_MAX_LINE,
                                                    Session)

#: With PORT N+, how many ports from N on are tried.
PORT_SEARCH = 64
#: How long cleanup waits for client threads to finish a handler call.
CLIENT_EXIT_TIMEOUT = 2.0
_RECV_SIZE = 65536
#: How often a connection on a file descriptor looks whether it should close (s).
_FD_POLL = 0.2
#: The smallest listen backlog asked for (the kernel caps it at somaxconn).
MIN_BACKLOG = 128
_SOMAXCONN = "/proc/sys/net/core/somaxconn"
_INDEX = re.compile(r"[0-9]{1,9}")
# sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
_UNIX_PATH_MAX = 107


class RouterHandlerTable:
    """The protocol's view of a router: names resolved, calls via router.handlers.

    Besides ``element.handler``, Click lets a client name an element by its
    1-based index in the configuration (``3.count``).
    """

    def __init__(self, router: RouterServices) -> None:
        self.router = router

    def _resolve(self, name: str) -> str:
        element, dot, handler = name.partition(".")
        if dot and _INDEX.fullmatch(element) and self.router.element(element) is None:
            index = int(element)
            if 1 <= index <= len(self.router.elements):
                return f"{self.router.elements[index - 1].name}.{handler}"
        return name

    def read(self, name: str, params: str = "") -> str:
        return self.router.handlers.read(self._resolve(name), params)

    def write(self, name: str, value: str) -> None:
        self.router.handlers.write(self._resolve(name), value)

    def check(self, name: str, write: bool) -> None:
        self.router.handlers.check(self._resolve(name), write)


def converse(session: Session, receive: Callable[[], bytes | None],
             send: Callable[[bytes], object], closing: Callable[[], bool]) -> None:
    """Greet, then answer requests until the session ends, the input ends or
    ``closing()``; ``receive`` returns b"" at the end of the input, None when
    nothing came (it waited a while: ``closing`` is asked again)."""
    send(session.greeting())
    while not session.closed:
        reply = session.next_reply()
        if reply is not None:
            send(reply)
            continue
        data = receive()
        if closing():
            break
        if data:
            session.receive(data)
        elif data is not None:
            session.end_of_input()


class _Client(socketserver.BaseRequestHandler):
    """One connection: banner, then requests in, replies out, until QUIT or EOF."""

    server: "_Listener"

    def handle(self) -> None:
        listener = self.server
        sock: socket.socket = self.request
        if not listener.track(sock):
            return
        try:
            listener.owner.verbose_note("opened connection from %s", self.client_address)
            session = listener.owner.new_session()
            converse(session, lambda: sock.recv(_RECV_SIZE), sock.sendall,
                     lambda: listener.closing)
        except OSError:
            pass  # the client went away (or cleanup shut the socket): nothing to answer
        finally:
            listener.untrack(sock)
            listener.owner.verbose_note("closed connection from %s", self.client_address)


class _Listener:
    """What both server flavours share: the owning element and live clients."""

    daemon_threads = True
    owner: "ControlSocket"

    def handle_error(self, request: object, client_address: object) -> None:
        """A client thread failed outside the protocol: say so, without a traceback."""
        self.owner.log.error("%s: connection from %s failed: %s", self.owner.declaration(),
                             client_address, sys.exc_info()[1],
                             exc_info=self.owner.log.isEnabledFor(logging.DEBUG))

    def setup_tracking(self, owner: "ControlSocket") -> None:
        self.owner = owner
        self.clients: set[socket.socket] = set()
        self.closing = False
        self.clients_done = threading.Condition()

    def track(self, sock: socket.socket) -> bool:
        with self.clients_done:
            if self.closing:
                return False
            self.clients.add(sock)
            return True

    def untrack(self, sock: socket.socket) -> None:
        with self.clients_done:
            self.clients.discard(sock)
            self.clients_done.notify_all()

    def close_clients(self, timeout: float) -> None:
        """Cut every connection and wait (up to ``timeout``) for their threads."""
        with self.clients_done:
            self.closing = True
            for sock in self.clients:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.clients_done.wait_for(lambda: not self.clients, timeout)


class _TcpListener(_Listener, socketserver.ThreadingTCPServer):
    allow_reuse_address = True


class _Tcp6Listener(_TcpListener):
    address_family = socket.AF_INET6


class _UnixListener(_Listener, socketserver.ThreadingUnixStreamServer):
    pass


class _FdConnection:
    """A connection open on a file descriptor the router was given (TYPE SOCKET):
    one session over it, on a thread of its own, until its input ends or
    the element closes; then the descriptor is closed. Any descriptor that reads and writes will do (a
    socket, one end of a socketpair, a terminal)."""

    def __init__(self, owner: "ControlSocket", fd: int) -> None:
        self.owner = owner
        self.fd = fd
        self.closing = False
        #: Whether the descriptor is still open (closed once, by whichever ends first).
        self.open = True
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, name=f"{owner.name} fd {fd}",
                                       daemon=True)

    def _receive(self) -> bytes | None:
        readable, _, _ = select.select([self.fd], [], [], _FD_POLL)
        return os.read(self.fd, _RECV_SIZE) if readable else None

    def _send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def _serve(self) -> None:
        try:
            converse(self.owner.new_session(), self._receive, self._send, lambda: self.closing)
        except OSError:
            pass  # the other end went away: nothing to answer
        finally:
            # As a listener's connections: closed once the session ends.
            self._close_fd()
            self.owner.verbose_note("closed connection on file descriptor %d", self.fd)

    def close(self, timeout: float) -> None:
        """Stop serving (within ``timeout``, a handler call under way finishing
        first) and close the descriptor if the session has not."""
        self.closing = True
        self.thread.join(timeout)
        self._close_fd()

    def _close_fd(self) -> None:
        """Close the descriptor unless the other of ``_serve`` and ``close`` did."""
        with self.lock:
            if self.open:
                self.open = False
                os.close(self.fd)


def listen_backlog() -> int:
    """The system's largest listen backlog, and at least MIN_BACKLOG."""
    try:
        with open(_SOMAXCONN) as f:
            system = int(f.read())
    except (OSError, ValueError):
        system = socket.SOMAXCONN
    return max(MIN_BACKLOG, system)


def _tcp_port(text: str, args: Args) -> tuple[int, bool]:
    """``N`` or ``N+`` (N or the next free port above it)."""
    search = text.endswith("+")
    number = UNSIGNED(text[:-1] if search else text, args)
    if number > 65535:
        raise ValueError("expected TCP port (0-65535)")
    return number, search


class ControlSocket(Element):
    """ControlSocket(TYPE, PORT | FILENAME | FD, KEYWORDS) -- opens control sockets for other programs

    Description
    Lets other programs call the router's read and write handlers over a
    TCP port (TYPE TCP), a UNIX-domain socket (TYPE UNIX), or one
    connection already open on file descriptor FD (TYPE SOCKET: a socket,
    the end of a socketpair a parent process passed, a terminal), speaking
    Click's ControlSocket protocol, version 1.3. The server greets each
    client with 'Click::ControlSocket/1.3'; each request is a line:

      READ handler [params]        reply 200, then 'DATA n' and n bytes
      READDATA handler n           params are the n bytes after the line
      READUNTIL handler [term]     params are the lines up to a line 'term' (or a blank line)
      WRITE handler [value]
      WRITEDATA handler n          the value is the n bytes after the line
      WRITEUNTIL handler [term]    the value is the lines up to a line 'term'
      CHECKREAD handler, CHECKWRITE handler
      LLRPC element#cmd [n]        answered 501: no LLRPC can be called remotely
      QUIT

    Handlers are named element.handler, N.handler (the Nth element of the
    configuration) or handler (global). Replies start with a code, as in
    Click: 200 OK, 220 OK with warnings, 500 syntax error (also for a line
    longer than 64 KiB), 501 unimplemented, 510 no such element, 511 no
    such handler (also for CHECKREAD of a handler that only writes, and
    CHECKWRITE of one that only reads), 520 write handler error, 521 data
    too large (over 16 MiB), 530 permission denied (READ of a handler that
    only writes, WRITE of one that only reads), 590 read handler error.
    Many clients may be connected at once.

    A TCP socket listens on 127.0.0.1 unless LOCALHOST is false or ADDRESS
    is given. A UNIX socket is created with mode 0600 (only its owner may
    connect) and removed at shutdown. A connection on FD is served once,
    from the start; when its other end closes, or at shutdown, the
    descriptor is closed.

    Keyword arguments
    TYPE -- TCP, UNIX or SOCKET; mandatory
    PORT -- TCP port; 'N+' takes the first free port from N on; 0 lets the system choose; mandatory for TCP
    FILENAME -- UNIX socket path; mandatory for UNIX
    FD -- SOCKET: the open file descriptor, 0 to 2^31-1; mandatory for SOCKET
    READONLY -- refuse every write handler (530); default false
    LOCALHOST -- TCP: accept connections from this host only; default true
    ADDRESS -- TCP: the address to listen on (e.g. 0.0.0.0); default per LOCALHOST
    VERBOSE -- log connections opening and closing; default false

    Element handlers
    port (read) -- TCP: the port listened on (useful with PORT 0 or N+)
    filename (read) -- UNIX: the socket path
    clients (read) -- connections now open

    Example
    ControlSocket(TCP, 7777);
    ControlSocket(UNIX, /run/pyclick.sock, READONLY true);
    ControlSocket(SOCKET, 3);   // pyclick --socket 3 does the same
    """

    port_count = "0/0"

    def configure(self, args: Args) -> None:
        kind = args.read_mp("TYPE", WORD)
        kind = kind.upper() if kind else kind
        self.kind = kind
        self.port, self.port_search, self.path, self.fd = 0, False, "", -1
        if kind == "TCP":
            self.port, self.port_search = args.read_mp("PORT", _tcp_port) or (0, False)
        elif kind == "UNIX":
            self.path = args.read_mp("FILENAME", FILENAME) or ""
            if len(os.fsencode(self.path)) > _UNIX_PATH_MAX:
                args.error(f"FILENAME: longer than {_UNIX_PATH_MAX} bytes")
        elif kind == "SOCKET":
            self.fd = args.read_mp("FD", UNSIGNED.range(0, 2**31 - 1))
        elif kind is not None:
            args.error(f"TYPE: expected TCP, UNIX or SOCKET, got '{shorten(kind)}'")
        self.read_only = args.read("READONLY", BOOL, False)
        localhost_given = args.has("LOCALHOST")
        self.localhost = args.read("LOCALHOST", BOOL, True)
        self.address = args.read("ADDRESS", _ip_address)
        self.verbose = args.read("VERBOSE", BOOL, False)
        if self.address is not None and localhost_given and self.localhost \
                and not ipaddress.ip_address(self.address).is_loopback:
            args.error("ADDRESS: not a loopback address, but LOCALHOST is true")
        args.complete()
        self.max_line = DEFAULT_MAX_LINE
        self.max_data = DEFAULT_MAX_DATA
        self._server: _Listener | None = None
        self._thread: threading.Thread | None = None
        self._connection: _FdConnection | None = None

    def new_session(self) -> Session:
        """A protocol session for one client, under this element's settings."""
        return Session(RouterHandlerTable(self.router), read_only=self.read_only,
                       max_line=self.max_line, max_data=self.max_data)

    def initialize(self) -> None:
        if self.kind == "SOCKET":
            try:
                os.fstat(self.fd)
            except OSError as err:
                raise ConfigError(f"{self.declaration()}: FD {self.fd}: {err.strerror}",
                                  self.landmark) from None
            self._connection = _FdConnection(self, self.fd)
            self._connection.thread.start()
            return
        try:
            server = self._open_tcp() if self.kind == "TCP" else self._open_unix()
        except OSError as err:
            where = f"port {self.port}" if self.kind == "TCP" else self.path
            raise ConfigError(f"{self.declaration()}: cannot listen on {where}: "
                              f"{err.strerror or err}", self.landmark) from None
        server.setup_tracking(self)
        self._server = server
        if self.kind == "TCP":
            self.router.handlers.add_read(self, "port", lambda: str(self.port))
        else:
            self.router.handlers.add_read(self, "filename", lambda: self.path)
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=f"{self.name} listener", daemon=True)
        self._thread.start()

    def cleanup(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close(CLIENT_EXIT_TIMEOUT)
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_clients(CLIENT_EXIT_TIMEOUT)
        server.server_close()
        if self.kind == "UNIX":
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass

    # --- opening sockets
    def _open_tcp(self) -> _TcpListener:
        host = self.address or ("127.0.0.1" if self.localhost else "0.0.0.0")
        listener = _Tcp6Listener if ":" in host else _TcpListener
        last = min(65535, self.port + PORT_SEARCH - 1) if self.port_search else self.port
        for port in range(self.port, last + 1):
            server = listener((host, port), _Client, bind_and_activate=False)
            server.request_queue_size = listen_backlog()
            try:
                server.server_bind()
                server.server_activate()
            except OSError as err:
                server.server_close()
                if err.errno != errno.EADDRINUSE or port == last:
                    raise
                continue
            self.port = server.server_address[1]
            return server
        raise OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE))

    def _open_unix(self) -> _UnixListener:
        """Bind in a private directory, then move the socket into place.

        The socket file is never reachable with permissions wider than 0600,
        which chmod after bind (or a umask change, process-wide) would not
        guarantee.
        """
        self._remove_stale_socket()
        directory = os.path.dirname(os.path.abspath(self.path))
        private = tempfile.mkdtemp(prefix=".controlsocket-", dir=directory)
        staging = os.path.join(private, "s")
        try:
            server = _UnixListener(staging, _Client, bind_and_activate=False)
            server.request_queue_size = listen_backlog()
            try:
                server.server_bind()
                os.chmod(staging, 0o600)
                # Listening before the socket appears at its path: a client
                # that finds the path is never refused.
                server.server_activate()
                os.rename(staging, self.path)
            except OSError:
                server.server_close()
                raise
        finally:
            if os.path.exists(staging):
                os.unlink(staging)
            os.rmdir(private)
        return server

    def _remove_stale_socket(self) -> None:
        """Remove a socket left by a dead router; refuse to touch anything else."""
        try:
            mode = os.lstat(self.path).st_mode
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(mode):
            raise OSError(errno.EEXIST, "exists and is not a socket")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(self.path)
        except OSError:
            os.unlink(self.path)
            return
        finally:
            probe.close()
        raise OSError(errno.EADDRINUSE, "another program is listening there")

    def verbose_note(self, message: str, *values: object) -> None:
        if self.verbose:
            self.log.info("%s: " + message, self.declaration(), *values)

    # --- handlers
    @read_handler("clients")
    def _read_clients(self) -> str:
        server, connection = self._server, self._connection
        if connection is not None:
            return "1" if connection.open else "0"
        return str(len(server.clients)) if server is not None else "0"


def _ip_address(text: str, args: Args) -> str:
    try:
        return str(ipaddress.ip_address(STRING(text, args)))
    except ValueError:
        raise ValueError("expected IP address") from None
