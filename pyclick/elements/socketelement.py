"""Socket: packets over TCP, UDP and UNIX-domain sockets (user-level Click's Socket).

Receiving goes through :class:`~pyclick.elements.polldevice.ReceiveTask`, as
the device elements receive: a waiter thread selects on the listening or
connected socket and schedules a task on the element's home thread, which
accepts and reads. Sending never blocks the router: the socket is
non-blocking, and what it cannot take yet waits in the element and is tried
again by a timer, as ToDevice retries a full transmit queue.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import stat
from collections import deque
from typing import Any, Callable, Union

from pyclick.args import BOOL, ELEMENT, FILENAME, INT, UNSIGNED, WORD, Args, shorten
from pyclick.element import Element
from pyclick.elements.inet import IPADDR, unparse_ip
from pyclick.elements.iproutetable import RouteTable
from pyclick.elements.polldevice import ReceiveTask, initialize_failed
from pyclick.elements.portnames import TCP_PORT, UDP_PORT
from pyclick.elements.tundevice import HEADROOM
from pyclick.packet import DEFAULT_HEADROOM, Packet
from pyclick.runtime.notifier import upstream_empty_signal
from pyclick.runtime.timers import Timer

#: Socket types: family and kind of each.
TYPES = {"TCP": (socket.AF_INET, socket.SOCK_STREAM),
         "UDP": (socket.AF_INET, socket.SOCK_DGRAM),
         "UNIX": (socket.AF_UNIX, socket.SOCK_STREAM),
         "UNIX_DGRAM": (socket.AF_UNIX, socket.SOCK_DGRAM)}
DEFAULT_SNAPLEN = 2048
MAX_SNAPLEN = 1 << 24
BUFFER_SIZE = UNSIGNED.range(0, (1 << 31) - 1)
#: Click's listen backlog: one connection is served, the next ones wait their turn.
LISTEN_BACKLOG = 2
#: Longest a client waits for its connection when the router starts.
CONNECT_TIMEOUT = 10.0
#: Most packets received, or pulled, per task run.
BURST = 32
#: How long data the socket refused waits before it is offered again.
SEND_RETRY = 0.001
#: Bytes of pushed packets that may wait for a full socket; packets beyond are dropped.
PUSH_BACKLOG = 1 << 20
# sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
UNIX_PATH_MAX = 107

#: An address: (IP, port) or a UNIX socket path.
Address = Union[tuple[str, int], str]


def NODELAY(text: str, args: Args) -> bool:
    """A boolean, or an integer as Click reads NODELAY (0 is false)."""
    try:
        return BOOL(text, args)
    except ValueError:
        pass
    try:
        return INT(text, args) != 0
    except ValueError:
        raise ValueError("expected boolean or integer") from None


def ROUTE_TABLE(text: str, args: Args) -> RouteTable:
    """An IPv4 routing table element (RadixIPLookup, DirectIPLookup...)."""
    element = ELEMENT(text, args)
    if not isinstance(element, RouteTable):
        raise ValueError(f"'{element.declaration()}' is not an IPRouteTable")
    return element


def _shown(address: Address) -> str:
    return address if isinstance(address, str) else f"{address[0]}:{address[1]}"


class Socket(Element):
    """Socket(TYPE, ADDR, PORT [, LOCAL_ADDR, LOCAL_PORT] | TYPE, FILENAME [, LOCAL_FILENAME], KEYWORDS) -- a socket transport (user-level)

    Description
    Carries packets over a socket: each packet arriving on the input is
    sent to the remote end, and the data received from the remote end is
    emitted on the output. Packets do not go through the element from input
    to output. TYPE is TCP or UDP (IPv4, the remote address ADDR and PORT),
    UNIX (a UNIX-domain stream socket) or UNIX_DGRAM (a UNIX-domain datagram
    socket) at the path FILENAME; TYPE may be written in any case.

    A Socket is a server unless CLIENT is true, and CLIENT is true by
    default when the element has no output. A server binds ADDR and PORT
    (or FILENAME). A TCP or UNIX server accepts one connection at a time:
    further clients wait in the listen queue until the current connection
    ends. A UDP or UNIX_DGRAM server emits datagrams from any sender and
    sends each input packet to the last sender heard from; input packets
    arriving before anyone sent are dropped. A client connects (TCP, UNIX)
    when the router starts, or sends its datagrams (UDP, UNIX_DGRAM) to ADDR
    and PORT (or FILENAME). A UDP client whose ADDR is 0.0.0.0 sends each
    packet to its destination IP annotation, at PORT. A client first binds
    LOCAL_ADDR and LOCAL_PORT, when LOCAL_PORT is not 0, or LOCAL_FILENAME;
    a server ignores them. A connection the other end closes is not opened
    again: a client stops sending, a server accepts its next client.

    Each datagram received is one packet; on a stream socket each read of
    at most SNAPLEN bytes is one packet, wherever the sender's packets
    began and ended. A datagram longer than SNAPLEN is cut to SNAPLEN
    bytes, the rest counted in the extra length annotation. Each input
    packet is one datagram, or its bytes on the stream.

    The input may be push or pull. Pulled, the socket takes packets as
    fast as it can send them, and none while no connection is open. Pushed,
    a packet is sent at once; when the socket's buffer is full it waits in
    the element (up to 1 MiB of packets, later ones are dropped) and goes
    out as soon as the socket takes it; with no connection open it is
    dropped. A datagram the socket refuses (too long, no such peer) is
    dropped too; a stream connection that fails is closed.

    Sockets are opened when the router starts: errors such as an address
    in use, a refused connection (a client waits at most 10 seconds for
    its connection) or a bad path stop the router then. A UNIX socket file
    the element binds is removed at cleanup; an existing file at that path
    is never replaced (bind fails). Socket needs real time.

    Ports
    no input or one agnostic input (packets to send); no output or one push output (data received)

    Keyword arguments
    TYPE -- TCP, UDP, UNIX or UNIX_DGRAM; mandatory
    ADDR -- TCP, UDP: the server's IP address; mandatory
    PORT -- TCP, UDP: the server's port (a number or a service name); mandatory
    LOCAL_ADDR -- TCP, UDP client: the IP address to bind; default 0.0.0.0
    LOCAL_PORT -- TCP, UDP client: the port to bind; default 0 (none bound)
    FILENAME -- UNIX, UNIX_DGRAM: the server's socket path; mandatory
    LOCAL_FILENAME -- UNIX, UNIX_DGRAM client: the path to bind; default none
    CLIENT -- boolean: connect (or send) to the address instead of binding it; default true without output, false otherwise
    SNAPLEN -- longest packet received, 1 to 16777216 bytes; default 2048
    HEADROOM -- bytes of headroom in each packet received; default 28
    TIMESTAMP -- boolean: set the timestamp annotation of packets received; default true
    NODELAY -- TCP: boolean (or integer, 0 false): send segments without delay (no Nagle); default true
    SNDBUF -- bytes of the socket's send buffer (SO_SNDBUF); default the system's
    RCVBUF -- bytes of the socket's receive buffer (SO_RCVBUF); default the system's
    ALLOW -- TCP, UDP server: an IPRouteTable; clients whose address it routes are accepted
    DENY -- TCP, UDP server: an IPRouteTable; clients whose address it routes are refused, unless ALLOW routes it
    VERBOSE -- boolean: log connections opened and closed and packets dropped; default false
    PROPER -- boolean, accepted for Click's sake (PlanetLab's Proper is not supported); default false

    Element handlers
    scheduled (read) -- whether the task sending pulled packets waits to run
    tickets (read/write) -- that task's share of its thread (see ScheduleInfo)
    home_thread (read) -- the worker thread the element runs on

    Example
    Socket(UDP, 0.0.0.0, 5000) -> Print(in) -> Discard;
    InfiniteSource(DATA "hello", LIMIT 3, STOP true) -> Socket(UDP, 127.0.0.1, 5000, CLIENT true);
    """

    port_count = "0-1/0-1"
    processing = "a/h"
    flow_code = "x/y"
    flags = "S3"

    def configure(self, args: Args) -> None:
        kind = args.read_mp("TYPE", WORD)
        self.kind = kind.upper() if kind is not None else None
        self.verbose = args.read("VERBOSE", BOOL, False)
        self._read_io_options(args)
        self.nodelay = args.read("NODELAY", NODELAY, True)
        self.client = args.read("CLIENT", BOOL, self.noutputs == 0)
        args.read("PROPER", BOOL, False)
        self.allow: RouteTable | None = args.read("ALLOW", ROUTE_TABLE)
        self.deny: RouteTable | None = args.read("DENY", ROUTE_TABLE)
        self.remote: Address = ""
        self.local: Address | None = None
        if self.kind in ("TCP", "UDP"):
            self._read_inet(args)
        elif self.kind in ("UNIX", "UNIX_DGRAM"):
            self._read_unix(args)
        elif self.kind is not None:
            args.error(f"TYPE: unknown socket type '{shorten(kind)}' (expected TCP, UDP, "
                       f"UNIX or UNIX_DGRAM)")
            args.rest()
        self._real_time_only(args)
        args.complete()
        self.family, self.socktype = TYPES[self.kind]
        self._prepare()

    def _read_io_options(self, args: Args) -> None:
        """SNAPLEN, HEADROOM, TIMESTAMP, RCVBUF and SNDBUF: the packets received, the buffers."""
        self.snaplen = args.read("SNAPLEN", UNSIGNED.range(1, MAX_SNAPLEN), DEFAULT_SNAPLEN)
        self.headroom = args.read("HEADROOM", HEADROOM, DEFAULT_HEADROOM)
        self.timestamp = args.read("TIMESTAMP", BOOL, True)
        self.rcvbuf = args.read("RCVBUF", BUFFER_SIZE)
        self.sndbuf = args.read("SNDBUF", BUFFER_SIZE)

    def _real_time_only(self, args: Args) -> None:
        if self.router.simtime:
            args.error("a socket's packets come and go in real time; this configuration "
                       "runs in simulated time")

    def _prepare(self) -> None:
        """The state of a configured socket element, once its family and type are known."""
        self.stream = self.socktype == socket.SOCK_STREAM
        self._pull_task = self.own_task(self._pull)
        self._retry = Timer(self, self._retry_send)
        self._sock: socket.socket | None = None
        #: The socket data goes through: the connection, or the datagram socket.
        self._active: socket.socket | None = None
        #: A datagram server's last sender.
        self._peer: Address | None = None
        self._bound_path = ""
        self._receiver: ReceiveTask | None = None
        self._buffer = bytearray()
        #: Data the socket has not taken yet, each with its datagram's destination.
        self._backlog: deque[tuple[memoryview, Any]] = deque()
        self._backlog_bytes = 0
        self._doing = ""

    def _read_inet(self, args: Args) -> None:
        port = TCP_PORT if self.kind == "TCP" else UDP_PORT
        address = args.read_mp("ADDR", IPADDR)
        number = args.read_mp("PORT", port)
        local_address = args.read_p("LOCAL_ADDR", IPADDR, bytes(4))
        local_number = args.read_p("LOCAL_PORT", port, 0)
        if address is not None and number is not None:
            self.remote = (unparse_ip(address), number)
        if self.client and local_number:
            self.local = (unparse_ip(local_address), local_number)

    def _read_unix(self, args: Args) -> None:
        self.remote = args.read_mp("FILENAME", FILENAME) or ""
        local = args.read_p("LOCAL_FILENAME", FILENAME, "")
        for key, path in (("FILENAME", self.remote), ("LOCAL_FILENAME", local)):
            if len(os.fsencode(path)) > UNIX_PATH_MAX:
                args.error(f"{key}: '{shorten(path)}' is longer than {UNIX_PATH_MAX} bytes")
        if self.client and local:
            self.local = local

    # --- opening and closing
    def initialize(self) -> None:
        try:
            self._open()
        except OSError as err:
            self.cleanup()
            raise initialize_failed(self, RuntimeError(
                f"{self._doing}: {err.strerror or err}")) from None
        self._receiver = ReceiveTask(self, self, BURST, self._receive)
        if self.ninputs and self.input_is_pull(0):
            self._signal = upstream_empty_signal(self, 0, self._pull_task.reschedule)
            self._pull_task.reschedule()

    def _open(self) -> None:
        self._buffer = bytearray(self.snaplen)
        self._doing = "socket"
        sock = self._sock = socket.socket(self.family, self.socktype)
        if self.kind == "TCP" and self.nodelay:
            self._step("setsockopt(TCP_NODELAY)", sock.setsockopt, socket.IPPROTO_TCP,
                       socket.TCP_NODELAY, 1)
        self._set_buffer(sock, "SO_SNDBUF", self.sndbuf)
        self._set_buffer(sock, "SO_RCVBUF", self.rcvbuf)
        here = self.local if self.client else self.remote
        if here is not None:
            if self.kind == "TCP" and not self.client:
                # A restarted server must not wait for the old connections' TIME_WAIT.
                self._step("setsockopt(SO_REUSEADDR)", sock.setsockopt, socket.SOL_SOCKET,
                           socket.SO_REUSEADDR, 1)
            self._step(f"bind {_shown(here)}", sock.bind, here)
            if isinstance(here, str):
                self._bound_path = here
        if not self.client:
            if self.stream:
                self._step("listen", sock.listen, LISTEN_BACKLOG)
                self._note("listening for connections on %s (%d)", _shown(self.remote),
                           sock.fileno())
            else:
                self._active = sock
        else:
            if self.stream:
                sock.settimeout(CONNECT_TIMEOUT)
                self._step(f"connect {_shown(self.remote)}", sock.connect, self.remote)
                self._note("opened connection %d to %s", sock.fileno(), _shown(self.remote))
            self._active = sock
        sock.setblocking(False)

    def _set_buffer(self, sock: socket.socket, option: str, size: int | None) -> None:
        """Set the size of a buffer of ``sock`` (SO_SNDBUF, SO_RCVBUF) unless None."""
        if size is not None:
            self._step(f"setsockopt({option})", sock.setsockopt, socket.SOL_SOCKET,
                       getattr(socket, option), size)

    def _step(self, doing: str, call: Callable[..., Any], *values: Any) -> None:
        self._doing = doing
        call(*values)

    def cleanup(self) -> None:
        if self._receiver is not None:
            self._receiver.stop()
            self._receiver = None
        self._retry.unschedule()
        self._pull_task.unschedule()
        self._drop_backlog()
        for sock in (self._active, self._sock):
            if sock is not None:
                sock.close()
        self._active = self._sock = None
        if self._bound_path:
            self._remove_socket_file(self._bound_path)
            self._bound_path = ""

    @staticmethod
    def _remove_socket_file(path: str) -> None:
        try:
            if stat.S_ISSOCK(os.lstat(path).st_mode):
                os.unlink(path)
        except FileNotFoundError:
            pass

    def _close_active(self, reason: str = "") -> None:
        conn, self._active = self._active, None
        if conn is None:
            return
        if reason:
            self._note("%s", reason)
        self._drop_backlog()
        fd = conn.fileno()
        conn.close()
        if conn is self._sock:
            self._sock = None
        self._note("closed connection %d", fd)

    def _note(self, message: str, *values: Any) -> None:
        if self.verbose:
            self.log.info("%s: " + message, self.declaration(), *values)

    def _allowed(self, host: str) -> bool:
        address = socket.inet_aton(host)
        if self.allow is not None and self.allow.lookup(address) is not None:
            return True
        return self.deny is None or self.deny.lookup(address) is None

    # --- receiving (ReceiveTask's waitable and emitter)
    def _listening(self) -> socket.socket | None:
        """The socket to accept a connection on, while none is open."""
        if self.stream and not self.client and self._active is None:
            return self._sock
        return None

    def _receiving(self) -> socket.socket | None:
        """The socket data is read from."""
        return self._active

    def wait(self, timeout: float) -> bool:
        """Block until a connection or data waits (True) or ``timeout`` seconds pass."""
        sock = self._receiving() or self._listening()
        try:
            readable, _, _ = select.select([sock] if sock is not None else [], [], [], timeout)
        except (OSError, ValueError):
            # Closed meanwhile on the home thread: the task sees what is left.
            return True
        return bool(readable)

    def _receive(self, limit: int) -> int:
        done = int(self._active is None and self._accept())
        sock = self._receiving()
        batch: list[Packet] = []
        # Why the stream ends ("" at its end), once it does: closed after what
        # came before it is emitted, so that answers to it still go out.
        ended: str | None = None
        while sock is not None and ended is None and done + len(batch) < limit:
            try:
                packet = self._read(sock)
            except BlockingIOError:
                break
            except OSError as err:
                if not self.stream:
                    self._receive_failed(err)
                    break
                ended = err.strerror or str(err)
                continue
            if packet is not None:
                batch.append(packet)
            else:
                done += 1
                if self.stream:
                    ended = ""
        if batch:
            self.output_push(0, batch)
        if ended is not None and sock is self._active:
            self._close_active(ended)
        return done + len(batch)

    def _receive_failed(self, err: OSError) -> None:
        """A datagram socket's read failed."""
        self._note("%s", err.strerror or err)

    def _accept(self) -> bool:
        listener = self._listening()
        if listener is None:
            return False
        try:
            conn, address = listener.accept()
        except BlockingIOError:
            return False
        except OSError as err:
            self.log.warning("%s: accept: %s", self.declaration(), err.strerror or err)
            return False
        if self.family == socket.AF_INET:
            allowed = self._allowed(address[0])
            self._note("%s connection %d from %s", "opened" if allowed else "denied",
                       conn.fileno(), _shown(address))
            if not allowed:
                conn.close()
                return True
        else:
            self._note("opened connection %d from %s", conn.fileno(), address or "")
        conn.setblocking(False)
        self._active = conn
        if self.ninputs and self.input_is_pull(0):
            self._pull_task.reschedule()
        return True

    def _read(self, sock: socket.socket) -> Packet | None:
        """One packet from ``sock``; None for what emits nothing (the end of a
        stream, a datagram refused)."""
        view = memoryview(self._buffer)
        if self.stream:
            size = sock.recv_into(view)
            if size == 0:
                return None
        elif self.client:
            size = sock.recv_into(view, self.snaplen, socket.MSG_TRUNC)
        else:
            size, sender = sock.recvfrom_into(view, self.snaplen, socket.MSG_TRUNC)
            if self.family == socket.AF_INET and not self._allowed(sender[0]):
                self._note("dropped datagram from %s", _shown(sender))
                return None
            self._peer = sender or None
        return self._packet(view, size)

    def _packet(self, view: memoryview, size: int) -> Packet:
        """A packet of the first bytes of ``view`` that fit SNAPLEN, of ``size`` received."""
        kept = min(size, self.snaplen)
        packet = Packet.make(view[:kept], headroom=self.headroom,
                             timestamp=self.router.now() if self.timestamp else 0.0)
        if size > kept:
            packet.extra_length = size - kept
        return packet

    # --- sending
    def push(self, port: int, batch: list[Packet]) -> None:
        for packet in batch:
            if self._backlog_bytes + len(packet) > PUSH_BACKLOG and self._backlog:
                self._note("socket full, dropping packet")
                continue
            self._send(packet)

    def _pull(self) -> bool:
        if self._active is None or not self._flush():
            return False
        pulled = 0
        while pulled < BURST and not self._backlog:
            packet = self.input_pull(0)
            if packet is None:
                break
            pulled += 1
            self._send(packet)
        if not self._backlog and (pulled == BURST or self._signal):
            self._pull_task.reschedule()
        return pulled > 0

    def _destination(self, packet: Packet) -> Any:
        """Where a datagram goes (None: nowhere known); unused on a stream."""
        if self.stream:
            return None
        if not self.client:
            return self._peer
        if self.family == socket.AF_INET and self.remote[0] == "0.0.0.0":
            return unparse_ip(packet.dst_ip), self.remote[1]
        return self.remote

    def _send(self, packet: Packet) -> None:
        """Send ``packet`` now, or keep it until the socket takes it."""
        destination = self._destination(packet)
        if self._active is None or (not self.stream and destination is None):
            self._note("no %s, dropping packet", "connection" if self.stream else "peer")
            return
        data = memoryview(packet.data)
        self._backlog.append((data, destination))
        self._backlog_bytes += len(data)
        if len(self._backlog) == 1:
            self._flush()

    def _flush(self) -> bool:
        """Offer the socket what waits; True once nothing does."""
        while self._backlog and self._active is not None:
            data, destination = self._backlog[0]
            try:
                sent = (self._active.send(data) if self.stream
                        else self._active.sendto(data, destination))
            except BlockingIOError:
                break
            except OSError as err:
                if err.errno == errno.ENOBUFS:
                    break
                if self.stream:
                    self._close_active(err.strerror or str(err))
                    break
                self._send_failed(err)
                sent = len(data)
            self._backlog_bytes -= sent
            if sent < len(data):
                self._backlog[0] = (data[sent:], destination)
            else:
                self._backlog.popleft()
        if self._backlog and self._active is not None:
            self._retry.schedule_after(SEND_RETRY)
        return not self._backlog

    def _send_failed(self, err: OSError) -> None:
        """The socket refused a datagram, which is dropped."""
        self._note("%s, dropping packet", err.strerror or err)

    def _retry_send(self) -> None:
        if self._flush() and self.ninputs and self.input_is_pull(0):
            self._pull_task.reschedule()

    def _drop_backlog(self) -> None:
        self._backlog.clear()
        self._backlog_bytes = 0
