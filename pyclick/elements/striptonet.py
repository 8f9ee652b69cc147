"""StripToNetworkHeader: the packet starts at its network header."""

from __future__ import annotations

from pyclick.element import AGNOSTIC, Element
from pyclick.packet import Packet


class StripToNetworkHeader(Element):
    """StripToNetworkHeader() -- strips everything preceding network header

    Description
    Removes the bytes in front of each packet's network header (an
    Ethernet header, say), so that the packet starts there; they stay in
    the headroom, where Unstrip finds them. A packet whose network header
    lies before its first byte (a header stripped already) gets those bytes
    back in front. A packet without a network header annotation passes
    unchanged.

    Ports
    one agnostic input, one agnostic output

    Example
    FromDump(trace.pcap, STOP true) -> CheckIPHeader(14) -> StripToNetworkHeader
        -> IPPrint -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def simple_action(self, packet: Packet) -> Packet:
        offset = packet.network_header_offset
        if offset is None:
            return packet
        if offset >= 0:
            return packet.pull(offset)
        return packet.push(-offset)
