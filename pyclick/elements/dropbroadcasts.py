"""DropBroadcasts: no forwarding of link-level broadcasts."""

from __future__ import annotations

from pyclick.element import PROCESSING_A_AH
from pyclick.elements.dropcounting import DropCounting
from pyclick.packet import BROADCAST, MULTICAST, Packet


class DropBroadcasts(DropCounting):
    """DropBroadcasts() -- drops link-level broadcast and multicast packets

    Description
    Drops packets that arrived as link-level broadcast or multicast, as
    their packet type annotation says (HostEtherFilter and FromDevice set
    it): IP routers must not forward them. Dropped packets leave by
    output 1 when it is connected. The first drop is reported.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (dropped packets)

    Element handlers
    drops (read) -- packets dropped so far

    Example
    FromDump(trace.pcap, STOP true) -> HostEtherFilter(00:11:22:33:44:55) -> DropBroadcasts -> Discard;
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def simple_action(self, packet: Packet) -> Packet | None:
        if packet.packet_type not in (BROADCAST, MULTICAST):
            return packet
        if self.drops == 0:
            self.log.warning("%s: dropped a packet", self.declaration())
        self.refuse(packet)
        return None
