"""Long lists of patterns indexed by the bytes they compare: the earliest pattern wins.

A decision tree asks patterns in their order, so an access list of thousands
of rules on different fields (networks, hosts, protocols and ports) becomes a
chain of thousands of decisions: a packet that matches late walks all of
them, and building each decision looks at every rule left, in time that
grows with the square of the list. Packet classifiers index such lists
instead, by the fields the rules name (tuple space search): the rules that
say the packet's bytes at one key (offset and mask) hold one of some values
form a group, and a lookup of the packet's value there leads to the decision
tree of only the group's rules that name that value. The rules no group
takes get one decision tree of their own. Each part finds the earliest rule
it holds that the packet matches, and the earliest of those decides, as in
the list read in order.

Each rule goes to the key, among those it names values of, whose values in
the whole list are the most distinct (the most rules, on ties), so that a
value leads to few rules: a rule of a protocol and a port goes with the
ports, not with the two protocols, and a list of networks and port rules
becomes a group of networks and a group of ports. A rule of alternatives on
different bytes (``host`` is a source or a destination) is an entry per
alternative, each in its own group. A group of fewer than GROUP_PATTERNS
entries would cost a lookup for little: they stay with the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyclick.classify.expand import Builder, implied
from pyclick.classify.tree import Dispatch, Field, Formula, Leaf, Node, Test, conj

#: The fewest entries (patterns, each alternative of one counted) of a list that
#: is indexed; shorter lists are one tree.
INDEX_PATTERNS = 32
#: The fewest entries of a group (see the module docstring).
GROUP_PATTERNS = 8
#: The most alternatives a pattern is read as (``_alternatives``).
ALTERNATIVES = 8


@dataclass(frozen=True)
class Part:
    """A decision tree whose leaves are pattern numbers (-1: none of its own), and
    the earliest number it holds."""

    first: int
    root: Node


@dataclass(frozen=True)
class Indexed:
    """The parts of an indexed list (in order of their earliest pattern) and the
    output of each pattern, by number."""

    parts: tuple[Part, ...]
    outputs: tuple[int, ...]


def _values(f: Formula, seen: dict[int, dict[tuple, frozenset]]
            ) -> dict[tuple, frozenset]:
    """The keys ``f`` holds only when the packet's bytes there are one of some values,
    and those values: an equality's, the common ones of an "and"'s two sides, all
    of an "or"'s when both sides name the key."""
    if f is True or f is False:
        return {}
    if isinstance(f, Field):
        return {f.key: frozenset((f.value,))} if f.op == "==" else {}
    known = seen.get(id(f))
    if known is not None:
        return known
    kind = f[0]
    if kind == "and":
        left, right = _values(f[1], seen), _values(f[2], seen)
        known = {**left, **right}
        for key in left.keys() & right.keys():
            known[key] = left[key] & right[key]
    elif kind == "or":
        left, right = _values(f[1], seen), _values(f[2], seen)
        known = {key: left[key] | right[key] for key in left.keys() & right.keys()}
    else:
        known = {}
    seen[id(f)] = known
    return known


def _alternatives(f: Formula, builder: Builder) -> list[Formula]:
    """Formulas, interned, of which ``f`` (interned) holds when one does: the sides of
    an "or" that is not one key's values (``host`` is a source or a destination),
    and of an "and" each alternative of one side with each of the other's, up to
    ALTERNATIVES of them (``port 80`` is a source port or a destination port, each
    of TCP or UDP)."""
    if isinstance(f, tuple):
        if f[0] == "or" and not builder.membership(f)[1]:
            return _alternatives(f[1], builder) + _alternatives(f[2], builder)
        if f[0] == "and":
            left, right = _alternatives(f[1], builder), _alternatives(f[2], builder)
            if 1 < len(left) * len(right) <= ALTERNATIVES:
                return [builder.intern(conj(a, b)) for a in left for b in right]
    return [f]


def index(patterns: list[tuple[int, Formula]], builder: Builder) -> Indexed | None:
    """``patterns`` (output, formula), in order, indexed (see the module docstring);
    None when the list is short or no group forms. TooComplex as ``expand`` raises
    it, over all the trees."""
    patterns = [(output, f) for output, f in patterns if f is not False]
    for number, (_, f) in enumerate(patterns):
        if f is True:
            # Nothing after a pattern that always holds is ever asked.
            patterns = patterns[:number + 1]
            break
    # A pattern's entries, its number with each of its alternatives: the earliest
    # number any part finds is that of the earliest pattern that holds.
    entries = [(number, alternative) for number, (_, f) in enumerate(patterns)
               for alternative in _alternatives(builder.intern(f), builder)]
    if len(entries) < INDEX_PATTERNS:
        return None
    seen: dict[int, dict[tuple, frozenset]] = {}
    named = [_values(f, seen) for _, f in entries]
    distinct: dict[tuple, set] = {}
    rules: dict[tuple, int] = {}
    for values in named:
        for key, among in values.items():
            distinct.setdefault(key, set()).update(among)
            rules[key] = rules.get(key, 0) + 1
    members: dict[tuple, list[int]] = {}
    for at, values in enumerate(named):
        keys = [key for key, among in values.items() if among]
        if keys:
            key = max(keys, key=lambda k: (len(distinct[k]), rules[k], k))
            members.setdefault(key, []).append(at)
    groups = {key: ats for key, ats in members.items() if len(ats) >= GROUP_PATTERNS}
    if not groups:
        return None
    grouped = {at for ats in groups.values() for at in ats}
    parts = [_group(key, [entries[at] for at in ats], [named[at][key] for at in ats], builder)
             for key, ats in groups.items()]
    rest = [entry for at, entry in enumerate(entries) if at not in grouped]
    if rest:
        parts.append(Part(rest[0][0], builder.build(tuple(rest))))
    parts.sort(key=lambda part: part.first)
    return Indexed(tuple(parts), tuple(output for output, _ in patterns))


def _group(key: tuple, entries: list[tuple[int, Formula]], values: list[frozenset],
           builder: Builder) -> Part:
    """The lookup of ``key`` among the ``values`` its ``entries`` (number, formula) each
    name: each value leads to the tree of the entries that name it, knowing it."""
    naming: dict[int, list[tuple[int, Formula]]] = {}
    for entry, among in zip(entries, values):
        for value in among:
            naming.setdefault(value, []).append(entry)
    branches = []
    leaves: dict[int, Leaf] = {}
    none = Leaf(-1)
    for value in sorted(naming):
        first, formula = naming[value][0]
        if builder.among(formula, key):
            # An entry that says no more than that the bytes hold one of its values
            # (a host of a host list, alternatives joined by "or") holds.
            leaf = leaves.get(first)
            if leaf is None:
                leaf = leaves[first] = Leaf(first)
            branches.append((value, leaf))
            continue
        known = Field(*key, "==", value)
        if len(naming[value]) == 1:
            chain = _chain(formula, known, first, none)
            if chain is not None:
                branches.append((value, chain))
                continue
        problem = tuple((number, builder.given(f, known)) for number, f in naming[value])
        branches.append((value, builder.build(problem)))
    return Part(entries[0][0], Dispatch(Field(*key, "==", branches[0][0]), tuple(branches),
                                        none))


def _chain(f: Formula, known: Field, number: int, none: Leaf) -> Node | None:
    """The tree of the one entry ``number`` of a value, its formula ``f`` an "and" of
    tests, once ``known`` holds: the tests ``known`` does not settle, one after the
    other, each "no" going to ``none`` (an "and" holds when its tests all do, in any
    order). Most entries of a long list are alone with their value, and this
    spares each the expansion of its formula. None when ``f`` is not such an "and",
    or when an equality shares its bytes with another test: the expansion draws
    conclusions from one to the other (``ip ttl 64 and ip ttl < 64`` holds for no
    packet, and no output is reached through it), which a chain would not."""
    tests: list[Field] = []
    stack = [f]
    while stack:
        part = stack.pop()
        if isinstance(part, Field):
            tests.append(part)
        elif isinstance(part, tuple) and part[0] == "and":
            stack += [part[2], part[1]]
        else:
            return None
    # A test repeated is asked once (``tcp src port >= 1 and tcp src port <= 9``
    # asks for TCP twice), as the expansion would: one object, the formula interned.
    tests = list({id(test): test for test in tests}.values())
    if len(tests) > 1:
        keys = [test.key for test in tests]
        if len(set(keys)) < len(keys) and any(
                test.op == "==" and keys.count(test.key) > 1 for test in tests):
            return None
    node: Node = Leaf(number)
    for test in reversed(tests):
        truth = implied(test, known, True)
        if truth is False:
            return none
        if truth is None:
            node = Test(test, node, none)
    return node
