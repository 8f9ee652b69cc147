"""CPUQueue: a FIFO queue per worker thread behind one push input."""

from __future__ import annotations

import threading
from collections import deque

from pyclick.args import UNSIGNED, Args
from pyclick.element import PUSH_TO_PULL, Element, read_handler
from pyclick.packet import Packet


class CPUQueue(Element):
    """CPUQueue(CAPACITY) -- stores packets in FIFO queues, one per thread

    Description
    Stores incoming packets in first-in-first-out queues, one for each
    worker thread (threads are numbered as the home_thread handlers show
    them; in simulated time, and on a thread that is no worker, there is
    one queue, thread 0's). A packet pushed to the input joins the queue of
    the thread that pushes it, or is dropped when that queue already holds
    CAPACITY packets. A pull on any output takes the head of the first
    non-empty queue, trying them round-robin from the one after the queue
    the last packet came from; every output answers from the same queues.

    CPUQueue does not notify its neighbours: a puller downstream keeps
    polling it even when every queue is empty.

    Ports
    one push input, one or more pull outputs

    Keyword arguments
    CAPACITY -- most packets each queue holds; default 128

    Element handlers
    capacity (read) -- the CAPACITY setting
    drops (read) -- packets dropped so far

    Example
    InfiniteSource(LIMIT 5) -> q :: CPUQueue(16) -> Unqueue -> Discard;
    """

    port_count = "1/1-"
    processing = PUSH_TO_PULL

    def configure(self, args: Args) -> None:
        self.capacity = args.read_p("CAPACITY", UNSIGNED.range(0, 2**32 - 1), 128)
        args.complete()
        self.drops = 0

    def initialize(self) -> None:
        workers = self.router.worker_threads()
        self._index_of = {worker.thread: worker.index for worker in workers}
        self._queues: list[deque[Packet]] = [deque() for _ in range(max(1, len(workers)))]
        self._last = 0
        # Pushing and pulling threads may differ.
        self._lock = threading.Lock()

    def push(self, port: int, batch: list[Packet]) -> None:
        thread = self._index_of.get(threading.current_thread(), 0)
        with self._lock:
            queue = self._queues[thread % len(self._queues)]
            room = max(self.capacity - len(queue), 0)
            queue.extend(batch[:room])
            self.drops += max(len(batch) - room, 0)

    def pull(self, port: int) -> Packet | None:
        queues = self._queues
        with self._lock:
            at = self._last
            for _ in range(len(queues)):
                queue = queues[at]
                at = at + 1 if at + 1 < len(queues) else 0
                if queue:
                    self._last = at
                    return queue.popleft()
        return None

    @read_handler("capacity")
    def _read_capacity(self) -> str:
        return str(self.capacity)

    @read_handler("drops")
    def _read_drops(self) -> str:
        return str(self.drops)
