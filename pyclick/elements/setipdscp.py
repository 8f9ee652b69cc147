"""SetIPDSCP: the Differentiated Services code point of IP packets."""

from __future__ import annotations

from pyclick.args import UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.elements.inet import patch_checksum, whole_ip_header_at
from pyclick.elements.settinghandlers import setting_handlers
from pyclick.packet import Packet

_DSCP = UNSIGNED.range(0, 0x3F)


class SetIPDSCP(Element):
    """SetIPDSCP(DSCP) -- sets IP packets' DSCP fields

    Description
    Expects IP packets (the network header annotation says where the header
    is; at the start of the packet when no element set it). Sets each
    one's Differentiated Services code point, the upper 6 bits of the TOS
    byte, to DSCP, keeps the 2 ECN bits, and updates the IP checksum to
    match (incrementally). Packets too short to hold an IP header pass
    unchanged.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    DSCP -- the code point, 0 to 63; mandatory

    Element handlers
    dscp (read/write) -- the DSCP setting

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader -> SetIPDSCP(46)
        -> IPPrint(TOS true) -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.dscp = args.read_mp("DSCP", _DSCP)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        at = whole_ip_header_at(packet)
        if at is None:
            return packet
        data = packet.writable_data()
        old = (data[at] << 8) | data[at + 1]
        data[at + 1] = (data[at + 1] & 0x03) | (self.dscp << 2)
        patch_checksum(data, at + 10, old, (data[at] << 8) | data[at + 1])
        return packet

    _read_dscp, _write_dscp = setting_handlers("dscp", _DSCP)
