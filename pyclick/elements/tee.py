"""Tee and PullTee: every packet out of every output."""

from __future__ import annotations

from pyclick.args import UNSIGNED, Args
from pyclick.element import PUSH, Element
from pyclick.packet import Packet


def _read_arms(element: Element, args: Args) -> None:
    # No bound of its own: N must equal the outputs the configuration uses.
    arms = args.read_p("N", UNSIGNED.range(1), element.noutputs)
    if arms != element.noutputs:
        args.error(f"N: {element.noutputs} outputs implies {element.noutputs} arms")
    args.complete()


class Tee(Element):
    """Tee(N) -- duplicates packets

    Description
    Sends a copy of each incoming packet out each output, output 0 first;
    the last output gets the original. The copies share the packet's bytes
    until one of them is changed. Tee has however many outputs are used in
    the configuration; N, when given, must be that number.

    Ports
    one push input, one or more push outputs

    Keyword arguments
    N -- the number of outputs, at least 1; default the outputs used

    Example
    InfiniteSource(LIMIT 10) -> t :: Tee(2);
    t[0] -> a :: Counter -> Discard;
    t[1] -> b :: Counter -> Discard;
    """

    port_count = "1/1-"
    processing = PUSH

    def configure(self, args: Args) -> None:
        _read_arms(self, args)

    def push(self, port: int, batch: list[Packet]) -> None:
        last = self.noutputs - 1
        for out in range(last):
            self.output_push(out, [p.clone() for p in batch])
        self.output_push(last, batch)


class PullTee(Element):
    """PullTee(N) -- duplicates packets

    Description
    PullTee's input and its first output are pull; its other outputs are
    push. Each time output 0 is pulled, PullTee pulls a packet from its
    input, sends a copy out each push output, then returns the original.
    PullTee has however many outputs are used in the configuration; N, when
    given, must be that number.

    Ports
    one pull input; output 0 pull, the others push

    Keyword arguments
    N -- the number of outputs, at least 1; default the outputs used

    Example
    InfiniteSource(LIMIT 10) -> Queue -> t :: PullTee -> Unqueue -> a :: Counter -> Discard;
    t[1] -> b :: Counter -> Discard;
    """

    port_count = "1/1-"
    processing = "l/lh"

    def configure(self, args: Args) -> None:
        _read_arms(self, args)

    def pull(self, port: int) -> Packet | None:
        packet = self.input_pull(0)
        if packet is not None:
            for out in range(1, self.noutputs):
                self.output_push(out, [packet.clone()])
        return packet

    def pull_batch(self, port: int, max_packets: int) -> list[Packet]:
        batch = self.input_pull_batch(0, max_packets)
        if batch:
            for out in range(1, self.noutputs):
                self.output_push(out, [p.clone() for p in batch])
        return batch
