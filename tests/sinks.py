"""An element class for the tests: a sink that keeps what it receives."""

from __future__ import annotations

from pyclick.args import Args
from pyclick.element import Element
from pyclick.packet import Packet


class KeepingTestSink(Element):
    """KeepingTestSink() -- keeps the packets it receives

    Description
    A test sink.
    """

    port_count = "1/0"

    def configure(self, args: Args) -> None:
        args.complete()
        self.packets: list[Packet] = []

    def push(self, port: int, batch: list[Packet]) -> None:
        self.packets.extend(batch)
