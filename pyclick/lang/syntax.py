"""The parsed form of a Click program: plain data, one class per construct.

A :class:`Program` is what :func:`pyclick.lang.parse` returns. Nothing here
is resolved yet: whether an identifier names an element or a class, what
variables expand to and which compound overload applies are decided when
the program is flattened. Every node carries the landmark of its first
token, after ``#`` line directives (compound classes, see CompoundClass).

Nodes are named tuples: nothing changes one once it is made, and a
dataclass would cost every run a quarter of a millisecond to make for
each class here (the data classes of the language package, with
``dataclasses`` itself, were three quarters of its import time). Two
nodes are equal when their fields are.
"""

from __future__ import annotations

from typing import NamedTuple, Union

from pyclick.errors import Landmark


class Config(NamedTuple):
    """A configuration string, without its parentheses and kept raw.

    ``closed`` is false when a quote, comment or parenthesis inside it never
    ended, so that the string ran to the end of the input.
    """

    text: str
    closed: bool
    landmark: Landmark


class PortItem(NamedTuple):
    """One item of a port list: ``first`` or ``first-last``, as written."""

    first: str
    last: str | None
    landmark: Landmark


class PortSpec(NamedTuple):
    """``[0]``, ``[0, 2-3]``; ``open`` for ``[]`` or a trailing comma."""

    ranges: tuple[PortItem, ...]
    open: bool
    landmark: Landmark


class ClassName(NamedTuple):
    """A class named by an identifier (primitive, compound or synonym)."""

    name: str
    landmark: Landmark


class Formal(NamedTuple):
    """A compound parameter: ``$var``, or ``KEYWORD $var`` when keyword is set."""

    variable: str
    keyword: str | None
    landmark: Landmark


class CompoundBody(NamedTuple):
    """One definition of a compound class: ``formals | statements``.

    Located at the ``{`` or ``||`` before it (see CompoundClass for the first
    definition of an ``elementclass``).
    """

    formals: tuple[Formal, ...]
    statements: tuple["Statement", ...]
    landmark: Landmark


class CompoundClass(NamedTuple):
    """``{ body || body ... }``; ``extends`` for a final ``|| ...``.

    Located at its ``{``, except that a class defined by ``elementclass``
    starts with the ``//`` comment lines right above the statement, if
    any: its documentation. Errors about the class point there.
    """

    bodies: tuple[CompoundBody, ...]
    extends: bool
    landmark: Landmark


ClassSpec = Union[ClassName, CompoundClass]


class ElementRef(NamedTuple):
    """What stands where an element is expected.

    - ``x``: ``word`` only (an element name or a class, decided later);
    - ``x :: C(config)``: ``word``, ``declared`` and maybe ``config``;
    - ``C(config)``: ``word`` and ``config``;
    - ``{ ... }(config)``: ``declared`` (the compound) and maybe ``config``.
    """

    word: str | None
    declared: ClassSpec | None
    config: Config | None
    landmark: Landmark


class Group(NamedTuple):
    """``( statements )``: an element group, expanded away in place."""

    statements: tuple["Statement", ...]
    landmark: Landmark


class Item(NamedTuple):
    """One element of a comma-separated list, with its optional ports.

    ``target`` is None for a bare port (``[0] -> ...`` inside a group or
    compound); its port is then held in ``in_port``.
    """

    in_port: PortSpec | None
    target: ElementRef | Group | None
    out_port: PortSpec | None
    landmark: Landmark


class Arrow(NamedTuple):
    """``->`` (``many`` false) or ``=>`` (``many`` true)."""

    many: bool
    landmark: Landmark


class Connection(NamedTuple):
    """A chain ``list arrow list arrow ...``; ``len(segments) == len(arrows) + 1``.

    An empty segment is an element list left out at the start or end of a
    chain (implicit ``input``/``output``) or, in the middle, a mistake.
    ``end`` is where what follows the chain ends (``;``, the next statement,
    the end of the text): Click reports output ports left at the end there.
    ``written`` is the statement's text when the parser read it whole from one
    line (:mod:`pyclick.lang.chainline`), which reads it again from that alone:
    the parse cache keeps that text instead of the nodes. It is not part of
    what the connection means.
    """

    segments: tuple[tuple[Item, ...], ...]
    arrows: tuple[Arrow, ...]
    landmark: Landmark
    end: Landmark
    written: str | None = None

    # ``written`` is left out of equality, as it is of the meaning.
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Connection) and self[:4] == other[:4]

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self[:4])


class ElementClassDef(NamedTuple):
    """``elementclass NAME { ... }`` or the synonym ``elementclass NAME OTHER``."""

    name: str
    spec: ClassSpec
    landmark: Landmark


class Define(NamedTuple):
    """``define($NAME value, ...)``."""

    config: Config
    landmark: Landmark


class Require(NamedTuple):
    """``require(package NAME, library FILE, ...)``."""

    config: Config
    landmark: Landmark


Statement = Union[Connection, ElementClassDef, Define, Require]


class Program(NamedTuple):
    """A whole configuration file as parsed."""

    filename: str
    statements: list[Statement]
