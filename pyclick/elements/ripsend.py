"""RIPSend: a RIP version 2 response for one route, every 30 seconds."""

from __future__ import annotations

import struct

from pyclick.args import INT, Args
from pyclick.element import PUSH, Element
from pyclick.elements.inet import IPADDR, IPPREFIX, ipv4_header, transport_checksum
from pyclick.elements.ipproto import UDP
from pyclick.elements.iproutetable import prefix_mask
from pyclick.packet import Packet
from pyclick.runtime.timers import Timer

RIP_PORT = 520
#: Seconds before the first response, and between responses (Click's).
FIRST_DELAY, PERIOD = 3, 30
TTL = 200
#: RIP header (command 2: response, version 2), then one route entry
#: (address family 2: IP, route tag 0).
_RIP = struct.Struct("!BBHHH4s4s4si")
_UDP = struct.Struct("!HHHH")


class RIPSend(Element):
    """RIPSend(SRC, DST, PREFIX, METRIC) -- periodically sends a RIP version 2 response for one route

    Description
    Pushes a RIP version 2 response in UDP/IP, advertising one route: the
    network PREFIX (its address as written, host bits included, and its
    netmask) at distance METRIC, reached through SRC. The packet goes from
    SRC to DST, port 520 to port 520; it is 52 bytes, with IP TTL 200, ID 0,
    TOS 0, and the IP and UDP checksums set. The first packet goes out 3
    seconds after the router starts, then one every 30 seconds. Only the
    IP header annotation is set; an EtherEncap makes the frame. This is
    one small piece of RIP, not a routing protocol.

    Ports
    no inputs, one push output

    Keyword arguments
    SRC -- source IP address, also the route's next hop; mandatory
    DST -- destination IP address; mandatory
    PREFIX -- the route's network, as 10.0.0.0/8; mandatory
    METRIC -- the route's metric, a 32-bit integer; mandatory

    Example
    RIPSend(18.26.4.24, 18.26.4.255, 10.0.0.0/8, 10)
        -> EtherEncap(0x0800, 0:0:c0:ae:67:ef, ff:ff:ff:ff:ff:ff) -> Discard;
    """

    port_count = "0/1"
    processing = PUSH

    def configure(self, args: Args) -> None:
        self.src = args.read_mp("SRC", IPADDR)
        self.dst = args.read_mp("DST", IPADDR)
        self.prefix = args.read_mp("PREFIX", IPPREFIX)
        self.metric = args.read_mp("METRIC", INT.range(-2**31, 2**31 - 1))
        args.complete()
        self._timer = Timer(self, self._send)

    def initialize(self) -> None:
        self._timer.schedule_after(FIRST_DELAY)

    def cleanup(self) -> None:
        self._timer.unschedule()

    def _response(self) -> Packet:
        """The response RIPSend sends."""
        address, length = self.prefix
        rip = _RIP.pack(2, 2, 0, 2, 0, address, prefix_mask(length).to_bytes(4, "big"),
                        self.src, self.metric)
        udp = bytearray(_UDP.pack(RIP_PORT, RIP_PORT, 8 + len(rip), 0) + rip)
        struct.pack_into("!H", udp, 6, transport_checksum(self.src, self.dst, UDP, udp))
        ip = ipv4_header(20 + len(udp), 0, TTL, UDP, self.src, self.dst)
        packet = Packet.make(ip + bytes(udp))
        packet.set_network_header(0, 20)
        return packet

    def _send(self) -> None:
        self.output_push(0, [self._response()])
        self._timer.schedule_after(PERIOD)
