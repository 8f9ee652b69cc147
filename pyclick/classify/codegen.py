"""Decision trees written as Python source and compiled: a packet costs one walk of
compiled code, nested ``if`` statements and dictionaries of values."""

from __future__ import annotations

from bisect import bisect_left
from functools import partial
from typing import Callable

from pyclick.classify.tree import (BASE_VARS, BASES, DATA, Dispatch, Field, Layout, Leaf, Node,
                                   Ranges, Test, Vectors, walk)
from pyclick.packet import Packet

Matchers = tuple[Callable[[Packet], int], Callable[[list[Packet]], list[int]]]


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


def _condition(field: Field, value: str | None = None) -> str:
    """The test of ``field``, compared with ``value`` (its own value by default)."""
    guard, read = _reading(field)
    return f"{guard} and {read} {field.op} {value or f'{field.value:#x}'}"


#: Deepest tree written inline into the batch loop; deeper ones are called
#: as a function (Python allows 100 levels of indentation).
MAX_INLINE_DEPTH = 60
#: Longest chain of "no" answers written as one if/elif chain.
MAX_CHAIN = 200
#: Deepest nesting of "yes" answers written in one function.
MAX_NESTING = 48
#: Most tests of a subtree written as a template (``_TreeSource``).
TEMPLATE_TESTS = 16


class _TreeSource:
    """The Python source of one tree: nested ifs, a function per shared subtree,
    ``{prefix}tree(arguments)`` giving the leaf's value (``value`` of its output).

    A lookup is a dictionary of the values: of leaf values when every value's
    answer is a leaf, else of functions, one per answer (``_o`` functions for
    leaves); a packet whose value is not in it goes on as a test's "no". A
    placement among ranges is a list of the same, indexed by ``bisect_left`` of
    the value in the tuple of cuts, its last item for bytes not in the packet.
    A placement by bit vectors picks a mask per field so, and ``_vector``
    asks the rules of the bits their masks share (``bound``: the cuts and
    masks, objects the code names).

    A shared subtree of a few tests alone is written once per shape: a
    template function whose first arguments are the values it compares with
    and gives, and the subtree is the template with its own values bound
    (``instances``).
    The lookups of a long indexed list lead to thousands of such subtrees of a
    few shapes, and compiling one function each would cost more than the rest
    of the compilation."""

    def __init__(self, root: Node, arguments: str, prefix: str,
                 value: Callable[[int], int]) -> None:
        self.root, self.arguments, self.prefix, self.value = root, arguments, prefix, value
        self.nodes = nodes = walk(root)
        self.index = {id(n): i for i, n in enumerate(nodes)}
        parents: dict[int, int] = {}
        for node in nodes:
            for child in node.children():
                parents[id(child)] = parents.get(id(child), 0) + 1
        self.shared = {id(n): self._name("s", n) for n in nodes
                       if not isinstance(n, Leaf) and parents.get(id(n), 0) > 1}
        # The lookups whose every value's answer is a leaf, and the answers of the
        # others, called as functions.
        self.of_leaves = {id(n) for n in nodes if isinstance(n, (Dispatch, Ranges))
                          and all(isinstance(child, Leaf) for child in _answered(n))}
        self.giving: set[int] = set()
        self.bound: dict[str, object] = {}
        self.lookups = [line for n in nodes if isinstance(n, (Dispatch, *_PLACEMENTS))
                        for line in self._lookup(n)]
        self._cut_chains(nodes)
        self._cut_nesting(nodes)
        #: Template functions by their body, and (name, template, values) of each
        #: subtree written as one.
        self.templates: dict[str, str] = {}
        self.instances: list[tuple[str, str, list[int]]] = []

    def _name(self, kind: str, node: Node) -> str:
        return f"{self.prefix}{kind}{self.index[id(node)]}"

    def _lookup(self, node: Dispatch | Ranges | Vectors) -> list[str]:
        """The statements making the dictionary of a lookup, the cuts and the list of
        a placement among ranges, or the checks of a placement by bit vectors (its
        cuts and masks ``bound``)."""
        answers = [self._answer(node, child) for child in _answered(node)]
        if isinstance(node, Vectors):
            for k, (cuts, masks) in enumerate(zip(node.cuts, node.masks)):
                self.bound[f"{self._name('c', node)}_{k}"] = cuts
                self.bound[f"{self._name('m', node)}_{k}"] = masks
            width = len(node.checks[0])
            rows = [f"({''.join(f'{answer}, ' for answer in answers[at:at + width])})"
                    for at in range(0, len(answers), width)]
            return [f"{self._name('d', node)} = ({', '.join(rows)},)"]
        if isinstance(node, Ranges):
            cuts = "".join(f"{cut:#x}, " for cut in node.cuts)
            return [f"{self._name('c', node)} = ({cuts})",
                    f"{self._name('d', node)} = [{', '.join(answers)}]"]
        cases = ", ".join(f"{value:#x}: {answer}"
                          for (value, _), answer in zip(node.branches, answers))
        return [f"{self._name('d', node)} = {{{cases}}}"]

    def _answer(self, node: Dispatch | Ranges | Vectors, child: Node) -> str:
        """What a lookup's table holds for ``child``: its leaf value, when every
        answer is a leaf, else a function."""
        if isinstance(child, Leaf):
            if id(node) in self.of_leaves:
                return str(self.value(child.output))
            self.giving.add(self.value(child.output))
            return _giving(self.value(child.output))
        return self.shared.setdefault(id(child), self._name("s", child))

    def _cut_chains(self, nodes: list[Node]) -> None:
        """A chain of "no" answers is written as one if/elif chain, which Python's
        compiler goes down one level per branch: every MAX_CHAIN-th node of a long
        chain is made a function of its own, as a shared subtree is."""
        no_children = {id(_passed(n)) for n in nodes if isinstance(n, (Test, Dispatch))}
        for node in nodes:
            if not isinstance(node, (Test, Dispatch)) or (id(node) in no_children
                                                          and id(node) not in self.shared):
                continue
            length, step = 0, _passed(node)
            while isinstance(step, (Test, Dispatch)) and id(step) not in self.shared:
                length += 1
                if length % MAX_CHAIN == 0:
                    self.shared[id(step)] = self._name("s", step)
                step = _passed(step)

    def _cut_nesting(self, nodes: list[Node]) -> None:
        """Each "yes" answer is written one level deeper than its test, and Python
        allows 100 levels: a node MAX_NESTING levels into its function is made a
        function of its own. ``nodes`` come parents first, and a node that is not
        shared has one parent."""
        level = {id(self.root): 0}
        for node in nodes:
            if not isinstance(node, (Test, Dispatch)):
                continue
            at = 0 if id(node) in self.shared else level[id(node)]
            level[id(_passed(node))] = at
            if isinstance(node, Test) and not isinstance(node.yes, Leaf):
                level[id(node.yes)] = at + 1
                if at + 1 >= MAX_NESTING:
                    self.shared.setdefault(id(node.yes), self._name("s", node.yes))

    def ask(self, node: Test | Dispatch, values: list[int] | None = None) -> str:
        """The condition of ``node``; of a test, with its value as a template's
        argument when ``values`` collects them."""
        if isinstance(node, Test):
            if values is None:
                return _condition(node.field)
            values.append(node.field.value)
            return _condition(node.field, f"c{len(values) - 1}")
        guard, read = _reading(node.field)
        return f"{guard} and (o := {self._name('d', node)}.get({read})) is not None"

    def found(self, node: Dispatch) -> str:
        """The answer of a lookup that found its value (in ``o``)."""
        return "o" if id(node) in self.of_leaves else f"o({self.arguments})"

    def placed(self, node: Ranges | Vectors) -> str:
        """The answer of a placement among ranges or by bit vectors."""
        if isinstance(node, Vectors):
            masks, missing = [], []
            for k, field in enumerate(node.fields):
                guard, read = _reading(field)
                masks.append(f"{self._name('m', node)}_{k}[bisect_left({self._name('c', node)}_{k}, "
                             f"{read}) if {guard} else -1]")
                missing.append(f"(0 if {guard} else {1 << k})")
            return (f"_vector({' & '.join(masks)}, {self._name('d', node)}[{' + '.join(missing)}], "
                    f"{self.value(-1)}, {self.arguments})")
        guard, read = _reading(node.field)
        pick = (f"{self._name('d', node)}[bisect_left({self._name('c', node)}, {read}) "
                f"if {guard} else -1]")
        return pick if id(node) in self.of_leaves else f"{pick}({self.arguments})"

    def body(self, node: Node, indent: str, top: bool,
             values: list[int] | None = None) -> list[str]:
        """``node``'s source; with ``values``, a template's, its values collected."""
        # A chain of "no" answers stays at one indentation: a loop, not a recursion.
        lines: list[str] = []
        while True:
            if isinstance(node, Leaf):
                if values is None:
                    return lines + [f"{indent}return {self.value(node.output)}"]
                values.append(self.value(node.output))
                return lines + [f"{indent}return c{len(values) - 1}"]
            if not top and values is None and id(node) in self.shared:
                return lines + [f"{indent}return {self.shared[id(node)]}({self.arguments})"]
            if isinstance(node, _PLACEMENTS):
                return lines + [f"{indent}return {self.placed(node)}"]
            lines += [f"{indent}if {self.ask(node, values)}:"]
            lines += (self.body(node.yes, indent + "    ", False, values)
                      if isinstance(node, Test) else [f"{indent}    return {self.found(node)}"])
            node, top = _passed(node), False

    @staticmethod
    def _of_tests(node: Node) -> bool:
        """Whether the subtree of ``node`` is tests alone, of TEMPLATE_TESTS at the
        most written out (a subtree shared within it counted, and written, each
        time): a template's shape."""
        stack, tests = [node], 0
        while stack:
            step = stack.pop()
            if isinstance(step, (Dispatch, *_PLACEMENTS)):
                return False
            if isinstance(step, Test):
                tests += 1
                if tests > TEMPLATE_TESTS:
                    return False
                stack += [step.yes, step.no]
        return True

    def functions(self) -> list[str]:
        """The definitions: leaf functions, templates, shared subtrees and the tree
        (``lookups``, the dictionaries, come after ``instances`` are bound)."""
        lines = [f"def {_giving(value)}(*_): return {value}" for value in sorted(self.giving)]
        for node in self.nodes:
            if id(node) not in self.shared:
                continue
            name = self.shared[id(node)]
            if not self._of_tests(node):
                lines.append(f"def {name}({self.arguments}):")
                lines += self.body(node, "    ", True)
                continue
            values: list[int] = []
            text = "\n".join(self.body(node, "    ", True, values))
            template = self.templates.get(text)
            if template is None:
                template = self.templates[text] = f"{self.prefix}t{len(self.templates)}"
                parameters = ", ".join([f"c{k}" for k in range(len(values))] + [self.arguments])
                lines += [f"def {template}({parameters}):", text]
            self.instances.append((name, template, values))
        lines.append(f"def {self.prefix}tree({self.arguments}):")
        return lines + self.body(self.root, "    ", True)

    def inline(self, node: Node, indent: str, top: bool) -> list[str]:
        """The tree appending each packet's value (if/elif/else: there is no return)."""
        if isinstance(node, Leaf):
            return [f"{indent}append({self.value(node.output)})"]
        if not top and id(node) in self.shared:
            return [f"{indent}append({self.shared[id(node)]}({self.arguments}))"]
        if isinstance(node, _PLACEMENTS):
            return [f"{indent}append({self.placed(node)})"]
        lines = [f"{indent}if {self.ask(node)}:"] + self._taken(node, indent + "    ")
        no = _passed(node)
        while isinstance(no, (Test, Dispatch)) and id(no) not in self.shared:
            lines += [f"{indent}elif {self.ask(no)}:"] + self._taken(no, indent + "    ")
            no = _passed(no)
        return lines + [f"{indent}else:"] + self.inline(no, indent + "    ", False)

    def _taken(self, node: Test | Dispatch, indent: str) -> list[str]:
        if isinstance(node, Test):
            return self.inline(node.yes, indent, False)
        return [f"{indent}append({self.found(node)})"]


def _arguments(roots: list[Node]) -> tuple[set[str], str]:
    """The bases the trees read, and the arguments their functions take."""
    bases = {field.base for root in roots for n in walk(root) if not isinstance(n, Leaf)
             for field in (n.fields if isinstance(n, Vectors) else (n.field,))}
    return bases, ", ".join(["b", "E"] + [BASE_VARS[base] for base in BASES if base in bases])


def _compiled(lines: list[str], trees: list[_TreeSource]) -> Matchers:
    """``lines`` (definitions) compiled, then the templates' instances bound and the
    lookups' dictionaries made, which name them."""
    namespace: dict[str, object] = {"bisect_left": bisect_left, "_vector": _vector}
    for tree in trees:
        namespace.update(tree.bound)
    exec(compile("\n".join(lines), "<classification>", "exec"), namespace)
    for tree in trees:
        for name, template, values in tree.instances:
            namespace[name] = partial(namespace[template], *values)  # type: ignore[arg-type]
    lookups = [line for tree in trees for line in tree.lookups]
    exec(compile("\n".join(lookups), "<classification>", "exec"), namespace)
    return namespace["match"], namespace["match_batch"]  # type: ignore[return-value]


def generate(root: Node, layout: Layout) -> Matchers:
    """``match(packet)``, the output of the tree's leaf for ``packet``, and
    ``match_batch(packets)`` with the tree written out again inside its loop (a
    function call per packet would cost as much as the tests)."""
    bases, arguments = _arguments([root])
    tree = _TreeSource(root, arguments, "_", int)
    prologue = layout.source(bases)
    lines = tree.functions()
    lines += ["def match(packet):"] + [f"    {line}" for line in prologue]
    lines.append(f"    return _tree({arguments})")
    loop = tree.inline(root, " " * 8, True)
    if max(len(line) - len(line.lstrip()) for line in loop) > 4 * MAX_INLINE_DEPTH:
        loop = [f"        append(_tree({arguments}))"]
    lines += ["def match_batch(batch):", "    out = []", "    append = out.append",
              "    for packet in batch:"] + [f"        {line}" for line in prologue]
    return _compiled(lines + loop + ["    return out"], [tree])


def generate_earliest(parts: list[tuple[int, Node]], outputs: list[int],
                      layout: Layout) -> Matchers:
    """``match`` and ``match_batch`` for trees ``parts`` (the earliest pattern number
    each can give, its tree) whose leaves are pattern numbers (-1: none): a packet
    goes to ``outputs[n]`` for the least number n any part gives it (-1 when none
    does). The parts are asked in order of their earliest pattern, until the number
    found comes before the next part's earliest."""
    bases, arguments = _arguments([root for _, root in parts])
    none = len(outputs)
    trees = [_TreeSource(root, arguments, f"_p{at}_", lambda n: none if n < 0 else n)
             for at, (_, root) in enumerate(parts)]
    lines = [line for tree in trees for line in tree.functions()]
    lines.append(f"_outputs = {[*outputs, -1]!r}")
    lines += ["def match(packet):"] + [f"    {line}" for line in layout.source(bases)]
    lines.append(f"    n = _p0_tree({arguments})")
    for at, (first, _) in enumerate(parts[1:], 1):
        lines += [f"    if n > {first}:", f"        m = _p{at}_tree({arguments})",
                  "        if m < n:", "            n = m"]
    lines += ["    return _outputs[n]",
              "def match_batch(batch):", "    return list(map(match, batch))"]
    return _compiled(lines, trees)


def _giving(value: int) -> str:
    """The name of the function that gives ``value`` (-1: ``_o_1``)."""
    return f"_o{value}".replace("-", "_")


#: The decisions that place a value instead of testing it: they lead on whatever
#: the packet holds, and the code of a tree ends with them.
_PLACEMENTS = (Ranges, Vectors)


def _vector(mask: int, checks: tuple, none: int, *arguments: object) -> int:
    """The answer of the first rule, in the order of their bits in ``mask``, whose
    check (``checks[bit]``) gives one; ``none`` when none does."""
    while mask:
        lowest = mask & -mask
        found = checks[lowest.bit_length() - 1](*arguments)
        if found != none:
            return found
        mask ^= lowest
    return none


def _answered(node: Dispatch | Ranges | Vectors) -> list[Node]:
    """The answers a lookup's table holds: a lookup's values', every range's and
    then the one for bytes not in the packet, every rule's check."""
    if isinstance(node, (Ranges, Vectors)):
        return node.children()
    return [child for _, child in node.branches]


def _passed(node: Test | Dispatch) -> Node:
    """Where a packet goes on when the decision does not take it: a test's "no", a
    lookup's other values."""
    return node.no if isinstance(node, Test) else node.other
