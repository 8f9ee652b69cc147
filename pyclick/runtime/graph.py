"""Hooking elements together: connections checked against port counts and processing.

Works on anything shaped like a :class:`Node` (the router's elements), so
the runtime needs no element class. The checks and their wording follow
Click's router:

1. both ends exist, and each port is within its class's port count
   (``'a :: X' has no output 2 ...``);
2. push and pull: agnostic ports are resolved (``pyclick.runtime.processing``);
   a push output connected to a pull input, or the reverse, is
   ``'a :: X' push output 0 connected to 'b :: Y' pull input 0``, and an
   agnostic element whose linked ports end up different is
   ``agnostic 'a :: X' in mixed context: push input 0, pull output 0``;
3. a push output or a pull input connected more than once is
   ``illegal reuse of 'a :: X' push output 0`` (pull outputs and push
   inputs may be shared);
4. every port an element has is connected: ``'a :: X' output 1 unused``
   is an error, as in Click, and, as there, looked for only once checks 1
   and 2 found nothing. A partial graph (a harness that pushes into an
   element itself) gets a warning per unconnected port instead.

:func:`describe_ports` writes the ``ports`` handler's text as Click's router does.

Errors about one element's ports (a port it does not have, one reused, one
unused) name that element's place, as Click's do; a push output connected to
a pull input names the connection's place (Click names none).
"""

from __future__ import annotations

from collections import defaultdict
from typing import AbstractSet, Any, Callable, Mapping, Protocol, Sequence

from pyclick.errors import ErrorCollector, Landmark
from pyclick.lang.model import FlatConnection
from pyclick.runtime.ports import PortRange, parse_port_count
from pyclick.runtime.processing import (AGNOSTIC_CODE, PULL_CODE, PUSH_CODE, Tie, kind,
                                        other_kind, port_flow, processing_vector, resolve)

Warn = Callable[[str, Landmark], None]
#: The ports of a side nothing connects to.
_NONE_USED: frozenset[int] = frozenset()


class Node(Protocol):
    """What hooking up needs of an element; it sets the port attributes below."""

    name: str
    landmark: Landmark
    #: Click's port count declaration, ``IN/OUT`` (see ``pyclick.runtime.ports``).
    port_count: str
    #: Click's processing code (``"h/l"``, ``"a/ah"``...) and flow code (``"x/x"``).
    processing: str
    flow_code: str
    ninputs: int
    #: ``outputs[i]``: the (node, input port) output i is connected to, or None.
    outputs: list[Any]
    #: ``inputs[i]``: the (node, output port) connected to input i, or None.
    inputs: list[Any]
    #: Each port's resolved processing: ``"h"`` (push) or ``"l"`` (pull).
    input_processing: list[str]
    output_processing: list[str]

    def declaration(self) -> str:
        """``name :: Class``, for messages."""

    def class_name(self) -> str:
        """The element class's name, for messages."""


def hook_up(elements: Mapping[str, Node], connections: list[FlatConnection],
            errors: ErrorCollector, warn: Warn, partial: bool = False) -> None:
    """Set every element's ports from the connections (see the module docstring);
    ``partial``: unconnected ports are warnings, not errors."""
    found = len(errors.messages)
    # Unconnected inputs, then outputs (Click's order), each in element order.
    unused_inputs: list[tuple[str, Landmark]] = []
    unused_outputs: list[tuple[str, Landmark]] = []
    inputs: dict[str, set[int]] = defaultdict(set)
    outputs: dict[str, set[int]] = defaultdict(set)
    valid: list[FlatConnection] = []
    for conn in connections:
        source, target = elements.get(conn.from_element), elements.get(conn.to_element)
        if source is None or target is None:
            for end, name in ((source, conn.from_element), (target, conn.to_element)):
                if end is None:
                    errors.error(f"no element named '{name}'", conn.landmark)
            continue
        valid.append(conn)
        outputs[source.name].add(conn.from_port)
        inputs[target.name].add(conn.to_port)
    nodes = list(elements.values())
    for element in nodes:
        try:
            counts = parse_port_count(element.port_count)
        except ValueError as err:
            errors.error(f"'{element.declaration()}': class {err}", element.landmark)
            element.ninputs, element.outputs = 0, []
            continue
        ins, outs = inputs.get(element.name, _NONE_USED), outputs.get(element.name, _NONE_USED)
        element.ninputs = _port_total(element, "input", counts.inputs, ins, errors,
                                       unused_inputs)
        out_range = counts.outputs or PortRange(element.ninputs, element.ninputs)
        total = _port_total(element, "output", out_range, outs, errors, unused_outputs)
        element.outputs = [None] * total
    in_range = [c for c in valid if c.from_port < len(elements[c.from_element].outputs)
                and c.to_port < elements[c.to_element].ninputs]
    _processing(nodes, elements, in_range, errors)
    # Click looks for unused ports only in graphs whose ports exist and agree
    # on push and pull, and then with the reused ports.
    settled = len(errors.messages) == found
    _check_reuse(elements, in_range, errors)
    if partial or settled:
        report = warn if partial else errors.error
        for message, landmark in unused_inputs + unused_outputs:
            report(message, landmark)
    for element in nodes:
        element.inputs = [None] * element.ninputs
    for conn in in_range:
        source, target = elements[conn.from_element], elements[conn.to_element]
        if source.outputs[conn.from_port] is None:
            source.outputs[conn.from_port] = (target, conn.to_port)
        if target.inputs[conn.to_port] is None:
            target.inputs[conn.to_port] = (source, conn.from_port)


def _processing(nodes: list[Node], elements: Mapping[str, Node],
                connections: list[FlatConnection], errors: ErrorCollector) -> None:
    """Resolve every port's processing; report the conflicts in Click's words."""
    index = {node.name: i for i, node in enumerate(nodes)}
    in_codes: list[list[str]] = []
    out_codes: list[list[str]] = []
    for node in nodes:
        try:
            ins, outs = processing_vector(node.processing, node.ninputs, len(node.outputs))
        except ValueError as err:
            errors.error(f"'{node.declaration()}': {err}", node.landmark)
            ins, outs = [PUSH_CODE] * node.ninputs, [PUSH_CODE] * len(node.outputs)
        in_codes.append(ins)
        out_codes.append(outs)
    ties = [Tie(index[c.from_element], c.from_port, index[c.to_element], c.to_port)
            for c in connections]
    places = {id(tie): conn.landmark for tie, conn in zip(ties, connections)}

    def flows(e: int, port: int) -> list[bool]:
        node = nodes[e]
        try:
            return port_flow(node.flow_code, False, port, node.ninputs, len(node.outputs))
        except ValueError as err:
            errors.error(f"'{node.declaration()}' {err}", node.landmark)
            return [False] * len(node.outputs)

    def conflict(tie: Tie, out_code: str) -> None:
        source, target = nodes[tie.source], nodes[tie.target]
        if tie.inside:
            errors.error(f"agnostic '{source.declaration()}' in mixed context: "
                         f"{other_kind(out_code)} input {tie.in_port}, "
                         f"{kind(out_code)} output {tie.out_port}", source.landmark)
        else:
            errors.error(f"'{source.declaration()}' {kind(out_code)} output {tie.out_port} "
                         f"connected to '{target.declaration()}' {other_kind(out_code)} "
                         f"input {tie.in_port}", places[id(tie)])

    resolve(in_codes, out_codes, ties, flows, conflict)
    for node, ins, outs in zip(nodes, in_codes, out_codes):
        node.input_processing = ins
        node.output_processing = outs


def _check_reuse(elements: Mapping[str, Node], connections: list[FlatConnection],
                 errors: ErrorCollector) -> None:
    """A push output feeds one input, a pull input is fed by one output."""
    pushed: dict[tuple[str, int], tuple[str, int]] = {}
    pulled: dict[tuple[str, int], tuple[str, int]] = {}
    for conn in connections:
        source, target = elements[conn.from_element], elements[conn.to_element]
        out_end, in_end = (source.name, conn.from_port), (target.name, conn.to_port)
        if source.output_processing[conn.from_port] == PUSH_CODE:
            if pushed.setdefault(out_end, in_end) != in_end:
                errors.error(f"illegal reuse of '{source.declaration()}' push output "
                             f"{conn.from_port}", source.landmark)
        if target.input_processing[conn.to_port] == PULL_CODE:
            if pulled.setdefault(in_end, out_end) != out_end:
                errors.error(f"illegal reuse of '{target.declaration()}' pull input "
                             f"{conn.to_port}", target.landmark)


def _port_total(element: Node, kind_: str, allowed: PortRange,
                used: AbstractSet[int], errors: ErrorCollector,
                unused: list[tuple[str, Landmark]]) -> int:
    """How many ports of one side the element gets; reports the ports it cannot have
    and adds those it has but nothing connects to ``unused``."""
    top = max(used) + 1 if used else 0
    total = max(allowed.low, top)
    if allowed.high is not None and total > allowed.high:
        for port in sorted(p for p in used if p >= allowed.high):
            errors.error(f"'{element.declaration()}' has no {kind_} {port} (too many {kind_}s: "
                         f"{element.class_name()} has {allowed})", element.landmark)
        total = allowed.high
    # As many ports used as there are, none beyond: every one is (most elements).
    if len(used) != total or top > total:
        for port in range(total):
            if port not in used:
                unused.append((f"'{element.declaration()}' {kind_} {port} unused",
                               element.landmark))
    return total


def describe_ports(node: Node, connections: Sequence[FlatConnection],
                   position: Mapping[str, int]) -> str:
    """The ``ports`` handler, in Click's words: each side's port count, then a
    line per port with its processing (``~`` after it when the class leaves
    the port agnostic), a tab, ``-`` (the packet count only Click's statistics
    builds keep), a tab and the other ends of its connections. Those are
    listed in Click's order of connections (by input end, then output end,
    each by element ``position`` and port), each once."""
    ins, outs = processing_vector(node.processing, node.ninputs, len(node.outputs))
    ties = sorted({(position[c.to_element], c.to_port, position[c.from_element], c.from_port,
                    c.from_element, c.to_element)
                   for c in connections if node.name in (c.from_element, c.to_element)})
    lines = [f"{node.ninputs} input{'' if node.ninputs == 1 else 's'}"]
    for port in range(node.ninputs):
        peers = ", ".join(f"{source} [{out_port}]"
                          for _, in_port, _, out_port, source, target in ties
                          if target == node.name and in_port == port)
        lines.append(_port_line(node.input_processing[port], ins[port], peers))
    lines.append(f"{len(node.outputs)} output{'' if len(node.outputs) == 1 else 's'}")
    for port in range(len(node.outputs)):
        peers = ", ".join(f"[{in_port}] {target}"
                          for _, in_port, _, out_port, source, target in ties
                          if source == node.name and out_port == port)
        lines.append(_port_line(node.output_processing[port], outs[port], peers))
    return "\n".join(lines) + "\n"


def _port_line(resolved: str, declared: str, peers: str) -> str:
    agnostic = "~" if declared == AGNOSTIC_CODE else ""
    return f"{kind(resolved)}{agnostic}\t-\t{peers}"
