"""AggregateIPAddrPair: an aggregate number per pair of IP addresses; and what
it shares with AggregateIPFlows (telling listeners of aggregates, packet
seconds, timeouts in whole seconds)."""

from __future__ import annotations

import math
import sys
from typing import Any, Callable, Iterator

from pyclick.args import TIME, Args
from pyclick.element import PROCESSING_A_AH, Element, write_handler
from pyclick.elements.aggregatemisc import DELETE_AGG, NEW_AGG, AggregateListener
from pyclick.elements.ipsumfields import split_time
from pyclick.packet import ANNOTATIONS, Packet

_AGGREGATE = ANNOTATIONS["AGGREGATE"][0]
_U32 = 0xFFFFFFFF
_TIME = TIME.range(0, _U32)
#: The time Click's clear handler pretends it is: every flow is older than it.
CLEAR_SECOND = 0x7FFFFFFF


def WHOLE_SECONDS(text: str, args: Args) -> int:
    """A duration rounded to whole seconds, as Click's SecondsArg reads one."""
    return math.floor(_TIME(text, args) + 0.5)


def older(sec1: int, sec2: int) -> bool:
    """Whether second ``sec1`` comes before ``sec2``, compared on a 32-bit circle."""
    return (sec1 - sec2) & _U32 >= 0x80000000


def host_pair(src: bytes, dst: bytes) -> tuple[tuple[int, int], bool]:
    """Click's key of the pair of addresses ``src`` and ``dst`` (the addresses as
    the host reads them, the smaller first) and whether ``src`` is not first."""
    a, b = int.from_bytes(src, sys.byteorder), int.from_bytes(dst, sys.byteorder)
    return ((b, a), True) if a > b else ((a, b), False)


class HostPairTable:
    """Host pair -> value, kept in the buckets of Click's HashTable so that
    going through the pairs (to reap them) takes Click's order."""

    def __init__(self) -> None:
        #: Each bucket's entries [key, value], the first inserted last.
        self._buckets: list[list[list[Any]]] = [[] for _ in range(63)]
        self._size = 0

    def _bucket(self, key: tuple[int, int]) -> list[list[Any]]:
        a, b = key
        code = ((a << 12) + b + ((a >> 20) & 0x1F)) & _U32
        return self._buckets[code % len(self._buckets)]

    def get(self, key: tuple[int, int], make: Callable[[], Any]) -> Any:
        """The value of ``key``, a new ``make()`` when it has none."""
        for entry in self._bucket(key):
            if entry[0] == key:
                return entry[1]
        self._size += 1
        if self._size > 2 * len(self._buckets):
            self._rehash()
        value = make()
        self._bucket(key).insert(0, [key, value])
        return value

    def _rehash(self) -> None:
        old, size = self._buckets, len(self._buckets) + 1
        count = 1
        while count < size:
            count = count * 2 + 1
        self._buckets = [[] for _ in range(count)]
        for bucket in old:
            for entry in bucket:
                self._bucket(entry[0]).insert(0, entry)

    def erase(self, key: tuple[int, int]) -> None:
        bucket = self._bucket(key)
        bucket[:] = [entry for entry in bucket if entry[0] != key]
        self._size -= 1

    def items(self) -> Iterator[tuple[tuple[int, int], Any]]:
        for bucket in self._buckets:
            for key, value in list(bucket):
                yield key, value


class AggregateNotifying(Element):
    """An element that tells AggregateListeners (AggregateFirst and
    AggregateLast with NOTIFIER) when its aggregates begin and end, reads
    packet times in whole seconds, and forgets its aggregates once their
    time is over (``_reap``, at second ``_active_sec`` when that is past
    ``_reap_sec``) or when its clear handler is written."""

    registered = False
    _active_sec: int
    _reap_sec: int

    def _reap(self) -> None:
        """Forget the aggregates that timed out by second ``_active_sec``."""
        raise NotImplementedError

    def configure(self, args: Args) -> None:
        self._listeners: list[AggregateListener] = []
        self._timestamp_warned = False

    def add_aggregate_listener(self, listener: AggregateListener) -> None:
        self._listeners.append(listener)

    def notify(self, aggregate: int, event: int, packet: Packet | None) -> None:
        for listener in self._listeners:
            listener.aggregate_notify(aggregate, event, packet)

    @write_handler("clear")
    def _write_clear(self, value: str) -> None:
        active, reap = self._active_sec, self._reap_sec
        self._active_sec = self._reap_sec = CLEAR_SECOND
        self._reap()
        self._active_sec, self._reap_sec = active, reap

    def packet_second(self, packet: Packet) -> int:
        """The second of ``packet``'s timestamp; a packet without one is stamped now."""
        if not packet.timestamp:
            if not self._timestamp_warned:
                self.log.warning("%s: packet received without timestamp", self.declaration())
                self._timestamp_warned = True
            packet.timestamp = self.router.now()
        return self.second(packet.timestamp)

    def second(self, timestamp: float) -> int:
        """The whole second of ``timestamp``, as Click reads a packet's."""
        return split_time(timestamp, self.router.to_epoch)[0]


class _Pair:
    """One address pair's aggregate: its number, the second of its last
    packet and whether its first packet went from the higher address."""

    __slots__ = ("aggregate", "last_sec", "reverse")

    def __init__(self) -> None:
        self.aggregate, self.last_sec, self.reverse = 0, 0, False


class AggregateIPAddrPair(AggregateNotifying):
    """AggregateIPAddrPair(KEYWORDS) -- sets aggregate annotation based on IP source/destination address pair

    Description
    Gives each packet the aggregate number of its pair of IP addresses: the
    packets from A to B and those from B to A get the same number. The
    numbers are given in order from 1 as new pairs appear (0 is skipped
    when they wrap). The paint annotation tells the direction: 0 for the
    direction the pair's first packet went, 1 for its replies. The network
    header annotation must be set (CheckIPHeader, MarkIPHeader); a packet
    without it leaves by output 1 when it is connected and is dropped
    otherwise.

    With TIMEOUT, a pair whose last packet is more than TIMEOUT seconds
    older than a new packet of it (in whole seconds of the packets'
    timestamps) gets a new number, its first packet paint 0 again. A packet
    without timestamp is stamped with the current time, with a warning the
    first time. Every REAP seconds of packet time, pairs that timed out are
    forgotten. AggregateIPAddrPair tells elements listening to it
    (AggregateFirst, AggregateLast with NOTIFIER) when a pair's number
    begins and ends.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (packets without network header)

    Keyword arguments
    TIMEOUT -- a pair's time without packets before it ends, in seconds; default 0 (never)
    REAP -- how often ended pairs are forgotten, in seconds of packet time; default 20 minutes

    Element handlers
    clear (write) -- forgets every pair: later packets get new numbers

    Example
    FromDump(trace.pcap, STOP true) -> CheckIPHeader(14) -> AggregateIPAddrPair(TIMEOUT 60)
        -> c :: AggregateCounter -> Discard;
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        super().configure(args)
        self.timeout = args.read("TIMEOUT", WHOLE_SECONDS, 0)
        self.reap_interval = args.read("REAP", WHOLE_SECONDS, 20 * 60)
        args.complete()

    def initialize(self) -> None:
        self._pairs = HostPairTable()
        self._next = 1
        self._active_sec = self._reap_sec = 0

    def simple_action(self, packet: Packet) -> Packet | None:
        nh = packet.network_header_offset
        if nh is None:
            self.output_push(1, [packet])
            return None
        start = packet.data_offset + nh
        addrs = packet.buffer[start + 12:start + 20]
        key, flipped = host_pair(addrs[:4], addrs[4:])
        pair = self._pairs.get(key, _Pair)
        sec = self.packet_second(packet) if self.timeout else 0
        if pair.aggregate and self.timeout and older(pair.last_sec, sec - self.timeout):
            self.notify(pair.aggregate, DELETE_AGG, None)
            pair.aggregate = 0
        if not pair.aggregate:
            pair.aggregate, pair.reverse = self._next, flipped
            self._next = (self._next + 1) & _U32 or 1
            self.notify(pair.aggregate, NEW_AGG, packet)
        if self.timeout:
            pair.last_sec = self._active_sec = sec
            if sec > self._reap_sec:
                self._reap()
        packet.set_anno_u32(_AGGREGATE, pair.aggregate)
        packet.paint = pair.reverse ^ flipped
        return packet

    def _reap(self) -> None:
        if self._reap_sec:
            limit = self._active_sec - self.timeout
            ended = []
            for key, pair in self._pairs.items():
                if older(pair.last_sec, limit):
                    self.notify(pair.aggregate, DELETE_AGG, None)
                    ended.append(key)
            for key in ended:
                self._pairs.erase(key)
        self._reap_sec = self._active_sec + self.reap_interval
