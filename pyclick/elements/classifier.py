"""Classifier: packets to outputs by the bytes at given offsets."""

from __future__ import annotations

from pyclick.args import Args
from pyclick.classify.rawpatterns import PatternError, parse_pattern
from pyclick.classify.compiled import Classification, compile_patterns
from pyclick.classify.expand import TooComplex
from pyclick.classify.tree import Formula, data_layout
from pyclick.element import PUSH, Element, read_handler
from pyclick.packet import Packet


def push_classified(element: Element, classification: Classification,
                    batch: list[Packet]) -> None:
    """Send each packet of ``batch`` out of the output its classification names
    (a batch per output, in arrival order); packets that match nothing are dropped."""
    if len(batch) == 1:
        output = classification.match(batch[0])
        if output >= 0:
            element.output_push(output, batch)
        return
    outputs = classification.match_batch(batch)
    first = outputs[0]
    if outputs.count(first) == len(outputs):
        if first >= 0:
            element.output_push(first, batch)
        return
    groups: dict[int, list[Packet]] = {}
    for output, packet in zip(outputs, batch):
        if output >= 0:
            group = groups.get(output)
            if group is None:
                groups[output] = [packet]
            else:
                group.append(packet)
    for output, group in groups.items():
        element.output_push(output, group)


def warn_unreachable(element: Element, classification: Classification, used: set[int]) -> None:
    """One warning per output that patterns send packets to but no packet can reach."""
    reachable = classification.outputs()
    for output in sorted(used - reachable):
        element.log.warning("%s: %s: output %d matches no packets", element.landmark,
                            element.declaration(), output)


class Classifier(Element):
    """Classifier(PATTERN_1, ..., PATTERN_N) -- classifies packets by contents

    Description
    Classifies packets: Classifier has N outputs, output i for PATTERN_i.
    Each packet goes out of the output of the first pattern it matches,
    and is dropped when it matches none.

    A pattern is a list of clauses separated by spaces, all of which must
    hold. A clause is OFFSET/VALUE or OFFSET/VALUE%MASK: the decimal byte
    OFFSET into the packet, and a VALUE of an even number of hex digits
    that the bytes there must equal. A MASK, of as many hex digits as the
    value, says which bits are compared. "?" as a digit of the value means
    that nibble does not matter. A clause preceded by "!" must not hold.
    A clause that reaches past the end of a packet does not hold (so its
    negation does). The pattern "-" matches every packet.

    The patterns are compiled once, at configuration, into a decision tree:
    a packet costs one walk down the tree. Where many patterns each compare
    the same bytes with their own value (a list of addresses or ports), the
    tree looks the packet's value up among them in one step, however many.
    A list of 32 patterns or more is indexed instead: patterns that compare
    the same bytes with values of their own form a group, looked up by the
    packet's value there, each value leading to the tree of the group's
    patterns that name it, and the packet goes where the earliest pattern
    any group (or the tree of the other patterns) finds sends it. A long
    list of rules on different fields then costs a packet one lookup per
    group. A warning names each output no packet can reach (usually an
    earlier pattern is more general, or the pattern contradicts itself, as
    in "12/0806 12/0800"; in an indexed list, only what one group or the
    other patterns' tree shows). Mistakes are reported with the pattern's
    number (from 0) and the position (from 1) in it.

    Ports
    one push input; as many push outputs as patterns

    Element handlers
    program (read) -- the decision tree: one decision per line, a test with where its yes and no answers lead, or a lookup with where each value and the others lead ([N] is output N, [X] a drop); of an indexed list, each part's tree after a line 'part K, from pattern P' (#P[N] is pattern P, of output N; none, no pattern of the part)

    Example
    // ARP requests to output 0, ARP replies to output 1, IP packets to
    // output 2, all other Ethernet frames to output 3.
    FromDump(trace.pcap, STOP true) -> c :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
    c[0] -> Discard; c[1] -> Discard; c[2] -> ip :: Counter -> Discard; c[3] -> Discard;
    """

    can_live_reconfigure = True
    port_count = "1/-"
    processing = PUSH

    def configure(self, args: Args) -> None:
        # Arguments are read whole, as Click reads them: a capitalized name
        # (MY_ADDR 10.0.0.1) is not a keyword.
        patterns = args.accept_rest()
        if len(patterns) != self.noutputs:
            args.error(f"need {self.noutputs} arguments, one per output port")
        formulas: list[tuple[int, Formula]] = []
        for index, text in enumerate(patterns):
            try:
                formulas.append((index, parse_pattern(text)))
            except PatternError as err:
                args.error(f"pattern {index}: {err}")
        if len(formulas) == len(patterns):
            try:
                self.classification = compile_patterns(formulas, data_layout)
            except TooComplex as err:
                args.error(str(err))
        args.complete()

    def initialize(self) -> None:
        warn_unreachable(self, self.classification, set(range(self.noutputs)))

    def push(self, port: int, batch: list[Packet]) -> None:
        push_classified(self, self.classification, batch)

    @read_handler("program")
    def _read_program(self) -> str:
        return self.classification.program()
