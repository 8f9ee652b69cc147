"""TimeSortedSched: packet streams sorted by timestamp, merged into one."""

from __future__ import annotations

from dataclasses import dataclass

from pyclick.args import BOOL, INT, Args
from pyclick.element import PULL, Element, read_handler
from pyclick.packet import Packet
from pyclick.runtime.notifier import EMPTY, Notifier, NotifierSignal, upstream_empty_signal


@dataclass(eq=False)
class _Held:
    packet: Packet
    port: int
    #: The packet's timestamp as a date, as Click orders them: an unset one
    #: (0) is the earliest, where in router time it would be anywhere.
    stamp: float


def _earlier(a: _Held, b: _Held) -> bool:
    return a.stamp < b.stamp


def _heap_push(heap: list[_Held], held: _Held) -> None:
    """Click's binary heap insertion (not heapq's): equal timestamps come out
    in the order Click's heap gives them."""
    heap.append(held)
    at = len(heap) - 1
    while at > 0 and _earlier(heap[at], heap[(at - 1) // 2]):
        parent = (at - 1) // 2
        heap[at], heap[parent] = heap[parent], heap[at]
        at = parent


def _heap_pop(heap: list[_Held]) -> _Held:
    """Click's removal of the heap's top: the last entry moves to the top and
    sinks below any child strictly earlier (the left child on a tie)."""
    top = heap[0]
    last = heap.pop()
    if heap:
        heap[0] = last
        at, size = 0, len(heap)
        while True:
            smallest, left = at, 2 * at + 1
            if left < size and _earlier(heap[left], heap[smallest]):
                smallest = left
            if left + 1 < size and _earlier(heap[left + 1], heap[smallest]):
                smallest = left + 1
            if smallest == at:
                break
            heap[at], heap[smallest] = heap[smallest], heap[at]
            at = smallest
    return top


class TimeSortedSched(Element):
    """TimeSortedSched(KEYWORDS) -- merge sorted packet streams by timestamp

    Description
    Answers each pull with the packet of earliest timestamp among those its
    inputs give. TimeSortedSched holds up to BUFFER packets from each
    input: a pull first tops up the inputs that have room (pulling each
    until it gives nothing or its share is full; the input added last is
    pulled first), then returns the earliest packet held. The streams
    should arrive sorted by timestamp; when one does not, packets leave out
    of order and well_ordered turns false (a packet without a timestamp
    counts as the earliest, and is not checked). A larger BUFFER absorbs
    small disorder within a stream.

    Inputs whose upstream queues are all empty are not pulled, and a puller
    downstream sleeps while TimeSortedSched holds nothing and no input may
    give a packet. With STOP, the router stops when a pull finds nothing
    held and nothing to come.

    Ports
    any number of pull inputs, one pull output

    Keyword arguments
    STOP -- stop the router once every input is exhausted; default false
    BUFFER -- packets held per input, at least 1; default 1

    Element handlers
    well_ordered (read) -- false once packets left out of timestamp order

    Example
    tss :: TimeSortedSched(STOP true);
    RatedSource(RATE 10, LIMIT 5) -> SetTimestamp -> Queue -> [0] tss;
    RatedSource(RATE 7, LIMIT 5) -> SetTimestamp -> Queue -> [1] tss;
    tss -> Unqueue -> Discard;
    """

    port_count = "-/1"
    processing = PULL
    flags = "S0"

    def configure(self, args: Args) -> None:
        self.stop = args.read("STOP", BOOL, False)
        self.buffer = args.read("BUFFER", INT.range(1, 2**31 - 1), 1)
        args.complete()
        self._note = Notifier(active=True)
        self._heap: list[_Held] = []
        self._last = 0.0
        self.well_ordered = True

    def initialize(self) -> None:
        self._signals: list[NotifierSignal] = [
            upstream_empty_signal(self, port, self._note.wake) for port in range(self.ninputs)]
        self._room = [self.buffer] * self.ninputs
        # The inputs with room, in Click's order: the last one is pulled first.
        self._ready = list(range(self.ninputs))

    def cleanup(self) -> None:
        self._heap = []

    def port_notifier(self, isoutput: bool, port: int, which: str) -> Notifier | None:
        return self._note if isoutput and which == EMPTY else None

    def _top_up(self) -> bool:
        """Pull the inputs with room; whether any of them may give a packet."""
        may_give = False
        ready = self._ready
        for at in range(len(ready) - 1, -1, -1):
            port = ready[at]
            if not self._signals[port]:
                continue
            may_give = True
            while (packet := self.input_pull(port)) is not None:
                stamp = self.router.to_epoch(packet.timestamp)
                _heap_push(self._heap, _Held(packet, port, stamp))
                self._room[port] -= 1
                if not self._room[port]:
                    ready[at] = ready[-1]
                    ready.pop()
                    break
        return may_give

    def pull(self, port: int) -> Packet | None:
        may_give = self._top_up()
        heap = self._heap
        if heap or may_give:
            self._note.wake()
        else:
            self._note.sleep()
        if not heap:
            if self.stop and not may_give:
                self.router.please_stop_driver(f"{self.name}: inputs exhausted")
            return None
        held = _heap_pop(heap)
        stamp = held.stamp
        if stamp:
            if self._last and stamp < self._last:
                self.well_ordered = False
            self._last = stamp
        self._room[held.port] += 1
        if self._room[held.port] == 1:
            self._ready.append(held.port)
        return held.packet

    @read_handler("well_ordered")
    def _read_well_ordered(self) -> str:
        return "true" if self.well_ordered else "false"
