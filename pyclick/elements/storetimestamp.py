"""StoreTimestamp: a packet's timestamp annotation written into its data."""

from __future__ import annotations

import struct

from pyclick.args import BOOL, INT, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.elements.clickargs import nanoseconds
from pyclick.packet import Packet

#: The largest OFFSET: the bytes stay within a packet's largest size.
MAX_OFFSET = 65535
#: Click's timestamp in memory: signed nanoseconds, host byte order.
_STAMP = struct.Struct("=q")


class StoreTimestamp(Element):
    """StoreTimestamp(OFFSET, KEYWORDS) -- store packet timestamps in packet data

    Description
    Writes each packet's timestamp annotation into its data as Click holds
    a timestamp: 8 bytes, the date in nanoseconds as a signed integer in
    the host's byte order (little-endian on x86). With OFFSET the bytes
    start OFFSET bytes in; with TAIL they are added at the end. A packet
    too short for the 8 bytes is lengthened with zeros first. Give exactly
    one of OFFSET and TAIL (OFFSET -1 counts as none).

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    OFFSET -- where the bytes start, 0 to 65535 (-1: none); default none
    TAIL -- add the bytes at the end of the packet; default false

    Example
    InfiniteSource(LIMIT 1) -> SetTimestamp(1.25) -> StoreTimestamp(TAIL true) -> Print -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.offset = args.read_p("OFFSET", INT.range(-1, MAX_OFFSET), -1)
        tail = args.read("TAIL", BOOL, False)
        if not args.errors and (self.offset >= 0) == tail:
            args.error("supply exactly one of 'OFFSET' and 'TAIL'")
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        offset = self.offset if self.offset >= 0 else len(packet)
        packet.put(offset + _STAMP.size - len(packet))
        date = nanoseconds(self.router.to_epoch(packet.timestamp))
        packet.write(offset, _STAMP.pack(date))
        return packet
