"""A read and a write handler for one setting of an element, as Click's
keyword handlers: reading prints the setting, writing replaces it with the
text read as the configuration argument type reads it (:func:`parse_value`)
and, for a setting given as a configuration argument, sets that argument
of ``config`` too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyclick.args import ArgType
from pyclick.element import read_handler, reconfigures, write_handler
from pyclick.elements.handlercall import parse_value


def setting_handlers(name: str, arg_type: ArgType, unparse: Callable[[Any], str] = str,
                     argument: tuple[int | None, str] | None = None,
                     ) -> tuple[Callable[[Any], str], Callable[[Any, str], None]]:
    """The read and write handlers ``name`` of the element attribute ``name``,
    to be bound in a class body (``_read_src, _write_src = setting_handlers(...)``).
    ``argument``: the (position, KEYWORD) of the setting in the configuration,
    when a write sets it there too."""

    @read_handler(name)
    def read(element: Any) -> str:
        return unparse(getattr(element, name))

    def write(element: Any, value: str) -> None:
        setattr(element, name, parse_value(arg_type, value))

    if argument is not None:
        write = reconfigures(*argument)(write)
    return read, write_handler(name)(write)
