"""RateBucket: the rate settings of RatedUnqueue, RatedSplitter and their
bandwidth variants, read as Click reads them, with their token bucket."""

from __future__ import annotations

from pyclick.args import TIME, UNSIGNED, Args, Number
from pyclick.elements.clickargs import BANDWIDTH, unparse_bandwidth
from pyclick.elements.handlercall import parse_value
from pyclick.elements.tokenbucket import TokenBucket
from pyclick.packet import Packet

_U32 = 0xFFFFFFFF
#: Default BURST_DURATION, in milliseconds (Click reads it to the millisecond).
DEFAULT_BURST_MSEC = 20
#: The bandwidth variants let a packet through while their bucket holds this
#: many bytes, whatever the packet's length; their bucket is this much larger.
BANDWIDTH_THRESHOLD = 131072

PACKET_RATE = UNSIGNED.range(0, 10**9)
BANDWIDTH_RATE = BANDWIDTH.range(0, _U32)
BURST_DURATION = TIME.range(0, 3600)
BURST_SIZE = UNSIGNED.range(1, 2**20)
BURST_BYTES = UNSIGNED.range(0, _U32)


class RateBucket(TokenBucket):
    """RATE, BURST_DURATION and BURST_SIZE (BURST_BYTES when ``bandwidth``), read
    as Click's rated elements read them, and their token bucket, which
    counts packets, or bytes when ``bandwidth``."""

    def __init__(self, args: Args, bandwidth: bool) -> None:
        self.bandwidth = bandwidth
        rate = self._rate_of(args.read_mp("RATE", self._rate_type()))
        duration = args.read("BURST_DURATION", BURST_DURATION)
        size_key = "BURST_BYTES" if bandwidth else "BURST_SIZE"
        self._size: int | None = args.read(size_key, BURST_BYTES if bandwidth else BURST_SIZE)
        if duration is not None and self._size is not None:
            args.error(f"cannot specify both BURST_DURATION and {size_key}")
        # Rounded half up to the millisecond, as Click reads it.
        self._msec = DEFAULT_BURST_MSEC if duration is None else int(duration * 1000 + 0.5)
        super().__init__(rate, self._capacity(rate), BANDWIDTH_THRESHOLD if bandwidth else 1)

    def _rate_type(self) -> Number:
        return BANDWIDTH_RATE if self.bandwidth else PACKET_RATE

    @staticmethod
    def _rate_of(value: float) -> int:
        # Whole bytes per second, rounded half up as Click reads a bandwidth.
        return int(value + 0.5)

    def _capacity(self, rate: int) -> int:
        if self._size is not None:
            tokens = self._size
        else:
            tokens = min(rate * self._msec // 1000, _U32)
        if self.bandwidth:
            tokens = min(tokens + BANDWIDTH_THRESHOLD, _U32)
        return tokens

    def take(self, packet: Packet) -> None:
        """Removes what ``packet`` costs: one token, or its length in bytes."""
        self.remove(len(packet) if self.bandwidth else 1)

    def unparse(self) -> str:
        rate = self.stored_rate()
        return unparse_bandwidth(rate) if self.bandwidth else str(rate)

    def set_rate(self, value: str) -> None:
        """A new RATE (a handler's text), the bucket keeping how full it is.

        The burst goes back to its default, 20 milliseconds worth: Click
        reconfigures the element from its ``config``, which holds only RATE.
        """
        rate = self._rate_of(parse_value(self._rate_type(), value))
        self._size = None
        self._msec = DEFAULT_BURST_MSEC
        self.assign(rate, self._capacity(rate))
