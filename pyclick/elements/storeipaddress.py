"""StoreIPAddress: an IP address written into a packet."""

from __future__ import annotations

import struct

from pyclick.args import Args, split_args
from pyclick.element import PROCESSING_A_AH, Element
from pyclick.elements.inet import IPADDR, patch_checksum, reject
from pyclick.elements.ipproto import TCP, UDP
from pyclick.packet import Packet

#: The special OFFSETs: where in the IP header the address goes.
FIELDS = {"src": 12, "dst": 16}
ZERO = bytes(4)


def _OFFSET(text: str, args: Args | None) -> int | str:
    """A byte offset from 0 to 65535, or src or dst."""
    word = text.strip()
    if word.lower() in FIELDS:
        return word.lower()
    if word.isdigit() and len(word) <= 5 and int(word) <= 65535:
        return int(word)
    raise ValueError("expected offset (0-65535), 'src' or 'dst'")


def _sum32(address: bytes | bytearray | memoryview) -> int:
    """The one's complement sum of an address's two 16-bit words."""
    high, low = struct.unpack("!HH", address)
    total = high + low
    return (total & 0xFFFF) + (total >> 16)


class StoreIPAddress(Element):
    """StoreIPAddress(ADDR, OFFSET) -- stores IP address in packet

    Description
    With one argument, OFFSET, writes the packet's destination IP address
    annotation into the packet, OFFSET bytes in. With two, writes ADDR
    (which may be 0.0.0.0) instead. No checksum changes: SetIPChecksum,
    SetTCPChecksum and SetUDPChecksum can follow. When nothing can be
    written (the annotation is 0.0.0.0, or the packet is too short for the
    address), a packet with an IP header of at least 20 bytes (network
    header annotation) passes unchanged, and any other leaves by output 1.

    OFFSET may also be src or dst: the address then replaces the source or
    destination address of the packet's IP header (its network header
    annotation must be set), and the IP checksum, and the TCP or UDP
    checksum of a first fragment (a UDP checksum only when it is not 0),
    are updated to match. Packets without an IP header for src and dst
    leave by output 1 too. Output 1, when not connected, drops them.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (packets left unchanged without an IP header)

    Keyword arguments
    ADDR -- the address to store; default the destination IP address annotation
    OFFSET -- where to store it: 0 to 65535, src or dst; mandatory

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader
        -> StoreIPAddress(10.0.0.1, src) -> Discard;
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        # As in Click, the number of arguments says which form this is.
        two = len(split_args(args.config)) > 1
        self.address = args.read_mp("ADDR", IPADDR) if two else None
        self.offset = args.read_mp("OFFSET", _OFFSET)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet | None:
        address = packet.dst_ip if self.address is None else self.address
        offset = self.offset
        if isinstance(offset, int) and (self.address is not None or address != ZERO) \
                and offset + 4 <= len(packet):
            packet.write(offset, address)
            return packet
        # Nothing stored at OFFSET, or src and dst: only a packet with an IP
        # header goes on, as in Click.
        at, length = packet.network_header_offset, packet.network_header_length
        if at is None or at < 0 or length is None or length < 20 or len(packet) < at + 20:
            reject(self, packet)
            return None
        if isinstance(offset, int):
            return packet
        data = packet.writable_data()
        field = at + FIELDS[offset]
        old = _sum32(data[field:field + 4])
        data[field:field + 4] = address
        new = _sum32(address)
        patch_checksum(data, at + 10, old, new)
        transport = packet.transport_header_offset
        protocol = data[at + 9]
        (fragment,) = struct.unpack_from("!H", data, at + 6)
        if transport is None or fragment & 0x1FFF:
            return packet
        if protocol == TCP and len(data) >= transport + 20:
            patch_checksum(data, transport + 16, old, new)
        elif protocol == UDP and len(data) >= transport + 8 \
                and data[transport + 6:transport + 8] != b"\0\0":
            patch_checksum(data, transport + 6, old, new)
        return packet
