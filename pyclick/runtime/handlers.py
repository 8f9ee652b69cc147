"""Read and write handlers: the router's named knobs (``element.handler``).

Every element has the handlers its class declares with ``@read_handler`` /
``@write_handler``, plus ``name``, ``class``, ``config``, ``ports`` and
``handlers``; an element with a task also has Click's ``scheduled``,
``tickets`` and ``home_thread`` (``Element.own_task``). Global handlers have no element part (``version`` or
``.version``): ``version``, ``list``, ``classes``, ``config``,
``flatconfig``, ``requirements``, ``handlers``, the write handler
``stop``, and ``timewarp`` (how fast the router's clock runs; writable
but in simulated time).

Thread safety: while the router runs, an element's handler is executed on
the element's home thread (the thread that runs its timers and tasks), so a
handler never races with the element's own work. The caller blocks until the
handler has run; a worker thread that waits keeps serving calls addressed to
itself, so two threads calling each other's handlers cannot deadlock.
Before the router starts and after it stops, handlers run in the caller's
thread. Global handlers only read immutable router state, call
``stop()`` or set the clock's warp, which are thread safe, so they run in
the caller's thread.

The table works on an :class:`ElementTable` (the router: its elements, how
to reach an element's home thread, how to stop, the configuration texts)
holding :class:`HandlerElement` objects, not on the router itself.

Failures raise :class:`HandlerError` with ControlSocket's codes.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence

import pyclick
from pyclick.runtime.clock import RealClock, SimClock
from pyclick.runtime.host import Owner

NO_SUCH_ELEMENT = 510
NO_SUCH_HANDLER = 511
HANDLER_FAILED = 520
PERMISSION_DENIED = 530

_log = logging.getLogger("pyclick.handlers")


class HandlerError(Exception):
    """A handler call that failed; ``code`` is the ControlSocket reply code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ParametersRefused(HandlerError):
    """A read handler without parameters was given some (named by the table)."""

    def __init__(self) -> None:
        super().__init__(HANDLER_FAILED, "read handler does not take parameters")


ReadFn = Callable[[str], str]
WriteFn = Callable[[str], Any]


class HandlerElement(Owner, Protocol):
    """What the handler table needs of an element."""

    config: str
    ninputs: int
    #: Whether writing ``config`` configures the running element again.
    can_live_reconfigure: bool
    #: ``outputs[i]``: the (element, input port) that output i pushes to, or None.
    outputs: list[Any]
    #: Handlers the element's class declares: handler name -> method name.
    read_handlers: Mapping[str, str]
    write_handlers: Mapping[str, str]

    @property
    def noutputs(self) -> int:
        """Number of outputs."""

    def class_name(self) -> str:
        """The element class's name."""


class ElementTable(Protocol):
    """What the handler table needs of the router."""

    clock: RealClock | SimClock

    @property
    def elements(self) -> Sequence[HandlerElement]:
        """Every element, in Click's order (the flat configuration's)."""

    @property
    def requirements(self) -> Sequence[tuple[str, str]]:
        """The configuration's ``require`` statements as (kind, value)."""

    def element(self, name: str) -> HandlerElement | None:
        """The element with exactly this name, or None."""

    def call_on_home(self, owner: Owner, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on ``owner``'s home thread (directly when not running)."""

    def stop(self, reason: str = "") -> None:
        """Ask the router to stop (thread safe)."""

    def please_stop_driver(self, reason: str = "") -> None:
        """A driver stop event (the ``stop`` handler; thread safe)."""

    def ports_text(self, element: HandlerElement) -> str:
        """The ``ports`` handler's value: ``element``'s ports and connections."""

    def class_names(self) -> Sequence[str]:
        """Every element class the router can make, by name (Click's ``classes``
        lists every class it knows, not only those the configuration uses)."""

    def reconfigure(self, element: HandlerElement, config: str) -> None:
        """Configure ``element`` again from ``config`` while it runs; ValueError
        (the element unchanged) when ``config`` has errors."""

    def config_text(self) -> str:
        """The configuration as written."""

    def flat_config_text(self) -> str:
        """The flattened configuration."""


@dataclass
class Handler:
    """One handler: ``read(params) -> str`` and/or ``write(value)``."""

    name: str
    read: ReadFn | None = None
    write: WriteFn | None = None

    @property
    def flags(self) -> str:
        return ("r" if self.read else "") + ("w" if self.write else "")


def _takes_argument(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
               for p in params)


def _lines(items: Iterable[str]) -> str:
    """Each item on a line of its own, the last one ended too."""
    return "".join(f"{item}\n" for item in items)


def _reader(fn: Callable[..., Any], name: str) -> ReadFn:
    """Adapt ``fn()`` or ``fn(params)`` to ``read(params)``."""
    if _takes_argument(fn):
        return lambda params: fn(params)

    def read(params: str) -> str:
        if params:
            raise ParametersRefused()
        return fn()

    return read


class Handlers:
    """The handler table of one router: ``read``, ``write``, ``check``, ``list``."""

    def __init__(self, table: ElementTable) -> None:
        self.table = table
        self._extra: dict[str, dict[str, Handler]] = {}

    # --- calls
    def read(self, name: str, params: str = "") -> str:
        """Call read handler ``name`` (``element.handler`` or a global name)."""
        element, handler = self._find(name)
        if handler.read is None:
            raise HandlerError(PERMISSION_DENIED, f"Handler '{name}' write-only")
        try:
            value = self._call(element, name, lambda: handler.read(params))
        except ParametersRefused:
            raise HandlerError(HANDLER_FAILED,
                               f"read handler '{name}' does not take parameters") from None
        return "" if value is None else str(value)

    def write(self, name: str, value: str = "") -> None:
        """Call write handler ``name`` with ``value``."""
        element, handler = self._find(name)
        if handler.write is None:
            raise HandlerError(PERMISSION_DENIED, f"Handler '{name}' read-only")
        self._call(element, name, lambda: handler.write(value))

    def exists(self, name: str) -> bool:
        """Whether handler ``name`` exists (read, write or both)."""
        try:
            self._find(name)
        except HandlerError:
            return False
        return True

    def check(self, name: str, write: bool) -> None:
        """Return if handler ``name`` exists and is writable (readable); else raise."""
        _, handler = self._find(name)
        if (handler.write if write else handler.read) is None:
            kind = "writable" if write else "readable"
            raise HandlerError(NO_SUCH_HANDLER, f"Handler '{name}' not {kind}")

    def list(self, element: HandlerElement | None) -> list[Handler]:
        """The handlers of ``element`` (None: the global handlers), sorted by name."""
        table = self._element_handlers(element) if element else self._global_handlers()
        return [table[k] for k in sorted(table)]

    # --- registration of handlers that are not declared by decorators
    def add_read(self, element: HandlerElement, name: str, fn: Callable[..., Any]) -> None:
        """Add read handler ``name`` to ``element``: ``fn()`` or ``fn(params)`` -> str."""
        self._extra_entry(element, name).read = _reader(fn, name)

    def add_write(self, element: HandlerElement, name: str, fn: WriteFn) -> None:
        """Add write handler ``name`` to ``element``: ``fn(value)``."""
        self._extra_entry(element, name).write = fn

    def _extra_entry(self, element: HandlerElement, name: str) -> Handler:
        return self._extra.setdefault(element.name, {}).setdefault(name, Handler(name))

    # --- lookup
    def _find(self, full_name: str) -> tuple[HandlerElement | None, Handler]:
        # Element names never hold a dot; handler names may.
        element_name, dot, handler_name = full_name.partition(".")
        if not dot:
            element_name, handler_name = "", full_name
        element = None
        if element_name:
            element = self.table.element(element_name)
            if element is None:
                raise HandlerError(NO_SUCH_ELEMENT, f"No element named '{element_name}'")
        table = self._element_handlers(element) if element else self._global_handlers()
        handler = table.get(handler_name)
        if handler is None:
            raise HandlerError(NO_SUCH_HANDLER, f"No handler named '{full_name}'")
        return element, handler

    def _element_handlers(self, element: HandlerElement) -> dict[str, Handler]:
        table: dict[str, Handler] = {
            "name": Handler("name", _reader(lambda: element.name, "name")),
            "class": Handler("class", _reader(element.class_name, "class")),
            "config": Handler("config", _reader(lambda: element.config, "config"),
                              self._reconfigurer(element)),
            "ports": Handler("ports", _reader(lambda: self.table.ports_text(element), "ports")),
            "handlers": Handler("handlers", _reader(lambda: self._describe(element), "handlers")),
        }
        cls = type(element)
        for name, attr in cls.read_handlers.items():
            # A class's own ``config`` reader keeps the live reconfiguration writer.
            table.setdefault(name, Handler(name)).read = _reader(getattr(element, attr), name)
        for name, attr in cls.write_handlers.items():
            table.setdefault(name, Handler(name)).write = getattr(element, attr)
        for name, extra in self._extra.get(element.name, {}).items():
            entry = table.setdefault(name, Handler(name))
            entry.read = extra.read or entry.read
            entry.write = extra.write or entry.write
        return table

    def _reconfigurer(self, element: HandlerElement) -> WriteFn | None:
        """The ``config`` write handler of an element that can take a new
        configuration while running (Click's live reconfiguration)."""
        if not element.can_live_reconfigure:
            return None
        return lambda config: self.table.reconfigure(element, config)

    def _global_handlers(self) -> dict[str, Handler]:
        table = self.table

        def stop(value: str) -> None:
            table.please_stop_driver("stop handler written")

        readers: dict[str, Callable[[], str]] = {
            "version": lambda: pyclick.__version__,
            # As in Click, every line of these ends with a newline.
            "list": lambda: _lines([str(len(table.elements))]
                                   + [e.name for e in table.elements]),
            "classes": lambda: _lines(table.class_names()),
            "config": table.config_text,
            "flatconfig": table.flat_config_text,
            "requirements": lambda: _lines(f"{k} {v}".strip() for k, v in table.requirements),
            "handlers": lambda: self._describe(None),
        }
        handlers = {name: Handler(name, _reader(fn, name)) for name, fn in readers.items()}
        handlers["stop"] = Handler("stop", write=stop)
        clock = table.clock
        handlers["timewarp"] = Handler(
            "timewarp", _reader(clock.warp_text, "timewarp"),
            clock.set_warp if isinstance(clock, RealClock) else None)
        return handlers

    def _describe(self, element: HandlerElement | None) -> str:
        return "\n".join(f"{h.name}\t{h.flags}" for h in self.list(element))

    # --- execution
    def _call(self, element: HandlerElement | None, name: str, fn: Callable[[], Any]) -> Any:
        try:
            if element is None:
                return fn()
            return self.table.call_on_home(element, fn)
        except HandlerError:
            raise
        except ValueError as err:
            raise HandlerError(HANDLER_FAILED, f"{name}: {err}") from None
        except Exception as err:
            _log.exception("handler %s failed", name)
            raise HandlerError(HANDLER_FAILED, f"{name}: {type(err).__name__}: {err}") from None

