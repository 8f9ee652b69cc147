"""Example plugin elements of each processing kind, loaded with ``pyclick -C``.

    pyclick -C examples/clickpath --simtime examples/clickpath/demo.click

- ``Reverse`` is agnostic: it defines only ``simple_action``, so it works
  pushed or pulled, wherever the configuration puts it;
- ``Countdown`` is a pull source: it answers pulls, and tells the puller
  downstream (through a notifier) when it has nothing left, so the puller
  sleeps instead of polling;
- ``BatchLog`` is a push sink: it receives whole batches.
"""

from __future__ import annotations

from pyclick.args import UNSIGNED, Args
from pyclick.element import AGNOSTIC, PULL, PUSH, Element, read_handler
from pyclick.packet import Packet
from pyclick.runtime.notifier import EMPTY, Notifier


class Reverse(Element):
    """Reverse() -- reverses the bytes of each packet

    Description
    Reverses the bytes of every packet, pushed or pulled (its ports are
    agnostic).

    Ports
    one agnostic input, one agnostic output

    Example
    InfiniteSource("abc", LIMIT 1) -> Reverse -> Print -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def simple_action(self, packet: Packet) -> Packet:
        packet.data = packet.data[::-1]
        return packet


class Countdown(Element):
    """Countdown(N) -- a pull source of N packets counting down

    Description
    Answers each pull with a one-byte packet holding N-1, then N-2 ... 0,
    then nothing. Pullers downstream sleep once it is done.

    Ports
    one pull output

    Keyword arguments
    N -- how many packets; default 3

    Element handlers
    left (read) -- packets still to give

    Example
    Countdown(5) -> Unqueue -> Discard;
    """

    port_count = "0/1"
    processing = PULL

    def configure(self, args: Args) -> None:
        self.left = args.read_p("N", UNSIGNED, 3)
        args.complete()
        self._note = Notifier(active=self.left > 0)

    def port_notifier(self, isoutput: bool, port: int, which: str) -> Notifier | None:
        return self._note if isoutput and which == EMPTY else None

    def pull(self, port: int) -> Packet | None:
        if self.left == 0:
            self._note.sleep()
            return None
        self.left -= 1
        return Packet(bytes([self.left % 256]), self.router.now())

    @read_handler("left")
    def _read_left(self) -> str:
        return str(self.left)


class BatchLog(Element):
    """BatchLog() -- remembers the sizes of the batches pushed to it

    Description
    A push sink that records how many packets each batch held.

    Ports
    one push input

    Element handlers
    sizes (read) -- the batch sizes, space-separated

    Example
    InfiniteSource(LIMIT 5, BURST 2) -> BatchLog;
    """

    port_count = "1/0"
    processing = PUSH

    def configure(self, args: Args) -> None:
        args.complete()
        self.sizes: list[int] = []

    def push(self, port: int, batch: list[Packet]) -> None:
        self.sizes.append(len(batch))

    @read_handler("sizes")
    def _read_sizes(self) -> str:
        return " ".join(map(str, self.sizes))
