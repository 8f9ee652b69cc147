"""CPUSwitch: packets sent out by the thread that handles them."""

from __future__ import annotations

import threading

from pyclick.element import PUSH, Element
from pyclick.packet import Packet


class CPUSwitch(Element):
    """CPUSwitch() -- classifies packets by thread

    Description
    Sends each packet out of the output numbered by the worker thread that
    pushes it, modulo the number of outputs: thread 0's packets leave by
    output 0, thread 1's by output 1, and so on. The threads are numbered
    as the home_thread handlers show them; StaticThreadSched and -j say
    which element runs where (without -j, the elements StaticThreadSched
    names run on threads numbered from 1, after the default thread 0, as b
    in the example). In simulated time, and on a thread that is no worker,
    every packet counts as thread 0's.

    Ports
    one push input, one or more push outputs

    Example
    a :: InfiniteSource(LIMIT 5) -> s :: CPUSwitch; b :: InfiniteSource(LIMIT 5) -> s;
    s[0] -> Discard; s[1] -> Discard;
    StaticThreadSched(b 0);
    """

    port_count = "1/1-"
    processing = PUSH

    def initialize(self) -> None:
        self._index_of = {worker.thread: worker.index for worker in self.router.worker_threads()}

    def push(self, port: int, batch: list[Packet]) -> None:
        thread = self._index_of.get(threading.current_thread(), 0)
        self.output_push(thread % self.noutputs, batch)
