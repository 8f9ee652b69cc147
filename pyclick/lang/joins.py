"""Joining two element lists across ``->`` or ``=>``: which port meets which.

Each side of an arrow is a list of endpoints, each with an optional port
list. ``a, b -> x`` joins every output to the one input, ``c [0-2] =>
p, q, r`` pairs ports in order, and an open list (``[]``, ``[2,]``) or,
across ``=>``, a single endpoint without ports, stretches to as many
consecutive ports as the other side needs.
"""

from __future__ import annotations

from typing import Callable, Iterable, NamedTuple

from pyclick.lang.configstr import brief
from pyclick.lang.record import Record

#: The most port pairs one arrow may join.
MAX_JOINED = 65536


# Not dataclasses: see pyclick.lang.record.
class PortList(NamedTuple):
    """The ports written next to an element: none, ``[0, 2]``, or open (``[]``, ``[3,]``)."""

    numbers: tuple[int, ...] = ()
    open: bool = False

    @property
    def written(self) -> bool:
        return bool(self.numbers)


#: No ports written.
NO_PORTS = PortList()


class Endpoint(Record):
    """An element of a list with the ports it offers on each side."""

    __slots__ = ("index", "inputs", "outputs")

    def __init__(self, index: int, inputs: PortList, outputs: PortList) -> None:
        self.index = index
        self.inputs = inputs
        self.outputs = outputs


class _Side:
    """Stepping through one side's ports, endpoint after endpoint."""

    __slots__ = ("lists", "minimum", "stretch", "stepping", "at", "position", "port")

    def __init__(self, lists: list[PortList]) -> None:
        self.lists = lists
        self.minimum = 0
        self.stretch = 0
        self.stepping = False
        self.at = 0
        self.position = 0
        self.port = -1

    def analyse(self) -> int:
        """Count the ports this side needs at least; the number of open lists."""
        opens = 0
        for ports in self.lists:
            if ports.open:
                self.minimum += len(ports.numbers)
                opens += 1
            else:
                self.minimum += max(1, len(ports.numbers))
        return opens

    def current(self) -> int:
        if self.port < 0:
            numbers = self.lists[self.at].numbers
            self.port = numbers[0] if numbers else 0
        return self.port

    def step(self) -> None:
        ports = self.lists[self.at]
        self.position += 1
        numbers = ports.numbers
        if self.position < len(numbers):
            self.port = numbers[self.position]
        elif ports.open and self.stretch > 0:
            self.port = numbers[-1] + self.position - (len(numbers) - 1)
            self.stretch -= 1
        elif not numbers and self.minimum == 1 and self.stretch > 0:
            self.port = self.position
            self.stretch -= 1
        else:
            self.at += 1
            self.position = 0
            self.port = -1

    @property
    def done(self) -> bool:
        return self.at >= len(self.lists)


def join(outputs: list[Endpoint], inputs: list[Endpoint],
         many: bool) -> tuple[list[tuple[int, int, int, int]], list[str]]:
    """The connections ``outputs -> inputs`` (``=>`` when ``many``) and any errors.

    Connections are ``(from_index, from_port, to_index, to_port)``.
    """
    if len(outputs) == len(inputs) == 1:
        # The common case, one element to one, with at most a port each.
        source, target = outputs[0], inputs[0]
        out_ports, in_ports = source.outputs, target.inputs
        if not out_ports.open and not in_ports.open \
                and len(out_ports.numbers) <= 1 and len(in_ports.numbers) <= 1:
            return [(source.index, out_ports.numbers[0] if out_ports.numbers else 0,
                     target.index, in_ports.numbers[0] if in_ports.numbers else 0)], []
    if max(len(outputs), len(inputs)) <= MAX_JOINED and all(
            e.outputs is NO_PORTS for e in outputs) and all(e.inputs is NO_PORTS for e in inputs):
        joined = _without_ports(outputs, inputs, many)
        if joined is not None:
            return joined, []
    errors: list[str] = []
    out = _Side([e.outputs for e in outputs])
    into = _Side([e.inputs for e in inputs])
    out_opens, in_opens = out.analyse(), into.analyse()
    if max(out.minimum, into.minimum) > MAX_JOINED:
        return [], [f"a connection may not join more than {MAX_JOINED} ports"]
    if out_opens + in_opens > 1:
        errors.append("at most one expandable port allowed per connection")
        if into.minimum < out.minimum:
            out_opens = 0
        else:
            in_opens = 0
    stretchable = [out_opens > 0, in_opens > 0]
    if many:
        # '=>' lets one element without ports take consecutive ports.
        for k, (side, other, first) in enumerate(((out, into, outputs[0].outputs),
                                                   (into, out, inputs[0].inputs))):
            if side.minimum == 1 and other.minimum > 1 and not first.written and not first.open:
                stretchable[k] = True
    for side, other, can in ((out, into, stretchable[0]), (into, out, stretchable[1])):
        side.stepping = side.minimum > 1 or can
        side.stretch = other.minimum - side.minimum if can else 0
    if out.stepping and into.stepping:
        errors.extend(_mismatch(out, into, stretchable, many))
    elif not out.stepping and not into.stepping:
        into.stepping = True

    connections = []
    while not out.done and not into.done:
        connections.append((outputs[out.at].index, out.current(),
                            inputs[into.at].index, into.current()))
        for side in (out, into):
            if side.stepping:
                side.step()
    return connections, errors


def _without_ports(outputs: list[Endpoint], inputs: list[Endpoint], many: bool
                   ) -> list[tuple[int, int, int, int]] | None:
    """What ``join`` makes of lists without port lists (``a, b => c``, most lists),
    without stepping through them: one element against a list joins its port 0
    to each (``->``) or its consecutive ports to them in order (``=>``); lists
    of one length pair in order across ``=>``. None for the others (mistakes)."""
    if len(outputs) == 1:
        source = outputs[0].index
        return [(source, port if many else 0, target.index, 0)
                for port, target in enumerate(inputs)]
    if len(inputs) == 1:
        target = inputs[0].index
        return [(source.index, 0, target, port if many else 0)
                for port, source in enumerate(outputs)]
    if many and len(outputs) == len(inputs):
        return [(source.index, 0, target.index, 0) for source, target in zip(outputs, inputs)]
    return None


def _mismatch(out: _Side, into: _Side, stretchable: list[bool], many: bool) -> list[str]:
    errors = []
    if not many:
        errors.append("syntax error: many-to-many connections require '=>'")
    n_out, n_in = out.minimum, into.minimum
    if not stretchable[0] and not stretchable[1] and n_out != n_in:
        errors.append(f"connection mismatch: {n_out} outputs connected to {n_in} inputs")
    elif not stretchable[1] and n_in < n_out:
        errors.append(f"connection mismatch: {n_out} or more outputs connected to {n_in} inputs")
    elif not stretchable[0] and n_out < n_in:
        errors.append(f"connection mismatch: {n_out} outputs connected to {n_in} or more inputs")
    return errors


def port_count(used: set[int]) -> int:
    """How many ports an element has when ``used`` are the ones connected."""
    return max(used) + 1 if used else 0


def lacking(used: set[int]) -> frozenset[int]:
    """The ports below the highest of ``used`` that are not in it: those a group's or
    compound's body leaves out (reported missing with the class)."""
    count = port_count(used)
    if len(used) == count:
        return frozenset()
    return frozenset(range(count)).difference(used)


#: A body that leaves out no port, on either side.
NOTHING_LACKING: tuple[frozenset[int], frozenset[int]] = (frozenset(), frozenset())


def boundary_errors(owner: str, inputs_used: set[int], ninputs: int,
                    outputs_used: set[int], noutputs: int,
                    inner: Callable[[], Iterable[tuple[str, int]]] | None = None,
                    lacks: tuple[frozenset[int], frozenset[int]] = NOTHING_LACKING) -> list[str]:
    """What is wrong when a group or compound with ``ninputs`` inputs and
    ``noutputs`` outputs is connected on the ports ``*_used``. ``inner`` gives
    the ports its body connects, as ``("input", port)`` or ``("output", port)``
    in the order of its connections (asked only when some port is wrong);
    only those are reported unused, in that order. ``lacks``: the inputs and
    the outputs its body leaves out (``lacking``): they were reported missing
    with the class, and one used outside is a port the instance has not, as
    in Click."""
    if len(inputs_used) == ninputs and len(outputs_used) == noutputs \
            and all(len(used) == 0 or max(used) == len(used) - 1
                    for used in (inputs_used, outputs_used)) \
            and not (lacks[0] or lacks[1]):
        return []
    owner = brief(owner)
    sides = (("input", inputs_used, ninputs, lacks[0]),
             ("output", outputs_used, noutputs, lacks[1]))
    used_on = {side: used for side, used, _, _ in sides}
    ports = inner() if inner is not None else \
        [(side, port) for side, _, count, lack in sides for port in range(count)
         if port not in lack]
    # As Click reports them: a line per port, the ports it lacks before those unused.
    return [f"'{owner}' has no {side} {port}"
            for side, used, count, lack in sides
            for port in sorted(p for p in used if p >= count or p in lack)] \
        + [f"'{owner}' {side} {port} unused"
           for side, port in dict.fromkeys(ports) if port not in used_on[side]]
