"""Element classes as the front end sees them: primitive, or compound with overloads.

A primitive class is just a name: the flattener does not need to know it.
A compound class is a chain of definitions tried in order; each takes
configuration parameters (positional ``$a``, keyword ``KEY $k``, and a
final ``__REST__ $r`` that collects the rest) and has as many inputs and
outputs as its body uses. The chain may end in the class it extends
(``|| ...``), which then takes whatever the definitions did not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Union

from pyclick.errors import Landmark
from pyclick.lang.configstr import brief, split_keyword
from pyclick.lang.syntax import Formal

if TYPE_CHECKING:
    from pyclick.lang.scope import Body

REST = "__REST__"


# Not dataclasses: see pyclick.lang.record.
class Primitive(NamedTuple):
    """A class implemented by an element (or unknown to the front end)."""

    name: str


class Compound:
    """One definition of a compound class, with the next one to try
    (``overload``, set once the definitions after it are read); ``lacks`` the
    inputs and the outputs its body leaves out."""

    __slots__ = ("name", "formals", "body", "depth", "landmark", "ninputs", "noutputs",
                 "lacks", "overload")

    def __init__(self, name: str, formals: tuple[Formal, ...], body: Body, depth: int,
                 landmark: Landmark, ninputs: int, noutputs: int,
                 lacks: tuple[frozenset[int], frozenset[int]]) -> None:
        self.name = name
        self.formals = formals
        self.body = body
        self.depth = depth
        self.landmark = landmark
        self.ninputs = ninputs
        self.noutputs = noutputs
        self.lacks = lacks
        self.overload: Binding | None = None

    @property
    def printable_name(self) -> str:
        return brief(self.name) if self.name else "<anonymous>"

    def signature(self) -> str:
        """``Name(<arg>, KEY, ...)[1 input, 2 outputs]``, for error messages."""
        params = ", ".join("..." if f.keyword == REST else f.keyword or "<arg>" for f in self.formals)
        return f"{self.printable_name}{f'({params})' if params else ''}" \
               f"[{_count(self.ninputs, 'input')}, {_count(self.noutputs, 'output')}]"


Binding = Union[Primitive, Compound]


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def use_signature(name: str, nargs: int, ninputs: int, noutputs: int) -> str:
    """How a use of a compound looked: ``Name[1 argument, 1 input, 1 output]``."""
    args = f"{_count(nargs, 'argument')}, " if nargs else ""
    printable = brief(name) if name else "<anonymous>"
    return f"{printable}[{args}{_count(ninputs, 'input')}, {_count(noutputs, 'output')}]"


def assign_arguments(formals: tuple[Formal, ...], args: list[str]) -> list[str] | None:
    """The value of each formal for ``args``, or None if they do not fit.

    Positional formals take the leading arguments; after them an argument
    starting with a formal's keyword sets it (in any order); every formal
    is mandatory; ``__REST__`` takes the arguments nothing else took,
    joined with ``", "``.
    """
    if not formals or formals[-1].keyword is None:
        return list(args) if len(args) == len(formals) else None
    rest = formals[-1].keyword == REST
    named = formals[:-1] if rest else formals
    npositional = next((i for i, f in enumerate(named) if f.keyword is not None), len(named))
    keyword_slot = {f.keyword: i for i, f in enumerate(named) if f.keyword is not None}
    values: list[str | None] = [None] * len(named)
    unused: list[str] = []
    positional = 0
    any_keyword = False
    for arg in args:
        if positional >= npositional:
            split = split_keyword(arg)
            if split and split[0] in keyword_slot:
                values[keyword_slot[split[0]]] = split[1]
                any_keyword = True
                continue
            if any_keyword:
                if not rest:
                    return None
                unused.append(arg)
                continue
        if positional < npositional:
            values[positional] = arg
        else:
            unused.append(arg)
        positional += 1
    if any(v is None for v in values) or (unused and not rest):
        return None
    assigned = [v for v in values if v is not None]
    return assigned + [", ".join(unused)] if rest else assigned


class CompoundMatch(NamedTuple):
    """The outcome of matching a use of a compound against its definitions."""

    binding: Binding | None
    values: list[str] | None
    matched: bool


def choose(compound: Compound, args: list[str], ninputs: int, noutputs: int) -> CompoundMatch:
    """The first definition matching the arguments and the ports in use.

    When none matches exactly, the last one that accepts the arguments is
    returned with ``matched`` false (a lone definition used with other
    ports is fine: its unused or missing ports are reported one by one).
    """
    candidate: Binding | None = compound
    closest: tuple[Compound, list[str]] | None = None
    tried = 0
    while isinstance(candidate, Compound):
        tried += 1
        values = assign_arguments(candidate.formals, args)
        if values is not None:
            if (candidate.ninputs, candidate.noutputs) == (ninputs, noutputs):
                return CompoundMatch(candidate, values, True)
            closest = (candidate, values)
        candidate = candidate.overload
    if candidate is not None:
        return CompoundMatch(candidate, None, True)
    if closest is None:
        return CompoundMatch(None, None, False)
    return CompoundMatch(closest[0], closest[1], tried == 1)


def candidates(compound: Compound) -> list[Compound]:
    """The definitions of an overload chain, in the order they are tried."""
    found = []
    candidate: Binding | None = compound
    while isinstance(candidate, Compound):
        found.append(candidate)
        candidate = candidate.overload
    return found
