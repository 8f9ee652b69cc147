"""The queues: SimpleQueue, Queue (with notification), NotifierQueue, ThreadSafeQueue and
FrontDropQueue.

A queue is where push turns into pull: packets pushed to its input wait
until its output is pulled (by Unqueue, RatedUnqueue, Discard in pull
context...). Queue and ThreadSafeQueue also tell the elements around them
when to work (``pyclick.runtime.notifier``): pullers downstream sleep while
the queue is empty, sources upstream (InfiniteSource) while it is full.
"""

from __future__ import annotations

import threading
from collections import deque

from pyclick.args import UNSIGNED, Args
from pyclick.element import Element, read_handler, reconfigures, write_handler
from pyclick.elements.handlercall import parse_value
from pyclick.packet import Packet
from pyclick.runtime.notifier import EMPTY, FULL, Notifier

#: Default CAPACITY, in packets.
DEFAULT_CAPACITY = 1000
#: Failed pulls in a row before Queue tells its pullers it is empty (Click's
#: sleepiness: a queue that hovers around empty does not make them thrash).
SLEEPINESS_TRIGGER = 9


class SimpleQueue(Element):
    """SimpleQueue(CAPACITY) -- stores packets in a FIFO queue

    Description
    Stores incoming packets in a first-in-first-out queue, the bridge from
    push to pull: packets pushed to its input wait until its output 0 is
    pulled. Drops incoming packets if the queue already holds CAPACITY
    packets; dropped packets are pushed out of output 1 when it is
    connected. The first drop is reported as an overflow.

    SimpleQueue does not notify its neighbours: a puller keeps polling it
    even when it is empty. Queue does the same job with notification.

    Ports
    one push input; output 0 pull, optional output 1 push (drops)

    Keyword arguments
    CAPACITY -- maximum number of packets held, 1 to 10^8; default 1000

    Element handlers
    length (read) -- packets in the queue now
    highwater_length (read) -- the most packets the queue ever held at once
    capacity (read/write) -- the CAPACITY setting; a write sets the
    argument in config too, and a smaller one frees the newest packets
    beyond it (not counted as drops)
    drops (read) -- packets dropped so far
    reset_counts (write) -- sets drops and highwater_length back to 0 (highwater_length to the current length)
    reset (write) -- drops every packet in the queue (out of output 1 when connected)

    Example
    InfiniteSource(LIMIT 5) -> q :: SimpleQueue(2) -> Unqueue -> Discard;
    """

    port_count = "1/1-2"
    processing = "h/lh"

    can_live_reconfigure = True
    live_state: tuple[str, ...] = ("_queue", "drops", "highwater_length")

    def configure(self, args: Args) -> None:
        self.capacity = args.read_p("CAPACITY", UNSIGNED.range(1, 10**8), DEFAULT_CAPACITY)
        args.complete()
        self._queue: deque[Packet] = deque()
        self.drops = 0
        self.highwater_length = 0

    def live_reconfigure(self, args: Args) -> None:
        super().live_reconfigure(args)
        self._fit_capacity()

    def _fit_capacity(self) -> None:
        """After a change of capacity: as in Click, a smaller one frees the
        newest packets beyond it, uncounted; a larger one may make room for a
        waiting source."""
        while len(self._queue) > self.capacity:
            self._queue.pop()
        self._dequeued()

    @property
    def length(self) -> int:
        """Packets in the queue now."""
        return len(self._queue)

    def push(self, port: int, batch: list[Packet]) -> None:
        queue = self._queue
        room = self.capacity - len(queue)
        if room >= len(batch):
            queue.extend(batch)
            accepted, dropped = len(batch), []
        else:
            accepted = max(room, 0)
            queue.extend(batch[:accepted])
            dropped = batch[accepted:]
        if accepted:
            self.highwater_length = max(self.highwater_length, len(queue))
            self._enqueued()
        if dropped:
            self._drop(dropped)

    def _drop(self, dropped: list[Packet]) -> None:
        if self.drops == 0 and self.capacity > 0:
            self.log.warning("%s: overflow", self.declaration())
        self.drops += len(dropped)
        if self.noutputs > 1:
            self.output_push(1, dropped)

    def pull(self, port: int) -> Packet | None:
        try:
            packet = self._queue.popleft()
        except IndexError:
            self._pulled_empty()
            return None
        self._dequeued()
        return packet

    def pull_batch(self, port: int, max_packets: int) -> list[Packet]:
        queue = self._queue
        n = min(max_packets, len(queue))
        if n == 0:
            self._pulled_empty()
            return []
        if n == len(queue):
            batch = list(queue)
            queue.clear()
        else:
            popleft = queue.popleft
            batch = [popleft() for _ in range(n)]
        self._dequeued()
        return batch

    # --- what Queue adds: notification
    def _enqueued(self) -> None:
        """Packets were added."""

    def _dequeued(self) -> None:
        """Packets were taken."""

    def _pulled_empty(self) -> None:
        """A pull found the queue empty."""

    def _emptied(self) -> None:
        """Every packet was dropped (the reset handler)."""

    # --- handlers
    @read_handler("length")
    def _read_length(self) -> str:
        return str(len(self._queue))

    @read_handler("highwater_length")
    def _read_highwater(self) -> str:
        return str(self.highwater_length)

    @read_handler("drops")
    def _read_drops(self) -> str:
        return str(self.drops)

    @read_handler("capacity")
    def _read_capacity(self) -> str:
        return str(self.capacity)

    @write_handler("capacity")
    @reconfigures(0, "CAPACITY")
    def _write_capacity(self, value: str) -> None:
        self.capacity = parse_value(UNSIGNED, value)
        self._fit_capacity()

    @write_handler("reset_counts")
    def _write_reset_counts(self, value: str) -> None:
        self.drops = 0
        self.highwater_length = len(self._queue)

    @write_handler("reset")
    def _write_reset(self, value: str) -> None:
        packets = list(self._queue)
        self._queue.clear()
        self._emptied()
        if packets and self.noutputs > 1:
            self.output_push(1, packets)


class Queue(SimpleQueue):
    """Queue(CAPACITY) -- stores packets in a FIFO queue

    Description
    Stores incoming packets in a first-in-first-out queue. Drops incoming
    packets if the queue already holds CAPACITY packets (pushing them out
    of output 1 when it is connected). In all respects but notification,
    Queue behaves exactly like SimpleQueue.

    Queue notifies interested parties when it becomes empty and when a
    formerly empty queue receives a packet: a puller (Unqueue, Discard in
    pull context) sleeps while there is nothing to pull. The empty
    notification comes after a few failed pulls in a row, so that a queue
    hovering around one or two packets does not make its pullers thrash.
    It also notifies when it becomes full and when a full queue gains free
    space: a source upstream (InfiniteSource) stops while the queue is
    full, so no packet is dropped.

    Ports
    one push input; output 0 pull, optional output 1 push (drops)

    Keyword arguments
    CAPACITY -- maximum number of packets held, 1 to 10^8; default 1000

    Element handlers
    length (read) -- packets in the queue now
    highwater_length (read) -- the most packets the queue ever held at once
    capacity (read/write) -- the CAPACITY setting; a write sets the
    argument in config too, and a smaller one frees the newest packets
    beyond it (not counted as drops)
    drops (read) -- packets dropped so far
    reset_counts (write) -- sets drops and highwater_length back to 0 (highwater_length to the current length)
    reset (write) -- drops every packet in the queue (out of output 1 when connected)

    Example
    InfiniteSource(LIMIT 1000) -> q :: Queue(10) -> Unqueue -> c :: Counter -> Discard;
    """

    live_state = SimpleQueue.live_state + ("_empty_note", "_full_note", "_sleepiness")

    def configure(self, args: Args) -> None:
        super().configure(args)
        self._empty_note = Notifier(active=True)
        self._full_note = Notifier(active=True)
        self._sleepiness = 0

    def port_notifier(self, isoutput: bool, port: int, which: str) -> Notifier | None:
        if isoutput and port == 0 and which == EMPTY:
            return self._empty_note
        if not isoutput and which == FULL:
            return self._full_note
        return None

    def _enqueued(self) -> None:
        self._empty_note.wake()
        if len(self._queue) >= self.capacity:
            self._full_note.sleep()
            # A pull on another thread may have made room since.
            if len(self._queue) < self.capacity:
                self._full_note.wake()

    def _dequeued(self) -> None:
        self._sleepiness = 0
        if len(self._queue) < self.capacity:
            self._full_note.wake()

    def _pulled_empty(self) -> None:
        if self._sleepiness >= SLEEPINESS_TRIGGER:
            self._empty_note.sleep()
            # A push on another thread may have added a packet since.
            if self._queue:
                self._empty_note.wake()
        else:
            self._sleepiness += 1

    def _emptied(self) -> None:
        self._empty_note.sleep()
        self._full_note.wake()


class NotifierQueue(Queue):
    """NotifierQueue(CAPACITY) -- stores packets in a FIFO queue

    Description
    A Queue that tells its pullers when it is empty but never tells a
    source it is full: a source upstream keeps pushing, and what does not
    fit is dropped (pushed out of output 1 when it is connected). In every
    other respect it behaves like Queue.

    Ports
    one push input; output 0 pull, optional output 1 push (drops)

    Keyword arguments
    CAPACITY -- maximum number of packets held, 1 to 10^8; default 1000

    Element handlers
    length, highwater_length, drops (read), capacity (read/write), reset_counts, reset (write) -- as Queue's

    Example
    InfiniteSource(LIMIT 10, BURST 5) -> q :: NotifierQueue(4) -> Unqueue -> Discard;
    """

    def port_notifier(self, isoutput: bool, port: int, which: str) -> Notifier | None:
        return super().port_notifier(isoutput, port, which) if which == EMPTY else None


class ThreadSafeQueue(Queue):
    """ThreadSafeQueue(CAPACITY) -- stores packets in a FIFO queue

    Description
    A Queue that any number of threads may push to and pull from at the
    same time (Queue allows one pusher and one puller). In all respects
    other than thread safety it behaves like Queue, notification included.

    Ports
    one push input; output 0 pull, optional output 1 push (drops)

    Keyword arguments
    CAPACITY -- maximum number of packets held, 1 to 10^8; default 1000

    Element handlers
    length (read) -- packets in the queue now
    highwater_length (read) -- the most packets the queue ever held at once
    capacity (read/write) -- the CAPACITY setting; a write sets the
    argument in config too, and a smaller one frees the newest packets
    beyond it (not counted as drops)
    drops (read) -- packets dropped so far
    reset_counts (write) -- sets drops and highwater_length back to 0 (highwater_length to the current length)
    reset (write) -- drops every packet in the queue (out of output 1 when connected)

    Example
    InfiniteSource(LIMIT 10) -> q :: ThreadSafeQueue -> Unqueue -> Discard;
    """

    live_state = Queue.live_state + ("_lock",)

    def configure(self, args: Args) -> None:
        super().configure(args)
        self._lock = threading.Lock()

    def push(self, port: int, batch: list[Packet]) -> None:
        with self._lock:
            super().push(port, batch)

    def pull(self, port: int) -> Packet | None:
        with self._lock:
            return super().pull(port)

    def pull_batch(self, port: int, max_packets: int) -> list[Packet]:
        with self._lock:
            return super().pull_batch(port, max_packets)


class FrontDropQueue(NotifierQueue):
    """FrontDropQueue(CAPACITY) -- stores packets in drop-from-front FIFO queue

    Description
    Stores incoming packets in a first-in-first-out queue, as Queue does,
    but never refuses one: when the queue already holds CAPACITY packets,
    the packet at its head (the oldest) is dropped to make room for the
    new one at its tail. Dropped packets are pushed out of output 1 when it
    is connected. A pull finds the freshest packets the queue could keep,
    which suits traffic whose old packets lose their worth.

    FrontDropQueue tells its pullers when it is empty, as Queue does; as it
    is never full to a source, it never makes one wait.

    Ports
    as Queue's: one push input; output 0 pull, optional output 1 push (the dropped packets)

    Keyword arguments
    CAPACITY -- as Queue's, 1000 packets by default

    Element handlers
    length, highwater_length, capacity, drops, reset_counts, reset -- as Queue's

    Example
    InfiniteSource(LIMIT 10) -> q :: FrontDropQueue(4) -> Unqueue -> Discard;
    """

    def push(self, port: int, batch: list[Packet]) -> None:
        queue = self._queue
        excess = len(queue) + len(batch) - self.capacity
        dropped: list[Packet] = []
        if excess > 0:
            # The oldest go first: those queued, then the batch's own first ones.
            popleft = queue.popleft
            dropped = [popleft() for _ in range(min(excess, len(queue)))]
            if excess > len(dropped):
                also = excess - len(dropped)
                dropped += batch[:also]
                batch = batch[also:]
        queue.extend(batch)
        if batch:
            self.highwater_length = max(self.highwater_length, len(queue))
            self._enqueued()
        if dropped:
            self._drop(dropped)
