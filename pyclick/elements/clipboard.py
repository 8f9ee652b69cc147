"""Clipboard: bytes of one packet copied into others."""

from __future__ import annotations

from pyclick.args import UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.packet import Packet

_U32 = UNSIGNED.range(0, 2**32 - 1)


def _read_ranges(args: Args) -> list[tuple[int, int]]:
    ranges = []
    for number, text in enumerate(args.rest()):
        offset, slash, length = text.strip().partition("/")
        if not (slash and offset and length):
            args.error(f"range {number}: expected '/' between offset and length")
            continue
        offset_value = args.convert("OFFSET", offset, _U32)
        length_value = args.convert("LENGTH", length, _U32)
        if offset_value is None or length_value is None:
            args.error(f"range {number}: invalid offset or length")
        else:
            ranges.append((offset_value, length_value))
    return ranges


class Clipboard(Element):
    """Clipboard(RANGE_1, ..., RANGE_N) -- copies data from one packet to another

    Description
    Each RANGE is OFFSET/LENGTH: LENGTH bytes from OFFSET bytes into the
    packet. A packet arriving on input 0 has the bytes of every range copied
    to the clipboard, and leaves unchanged by output 0 (bytes of a range
    past its end are copied as zeros). A packet arriving on input 1 gets the
    clipboard's bytes written over the same ranges, and leaves by output 1;
    a packet too short to hold every range leaves unchanged. Until a packet
    has come in on input 0, the clipboard holds zeros. Each input and output
    pair may be push or pull.

    Ports
    two agnostic inputs, two agnostic outputs; input 0 to output 0, input 1 to output 1

    Keyword arguments
    RANGE_1, ..., RANGE_N -- the byte ranges, OFFSET/LENGTH, each 0 to 2^32-1

    Example
    InfiniteSource(\\<0102030405060708>, LIMIT 1) -> c :: Clipboard(1/2, 5/1) -> Discard;
    TimedSource(0.5, \\<AAAAAAAAAAAA>) -> [1]c[1] -> Print(pasted) -> Discard;
    """

    port_count = "2/2"
    processing = AGNOSTIC
    flow_code = "#/#"
    can_live_reconfigure = True

    def configure(self, args: Args) -> None:
        self.ranges = _read_ranges(args)
        args.complete()
        self.clipboard = bytes(sum(length for _, length in self.ranges))
        self.shortest = max((offset + length for offset, length in self.ranges), default=0)

    def push(self, port: int, batch: list[Packet]) -> None:
        self.output_push(port, self._handle(port, batch))

    def pull(self, port: int) -> Packet | None:
        packet = self.input_pull(port)
        if packet is None:
            return None
        return self._handle(port, [packet])[0]

    def _handle(self, port: int, batch: list[Packet]) -> list[Packet]:
        if port == 0:
            self._copy(batch[-1])
            return batch
        return [self._paste(packet) for packet in batch]

    def _copy(self, packet: Packet) -> None:
        data = packet.data
        pieces = [data[offset:offset + length].ljust(length, b"\0")
                  for offset, length in self.ranges]
        self.clipboard = b"".join(pieces)

    def _paste(self, packet: Packet) -> Packet:
        if len(packet) < self.shortest:
            return packet
        at = 0
        for offset, length in self.ranges:
            packet.write(offset, self.clipboard[at:at + length])
            at += length
        return packet
