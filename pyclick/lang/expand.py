"""Instantiating compound elements and wiring through pseudo-elements.

Each use of a compound class is replaced by the elements of the definition
that fits its arguments and ports, named ``instance/component``, with the
definition's variables bound (formals to the arguments, ``define``s to their
values) in an environment whose parent is the scope the class was defined
in. Connections running into a group or a compound, through ``input`` and
``output``, are then followed to the primitive elements at their ends. The
flat elements come in Click's order, which its element numbers follow: a
scope's own elements as declared, then each compound instance's in turn.

A definition used again with the same arguments, from the same scope,
expands to the same elements and connections under another name: the first
expansion is kept as a fragment of the graph and copied with the new name,
unless a name it needs is already taken or the copy would nest too deep
(then it is expanded again, so that the errors are those of a first
expansion). Everything built is counted against the limits of
:mod:`pyclick.lang.limits`; the first one passed ends the flattening with
an error at the file-scope statement being expanded.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from pyclick.errors import ErrorCollector, Landmark
from pyclick.lang.classes import Compound, Primitive, candidates, choose, use_signature
from pyclick.lang.configstr import brief, split_args
from pyclick.lang.joins import boundary_errors, port_count
from pyclick.lang.limits import Budget, LimitExceeded
from pyclick.lang.model import FlatConfig, FlatConnection, FlatElement
from pyclick.lang.scope import Body, LocalElement
from pyclick.lang.variables import MAX_LENGTH, Environment, ExpansionTooLong

#: Compound instances nested deeper than this are refused.
MAX_INSTANCE_DEPTH = 100


def expand_program(body: Body, variables: dict[str, str], errors: ErrorCollector,
                   requirements: list[tuple[str, str]]) -> FlatConfig:
    """The flat graph of the file scope ``body``; ``variables`` override its defines."""
    budget = Budget()
    expander = _Expander(errors, budget)
    env = Environment({**body.defines, **variables}, budget=budget)
    try:
        expander.expand(body, env, "", None, 0)
        connections = expander.flat_connections()
    except LimitExceeded as exceeded:
        errors.error(str(exceeded), expander.statement)
        return FlatConfig([], [], list(requirements))
    # Click's order, which its element numbers, initialization and listings
    # follow: a scope's own elements, then each compound's, depth first.
    keys = expander.keys
    elements = [expander.elements[i] for i in sorted(range(len(keys)), key=keys.__getitem__)]
    # Connections as Click sorts them: by input end, then by output end.
    index = {e.name: i for i, e in enumerate(elements)}
    connections.sort(key=lambda c: (index[c.to_element], c.to_port,
                                    index[c.from_element], c.from_port))
    return FlatConfig(elements, connections, list(requirements))


class _Fragment(NamedTuple):
    """What one compound instance added to the expander's lists, to copy under another name.

    Ranges are ``[start, end)`` in the expander's nodes, elements, links and
    claimed names: the copy reads them there, where they stay, so a fragment
    costs no memory of its own. The instance's own three nodes (outside,
    inside input, inside output) come first; its names all start with
    ``prefix``, its elements' order keys with ``place``. ``depth`` is how
    many levels of instances it nests below itself; ``instances`` counts
    itself too.
    """

    prefix: str
    place: tuple
    nodes: range
    elements: range
    links: range
    claims: range
    depth: int
    instances: int
    expanded: int


class _Expander:
    """Builds the flat graph: elements, and a wiring graph of nodes.

    Every element, and every end of a group or compound instance, is a
    node. A node that is not an element passes connections through: what
    reaches entry node E at input port p continues from ``passages[E]``'s
    output port p.
    """

    def __init__(self, errors: ErrorCollector, budget: Budget):
        self.errors = errors
        self.budget = budget
        self.elements: list[FlatElement] = []
        #: Each element's place in Click's order: per enclosing scope, (1,
        #: index of the compound instance), ending with (0, its own index).
        self.keys: list[tuple] = []
        #: The order key prefix of what the element being expanded adds.
        self.place: tuple = ()
        self.declared: dict[str, Landmark] = {}
        self.claimed: list[str] = []
        self.node_element: list[int | None] = []
        self.passages: dict[int, int] = {}
        self.links: list[tuple[int, int, int, int, Landmark]] = []
        self.fragments: dict[tuple, _Fragment] = {}
        #: The deepest instance nesting reached by the expansion under way.
        self.deepest = 0
        #: The file-scope statement being expanded: where a limit error points.
        self.statement: Landmark | None = None

    def node(self, element: int | None = None) -> int:
        self.node_element.append(element)
        return len(self.node_element) - 1

    def expand(self, body: Body, env: Environment, prefix: str,
               boundary: tuple[int, int] | None, depth: int) -> None:
        """Add ``body``'s elements and links, its ``input``/``output`` being ``boundary``."""
        own_name = [self.claim(prefix + e.name, e.landmark) if e.binding else False
                    for e in body.elements]
        nodes = []
        outer = self.place
        for index, element in enumerate(body.elements):
            self.place = outer + ((1, index),)
            if depth == 0:
                self.statement = element.landmark
            if element.binding is None:
                nodes.append(boundary[index] if boundary and index < 2 else self.node())
            elif not own_name[index]:
                nodes.append(self.node())
            else:
                nodes.append(self.instantiate(element, prefix + element.name, env, depth))
        self.place = outer
        self.budget.check_wiring(len(self.node_element) + len(self.links))
        for entry, exit_ in body.passages:
            self.passages[nodes[entry]] = nodes[exit_]
        links = self.links
        for c in body.connections:
            links.append((nodes[c.from_index], c.from_port, nodes[c.to_index], c.to_port,
                          c.landmark))
        wiring = len(self.node_element) + len(links)
        if wiring > self.budget.max_wiring:
            if depth == 0:
                within = len(body.connections) - (wiring - self.budget.max_wiring)
                self.statement = body.connections[within].landmark
            self.budget.check_wiring(wiring)

    def claim(self, name: str, landmark: Landmark) -> bool:
        """Reserve a full element name; false (and an error) if it is taken."""
        if name in self.declared:
            self.errors.error(f"redeclaration of element '{brief(name)}'", landmark)
            self.errors.error(f"element '{brief(name)}' previously declared here",
                              self.declared[name])
            return False
        self.declared[name] = landmark
        self.claimed.append(name)
        return True

    def instantiate(self, element: LocalElement, name: str, env: Environment, depth: int) -> int:
        try:
            config = env.expand(element.config)
        except ExpansionTooLong:
            self.errors.error(f"configuration of '{brief(name)}' longer than {MAX_LENGTH} "
                              "characters once variables are expanded", element.landmark)
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
        # An anonymous primitive element is one written as its class.
        return self.node(self.add_element(name, binding, config, element.landmark,
                                          element.anonymous))

    def add_element(self, name: str, binding: Primitive, config: str, landmark: Landmark,
                    by_class: bool) -> int:
        self.elements.append(FlatElement(name, binding.name, config, landmark, by_class))
        self.keys.append(self.place[:-1] + ((0, self.place[-1][1]),))
        self.budget.check_elements(len(self.elements))
        return len(self.elements) - 1

    def no_match(self, compound: Compound, nargs: int, ninputs: int, noutputs: int,
                 landmark: Landmark) -> None:
        used = use_signature(compound.name, nargs, ninputs, noutputs)
        self.errors.error(f"no match for '{used}'", landmark)
        # Click's words: a heading at the first definition, then one line each.
        tried = candidates(compound)
        self.errors.error("candidates are:", tried[0].landmark)
        for candidate in tried:
            self.errors.error(f"  {candidate.signature()}", candidate.landmark)

    def instance(self, element: LocalElement, name: str, compound: Compound, values: list[str],
                 env: Environment, depth: int) -> int:
        if depth >= MAX_INSTANCE_DEPTH:
            self.errors.error(f"compound elements nested more than {MAX_INSTANCE_DEPTH} deep",
                              element.landmark)
            return self.node()
        self.check_ports(element, name, compound)
        outside = env.outside(compound.depth)
        key = (compound, tuple(values), outside)
        fragment = self.fragments.get(key)
        if fragment is not None:
            copied = self.copy(fragment, name, depth)
            if copied is not None:
                return copied
        return self.expand_instance(key, name, compound, values, outside, depth)

    def expand_instance(self, key: tuple, name: str, compound: Compound, values: list[str],
                        outside: Environment | None, depth: int) -> int:
        """Expand an instance from its definition, and keep it as a fragment if all went well."""
        budget = self.budget
        budget.add_instances(1)
        budget.check_errors(len(self.errors.messages))
        node_start, element_start = len(self.node_element), len(self.elements)
        link_start, claim_start = len(self.links), len(self.claimed)
        instances, expanded = budget.instances - 1, budget.expanded
        messages = len(self.errors.messages)
        deepest, self.deepest = self.deepest, depth
        outer, inside_input, inside_output = self.node(), self.node(), self.node()
        self.passages[outer] = inside_input
        self.passages[inside_output] = outer
        bound = {formal.variable: value for formal, value in zip(compound.formals, values)}
        scope = Environment({**bound, **compound.body.defines}, outside, compound.depth)
        self.expand(compound.body, scope, f"{name}/", (inside_input, inside_output), depth + 1)
        if len(self.errors.messages) == messages:
            self.fragments[key] = _Fragment(
                f"{name}/", self.place, range(node_start, len(self.node_element)),
                range(element_start, len(self.elements)), range(link_start, len(self.links)),
                range(claim_start, len(self.claimed)), depth=self.deepest - depth,
                instances=budget.instances - instances, expanded=budget.expanded - expanded)
        self.deepest = max(deepest, self.deepest)
        return outer

    def copy(self, fragment: _Fragment, name: str, depth: int) -> int | None:
        """Add ``fragment`` again as instance ``name``: its outside node, or None if it cannot
        be (a name is taken, or the copy would nest too deep)."""
        if depth + fragment.depth >= MAX_INSTANCE_DEPTH:
            return None
        prefix, cut = f"{name}/", len(fragment.prefix)
        claims = self.claimed[fragment.claims.start:fragment.claims.stop]
        names = [prefix + claimed[cut:] for claimed in claims]
        declared = self.declared
        if any(new in declared for new in names):
            return None
        nodes, elements, links = fragment.nodes, fragment.elements, fragment.links
        budget = self.budget
        budget.add_instances(fragment.instances)
        budget.add_expanded(fragment.expanded)
        budget.check_elements(len(self.elements) + len(elements))
        budget.check_wiring(len(self.node_element) + len(self.links) + len(nodes) + len(links))
        declared.update(zip(names, [declared[claimed] for claimed in claims]))
        self.claimed += names
        node_shift = len(self.node_element) - nodes.start
        element_shift = len(self.elements) - elements.start
        self.elements += [FlatElement(prefix + e.name[cut:], e.class_name, e.config, e.landmark,
                                      e.by_class)
                          for e in self.elements[elements.start:elements.stop]]
        place, known = self.place, len(fragment.place)
        self.keys += [place + key[known:] for key in self.keys[elements.start:elements.stop]]
        self.node_element += [None if e is None else e + element_shift
                              for e in self.node_element[nodes.start:nodes.stop]]
        passages = self.passages
        for node in nodes:
            exit_ = passages.get(node)
            if exit_ is not None:
                passages[node + node_shift] = exit_ + node_shift
        self.links += [(a + node_shift, p, b + node_shift, q, landmark)
                       for a, p, b, q, landmark in self.links[links.start:links.stop]]
        self.deepest = max(self.deepest, depth + fragment.depth)
        return nodes.start + node_shift

    def check_ports(self, element: LocalElement, name: str, compound: Compound) -> None:
        """Each port of the instance is used outside and exists inside."""
        for message in boundary_errors(name, element.inputs_used, compound.ninputs,
                                       element.outputs_used, compound.noutputs,
                                       lambda: _inner_ports(compound.body), compound.lacks):
            self.errors.error(message, element.landmark)

    # --- wiring

    def flat_connections(self) -> list[FlatConnection]:
        """Each link from an element, followed to the element inputs it reaches; no repeats."""
        walk = _Walk(self.node_element, self.passages, self.links, self.budget)
        seen: set[tuple[int, int, int, int]] = set()
        result = []
        names = [e.name for e in self.elements]
        node_element, limit = self.node_element, self.budget.max_wiring
        for source, source_port, target, target_port, landmark in self.links:
            from_element = node_element[source]
            if from_element is None:
                continue
            to_element = node_element[target]
            if to_element is not None:
                key = (from_element, source_port, to_element, target_port)
                if key not in seen:
                    seen.add(key)
                    result.append(FlatConnection(names[from_element], source_port,
                                                 names[to_element], target_port, landmark))
                continue
            self.statement = landmark
            for to_node, to_port in walk.ends(target, target_port):
                key = (from_element, source_port, node_element[to_node], to_port)
                if key not in seen:
                    seen.add(key)
                    result.append(FlatConnection(names[from_element], source_port,
                                                 names[key[2]], to_port, landmark))
            if len(result) > limit:
                self.budget.check_wiring(len(result))
        return result


class _Walk:
    """Following connections through pass-through nodes to the element inputs they reach."""

    def __init__(self, node_element: list[int | None], passages: dict[int, int],
                 links: list[tuple[int, int, int, int, Landmark]], budget: Budget):
        self.node_element = node_element
        self.passages = passages
        self.links = links
        # Where each output port's links go: made at the first walk, which a
        # configuration without groups or compounds never takes.
        self.outgoing: dict[tuple[int, int], list[tuple[int, int]]] | None = None
        self.budget = budget
        self.reached: dict[tuple[int, int], tuple[tuple[int, int], ...]] = {}
        self.steps = 0

    def ends(self, node: int, port: int) -> tuple[tuple[int, int], ...]:
        """The element inputs that a connection into ``node``'s ``port`` arrives at.

        A walk through pass-through ports, without recursion; a loop made
        only of pseudo-elements leads nowhere. Answers are remembered for
        the ports asked about, and every step taken counts against the
        wiring limit.
        """
        start = (node, port)
        if start in self.reached:
            return self.reached[start]
        if self.outgoing is None:
            self.outgoing = defaultdict(list)
            for source, source_port, target, target_port, _ in self.links:
                self.outgoing[(source, source_port)].append((target, target_port))
        found: dict[tuple[int, int], None] = {}
        seen = {start}
        todo = [start]
        while todo:
            key = todo.pop()
            if self.node_element[key[0]] is not None:
                found[key] = None
                continue
            exit_ = self.passages.get(key[0])
            for next_key in self.outgoing.get((exit_, key[1]), ()) if exit_ is not None else ():
                if next_key not in seen:
                    seen.add(next_key)
                    todo.append(next_key)
        self.steps += len(seen)
        if self.steps > self.budget.max_wiring:
            raise LimitExceeded(f"connections through groups and compound elements take more "
                                f"than {self.budget.max_wiring} steps to follow")
        self.reached[start] = tuple(found)
        return self.reached[start]


def _inner_ports(body: Body) -> list[tuple[str, int]]:
    """The ports a compound's ``body`` connects to its ``input`` (index 0) and ``output``
    (index 1), in the order of its connections, an input before an output."""
    ports = []
    for c in body.connections:
        if c.from_index == 0:
            ports.append(("input", c.from_port))
        if c.to_index == 1:
            ports.append(("output", c.to_port))
    return ports
