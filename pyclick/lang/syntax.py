"""The parsed form of a Click program: plain data, one class per construct.

A :class:`Program` is what :func:`pyclick.lang.parse` returns. Nothing here
is resolved yet: whether an identifier names an element or a class, what
variables expand to and which compound overload applies are decided when
the program is flattened. Every node carries the landmark of its first
token, after ``#`` line directives (compound classes, see CompoundClass).

The parser makes these nodes by the thousand, so they are plain slotted
dataclasses rather than frozen ones (which cost twice as much to make);
nothing changes a node once the parser has made it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from pyclick.errors import Landmark


@dataclass(slots=True)
class Config:
    """A configuration string, without its parentheses and kept raw.

    ``closed`` is false when a quote, comment or parenthesis inside it never
    ended, so that the string ran to the end of the input.
    """

    text: str
    closed: bool
    landmark: Landmark


@dataclass(slots=True)
class PortItem:
    """One item of a port list: ``first`` or ``first-last``, as written."""

    first: str
    last: str | None
    landmark: Landmark


@dataclass(slots=True)
class PortSpec:
    """``[0]``, ``[0, 2-3]``; ``open`` for ``[]`` or a trailing comma."""

    ranges: tuple[PortItem, ...]
    open: bool
    landmark: Landmark


@dataclass(slots=True)
class ClassName:
    """A class named by an identifier (primitive, compound or synonym)."""

    name: str
    landmark: Landmark


@dataclass(slots=True)
class Formal:
    """A compound parameter: ``$var``, or ``KEYWORD $var`` when keyword is set."""

    variable: str
    keyword: str | None
    landmark: Landmark


@dataclass(slots=True)
class CompoundBody:
    """One definition of a compound class: ``formals | statements``.

    Located at the ``{`` or ``||`` before it (see CompoundClass for the first
    definition of an ``elementclass``).
    """

    formals: tuple[Formal, ...]
    statements: tuple["Statement", ...]
    landmark: Landmark


@dataclass(slots=True)
class CompoundClass:
    """``{ body || body ... }``; ``extends`` for a final ``|| ...``.

    Located at its ``{``, except that a class defined by ``elementclass``
    starts with the ``//`` comment lines right above the statement, if
    any: its documentation. Errors about the class point there.
    """

    bodies: tuple[CompoundBody, ...]
    extends: bool
    landmark: Landmark


ClassSpec = Union[ClassName, CompoundClass]


@dataclass(slots=True)
class ElementRef:
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


@dataclass(slots=True)
class Group:
    """``( statements )``: an element group, expanded away in place."""

    statements: tuple["Statement", ...]
    landmark: Landmark


@dataclass(slots=True)
class Item:
    """One element of a comma-separated list, with its optional ports.

    ``target`` is None for a bare port (``[0] -> ...`` inside a group or
    compound); its port is then held in ``in_port``.
    """

    in_port: PortSpec | None
    target: ElementRef | Group | None
    out_port: PortSpec | None
    landmark: Landmark


@dataclass(slots=True)
class Arrow:
    """``->`` (``many`` false) or ``=>`` (``many`` true)."""

    many: bool
    landmark: Landmark


@dataclass(slots=True)
class Connection:
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
    written: str | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class ElementClassDef:
    """``elementclass NAME { ... }`` or the synonym ``elementclass NAME OTHER``."""

    name: str
    spec: ClassSpec
    landmark: Landmark


@dataclass(slots=True)
class Define:
    """``define($NAME value, ...)``."""

    config: Config
    landmark: Landmark


@dataclass(slots=True)
class Require:
    """``require(package NAME, library FILE, ...)``."""

    config: Config
    landmark: Landmark


Statement = Union[Connection, ElementClassDef, Define, Require]


@dataclass
class Program:
    """A whole configuration file as parsed."""

    filename: str
    statements: list[Statement] = field(default_factory=list)
