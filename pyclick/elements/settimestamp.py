"""SetTimestamp: stores a time in each packet's timestamp annotation."""

from __future__ import annotations

from pyclick.args import BOOL, FLOAT, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.packet import Packet


class SetTimestamp(Element):
    """SetTimestamp(TIMESTAMP, KEYWORDS) -- store the time in the packet's timestamp annotation

    Description
    Stores TIMESTAMP, in seconds, in each packet's timestamp annotation;
    without TIMESTAMP, the router's clock when the packet arrives at
    SetTimestamp. With FIRST, the packet's first timestamp annotation is set
    instead.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    TIMESTAMP -- the time to store, seconds, 0 to 1e12; default the time of arrival
    FIRST -- set the first timestamp annotation instead; default false

    Example
    InfiniteSource(LIMIT 1) -> SetTimestamp(1.5) -> Print(TIMESTAMP true) -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.timestamp = args.read_p("TIMESTAMP", FLOAT.range(0, 1e12))
        self.first = args.read("FIRST", BOOL, False)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        # TIMESTAMP is a date; packets carry the router's time.
        when = self.router.now() if self.timestamp is None else self.router.from_epoch(self.timestamp)
        if self.first:
            packet.first_timestamp = when
        else:
            packet.timestamp = when
        return packet
