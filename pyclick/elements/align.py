"""Align: moves packet data to a given offset from a boundary of its buffer."""

from __future__ import annotations

from pyclick.args import Args, UNSIGNED
from pyclick.element import AGNOSTIC, Element
from pyclick.packet import Packet

MODULI = (2, 4, 8)


def _modulus(text: str, args: Args) -> int:
    value = UNSIGNED(text, args)
    if value not in MODULI:
        raise ValueError("must be 2, 4 or 8")
    return value


class Align(Element):
    """Align(MODULUS, OFFSET) -- aligns packet data

    Description
    Moves each packet's data so that its first byte lies OFFSET bytes past
    a multiple of MODULUS in the packet's buffer, copying the data when it
    has to move. The header annotations (MAC, network and transport
    headers) move with the data. Packets already aligned pass untouched.
    MODULUS is 2, 4 or 8; OFFSET is less than MODULUS.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    MODULUS -- 2, 4 or 8; mandatory
    OFFSET -- 0 to MODULUS - 1; mandatory

    Example
    InfiniteSource(LIMIT 1) -> Strip(14) -> Align(4, 0) -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.modulus = args.read_mp("MODULUS", _modulus)
        self.offset = args.read_mp("OFFSET",
                                   UNSIGNED.range(0, (self.modulus or max(MODULI)) - 1))
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        modulus = self.modulus
        if packet.data_offset % modulus == self.offset:
            return packet
        mac, network = packet.mac_header_offset, packet.network_header_offset
        transport = packet.transport_header_offset
        data = packet.data
        # A private buffer with room behind the data first: moving the data
        # then never reallocates (which would shift it again).
        packet.put(modulus).take(modulus)
        move = (self.offset - packet.data_offset) % modulus
        packet.put(move)
        packet.write(move, data)
        packet.pull(move)
        packet.clear_headers()
        if mac is not None:
            packet.set_mac_header(mac, (network if network is not None else mac + 14) - mac)
        if network is not None and transport is not None:
            packet.set_network_header(network, transport - network)
        return packet
