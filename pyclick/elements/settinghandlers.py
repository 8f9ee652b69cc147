"""A read and a write handler for one setting of an element, as Click's
keyword handlers: reading prints the setting, writing replaces it with the
text read as the configuration argument type reads it (:func:`parse_value`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyclick.args import ArgType
from pyclick.element import read_handler, write_handler
from pyclick.elements.handlercall import parse_value


def setting_handlers(name: str, arg_type: ArgType, unparse: Callable[[Any], str] = str,
                     ) -> tuple[Callable[[Any], str], Callable[[Any, str], None]]:
    """The read and write handlers ``name`` of the element attribute ``name``,
    to be bound in a class body (``_read_src, _write_src = setting_handlers(...)``)."""

    @read_handler(name)
    def read(element: Any) -> str:
        return unparse(getattr(element, name))

    @write_handler(name)
    def write(element: Any, value: str) -> None:
        setattr(element, name, parse_value(arg_type, value))

    return read, write
