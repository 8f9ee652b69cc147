"""StrideSwitch: packets to the outputs by stride scheduling, as StrideSched pulls."""

from __future__ import annotations

from pyclick.element import PUSH
from pyclick.elements.pullschedulers import StrideSched
from pyclick.packet import Packet


class StrideSwitch(StrideSched):
    """StrideSwitch(TICKETS0, ..., TICKETSN-1) -- sends packets to stride-scheduled outputs

    Description
    Stride scheduling over packets, as StrideSched's, but on pushes: output
    i holds TICKETSi tickets and receives packets in proportion to them.
    Each output has a stride, 65536 divided by its tickets, and a pass,
    which starts at its stride; each packet goes out of the output with
    the lowest pass (the lower port among equal passes), whose pass then
    grows by its stride. Outputs with 0 tickets get no packets; when every
    output has 0 tickets, packets are dropped. One argument per output;
    more than 32768 tickets are cut down to 32768, with a warning.

    Ports
    one push input, one or more push outputs

    Keyword arguments
    TICKETSi -- the tickets of output i, at least 0; one per output, mandatory

    Element handlers
    ticketsi (read/write) -- the tickets of output i (a write of 0 takes it out of the schedule)
    config (read) -- the tickets of every output, separated by commas

    Example
    InfiniteSource(LIMIT 40) -> s :: StrideSwitch(3, 1);
    s[0] -> a :: Counter -> Discard;
    s[1] -> b :: Counter -> Discard;
    """

    port_count = "1/1-"
    processing = PUSH
    ticket_ports = "output"

    def push(self, port: int, batch: list[Packet]) -> None:
        schedule = self._schedule
        if not schedule:
            return
        by_output: dict[int, list[Packet]] = {}
        for packet in batch:
            client = schedule.pop(0)
            client.pass_ += client.stride
            self._insert(client)
            by_output.setdefault(client.port, []).append(packet)
        for out, packets in by_output.items():
            self.output_push(out, packets)
