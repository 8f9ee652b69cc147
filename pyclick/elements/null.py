"""Null, PushNull and PullNull: elements that pass packets unchanged."""

from __future__ import annotations

from pyclick.element import AGNOSTIC, PULL, PUSH, Element
from pyclick.packet import Packet


class Null(Element):
    """Null() -- null element: passes packets unchanged

    Description
    Emits input packets unchanged, push or pull (its ports are agnostic). A
    placeholder that makes a configuration easier to read
    (``join :: Null; a -> join; b -> join; join -> ...``), and a yardstick
    for measuring the cost of an element.

    Ports
    one agnostic input, one agnostic output

    Example
    InfiniteSource(LIMIT 5) -> Null -> c :: Counter -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def push(self, port: int, batch: list[Packet]) -> None:
        self.output_push(0, batch)

    def pull_batch(self, port: int, max_packets: int) -> list[Packet]:
        return self.input_pull_batch(0, max_packets)


class PushNull(Element):
    """PushNull() -- push-only null element

    Description
    Responds to each pushed batch by pushing it unchanged out its output.
    Forces an agnostic neighbourhood to be push.

    Ports
    one push input, one push output

    Example
    InfiniteSource(LIMIT 5) -> PushNull -> Discard;
    """

    port_count = "1/1"
    processing = PUSH

    def push(self, port: int, batch: list[Packet]) -> None:
        self.output_push(0, batch)


class PullNull(Element):
    """PullNull() -- pull-only null element

    Description
    Responds to each pull by pulling a packet from its input and returning
    it unchanged. Forces an agnostic neighbourhood to be pull.

    Ports
    one pull input, one pull output

    Example
    InfiniteSource(LIMIT 5) -> Queue -> PullNull -> Unqueue -> Discard;
    """

    port_count = "1/1"
    processing = PULL

    def pull_batch(self, port: int, max_packets: int) -> list[Packet]:
        return self.input_pull_batch(0, max_packets)
