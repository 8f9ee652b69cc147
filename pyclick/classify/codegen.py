"""A decision tree written as Python source and compiled: a packet costs one walk of
compiled code, nested ``if`` statements and dictionaries of values."""

from __future__ import annotations

from typing import Callable

from pyclick.classify.tree import (BASE_VARS, BASES, DATA, Dispatch, Field, Layout, Leaf, Node,
                                   Test, walk)
from pyclick.packet import Packet


def _reading(field: Field) -> tuple[str, str]:
    """Python expressions for whether ``field``'s bytes are in the packet, and for
    their value under its mask."""
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
    return guard, read


def _condition(field: Field) -> str:
    guard, read = _reading(field)
    return f"{guard} and {read} {field.op} {field.value:#x}"


#: Deepest tree written inline into the batch loop; deeper ones are called
#: as a function (Python allows 100 levels of indentation).
MAX_INLINE_DEPTH = 60
#: Longest chain of "no" answers written as one if/elif chain.
MAX_CHAIN = 200


def generate(root: Node, layout: Layout) -> tuple[Callable[[Packet], int],
                                                    Callable[[list[Packet]], list[int]]]:
    """Python source for the tree: nested ifs, a function per shared subtree;
    ``match(packet)`` around it, and ``match_batch(packets)`` with the tree
    written out again inside its loop (a function call per packet would
    cost as much as the tests).

    A lookup is a dictionary of the values: of outputs when every value's
    answer is one, else of functions, one per answer (``_o`` functions for
    outputs); a packet whose value is not in it goes on as a test's "no"."""
    nodes = walk(root)
    index = {id(n): i for i, n in enumerate(nodes)}
    parents: dict[int, int] = {}
    for node in nodes:
        for child in node.children():
            parents[id(child)] = parents.get(id(child), 0) + 1
    shared = {id(n): f"_s{i}" for i, n in enumerate(nodes)
              if not isinstance(n, Leaf) and parents.get(id(n), 0) > 1}
    # The lookups whose every value's answer is an output, and the answers of the
    # others, called as functions.
    of_outputs = {id(n) for n in nodes if isinstance(n, Dispatch)
                  and all(isinstance(child, Leaf) for _, child in n.branches)}
    outputs: set[int] = set()
    lookups: list[str] = []
    for node in nodes:
        if not isinstance(node, Dispatch):
            continue
        if id(node) in of_outputs:
            cases = ", ".join(f"{value:#x}: {child.output}" for value, child in node.branches)
        else:
            for _, child in node.branches:
                if isinstance(child, Leaf):
                    outputs.add(child.output)
                else:
                    shared.setdefault(id(child), f"_s{index[id(child)]}")
            cases = ", ".join(f"{value:#x}: " + (_giving(child.output) if isinstance(child, Leaf)
                                                 else shared[id(child)])
                              for value, child in node.branches)
        lookups.append(f"_d{index[id(node)]} = {{{cases}}}")
    # A chain of "no" answers is written as one if/elif chain, which Python's
    # compiler goes down one level per branch: every MAX_CHAIN-th node of a long
    # chain is made a function of its own, as a shared subtree is.
    no_children = {id(_passed(n)) for n in nodes if not isinstance(n, Leaf)}
    for node in nodes:
        if isinstance(node, Leaf) or (id(node) in no_children and id(node) not in shared):
            continue
        length, step = 0, _passed(node)
        while not isinstance(step, Leaf) and id(step) not in shared:
            length += 1
            if length % MAX_CHAIN == 0:
                shared[id(step)] = f"_s{index[id(step)]}"
            step = _passed(step)
    bases = {n.field.base for n in nodes if not isinstance(n, Leaf)}
    arguments = ", ".join(["b", "E"] + [BASE_VARS[base] for base in BASES if base in bases])
    functions: list[str] = [f"def {_giving(output)}(*_): return {output}"
                            for output in sorted(outputs)]

    def ask(node: Test | Dispatch) -> str:
        if isinstance(node, Test):
            return _condition(node.field)
        guard, read = _reading(node.field)
        return f"{guard} and (o := _d{index[id(node)]}.get({read})) is not None"

    def found(node: Dispatch) -> str:
        """The answer of a lookup that found its value (in ``o``)."""
        return "o" if id(node) in of_outputs else f"o({arguments})"

    def body(node: Node, indent: str, top: bool) -> list[str]:
        # A chain of "no" answers stays at one indentation: a loop, not a recursion.
        lines: list[str] = []
        while True:
            if isinstance(node, Leaf):
                return lines + [f"{indent}return {node.output}"]
            if not top and id(node) in shared:
                return lines + [f"{indent}return {shared[id(node)]}({arguments})"]
            lines += [f"{indent}if {ask(node)}:"]
            lines += (body(node.yes, indent + "    ", False) if isinstance(node, Test)
                      else [f"{indent}    return {found(node)}"])
            node, top = _passed(node), False

    for node in nodes:
        if id(node) in shared:
            functions.append(f"def {shared[id(node)]}({arguments}):")
            functions += body(node, "    ", True)
    functions.append(f"def _tree({arguments}):")
    functions += body(root, "    ", True)
    functions += lookups
    prologue = layout.source(bases)
    functions += ["def match(packet):"] + [f"    {line}" for line in prologue]
    functions.append(f"    return _tree({arguments})")

    def taken(node: Test | Dispatch, indent: str) -> list[str]:
        if isinstance(node, Test):
            return inline(node.yes, indent, False)
        return [f"{indent}append({found(node)})"]

    def inline(node: Node, indent: str, top: bool) -> list[str]:
        """The tree appending each packet's output (if/elif/else: there is no return)."""
        if isinstance(node, Leaf):
            return [f"{indent}append({node.output})"]
        if not top and id(node) in shared:
            return [f"{indent}append({shared[id(node)]}({arguments}))"]
        lines = [f"{indent}if {ask(node)}:"] + taken(node, indent + "    ")
        no = _passed(node)
        while not isinstance(no, Leaf) and id(no) not in shared:
            lines += [f"{indent}elif {ask(no)}:"] + taken(no, indent + "    ")
            no = _passed(no)
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


def _giving(output: int) -> str:
    """The name of the function that gives ``output`` (-1: ``_o_1``)."""
    return f"_o{output}".replace("-", "_")


def _passed(node: Test | Dispatch) -> Node:
    """Where a packet goes on when the decision does not take it: a test's "no", a
    lookup's other values."""
    return node.no if isinstance(node, Test) else node.other
