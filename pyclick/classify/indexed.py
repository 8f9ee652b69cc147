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

Rules that name a range of some bytes (``tcp dst port >= 1024 and tcp dst
port <= 2047``) form groups of their own, when the ranges of a key keep more
rules apart than any values the rule names (``_apart``: the protocol's two
values keep few apart, networks many). The ranges' bounds cut the values into
intervals that every range of the group covers whole or not at all; the
packet's value placed among the cuts (``Ranges``, a binary search) leads to
the tree of the rules whose ranges cover its interval, each rewritten by its
range; a packet without those bytes goes to the tree of the rules that may
hold without them (a ``<=`` is the negation of a ``>``). An interval holds a
rule only when no earlier rule of the same formula, once rewritten, covers
it. Ranges that would put more than COVER_WORK rules per rule in the
intervals (ranges of two fields, which cut each other's intervals) are
placed by bit vectors instead (``Vectors``, the bit vector search of packet
classifiers): each rule is a bit, and each of the fields most of them name
ranges of gives, for the interval the packet's value falls in, the mask of
the rules whose range there covers it; the rules of the bits every mask has
are asked in order, each by its formula rewritten by its ranges. Past
VECTOR_BITS bits of masks, their rules join a lookup, or stay with the
others.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from pyclick.classify.expand import Builder, implied, interval
from pyclick.classify.tree import (Dispatch, Field, Formula, Leaf, Node, Ranges, Test, Vectors,
                                   conj)

#: The fewest entries (patterns, each alternative of one counted) of a list that
#: is indexed; shorter lists are one tree.
INDEX_PATTERNS = 32
#: The fewest entries of a group (see the module docstring).
GROUP_PATTERNS = 8
#: The most alternatives a pattern is read as (``_alternatives``).
ALTERNATIVES = 8
#: The most entries, per entry of a range group, that its intervals may hold in all
#: (each entry is in every interval its range covers).
COVER_WORK = 16
#: The most fields a placement by bit vectors reads.
VECTOR_KEYS = 3
#: The most bits its masks may hold in all (64 MiB).
VECTOR_BITS = 1 << 29


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


def _lookups(named: list[dict[tuple, frozenset]]) -> list[tuple[int, int, tuple] | None]:
    """Per entry (the values it names, by key), the key it would be looked up by:
    the one whose values in the whole list are the most distinct, then named by
    the most entries, as (distinct values, entries, key); None when it names none."""
    distinct: dict[tuple, set] = {}
    rules: dict[tuple, int] = {}
    for values in named:
        for key, among in values.items():
            distinct.setdefault(key, set()).update(among)
            rules[key] = rules.get(key, 0) + 1
    return [max(((len(distinct[key]), rules[key], key) for key, among in values.items()
                 if among), default=None) for values in named]


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
    bounded: dict[int, dict[tuple, Interval]] = {}
    # The ranges an entry names, on keys it names no values of, that leave out some values.
    ranged = [{key: span for key, span in _intervals(f, bounded).items()
               if key not in values and (span[0] > 0 or span[1] < key[3])}
              for (_, f), values in zip(entries, named)]
    looked_up = _lookups(named)
    apart = _apart(ranged)
    members: dict[tuple, list[int]] = {}
    range_members: dict[tuple, list[int]] = {}
    for at, (lookup, spans) in enumerate(zip(looked_up, ranged)):
        placed = max(((apart[key], 0, key) for key in spans), default=None)
        if placed is not None and (lookup is None or placed > lookup):
            range_members.setdefault(placed[2], []).append(at)
        elif lookup is not None:
            members.setdefault(lookup[2], []).append(at)
    parts = []
    grouped: set[int] = set()
    for key, ats in range_members.items():
        part = None if len(ats) < GROUP_PATTERNS else \
            _ranged(key, [(entries[at], ranged[at][key]) for at in ats], builder) or \
            _vectors([(entries[at], ranged[at]) for at in ats], builder)
        if part is not None:
            parts.append(part)
            grouped.update(ats)
            continue
        # Given up: its entries go to the lookups they would have joined instead.
        for at in ats:
            if looked_up[at] is not None:
                members.setdefault(looked_up[at][2], []).append(at)
    for key, ats in members.items():
        if len(ats) >= GROUP_PATTERNS:
            ats.sort()
            parts.append(_group(key, [entries[at] for at in ats], [named[at][key] for at in ats],
                                builder))
            grouped.update(ats)
    if not parts:
        return None
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


def _tree(problem: list[tuple[int, Formula]], none: Leaf, builder: Builder) -> Node:
    """The tree of ``problem``: of one entry, its chain (``_chain``) when it has one."""
    if len(problem) == 1:
        number, f = problem[0]
        chain = Leaf(number) if f is True else _chain(f, None, number, none)
        if chain is not None:
            return chain
    return builder.build(tuple(problem))


def _chain(f: Formula, known: Field | None, number: int, none: Leaf) -> Node | None:
    """The tree of the one entry ``number`` of a value, its formula ``f`` an "and" of
    tests, once ``known`` holds: the tests ``known`` does not settle, one after the
    other, each "no" going to ``none`` (an "and" holds when its tests all do, in any
    order). Most entries of a long list are alone with their value, and this
    spares each the expansion of its formula. None when ``f`` is not such an "and",
    or when one of its tests says something of another on the same bytes: the
    expansion draws that conclusion (``ip ttl 64 and ip ttl < 64`` holds for no
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
    # A test repeated is asked once (``tcp src port > 1 and tcp src port < 9``
    # asks for TCP twice), as the expansion would: one object, the formula interned.
    tests = list({id(test): test for test in tests}.values())
    if len(tests) > 1:
        keys = [test.key for test in tests]
        if len(set(keys)) < len(keys) and any(
                implied(test, other, True) is not None
                for test in tests for other in tests
                if test is not other and test.key == other.key):
            return None
    node: Node = Leaf(number)
    for test in reversed(tests):
        truth = None if known is None else implied(test, known, True)
        if truth is False:
            return none
        if truth is None:
            node = Test(test, node, none)
    return node


#: The interval a formula holds its key's bytes to: the lowest and highest value,
#: and whether it may hold when the bytes are not in the packet.
Interval = tuple[int, int, bool]
#: No key held to an interval (shared: never written to).
_NO_INTERVALS: dict[tuple, Interval] = {}


def _intervals(f: Formula, seen: dict[int, dict[tuple, Interval]]) -> dict[tuple, Interval]:
    """The keys whose bytes ``f`` holds only for values of an interval, or also when
    they are not in the packet where the interval says so, and those intervals: a
    ``>`` or ``<`` test's values (``implied``; an equality's are ``_values``'); the
    values such a test fails for, and none, when it is negated; the common part
    of an "and"'s two sides, the span of an "or"'s."""
    if f is True or f is False:
        return {}
    if isinstance(f, Field):
        # An equality's values are ``_values``'.
        if f.op == "==":
            return _NO_INTERVALS
        low, high = interval(f)
        return {f.key: (low, high, False)}
    known = seen.get(id(f))
    if known is not None:
        return known
    kind = f[0]
    if kind == "not" and isinstance(f[1], Field) and f[1].op != "==":
        test = f[1]
        known = {test.key: (0, test.value, True) if test.op == ">"
                 else (test.value, test.mask, True)}
    elif kind in ("and", "or"):
        left, right = _intervals(f[1], seen), _intervals(f[2], seen)
        if not left and (kind == "or" or not right):
            known = _NO_INTERVALS
        elif kind == "and":
            known = {**left, **right}
            for key in left.keys() & right.keys():
                (low, high, absent), (other_low, other_high, other_absent) = left[key], right[key]
                known[key] = (max(low, other_low), min(high, other_high), absent and other_absent)
        else:
            known = {}
            for key in left.keys() & right.keys():
                (low, high, absent), (other_low, other_high, other_absent) = left[key], right[key]
                known[key] = (min(low, other_low), max(high, other_high), absent or other_absent)
    else:
        known = {}
    seen[id(f)] = known
    return known


def _apart(ranged: list[dict[tuple, Interval]]) -> dict[tuple, float]:
    """Per key, how many entries its ranges keep apart: the intervals between their
    cuts over the intervals a range covers on average. Ranges that are many and
    narrow place a value among few entries, as a lookup among many values does;
    ranges open to one side cover most intervals, and keep few entries apart."""
    spans: dict[tuple, list[Interval]] = {}
    for named in ranged:
        for key, span in named.items():
            spans.setdefault(key, []).append(span)
    apart = {}
    for key, intervals in spans.items():
        order = _order(key, intervals)
        covered = 0
        for low, high, _ in intervals:
            first, last = _covered(order, key, low, high)
            covered += max(last - first + 1, 1)
        apart[key] = (len(order) + 1) * len(intervals) / covered
    return apart


def _order(key: tuple, spans: list[Interval]) -> list[int]:
    """The cuts of all the intervals ``spans`` of ``key``'s values, ascending."""
    return sorted(set().union(*[_cuts(key, span) for span in spans]))


def _cuts(key: tuple, span: Interval) -> list[int]:
    """Where the interval ``span`` of ``key``'s values cuts them: after each value
    below it and after its highest, unless that is the highest value of all."""
    low, high, _ = span
    return [cut for cut, inside in ((low - 1, low > 0), (high, high < key[3])) if inside]


def _covered(order: list[int], key: tuple, low: int, high: int) -> tuple[int, int]:
    """The first and last of the intervals between the cuts ``order`` (the one below
    the first cut numbered 0) that the range ``low`` to ``high`` covers, each of its
    bounds a cut."""
    first = bisect_left(order, low - 1) + 1 if low > 0 else 0
    last = bisect_left(order, high) if high < key[3] else len(order)
    return first, last


def _open(skip: dict[int, int], at: int) -> int:
    """The first interval from ``at`` on that ``skip`` does not lead past, each
    interval passed then leading two steps further (path halving)."""
    while at in skip:
        following = skip[at]
        skip[at] = skip.get(following, following)
        at = skip[at]
    return at


def _ranged(key: tuple, members: list[tuple[tuple[int, Formula], Interval]],
            builder: Builder) -> Part | None:
    """The placement of ``key``'s value among the cuts of the ``members``' ranges
    (entry and interval each), leading to the tree of the entries whose range
    covers the value's interval, each rewritten by its own; and of the entries
    that may hold without the bytes, when they are not in the packet. None when
    the intervals would hold more than COVER_WORK entries per member in all."""
    order = _order(key, [span for _, span in members])
    covering: list[list[tuple[int, Formula]]] = [[] for _ in range(len(order) + 1)]
    # Per formula (rewritten), the intervals that hold it already, each leading to
    # the next that may not (path-halved): an entry whose formula an earlier one of
    # the interval has never holds first there, and is not added.
    holding: dict[int, dict[int, int]] = {}
    work = COVER_WORK * len(members)
    absent = []
    for (number, f), (low, high, without) in members:
        if without:
            absent.append((number, builder.missing(f, key)))
        within = builder.within(f, key, low, high)
        if within is False:
            continue
        skip = holding.setdefault(id(within), {})
        first, last = _covered(order, key, low, high)
        at = _open(skip, first)
        while at <= last:
            covering[at].append((number, within))
            skip[at] = at + 1
            at = _open(skip, at + 1)
            work -= 1
        if work < 0:
            return None
    # Neighbours with the same entries are one interval.
    problems: list[list[tuple[int, Formula]]] = []
    cuts: list[int] = []
    for at, entries in enumerate(covering):
        problem = _earliest(entries)
        # Their formulas interned: equal lists hold the very same objects.
        if problems and problem == problems[-1]:
            cuts[-1:] = [order[at]] if at < len(order) else []
            continue
        problems.append(problem)
        if at < len(order):
            cuts.append(order[at])
    none = Leaf(-1)
    missing = _earliest(absent)
    trees = [_tree(problem, none, builder) for problem in [*problems, missing]]
    if len(problems) == 1 and missing == problems[0]:
        # Every value, and none, leads to the same entries.
        return Part(members[0][0][0], trees[0])
    return Part(members[0][0][0], Ranges(Field(*key, ">", cuts[0] if cuts else 0), tuple(cuts),
                                         tuple(trees[:-1]), trees[-1]))


def _earliest(entries: list[tuple[int, Formula]]) -> list[tuple[int, Formula]]:
    """``entries`` without those that hold for no packet or only where an earlier one
    (of the same formula) does, as far as one that holds for all."""
    kept = []
    formulas = {id(False)}
    for number, f in entries:
        if id(f) not in formulas:
            formulas.add(id(f))
            kept.append((number, f))
        if f is True:
            break
    return kept


def _vectors(members: list[tuple[tuple[int, Formula], dict[tuple, Interval]]],
             builder: Builder) -> Part | None:
    """The placement by bit vectors of the ``members`` (entry and its ranges by key
    each) on the keys most of them name ranges of: each member is a bit, set in the
    mask of every interval of a key its range there covers (of all, when it names
    no range there), and in the mask for bytes not in the packet when it may hold
    without them. Each member's check is its formula rewritten by its ranges, or
    by the bytes missing. None when fewer than GROUP_PATTERNS name a key's ranges,
    or the masks would hold more than VECTOR_BITS bits."""
    naming: dict[tuple, int] = {}
    for _, spans in members:
        for key in spans:
            naming[key] = naming.get(key, 0) + 1
    keys = sorted((key for key, count in naming.items() if count >= GROUP_PATTERNS),
                  key=lambda key: (-naming[key], key))[:VECTOR_KEYS]
    if not keys:
        return None
    orders = [_order(key, [spans[key] for _, spans in members if key in spans])
              for key in keys]
    if sum(len(order) + 2 for order in orders) * len(members) > VECTOR_BITS:
        return None
    masks = []
    for key, order in zip(keys, orders):
        toggles = [0] * (len(order) + 2)
        absent = 0
        for bit, (_, spans) in enumerate(members):
            low, high, without = spans.get(key, (0, key[3], True))
            first, last = _covered(order, key, low, high)
            if first <= last:
                toggles[first] ^= 1 << bit
                toggles[last + 1] ^= 1 << bit
            if without:
                absent |= 1 << bit
        held, mask = [], 0
        for toggle in toggles[:-1]:
            mask ^= toggle
            held.append(mask)
        masks.append((*held, absent))
    # Each member's formula rewritten for every set of keys missing (bit k for key k).
    none = Leaf(-1)
    checks: list[list[Node]] = [[] for _ in range(1 << len(keys))]
    for (number, f), spans in members:
        variants = [f]
        for key in keys:
            if key not in spans:
                variants += variants
                continue
            low, high, without = spans[key]
            # A member that cannot hold without the bytes has no bit in the mask
            # for them missing: that check is never asked.
            variants = [builder.within(variant, key, low, high) for variant in variants] + \
                [builder.missing(variant, key) if without else False for variant in variants]
        for row, variant in zip(checks, variants):
            row.append(none if variant is False else _tree([(number, variant)], none, builder))
    return Part(members[0][0][0], Vectors(tuple(Field(*key, ">", 0) for key in keys),
                                          tuple(map(tuple, orders)), tuple(masks),
                                          tuple(map(tuple, checks))))
