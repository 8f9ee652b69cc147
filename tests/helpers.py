"""What several test files share: routers built from element tuples, the
ConfigError a step raises, and handler values printed by ``pyclick -h``."""

from __future__ import annotations

import inspect
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import pytest

from pyclick.errors import ConfigError, Landmark
from pyclick.lang.model import FlatConfig, FlatConnection, FlatElement
from pyclick.router import Router
from pyclick.runtime.clock import RealClock, SimClock
from pyclick.runtime.scheduling import SchedulingHandle
from pyclick.runtime.simloop import SimScheduler
from pyclick.runtime.threads import RealtimeScheduler

#: An element: ``(name, class, config)``.
Declaration = tuple[str, str, str]
#: A connection: ``(from element, output, to element, input)``.
Connection = tuple[str, int, str, int]


def flat_config(elements: Iterable[Declaration], connections: Iterable[Connection] = (), *,
                at: Landmark | str) -> FlatConfig:
    """The flat graph of ``elements`` and ``connections``, all declared at
    landmark ``at``; when ``at`` is a file name, element i is on its line i
    (from 1) and the connections on the lines after the elements."""
    elements = list(elements)

    def line(number: int) -> Landmark:
        return at if isinstance(at, Landmark) else Landmark(at, number)

    return FlatConfig(
        [FlatElement(name, cls, config, line(i))
         for i, (name, cls, config) in enumerate(elements, 1)],
        [FlatConnection(a, out, b, in_, line(len(elements) + i))
         for i, (a, out, b, in_) in enumerate(connections, 1)])


def configured_router(elements: Iterable[Declaration], connections: Iterable[Connection] = (),
                      *, at: Landmark | str, partial: bool = True, **options: Any) -> Router:
    """A configured Router of ``flat_config(elements, connections, at=at)``;
    ``options`` go to Router (``simtime``, ``threads``). The tests push into
    the elements themselves: ports may be left unconnected unless ``partial``
    is False."""
    router = Router(flat_config(elements, connections, at=at), partial=partial, **options)
    router.configure()
    return router


def config_error_of(step: Callable[..., object], *args: Any, **kwargs: Any) -> ConfigError:
    """The ConfigError that ``step(*args, **kwargs)`` raises (the test fails without one)."""
    with pytest.raises(ConfigError) as caught:
        step(*args, **kwargs)
    return caught.value


def handler_values(capsys: pytest.CaptureFixture[str], argv: list[str],
                   *names: str) -> list[str]:
    """Run the command line with ``argv`` and ``-h NAME`` for each of ``names``;
    the values it prints, in order (a bare value for one handler, ``NAME:``
    headers for several, as click(1) prints them)."""
    from pyclick.cli import main

    for name in names:
        argv = [*argv, "-h", name]
    assert main(argv) == 0
    out = capsys.readouterr().out
    if len(names) == 1:
        return [out.rstrip("\n")]
    values = []
    for name in names:
        head = f"{name}:\n"
        start = out.index(head) + len(head)
        values.append(out[start:out.index("\n\n", start)])
    return values


def manual_example(cls: type) -> str | None:
    """The configuration under the Example section of an element class's manual."""
    lines = inspect.cleandoc(cls.__doc__ or "").splitlines()
    for header in ("Example", "Examples"):
        if header in lines:
            return "\n".join(lines[lines.index(header) + 1:])
    return None


# --- the runtime without a router

class FakeHost:
    """A Host for the runtime alone: a clock, and notes of what it was told."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.scheduler = SimScheduler(self, clock)
        self.stops: list[str] = []
        self.failures: list[tuple[str, str, str]] = []

    def now(self) -> float:
        return self.clock.now()

    def stop(self, reason: str = "") -> None:
        self.stops.append(reason)
        self.scheduler.stop()

    def element_failed(self, owner, what: str, err: BaseException) -> None:
        self.failures.append((owner.name, what, str(err)))

    def wait_for_stop(self) -> None:
        raise AssertionError("the simulated loop never waits")


class RealHost:
    """A Host for the real-time scheduler alone, one unpinned worker thread; a
    failing callback stops it."""

    def __init__(self) -> None:
        self.clock = RealClock()
        self.scheduler = RealtimeScheduler(self, [None], self.clock)
        self.failures: list[tuple[str, str, str]] = []
        self._stopped = threading.Event()

    def now(self) -> float:
        return self.clock.now()

    def stop(self, reason: str = "") -> None:
        self.scheduler.stop()
        self._stopped.set()

    def element_failed(self, owner, what: str, err: BaseException) -> None:
        self.failures.append((owner.name, what, str(err)))
        self.stop()

    def wait_for_stop(self) -> None:
        self._stopped.wait()


def bound_scheduling(host: FakeHost | RealHost) -> SchedulingHandle:
    """A scheduling handle bound to ``host``'s scheduler, for owners made by hand."""
    handle = SchedulingHandle(host.now)
    handle.bind(host.scheduler)
    return handle


@dataclass
class FakeOwner:
    name: str
    scheduling: SchedulingHandle
    landmark: Landmark = Landmark("fake", 1)
    home_thread: int = 0
