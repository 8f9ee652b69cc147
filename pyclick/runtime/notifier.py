"""Notification, as in Click: pull drivers sleep while their queues are empty,
sources while theirs are full.

A :class:`Notifier` is an on/off signal owned by an element (a Queue has an
"empty" notifier, on while it holds packets, and a "full" notifier, on while
it has room). Elements that depend on one find it through the graph:

- :func:`upstream_empty_signal` walks up from a pull input (Unqueue,
  Discard in pull context) through pull ports to the notifiers that say
  whether a packet may come;
- :func:`downstream_full_signal` walks down from a push output
  (InfiniteSource) through push ports to the notifiers that say whether a
  packet may be taken.

The walk stops at each notifier. A walk that meets the other processing (a
push output upstream, a pull input downstream), or an element that has no
port to continue through yet makes or takes packets (a source, a sink; not
one flagged ``S0`` such as Idle), gives a *busy* signal: always on, so the
listener keeps running. Otherwise the signal is on while any notifier found
is on, and each one reschedules the listener when it turns on.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, Sequence

from pyclick.runtime.processing import PULL_CODE, PUSH_CODE, port_flow

EMPTY = "empty"
FULL = "full"

Listener = Callable[[], Any]


class Notifier:
    """An on/off signal that calls its listeners when it turns on (Click's ActiveNotifier)."""

    __slots__ = ("active", "_listeners")

    def __init__(self, active: bool = True) -> None:
        self.active = active
        self._listeners: list[Listener] = []

    def add_listener(self, listener: Listener) -> None:
        if listener not in self._listeners:
            self._listeners.append(listener)

    def wake(self) -> None:
        """Turn on; listeners are called when it was off."""
        if not self.active:
            self.active = True
            for listener in self._listeners:
                listener()

    def sleep(self) -> None:
        """Turn off."""
        self.active = False


class NotifierSignal:
    """What a listener tests: true while one of its notifiers is on, or always when busy."""

    __slots__ = ("busy", "notifiers")

    def __init__(self, notifiers: Sequence[Notifier] = (), busy: bool = False) -> None:
        self.busy = busy
        self.notifiers = tuple(notifiers)

    def __bool__(self) -> bool:
        return self.busy or any(n.active for n in self.notifiers)

    def __repr__(self) -> str:
        state = "busy" if self.busy else f"{len(self.notifiers)} notifiers"
        return f"<NotifierSignal {state}: {'on' if self else 'off'}>"


#: Always on (nothing known about the packets to come).
BUSY = NotifierSignal(busy=True)


class NotifierNode(Protocol):
    """What the walks need of an element."""

    ninputs: int
    inputs: list[Any]
    outputs: list[Any]
    input_processing: list[str]
    output_processing: list[str]
    flow_code: str
    #: Click's flags; ``S0`` means the element neither makes nor takes packets.
    flags: str

    def port_notifier(self, isoutput: bool, port: int, which: str) -> Notifier | None:
        """The element's ``which`` notifier for a port, if it has one."""


def upstream_empty_signal(node: NotifierNode, port: int,
                          listener: Listener | None = None) -> NotifierSignal:
    """Whether a packet may be pulled from input ``port`` (see the module docstring)."""
    return _walk(node, port, listener, upstream=True)


def downstream_full_signal(node: NotifierNode, port: int,
                           listener: Listener | None = None) -> NotifierSignal:
    """Whether a packet pushed to output ``port`` may be taken."""
    return _walk(node, port, listener, upstream=False)


def _walk(node: NotifierNode, port: int, listener: Listener | None,
          upstream: bool) -> NotifierSignal:
    which = EMPTY if upstream else FULL
    found: list[Notifier] = []
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[NotifierNode, int]] = [(node, port)]
    while stack:
        element, own_port = stack.pop()
        ports = element.inputs if upstream else element.outputs
        peer = ports[own_port] if own_port < len(ports) else None
        if peer is None:
            continue
        other, other_port = peer
        if (id(other), other_port) in seen:
            continue
        seen.add((id(other), other_port))
        notifier = other.port_notifier(upstream, other_port, which)
        if notifier is not None:
            if notifier not in found:
                found.append(notifier)
            continue
        processing = (other.output_processing if upstream else other.input_processing)
        if processing[other_port] == (PUSH_CODE if upstream else PULL_CODE):
            return BUSY
        linked = port_flow(other.flow_code, upstream, other_port, other.ninputs,
                           len(other.outputs))
        through = [p for p, travels in enumerate(linked) if travels]
        if not through:
            if "S0" not in other.flags.split():
                return BUSY
            continue
        stack.extend((other, p) for p in through)
    if listener is not None:
        for notifier in found:
            notifier.add_listener(listener)
    return NotifierSignal(found)
