"""Unqueue2: a pull-to-push converter that pulls only what the queues
downstream have room for."""

from __future__ import annotations

from pyclick.args import BOOL, ELEMENT, INT, Args, ListOf
from pyclick.element import PULL_TO_PUSH, Element, read_handler
from pyclick.elements.queue import SimpleQueue
from pyclick.elements.red import nearest_queues
from pyclick.runtime.notifier import upstream_empty_signal

#: BURST 0: pull until nothing comes back.
UNLIMITED_BURST = 0x7FFFFFFF


def _queue(text: str, args: Args) -> SimpleQueue:
    element = ELEMENT(text, args)
    if not isinstance(element, SimpleQueue):
        raise ValueError(f"'{element.declaration()}' is not a queue")
    return element


class Unqueue2(Element):
    """Unqueue2(BURST, KEYWORDS) -- pull-to-push converter that minds the queues downstream

    Description
    Pulls packets whenever they are available, then pushes them out its
    single output, as Unqueue does, but never more than the queues
    downstream can hold: each time its task runs it pulls at most BURST
    packets, and at most as many as the fullest of those queues has free
    places (none while one is full). Unless QUEUES names them, the queues
    are the nearest ones downstream of its output, along every path.

    Unqueue is to be preferred for most purposes; configuring an Unqueue2
    prints a warning saying so, unless QUIET is true.

    Ports
    one pull input, one push output

    Keyword arguments
    BURST -- most packets pulled per task run; 0 pulls until nothing comes back; default 1
    QUEUES -- the queues whose free places limit the pulls, names separated by
    spaces; default the nearest queues downstream
    QUIET -- no deprecation warning when true; default false

    Element handlers
    packets (read) -- packets pulled so far, followed by the word "packets"

    Example
    InfiniteSource(LIMIT 20) -> Queue -> Unqueue2(4, QUIET true) -> q :: Queue(8) -> Discard;
    """

    port_count = "1/1"
    processing = PULL_TO_PUSH

    def configure(self, args: Args) -> None:
        burst = args.read_p("BURST", INT.range(-2**31, 2**31 - 1), 1)
        named = args.read("QUEUES", ListOf(_queue))
        quiet = args.read("QUIET", BOOL, False)
        args.complete()
        if not quiet:
            self.log.warning("%s: Unqueue2 is deprecated, you should probably use Unqueue",
                             self.declaration())
        self.burst = burst or UNLIMITED_BURST
        self._named: list[SimpleQueue] | None = named
        self.count = 0
        self._task = self.own_task(self._run)

    def initialize(self) -> None:
        self.queues = (nearest_queues(self, downstream=True) if self._named is None
                       else self._named)
        self._signal = upstream_empty_signal(self, 0, self._task.reschedule)
        self._task.reschedule()

    def _room(self) -> int:
        """How many packets this run may pull: negative BURSTs leave it to the queues."""
        limit = self.burst
        for queue in self.queues:
            space = queue.capacity - queue.length
            if limit < 0 or space < limit:
                limit = space
        return limit

    def _run(self) -> bool:
        want = self._room()
        worked = 0
        while worked < want:
            packet = self.input_pull(0)
            if packet is not None:
                worked += 1
                self.count += 1
                self.output_push(0, [packet])
            elif not self._signal:
                return worked > 0
            else:
                break
        self._task.reschedule()
        return worked > 0

    @read_handler("packets")
    def _read_packets(self) -> str:
        return f"{self.count} packets"
