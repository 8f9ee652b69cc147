"""An element class for the tests: a sink that keeps what it receives; and
routers of one element with a sink on each output."""

from __future__ import annotations

from pyclick.args import Args
from pyclick.element import Element
from pyclick.errors import Landmark
from pyclick.packet import Packet
from tests.helpers import configured_router


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


def element_with_sinks(cls: str, config: str, outputs: int, at: Landmark
                       ) -> tuple[Element, list[KeepingTestSink]]:
    """The element ``e`` of a router (simulated time) where each of its
    outputs leads to a sink ``s<i>``; returns (element, sinks)."""
    sink = KeepingTestSink.__name__
    elements = [("e", cls, config)] + [(f"s{i}", sink, "") for i in range(outputs)]
    router = configured_router(elements, [("e", i, f"s{i}", 0) for i in range(outputs)],
                               at=at, simtime=True)
    return router.element("e"), [router.element(f"s{i}") for i in range(outputs)]


def pushed(cls: str, config: str, frames: list[bytes | Packet], outputs: int, at: Landmark
           ) -> tuple[Element, list[list[Packet]]]:
    """The element and the packets out of each of its outputs after pushing ``frames``."""
    e, sinks = element_with_sinks(cls, config, outputs, at)
    e.push(0, [f if isinstance(f, Packet) else Packet(f) for f in frames])
    return e, [s.packets for s in sinks]
