"""The parsed form of a Click program: plain data, one class per construct.

A :class:`Program` is what :func:`pyclick.lang.parse` returns. Nothing here
is resolved yet: whether an identifier names an element or a class, what
variables expand to and which compound overload applies are decided when
the program is flattened. Every node carries the landmark of its first
token, after ``#`` line directives (compound classes, see CompoundClass).

Nodes are records (:mod:`pyclick.lang.record`): nothing changes one once
it is made; two nodes are equal when they are of one class with equal
fields.
"""

from __future__ import annotations

from typing import Union

from pyclick.errors import Landmark
from pyclick.lang.record import Record


class Config(Record):
    """A configuration string, without its parentheses and kept raw.

    ``closed`` is false when a quote, comment or parenthesis inside it never
    ended, so that the string ran to the end of the input.
    """

    __slots__ = ("text", "closed", "landmark")

    def __init__(self, text: str, closed: bool, landmark: Landmark) -> None:
        self.text = text
        self.closed = closed
        self.landmark = landmark


class PortItem(Record):
    """One item of a port list: ``first`` or ``first-last``, as written."""

    __slots__ = ("first", "last", "landmark")

    def __init__(self, first: str, last: str | None, landmark: Landmark) -> None:
        self.first = first
        self.last = last
        self.landmark = landmark


class PortSpec(Record):
    """``[0]``, ``[0, 2-3]``; ``open`` for ``[]`` or a trailing comma."""

    __slots__ = ("ranges", "open", "landmark")

    def __init__(self, ranges: tuple[PortItem, ...], open: bool, landmark: Landmark) -> None:
        self.ranges = ranges
        self.open = open
        self.landmark = landmark


class ClassName(Record):
    """A class named by an identifier (primitive, compound or synonym)."""

    __slots__ = ("name", "landmark")

    def __init__(self, name: str, landmark: Landmark) -> None:
        self.name = name
        self.landmark = landmark


class Formal(Record):
    """A compound parameter: ``$var``, or ``KEYWORD $var`` when keyword is set."""

    __slots__ = ("variable", "keyword", "landmark")

    def __init__(self, variable: str, keyword: str | None, landmark: Landmark) -> None:
        self.variable = variable
        self.keyword = keyword
        self.landmark = landmark


class CompoundBody(Record):
    """One definition of a compound class: ``formals | statements``.

    Located at the ``{`` or ``||`` before it (see CompoundClass for the first
    definition of an ``elementclass``).
    """

    __slots__ = ("formals", "statements", "landmark")

    def __init__(self, formals: tuple[Formal, ...], statements: tuple["Statement", ...],
                 landmark: Landmark) -> None:
        self.formals = formals
        self.statements = statements
        self.landmark = landmark


class CompoundClass(Record):
    """``{ body || body ... }``; ``extends`` for a final ``|| ...``.

    Located at its ``{``, except that a class defined by ``elementclass``
    starts with the ``//`` comment lines right above the statement, if
    any: its documentation. Errors about the class point there.
    """

    __slots__ = ("bodies", "extends", "landmark")

    def __init__(self, bodies: tuple[CompoundBody, ...], extends: bool, landmark: Landmark) -> None:
        self.bodies = bodies
        self.extends = extends
        self.landmark = landmark


ClassSpec = Union[ClassName, CompoundClass]


class ElementRef(Record):
    """What stands where an element is expected.

    - ``x``: ``word`` only (an element name or a class, decided later);
    - ``x :: C(config)``: ``word``, ``declared`` and maybe ``config``;
    - ``C(config)``: ``word`` and ``config``;
    - ``{ ... }(config)``: ``declared`` (the compound) and maybe ``config``.
    """

    __slots__ = ("word", "declared", "config", "landmark")

    def __init__(self, word: str | None, declared: ClassSpec | None, config: Config | None,
                 landmark: Landmark) -> None:
        self.word = word
        self.declared = declared
        self.config = config
        self.landmark = landmark


class Group(Record):
    """``( statements )``: an element group, expanded away in place."""

    __slots__ = ("statements", "landmark")

    def __init__(self, statements: tuple["Statement", ...], landmark: Landmark) -> None:
        self.statements = statements
        self.landmark = landmark


class Item(Record):
    """One element of a comma-separated list, with its optional ports.

    ``target`` is None for a bare port (``[0] -> ...`` inside a group or
    compound); its port is then held in ``in_port``.
    """

    __slots__ = ("in_port", "target", "out_port", "landmark")

    def __init__(self, in_port: PortSpec | None, target: ElementRef | Group | None,
                 out_port: PortSpec | None, landmark: Landmark) -> None:
        self.in_port = in_port
        self.target = target
        self.out_port = out_port
        self.landmark = landmark


class Arrow(Record):
    """``->`` (``many`` false) or ``=>`` (``many`` true)."""

    __slots__ = ("many", "landmark")

    def __init__(self, many: bool, landmark: Landmark) -> None:
        self.many = many
        self.landmark = landmark


class Connection(Record):
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

    __slots__ = ("segments", "arrows", "landmark", "end", "written")
    UNCOMPARED = ("written",)

    def __init__(self, segments: tuple[tuple[Item, ...], ...], arrows: tuple[Arrow, ...],
                 landmark: Landmark, end: Landmark, written: str | None = None) -> None:
        self.segments = segments
        self.arrows = arrows
        self.landmark = landmark
        self.end = end
        self.written = written


class ElementClassDef(Record):
    """``elementclass NAME { ... }`` or the synonym ``elementclass NAME OTHER``."""

    __slots__ = ("name", "spec", "landmark")

    def __init__(self, name: str, spec: ClassSpec, landmark: Landmark) -> None:
        self.name = name
        self.spec = spec
        self.landmark = landmark


class Define(Record):
    """``define($NAME value, ...)``."""

    __slots__ = ("config", "landmark")

    def __init__(self, config: Config, landmark: Landmark) -> None:
        self.config = config
        self.landmark = landmark


class Require(Record):
    """``require(package NAME, library FILE, ...)``."""

    __slots__ = ("config", "landmark")

    def __init__(self, config: Config, landmark: Landmark) -> None:
        self.config = config
        self.landmark = landmark


Statement = Union[Connection, ElementClassDef, Define, Require]


class Program(Record):
    """A whole configuration file as parsed."""

    __slots__ = ("filename", "statements")

    def __init__(self, filename: str, statements: list[Statement]) -> None:
        self.filename = filename
        self.statements = statements
