"""Bypass: a path switched in and out of a configuration at run time."""

from __future__ import annotations

from pyclick.args import BOOL, Args
from pyclick.element import AGNOSTIC
from pyclick.elements.switchable import Activatable
from pyclick.packet import Packet


class Bypass(Activatable):
    """Bypass(ACTIVE, KEYWORDS) -- sends packet stream through optional bypass

    Description
    Switches a side path in and out of a configuration. While inactive,
    Bypass passes packets from input 0 to output 0, as Null does. While
    active, a push Bypass sends the packets of input 0 out output 1, and a
    pull Bypass answers pulls on output 0 by pulling input 1. Write the
    active handler to switch.

    A second port joins the side path back to the main one: packets pushed
    to input 1 leave by output 0, and pulls on output 1 pull input 0. So
    ``b[1] -> Print -> [1]b`` puts Print on the path while b is active, in
    push and in pull alike. An active Bypass without the second port of
    its side passes packets as an inactive one does.

    Click rewires the neighbours of a Bypass so that it costs nothing while
    inactive; here Bypass stays on the path and forwards packets itself,
    which gives the same result.

    Ports
    one or two agnostic inputs, one or two agnostic outputs

    Keyword arguments
    ACTIVE -- whether the side path is used; default false
    INLINE -- stay on the path instead of rewiring (Bypass always does here); default false

    Element handlers
    active (read/write) -- the ACTIVE setting

    Example
    InfiniteSource(LIMIT 3) -> b :: Bypass(true) -> c :: Counter -> Discard;
    b[1] -> Print(side) -> [1]b;
    """

    port_count = "1-2/1-2"
    processing = AGNOSTIC
    flow_code = "xy/[xy]x"

    def configure(self, args: Args) -> None:
        self.active = args.read_p("ACTIVE", BOOL, False)
        args.read("INLINE", BOOL, False)
        args.complete()

    def push(self, port: int, batch: list[Packet]) -> None:
        self.output_push(int(self.active and port == 0 and self.noutputs > 1), batch)

    def _source(self, port: int) -> int:
        return int(self.active and port == 0 and self.ninputs > 1)

    def pull(self, port: int) -> Packet | None:
        return self.input_pull(self._source(port))

    def pull_batch(self, port: int, max_packets: int) -> list[Packet]:
        return self.input_pull_batch(self._source(port), max_packets)
