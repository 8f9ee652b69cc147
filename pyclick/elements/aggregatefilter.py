"""AggregateFilter: packets sent by their aggregate annotation."""

from __future__ import annotations

from bisect import bisect_right

from pyclick.args import INT, UNSIGNED, Args, split_words
from pyclick.element import PUSH, Element
from pyclick.packet import ANNOTATIONS, Packet

_AGGREGATE = ANNOTATIONS["AGGREGATE"][0]
_AGGREGATE_NUMBER = UNSIGNED.range(0, 2**32 - 1)
_PORT = INT.range(0, 2**31 - 1)


def _number(text: str, args: Args) -> int | None:
    try:
        return _AGGREGATE_NUMBER(text, args)
    except ValueError:
        return None


class AggregateFilter(Element):
    """AggregateFilter(ACTION_1 AGGREGATES, ..., ACTION_N AGGREGATES) -- filters packets based on aggregate annotation

    Description
    Sends each packet by the first filter that lists its aggregate
    annotation. A filter is an ACTION, then the AGGREGATES it applies to.
    The ACTION is an output number, 'allow' (output 0), or 'drop' or
    'deny' (the packet is dropped). The AGGREGATES are numbers and ranges
    FIRST-LAST, separated by spaces; 'all' or '-' alone stands for every
    aggregate. A packet no filter lists is dropped, as is a packet sent to
    an output that does not exist.

    Filters that can match nothing (after an 'all') and aggregates listed
    before for another action are reported with a warning.

    Ports
    one push input, 1 to 254 push outputs

    Example
    FromDump(trace.pcap, STOP true) -> CheckIPHeader(14) -> AggregateIP(ip proto)
        -> f :: AggregateFilter(allow 6, 1 17, drop all);
    f[0] -> tcp :: Counter -> Discard;
    f[1] -> udp :: Counter -> Discard;
    """

    port_count = "1/1-254"
    processing = PUSH

    def configure(self, args: Args) -> None:
        #: Disjoint (first, last, output) ranges, sorted.
        self._ranges: list[tuple[int, int, int]] = []
        self.default = self.noutputs + 1
        for number, pattern in enumerate(args.accept_rest()):
            words = split_words(pattern)
            if not words:
                args.error(f"empty pattern {number}")
                continue
            if self.default <= self.noutputs:
                self._warn("pattern %d matches no packets", number)
                continue
            port = self._action(words[0], args)
            if port is None:
                args.error(f"pattern {number}: expected a port number")
            elif len(words) == 1:
                args.error(f"pattern {number} has no aggregates")
            elif len(words) == 2 and words[1] in ("all", "-"):
                self.default = port
            else:
                for word in words[1:]:
                    self._add_word(word, port, number, args)
        args.complete()
        self._firsts = [first for first, _, _ in self._ranges]

    def _action(self, word: str, args: Args) -> int | None:
        if word == "allow":
            return 0
        if word in ("drop", "deny"):
            return self.noutputs
        try:
            return _PORT(word, args)
        except ValueError:
            return None

    def _add_word(self, word: str, port: int, number: int, args: Args) -> None:
        first = last = _number(word, args)
        if first is None:
            head, dash, tail = word.partition("-")
            first, last = _number(head, args), _number(tail, args)
            if not dash or first is None or last is None:
                args.error(f"pattern {number}: bad aggregate number '{word}'")
                return
        self._add_range(first, last, port, number)

    def _add_range(self, first: int, last: int, port: int, number: int) -> None:
        """Send ``first``-``last`` to ``port`` where no earlier filter sends them."""
        added, cursor = [], first
        for start, end, output in self._ranges:
            if end < cursor or start > last:
                continue
            if cursor < start:
                added.append((cursor, start - 1, port))
            if output != port:
                for aggregate in range(max(start, cursor), min(end, last) + 1):
                    self._warn("pattern %d: aggregate %d already filtered to output %d",
                               number, aggregate, output)
            cursor = end + 1
        if cursor <= last:
            added.append((cursor, last, port))
        self._ranges = sorted(self._ranges + added)

    def _warn(self, message: str, *values: int) -> None:
        self.log.warning("%s: %s: " + message, self.landmark, self.declaration(), *values)

    def push(self, port: int, batch: list[Packet]) -> None:
        firsts, ranges, default = self._firsts, self._ranges, self.default
        by_output: dict[int, list[Packet]] = {}
        for packet in batch:
            aggregate = packet.anno_u32(_AGGREGATE)
            index = bisect_right(firsts, aggregate) - 1
            out = ranges[index][2] if index >= 0 and aggregate <= ranges[index][1] else default
            by_output.setdefault(out, []).append(packet)
        for out, packets in by_output.items():
            self.output_push(out, packets)
