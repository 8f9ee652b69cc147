"""AggregateLength and AggregatePaint (the aggregate annotation from the
length or the paint), AggregateFirst and AggregateLast (one packet per
aggregate), and the notifier protocol the last two listen to."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pyclick.args import BOOL, INT, Args
from pyclick.element import AGNOSTIC, PROCESSING_A_AH, PUSH, Element, write_handler
from pyclick.elements.argtypes import Role
from pyclick.packet import ANNOTATIONS, Packet
from pyclick.runtime.tasks import Task

_AGGREGATE = ANNOTATIONS["AGGREGATE"][0]
_EXTRA_PACKETS = ANNOTATIONS["EXTRA_PACKETS"][0]
_EXTRA_LENGTH = ANNOTATIONS["EXTRA_LENGTH"][0]

#: Events an aggregate notifier reports: an aggregate began, an aggregate ended.
NEW_AGG, DELETE_AGG = 0, 1


@runtime_checkable
class AggregateListener(Protocol):
    def aggregate_notify(self, aggregate: int, event: int, packet: Packet | None) -> None:
        """Hear that ``aggregate`` began (NEW_AGG) or ended (DELETE_AGG)."""


@runtime_checkable
class AggregateNotifier(Protocol):
    """An element that tells listeners when aggregates begin and end (Click's
    AggregateNotifier, as AggregateIPFlows is)."""

    def add_aggregate_listener(self, listener: AggregateListener) -> None:
        """Report every NEW_AGG and DELETE_AGG event to ``listener`` from now on."""


AGGREGATE_NOTIFIER = Role(AggregateNotifier, "an AggregateNotifier")


class AggregateLength(Element):
    """AggregateLength(KEYWORDS) -- sets aggregate annotation based on packet length

    Description
    Sets each packet's aggregate annotation to its length plus its extra
    length annotation (what a capture did not keep). With IP, the length
    counts from the network header; a packet without the network header
    annotation is dropped.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    IP -- count from the network header; default false

    Example
    FromDump(trace.pcap, STOP true) -> AggregateLength -> c :: AggregateCounter -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.ip = args.read("IP", BOOL, False)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet | None:
        start = 0
        if self.ip:
            nh = packet.network_header_offset
            if nh is None:
                return None
            start = nh
        packet.set_anno_u32(_AGGREGATE, len(packet) - start + packet.anno_u32(_EXTRA_LENGTH))
        return packet


class AggregatePaint(Element):
    """AggregatePaint(BITS, KEYWORDS) -- sets aggregate annotation based on paint annotation

    Description
    Sets each packet's aggregate annotation to the low BITS bits of its
    paint annotation (all 8 by default).

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    BITS -- how many low bits of the paint, 1 to 8; default 8
    INCREMENTAL -- shift the annotation left by BITS and add the paint bits; default false

    Example
    InfiniteSource(LIMIT 6) -> Paint(7) -> AggregatePaint(2) -> c :: AggregateCounter -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.bits = args.read_p("BITS", INT.range(1, 8), 8)
        self.incremental = args.read("INCREMENTAL", BOOL, False)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        value = packet.paint & ((1 << self.bits) - 1)
        if self.incremental:
            value += packet.anno_u32(_AGGREGATE) << self.bits
        packet.set_anno_u32(_AGGREGATE, value)
        return packet


class AggregateFirst(Element):
    """AggregateFirst(KEYWORDS) -- lets through first packet per aggregate annotation

    Description
    Passes the first packet of each aggregate annotation value by output 0;
    the later packets of that aggregate leave by output 1 when it is
    connected and are dropped otherwise. With NOTIFIER, an aggregate that
    the notifier reports ended is forgotten: its next packet passes again.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (later packets)

    Keyword arguments
    NOTIFIER -- an element that reports when aggregates end (an AggregateNotifier); default none

    Example
    FromDump(trace.pcap, STOP true) -> CheckIPHeader(14) -> AggregateIP(ip src)
        -> AggregateFirst -> ToDump(first.pcap);
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        self.notifier = args.read("NOTIFIER", AGGREGATE_NOTIFIER)
        args.complete()
        self._seen: set[int] = set()

    def initialize(self) -> None:
        if self.notifier is not None:
            self.notifier.add_aggregate_listener(self)

    def simple_action(self, packet: Packet) -> Packet | None:
        aggregate = packet.anno_u32(_AGGREGATE)
        if aggregate not in self._seen:
            self._seen.add(aggregate)
            return packet
        self.output_push(1, [packet])
        return None

    def aggregate_notify(self, aggregate: int, event: int, packet: Packet | None) -> None:
        if event == DELETE_AGG:
            self._seen.discard(aggregate)


class AggregateLast(Element):
    """AggregateLast(KEYWORDS) -- lets through last packet per aggregate annotation

    Description
    Keeps the latest packet of each aggregate annotation value; the packet
    it replaces leaves by output 1 when it is connected and is dropped
    otherwise. The kept packet sums up its aggregate: its extra packets
    annotation counts the packets before it, its extra length annotation
    adds their lengths, its first timestamp annotation is the timestamp of
    the aggregate's first packet. Kept packets leave by output 0 when the
    clear handler is written (in the order of their aggregates, at the
    next packet or task run) or, with NOTIFIER, when the notifier reports
    their aggregate ended.

    Ports
    one push input; push output 0, optional push output 1 (replaced packets)

    Keyword arguments
    NOTIFIER -- an element that reports when aggregates end (an AggregateNotifier); default none
    STOP_AFTER_CLEAR -- stop the router once a clear is done; default false

    Element handlers
    clear (write) -- sends every kept packet out of output 0

    Example
    FromDump(trace.pcap, STOP true) -> CheckIPHeader(14) -> AggregateIP(ip src)
        -> al :: AggregateLast(STOP_AFTER_CLEAR true) -> ToDump(last.pcap);
    DriverManager(pause, write al.clear, wait_stop);
    """

    port_count = "1/1-2"
    processing = PUSH

    def configure(self, args: Args) -> None:
        self.notifier = args.read("NOTIFIER", AGGREGATE_NOTIFIER)
        self.stop_after_clear = args.read("STOP_AFTER_CLEAR", BOOL, False)
        args.complete()
        self._kept: dict[int, Packet] = {}

    def initialize(self) -> None:
        self._clear_task = Task(self, self._clear)
        if self.notifier is not None:
            self.notifier.add_aggregate_listener(self)

    def push(self, port: int, batch: list[Packet]) -> None:
        if self._clear_task.scheduled:
            self._clear_task.unschedule()
            self._clear()
        kept, replaced = self._kept, []
        for packet in batch:
            aggregate = packet.anno_u32(_AGGREGATE)
            old = kept.get(aggregate)
            if old is None:
                packet.first_timestamp = packet.timestamp
            else:
                packet.set_anno_u32(_EXTRA_PACKETS, packet.anno_u32(_EXTRA_PACKETS) + 1
                                    + old.anno_u32(_EXTRA_PACKETS))
                packet.set_anno_u32(_EXTRA_LENGTH, packet.anno_u32(_EXTRA_LENGTH) + len(old)
                                    + old.anno_u32(_EXTRA_LENGTH))
                packet.first_timestamp = old.first_timestamp
                replaced.append(old)
            kept[aggregate] = packet
        if replaced:
            self.output_push(1, replaced)

    def _clear(self) -> bool:
        kept, self._kept = self._kept, {}
        if kept:
            self.output_push(0, [kept[aggregate] for aggregate in sorted(kept)])
        if self.stop_after_clear:
            self.router.please_stop_driver(f"{self.name}: cleared")
        return True

    @write_handler("clear")
    def _write_clear(self, value: str) -> None:
        self._clear_task.reschedule()

    def aggregate_notify(self, aggregate: int, event: int, packet: Packet | None) -> None:
        if event == DELETE_AGG and aggregate in self._kept:
            self.output_push(0, [self._kept.pop(aggregate)])
