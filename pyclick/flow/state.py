"""Per-flow state: how it is made and how elements reach it.

A FlowIPManager gives every flow one mutable state object, made by the
manager's state factory when the flow's first packet arrives, and attaches
it to each packet it lets through as the ``flow_state`` annotation.
Elements downstream read it with :func:`state_of`::

    def push(self, port, batch):
        for packet in batch:
            state = state_of(packet)
            state["bytes"] = state.get("bytes", 0) + len(packet)
        self.output_push(0, batch)

The state of a flow is only ever touched by the core that currently owns
the flow's bucket, so elements update it without locks.

State kinds (the manager's ``STATE`` keyword):

- ``dict`` — an empty dict per flow; elements keep their fields under keys
  of their own (the default);
- ``bytes`` — a zeroed bytearray of ``RESERVE`` bytes, Click's reserved
  per-flow scratch area;
- a dotted Python name (``package.module.Name``) — any callable taking no
  argument, called once per new flow.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

from pyclick.packet import Packet

#: The packet annotation holding the flow's state object.
FLOW_STATE = "flow_state"

BUILTIN_KINDS = ("dict", "bytes")


def state_of(packet: Packet) -> Any:
    """The state of the packet's flow, set by the FlowIPManager upstream."""
    try:
        return packet.anno[FLOW_STATE]
    except KeyError:
        raise LookupError("packet has no flow state: the element must be downstream "
                          "of a FlowIPManager") from None


@dataclass(frozen=True)
class StateKind:
    """A parsed STATE keyword: a built-in kind name or a resolved callable."""

    name: str
    factory: Callable[[], Any] | None = None

    def make_factory(self, reserve: int) -> Callable[[], Any]:
        """The per-flow constructor; ``reserve`` sizes the ``bytes`` kind."""
        if self.factory is not None:
            return self.factory
        if self.name == "dict":
            return dict
        if reserve <= 0:
            raise ValueError("STATE bytes needs RESERVE (bytes per flow) greater than 0")
        return lambda: bytearray(reserve)


def parse_state_kind(text: str, _args: object = None) -> StateKind:
    """Argument type of STATE: ``dict``, ``bytes`` or a dotted name of a callable."""
    name = text.strip()
    if name in BUILTIN_KINDS:
        return StateKind(name)
    module_name, _, attribute = name.rpartition(".")
    if not module_name or not attribute:
        raise ValueError(f"expected 'dict', 'bytes' or a dotted Python name, got {name!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"cannot import state factory {name!r}: {err}") from None
    if not callable(factory):
        raise ValueError(f"state factory {name!r} is not callable")
    return StateKind(name, factory)
