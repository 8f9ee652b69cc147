"""DecIPTTL: the router's hop, one less time to live."""

from __future__ import annotations

from pyclick.args import BOOL, Args
from pyclick.element import PROCESSING_A_AH, read_handler
from pyclick.elements.inet import reject, whole_ip_header_at
from pyclick.elements.switchable import Activatable
from pyclick.packet import Packet


def decremented(packet: Packet, at: int) -> None:
    """Take one from the TTL of the IP header at ``at`` and patch its checksum:
    the TTL/protocol word dropped by 0x0100, so the checksum becomes
    ~(~old + ~0x0100) (RFC 1624): where 0x0000 and 0xFFFF would both do,
    it is 0x0000, as Click writes it."""
    data = packet.writable_data()
    data[at + 8] -= 1
    total = (~((data[at + 10] << 8) | data[at + 11]) & 0xFFFF) + 0xFEFF
    total = ~(total + (total >> 16)) & 0xFFFF
    data[at + 10], data[at + 11] = total >> 8, total & 0xFF


class DecIPTTL(Activatable):
    """DecIPTTL(KEYWORDS) -- decrements IP time-to-live, drops dead packets

    Description
    Expects IP packets (the network header annotation says where the header
    is; at the start of the packet when no element set it). A packet whose
    TTL is 1 or less has expired: it leaves by output 1 when that is
    connected, and is dropped otherwise. Other packets get their TTL
    decremented, their checksum updated to match (incrementally), and
    leave by output 0. Output 1 usually leads to ICMPError. Packets too
    short to hold an IP header pass unchanged.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (expired packets)

    Keyword arguments
    ACTIVE -- decrement TTLs; when false, every packet passes unchanged; default true
    MULTICAST -- decrement the TTL of multicast packets too (destination in 224.0.0.0/4); default true

    Element handlers
    drops (read) -- expired packets so far
    active (read/write) -- the ACTIVE setting

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader -> dt :: DecIPTTL -> Discard;
    dt[1] -> expired :: Counter -> Discard;
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        self.active = args.read("ACTIVE", BOOL, True)
        self.multicast = args.read("MULTICAST", BOOL, True)
        args.complete()
        self.drops = 0

    def simple_action(self, packet: Packet) -> Packet | None:
        if not self.active:
            return packet
        at = whole_ip_header_at(packet)
        if at is None:
            return packet
        if not self.multicast and packet.byte(at + 16) & 0xF0 == 0xE0:
            return packet
        if packet.byte(at + 8) <= 1:
            self.drops += 1
            reject(self, packet)
            return None
        decremented(packet, at)
        return packet

    @read_handler("drops")
    def _read_drops(self) -> str:
        return str(self.drops)
