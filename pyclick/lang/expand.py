"""Instantiating compound elements and wiring through pseudo-elements.

Each use of a compound class is replaced by the elements of the definition
that fits its arguments and ports, named ``instance/component``, with the
definition's variables bound (formals to the arguments, ``define``s to their
values) in an environment whose parent is the scope the class was defined
in. Connections running into a group or a compound, through ``input`` and
``output``, are then followed to the primitive elements at their ends.
"""

from __future__ import annotations

from collections import defaultdict

from pyclick.errors import ErrorCollector, Landmark
from pyclick.lang.classes import Compound, Primitive, candidates, choose, use_signature
from pyclick.lang.configstr import split_args
from pyclick.lang.model import FlatConfig, FlatConnection, FlatElement
from pyclick.lang.ports import boundary_errors, port_count
from pyclick.lang.scope import Body, LocalElement
from pyclick.lang.variables import MAX_LENGTH, Environment, ExpansionTooLong

#: A configuration may not expand to more elements than this.
MAX_ELEMENTS = 100_000
#: Compound instances nested deeper than this are refused.
MAX_INSTANCE_DEPTH = 100


class _TooLarge(Exception):
    """Raised to stop an expansion that passed MAX_ELEMENTS."""

    def __init__(self, landmark: Landmark):
        super().__init__()
        self.landmark = landmark


def expand_program(body: Body, variables: dict[str, str], errors: ErrorCollector,
                   requirements: list[tuple[str, str]]) -> FlatConfig:
    """The flat graph of the file scope ``body``; ``variables`` override its defines."""
    expander = _Expander(errors)
    env = Environment({**body.defines, **variables})
    try:
        expander.expand(body, env, "", None, 0)
    except _TooLarge as too_large:
        errors.error(f"configuration expands to more than {MAX_ELEMENTS} elements",
                     too_large.landmark)
        return FlatConfig([], [], list(requirements))
    return FlatConfig(expander.elements, expander.flat_connections(), list(requirements))


class _Expander:
    """Builds the flat graph: elements, and a wiring graph of nodes.

    Every element, and every end of a group or compound instance, is a
    node. A node that is not an element passes connections through: what
    reaches entry node E at input port p continues from ``passages[E]``'s
    output port p.
    """

    def __init__(self, errors: ErrorCollector):
        self.errors = errors
        self.elements: list[FlatElement] = []
        self.declared: dict[str, Landmark] = {}
        self.node_element: list[int | None] = []
        self.passages: dict[int, int] = {}
        self.links: list[tuple[int, int, int, int, Landmark]] = []

    def node(self, element: int | None = None) -> int:
        self.node_element.append(element)
        return len(self.node_element) - 1

    def expand(self, body: Body, env: Environment, prefix: str,
               boundary: tuple[int, int] | None, depth: int) -> None:
        """Add ``body``'s elements and links, its ``input``/``output`` being ``boundary``."""
        own_name = [self.claim(prefix + e.name, e.landmark) if e.binding else False
                    for e in body.elements]
        nodes = []
        for index, element in enumerate(body.elements):
            if element.binding is None:
                nodes.append(boundary[index] if boundary and index < 2 else self.node())
            elif not own_name[index]:
                nodes.append(self.node())
            else:
                nodes.append(self.instantiate(element, prefix + element.name, env, depth))
        for entry, exit_ in body.passages:
            self.passages[nodes[entry]] = nodes[exit_]
        for c in body.connections:
            self.links.append((nodes[c.from_index], c.from_port, nodes[c.to_index], c.to_port,
                               c.landmark))

    def claim(self, name: str, landmark: Landmark) -> bool:
        """Reserve a full element name; false (and an error) if it is taken."""
        if name in self.declared:
            self.errors.error(f"redeclaration of element '{name}'", landmark)
            self.errors.error(f"element '{name}' previously declared here", self.declared[name])
            return False
        self.declared[name] = landmark
        return True

    def instantiate(self, element: LocalElement, name: str, env: Environment, depth: int) -> int:
        try:
            config = env.expand(element.config)
        except ExpansionTooLong:
            self.errors.error(f"configuration of '{name}' longer than {MAX_LENGTH} characters "
                              "once variables are expanded", element.landmark)
            return self.node()
        binding = element.binding
        if isinstance(binding, Compound):
            args = split_args(config)
            ninputs, noutputs = port_count(element.inputs_used), port_count(element.outputs_used)
            choice = choose(binding, args, ninputs, noutputs)
            if not choice.matched:
                self.no_match(binding, len(args), ninputs, noutputs, element.landmark)
            if choice.binding is None:
                return self.node()
            binding = choice.binding
            if isinstance(binding, Compound):
                return self.instance(element, name, binding, choice.values, env, depth)
        return self.node(self.add_element(name, binding, config, element.landmark))

    def add_element(self, name: str, binding: Primitive, config: str, landmark: Landmark) -> int:
        if len(self.elements) >= MAX_ELEMENTS:
            raise _TooLarge(landmark)
        self.elements.append(FlatElement(name, binding.name, config, landmark))
        return len(self.elements) - 1

    def no_match(self, compound: Compound, nargs: int, ninputs: int, noutputs: int,
                 landmark: Landmark) -> None:
        used = use_signature(compound.name, nargs, ninputs, noutputs)
        self.errors.error(f"no match for '{used}'", landmark)
        for candidate in candidates(compound):
            self.errors.error(f"candidate: '{candidate.signature()}'", candidate.landmark)

    def instance(self, element: LocalElement, name: str, compound: Compound, values: list[str],
                 env: Environment, depth: int) -> int:
        if depth >= MAX_INSTANCE_DEPTH:
            self.errors.error(f"compound elements nested more than {MAX_INSTANCE_DEPTH} deep",
                              element.landmark)
            return self.node()
        self.check_ports(element, name, compound)
        outer, inside_input, inside_output = self.node(), self.node(), self.node()
        self.passages[outer] = inside_input
        self.passages[inside_output] = outer
        bound = {formal.variable: value for formal, value in zip(compound.formals, values)}
        scope = Environment({**bound, **compound.body.defines}, env.outside(compound.depth),
                            compound.depth)
        self.expand(compound.body, scope, f"{name}/", (inside_input, inside_output), depth + 1)
        return outer

    def check_ports(self, element: LocalElement, name: str, compound: Compound) -> None:
        """Each port of the instance is used outside and exists inside."""
        for message in boundary_errors(name, element.inputs_used, compound.ninputs,
                                       element.outputs_used, compound.noutputs):
            self.errors.error(message, element.landmark)

    # --- wiring

    def flat_connections(self) -> list[FlatConnection]:
        outgoing: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        for source, source_port, target, target_port, _ in self.links:
            outgoing[(source, source_port)].append((target, target_port))
        reached: dict[tuple[int, int], tuple[tuple[int, int], ...]] = {}
        seen = set()
        result = []
        for source, source_port, target, target_port, landmark in self.links:
            from_element = self.node_element[source]
            if from_element is None:
                continue
            for to_node, to_port in self.ends(target, target_port, outgoing, reached):
                key = (from_element, source_port, self.node_element[to_node], to_port)
                if key not in seen:
                    seen.add(key)
                    result.append(FlatConnection(self.elements[from_element].name, source_port,
                                                 self.elements[key[2]].name, to_port, landmark))
        return result

    def ends(self, node: int, port: int, outgoing: dict, reached: dict) -> tuple[tuple[int, int], ...]:
        """The element inputs that a connection into ``node``'s ``port`` arrives at.

        A walk through pass-through ports, without recursion; a loop made
        only of pseudo-elements leads nowhere. Answers are remembered for
        the ports asked about.
        """
        start = (node, port)
        if start in reached:
            return reached[start]
        found: dict[tuple[int, int], None] = {}
        seen = {start}
        todo = [start]
        while todo:
            key = todo.pop()
            if self.node_element[key[0]] is not None:
                found[key] = None
                continue
            exit_ = self.passages.get(key[0])
            for next_key in outgoing.get((exit_, key[1]), ()) if exit_ is not None else ():
                if next_key not in seen:
                    seen.add(next_key)
                    todo.append(next_key)
        reached[start] = tuple(found)
        return reached[start]
