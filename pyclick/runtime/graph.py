"""Hooking elements together: connections checked against port counts."""

from __future__ import annotations

from collections import defaultdict
from typing import Callable

from pyclick.element import Element
from pyclick.errors import ErrorCollector, Landmark
from pyclick.lang.model import FlatConnection
from pyclick.runtime.ports import PortRange, parse_port_count

Warn = Callable[[str, Landmark], None]


def hook_up(elements: dict[str, Element], connections: list[FlatConnection],
            errors: ErrorCollector, warn: Warn) -> None:
    """Set every element's ``ninputs`` and ``outputs`` from the connections.

    Errors (unknown ends, ports past a class's maximum, a push output
    connected twice) go to ``errors`` with the connection's landmark;
    unconnected ports get a warning with the element's landmark.
    """
    inputs: dict[str, dict[int, FlatConnection]] = defaultdict(dict)
    outputs: dict[str, dict[int, FlatConnection]] = defaultdict(dict)
    for conn in connections:
        source, target = elements.get(conn.from_element), elements.get(conn.to_element)
        for end, name in ((source, conn.from_element), (target, conn.to_element)):
            if end is None:
                errors.error(f"no element named '{name}'", conn.landmark)
        if source is None or target is None:
            continue
        if conn.from_port in outputs[source.name]:
            errors.error(f"'{source.declaration()}' output {conn.from_port} "
                         "connected more than once", conn.landmark)
        outputs[source.name][conn.from_port] = conn
        inputs[target.name].setdefault(conn.to_port, conn)
    for element in elements.values():
        try:
            counts = parse_port_count(type(element).port_count)
        except ValueError as err:
            errors.error(f"'{element.declaration()}': class {err}", element.landmark)
            continue
        ins, outs = inputs[element.name], outputs[element.name]
        element.ninputs = _port_total(element, "input", counts.inputs, ins, errors, warn)
        out_range = counts.outputs or PortRange(element.ninputs, element.ninputs)
        total = _port_total(element, "output", out_range, outs, errors, warn)
        element.outputs = [None] * total
        for port, conn in outs.items():
            if port < total:
                element.outputs[port] = (elements[conn.to_element], conn.to_port)


def _port_total(element: Element, kind: str, allowed: PortRange,
                used: dict[int, FlatConnection], errors: ErrorCollector, warn: Warn) -> int:
    """How many ports of one side the element gets; reports the ports it cannot have."""
    total = max([allowed.low] + [port + 1 for port in used])
    if allowed.high is not None and total > allowed.high:
        for port in sorted(p for p in used if p >= allowed.high):
            errors.error(f"'{element.declaration()}' has no {kind} {port} (too many {kind}s: "
                         f"{element.class_name()} has {allowed})", used[port].landmark)
        total = allowed.high
    for port in range(total):
        if port not in used:
            warn(f"'{element.declaration()}' {kind} {port} unused", element.landmark)
    return total
