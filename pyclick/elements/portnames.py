"""Names for TCP and UDP ports: how a port argument finds what a PortInfo defines.

An element that names ports (PortInfo) offers :class:`PortBook`. Its names
are seen as AddressInfo's are (``pyclick.elements.addressnames``): from the
compound that holds it and every compound inside it, the nearest first.

:data:`TCP_PORT` and :data:`UDP_PORT` read a port argument as Click does: a
name a PortInfo defines for the protocol, else a well-known service name
(``www``, ``ssh``...), else a number; 0 to 65535.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Protocol, runtime_checkable

from pyclick.args import UNSIGNED
from pyclick.classify.ippatterns import PORTS
from pyclick.elements.addressnames import find_in_scope
from pyclick.elements.ipproto import TCP, UDP

if TYPE_CHECKING:
    from pyclick.args import Args
    from pyclick.element import Element

PORT_NUMBER = UNSIGNED.range(0, 65535)


@runtime_checkable
class PortBook(Protocol):
    """An element that names ports (PortInfo)."""

    def port_definition(self, name: str, protocol: int) -> int | None:
        """The port ``name`` stands for with IP protocol ``protocol``, or None."""


def find_port(name: str, protocol: int, element: Element | None) -> int | None:
    """The ``protocol`` port a PortInfo seen from ``element`` names ``name``; None if none."""
    return find_in_scope(element, PortBook, lambda book: book.port_definition(name, protocol))


def port_arg(protocol: int) -> Callable[[str, Args | None], int]:
    """The type of a port of IP protocol ``protocol`` (see the module docstring)."""

    def parse(text: str, args: Args | None) -> int:
        word = text.strip()
        named = find_port(word, protocol, args.element if args is not None else None)
        if named is None:
            named = PORTS.get(word)
        return PORT_NUMBER(word if named is None else str(named), args)

    return parse


TCP_PORT, UDP_PORT = port_arg(TCP), port_arg(UDP)
