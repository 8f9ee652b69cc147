"""McastSocket: packets over multicast UDP (user-level Click's McastSocket).

A Socket with two UDP sockets: one joined to the group receives, the other
sends to the group. Reading, sending and the pull task are Socket's.
"""

from __future__ import annotations

import socket

from pyclick.args import BOOL, Args
from pyclick.elements.inet import IPADDR, unparse_ip
from pyclick.elements.portnames import UDP_PORT
from pyclick.elements.socketelement import Socket
from pyclick.packet import Packet

ANY = "0.0.0.0"


class McastSocket(Socket):
    """McastSocket(MCASTIP, MCASTPORT [, SOURCEIP, SOURCEPORT], KEYWORDS) -- a multicast UDP transport (user-level)

    Description
    Carries packets over IPv4 multicast UDP: each packet arriving on the
    input is sent as one datagram to group MCASTIP, port MCASTPORT, and
    each datagram sent to the group and port, by any host or process, is
    emitted on the output. Packets do not go through the element from input
    to output.

    With SOURCEIP, datagrams are sent from SOURCEIP and SOURCEPORT (0: a
    port the system chooses), through the interface that has SOURCEIP, and
    the group is joined on that interface only; the element then drops the
    datagrams it receives from its own address and port, its own packets
    looped back. Without SOURCEIP the routing table chooses the interface
    and the source address, and the element receives its own packets back
    unless LOOP is false (which also keeps them from the host's other
    programs).

    Each datagram received is one packet. A datagram longer than SNAPLEN
    is cut to SNAPLEN bytes, the rest counted in the extra length
    annotation. The input may be push or pull. Pulled, the element takes
    packets as fast as the socket sends them. Pushed, a packet is sent at
    once; when the socket's buffer is full it waits in the element (up to
    1 MiB of packets, later ones are dropped) and goes out as soon as the
    socket takes it. A socket error other than a full buffer is reported
    and closes both sockets: the element then sends and receives nothing.
    An element without output reads nothing.

    The sockets are opened when the router starts; an error then (no route
    for the group, SOURCEIP not an address of the host) stops the router.
    Several programs, or elements, may listen to the same group and port.
    McastSocket needs real time.

    Ports
    no input or one agnostic input (packets to send); no output or one push output (datagrams received)

    Keyword arguments
    MCASTIP -- the multicast group's IP address; mandatory
    MCASTPORT -- the group's UDP port (a number or a service name); mandatory
    SOURCEIP -- the IP address to send from and to join the group on; default none (the routing table's choice)
    SOURCEPORT -- with SOURCEIP, the UDP port to send from; default 0 (the system's choice)
    LOOP -- boolean: the host's programs, this router included, receive the datagrams sent (IP_MULTICAST_LOOP); default true
    SNAPLEN -- longest packet received, 1 to 16777216 bytes; default 2048
    HEADROOM -- bytes of headroom in each packet received; default 28
    TIMESTAMP -- boolean: set the timestamp annotation of packets received; default true
    SNDBUF -- bytes of the sending socket's buffer (SO_SNDBUF); default the system's
    RCVBUF -- bytes of the receiving socket's buffer (SO_RCVBUF); default the system's

    Element handlers
    scheduled (read) -- whether the task sending pulled packets waits to run
    tickets (read/write) -- that task's share of its thread (see ScheduleInfo)
    home_thread (read) -- the worker thread the element runs on

    Example
    m :: McastSocket(239.1.2.3, 5000) -> Print(in) -> Discard;
    InfiniteSource(DATA "hello", LIMIT 3) -> m;
    """

    def configure(self, args: Args) -> None:
        group = args.read_mp("MCASTIP", IPADDR)
        port = args.read_mp("MCASTPORT", UDP_PORT)
        source = args.read_p("SOURCEIP", IPADDR, bytes(4))
        source_port = args.read_p("SOURCEPORT", UDP_PORT, 0)
        self._read_io_options(args)
        self.loop = args.read("LOOP", BOOL, True)
        self._real_time_only(args)
        args.complete()
        self.remote = (unparse_ip(group), port)
        self.source = (unparse_ip(source), source_port)
        self.family, self.socktype = socket.AF_INET, socket.SOCK_DGRAM
        self.client, self.verbose = True, False
        #: The address the element sends from, when it is its own.
        self._own: tuple[str, int] | None = None
        self._prepare()

    def _open(self) -> None:
        self._buffer = bytearray(self.snaplen)
        self._doing = "socket"
        receiver = self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender = self._active = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._set_buffer(sender, "SO_SNDBUF", self.sndbuf)
        self._set_buffer(receiver, "SO_RCVBUF", self.rcvbuf)
        # Other listeners of the group on this host bind the same address.
        self._step("setsockopt(SO_REUSEADDR)", receiver.setsockopt, socket.SOL_SOCKET,
                   socket.SO_REUSEADDR, 1)
        self._step(f"bind {self.remote[0]}:{self.remote[1]}", receiver.bind, self.remote)
        interface = socket.inet_aton(self.source[0])
        if self.source[0] != ANY:
            self._step(f"bind {self.source[0]}:{self.source[1]}", sender.bind, self.source)
            self._own = sender.getsockname()
            self._step("setsockopt(IP_MULTICAST_IF)", sender.setsockopt, socket.IPPROTO_IP,
                       socket.IP_MULTICAST_IF, interface)
        self._step("setsockopt(IP_ADD_MEMBERSHIP)", receiver.setsockopt, socket.IPPROTO_IP,
                   socket.IP_ADD_MEMBERSHIP, socket.inet_aton(self.remote[0]) + interface)
        self._step("setsockopt(IP_MULTICAST_LOOP)", sender.setsockopt, socket.IPPROTO_IP,
                   socket.IP_MULTICAST_LOOP, int(self.loop))
        receiver.setblocking(False)
        sender.setblocking(False)

    def _receiving(self) -> socket.socket | None:
        return self._sock if self.noutputs else None

    def _read(self, sock: socket.socket) -> Packet | None:
        view = memoryview(self._buffer)
        size, sender = sock.recvfrom_into(view, self.snaplen, socket.MSG_TRUNC)
        if sender == self._own:
            return None
        return self._packet(view, size)

    def _destination(self, packet: Packet) -> tuple[str, int]:
        return self.remote

    def _receive_failed(self, err: OSError) -> None:
        self._fail(err)

    def _send_failed(self, err: OSError) -> None:
        self._fail(err)

    def _fail(self, err: OSError) -> None:
        self.log.error("%s: %s", self.declaration(), err.strerror or err)
        for sock in (self._sock, self._active):
            if sock is not None:
                sock.close()
        self._sock = self._active = None
