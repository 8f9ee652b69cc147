"""The router: a configured element graph and its life, as in Click.

Life of a router::

    router = Router(flat)          # classes resolved, elements created, ports checked
    router.configure()             # every element parses its arguments
    status = router.run()          # initialize in order, run, clean up in reverse

Every port an element has must be connected, as in Click. ``Router(flat,
partial=True)`` leaves that to the caller, with a warning per unconnected
port (a push there drops its packets, a pull there gets none): for a harness
that pushes into an element itself, a plugin's tests for instance.

The router is the one place that wires the pieces together: it owns the
class registry (``pyclick.registry``), the exit guard
(``pyclick.kernel.exitguard``), the handler table, and the scheduling
handle that its elements' timers and tasks reach the scheduler through; it
is the :class:`~pyclick.runtime.host.Host` the schedulers run for.

Simulated time is decided before any element is configured: from the
``simtime`` argument, or because a class in the configuration sets
``simulated_time`` (a simulated NIC). Configuring has no effect on the
router beyond what elements declare (``assign_thread``), so the order of
declarations does not change the outcome.

Order: elements configure in Click's order, by ``configure_phase`` through
Click's own unstable sort (``pyclick.runtime.phaseorder``). They initialize
after every element they name through an ``ELEMENT`` argument, and otherwise
in that same order; the members of a cycle of references go one after the
other in that order too (see ``pyclick.runtime.order``). Cleanup runs in exactly the reverse of
initialization, whatever ended the run:
``stop()``, SIGINT, SIGTERM, a failing timer or task, or an initialize that
failed half-way (then only the elements initialized so far are cleaned up).
A failing cleanup is reported and the others still run.

Every phase reports all the mistakes it finds at once in one ConfigError
(``FILE:LINE: message`` lines).

Threads: elements run on worker threads (see ``pyclick.runtime.threads``).
Without ``threads``, there is one unpinned default thread plus one thread per
CPU named by ``StaticThreadSched``; with ``threads=N``, thread i is pinned to
CPU i and unassigned elements run on thread 0. With simulated time, all
elements run on the thread that called ``run()``.
"""

from __future__ import annotations

import logging
import os
import random
import re
import signal
import threading
from typing import Any, Callable, Sequence, TypeVar

from pyclick import collector
from pyclick.args import Args
from pyclick.element import Element
from pyclick.errors import ConfigError, ErrorCollector, Landmark, NoSuchElement, UnknownClass
from pyclick.kernel.exitguard import ExitGuard
from pyclick.lang.model import FlatConfig
from pyclick.registry import Registry
from pyclick.runtime.clock import RealClock, SimClock
from pyclick.runtime.graph import describe_ports, hook_up
from pyclick.runtime.calls import CallTimedOut
from pyclick.runtime.caughtsignals import Catch, SignalCatcher
from pyclick.runtime.handlers import HANDLER_FAILED, HandlerError, Handlers
from pyclick.runtime.host import Owner
from pyclick.runtime.order import dependency_order
from pyclick.runtime.phaseorder import click_phase_order
from pyclick.runtime.placement import place
from pyclick.runtime.randomness import RandomSeeds
from pyclick.runtime.scheduling import SchedulingHandle
from pyclick.runtime.simloop import SimScheduler
from pyclick.runtime.tasks import Task
from pyclick.runtime.stopsignals import Interrupted, catch, signal_name
from pyclick.runtime.threads import RealtimeScheduler, WorkerThread

#: Provisions that ``require(NAME)`` accepts without importing anything.
PROVISIONS = frozenset({"userlevel", "linux", "int64", "batch", "pyclick", "compact_config"})
#: How long stopping waits for worker threads stuck in a callback.
STOP_TIMEOUT = 5.0
#: At most this many stop events finish a driver script after a signal (Click's bound).
SIGNAL_DRIVER_STEPS = 1000

_log = logging.getLogger("pyclick.router")
_PLACED = re.compile(r"[^:\n]+:\d+: ")


_Kind = TypeVar("_Kind")


class Router:
    """A router built from a flat configuration (see the module docstring)."""

    def __init__(self, flat: FlatConfig, *, threads: int | None = None, simtime: bool = False,
                 source: str | None = None, registry: Registry | None = None,
                 simtime_start: float = 0.0, partial: bool = False) -> None:
        if threads is not None and threads < 1:
            raise ValueError("threads must be at least 1")
        self.flat = flat
        #: The configuration text as written, when known (global ``config`` handler).
        self.source = source
        #: Where element classes come from (``require(package ...)`` adds to it).
        self.registry = registry if registry is not None else Registry()
        #: Undos of kernel changes, run however the process ends.
        self.exit_guard = ExitGuard()
        self.elements: list[Element] = []
        #: ``elements_of`` answers: the elements never change once built.
        self._of_kind: dict[type, tuple[Any, ...]] = {}
        self.handlers = Handlers(self)
        #: Configuration warnings (``FILE:LINE: warning: ...``), also logged.
        self.warnings: list[str] = []
        #: Where simulated time starts (``--simtime=TIME``).
        self._simtime_start = simtime_start
        #: Ports may be left unconnected (a warning each): a harness that
        #: pushes into an element itself. Configurations follow Click's rule.
        self._partial = partial
        self.clock: RealClock | SimClock = SimClock(simtime_start) if simtime else RealClock()
        self.scheduler: RealtimeScheduler | SimScheduler | None = None
        #: Handed to every element: its timers and tasks reach the scheduler through it.
        self.scheduling = SchedulingHandle(self.now)
        #: Every element's random-number generator, from one seed (RandomSeed).
        self.randomness = RandomSeeds()
        #: 0, or 1 once an element failed while running.
        self.exit_status = 0
        self.stop_reason = ""
        #: The signal that stopped the run, if one did.
        self.stop_signal: int | None = None
        self._nthreads = threads
        self._by_name: dict[str, Element] = {}
        #: Each element's index in declaration order (Click's element index).
        self._position: dict[str, int] = {}
        self._assigned: dict[str, tuple[int, Landmark | None]] = {}
        self._thread_cpus: list[int | None] = []
        self._initialized: list[Element] = []
        #: Each element's place in Click's configure order.
        self._phase_rank: dict[int, int] = {}
        #: Elements each element named through ELEMENT arguments (known after configure).
        self._references: dict[int, list[int]] = {}
        self._stop_event = threading.Event()
        self._stop_lock = threading.Lock()
        #: The driver script (DriverManager) and what it does with a driver stop event.
        self._driver: tuple[Element, Callable[[str], Any]] | None = None
        self._stop_requests: list[str] = []
        self._stop_task: Task | None = None
        self._pending_signal: int | None = None
        #: The signals scripts catch (Script TYPE SIGNAL).
        self._catcher = SignalCatcher(self.call_on_home)
        #: Whether the scheduler's loop started (a signal before it ends the run at once).
        self._ran = False
        # True while the scheduler's loop runs on this thread; the SIGALRM
        # handler the stop watchdog replaced while it is armed (see _catch_signals).
        self._looping = False
        self._watchdog: list[Any] = []
        with collector.paused():
            self._build()

    # --- looking things up
    @property
    def simtime(self) -> bool:
        return self.clock.simulated

    @property
    def requirements(self) -> Sequence[tuple[str, str]]:
        """The configuration's ``require`` statements as (kind, value)."""
        return self.flat.requirements

    def now(self) -> float:
        """Router time in seconds (simulated time starts at 0)."""
        return self.clock.now()

    def to_epoch(self, t: float) -> float:
        """Router time ``t`` (a packet's timestamp) as seconds since the epoch:
        the date a capture records or a print shows (simulated time as it is)."""
        return self.clock.to_epoch(t)

    def from_epoch(self, seconds: float) -> float:
        """A date (seconds since the epoch, as a capture holds) as router time."""
        return self.clock.from_epoch(seconds)

    def element(self, name: str) -> Element | None:
        """The element with exactly this name, or None."""
        return self._by_name.get(name)

    def elements_of(self, kind: type[_Kind]) -> Sequence[_Kind]:
        """The elements that are ``kind`` (a class, or a runtime-checkable
        protocol), in declaration order."""
        found = self._of_kind.get(kind)
        if found is None:
            found = self._of_kind[kind] = tuple(e for e in self.elements if isinstance(e, kind))
        return found

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
        classes = element_classes(self.flat, self.registry, errors)
        errors.raise_if_any()
        if any(cls.simulated_time for cls in classes):
            self.clock = SimClock(self._simtime_start)
        for decl, cls in zip(self.flat.elements, classes):
            element = cls(decl.name, self, decl.landmark, decl.config)
            self.elements.append(element)
            self._by_name[decl.name] = element
        hook_up(self._by_name, self.flat.connections, errors, self._warn, self._partial)
        errors.raise_if_any()
        self._position = {element.name: i for i, element in enumerate(self.elements)}

    def random_source(self, element: Element) -> random.Random:
        """``element``'s own random-number generator (``pyclick.runtime.randomness``)."""
        return self.randomness.generator(element.name)

    def seed_random(self, seed: int | None) -> None:
        """Restart every element's generator from ``seed``; None: fresh entropy."""
        self.randomness.reseed(seed)

    # --- configuring
    def assign_thread(self, element: Element, cpu: int, landmark: Landmark | None = None) -> None:
        """Run ``element`` on the thread pinned to ``cpu`` (StaticThreadSched)."""
        self._assigned[element.name] = (cpu, landmark)

    def configure(self) -> None:
        """Configure every element in Click's phase order; raise one ConfigError
        holding every element's errors."""
        errors = ErrorCollector()
        index = {id(element): i for i, element in enumerate(self.elements)}
        with collector.paused():
            ranks = self._phase_ranks()
            for i in sorted(ranks, key=ranks.__getitem__):
                element = self.elements[i]
                args = Args(element.config, element)
                for message in self._configure_one(element, args):
                    errors.error(message)
                self._references[i] = [index[id(named)] for named in args.references]
        errors.raise_if_any()
        self._plan_threads()

    def _phase_ranks(self) -> dict[int, int]:
        """Each element index's place in Click's configure order."""
        if len(self._phase_rank) != len(self.elements):
            order = click_phase_order([type(e).configure_phase for e in self.elements])
            self._phase_rank = {i: rank for rank, i in enumerate(order)}
        return self._phase_rank

    def _phase_key(self, i: int) -> tuple[int, int]:
        return (self._phase_ranks()[i], i)

    def initialization_order(self) -> list[Element]:
        """The order ``initialize()`` follows (see the module docstring)."""
        indices = range(len(self.elements))
        order = dependency_order(indices, {i: self._phase_key(i) for i in indices},
                                 self._references)
        return [self.elements[i] for i in order]

    def reconfigure(self, element: Element, config: str) -> None:
        """Configure a running ``element`` again from ``config`` (its ``config``
        write handler). On any error the element is left exactly as it was and
        ValueError holds every message."""
        args = Args(config, element)
        before = dict(vars(element))
        messages = self._configure_one(element, args, element.live_reconfigure)
        if messages:
            vars(element).clear()
            vars(element).update(before)
            # The handler's caller names the element: the messages need not.
            prefix = f"{element.landmark}: While configuring '{element.declaration()}': "
            raise ValueError("\n".join(m.removeprefix(prefix) for m in messages))
        element.config = config

    def _configure_one(self, element: Element, args: Args,
                       configure: Callable[[Args], None] | None = None) -> list[str]:
        try:
            (configure or element.configure)(args)
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
        available = sorted(os.sched_getaffinity(0))
        if self.simtime:
            # Simulated time pins nothing and runs every thread's work on one
            # thread: the CPUs a configuration names are simulated, all there.
            named = [cpu for cpu, _ in self._assigned.values()]
            available = list(range(max(named + [(self._nthreads or 1) - 1, 0]) + 1))
        placement = place(self._assigned, self._nthreads, available, self._warn)
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
        cleanup (to read handlers). When ``handle_signals`` is set and this
        is the main thread, SIGINT, SIGTERM, SIGHUP and SIGQUIT stop the
        router in order (``stop_signal`` tells which), and the signals signal
        scripts catch run them (``catch_signals``); a second signal, or a
        first one the simulated-time loop does not heed within
        ``STOP_TIMEOUT`` (a callback stuck on this thread), raises
        :class:`~pyclick.runtime.stopsignals.Interrupted` after stopping the
        threads and cleaning up. Raises ConfigError when initialization
        fails (after cleaning up).
        """
        restore = self._catch_signals() if handle_signals else None
        try:
            try:
                self.initialize()
                if handle_signals:
                    self._catch_script_signals()
                if self._pending_signal is None and not self._stop_event.is_set():
                    self._loop()
                if self._pending_signal is not None:
                    self._stop_for_signal(self._pending_signal)
                self._end_loop()
                if before_cleanup is not None:
                    before_cleanup()
            except Interrupted as err:
                # Not heeded in time, or a second signal: no more script either.
                self._stop_for_signal(err.signum, finish_driver=False)
                self._end_loop()
                raise
            finally:
                self._catcher.close(STOP_TIMEOUT)
                self.cleanup()
        finally:
            if restore is not None:
                restore()
        return self.exit_status

    def _loop(self) -> None:
        self._looping = True
        self._ran = True
        try:
            self.scheduler.run()
        finally:
            self._looping = False
            self._disarm_watchdog()

    def _end_loop(self) -> None:
        """Stop the scheduler and wait (bounded) for its threads."""
        self.stop("finished")
        if self.scheduler is not None:
            self.scheduler.join(STOP_TIMEOUT)
            if self.scheduler.failed:
                self.exit_status = 1

    def initialize(self) -> None:
        """Initialize elements in order; on a failure clean up the initialized ones and raise."""
        if self.scheduler is None:
            if not self._thread_cpus:
                self._plan_threads()
            self.scheduler = (SimScheduler(self, self.clock) if isinstance(self.clock, SimClock)
                              else RealtimeScheduler(self, self._thread_cpus, self.clock))
            self.scheduling.bind(self.scheduler)
        order = self.initialization_order()
        # Every element's handlers first (Click's add_handlers), then the initializes.
        for element in order:
            self._start(element, element.add_handlers)
        for element in order:
            self._start(element, element.initialize)
            self._initialized.append(element)

    def _start(self, element: Element, step: Callable[[], None]) -> None:
        """Run one start-up step of ``element``; on a failure clean up the initialized
        elements and raise a ConfigError placed at the element."""
        try:
            step()
        except Exception as err:
            messages = (err.messages if isinstance(err, ConfigError)
                        else [_describe_exception(err)])
            _log.debug("initialize of %s failed", element.declaration(), exc_info=err)
            self.cleanup()
            raise ConfigError(messages=[_placed(element, "initializing", m)
                                        for m in messages]) from None

    def cleanup(self) -> None:
        """Clean up initialized elements in reverse order of initialization; failures are
        reported, not raised."""
        while self._initialized:
            element = self._initialized.pop()
            try:
                element.cleanup()
            except Exception as err:
                _log.error("cleanup of '%s' failed: %s", element.declaration(),
                           _describe_exception(err),
                           exc_info=_log.isEnabledFor(logging.DEBUG) and err,
                           extra={"element": element.name, "landmark": str(element.landmark)})

    def worker_threads(self) -> list[WorkerThread]:
        """The real-time worker threads, from initialize() on; none in simulated time."""
        if isinstance(self.scheduler, RealtimeScheduler):
            return list(self.scheduler.workers)
        return []

    def stop(self, reason: str = "") -> None:
        """Ask the router to stop (from any thread); the first reason given is kept."""
        with self._stop_lock:
            if not self.stop_reason:
                self.stop_reason = reason or "stopped"
        self._stop_event.set()
        if self.scheduler is not None:
            self.scheduler.stop()

    def please_stop_driver(self, reason: str = "") -> None:
        """A driver stop event, as Click's ``please_stop_driver`` (a source's STOP,
        the ``stop`` handler): it takes effect on the driver's thread before its
        next task, as Click looks at its stop flag before every task (packets
        still in a Queue stay there, as in Click); a driver script
        (DriverManager), if any, hears it instead. Before the router runs, and
        after it stopped, it stops at once."""
        if self.scheduling.scheduler is None or self.stopped:
            self.stop(reason)
            return
        with self._stop_lock:
            self._stop_requests.append(reason or "stopped")
            if self._stop_task is None:
                owner = self._driver[0] if self._driver else _DriverThread(self.scheduling)
                self._stop_task = Task(owner, self._run_stop_events)
            task = self._stop_task
        task.reschedule_first()

    def attach_driver(self, element: Element, on_stop_event: Callable[[str], Any]) -> None:
        """Make ``element`` the driver script (see ``please_stop_driver``)."""
        if self._driver is not None and self._driver[0] is not element:
            raise ValueError("router has more than one driver script")
        self._driver = (element, on_stop_event)

    def _run_stop_events(self) -> bool:
        with self._stop_lock:
            reasons, self._stop_requests = self._stop_requests, []
        for reason in reasons:
            if self._driver is None:
                self.stop(reason)
                break
            self._driver[1](reason)
        return False

    @property
    def stopped(self) -> bool:
        return self._stop_event.is_set()

    def wait_for_stop(self) -> None:
        """Block until ``stop()`` (or a caught signal) — used by the real-time scheduler."""
        # A short period so that a signal noted by the handler is acted upon
        # here, outside the handler, where taking locks is safe.
        while not self._stop_event.wait(0.1):
            if self._pending_signal is not None:
                self._stop_for_signal(self._pending_signal)

    def element_failed(self, owner: Owner, what: str, err: BaseException) -> None:
        """Report an exception raised by an element's timer or task, and stop with status 1."""
        element = self._by_name.get(owner.name)
        declaration = element.declaration() if element is not None else owner.name
        # A described failure (bad data, a device error) is its message; only
        # an unexpected exception, a bug, shows its traceback without -v.
        trace = _log.isEnabledFor(logging.DEBUG) or not _is_described(err)
        _log.error("%s of '%s' failed: %s", what, declaration, _describe_exception(err),
                   exc_info=err if trace else None,
                   extra={"element": owner.name, "landmark": str(owner.landmark)})
        self.exit_status = 1
        self.stop(f"{what} of '{owner.name}' failed")

    def call_on_home(self, element: Owner, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on ``element``'s home thread (directly when not running).

        Once stopped, a thread still stuck in a callback is given a few
        seconds; then the call fails as a handler does (520), with the reason.
        """
        if self.scheduler is None:
            return fn()
        try:
            return self.scheduler.call(element, fn)
        except CallTimedOut as err:
            raise HandlerError(HANDLER_FAILED, str(err)) from None

    # --- signals
    def _catch_signals(self) -> Callable[[], None] | None:
        if threading.current_thread() is not threading.main_thread():
            return None

        def note(signum: int, frame: object) -> None:
            if self._pending_signal is not None:
                # A second signal: whoever sent it will not wait for the
                # orderly stop any longer.
                raise Interrupted(signum)
            # No locks here (the interrupted code may hold them): flags only,
            # acted upon by wait_for_stop and run.
            self._pending_signal = signum
            if self.stop_signal is None:
                self.stop_signal = signum  # even in cleanup: the process ends as signalled
            if self.scheduler is not None:
                self.scheduler.stopping = True
            if self._looping:
                # The simulated-time loop runs callbacks on this thread: one
                # stuck there would never see the flag.
                self._watchdog.append(signal.signal(signal.SIGALRM, overdue))
                signal.setitimer(signal.ITIMER_REAL, STOP_TIMEOUT)

        def overdue(signum: int, frame: object) -> None:
            if self._looping and self._pending_signal is not None:
                raise Interrupted(self._pending_signal)

        restore_stop = catch(note)

        def restore() -> None:
            self._disarm_watchdog()
            restore_stop()

        return restore

    def catch_signals(self, element: Element, signums: Sequence[int],
                      run: Callable[[], Any]) -> Catch:
        """Run ``run`` on ``element``'s home thread when one of ``signums`` arrives
        while the router runs (see ``pyclick.runtime.caughtsignals``)."""
        return self._catcher.add(element, signums, run)

    def _catch_script_signals(self) -> None:
        if not self._catcher.start():
            names = ", ".join(c.owner.name for c in self._catcher.catches)
            _log.warning("%s: signals are caught only by a router run on the main thread",
                         names)

    def _disarm_watchdog(self) -> None:
        if self._watchdog:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._watchdog.pop())

    def _stop_for_signal(self, signum: int, finish_driver: bool = True) -> None:
        """Stop for a caught signal. As in Click, a signal is a stop event the
        driver script (DriverManager) cannot refuse: once the router ran, the
        script's remaining instructions run, each wait ended by another event
        (at most SIGNAL_DRIVER_STEPS of them), before the router stops."""
        if self.stop_signal is None:
            self.stop_signal = signum
        reason = f"received {signal_name(signum)}"
        if finish_driver and self._driver is not None and self._ran and not self.stopped:
            self._finish_driver(reason)
        self.stop(reason)

    def _finish_driver(self, reason: str) -> None:
        element, on_stop_event = self._driver

        def finish() -> None:
            for _ in range(SIGNAL_DRIVER_STEPS):
                if self.stopped:
                    return
                on_stop_event(reason)

        try:
            self.call_on_home(element, finish)
        except HandlerError as err:
            _log.error("%s: %s", element.declaration(), err.message)

    def ports_text(self, element: Element) -> str:
        """The ``ports`` handler of ``element``: its ports and their connections."""
        return describe_ports(element, self.flat.connections, self._position)

    def class_names(self) -> list[str]:
        """Every element class the registry knows, by name: built-in, on the
        search path and from plugins (imports them all)."""
        return list(self.registry.all_classes())

    # --- configuration text
    def config_text(self) -> str:
        """The configuration as written, or its flat form when the text is unknown
        or ``require(compact_config)`` asks not to keep it (as Click does)."""
        if self.source is None or ("", "compact_config") in self.flat.requirements:
            return self.flat_config_text()
        return self.source

    def flat_config_text(self) -> str:
        """The flattened configuration with every element's configuration as it
        is now (as Click's ``flatconfig``: handlers may have changed some)."""
        from pyclick.lang import unparse

        return unparse(self.flat, {e.name: e.config for e in self.elements})


class _DriverThread:
    """The owner of the router's own task (driver stop events without a driver
    script): thread 0, where Click's driver runs."""

    name = "router"
    landmark = Landmark("<router>", 0)
    home_thread = 0

    def __init__(self, scheduling: SchedulingHandle) -> None:
        self.scheduling = scheduling


def _placed(element: Element, phase: str, message: str) -> str:
    """Give a message without a place the element's landmark and declaration."""
    if _PLACED.match(message):
        return message
    return f"{element.landmark}: While {phase} '{element.declaration()}': {message}"


def _is_described(err: BaseException) -> bool:
    """Whether the exception's message says all a user needs (no traceback)."""
    return isinstance(err, (ValueError, RuntimeError, OSError, ConfigError)) and bool(str(err))


def _describe_exception(err: BaseException) -> str:
    if _is_described(err):
        return str(err)
    return f"{type(err).__name__}: {err}"


def _unique(messages: list[str]) -> list[str]:
    return list(dict.fromkeys(messages))


def element_classes(flat: FlatConfig, registry: Registry, errors: ErrorCollector
                    ) -> list[type[Element]]:
    """The class of each of ``flat``'s elements, from ``registry`` once the
    configuration's requirements are met (a package adds its classes); every
    failure goes to ``errors``, and the list is then short of those elements.

    As Click, an unknown class is reported once, where it is first used: as an
    undeclared element where it was written as one (``Foo(1) -> ...``).
    """
    for kind, value in flat.requirements:
        _require(flat, registry, kind, value, errors)
    classes: list[type[Element]] = []
    unknown: set[str] = set()
    for decl in flat.elements:
        try:
            classes.append(registry.lookup(decl.class_name, decl.landmark))
        except UnknownClass as err:
            if err.class_name not in unknown:
                unknown.add(err.class_name)
                what = "undeclared element" if decl.by_class else "unknown element class"
                errors.error(f"{what} '{err.class_name}'{err.why}", decl.landmark)
        except ConfigError as err:
            errors.absorb(err)
    return classes


def class_errors(flat: FlatConfig, registry: Registry) -> list[str]:
    """What ``element_classes`` finds wrong with ``flat``: reported with the
    language's mistakes when the text has some (``pyclick.lang.flatten``)."""
    errors = ErrorCollector()
    element_classes(flat, registry, errors)
    return errors.messages


def _require(flat: FlatConfig, registry: Registry, kind: str, value: str,
             errors: ErrorCollector) -> None:
    landmark = flat.requirement_landmarks.get((kind, value))
    if kind == "package":
        try:
            registry.require_package(value, landmark)
        except ConfigError as err:
            errors.absorb(err)
    elif kind:
        errors.error(f"require({kind} {value}): unsupported requirement kind '{kind}'",
                     landmark)
    elif value not in PROVISIONS:
        errors.error(f"require({value}): requirement '{value}' not available", landmark)
