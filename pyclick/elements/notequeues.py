"""FullNoteQueue and QuickNoteQueue: Queue under its older name, and a Queue
whose pullers go to sleep as soon as it is empty."""

from __future__ import annotations

from pyclick.elements.queue import Queue


class FullNoteQueue(Queue):
    """FullNoteQueue(CAPACITY) -- stores packets in a FIFO queue

    Description
    The older name of Queue, which it is in every respect: a
    first-in-first-out queue of at most CAPACITY packets that drops what
    does not fit (out of output 1 when it is connected), tells its pullers
    when it is empty (after a few failed pulls in a row) and its sources
    when it is full. Click names these elements Queue in messages and in
    the class handler; pyclick keeps the name they were declared with.

    Ports
    one push input; output 0 pull, optional output 1 push (drops)

    Keyword arguments
    CAPACITY -- maximum number of packets held, 1 to 10^8; default 1000

    Element handlers
    length, highwater_length, drops (read), capacity (read/write), reset_counts, reset (write) -- as Queue's

    Example
    InfiniteSource(LIMIT 100) -> q :: FullNoteQueue(10) -> Unqueue -> Discard;
    """


class QuickNoteQueue(Queue):
    """QuickNoteQueue(CAPACITY) -- stores packets in a FIFO queue

    Description
    A Queue that tells its pullers it is empty at once: the pull that
    takes its last packet, or finds it empty, puts them to sleep, where
    Queue waits for a few failed pulls in a row first. A puller of a
    queue that empties often sleeps sooner, at the cost of more
    sleeping and waking. Like Queue, it also tells its sources when it is
    full and when it has room again; in every other respect it behaves
    like Queue.

    Ports
    one push input; output 0 pull, optional output 1 push (drops)

    Keyword arguments
    CAPACITY -- maximum number of packets held, 1 to 10^8; default 1000

    Element handlers
    length, highwater_length, drops (read), capacity (read/write), reset_counts, reset (write) -- as Queue's

    Example
    InfiniteSource(LIMIT 100) -> q :: QuickNoteQueue(10) -> Unqueue -> Discard;
    """

    def _dequeued(self) -> None:
        super()._dequeued()
        if not self._queue:
            self._pulled_empty()

    def _pulled_empty(self) -> None:
        self._empty_note.sleep()
        # A push on another thread may have added a packet since.
        if self._queue:
            self._empty_note.wake()
