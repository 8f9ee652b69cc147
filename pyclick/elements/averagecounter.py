"""AverageCounter: packet count and average rate since the first packet."""

from __future__ import annotations

from pyclick.args import FLOAT, Args
from pyclick.element import read_handler, write_handler
from pyclick.elements.counter import Counting
from pyclick.elements.rateewma import EPOCHS_PER_SECOND, jiffies
from pyclick.packet import Packet


class AverageCounter(Counting):
    """AverageCounter(IGNORE) -- measures historical packet count and rate

    Description
    Passes packets unchanged from its input to its output, push or pull,
    counting packets and bytes. Its rates are strict averages: the count
    divided by the time between the first and the most recent packet, both
    taken in whole milliseconds of the router's clock as Click takes them
    (a span under a millisecond counts as one). Packets in the first
    IGNORE seconds after the first one are not counted, and that time is
    left out of the rates.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    IGNORE -- seconds at the start left out of the count, 0 to 86400; default 0

    Element handlers
    count (read) -- packets counted since the last reset
    byte_count (read) -- bytes counted since the last reset
    rate (read) -- packets per second, averaged from the first packet to the last
    byte_rate (read) -- bytes per second, likewise
    reset (write) -- sets the counts and rates back to zero

    Example
    RatedSource(RATE 100, LIMIT 101, STOP true) -> a :: AverageCounter -> Discard;
    """

    def configure(self, args: Args) -> None:
        self.ignore = args.read_p("IGNORE", FLOAT.range(0, 86400), 0.0)
        args.complete()
        self._ignore_epochs = round(self.ignore * EPOCHS_PER_SECOND)
        self._reset()

    def _reset(self) -> None:
        self.count = 0
        self.byte_count = 0
        self._first: int | None = None
        self._last = 0

    def simple_action_batch(self, batch: list[Packet]) -> list[Packet]:
        now = jiffies(self.router.now())
        if self._first is None:
            self._first = now
        if now - self._first >= self._ignore_epochs:
            self.count += len(batch)
            self.byte_count += sum(map(len, batch))
        self._last = now
        return batch

    def simple_action(self, packet: Packet) -> Packet:
        return self.simple_action_batch([packet])[0]

    def _rate(self, total: int) -> str:
        first = self._last if self._first is None else self._first
        span = max(self._last - first - self._ignore_epochs, 1)
        return f"{total * EPOCHS_PER_SECOND / span:.12g}"

    @read_handler("rate")
    def _read_rate(self) -> str:
        return self._rate(self.count)

    @read_handler("byte_rate")
    def _read_byte_rate(self) -> str:
        return self._rate(self.byte_count)

    @write_handler("reset")
    def _write_reset(self, value: str) -> None:
        self._reset()
