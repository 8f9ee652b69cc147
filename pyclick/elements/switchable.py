"""Switchable: the base of elements that can be paused and count their packets."""

from __future__ import annotations

from pyclick.args import BOOL
from pyclick.element import Element, read_handler, write_handler
from pyclick.elements.handlercall import parse_value


class Switchable(Element):
    """The ``active`` (read/write) and ``count`` (read) handlers.

    A subclass sets ``self.active`` (whether it does its work) and
    ``self.count`` (packets handled) in configure(); :meth:`_wake` runs
    after the ``active`` handler was written.
    """

    registered = False
    active: bool
    count: int

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)

    @read_handler("active")
    def _read_active(self) -> str:
        return "true" if self.active else "false"

    @write_handler("active")
    def _write_active(self, value: str) -> None:
        self.active = parse_value(BOOL, value)
        self._wake()

    def _wake(self) -> None:
        """Resume work after a handler changed what there is to do; nothing by default."""
