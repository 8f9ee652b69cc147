"""Activatable and Switchable: the bases of elements that can be paused."""

from __future__ import annotations

from pyclick.args import BOOL
from pyclick.element import Element, read_handler, write_handler
from pyclick.elements.handlercall import parse_value


class Activatable(Element):
    """The ``active`` (read/write) handler.

    A subclass sets ``self.active`` (whether it does its work) in
    configure(); :meth:`_wake` runs after the ``active`` handler was written.
    """

    registered = False
    active: bool

    @read_handler("active")
    def _read_active(self) -> str:
        return "true" if self.active else "false"

    @write_handler("active")
    def _write_active(self, value: str) -> None:
        self.active = parse_value(BOOL, value)
        self._wake()

    def _wake(self) -> None:
        """Resume work after a handler changed what there is to do; nothing by default."""


class Switchable(Activatable):
    """The ``active`` (read/write) and ``count`` (read) handlers.

    A subclass also sets ``self.count`` (packets handled) in configure().
    """

    registered = False
    count: int

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)
