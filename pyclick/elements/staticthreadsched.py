"""StaticThreadSched: which CPU's thread runs which element."""

from __future__ import annotations

from pyclick.args import ELEMENT, UNSIGNED, Args, split_words
from pyclick.element import Element


class StaticThreadSched(Element):
    """StaticThreadSched(ELEMENT THREAD, ...) -- pins elements to CPU threads

    Description
    Runs each ELEMENT's timers, tasks and handlers on the worker thread pinned
    to CPU THREAD. The router starts one thread per CPU named here (plus a
    default thread for the other elements), or uses thread i for CPU i when
    started with -j. A CPU the machine does not have is reported with a
    warning and the element runs on the last CPU instead. When an element is
    named twice, the last assignment counts.

    Example
    db :: DeviceBalancer(...);
    StaticThreadSched(db 17)    // the balancer runs on CPU 17
    """

    port_count = "0/0"

    def configure(self, args: Args) -> None:
        for pair in args.rest():
            words = split_words(pair)
            if len(words) != 2:
                args.error(f"expected 'ELEMENT THREAD', got '{pair}'")
                continue
            element = args.convert("ELEMENT", words[0], ELEMENT)
            cpu = args.convert("THREAD", words[1], UNSIGNED)
            if element is not None and cpu is not None:
                self.router.assign_thread(element, cpu, self.landmark)
        args.complete()

