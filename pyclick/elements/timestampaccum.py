"""TimestampAccum: the total and average age of packets, by their timestamps."""

from __future__ import annotations

from pyclick.args import Args
from pyclick.element import AGNOSTIC, Element, read_handler, write_handler
from pyclick.packet import Packet


class TimestampAccum(Element):
    """TimestampAccum() -- collects differences in timestamps

    Description
    Measures, for each packet passing through, the time since its
    timestamp annotation (the router's clock minus the timestamp; for a
    packet without a timestamp, the date), and keeps the number of packets
    and the sum of those times. Packets pass unchanged.

    Ports
    one agnostic input, one agnostic output

    Element handlers
    count (read) -- packets measured
    time (read) -- the sum of their times, in seconds (12 significant digits)
    average_time (read) -- time divided by count, in seconds (-nan before any packet)
    reset_counts (write) -- sets count and time back to 0

    Example
    InfiniteSource(LIMIT 5) -> SetTimestamp -> Queue -> RatedUnqueue(10)
        -> t :: TimestampAccum -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        args.complete()
        self._reset()

    def _reset(self) -> None:
        self.count = 0
        self.time = 0.0

    def simple_action(self, packet: Packet) -> Packet:
        now = self.router.now()
        stamp = packet.timestamp
        # An unset timestamp is the epoch: the age is the date.
        self.time += now - stamp if stamp else self.router.to_epoch(now)
        self.count += 1
        return packet

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)

    @read_handler("time")
    def _read_time(self) -> str:
        return f"{self.time:.12g}"

    @read_handler("average_time")
    def _read_average(self) -> str:
        # Click divides 0 by 0, which prints as -nan.
        return f"{self.time / self.count:.12g}" if self.count else "-nan"

    @write_handler("reset_counts")
    def _write_reset(self, value: str) -> None:
        self._reset()
