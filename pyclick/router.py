"""The router: a configured element graph and its life, as in Click.

Life of a router::

    router = Router(flat)          # classes resolved, elements created, ports checked
    router.configure()             # every element parses its arguments
    status = router.run()          # initialize in order, run, clean up in reverse

Every phase reports all the mistakes it finds at once in one ConfigError
(``FILE:LINE: message`` lines). Cleanup runs in reverse initialization order
whatever ended the run: ``stop()``, SIGINT, SIGTERM, a failing timer or task,
or an initialize that failed half-way (then only the elements initialized so
far are cleaned up). A failing cleanup is reported and the others still run.

Threads: elements run on worker threads (see ``pyclick.runtime.threads``).
Without ``threads``, there is one unpinned default thread plus one thread per
CPU named by ``StaticThreadSched``; with ``threads=N``, thread i is pinned to
CPU i and unassigned elements run on thread 0. With simulated time, all
elements run on the thread that called ``run()``.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import threading
from typing import Any, Callable

from pyclick import registry
from pyclick.args import Args
from pyclick.element import Element
from pyclick.errors import ConfigError, ErrorCollector, Landmark
from pyclick.lang.model import FlatConfig
from pyclick.runtime.clock import RealClock, SimClock
from pyclick.runtime.handlers import Handlers
from pyclick.runtime.placement import place
from pyclick.runtime.graph import hook_up
from pyclick.runtime.simloop import SimScheduler
from pyclick.runtime.threads import RealtimeScheduler

#: Provisions that ``require(NAME)`` accepts without importing anything.
PROVISIONS = frozenset({"userlevel", "linux", "int64", "batch", "pyclick", "compact_config"})
#: How long stopping waits for worker threads stuck in a callback.
STOP_TIMEOUT = 5.0

_log = logging.getLogger("pyclick.router")
_PLACED = re.compile(r"[^:\n]+:\d+: ")


class NoSuchElement(LookupError):
    """``router.find`` found no element with that name."""


class Router:
    """A router built from a flat configuration (see the module docstring)."""

    def __init__(self, flat: FlatConfig, *, threads: int | None = None, simtime: bool = False,
                 source: str | None = None) -> None:
        if threads is not None and threads < 1:
            raise ValueError("threads must be at least 1")
        self.flat = flat
        #: The configuration text as written, when known (global ``config`` handler).
        self.source = source
        self.elements: list[Element] = []
        self.handlers = Handlers(self)
        #: Configuration warnings (``FILE:LINE: warning: ...``), also logged.
        self.warnings: list[str] = []
        self.clock: RealClock | SimClock = SimClock() if simtime else RealClock()
        self.scheduler: RealtimeScheduler | SimScheduler | None = None
        #: 0, or 1 once an element failed while running.
        self.exit_status = 0
        self.stop_reason = ""
        self._nthreads = threads
        self._by_name: dict[str, Element] = {}
        self._assigned: dict[str, tuple[int, Landmark | None]] = {}
        self._thread_cpus: list[int | None] = []
        self._initialized: list[Element] = []
        self._stop_event = threading.Event()
        self._stop_lock = threading.Lock()
        self._pending_signal: int | None = None
        self._build()

    # --- looking things up
    @property
    def simtime(self) -> bool:
        return self.clock.simulated

    def now(self) -> float:
        """Router time in seconds (simulated time starts at 0)."""
        return self.clock.now()

    def element(self, name: str) -> Element | None:
        """The element with exactly this name, or None."""
        return self._by_name.get(name)

    def find(self, name: str, context: Element | None = None) -> Element:
        """Find ``name`` as Click does, from ``context``'s compound outwards.

        From ``a/b/c``, ``x`` is looked for as ``a/b/x``, then ``a/x``, then
        ``x``. Raises NoSuchElement.
        """
        prefix = context.name.rsplit("/", 1)[0] if context and "/" in context.name else ""
        while True:
            found = self._by_name.get(f"{prefix}/{name}" if prefix else name)
            if found is not None:
                return found
            if not prefix:
                raise NoSuchElement(f"no element named '{name}'")
            prefix = prefix.rsplit("/", 1)[0] if "/" in prefix else ""

    # --- building
    def _build(self) -> None:
        errors = ErrorCollector()
        for kind, value in self.flat.requirements:
            self._require(kind, value, errors)
        classes: list[type[Element]] = []
        for decl in self.flat.elements:
            try:
                classes.append(registry.lookup(decl.class_name, decl.landmark))
            except ConfigError as err:
                errors.absorb(err)
        errors.raise_if_any()
        for decl, cls in zip(self.flat.elements, classes):
            element = cls(decl.name, self, decl.landmark, decl.config)
            self.elements.append(element)
            self._by_name[decl.name] = element
        hook_up(self._by_name, self.flat.connections, errors, self._warn)
        errors.raise_if_any()

    def _require(self, kind: str, value: str, errors: ErrorCollector) -> None:
        if kind == "package":
            try:
                registry.require_package(value)
            except ConfigError as err:
                errors.absorb(err)
        elif kind:
            errors.error(f"require({kind} {value}): unsupported requirement kind '{kind}'")
        elif value not in PROVISIONS:
            errors.error(f"require({value}): requirement '{value}' not available")

    # --- configuring
    def use_simtime(self) -> None:
        """Run in simulated time (an element may ask for it from configure())."""
        if self.scheduler is not None:
            raise RuntimeError("simulated time must be chosen before the router starts")
        if not self.simtime:
            self.clock = SimClock()

    def assign_thread(self, element: Element, cpu: int, landmark: Landmark | None = None) -> None:
        """Run ``element`` on the thread pinned to ``cpu`` (StaticThreadSched)."""
        self._assigned[element.name] = (cpu, landmark)

    def configure(self) -> None:
        """Configure every element; raise one ConfigError holding every element's errors."""
        errors = ErrorCollector()
        for element in self.elements:
            for message in self._configure_one(element):
                errors.error(message)
        errors.raise_if_any()
        self._plan_threads()

    def _configure_one(self, element: Element) -> list[str]:
        args = Args(element.config, element)
        try:
            element.configure(args)
            args.complete()
        except ConfigError as err:
            return _unique(args.errors + [_placed(element, "configuring", m)
                                          for m in err.messages])
        except ValueError as err:
            return args.errors + [_placed(element, "configuring", str(err))]
        except Exception:
            # Reading a bad argument returns None, which may break the code
            # after it: the argument errors are then the real cause.
            if args.errors:
                return list(args.errors)
            raise
        return []

    def _plan_threads(self) -> None:
        """Decide every worker thread's CPU and every element's home thread."""
        placement = place(self._assigned, self._nthreads, sorted(os.sched_getaffinity(0)),
                          self._warn)
        self._thread_cpus = placement.thread_cpus
        for element in self.elements:
            element.home_thread = placement.home.get(element.name, 0)

    def _warn(self, message: str, landmark: Landmark | None) -> None:
        """Keep a Click-style warning line and log it (the log adds the level)."""
        self.warnings.append(f"{landmark}: warning: {message}" if landmark
                             else f"warning: {message}")
        _log.warning("%s", f"{landmark}: {message}" if landmark else message)

    def cpu_of(self, element: Element) -> int:
        """The CPU ``element``'s thread is pinned to; -1 for the unpinned default thread."""
        if not self._thread_cpus:
            # Not planned yet (still configuring): the assignment so far.
            return self._assigned.get(element.name, (-1, None))[0]
        cpu = self._thread_cpus[element.home_thread]
        return -1 if cpu is None else cpu

    @property
    def thread_cpus(self) -> list[int | None]:
        """CPU of each worker thread (None: not pinned), known after configure()."""
        return list(self._thread_cpus)

    # --- running
    def run(self, *, before_cleanup: Callable[[], Any] | None = None,
            handle_signals: bool = True) -> int:
        """Initialize, run until stopped, then clean up; return the exit status.

        ``before_cleanup`` runs after the elements stopped and before any
        cleanup (to read handlers). SIGINT and SIGTERM stop the router when
        ``handle_signals`` is set and this is the main thread. Raises
        ConfigError when initialization fails (after cleaning up).
        """
        restore = self._catch_signals() if handle_signals else None
        try:
            self.initialize()
            try:
                if self._pending_signal is not None:
                    self._stop_for_signal()
                elif not self._stop_event.is_set():
                    self.scheduler.run()
                    if self._pending_signal is not None:
                        self._stop_for_signal()
                self.stop("finished")
                self.scheduler.join(STOP_TIMEOUT)
                if before_cleanup is not None:
                    before_cleanup()
            finally:
                self.cleanup()
        finally:
            if restore is not None:
                restore()
        return self.exit_status

    def initialize(self) -> None:
        """Initialize elements in order; on a failure clean up the initialized ones and raise."""
        if self.scheduler is None:
            if not self._thread_cpus:
                self._plan_threads()
            self.scheduler = (SimScheduler(self, self.clock) if isinstance(self.clock, SimClock)
                              else RealtimeScheduler(self, self._thread_cpus))
        for element in self.elements:
            try:
                element.initialize()
            except Exception as err:
                messages = (err.messages if isinstance(err, ConfigError)
                            else [_describe_exception(err)])
                _log.debug("initialize of %s failed", element.declaration(), exc_info=err)
                self.cleanup()
                raise ConfigError(messages=[_placed(element, "initializing", m)
                                            for m in messages]) from None
            self._initialized.append(element)

    def cleanup(self) -> None:
        """Clean up initialized elements in reverse order; failures are reported, not raised."""
        while self._initialized:
            element = self._initialized.pop()
            try:
                element.cleanup()
            except Exception as err:
                _log.error("%s: cleanup of '%s' failed: %s", element.landmark,
                           element.declaration(), _describe_exception(err),
                           exc_info=_log.isEnabledFor(logging.DEBUG) and err,
                           extra={"element": element.name})

    def active_scheduler(self) -> RealtimeScheduler | SimScheduler:
        """The scheduler, which exists from initialize() on (for timers and tasks)."""
        if self.scheduler is None:
            raise RuntimeError("timers and tasks can only be scheduled from initialize() on")
        return self.scheduler

    def stop(self, reason: str = "") -> None:
        """Ask the router to stop (from any thread); the first reason given is kept."""
        with self._stop_lock:
            if not self.stop_reason:
                self.stop_reason = reason or "stopped"
        self._stop_event.set()
        if self.scheduler is not None:
            self.scheduler.stop()

    @property
    def stopped(self) -> bool:
        return self._stop_event.is_set()

    def wait_for_stop(self) -> None:
        """Block until ``stop()`` (or a caught signal) — used by the real-time scheduler."""
        # A short period so that a signal noted by the handler is acted upon
        # here, outside the handler, where taking locks is safe.
        while not self._stop_event.wait(0.1):
            if self._pending_signal is not None:
                self._stop_for_signal()

    def element_failed(self, element: Element, what: str, err: BaseException) -> None:
        """Report an exception raised by an element's timer or task, and stop with status 1."""
        _log.error("%s: %s of '%s' failed: %s", element.landmark, what, element.declaration(),
                   _describe_exception(err), exc_info=err, extra={"element": element.name})
        self.exit_status = 1
        self.stop(f"{what} of '{element.name}' failed")

    def call_on_home(self, element: Element, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on ``element``'s home thread (directly when not running)."""
        if self.scheduler is None:
            return fn()
        return self.scheduler.call(element, fn)

    # --- signals
    def _catch_signals(self) -> Callable[[], None] | None:
        if threading.current_thread() is not threading.main_thread():
            return None

        def note(signum: int, frame: object) -> None:
            # Only plain assignments here: the interrupted code may hold locks.
            self._pending_signal = signum
            if self.scheduler is not None:
                self.scheduler.stopping = True

        previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}

        def restore() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        return restore

    def _stop_for_signal(self) -> None:
        self.stop(f"received {signal.Signals(self._pending_signal).name}")

    # --- configuration text
    def config_text(self) -> str:
        """The configuration as written, or its flat form when the text is unknown."""
        return self.source if self.source is not None else self.flat_config_text()

    def flat_config_text(self) -> str:
        from pyclick.lang import unparse

        return unparse(self.flat)


def _placed(element: Element, phase: str, message: str) -> str:
    """Give a message without a place the element's landmark and declaration."""
    if _PLACED.match(message):
        return message
    return f"{element.landmark}: While {phase} '{element.declaration()}': {message}"


def _describe_exception(err: BaseException) -> str:
    if isinstance(err, (ValueError, RuntimeError, OSError)) and str(err):
        return str(err)
    return f"{type(err).__name__}: {err}"


def _unique(messages: list[str]) -> list[str]:
    return list(dict.fromkeys(messages))

