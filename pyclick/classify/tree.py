"""Tests on packet bytes, formulas of them, and their compilation into a decision tree.

A :class:`Field` reads ``size`` bytes (big-endian) at ``offset`` from a base
position of the packet (its data, its network header, its transport header
or its MAC header), ANDs them with ``mask`` and compares the result with
``value`` (``==``, ``>`` or ``<``). A field that is not all inside the
packet, or whose base is unknown, is false; its negation is true.

A formula is ``True``, ``False``, a Field, or a tuple ``("not", f)``,
``("and", f, g)``, ``("or", f, g)``, ``("if", c, f, g)``. :func:`conj`,
:func:`disj`, :func:`neg` and :func:`choose` build them, folding constants.

:func:`compile_patterns` takes one ``(output, formula)`` pair per pattern,
in order, and returns a :class:`Classification`: the first pattern whose
formula holds gives the packet's output (-1 when none does). It builds a
decision tree by Shannon expansion: the first undecided test of the first
undecided pattern is asked, and every formula is simplified under each
answer, including what the answer says of other tests on the same bytes
(``ip[9] == 6`` true makes ``ip[9] == 17`` false). Equal subproblems share
one subtree. The tree is then written as a Python function with nested
``if`` statements, so a packet costs one walk of compiled code.
:func:`evaluate` interprets the formulas directly, packet by packet; it is
what the tree must agree with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, Union

from pyclick.packet import Packet

#: Bases a field's offset counts from.
DATA, NET, TRANSP, MAC = "data", "net", "transp", "mac"
BASES = (DATA, NET, TRANSP, MAC)
#: The most decision nodes a set of patterns may compile to.
MAX_NODES = 20_000
#: The most parts of formulas (tests and operators) the compilation may rewrite,
#: summed over its decisions: each decision rewrites every pattern still
#: undecided, whole, and keeps them, so a few thousand patterns that exclude each
#: other, or one of a few thousand alternatives, cost time and memory in the
#: square of their number (2,000 hosts: 6 million rewrites, seconds and 200 MB).
MAX_WORK = 10_000_000


@dataclass(frozen=True)
class Field:
    """``(bytes [offset, offset + size) from base) & mask  op  value``."""

    base: str
    offset: int
    size: int
    mask: int
    op: str
    value: int

    @property
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


@dataclass(frozen=True, eq=False)
class Test:
    field: Field
    yes: "Node"
    no: "Node"


Node = Union[Leaf, Test]


class TooComplex(ValueError):
    """The patterns compile to more than MAX_NODES decisions, or cost more than MAX_WORK."""


def _implied(field: Field, known: Field, truth: bool) -> bool | None:
    """What ``known`` having ``truth`` says of ``field``, or None if nothing."""
    if field == known:
        return truth
    if not truth or known.op != "==" or field.key != known.key:
        return None
    if field.op == "==":
        return field.value == known.value
    if field.op == ">":
        return known.value > field.value
    return known.value < field.value


def _first_field(f: Formula) -> Field:
    while not isinstance(f, Field):
        f = f[1]
    return f


class _Builder:
    def __init__(self) -> None:
        self.memo: dict[tuple, Node] = {}
        self.leaves: dict[int, Leaf] = {}
        self.nodes = 0
        self.work = 0

    def build(self, patterns: tuple[tuple[int, Formula], ...]) -> Node:
        """The tree of ``patterns``. Built from an explicit stack, children before
        their parent: a thousand patterns that exclude each other make a chain of a
        thousand decisions, deeper than Python's recursion goes."""
        node, patterns = self._settled(patterns)
        if node is not None:
            return node
        # Each subproblem waiting for its children: its test and, per answer, the
        # node when settled at once, else the subproblem that gives it.
        waiting: dict[tuple, tuple[Field, Node | None, tuple, Node | None, tuple]] = {}
        stack = [patterns]
        while stack:
            current = stack[-1]
            if current in self.memo:
                stack.pop()
                continue
            entry = waiting.get(current)
            if entry is None:
                field = _first_field(current[0][1])
                yes, yes_rest = self._settled(
                    tuple((o, self._restrict(f, field, True)) for o, f in current))
                no, no_rest = self._settled(
                    tuple((o, self._restrict(f, field, False)) for o, f in current))
                waiting[current] = (field, yes, yes_rest, no, no_rest)
                stack += [rest for node, rest in ((no, no_rest), (yes, yes_rest))
                          if node is None]
                continue
            field, yes, yes_rest, no, no_rest = waiting.pop(current)
            yes = self.memo[yes_rest] if yes is None else yes
            no = self.memo[no_rest] if no is None else no
            self.nodes += 1
            if self.nodes > MAX_NODES:
                raise TooComplex(f"patterns too complex (more than {MAX_NODES} decisions)")
            self.memo[current] = yes if yes is no else Test(field, yes, no)
            stack.pop()
        return self.memo[patterns]

    def _restrict(self, f: Formula, known: Field, truth: bool) -> Formula:
        """``f`` once ``known`` is known to have ``truth``; every part rewritten
        counts towards MAX_WORK."""
        self.work += 1
        if self.work > MAX_WORK:
            raise TooComplex(f"patterns too complex to compile (more than {MAX_WORK} "
                             "rewrites of their tests)")
        if f is True or f is False:
            return f
        if isinstance(f, Field):
            implied = _implied(f, known, truth)
            return f if implied is None else implied
        kind = f[0]
        restrict = self._restrict
        if kind == "not":
            return neg(restrict(f[1], known, truth))
        if kind == "and":
            return conj(restrict(f[1], known, truth), restrict(f[2], known, truth))
        if kind == "or":
            return disj(restrict(f[1], known, truth), restrict(f[2], known, truth))
        return choose(restrict(f[1], known, truth), restrict(f[2], known, truth),
                      restrict(f[3], known, truth))

    def _settled(self, patterns: tuple[tuple[int, Formula], ...]
                 ) -> tuple[Node | None, tuple[tuple[int, Formula], ...]]:
        """The node of ``patterns`` when known without a decision (a leaf, or built
        before), else None; and the patterns without those that cannot hold."""
        patterns = tuple(p for p in patterns if p[1] is not False)
        if not patterns:
            return self._leaf(-1), patterns
        if patterns[0][1] is True:
            return self._leaf(patterns[0][0]), patterns
        return self.memo.get(patterns), patterns

    def _leaf(self, output: int) -> Leaf:
        return self.leaves.setdefault(output, Leaf(output))


class Classification:
    """A compiled set of patterns: ``match(packet) -> output`` (-1: no pattern matched)."""

    def __init__(self, root: Node, layout: Layout) -> None:
        self.root = root
        self.layout = layout
        #: ``match(packet)``, and ``match_batch(packets)``: the output of each packet.
        self.match, self.match_batch = _generate(root, layout)

    def outputs(self) -> set[int]:
        """Every output some packet can reach (-1 included when some packet matches nothing)."""
        return {node.output for node in _nodes(self.root) if isinstance(node, Leaf)}

    def program(self) -> str:
        """The tree, one decision per line: ``N  test  yes->...  no->...``."""
        steps = [n for n in _nodes(self.root) if isinstance(n, Test)]
        if not steps:
            return f"all->{_target(self.root, {})}\n"
        number = {id(n): i for i, n in enumerate(steps)}
        return "".join(f"{i}  {n.field.text()}  yes->{_target(n.yes, number)}  "
                       f"no->{_target(n.no, number)}\n" for i, n in enumerate(steps))


def _target(node: Node, number: dict[int, int]) -> str:
    if isinstance(node, Leaf):
        return "[X]" if node.output < 0 else f"[{node.output}]"
    return f"step {number[id(node)]}"


def _nodes(root: Node) -> list[Node]:
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
        if isinstance(node, Test):
            stack.append(node.no)
            stack.append(node.yes)
    return order


def compile_patterns(patterns: list[tuple[int, Formula]], layout: Layout) -> Classification:
    """The decision tree of ``patterns`` (see the module docstring); TooComplex past MAX_NODES
    or MAX_WORK."""
    return Classification(_Builder().build(tuple(patterns)), layout)


# --- code generation -----------------------------------------------------------------

def _condition(field: Field) -> str:
    var = BASE_VARS[field.base]

    def at(delta: int) -> str:
        offset = field.offset + delta
        return f"{var} + {offset}" if offset > 0 else f"{var} - {-offset}" if offset else var

    if field.size == 1:
        read = f"b[{at(0)}]"
    elif field.size == 2:
        read = f"(b[{at(0)}] << 8 | b[{at(1)}])"
    else:
        read = f"int.from_bytes(b[{at(0)}:{at(field.size)}], 'big')"
    full = (1 << (8 * field.size)) - 1
    if field.mask != full:
        read = f"({read} & {field.mask:#x})"
    # A base the packet lacks is -1; the data's is always there.
    reach = field.offset + field.size
    guard = f"{var} <= E - {reach}" if field.base == DATA else f"0 <= {var} <= E - {reach}"
    return f"{guard} and {read} {field.op} {field.value:#x}"


#: Deepest tree written inline into the batch loop; deeper ones are called
#: as a function (Python allows 100 levels of indentation).
MAX_INLINE_DEPTH = 60
#: Longest chain of "no" answers written as one if/elif chain.
MAX_CHAIN = 200


def _generate(root: Node, layout: Layout) -> tuple[Callable[[Packet], int],
                                                    Callable[[list[Packet]], list[int]]]:
    """Python source for the tree: nested ifs, a function per shared subtree;
    ``match(packet)`` around it, and ``match_batch(packets)`` with the tree
    written out again inside its loop (a function call per packet would
    cost as much as the tests)."""
    nodes = _nodes(root)
    parents: dict[int, int] = {}
    for node in nodes:
        if isinstance(node, Test):
            for child in (node.yes, node.no):
                parents[id(child)] = parents.get(id(child), 0) + 1
    shared = {id(n): f"_s{i}" for i, n in enumerate(nodes)
              if isinstance(n, Test) and parents.get(id(n), 0) > 1}
    # A chain of "no" answers is written as one if/elif chain, which Python's
    # compiler goes down one level per branch: every MAX_CHAIN-th node of a long
    # chain is made a function of its own, as a shared subtree is.
    no_children = {id(n.no) for n in nodes if isinstance(n, Test)}
    index = {id(n): i for i, n in enumerate(nodes)}
    for node in nodes:
        if not isinstance(node, Test) or (id(node) in no_children and id(node) not in shared):
            continue
        length, step = 0, node.no
        while isinstance(step, Test) and id(step) not in shared:
            length += 1
            if length % MAX_CHAIN == 0:
                shared[id(step)] = f"_s{index[id(step)]}"
            step = step.no
    bases = {n.field.base for n in nodes if isinstance(n, Test)}
    arguments = ", ".join(["b", "E"] + [BASE_VARS[base] for base in BASES if base in bases])
    functions: list[str] = []

    def body(node: Node, indent: str, top: bool) -> list[str]:
        # A chain of "no" answers stays at one indentation: a loop, not a recursion.
        lines: list[str] = []
        while True:
            if isinstance(node, Leaf):
                return lines + [f"{indent}return {node.output}"]
            if not top and id(node) in shared:
                return lines + [f"{indent}return {shared[id(node)]}({arguments})"]
            lines += [f"{indent}if {_condition(node.field)}:"]
            lines += body(node.yes, indent + "    ", False)
            node, top = node.no, False

    for node in nodes:
        if id(node) in shared:
            functions.append(f"def {shared[id(node)]}({arguments}):")
            functions += body(node, "    ", True)
    functions.append(f"def _tree({arguments}):")
    functions += body(root, "    ", True)
    prologue = layout.source(bases)
    functions += ["def match(packet):"] + [f"    {line}" for line in prologue]
    functions.append(f"    return _tree({arguments})")
    def inline(node: Node, indent: str, top: bool) -> list[str]:
        """The tree appending each packet's output (if/elif/else: there is no return)."""
        if isinstance(node, Leaf):
            return [f"{indent}append({node.output})"]
        if not top and id(node) in shared:
            return [f"{indent}append({shared[id(node)]}({arguments}))"]
        lines = [f"{indent}if {_condition(node.field)}:"] + inline(node.yes, indent + "    ", False)
        no = node.no
        while isinstance(no, Test) and id(no) not in shared:
            lines += [f"{indent}elif {_condition(no.field)}:"] + inline(no.yes, indent + "    ", False)
            no = no.no
        return lines + [f"{indent}else:"] + inline(no, indent + "    ", False)

    loop = inline(root, " " * 8, True)
    if max(len(line) - len(line.lstrip()) for line in loop) > 4 * MAX_INLINE_DEPTH:
        loop = [f"        append(_tree({arguments}))"]
    functions += ["def match_batch(batch):", "    out = []", "    append = out.append",
                  "    for packet in batch:"] + [f"        {line}" for line in prologue]
    functions += loop + ["    return out"]
    namespace: dict[str, object] = {}
    exec(compile("\n".join(functions), "<classification>", "exec"), namespace)
    return namespace["match"], namespace["match_batch"]  # type: ignore[return-value]
