"""AggregatePacketCounter: which packet numbers each aggregate had, per input."""

from __future__ import annotations

from pyclick.args import ELEMENT, UNSIGNED, WORD, Args, uncomment
from pyclick.element import Element, read_handler, write_handler
from pyclick.elements.clickargs import ANNO4
from pyclick.packet import ANNOTATIONS, Packet

_AGGREGATE = ANNOTATIONS["AGGREGATE"][0]
_AGGREGATE_NUMBER = UNSIGNED.range(0, 0xFFFFFFFF)


def _annotation(text: str, args: Args) -> int | None:
    """A 4-byte annotation, or NONE (None)."""
    return None if WORD(text, args) == "NONE" else ANNO4(text, args)


class AggregatePacketCounter(Element):
    """AggregatePacketCounter(KEYWORDS) -- counts packets per packet number and aggregate annotation

    Description
    Counts, for each aggregate annotation and each input, how many packets
    of each packet number went through: the packet number is a 4-byte
    annotation, PACKET_NUMBER by default. Packets arriving on input N leave
    by output N, unchanged; there are as many outputs as inputs. Packets
    whose aggregate annotation is 0 are not counted. With two inputs, one carrying what a sender sent and the
    other what a receiver got, the undelivered handler lists the packets
    that were lost. When packets went through but none had an aggregate
    annotation, a warning says so at the end.

    Ports
    one or more agnostic inputs, as many agnostic outputs

    Keyword arguments
    ANNO -- the packet number annotation: a name or offset of a 4-byte annotation, or NONE (every packet is number 0); default PACKET_NUMBER
    NOTIFIER -- an element; accepted and ignored, as in Click; default none

    Element handlers
    count (read) -- the packets counted
    received (read with parameter AGG) -- the packet numbers of aggregate AGG received on any input, one a line, in increasing order
    undelivered (read with parameter AGG) -- the packet numbers of aggregate AGG that came more often on input 0 than on input 1, one a line (only with two or more inputs)
    clear (write) -- forgets every count

    Example
    FromDump(sent.pcap, STOP true) -> CheckIPHeader(14) -> AggregateIP(ip dst)
        -> [0] c :: AggregatePacketCounter(ANNO NONE) [0] -> Discard;
    FromDump(received.pcap) -> CheckIPHeader(14) -> AggregateIP(ip dst) -> [1] c [1] -> Discard;
    DriverManager(wait_stop, print c.count);
    """

    port_count = "1-/="
    flow_code = "#/#"

    def configure(self, args: Args) -> None:
        args.read("NOTIFIER", ELEMENT)
        self.anno = args.read("ANNO", _annotation, ANNOTATIONS["PACKET_NUMBER"][0])
        args.complete()
        #: aggregate -> per input, packet number -> count.
        self._flows: dict[int, list[dict[int, int]]] = {}
        self._packets = 0
        self._flows_seen = 0

    def add_handlers(self) -> None:
        if self.ninputs >= 2:
            self.router.handlers.add_read(self, "undelivered", self._read_undelivered)

    def cleanup(self) -> None:
        if self._packets and not self._flows_seen:
            self.log.warning("%s: saw no packets with aggregate annotations",
                             self.declaration())

    def _flow(self, aggregate: int) -> list[dict[int, int]] | None:
        if not aggregate:
            return None
        flow = self._flows.get(aggregate)
        if flow is None:
            flow = self._flows[aggregate] = [{} for _ in range(self.ninputs)]
            self._flows_seen += 1
        return flow

    def _count(self, port: int, packet: Packet) -> None:
        self._packets += 1
        flow = self._flow(packet.anno_u32(_AGGREGATE))
        if flow is not None:
            number = 0 if self.anno is None else packet.anno_u32(self.anno)
            column = flow[port]
            column[number] = column.get(number, 0) + 1

    def push(self, port: int, batch: list[Packet]) -> None:
        for packet in batch:
            self._count(port, packet)
        self.output_push(port, batch)

    def pull(self, port: int) -> Packet | None:
        packet = self.input_pull(port)
        if packet is not None:
            self._count(port, packet)
        return packet

    @read_handler("count")
    def _read_count(self) -> str:
        return str(sum(sum(column.values()) for flow in self._flows.values() for column in flow))

    @write_handler("clear")
    def _write_clear(self, value: str) -> None:
        self._flows.clear()

    def _flow_of(self, params: str) -> list[dict[int, int]] | None:
        text = uncomment(params).strip()
        try:
            aggregate = _AGGREGATE_NUMBER(text, None) if text else 0
        except ValueError:
            raise ValueError("argument should be aggregate number") from None
        return self._flow(aggregate)

    @read_handler("received")
    def _read_received(self, params: str) -> str:
        flow = self._flow_of(params)
        numbers = sorted({n for column in flow or () for n, count in column.items() if count})
        return "".join(f"{n}\n" for n in numbers)

    def _read_undelivered(self, params: str) -> str:
        flow = self._flow_of(params)
        if flow is None:
            return ""
        sent, got = flow[0], flow[1]
        return "".join(f"{n}\n" for n in sorted(sent) if sent[n] > got.get(n, 0))
