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
then sections. Subclasses are found by class name (``pyclick.registry``); no
decorator is needed.

An element talks to its router only through :class:`RouterServices`, the
protocol ``element.router`` satisfies: the time, stopping, finding other
elements, handlers, thread placement, the exit guard. Timers and tasks
(``Timer(self, callback)``, ``Task(self, callback)``) reach the scheduler
through ``element.scheduling``.

Two class attributes are read by the router before any element is
configured: ``simulated_time`` (an element that only makes sense in
simulated time, such as a simulated NIC, switches the whole router to it,
whatever its place in the configuration) and ``configure_phase`` (Click's
phases: elements configure in (phase, declaration) order and initialize
after the elements they name; see ``pyclick.runtime.order``).

Push and pull (Click's model): ``processing`` declares each port's kind
with Click's codes, ``h`` push, ``l`` pull, ``a`` agnostic (``"h/h"``,
``"h/l"``, ``"a/ah"``...; the constants :data:`PUSH`, :data:`PULL`,
:data:`AGNOSTIC`, :data:`PUSH_TO_PULL`, :data:`PULL_TO_PUSH`,
:data:`PROCESSING_A_AH`). The router resolves agnostic ports through the
graph before configure; ``input_is_pull(i)`` and ``output_is_push(i)``
tell the outcome. Packets move in batches when pushed and one at a time
(or in batches) when pulled:

- a push input receives ``push(port, batch)``; the element sends with
  ``output_push(port, batch)``;
- a pull output answers ``pull(port) -> Packet | None`` and
  ``pull_batch(port, max) -> list[Packet]``; the element asks its own
  pull inputs with ``input_pull(port)`` and ``input_pull_batch(port, max)``.

An agnostic element usually defines only ``simple_action(packet)`` (or
``simple_action_batch(batch)``) returning the packet to pass on, or None to
drop it: the base class derives push, pull and pull_batch from it. Unlike
Click, the default processing is push: an element written with ``push``
alone cannot be pulled. See docs/plugins.md.
"""

from __future__ import annotations

import functools
import logging
import random
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Protocol, Sequence, TypeVar

from pyclick.args import shorten
from pyclick.errors import Landmark
from pyclick.lang.configstr import with_argument
from pyclick.runtime.caughtsignals import Catch
from pyclick.runtime.notifier import Notifier
from pyclick.runtime.processing import (AGNOSTIC, COMPLETE_FLOW, PROCESSING_A_AH, PULL,
                                        PULL_CODE, PULL_TO_PUSH, PUSH, PUSH_CODE, PUSH_TO_PULL)
from pyclick.runtime.tasks import Task, pinned_tickets

if TYPE_CHECKING:
    from pyclick.args import Args
    from pyclick.kernel.exitguard import ExitGuard
    from pyclick.packet import Packet
    from pyclick.runtime.handlers import Handlers
    from pyclick.runtime.scheduling import SchedulingHandle
    from pyclick.runtime.threads import WorkerThread

#: Click's configure phases: lower phases configure (and, references aside,
#: initialize) first.
CONFIGURE_PHASE_FIRST = 0
CONFIGURE_PHASE_INFO = 20
CONFIGURE_PHASE_PRIVILEGED = 90
CONFIGURE_PHASE_DEFAULT = 100
CONFIGURE_PHASE_LAST = 2000

__all__ = ["AGNOSTIC", "COMPLETE_FLOW", "PROCESSING_A_AH", "PULL", "PULL_TO_PUSH", "PUSH",
           "PUSH_TO_PULL", "Element", "RouterServices", "read_handler", "write_handler"]


def read_handler(name: str, raw: bool = False) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """Mark a method ``f(self) -> str`` as the read handler ``name``.

    A ``raw`` handler's value is data to be printed as it is: ``pyclick -h``
    adds no final newline to it (as Click's raw handlers).
    """

    def mark(fn: Callable[..., str]) -> Callable[..., str]:
        fn.__dict__.setdefault("_pyclick_read", []).append(name)
        if raw:
            fn.__dict__.setdefault("_pyclick_raw", []).append(name)
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


def reconfigures(position: int | None = None, keyword: str | None = None
                 ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make a write handler ``f(self, value)`` set one argument of the
    element's configuration too, as Click's reconfigure handlers do: once
    the handler took the value, ``config`` reads with the argument at
    ``position`` or ``keyword`` set to it (``configstr.with_argument``)."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def write(self: "Element", value: str) -> None:
            fn(self, value)
            self.config = with_argument(self.config, value.strip(), position, keyword)
        return write

    return wrap


_Kind = TypeVar("_Kind")


class RouterServices(Protocol):
    """What an element may ask of the router it belongs to (``element.router``)."""

    #: The handler table: ``read``, ``write``, ``check``, ``add_read``, ``add_write``.
    handlers: Handlers
    #: Undos of kernel changes that must run however the process ends.
    exit_guard: ExitGuard
    #: Where timers and tasks find the scheduler (bound at initialize).
    scheduling: SchedulingHandle

    @property
    def simtime(self) -> bool:
        """Whether the router runs in simulated time (known before configure)."""

    @property
    def elements(self) -> Sequence[Element]:
        """Every element, in declaration order."""

    def now(self) -> float:
        """Router time in seconds (simulated time starts at 0)."""

    def to_epoch(self, t: float) -> float:
        """Router time ``t`` (a packet's timestamp) as seconds since the epoch."""

    def from_epoch(self, seconds: float) -> float:
        """Seconds since the epoch (a date from a capture) as router time."""

    def stop(self, reason: str = "") -> None:
        """Stop the router now, from any thread; the first reason is kept."""

    def please_stop_driver(self, reason: str = "") -> None:
        """A driver stop event (Click's ``please_stop_driver``: a source's STOP, the
        ``stop`` handler): the router stops before its next task runs, as Click
        looks at its stop flag before every task, unless a driver script
        (DriverManager) takes the event."""

    def attach_driver(self, element: Element, on_stop_event: Callable[[str], Any]) -> None:
        """Make ``element`` the router's driver script: it hears every driver stop
        event instead of the router stopping. ValueError if one is attached already."""

    def catch_signals(self, element: Element, signums: Sequence[int],
                      run: Callable[[], Any]) -> Catch:
        """Run ``run`` on ``element``'s home thread when one of ``signums`` arrives
        while the router runs; the catch is disarmed by the signal that runs it
        until ``Catch.arm`` (``pyclick.runtime.caughtsignals``)."""

    def random_source(self, element: Element) -> random.Random:
        """``element``'s own random-number generator: seeded from the router's
        seed (RandomSeed) and the element's name, else from fresh entropy."""

    def seed_random(self, seed: int | None) -> None:
        """Restart every element's generator from ``seed``; None: fresh entropy."""

    def find(self, name: str, context: Element | None = None) -> Element:
        """``name`` looked up from ``context``'s compound outwards; raises NoSuchElement."""

    def element(self, name: str) -> Element | None:
        """The element with exactly this name, or None."""

    def elements_of(self, kind: type[_Kind]) -> Sequence[_Kind]:
        """The elements that are ``kind`` (a class, or a runtime-checkable
        protocol), in declaration order."""

    def call_on_home(self, element: Element, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on ``element``'s home thread and return its result."""

    def assign_thread(self, element: Element, cpu: int, landmark: Landmark | None = None) -> None:
        """Run ``element`` on the thread pinned to ``cpu`` (from configure)."""

    def cpu_of(self, element: Element) -> int:
        """The CPU ``element``'s thread is pinned to; -1 when not pinned."""

    def worker_threads(self) -> Sequence[WorkerThread]:
        """The real-time worker threads (``cpu``, ``busy_seconds``), from initialize
        on; none in simulated time."""


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
    #: True on classes that need simulated time: one such element in a
    #: configuration runs the whole router in simulated time.
    simulated_time: ClassVar[bool] = False
    #: Click's configure phase (``CONFIGURE_PHASE_*``): the order of
    #: configure, and of initialize among elements that do not name each other.
    configure_phase: ClassVar[int] = CONFIGURE_PHASE_DEFAULT
    #: Click's processing code (see the module docstring).
    processing: ClassVar[str] = PUSH
    #: Click's flow code: which inputs may send packets to which outputs.
    flow_code: ClassVar[str] = COMPLETE_FLOW
    #: Click's flags; ``S0``: neither makes nor takes packets (notifiers look through).
    flags: ClassVar[str] = ""
    #: Whether writing the ``config`` handler configures the running element
    #: again (Click's live reconfiguration; ``live_reconfigure``).
    can_live_reconfigure: ClassVar[bool] = False
    #: Attributes that ``configure`` sets up and that a live reconfiguration
    #: keeps: the element's running state (queued packets, counters, its
    #: task, timers and notifiers, which other elements hold).
    live_state: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Every base's handlers, the first base's winning a name several have
        # (a small base may add handlers beside the main one), unless the
        # class lists its own.
        reads: dict[str, str] = {}
        writes: dict[str, str] = {}
        for base in reversed(cls.__bases__):
            reads.update(getattr(base, "read_handlers", {}))
            writes.update(getattr(base, "write_handlers", {}))
        reads = dict(vars(cls).get("read_handlers", reads))
        writes = dict(vars(cls).get("write_handlers", writes))
        for attr, value in vars(cls).items():
            for name in getattr(value, "_pyclick_read", ()):
                reads[name] = attr
            for name in getattr(value, "_pyclick_write", ()):
                writes[name] = attr
        cls.read_handlers = reads
        cls.write_handlers = writes

    def __init__(self, name: str, router: RouterServices, landmark: Landmark,
                 config: str) -> None:
        self.name = name
        self.router = router
        self.landmark = landmark
        self.config = config
        #: outputs[i] is the (element, port) that output i is connected to, or None.
        self.outputs: list[tuple["Element", int] | None] = []
        #: inputs[i] is the (element, port) connected to input i, or None.
        self.inputs: list[tuple["Element", int] | None] = []
        self.ninputs = 0
        #: Each port's processing once the router resolved it: "h" push, "l" pull.
        self.input_processing: list[str] = []
        self.output_processing: list[str] = []
        #: Index of the worker thread this element's timers and tasks run on.
        self.home_thread = 0

    @property
    def scheduling(self) -> SchedulingHandle:
        """The router's scheduling handle, through which timers and tasks are scheduled."""
        return self.router.scheduling

    # --- lifecycle (configure all, initialize all, cleanup in reverse; see the router)
    def configure(self, args: Args) -> None:
        """Parse the configuration; the default accepts an empty one."""
        args.complete()

    def live_reconfigure(self, args: Args) -> None:
        """Take a new configuration while running (``can_live_reconfigure``):
        ``configure`` again, keeping ``live_state``. The router restores the
        element as it was if this raises or ``args`` holds errors."""
        kept = {name: vars(self)[name] for name in self.live_state if name in vars(self)}
        self.configure(args)
        vars(self).update(kept)

    def add_handlers(self) -> None:
        """Add the handlers that depend on the configuration (``router.handlers.add_read``
        and ``add_write``). Called for every element once all are configured and
        before any is initialized, as Click's ``add_handlers``: an initialize
        that checks a handler it will call finds every element's."""

    def own_task(self, callback: Callable[[], bool]) -> Task:
        """A task of this element running ``callback``, with Click's handlers of
        an element's task: ``scheduled`` (whether it waits to run),
        ``tickets`` (its share of its thread, read and written: see
        ScheduleInfo) and ``home_thread`` (the worker thread it runs on)."""
        task = Task(self, callback)
        handlers = self.router.handlers
        handlers.add_read(self, "scheduled", lambda: "true" if task.scheduled else "false")
        handlers.add_read(self, "tickets", lambda: str(task.tickets))
        handlers.add_write(self, "tickets", functools.partial(self._write_tickets, task))
        handlers.add_read(self, "home_thread", lambda: str(self.home_thread))
        return task

    def _write_tickets(self, task: Task, text: str) -> None:
        try:
            tickets = int(text.strip(), 0)
        except ValueError:
            raise ValueError(f"expected integer, got '{shorten(text.strip())}'") from None
        pinned = pinned_tickets(tickets)
        if pinned != tickets:
            self.log.warning("%s: tickets pinned at %d", self.declaration(), pinned)
        task.set_tickets(pinned)

    def initialize(self) -> None:
        """Acquire resources; raise ConfigError or RuntimeError to abort start."""

    def cleanup(self) -> None:
        """Release what initialize acquired; called in reverse order."""

    # --- ports
    @property
    def noutputs(self) -> int:
        return len(self.outputs)

    def input_is_pull(self, port: int) -> bool:
        return self.input_processing[port] == PULL_CODE

    def input_is_push(self, port: int) -> bool:
        return self.input_processing[port] == PUSH_CODE

    def output_is_push(self, port: int) -> bool:
        return self.output_processing[port] == PUSH_CODE

    def output_is_pull(self, port: int) -> bool:
        return self.output_processing[port] == PULL_CODE

    def port_notifier(self, isoutput: bool, port: int, which: str) -> Notifier | None:
        """This element's ``which`` notifier ("empty" on a pull output, "full" on a
        push input) for a port, when it has one (Queue); None by default."""
        return None

    # --- packets
    def simple_action(self, packet: "Packet") -> "Packet | None":
        """What an agnostic element does to one packet: the packet to pass on, or
        None to drop it. The default passes it unchanged."""
        return packet

    def simple_action_batch(self, batch: list["Packet"]) -> list["Packet"]:
        """``simple_action`` over a batch; override it to work on whole batches."""
        action = self.simple_action
        out = []
        for packet in batch:
            kept = action(packet)
            if kept is not None:
                out.append(kept)
        return out

    def push(self, port: int, batch: list["Packet"]) -> None:
        """Receive a batch on push input ``port``; the default passes the
        ``simple_action_batch`` of it to output 0."""
        batch = self.simple_action_batch(batch)
        if batch:
            self.output_push(0, batch)

    def pull(self, port: int) -> "Packet | None":
        """Answer a pull on output ``port``: a packet or None. The default pulls
        input 0 and applies ``simple_action_batch`` to it (which an element may
        override alone: pulled, it must act as pushed)."""
        packet = self.input_pull(0)
        if packet is None:
            return None
        kept = self.simple_action_batch([packet])
        return kept[0] if kept else None

    def pull_batch(self, port: int, max_packets: int) -> list["Packet"]:
        """Answer a pull of up to ``max_packets`` packets on output ``port``, fewer
        when fewer are ready. The default calls ``pull`` until it answers None."""
        batch = []
        while len(batch) < max_packets:
            packet = self.pull(port)
            if packet is None:
                break
            batch.append(packet)
        return batch

    def output_push(self, port: int, batch: list["Packet"]) -> None:
        """Send a batch out of push output ``port``; an unconnected output drops it."""
        if port < len(self.outputs):
            peer = self.outputs[port]
            if peer is not None:
                peer[0].push(peer[1], batch)

    def input_pull(self, port: int) -> "Packet | None":
        """Pull one packet from pull input ``port``; None when none is ready or
        the input is not connected."""
        peer = self.inputs[port] if port < len(self.inputs) else None
        return None if peer is None else peer[0].pull(peer[1])

    def input_pull_batch(self, port: int, max_packets: int) -> list["Packet"]:
        """Pull up to ``max_packets`` packets from pull input ``port``."""
        peer = self.inputs[port] if port < len(self.inputs) else None
        return [] if peer is None else peer[0].pull_batch(peer[1], max_packets)

    # --- logging
    @property
    def log(self) -> logging.LoggerAdapter:
        """A logger whose records carry this element's name and landmark, so that its
        warnings read like configuration messages (``FILE:LINE: warning: ...``)."""
        return logging.LoggerAdapter(logging.getLogger(f"pyclick.{self.class_name()}"),
                                     {"element": self.name, "landmark": str(self.landmark)})

    @classmethod
    def raw_handler(cls, name: str) -> bool:
        """Whether the read handler ``name`` was declared raw (see :func:`read_handler`)."""
        attr = cls.read_handlers.get(name)
        return attr is not None and name in getattr(getattr(cls, attr, None), "_pyclick_raw", ())

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
