"""An instrument that proves single ownership of flow tables.

A ``CheckedFlowTable`` remembers which thread holds it and records a
violation in its ``OwnershipCheck`` whenever

- a thread other than the holder uses it (two threads in one table),
- two threads are inside it at the same moment,
- a thread bound to another core uses it,
- it is used while in transit between two cores, or handed over by a
  thread that does not hold it.

Holding is tracked through the hand-off announcements (``placed``,
``released``, ``adopted``), not through timing, so a broken protocol is
caught even when the interpreter happens to run the two threads one after
the other. The instrument takes a lock of its own on every access: it is
for tests and debugging (FlowIPManager's ``CHECK true``), not production.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Hashable

from pyclick.flow.cores import current_core
from pyclick.flow.table import FlowEntry, FlowTable


class OwnershipCheck:
    """Collects the violations found by the checked tables that share it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.violations: list[str] = []

    def record(self, table: FlowTable, message: str) -> None:
        self.violations.append(f"bucket {table.bucket}: {message} "
                               f"(thread {threading.current_thread().name})")


class CheckedFlowTable(FlowTable):
    """A FlowTable that reports every access breaking single ownership."""

    __slots__ = ("_check", "_core", "_holder", "_in_transit", "_inside")

    def __init__(self, bucket: int, capacity: int, factory: Callable[[], Any],
                 check: OwnershipCheck) -> None:
        super().__init__(bucket, capacity, factory)
        self._check = check
        self._core: int | None = None
        self._holder: int | None = None
        self._in_transit = False
        self._inside: int | None = None

    def lookup(self, key: Hashable, now: float) -> FlowEntry | None:
        self._enter()
        try:
            return super().lookup(key, now)
        finally:
            self._leave()

    def expire(self, idle_since: float) -> int:
        self._enter()
        try:
            return super().expire(idle_since)
        finally:
            self._leave()

    def placed(self, core: int) -> None:
        with self._check.lock:
            self._core, self._holder, self._in_transit = core, None, False

    def released(self, core: int) -> None:
        me = threading.get_ident()
        with self._check.lock:
            if self._in_transit:
                self._check.record(self, f"core {core} released a table already in transit")
            elif self._holder not in (None, me):
                self._check.record(self, f"core {core} released a table another thread holds")
            elif self._core != core:
                self._check.record(self, f"core {core} released a table of core {self._core}")
            self._holder, self._in_transit = None, True

    def adopted(self, core: int) -> None:
        with self._check.lock:
            if not self._in_transit:
                self._check.record(self, f"core {core} adopted a table nobody released")
            self._core, self._holder, self._in_transit = core, threading.get_ident(), False

    def _enter(self) -> None:
        me = threading.get_ident()
        bound = current_core()
        with self._check.lock:
            if self._inside is not None and self._inside != me:
                self._check.record(self, "two threads inside the table at once")
            if self._in_transit:
                self._check.record(self, "table used while in transit between cores")
            elif self._holder is None:
                self._holder = me  # the first user of a placed table claims it
            elif self._holder != me:
                self._check.record(self, "table used by a thread that does not hold it")
            if bound is not None and bound != self._core:
                self._check.record(self, f"core {bound} used a table of core {self._core}")
            self._inside = me

    def _leave(self) -> None:
        with self._check.lock:
            self._inside = None
