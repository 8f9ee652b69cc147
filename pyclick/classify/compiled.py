"""A list of patterns compiled once: the decision tree (:mod:`pyclick.classify.expand`)
written as a Python function (:mod:`pyclick.classify.codegen`)."""

from __future__ import annotations

from pyclick.classify.codegen import generate
from pyclick.classify.expand import expand
from pyclick.classify.tree import Dispatch, Formula, Layout, Leaf, Node, Test, walk


class Classification:
    """A compiled set of patterns: ``match(packet) -> output`` (-1: no pattern matched)."""

    def __init__(self, root: Node, layout: Layout) -> None:
        self.root = root
        self.layout = layout
        #: ``match(packet)``, and ``match_batch(packets)``: the output of each packet.
        self.match, self.match_batch = generate(root, layout)

    def outputs(self) -> set[int]:
        """Every output some packet can reach (-1 included when some packet matches nothing)."""
        return {node.output for node in walk(self.root) if isinstance(node, Leaf)}

    def program(self) -> str:
        """The tree, one decision per line: ``N  test  yes->...  no->...``, or for a
        lookup ``N  bytes  =VALUE->...  ...  other->...``."""
        steps = [n for n in walk(self.root) if not isinstance(n, Leaf)]
        if not steps:
            return f"all->{_target(self.root, {})}\n"
        number = {id(n): i for i, n in enumerate(steps)}
        return "".join(f"{i}  {_step(n, number)}\n" for i, n in enumerate(steps))


def _step(node: Test | Dispatch, number: dict[int, int]) -> str:
    if isinstance(node, Test):
        return (f"{node.field.text()}  yes->{_target(node.yes, number)}  "
                f"no->{_target(node.no, number)}")
    field, digits = node.field, 2 * node.field.size
    cases = "  ".join(f"={value:0{digits}x}->{_target(child, number)}"
                      for value, child in node.branches)
    return (f"{field.base}+{field.offset}%{field.mask:0{digits}x}  {cases}  "
            f"other->{_target(node.other, number)}")


def _target(node: Node, number: dict[int, int]) -> str:
    if isinstance(node, Leaf):
        return "[X]" if node.output < 0 else f"[{node.output}]"
    return f"step {number[id(node)]}"


def compile_patterns(patterns: list[tuple[int, Formula]], layout: Layout) -> Classification:
    """The classification of ``patterns``, one ``(output, formula)`` pair per pattern in
    order (``expand``); ``TooComplex`` past its limits."""
    return Classification(expand(patterns), layout)
