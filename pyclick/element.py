"""The element base class: what every element, built in or plugin, derives from.

A plugin element is a plain subclass::

    class Hello(Element):
        '''Hello(MESSAGE) -- says hello at start

        =d
        Prints MESSAGE when the router starts.
        '''
        port_count = "0/0"

        def configure(self, args: Args) -> None:
            self.message = args.read_mp("MESSAGE", STRING)

        def initialize(self) -> None:
            print(self.message)

        @read_handler("message")
        def _message(self) -> str:
            return self.message

The docstring is the element's manual: first line ``Synopsis -- summary``,
then sections. Subclasses are registered by class name when their module is
imported (``pyclick.registry``); no decorator is needed.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from pyclick.errors import Landmark

if TYPE_CHECKING:
    from pyclick.args import Args
    from pyclick.packet import Packet
    from pyclick.router import Router


def read_handler(name: str) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """Mark a method ``f(self) -> str`` as the read handler ``name``."""

    def mark(fn: Callable[..., str]) -> Callable[..., str]:
        fn.__dict__.setdefault("_pyclick_read", []).append(name)
        return fn

    return mark


def write_handler(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a method ``f(self, value: str) -> None`` as the write handler ``name``.

    A ValueError raised by the handler is reported to the caller as a
    failed write with its message.
    """

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__dict__.setdefault("_pyclick_write", []).append(name)
        return fn

    return mark


class Element:
    """Base class of all elements."""

    #: Click's port count syntax: "IN/OUT", each "N", "N-M", "N-" or "-".
    port_count: ClassVar[str] = "0/0"
    #: Filled per class from the decorated methods: name -> method name.
    read_handlers: ClassVar[dict[str, str]] = {}
    write_handlers: ClassVar[dict[str, str]] = {}
    #: Set False on elements that are only known to the flattener for
    #: compatibility and refuse to be instantiated (none by default).
    registered: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        reads = dict(getattr(cls, "read_handlers", {}))
        writes = dict(getattr(cls, "write_handlers", {}))
        for attr, value in vars(cls).items():
            for name in getattr(value, "_pyclick_read", ()):
                reads[name] = attr
            for name in getattr(value, "_pyclick_write", ()):
                writes[name] = attr
        cls.read_handlers = reads
        cls.write_handlers = writes

    def __init__(self, name: str, router: "Router", landmark: Landmark, config: str) -> None:
        self.name = name
        self.router = router
        self.landmark = landmark
        self.config = config
        #: outputs[i] is the (element, port) that output i pushes to, or None.
        self.outputs: list[tuple["Element", int] | None] = []
        self.ninputs = 0
        #: Index of the worker thread this element's timers and tasks run on.
        self.home_thread = 0

    # --- lifecycle (Click order: configure all, initialize all, cleanup reversed)
    def configure(self, args: "Args") -> None:
        """Parse the configuration; the default accepts an empty one."""
        args.complete()

    def initialize(self) -> None:
        """Acquire resources; raise ConfigError or RuntimeError to abort start."""

    def cleanup(self) -> None:
        """Release what initialize acquired; called in reverse order."""

    # --- packets
    @property
    def noutputs(self) -> int:
        return len(self.outputs)

    def push(self, port: int, batch: list["Packet"]) -> None:
        """Receive a batch on input ``port``; the default forwards to output 0."""
        self.output_push(0, batch)

    def output_push(self, port: int, batch: list["Packet"]) -> None:
        """Send a batch out of ``port``; an unconnected output drops it."""
        if port < len(self.outputs):
            peer = self.outputs[port]
            if peer is not None:
                peer[0].push(peer[1], batch)

    # --- logging
    @property
    def log(self) -> logging.LoggerAdapter:
        """A logger whose records carry this element's name."""
        return logging.LoggerAdapter(logging.getLogger(f"pyclick.{self.class_name()}"),
                                     {"element": self.name})

    # --- identity
    @classmethod
    def class_name(cls) -> str:
        return cls.__name__

    @classmethod
    def summary(cls) -> str:
        """One line for ``pyclick --list``: the part after `` -- `` of the synopsis."""
        first = (cls.__doc__ or "").strip().splitlines()[:1]
        line = first[0] if first else ""
        return line.split(" -- ", 1)[1].strip() if " -- " in line else line

    def declaration(self) -> str:
        return f"{self.name} :: {self.class_name()}"

    def __repr__(self) -> str:
        return f"<{self.declaration()}>"
