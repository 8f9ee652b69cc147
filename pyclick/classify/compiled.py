"""A list of patterns compiled once: one decision tree (:mod:`pyclick.classify.expand`),
or for a long list trees indexed by field (:mod:`pyclick.classify.indexed`), written
as a Python function (:mod:`pyclick.classify.codegen`)."""

from __future__ import annotations

from typing import Callable
from weakref import WeakValueDictionary

from pyclick.classify.codegen import generate, generate_earliest
from pyclick.classify.expand import Builder
from pyclick.classify.indexed import Indexed, index
from pyclick.classify.tree import (Dispatch, Field, Formula, Layout, Leaf, Node, Ranges, Test,
                                   Vectors, walk)


class Classification:
    """A compiled set of patterns: ``match(packet) -> output`` (-1: no pattern matched).

    ``plan`` is the decision tree, its leaves outputs, or the indexed list."""

    def __init__(self, plan: Node | Indexed, layout: Layout) -> None:
        self.plan = plan
        self.layout = layout
        #: ``match(packet)``, and ``match_batch(packets)``: the output of each packet.
        if isinstance(plan, Indexed):
            self.match, self.match_batch = generate_earliest(
                [(part.first, part.root) for part in plan.parts], list(plan.outputs), layout)
        else:
            self.match, self.match_batch = generate(plan, layout)

    def outputs(self) -> set[int]:
        """Every output some packet can reach (-1 included when some packet matches
        nothing). Of an indexed list, those of the patterns some part can give: a
        pattern another part's earlier one always overrides counts as reachable,
        and bit vectors may match nothing unless one rule that every mask picks
        always answers (``Vectors.may_answer_none``)."""
        if not isinstance(self.plan, Indexed):
            return _answers(self.plan)
        numbers = [_answers(part.root) for part in self.plan.parts]
        outputs = {self.plan.outputs[n] for found in numbers for n in found if n >= 0}
        if all(-1 in found for found in numbers):
            outputs.add(-1)
        return outputs

    def program(self) -> str:
        """The tree, one decision per line: ``N  test  yes->...  no->...``, for a
        lookup ``N  bytes  =VALUE->...  ...  other->...``, or for a placement among
        ranges ``N  bytes  <=CUT->...  ...  >LAST->...  absent->...``, or for a
        placement by bit vectors ``N  bits of FIELDS  present->...`` (each rule's
        check in order, then with some fields missing). Of an indexed list, each
        part's tree after a line ``part K, from pattern P``, where ``#P[N]`` is
        pattern P, of output N, and ``none`` no pattern of the part."""
        if not isinstance(self.plan, Indexed):
            return _steps(self.plan, _output)
        outputs = self.plan.outputs

        def pattern(number: int) -> str:
            return "none" if number < 0 else f"#{number}{_output(outputs[number])}"

        return "".join(f"part {k}, from pattern {part.first}\n{_steps(part.root, pattern)}"
                       for k, part in enumerate(self.plan.parts))


def _output(output: int) -> str:
    return "[X]" if output < 0 else f"[{output}]"


def _answers(root: Node) -> set[int]:
    """The leaves' outputs under ``root``, and -1 where bit vectors may answer none."""
    found = set()
    for node in walk(root):
        if isinstance(node, Leaf):
            found.add(node.output)
        elif isinstance(node, Vectors) and node.may_answer_none():
            found.add(-1)
    return found


def _steps(root: Node, leaf: Callable[[int], str]) -> str:
    steps = [n for n in walk(root) if not isinstance(n, Leaf)]
    if not steps:
        return f"all->{leaf(root.output)}\n"  # type: ignore[union-attr]
    number = {id(n): i for i, n in enumerate(steps)}

    def target(node: Node) -> str:
        return leaf(node.output) if isinstance(node, Leaf) else f"step {number[id(node)]}"

    return "".join(f"{i}  {_step(n, target)}\n" for i, n in enumerate(steps))


def _step(node: Test | Dispatch | Ranges | Vectors, target: Callable[[Node], str]) -> str:
    if isinstance(node, Test):
        return f"{node.field.text()}  yes->{target(node.yes)}  no->{target(node.no)}"
    if isinstance(node, Vectors):
        fields = ", ".join(f"{_where(field)} ({len(cuts)} cuts)"
                           for field, cuts in zip(node.fields, node.cuts))
        rows = "  ".join(f"{_missing(node.fields, p)}->{' '.join(map(target, row))}"
                         for p, row in enumerate(node.checks))
        return f"bits of {fields}  {rows}"
    field, digits = node.field, 2 * node.field.size
    where = _where(field)
    if isinstance(node, Ranges):
        cuts = node.cuts
        cases = [f"<={cuts[k]:0{digits}x}->{target(child)}" if k < len(cuts) else
                 f">{cuts[-1]:0{digits}x}->{target(child)}" if cuts else
                 f"present->{target(child)}" for k, child in enumerate(node.branches)]
        cases.append(f"absent->{target(node.missing)}")
        return f"{where}  {'  '.join(cases)}"
    cases = "  ".join(f"={value:0{digits}x}->{target(child)}" for value, child in node.branches)
    return f"{where}  {cases}  other->{target(node.other)}"


def _where(field: Field) -> str:
    """The bytes a lookup or a placement reads: ``base+offset%mask``."""
    return f"{field.base}+{field.offset}%{field.mask:0{2 * field.size}x}"


def _missing(fields: tuple[Field, ...], p: int) -> str:
    """Which of ``fields`` are not in the packet where checks row ``p`` applies."""
    gone = [_where(field) for k, field in enumerate(fields) if p >> k & 1]
    return "missing " + ", ".join(gone) if gone else "present"


#: The classifications elements hold, by patterns and layout. Weak: one goes when its
#: last holder does, so that patterns written again and again through handlers, or
#: configurations replaced, leave none behind.
_IN_USE: WeakValueDictionary[tuple[tuple[tuple[int, Formula], ...], Layout], Classification] \
    = WeakValueDictionary()


def compile_patterns(patterns: list[tuple[int, Formula]], layout: Layout) -> Classification:
    """The classification of ``patterns``, one ``(output, formula)`` pair per pattern in
    order: indexed when long (``index``), else one tree (``expand``); ``TooComplex``
    past their limits.

    The same patterns on the same layout give the same classification, shared
    while some element holds it (a classification is never changed once made):
    a configuration repeats its classifiers, one per interface or path, and
    writing out and compiling one costs hundreds of microseconds (a list of
    2,000 patterns, a tenth of a second), looking it up a small part of that."""
    ordered = tuple(patterns)
    found = _IN_USE.get((ordered, layout))
    if found is None:
        builder = Builder()
        plan = index(patterns, builder)
        found = Classification(builder.build(ordered) if plan is None else plan, layout)
        _IN_USE[ordered, layout] = found
    return found


def forget_classifications() -> None:
    """Make every classification anew from now on, even those still held: after a
    change of the limits that shape them (``expand``'s and ``indexed``'s)."""
    _IN_USE.clear()
