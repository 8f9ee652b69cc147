"""ChatterSocket: the router's log messages, copied to the programs connected
to a TCP port or a UNIX-domain socket.

A logging handler on the ``pyclick`` logger hands each message to the
element, which writes it to every client at once without blocking: what a
client cannot take yet waits in the element, and a thread of the element's
own accepts new clients and writes waiting data as the clients take it.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import threading

from pyclick.args import BOOL, FILENAME, INT, WORD, Args, shorten
from pyclick.element import CONFIGURE_PHASE_INFO, Element
from pyclick.elements.polldevice import initialize_failed
from pyclick.elements.portnames import TCP_PORT
from pyclick.elements.socketelement import LISTEN_BACKLOG, UNIX_PATH_MAX, Socket
from pyclick.runtime.timers import Timer

GREETING = b"Click::ChatterSocket/1.0\r\n"
#: A client this many bytes behind the messages is disconnected.
MAX_BACKLOG = 500000
#: How often the serving thread looks whether it should stop.
POLL = 0.2


class _Forward(logging.Handler):
    """Hands each log record's line to a ChatterSocket."""

    def __init__(self, owner: "ChatterSocket") -> None:
        super().__init__()
        self.owner = owner

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        landmark = getattr(record, "landmark", None)
        if landmark and not message.startswith(f"{landmark}: "):
            warning = "warning: " if record.levelno == logging.WARNING else ""
            message = f"{landmark}: {warning}{message}"
        self.owner.broadcast((message + "\n").encode("utf-8", "replace"))


class ChatterSocket(Element):
    """ChatterSocket(TYPE, PORT | FILENAME, KEYWORDS) -- reports chatter messages to connected sockets

    Description
    Lets other programs read the router's messages (warnings, errors and
    the notes elements log: Click's chatter) as they are written. With
    TYPE TCP, ChatterSocket listens on TCP port PORT of every address of
    the host; with TYPE UNIX, on the UNIX-domain socket FILENAME, which is
    removed at cleanup. Each client is greeted with the line
    'Click::ChatterSocket/1.0' (ended by CR LF), unless GREETING is false,
    then receives a copy of every message logged from then on, one line
    each, as the router writes it to standard error; ChatterSocket reads
    nothing from its clients. A client that falls more than 500,000 bytes
    behind is disconnected. Lines that Print and the other printing
    elements write straight to standard error are not messages and are
    not sent.

    In Click, elements may also send messages to named channels; CHANNEL
    chooses the channel a ChatterSocket reports. pyclick's elements all
    write to the default channel, so a ChatterSocket on another channel
    sends its clients nothing but the greeting, and QUIET_CHANNEL (whether
    that channel's messages also go to standard error) has no effect.

    The socket is opened when the router starts. If that fails, the
    router does not start, unless RETRIES is positive: then the socket is
    tried again once a second, each failure warned about while
    RETRY_WARNINGS is true, and after RETRIES failed tries the router
    stops.

    Ports
    none

    Keyword arguments
    TYPE -- TCP or UNIX, in any case; mandatory
    PORT -- TCP: the port to listen on (a number or a service name); mandatory
    FILENAME -- UNIX: the socket's path, shorter than 108 bytes; mandatory
    CHANNEL -- the channel reported, a word; default 'default'
    QUIET_CHANNEL -- boolean: keep another channel's messages off standard error; default true
    GREETING -- boolean: greet each client; default true
    RETRIES -- how many more times to try opening the socket, once a second; default 0
    RETRY_WARNINGS -- boolean: warn of each failed try; default true

    Example
    ChatterSocket(TCP, 7778);
    InfiniteSource(LIMIT 1) -> SetIPAddress(10.0.0.1)
        -> LookupIPRouteMP(18.26.4.0/24 0) -> Discard;
    """

    port_count = "0/0"
    configure_phase = CONFIGURE_PHASE_INFO

    def configure(self, args: Args) -> None:
        kind = args.read_mp("TYPE", WORD)
        self.channel = args.read("CHANNEL", WORD, "default")
        self.quiet_channel = args.read("QUIET_CHANNEL", BOOL, True)
        self.greeting = args.read("GREETING", BOOL, True)
        self.retries = args.read("RETRIES", INT.range(None, 2**31 - 1), 0)
        self.retry_warnings = args.read("RETRY_WARNINGS", BOOL, True)
        self.kind = kind.upper() if kind else ""
        self.address: tuple[str, int] | str = ""
        if self.kind == "TCP":
            port = args.read_mp("PORT", TCP_PORT)
            self.address = ("0.0.0.0", port or 0)
        elif self.kind == "UNIX":
            self.address = args.read_mp("FILENAME", FILENAME) or ""
            if len(os.fsencode(self.address)) > UNIX_PATH_MAX:
                args.error("filename too long")
        elif kind is not None:
            # Click reads no further than an unknown type.
            args.accept_rest()
            args.error(f"TYPE: unknown socket type `{shorten(self.kind)}'")
        args.complete()
        self._lock = threading.Lock()
        self._clients: dict[socket.socket, bytearray] = {}
        self._listener: socket.socket | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._retry = Timer(self, self._try_again)
        self._tries_left = self.retries
        self._handler = _Forward(self)

    def initialize(self) -> None:
        if self.channel == "default":
            logging.getLogger("pyclick").addHandler(self._handler)
        failure = self._open()
        if failure and self._tries_left < 0:
            self.cleanup()
            raise initialize_failed(self, RuntimeError(failure))
        if failure:
            self._retry.schedule_after(1)

    def _open(self) -> str:
        """Open the listening socket and start serving; what failed, if anything."""
        self._tries_left -= 1
        family = socket.AF_INET if self.kind == "TCP" else socket.AF_UNIX
        doing = "socket"
        sock = None
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
            if self.kind == "TCP":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            doing = "bind"
            sock.bind(self.address)
            doing = "listen"
            sock.listen(LISTEN_BACKLOG)
            sock.setblocking(False)
        except OSError as err:
            if sock is not None:
                sock.close()
            failure = f"{doing}: {err.strerror or err}"
            if self._tries_left >= 0 and self.retry_warnings:
                left = self._tries_left + 1
                self.log.warning("%s: %s (%d %s left)", self.declaration(), failure, left,
                                 "try" if left == 1 else "tries")
            return failure
        self._listener = sock
        self._thread = threading.Thread(target=self._serve, daemon=True,
                                        name=f"{self.name} chatter")
        self._thread.start()
        return ""

    def _try_again(self) -> None:
        failure = self._open()
        if not failure:
            return
        if self._tries_left >= 0:
            self._retry.schedule_after(1)
        else:
            self.log.error("%s: %s", self.declaration(), failure)
            self.router.please_stop_driver()

    def cleanup(self) -> None:
        logging.getLogger("pyclick").removeHandler(self._handler)
        self._retry.unschedule()
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            for client in self._clients:
                client.close()
            self._clients.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
            if self.kind == "UNIX":
                Socket._remove_socket_file(self.address)

    # --- clients
    def broadcast(self, data: bytes) -> None:
        with self._lock:
            for client, waiting in list(self._clients.items()):
                waiting += data
                self._flush(client, waiting)

    def _flush(self, client: socket.socket, waiting: bytearray) -> None:
        try:
            while waiting:
                del waiting[:client.send(waiting)]
        except BlockingIOError:
            pass
        except OSError:
            waiting.clear()
            self._drop(client)
            return
        if len(waiting) > MAX_BACKLOG:
            self._drop(client)

    def _drop(self, client: socket.socket) -> None:
        del self._clients[client]
        client.close()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                writing = [client for client, waiting in self._clients.items() if waiting]
            readable, writable, _ = select.select([self._listener], writing, [], POLL)
            if readable:
                self._accept()
            with self._lock:
                for client in writable:
                    if client in self._clients:
                        self._flush(client, self._clients[client])

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        client.setblocking(False)
        sent = 0
        # Under the lock: no message may reach the client before its greeting.
        with self._lock:
            if self.greeting:
                try:
                    sent = client.send(GREETING)
                except OSError:
                    pass
            self._clients[client] = bytearray()
        if self.greeting and sent != len(GREETING):
            self.log.warning("%s fd %d: unable to write greeting!", self.declaration(),
                             client.fileno())
