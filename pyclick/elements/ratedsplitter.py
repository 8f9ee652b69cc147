"""RatedSplitter: up to a rate of packets out one output, the rest out another."""

from __future__ import annotations

from pyclick.args import TIME, UNSIGNED, Args
from pyclick.element import PUSH, Element, read_handler, write_handler
from pyclick.elements.handlercall import parse_value
from pyclick.elements.tokenbucket import TokenBucket
from pyclick.packet import Packet

#: Default BURST_DURATION: the bucket holds this long's worth of tokens.
DEFAULT_BURST_DURATION = 0.020
RATE = UNSIGNED.range(0, 10**9)


class RatedSplitter(Element):
    """RatedSplitter(RATE, KEYWORDS) -- splits flow of packets at specified rate

    Description
    Sends up to RATE packets per second out output 0 and the others out
    output 1 (dropped when output 1 is not connected). Unlike Meter, RATE
    packets per second still go out output 0 when more arrive. It is
    implemented with a token bucket on the router's clock, full at the
    start, holding 20 milliseconds worth of tokens (at least one) unless
    BURST_DURATION or BURST_SIZE says otherwise.

    Ports
    one push input, one or two push outputs

    Keyword arguments
    RATE -- packets per second, 0 to 10^9; mandatory
    BURST_DURATION -- the bucket holds RATE times this many tokens, 0 to 1 hour; default 20ms
    BURST_SIZE -- the bucket holds this many tokens, 1 to 2^20 (not with BURST_DURATION)

    Element handlers
    rate (read/write) -- the RATE setting
    config (read) -- the same as rate

    Example
    InfiniteSource(LIMIT 10, BURST 10) -> rs :: RatedSplitter(1, BURST_SIZE 4);
    rs[0] -> a :: Counter -> Discard;
    rs[1] -> b :: Counter -> Discard;
    """

    port_count = "1/1-2"
    processing = PUSH

    def configure(self, args: Args) -> None:
        self.rate = args.read_mp("RATE", RATE)
        duration = args.read("BURST_DURATION", TIME.range(0, 3600))
        self._size = args.read("BURST_SIZE", UNSIGNED.range(1, 2**20))
        if duration is not None and self._size is not None:
            args.error("cannot specify both BURST_DURATION and BURST_SIZE")
        args.complete()
        self._duration = DEFAULT_BURST_DURATION if duration is None else duration
        self._bucket = TokenBucket(self.rate, self._capacity(self.rate))

    def _capacity(self, rate: int) -> int:
        tokens = self._size if self._size is not None else int(rate * self._duration)
        return max(tokens, 1)

    def initialize(self) -> None:
        self._bucket = TokenBucket(self.rate, self._capacity(self.rate), now=self.router.now())

    def push(self, port: int, batch: list[Packet]) -> None:
        bucket = self._bucket
        bucket.refill(self.router.now())
        allowed = min(len(batch), int(bucket.tokens + 1e-9))
        bucket.remove(allowed)
        if allowed:
            self.output_push(0, batch[:allowed])
        if allowed < len(batch):
            self.output_push(1, batch[allowed:])

    @read_handler("rate")
    @read_handler("config")
    def _read_rate(self) -> str:
        return str(self.rate)

    @write_handler("rate")
    def _write_rate(self, value: str) -> None:
        self.rate = parse_value(RATE, value)
        self._bucket.assign(self.rate, self._capacity(self.rate))
