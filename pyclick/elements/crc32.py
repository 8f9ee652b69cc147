"""SetCRC32 and CheckCRC32: a CRC-32 trailer added to packets, and checked."""

from __future__ import annotations

import zlib

from pyclick.element import AGNOSTIC, Element
from pyclick.packet import Packet

#: Each byte with its bits in reverse order.
_REVERSED = bytes(int(f"{byte:08b}"[::-1], 2) for byte in range(256))


def crc32_trailer(data: bytes) -> bytes:
    """Click's CRC-32 of ``data`` (polynomial 0x04c11db7 fed most significant bit
    first, register starting at all ones and not inverted at the end: the
    CRC-32/MPEG-2 variant) as the four bytes it appends, least significant first.

    zlib's CRC-32 is the same polynomial fed least significant bit first and
    inverted at the end: over the bytes mirrored, it gives Click's register
    mirrored and inverted."""
    mirrored = zlib.crc32(data.translate(_REVERSED)) ^ 0xFFFFFFFF
    return mirrored.to_bytes(4, "big").translate(_REVERSED)


class SetCRC32(Element):
    """SetCRC32() -- calculates CRC32 and appends it to packet

    Description
    Computes a 32-bit CRC over each packet and adds it at the end of the
    packet, four bytes, least significant byte first: the CRC Click
    computes (polynomial 0x04C11DB7, most significant bit first, initial
    value 0xFFFFFFFF, no final inversion), not the Ethernet frame check
    sequence. CheckCRC32 checks and removes it.

    Ports
    one agnostic input, one agnostic output

    Example
    InfiniteSource(LIMIT 1) -> SetCRC32 -> Print(with_crc) -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def simple_action(self, packet: Packet) -> Packet:
        trailer = crc32_trailer(packet.data)
        packet.put(4)
        packet.write(len(packet) - 4, trailer)
        return packet


class CheckCRC32(Element):
    """CheckCRC32() -- checks packet CRC32s

    Description
    Checks the four-byte CRC that SetCRC32 appended to each packet. A packet
    whose CRC is right leaves without it; a packet whose CRC is wrong, or
    shorter than four bytes, is dropped with a warning.

    Ports
    one agnostic input, one agnostic output

    Example
    InfiniteSource(LIMIT 2) -> SetCRC32 -> CheckCRC32 -> c :: Counter -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def simple_action(self, packet: Packet) -> Packet | None:
        data = packet.data
        if len(data) >= 4 and crc32_trailer(data[:-4]) == data[-4:]:
            return packet.take(4)
        self.log.warning("%s: CRC32 failed, len %d", self.declaration(), len(data))
        return None
