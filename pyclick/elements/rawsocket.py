"""RawSocket, FromRawSocket and ToRawSocket: IP packets through a raw IPv4
socket (user-level Click's RawSocket family).

They are Sockets whose one socket is a raw IPv4 socket with IP_HDRINCL:
reading, sending and the pull task are Socket's; what differs is how the
socket is opened, that each datagram received must be an IP packet, and
that each packet goes to the destination its own IP header names.
"""

from __future__ import annotations

import socket

from pyclick.args import UNSIGNED, Args
from pyclick.element import PUSH
from pyclick.elements.inet import mark_ip_header_at, unparse_ip
from pyclick.elements.onewaysocket import Deprecated
from pyclick.elements.ipproto import IP_PROTO, TCP, UDP
from pyclick.elements.portnames import TCP_PORT, UDP_PORT
from pyclick.elements.socketelement import DEFAULT_SNAPLEN, MAX_SNAPLEN, Socket
from pyclick.elements.tundevice import HEADROOM
from pyclick.packet import DEFAULT_HEADROOM, Packet

IP_HEADER = 20
#: How PORT is read for each protocol: a port (number or service name) of TCP and UDP.
PORT_KINDS = {TCP: TCP_PORT, UDP: UDP_PORT}
#: The socket that reserves a TCP or UDP port.
PORT_SOCKET_TYPES = {TCP: socket.SOCK_STREAM, UDP: socket.SOCK_DGRAM}


class RawSocket(Socket):
    """RawSocket(TYPE [, PORT], KEYWORDS) -- sends and receives IP packets through a raw socket (user-level)

    Description
    Carries whole IPv4 packets, header included, over a raw IPv4 socket of
    protocol TYPE (TCP, UDP, GRE, ICMP, another protocol name or a number
    from 0 to 255). Each packet pulled from the input goes to the
    destination address of its own IP header; the kernel fills in the
    header's checksum (and its identification when 0). A packet shorter
    than an IP header is dropped with an error, as is one the kernel
    refuses; while the socket's buffer is full the packet waits in the
    element and is tried again.

    Each packet the socket receives, that is every packet of protocol TYPE
    the host receives, is emitted on the output with its IP header marked,
    its destination IP annotation and its timestamp set; a datagram that
    does not start with a whole IP header is dropped. A packet longer than
    SNAPLEN is cut to SNAPLEN bytes, the rest counted in the extra length
    annotation. An element without output reads nothing.

    For TCP and UDP, a PORT other than 0 is reserved while the router runs:
    a TCP or UDP socket of the host is bound to it on every address, so that
    no other program takes it. The raw socket still receives the packets of
    every port. For other protocols PORT is read, from 0 to 65535, and has
    no effect.

    A raw socket needs the CAP_NET_RAW capability (root): without it, the
    router stops when it starts. RawSocket needs real time.

    Ports
    no input or one pull input (IP packets to send); no output or one push output (IP packets received)

    Keyword arguments
    TYPE -- the IP protocol of the socket; mandatory
    PORT -- TCP, UDP: the port to reserve (a number or a service name); other protocols: an integer, unused; default 0 (none)
    SNAPLEN -- longest packet received, 1 to 16777216 bytes; default 2048
    HEADROOM -- bytes of headroom in each packet received; default 28

    Element handlers
    scheduled (read) -- whether the task sending pulled packets waits to run
    tickets (read/write) -- that task's share of its thread (see ScheduleInfo)
    home_thread (read) -- the worker thread the element runs on

    Example
    r :: RawSocket(ICMP) -> IPPrint(in) -> Discard;
    Idle -> Queue -> r;
    """

    processing = "l/h"

    def configure(self, args: Args) -> None:
        self.protocol = args.read_mp("TYPE", IP_PROTO)
        self.port = args.read_p("PORT", PORT_KINDS.get(self.protocol, UNSIGNED.range(0, 65535)), 0)
        self.snaplen = args.read("SNAPLEN", UNSIGNED.range(1, MAX_SNAPLEN), DEFAULT_SNAPLEN)
        self.headroom = args.read("HEADROOM", HEADROOM, DEFAULT_HEADROOM)
        self._real_time_only(args)
        args.complete()
        self.family, self.socktype = socket.AF_INET, socket.SOCK_RAW
        self.client, self.timestamp, self.verbose = True, True, False
        self._reserved: socket.socket | None = None
        self._prepare()

    def _open(self) -> None:
        self._buffer = bytearray(self.snaplen)
        self._doing = "socket"
        sock = self._sock = self._active = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                                                         self.protocol)
        if self.port and self.protocol in PORT_SOCKET_TYPES:
            reserved = self._reserved = socket.socket(
                socket.AF_INET, PORT_SOCKET_TYPES[self.protocol], self.protocol)
            self._step(f"bind 0.0.0.0:{self.port}", reserved.bind, ("0.0.0.0", self.port))
        self._step("IP_HDRINCL", sock.setsockopt, socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        self._step("SO_BROADCAST", sock.setsockopt, socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.setblocking(False)

    def cleanup(self) -> None:
        super().cleanup()
        if self._reserved is not None:
            self._reserved.close()
            self._reserved = None

    def _receiving(self) -> socket.socket | None:
        return self._active if self.noutputs else None

    def _read(self, sock: socket.socket) -> Packet | None:
        view = memoryview(self._buffer)
        packet = self._packet(view, sock.recv_into(view, self.snaplen, socket.MSG_TRUNC))
        return packet if mark_ip_header_at(packet, 0) else None

    def _receive_failed(self, err: OSError) -> None:
        self.log.error("%s: recv: %s", self.declaration(), err.strerror or err)

    def _send(self, packet: Packet) -> None:
        if len(packet) < IP_HEADER:
            self.log.error("%s: runt IP packet (%d bytes)", self.declaration(), len(packet))
            return
        super()._send(packet)

    def _destination(self, packet: Packet) -> tuple[str, int]:
        return unparse_ip(packet.data[16:20]), 0

    def _send_failed(self, err: OSError) -> None:
        self.log.error("%s: sendto: %s", self.declaration(), err.strerror or err)


class FromRawSocket(Deprecated, RawSocket):
    """FromRawSocket(TYPE [, PORT], KEYWORDS) -- receives IP packets from a raw socket (user-level)

    Description
    The receiving half of RawSocket, kept for configurations written for
    older Clicks: every IP packet of protocol TYPE the host receives is
    emitted on the output. It takes RawSocket's arguments and behaves as
    RawSocket does, except that its ports are push. It warns, when
    configured, that it is deprecated in favour of RawSocket.

    Ports
    no input or one push input (IP packets to send); no output or one push output (IP packets received)

    Keyword arguments
    TYPE, PORT, SNAPLEN, HEADROOM -- as RawSocket's

    Element handlers
    scheduled, tickets, home_thread -- as RawSocket's

    Example
    FromRawSocket(ICMP) -> IPPrint(in) -> Discard;
    """

    replacement = "RawSocket"
    processing = PUSH


class ToRawSocket(Deprecated, RawSocket):
    """ToRawSocket(TYPE [, PORT], KEYWORDS) -- sends IP packets through a raw socket (user-level)

    Description
    The sending half of RawSocket, kept for configurations written for
    older Clicks: each IP packet pulled from the input goes to the
    destination its IP header names. It takes RawSocket's arguments and
    behaves as RawSocket does. It warns, when configured, that it is
    deprecated in favour of RawSocket.

    Ports
    no input or one pull input (IP packets to send); no output or one push output (IP packets received)

    Keyword arguments
    TYPE, PORT, SNAPLEN, HEADROOM -- as RawSocket's

    Element handlers
    scheduled, tickets, home_thread -- as RawSocket's

    Example
    InfiniteSource(LIMIT 1) -> UDPIPEncap(127.0.0.1, 1234, 127.0.0.1, 5678) -> Queue
        -> ToRawSocket(UDP);
    """

    replacement = "RawSocket"
