"""DRRSched: deficit round robin over pull inputs."""

from __future__ import annotations

from pyclick.args import INT, Args
from pyclick.element import PULL, Element
from pyclick.packet import Packet
from pyclick.runtime.notifier import EMPTY, Notifier, NotifierSignal, upstream_empty_signal


class DRRSched(Element):
    """DRRSched(QUANTUM) -- pulls from inputs with deficit round robin scheduling

    Description
    Deficit round robin (Shreedhar and Varghese, SIGCOMM 1995) over its
    inputs, which gives each input a fair share of bytes, whatever the
    sizes of its packets. Each input has a deficit, in bytes, starting at
    0. A pull on the output looks at the inputs in turn, starting with the
    one the last pull stopped at: the input's held packet, or else one
    pulled from it, goes out when its length is at most the input's
    deficit, which it then lowers; a longer one is held for a later turn.
    Moving on to the next input adds QUANTUM to that input's deficit; an
    input with nothing to give loses its deficit. A pull that looks at
    every input once without sending gets nothing (the first pull always
    does, the deficits being 0).

    Inputs whose upstream queues are all empty are not pulled. DRRSched
    tells the pullers downstream (Unqueue) that it is empty only when a
    pull found nothing, it holds no packet and every input is empty.

    Ports
    any number of pull inputs, one pull output

    Keyword arguments
    QUANTUM -- bytes added to an input's deficit on each of its turns, at least 1; default 500

    Example
    InfiniteSource(LENGTH 100, LIMIT 20) -> a :: Queue -> [0] d :: DRRSched;
    InfiniteSource(LENGTH 400, LIMIT 20) -> b :: Queue -> [1] d;
    d -> Unqueue -> c :: Counter -> Discard;
    """

    port_count = "-/1"
    processing = PULL
    flags = "S0"

    def configure(self, args: Args) -> None:
        self.quantum = args.read_p("QUANTUM", INT.range(1, 2**31 - 1), 500)
        args.complete()
        self._note = Notifier(active=True)

    def initialize(self) -> None:
        count = self.ninputs
        self._signals: list[NotifierSignal] = [
            upstream_empty_signal(self, port, self._note.wake) for port in range(count)]
        self._heads: list[Packet | None] = [None] * count
        self._deficits = [0] * count
        self._next = 0

    def port_notifier(self, isoutput: bool, port: int, which: str) -> Notifier | None:
        return self._note if isoutput and which == EMPTY else None

    def pull(self, port: int) -> Packet | None:
        count = self.ninputs
        deficits = self._deficits
        may_give = False
        for _ in range(count):
            at = self._next
            packet = self._heads[at]
            if packet is not None:
                self._heads[at] = None
                may_give = True
            elif self._signals[at]:
                packet = self.input_pull(at)
                may_give = True
            if packet is None:
                deficits[at] = 0
            elif len(packet) <= deficits[at]:
                deficits[at] -= len(packet)
                self._note.wake()
                return packet
            else:
                self._heads[at] = packet
            self._next = at + 1 if at + 1 < count else 0
            deficits[self._next] += self.quantum
        if may_give:
            self._note.wake()
        else:
            self._note.sleep()
        return None
