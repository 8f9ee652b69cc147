"""Names for addresses: how an address argument finds what an AddressInfo defines.

An element that defines address names for its router (AddressInfo) offers
:class:`AddressBook`. A name is visible from the compound that holds the
book and from every compound inside it, as in Click: from an element named
``a/b/x``, a name is looked for among the books of compound ``a/b/``, then
``a/``, then the top level. Within one compound, books are asked in
declaration order.

The address argument types of ``pyclick.elements.inet`` call
:func:`find_address` when their text is not a literal address; it reads the
reading element's router, so the name may be defined before or after the
element that uses it (AddressInfo configures first, as in Click).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, Callable, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from pyclick.args import Args
    from pyclick.element import Element

Book = TypeVar("Book")


class AddressKind(enum.Enum):
    """What kind of address a name stands for, and the suffixes that ask for it."""

    IP = ("ip", "ip4")
    IPNET = ("net", "ipnet", "ip4net")
    ETHER = ("eth", "ether", "ethernet")
    IP6 = ("ip6",)
    IP6NET = ("ip6net",)

    @property
    def suffixes(self) -> tuple[str, ...]:
        return self.value


@runtime_checkable
class AddressBook(Protocol):
    """An element that defines address names (AddressInfo); its element name
    says which compound its names belong to."""

    def address_definition(self, name: str, kind: AddressKind) -> Any | None:
        """What ``name`` stands for as a ``kind`` address, or None: 4 bytes (IP),
        (4 bytes, prefix length) (IPNET), 6 bytes (ETHER), 16 bytes (IP6),
        (16 bytes, prefix length) (IP6NET)."""


def compound_of(name: str) -> str:
    """The compound an element name lives in, with its trailing slash (``a/b/``), or ""."""
    return name[:name.rfind("/") + 1]


def split_suffix(text: str, kind: AddressKind) -> str | None:
    """``text`` without a suffix asking for ``kind`` (``me:ip`` -> ``me``); the text
    itself when it has no suffix; None when its suffix asks for another kind."""
    colon = text.rfind(":")
    if colon < 0:
        return text
    return text[:colon] if text[colon + 1:].lower() in kind.suffixes else None


def find_address(text: str, kind: AddressKind, args: Args | None) -> Any | None:
    """The ``kind`` address a name stands for, seen from the element reading
    ``args`` (see the module docstring); None when no book defines it."""
    name = text.strip()
    if not name:
        return None
    return find_in_scope(args.element if args is not None else None, AddressBook,
                         lambda book: book.address_definition(name, kind))


def find_in_scope(element: Element | None, book_type: type[Book],
                  ask: Callable[[Book], Any | None]) -> Any | None:
    """The first answer ``ask`` gets from the elements of ``book_type`` (books
    of names of any kind: addresses, ports, annotations) that ``element``
    sees, nearest compound first (see the module docstring); None when none
    answers or without an element."""
    if element is None:
        return None
    books = [(compound_of(other.name), other) for other in element.router.elements_of(book_type)]
    scope = compound_of(element.name)
    while True:
        for home, book in books:
            if home == scope:
                found = ask(book)
                if found is not None:
                    return found
        if not scope:
            return None
        scope = compound_of(scope[:-1])
