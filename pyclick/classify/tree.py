"""Tests on packet bytes, formulas of them, where they are in a packet, and decision trees.

A :class:`Field` reads ``size`` bytes (big-endian) at ``offset`` from a base
position of the packet (its data, its network header, its transport header
or its MAC header), ANDs them with ``mask`` and compares the result with
``value`` (``==``, ``>`` or ``<``). A field that is not all inside the
packet, or whose base is unknown, is false; its negation is true.

A formula is ``True``, ``False``, a Field, or a tuple ``("not", f)``,
``("and", f, g)``, ``("or", f, g)``, ``("if", c, f, g)``. :func:`conj`,
:func:`disj`, :func:`neg` and :func:`choose` build them, folding constants.
:func:`evaluate` interprets them directly, packet by packet: it is what a
compiled classification (:mod:`pyclick.classify.compiled`) must agree with.

A decision tree is made of :class:`Leaf` (an output), :class:`Test` (a
field's yes and no answers), :class:`Dispatch` (a lookup of a field's
value among many), :class:`Ranges` (a field's value placed among
ascending cuts) and :class:`Vectors` (rules placed by several fields at
once); :func:`walk` visits it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Protocol, Union

from pyclick.packet import Packet

#: Bases a field's offset counts from.
DATA, NET, TRANSP, MAC = "data", "net", "transp", "mac"
BASES = (DATA, NET, TRANSP, MAC)


@dataclass(frozen=True)
class Field:
    """``(bytes [offset, offset + size) from base) & mask  op  value``."""

    base: str
    offset: int
    size: int
    mask: int
    op: str
    value: int

    @cached_property
    def key(self) -> tuple[str, int, int, int]:
        """The bytes and mask this test reads: tests with the same key inform each other."""
        return (self.base, self.offset, self.size, self.mask)

    def text(self) -> str:
        """``net+9/06%ff``, ``data+12/0800%ffff``, ``transp+2/>1023%ffff``."""
        digits = 2 * self.size
        op = "" if self.op == "==" else self.op
        return f"{self.base}+{self.offset}/{op}{self.value:0{digits}x}%{self.mask:0{digits}x}"


Formula = Union[bool, Field, tuple]


def neg(f: Formula) -> Formula:
    if f is True or f is False:
        return not f
    if isinstance(f, tuple) and f[0] == "not":
        return f[1]
    return ("not", f)


def conj(*fs: Formula) -> Formula:
    out: Formula = True
    for f in fs:
        if f is False or out is False:
            return False
        out = f if out is True else (out if f is True else ("and", out, f))
    return out


def disj(*fs: Formula) -> Formula:
    out: Formula = False
    for f in fs:
        if f is True or out is True:
            return True
        out = f if out is False else (out if f is False else ("or", out, f))
    return out


def choose(c: Formula, f: Formula, g: Formula) -> Formula:
    """``c ? f : g``."""
    if c is True:
        return f
    if c is False:
        return g
    if f == g:
        return f
    return ("if", c, f, g)


# --- where the bases are in a packet ----------------------------------------------

class Layout(Protocol):
    """Finds a packet's bytes and the absolute position of each base in them,
    both as a function (for :func:`evaluate`) and as Python source (for the
    compiled tree), which must agree."""

    def __call__(self, packet: Packet) -> tuple[bytes | bytearray, int, dict[str, int]]:
        """``(buffer, end, bases)``: the data ends at ``end`` in ``buffer``;
        ``bases`` maps each known base to its position in ``buffer``."""

    def source(self, bases: set[str]) -> list[str]:
        """Statements setting ``b`` (the buffer), ``E`` (the end) and, for each
        base in ``bases``, its variable (:data:`BASE_VARS`; -1 when unknown)
        from ``packet``."""


#: The variable that holds each base's position in the generated code.
BASE_VARS = {DATA: "D", NET: "N", TRANSP: "T", MAC: "M"}
# The generated code reads the packet's layout directly (pyclick.packet
# describes it): a property call per base would cost more than the tree.
_START = ["b = packet._buf", "D = packet._head", "E = packet._tail"]


class _DataLayout:
    """Only the packet's data (Classifier)."""

    def __call__(self, packet: Packet) -> tuple[bytes | bytearray, int, dict[str, int]]:
        start = packet.data_offset
        return packet.buffer, start + len(packet), {DATA: start}

    def source(self, bases: set[str]) -> list[str]:
        return list(_START)


class _IPLayout:
    """The data, the IP header (from the network header annotation; at the start
    of the data when no element set it), the transport header (from the
    annotation, or after the IP header's IHL words) and the MAC header when set."""

    def __call__(self, packet: Packet) -> tuple[bytes | bytearray, int, dict[str, int]]:
        buf = packet.buffer
        start = packet.data_offset
        end = start + len(packet)
        offset = packet.network_header_offset
        net = start if offset is None else start + offset
        bases = {DATA: start, NET: net}
        transport = packet.transport_header_offset
        if transport is not None and offset is not None:
            bases[TRANSP] = start + transport
        elif net < end:
            bases[TRANSP] = net + (buf[net] & 15) * 4
        mac = packet.mac_header_offset
        if mac is not None:
            bases[MAC] = start + mac
        return buf, end, bases

    def source(self, bases: set[str]) -> list[str]:
        lines = list(_START)
        if TRANSP in bases:
            lines += ["N = packet._nh", "T = packet._th",
                      "if N < 0:", "    N = D", "    T = -1",
                      "if T < 0:", "    T = N + (b[N] & 15) * 4 if N < E else -1"]
        elif NET in bases:
            lines += ["N = packet._nh", "if N < 0:", "    N = D"]
        if MAC in bases:
            lines.append("M = packet._mac")
        return lines


data_layout: Layout = _DataLayout()
ip_layout: Layout = _IPLayout()


# --- direct interpretation ------------------------------------------------------

def field_holds(field: Field, buf: bytes | bytearray, end: int, bases: dict[str, int]) -> bool:
    base = bases.get(field.base)
    if base is None:
        return False
    at = base + field.offset
    if at < 0 or at + field.size > end:
        return False
    value = int.from_bytes(buf[at:at + field.size], "big") & field.mask
    if field.op == "==":
        return value == field.value
    if field.op == ">":
        return value > field.value
    return value < field.value


def holds(f: Formula, buf: bytes | bytearray, end: int, bases: dict[str, int]) -> bool:
    if f is True or f is False:
        return f
    if isinstance(f, Field):
        return field_holds(f, buf, end, bases)
    kind = f[0]
    if kind == "not":
        return not holds(f[1], buf, end, bases)
    if kind == "and":
        return holds(f[1], buf, end, bases) and holds(f[2], buf, end, bases)
    if kind == "or":
        return holds(f[1], buf, end, bases) or holds(f[2], buf, end, bases)
    return holds(f[2] if holds(f[1], buf, end, bases) else f[3], buf, end, bases)


def evaluate(patterns: list[tuple[int, Formula]], layout: Layout, packet: Packet) -> int:
    """The output of the first pattern that holds for ``packet``, -1 if none does."""
    buf, end, bases = layout(packet)
    for output, formula in patterns:
        if holds(formula, buf, end, bases):
            return output
    return -1


# --- the decision tree -------------------------------------------------------------

@dataclass(frozen=True)
class Leaf:
    output: int

    def children(self) -> list["Node"]:
        return []


@dataclass(frozen=True, eq=False)
class Test:
    field: Field
    yes: "Node"
    no: "Node"

    def children(self) -> list["Node"]:
        return [self.yes, self.no]


@dataclass(frozen=True, eq=False)
class Dispatch:
    """The bytes of ``field`` (its key; its value and operator unused) looked up
    among ``branches`` (value, node), in one step however many; ``other`` when
    they hold another value or are not in the packet."""

    field: Field
    branches: tuple[tuple[int, "Node"], ...]
    other: "Node"

    def children(self) -> list["Node"]:
        return [node for _, node in self.branches] + [self.other]


@dataclass(frozen=True, eq=False)
class Ranges:
    """The bytes of ``field`` (its key; its value and operator unused) placed among
    ``cuts``, ascending, in one step: a value above k of them goes to
    ``branches[k]``; ``missing`` when the bytes are not in the packet."""

    field: Field
    cuts: tuple[int, ...]
    branches: tuple["Node", ...]
    missing: "Node"

    def children(self) -> list["Node"]:
        return [*self.branches, self.missing]


@dataclass(frozen=True, eq=False)
class Vectors:
    """Rules placed by several fields at once, each rule a bit: the value of each of
    ``fields`` (their keys; their values and operators unused) placed among that
    field's ``cuts`` picks one of its ``masks`` (the last when the bytes are not in
    the packet), and the rules whose bits every mask picked holds are asked in
    order. ``checks[p][bit]`` gives rule ``bit``'s answer, p having bit k set when
    field k's bytes are missing: the rule's number, or -1 to ask the next; -1 when
    none answers."""

    fields: tuple[Field, ...]
    cuts: tuple[tuple[int, ...], ...]
    masks: tuple[tuple[int, ...], ...]
    checks: tuple[tuple["Node", ...], ...]

    def children(self) -> list["Node"]:
        return [node for row in self.checks for node in row]

    def may_answer_none(self) -> bool:
        """Whether some packet may leave every rule unanswered (the -1 that no leaf
        holds): unless a rule that every mask picks answers whatever is missing."""
        picked = -1
        for field_masks in self.masks:
            for mask in field_masks:
                picked &= mask
        for bit in range(len(self.checks[0])):
            if picked >> bit & 1 and not any(isinstance(node, Leaf) and node.output < 0
                                             for row in self.checks for node in walk(row[bit])):
                return False
        return True


Node = Union[Leaf, Test, Dispatch, Ranges, Vectors]


def walk(root: Node) -> list[Node]:
    """Every node once, parents before children (preorder)."""
    seen: set[int] = set()
    order: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        order.append(node)
        stack += reversed(node.children())
    return order
