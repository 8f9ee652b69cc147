"""RateBucket: the rate settings of Click's rated elements (RatedUnqueue,
RatedSplitter and their bandwidth variants) and the fixed-point token bucket
they share."""

from __future__ import annotations

import math

from pyclick.args import TIME, UNSIGNED, Args, Number
from pyclick.elements.clickargs import BANDWIDTH, unparse_bandwidth
from pyclick.elements.handlercall import parse_value
from pyclick.packet import Packet

_U32 = 0xFFFFFFFF
#: Default BURST_DURATION, in milliseconds (Click reads it to the millisecond).
DEFAULT_BURST_MSEC = 20
#: Click's buckets refill once a millisecond: they hold at least a millisecond's tokens.
TICKS_PER_SECOND = 1000
#: The bandwidth variants let a packet through while their bucket holds this
#: many bytes, whatever the packet's length; their bucket is this much larger.
BANDWIDTH_THRESHOLD = 131072

PACKET_RATE = UNSIGNED.range(0, 10**9)
BANDWIDTH_RATE = BANDWIDTH.range(0, _U32)
BURST_DURATION = TIME.range(0, 3600)
BURST_SIZE = UNSIGNED.range(1, 2**20)
BURST_BYTES = UNSIGNED.range(0, _U32)


class RateBucket:
    """RATE, BURST_DURATION and BURST_SIZE (BURST_BYTES when ``bandwidth``), read
    as Click's rated elements read them, and their token bucket.

    The bucket counts packets, or bytes when ``bandwidth``; ``threshold`` is
    what it must hold for a packet to go through. It keeps Click's
    arithmetic, so that runs in simulated time go as Click's: the content is
    a 32-bit fraction of the full bucket (a token is ``2^32-1 // capacity``
    of it, so a full bucket holds a little more than the capacity), and it
    refills once a millisecond by a whole number of fractions.
    """

    def __init__(self, args: Args, bandwidth: bool) -> None:
        self.bandwidth = bandwidth
        self.rate = self._rate_of(args.read_mp("RATE", self._rate_type()))
        duration = args.read("BURST_DURATION", BURST_DURATION)
        size_key = "BURST_BYTES" if bandwidth else "BURST_SIZE"
        self._size: int | None = args.read(size_key, BURST_BYTES if bandwidth else BURST_SIZE)
        if duration is not None and self._size is not None:
            args.error(f"cannot specify both BURST_DURATION and {size_key}")
        # Rounded half up to the millisecond, as Click reads it.
        self._msec = DEFAULT_BURST_MSEC if duration is None else int(duration * 1000 + 0.5)
        self.threshold = BANDWIDTH_THRESHOLD if bandwidth else 1
        self._assign()
        self._fraction = 0
        self._tick = 0

    def _rate_type(self) -> Number:
        return BANDWIDTH_RATE if self.bandwidth else PACKET_RATE

    def _rate_of(self, value: float) -> int:
        # Whole bytes per second, rounded half up as Click reads a bandwidth.
        return int(value + 0.5)

    def capacity(self) -> int:
        if self._size is not None:
            tokens = self._size
        else:
            tokens = min(self.rate * self._msec // 1000, _U32)
        if self.bandwidth:
            tokens = min(tokens + BANDWIDTH_THRESHOLD, _U32)
        return max(tokens, 1, -(-self.rate // TICKS_PER_SECOND))

    def _assign(self) -> None:
        """The fixed point of the current rate and capacity; the content, as a
        fraction of the full bucket, stays."""
        self._scale = _U32 // self.capacity()
        per_tick = self.rate * self._scale // TICKS_PER_SECOND
        # At rate 0 the bucket never refills; any other rate adds something each tick.
        self._per_tick = max(per_tick, 1) if self.rate else 0
        self._full_after = (_U32 - 1) // self._per_tick + 1 if self._per_tick else None

    @staticmethod
    def _tick_of(now: float) -> int:
        # A microsecond's slack: a float time that should fall on a tick may
        # come out a hair before it.
        return math.floor(now * TICKS_PER_SECOND + 1e-3)

    def start(self, now: float) -> None:
        """A full bucket (empty at rate 0) from router time ``now`` on."""
        self._fraction = _U32 if self._per_tick else 0
        self._tick = self._tick_of(now)

    def _refill(self, now: float) -> None:
        tick = self._tick_of(now)
        ticks = tick - self._tick
        if self._full_after is not None and ticks >= self._full_after:
            self._fraction = _U32
        elif ticks > 0:
            self._fraction = min(self._fraction + ticks * self._per_tick, _U32)
        self._tick = max(tick, self._tick)

    def allows(self, now: float) -> bool:
        """Refills the bucket to ``now``: whether it holds enough for a packet."""
        self._refill(now)
        return self.threshold * self._scale <= self._fraction

    def whole_tokens(self) -> int:
        return self._fraction // self._scale

    def when_allowed(self, now: float) -> float | None:
        """The router time at which the bucket, refilled at ``now``, will let a
        packet through: the start of a tick; None at rate 0."""
        wanted = self.threshold * self._scale
        if wanted > _U32 or not self._per_tick:
            return None
        ticks = (wanted - self._fraction - 1) // self._per_tick + 1
        return max(now, (self._tick + ticks) / TICKS_PER_SECOND)

    def remove(self, tokens: int) -> None:
        self._fraction = max(self._fraction - min(tokens * self._scale, _U32), 0)

    def take(self, packet: Packet) -> None:
        """Removes what ``packet`` costs: one token, or its length in bytes."""
        self.remove(len(packet) if self.bandwidth else 1)

    def stored_rate(self) -> int:
        """The rate as the bucket keeps it, per second: the fractions added per
        tick make it differ a little from RATE (2000 B/s in a bucket of 131112
        bytes reads 2001)."""
        per_tick = self._per_tick
        return min((per_tick * TICKS_PER_SECOND + per_tick // 2) // self._scale, _U32)

    def unparse(self) -> str:
        rate = self.stored_rate()
        return unparse_bandwidth(rate) if self.bandwidth else str(rate)

    def set_rate(self, value: str) -> None:
        """A new RATE (a handler's text), the bucket keeping how full it is.

        The burst goes back to its default, 20 milliseconds worth: Click
        reconfigures the element from its ``config``, which holds only RATE.
        """
        self.rate = self._rate_of(parse_value(self._rate_type(), value))
        self._size = None
        self._msec = DEFAULT_BURST_MSEC
        self._assign()
