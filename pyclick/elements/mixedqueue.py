"""MixedQueue: a queue with a first-in-first-out and a last-in-first-out input."""

from __future__ import annotations

from pyclick.elements.queue import NotifierQueue
from pyclick.packet import Packet


class MixedQueue(NotifierQueue):
    """MixedQueue(CAPACITY) -- stores packets in a FIFO/LIFO queue

    Description
    Stores packets in one queue that is first-in-first-out for input 0 and
    last-in-first-out for input 1: a packet pushed to input 0 joins the
    tail of the queue, one pushed to input 1 its head, so that it is the
    next to be pulled. The queue is full when it holds CAPACITY packets.
    When it is full, a packet pushed to input 0 is dropped, while a packet
    pushed to input 1 takes its place at the head and the packet at the
    tail (the one that would have left last) is dropped instead. Dropped
    packets are pushed out of output 1 when it is connected; the first
    drop is reported as an overflow.

    After pushes of A, B to input 0, C to input 1, D to input 0 and E to
    input 1, the queue holds, from head to tail, E C A B D.

    MixedQueue tells its pullers when it is empty, as Queue does (after a
    few failed pulls in a row), but never tells a source it is full.

    Ports
    two push inputs (0 FIFO, 1 LIFO); output 0 pull, optional output 1 push (drops)

    Keyword arguments
    CAPACITY -- maximum number of packets held, 1 to 10^8; default 1000

    Element handlers
    length, highwater_length, drops (read), capacity (read/write), reset_counts, reset (write) -- as Queue's

    Example
    InfiniteSource(LIMIT 10) -> [0] q :: MixedQueue(5);
    InfiniteSource(LIMIT 3) -> [1] q;
    q -> Unqueue -> Discard;
    """

    port_count = "2/1-2"

    def push(self, port: int, batch: list[Packet]) -> None:
        if port == 0:
            super().push(port, batch)
            return
        queue = self._queue
        dropped = []
        for packet in batch:
            if len(queue) >= self.capacity:
                dropped.append(queue.pop())
            queue.appendleft(packet)
        self.highwater_length = max(self.highwater_length, len(queue))
        self._enqueued()
        if dropped:
            self._drop(dropped)
