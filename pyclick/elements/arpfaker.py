"""ARPFaker: unsolicited ARP replies, sent periodically."""

from __future__ import annotations

import struct

from pyclick.args import Args
from pyclick.element import PUSH, Element
from pyclick.elements.arp import _REPLY, ETHERTYPE_ARP
from pyclick.elements.inet import ETHERADDR, IPADDR
from pyclick.packet import Packet
from pyclick.runtime.timers import Timer

#: Seconds from initialization to the first reply, then between replies.
FIRST_DELAY = 1.0
PERIOD = 10.0


class ARPFaker(Element):
    """ARPFaker(DSTIP, DSTETH, SRCIP, SRCETH) -- periodically generates an ARP reply

    Description
    Sends ARP replies, Ethernet header included, to the host with IP
    address DSTIP and Ethernet address DSTETH, telling it that SRCIP is at
    Ethernet address SRCETH: the first one second after the router starts,
    then one every 10 seconds. The frames are 42 bytes long, from SRCETH to
    DSTETH. ARPResponder, which answers queries, is usually what you want.

    Ports
    one push output

    Keyword arguments
    DSTIP -- the IP address of the receiver; mandatory
    DSTETH -- the Ethernet address of the receiver; mandatory
    SRCIP -- the IP address announced; mandatory
    SRCETH -- the Ethernet address announced for it; mandatory

    Example
    ARPFaker(18.26.4.1, 0:e0:2b:b:1a:0, 18.26.4.99, 0:a0:c9:9c:fd:9c) -> Print -> Discard;
    """

    port_count = "0/1"
    processing = PUSH

    def configure(self, args: Args) -> None:
        dst_ip = args.read_mp("DSTIP", IPADDR)
        dst_eth = args.read_mp("DSTETH", ETHERADDR)
        src_ip = args.read_mp("SRCIP", IPADDR)
        src_eth = args.read_mp("SRCETH", ETHERADDR)
        args.complete()
        self.frame = (dst_eth + src_eth + struct.pack("!H", ETHERTYPE_ARP) + _REPLY
                      + src_eth + src_ip + dst_eth + dst_ip)
        self._timer = Timer(self, self._send)

    def initialize(self) -> None:
        self._timer.schedule_after(FIRST_DELAY)

    def _send(self) -> None:
        packet = Packet.make(self.frame)
        packet.set_mac_header(0)
        self.output_push(0, [packet])
        self._timer.schedule_after(PERIOD)
