"""Hub: every packet out of every output but the one matching its input."""

from __future__ import annotations

from pyclick.element import PUSH, Element
from pyclick.packet import Packet


class Hub(Element):
    """Hub() -- duplicates packets like a hub

    Description
    Hub has as many outputs as inputs. A packet arriving on input N leaves
    by every output except output N, lowest output first: the others get
    copies, the last one the packet itself. A packet that has no output to
    go to (a Hub with one port) is dropped. Hub thus behaves like an
    Ethernet hub, though it looks at no header.

    Ports
    any number of push inputs, as many push outputs

    Example
    a :: InfiniteSource(LIMIT 2) -> h :: Hub -> Discard;
    Idle -> [1] h [1] -> c :: Counter -> Discard;
    """

    port_count = "-/="
    processing = PUSH
    flow_code = "#/[^#]"

    def push(self, port: int, batch: list[Packet]) -> None:
        outs = [out for out in range(self.noutputs) if out != port]
        if not outs:
            return
        last = outs.pop()
        for out in outs:
            self.output_push(out, [p.clone() for p in batch])
        self.output_push(last, batch)
