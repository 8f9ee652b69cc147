"""HashSwitch: the output chosen by a hash of packet bytes."""

from __future__ import annotations

from pyclick.args import UNSIGNED, Args
from pyclick.element import PUSH, Element
from pyclick.packet import Packet


class HashSwitch(Element):
    """HashSwitch(OFFSET, LENGTH) -- classifies packets by hash of contents

    Description
    Chooses the output of each packet from a hash of the LENGTH bytes
    starting at OFFSET: the sum d of those bytes picks output d mod N, or,
    with 2, 4 or 8 outputs, (d xor (d >> 4)) and (N - 1). A packet shorter
    than OFFSET + LENGTH goes to output 0. With the IP destination address
    (HashSwitch(16, 4) on IP packets), packets of one destination always
    take the same output: stochastic fair queueing.

    Ports
    one push input, one or more push outputs

    Keyword arguments
    OFFSET -- where the hashed bytes start, 0 to 65535; mandatory
    LENGTH -- how many bytes are hashed, 1 to 65535; mandatory

    Example
    InfiniteSource(DATA \\<00 01>, LIMIT 4) -> h :: HashSwitch(0, 2);
    h[0] -> a :: Counter -> Discard; h[1] -> b :: Counter -> Discard;
    """

    port_count = "1/1-"
    processing = PUSH

    def configure(self, args: Args) -> None:
        self.offset = args.read_mp("OFFSET", UNSIGNED.range(0, 65535))
        self.length = args.read_mp("LENGTH", UNSIGNED.range(1, 65535))
        args.complete()

    def output_for(self, packet: Packet) -> int:
        start, end = self.offset, self.offset + self.length
        if len(packet) < end:
            return 0
        base = packet.data_offset
        d = sum(packet.buffer[base + start:base + end])
        n = self.noutputs
        if n in (2, 4, 8):
            return (d ^ (d >> 4)) & (n - 1)
        return d % n

    def push(self, port: int, batch: list[Packet]) -> None:
        by_output: dict[int, list[Packet]] = {}
        for packet in batch:
            by_output.setdefault(self.output_for(packet), []).append(packet)
        for out, packets in by_output.items():
            self.output_push(out, packets)
