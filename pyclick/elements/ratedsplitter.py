"""RatedSplitter and BandwidthRatedSplitter: up to a rate of packets out one
output, the rest out another."""

from __future__ import annotations

from typing import ClassVar

from pyclick.args import Args
from pyclick.element import PUSH, Element, read_handler, write_handler
from pyclick.elements.ratebucket import RateBucket
from pyclick.packet import Packet


class RatedSplitter(Element):
    """RatedSplitter(RATE, KEYWORDS) -- splits flow of packets at specified rate

    Description
    Sends up to RATE packets per second out output 0 and the others out
    output 1 (dropped when output 1 is not connected). Unlike Meter, RATE
    packets per second still go out output 0 when more arrive. It is
    implemented with a token bucket on the router's clock, full at the
    start (empty, and staying so, at RATE 0), holding 20 milliseconds
    worth of tokens (at least one, and at least a millisecond's worth)
    unless BURST_DURATION or BURST_SIZE says otherwise. The bucket counts
    as Click's does, in fixed point refilled once a millisecond.

    Ports
    one push input, one or two push outputs

    Keyword arguments
    RATE -- packets per second, 0 to 10^9; mandatory
    BURST_DURATION -- the bucket holds RATE times this many tokens, 0 to 1 hour; default 20ms
    BURST_SIZE -- the bucket holds this many tokens, 1 to 2^20 (not with BURST_DURATION)

    Element handlers
    rate (read/write) -- the RATE setting, read back as the bucket keeps it (tokens are added in whole fractions once a millisecond, so it may differ a little); a write sets the burst back to 20 milliseconds worth, as Click's
    config (read) -- the same as rate

    Example
    InfiniteSource(LIMIT 10, BURST 10) -> rs :: RatedSplitter(1, BURST_SIZE 4);
    rs[0] -> a :: Counter -> Discard;
    rs[1] -> b :: Counter -> Discard;
    """

    port_count = "1/1-2"
    processing = PUSH
    #: Whether RATE is a bandwidth (the bucket counts bytes).
    bandwidth: ClassVar[bool] = False

    can_live_reconfigure = True

    def configure(self, args: Args) -> None:
        self._rate = RateBucket(args, self.bandwidth)
        args.complete()

    def live_reconfigure(self, args: Args) -> None:
        # The new bucket starts full, as at initialize.
        super().live_reconfigure(args)
        self._rate.start(self.router.now())

    def initialize(self) -> None:
        self._rate.start(self.router.now())

    def push(self, port: int, batch: list[Packet]) -> None:
        allowed = self._allowed(batch)
        if allowed:
            self.output_push(0, batch[:allowed])
        if allowed < len(batch):
            self.output_push(1, batch[allowed:])

    def _allowed(self, batch: list[Packet]) -> int:
        """How many packets at the head of ``batch`` the bucket lets through
        now, their tokens taken (the bucket does not refill within a batch)."""
        rate = self._rate
        allowed = min(len(batch), rate.whole_tokens()) if rate.allows(self.router.now()) else 0
        rate.remove(allowed)
        return allowed

    @read_handler("rate")
    @read_handler("config")
    def _read_rate(self) -> str:
        return self._rate.unparse()

    @write_handler("rate")
    def _write_rate(self, value: str) -> None:
        self._rate.set_rate(value)


class BandwidthRatedSplitter(RatedSplitter):
    """BandwidthRatedSplitter(RATE, KEYWORDS) -- splits flow of packets at specified bandwidth rate

    Description
    Sends up to RATE bytes per second of packets out output 0 and the
    others out output 1 (dropped when output 1 is not connected). RATE is
    a bandwidth, such as 384kbps. Unlike BandwidthMeter, RATE still goes
    out output 0 when more arrives. Its token bucket counts bytes: a packet
    goes out output 0 when the bucket holds at least 131072 bytes worth of
    tokens, and its length is then taken from the bucket. The bucket holds
    131072 bytes more than the burst, which defaults to 20 milliseconds
    worth of bytes and can be set with BURST_DURATION or BURST_BYTES; it is
    full at the start.

    Ports
    one push input, one or two push outputs

    Keyword arguments
    RATE -- bytes per second, as a bandwidth (1Mbps, 20kBps, 131072B/s; a bare number is bytes per second), below 2^32; mandatory
    BURST_DURATION -- the burst is RATE times this many bytes, 0 to 1 hour; default 20ms
    BURST_BYTES -- the burst in bytes, below 2^32 (not with BURST_DURATION)

    Element handlers
    rate (read/write) -- the RATE setting as a bandwidth (8kbps), read back as the bucket keeps it, which may differ a little; a write sets the burst back to 20 milliseconds worth, as Click's
    config (read) -- the same as rate

    Example
    RatedSource(RATE 100, LIMIT 50) -> s :: BandwidthRatedSplitter(2000Bps);
    s[0] -> a :: Counter -> Discard;
    s[1] -> b :: Counter -> Discard;
    """

    bandwidth = True

    def _allowed(self, batch: list[Packet]) -> int:
        rate = self._rate
        allowed = 0
        now = self.router.now()
        for packet in batch:
            if not rate.allows(now):
                break
            rate.take(packet)
            allowed += 1
        return allowed
