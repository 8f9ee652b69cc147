"""The decision tree of a list of patterns, by Shannon expansion.

:func:`expand` takes one ``(output, formula)`` pair per pattern, in order:
the first pattern whose formula holds gives the packet's output (-1 when
none does). The first undecided test of the first undecided pattern is
asked, and every formula is simplified under each answer, including what
the answer says of other tests on the same bytes (``ip[9] == 6`` true makes
``ip[9] == 17`` false, ``ip ttl > 100`` false makes ``ip ttl > 200`` false).
Equal subproblems share one subtree. Where many
patterns each say only that the same bytes hold one of some values (a host
list), the decision is a lookup of the packet's value among them
(:class:`~pyclick.classify.tree.Dispatch`) instead of one test per value.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Callable

from pyclick.classify.tree import (Dispatch, Field, Formula, Leaf, Node, Test, choose, conj,
                                   disj, neg)

#: The most decision nodes one tree may have (an indexed list has a tree per value
#: it looks up, and as many nodes in all as its patterns need).
MAX_NODES = 20_000
#: The most rewrites the compilation may make, summed over its decisions: every
#: pattern still undecided that a decision looks at, and every part of a formula
#: (test or operator) it rewrites. Each decision looks at every pattern still
#: undecided and keeps them, so a few thousand patterns that exclude each other
#: cost time and memory in the square of their number (3,000 rules of an access
#: list as one tree: 19 million, about 3 seconds and 230 MB). Long lists are
#: indexed instead (``pyclick.classify.indexed``), each tree holding few of them.
MAX_WORK = 25_000_000
#: What rewriting one part of a formula counts towards MAX_WORK, against one for
#: a pattern looked at: it takes about four times as long.
REWRITE_WORK = 4
#: The fewest values of one field that patterns compare it with for the tree to
#: look the field's value up (``Dispatch``) instead of asking them one by one:
#: a host list, a port list, a table of protocols.
DISPATCH_VALUES = 8
#: How much the answers of a lookup may hold in all, patterns and values, as a
#: multiple of the problem's patterns and values: past it, each answer would ask
#: again the same patterns that come before its value's.
DISPATCH_GROWTH = 2


class TooComplex(ValueError):
    """The patterns compile to more than MAX_NODES decisions, or cost more than MAX_WORK."""


def implied(field: Field, known: Field, truth: bool) -> bool | None:
    """What ``known`` having ``truth`` says of ``field``, or None if nothing (both
    interned: one object per test).

    A test holds for an interval of the values of its bytes (an equality for
    one, ``>`` for those above, ``<`` for those below) and never when they are
    not in the packet. A true ``known`` puts the value in its interval: a test
    on the same bytes whose interval holds it all is true, one whose interval
    misses it false. A false ``known`` says the value is outside its interval
    or absent: a test whose interval lies within ``known``'s is false; none is
    true, as an absent value fails every test.

    A true equality also fixes each bit of its mask: a test on the same bytes
    whose mask takes only some of those bits reads a known value (``src host
    10.0.0.1`` settles ``src net 10.0.0.0/8``)."""
    if field is known:
        return truth
    if field.key != known.key:
        if truth and known.op == "==" and field.key[:3] == known.key[:3] \
                and field.mask & ~known.mask == 0:
            value = known.value & field.mask
            return settled(field, value, value)
        return None
    if truth:
        return settled(field, *interval(known))
    low, high = interval(field)
    known_low, known_high = interval(known)
    return False if known_low <= low and high <= known_high else None


def settled(test: Field, low: int, high: int) -> bool | None:
    """What the value of ``test``'s bytes, known to be in the packet and from ``low``
    to ``high``, says of ``test``: true when its interval holds them all, false when
    it holds none of them, None otherwise."""
    test_low, test_high = interval(test)
    if test_low <= low and high <= test_high:
        return True
    if test_high < low or high < test_low:
        return False
    return None


def interval(field: Field) -> tuple[int, int]:
    """The values of ``field``'s bytes (masked) it holds for, lowest and highest
    (the lowest above the highest when none)."""
    if field.op == "==":
        return field.value, field.value
    if field.op == ">":
        return field.value + 1, field.mask
    return 0, field.value - 1


def _first_field(f: Formula) -> Field:
    while not isinstance(f, Field):
        f = f[1]
    return f


class _Pattern:
    """One pattern of a subproblem: its output, its formula (interned by the
    builder) and what the formula reads (``Builder._reads``; ``vague``: its
    keys only). Compared and hashed by identity: the builder makes one per
    (output, formula), so a subproblem, a tuple of them, hashes and compares
    in one step per pattern."""

    __slots__ = ("output", "formula", "reads", "vague")

    def __init__(self, output: int, formula: Formula, reads: frozenset, vague: bool) -> None:
        self.output = output
        self.formula = formula
        self.reads = reads
        self.vague = vague


#: No reads, and no values (``among``).
_EMPTY: frozenset = frozenset()
#: The most tests a formula's reads name one by one; a larger formula's name only
#: their keys (it is "vague"). A formula rewritten makes new formulas on the way
#: to the tests it changes, and their reads would otherwise cost memory in the
#: size of the whole formula each time: a chain of thousands of alternatives
#: would need gigabytes.
READS_NAMED = 64


def _mark(known: Field, truth: bool) -> object:
    """What a formula must read for ``known`` having ``truth`` to say something of
    it (``implied``): a comparison's answer speaks of every test on its bytes
    with its mask (its key); a true equality of every test on its bytes, whatever
    the mask (its key but the mask); a false equality only of the test itself
    (its identity, the field interned)."""
    if known.op != "==":
        return known.key
    return known.key[:3] if truth else id(known)


class Builder:
    """Shannon expansion over interned formulas.

    Every formula the builder holds is interned: one object per structure, so
    structure compares and hashes by identity, and what each reads is known:
    the keys of its tests, their bytes (a key without its mask) and, up to
    READS_NAMED of them, the identities of those tests. A known answer
    rewrites only the formulas it may say something of (``_mark``), and
    leaves the others as they are, the very objects: most patterns of a long
    list.

    Where the patterns compare one field with DISPATCH_VALUES values or more,
    the decision is a lookup of the field's value (``Dispatch``) with one
    subproblem per value and one for the others; a pattern that is that
    comparison alone is settled without being rewritten, so a list of
    thousands of hosts costs a pass over it, not one per host."""

    def __init__(self) -> None:
        self.memo: dict[tuple[_Pattern, ...], Node] = {}
        self.leaves: dict[int, Leaf] = {}
        self.nodes = 0
        self.work = 0
        # Interned formulas by (kind, id of each part), fields by value, and
        # patterns by (output, id of the formula); each table keeps its
        # objects alive, so their ids stay theirs.
        self._formulas: dict[tuple, Formula] = {}
        self._fields: dict[Field, Field] = {}
        self._reads: dict[int, frozenset] = {}
        # Formulas whose reads name their keys only.
        self._vague: set[int] = set()
        # What ``membership`` found of formulas.
        self._memberships: dict[int, tuple[tuple | None, frozenset]] = {}
        self._patterns: dict[tuple[int, int], _Pattern] = {}

    def build(self, patterns: tuple[tuple[int, Formula], ...]) -> Node:
        """The tree of ``patterns``. Built from an explicit stack, children before
        their parent: a thousand patterns that exclude each other make a chain of a
        thousand decisions, deeper than Python's recursion goes."""
        self.nodes = 0
        # A pattern whose formula an earlier one has too never holds first.
        formulas: set[int] = set()
        kept = []
        for output, f in patterns:
            f = self._intern(f)
            if f is not False and id(f) not in formulas:
                formulas.add(id(f))
                kept.append(self._pattern(output, f))
        node, problem = self._settled(kept)
        if node is not None:
            return node
        # Each subproblem waiting for its children: its decision and, per answer,
        # the node when settled at once, else the subproblem that gives it.
        waiting: dict[tuple, tuple[Field, list[int] | None,
                                   list[tuple[Node | None, tuple]]]] = {}
        stack = [problem]
        while stack:
            current = stack[-1]
            if current in self.memo:
                stack.pop()
                continue
            entry = waiting.get(current)
            if entry is None:
                field = _first_field(current[0].formula)
                values, answers = self._split(current, field)
                answers = [self._settled(answer) for answer in answers]
                waiting[current] = (field, values, answers)
                # The first answer's subproblem is built first.
                stack += [rest for node, rest in reversed(answers) if node is None]
                continue
            field, values, answers = waiting.pop(current)
            children = [self.memo[rest] if node is None else node for node, rest in answers]
            self.nodes += 1
            if self.nodes > MAX_NODES:
                raise TooComplex(f"patterns too complex (more than {MAX_NODES} decisions)")
            if all(child is children[0] for child in children):
                self.memo[current] = children[0]
            elif values is None:
                self.memo[current] = Test(field, *children)
            else:
                self.memo[current] = Dispatch(field, tuple(zip(values, children)), children[-1])
            stack.pop()
        return self.memo[problem]

    def intern(self, f: Formula) -> Formula:
        """The one object of ``f``'s structure, which ``given`` and ``build`` take."""
        return self._intern(f)

    def given(self, f: Formula, known: Field) -> Formula:
        """``f`` (interned) once the equality ``known`` is known to hold, interned."""
        known = self._intern(known)
        return self._restrict(f, lambda test: implied(test, known, True), known.key,
                              known.key)

    def within(self, f: Formula, key: tuple, low: int, high: int) -> Formula:
        """``f`` (interned) once the bytes of ``key`` are known to be in the packet and
        to hold a value from ``low`` to ``high``, interned."""
        return self._restrict(f, lambda test: settled(test, low, high), key, key)

    def missing(self, f: Formula, key: tuple) -> Formula:
        """``f`` (interned) once the bytes of ``key`` are known not to be in the packet,
        every test on them false, interned."""
        return self._restrict(f, lambda test: False, key, key)

    def _split(self, problem: tuple[_Pattern, ...], field: Field
               ) -> tuple[list[int] | None, list[list[_Pattern]]]:
        """The answers of the decision on ``field``: for a test, the subproblems when it
        holds and when not (values None); for a lookup, the values looked up and the
        subproblem of each, then of any other value."""
        if field.op == "==":
            looked_up = self._lookup(problem, field.key)
            if looked_up is not None:
                return looked_up
        return None, [self._restricted(problem, field, True),
                      self._restricted(problem, field, False)]

    def _lookup(self, problem: tuple[_Pattern, ...], key: tuple
                ) -> tuple[list[int], list[list[_Pattern]]] | None:
        """The lookup of ``key``'s value (``_split``), when patterns that each say
        only that it is one of some values (``among``) name DISPATCH_VALUES values
        or more, two of them in the first two patterns; else None.

        Only those values have answers of their own: a pattern that compares the
        key among other tests goes to every answer, rewritten by what it says."""
        if len(problem) < 2 or len(self.among(problem[0].formula, key)) \
                + len(self.among(problem[1].formula, key)) < 2:
            return None
        self._count(len(problem))
        # Where each value is named by a pattern that names only values of the
        # key; the other patterns, and of those the ones that read the key too.
        named: dict[int, list[int]] = {}
        others, entangled = [], set()
        for at, pattern in enumerate(problem):
            values = self.among(pattern.formula, key)
            if values:
                for value in values:
                    named.setdefault(value, []).append(at)
                continue
            others.append(at)
            if key in pattern.reads:
                entangled.add(at)
        if len(named) < DISPATCH_VALUES:
            return None
        values = sorted(named)
        # A value's answer ends at the first pattern that names it (those after it
        # are never asked); before it come the other patterns before it, which its
        # answer's subtree asks again. Looked up only when the answers hold few
        # more patterns and values than the problem: else each answer asks the
        # same others over, where tests one by one ask them once.
        ends = [named[value][0] for value in values]
        before = [bisect_left(others, end) for end in ends]
        if sum(before) + len(values) + len(others) > \
                DISPATCH_GROWTH * (len(problem) + len(values)):
            return None
        answers = []
        for value, end, asked in zip(values, ends, before):
            known = self._intern(Field(*key, "==", value))
            answers.append(self._answer(problem, others[:asked] + [end], entangled,
                                        lambda test: implied(test, known, True), key, end))
        seen = frozenset(values)
        answers.append(self._answer(
            problem, others, entangled,
            lambda test: False if test.op == "==" and test.key == key and test.value in seen
            else None, key))
        return values, answers

    def among(self, f: Formula, key: tuple) -> frozenset:
        """The values of ``key``'s bytes ``f`` holds for when ``f`` says only that they
        are one of them (an equality, or equalities joined by "or"); else none."""
        among_key, values = self.membership(f)
        return values if among_key == key else _EMPTY

    def membership(self, f: Formula) -> tuple[tuple | None, frozenset]:
        """The key and values of ``among`` for ``f``'s own key, if it has one."""
        if f is True or f is False:
            return None, _EMPTY
        membership = self._memberships.get(id(f))
        if membership is None:
            if isinstance(f, Field):
                membership = (f.key, frozenset((f.value,)) if f.op == "==" else _EMPTY)
            elif f[0] == "or":
                (key, left), (other, right) = (self.membership(part) for part in f[1:])
                membership = (key, left | right) if left and right and key == other \
                    else (None, _EMPTY)
            else:
                membership = (None, _EMPTY)
            self._memberships[id(f)] = membership
        return membership

    def _answer(self, problem: tuple[_Pattern, ...], kept: list[int], entangled: set[int],
                decide: Callable[[Field], bool | None], key: tuple,
                holding: int = -1) -> list[_Pattern]:
        """The patterns of ``problem`` at positions ``kept`` (in order): those in
        ``entangled`` rewritten by ``decide``, the one at ``holding`` true, the others
        as they are."""
        self._count(len(kept))
        answer = []
        for at in kept:
            pattern = problem[at]
            if at in entangled:
                formula = self._restrict(pattern.formula, decide, key, key)
                if formula is False:
                    continue
                pattern = self._pattern(pattern.output, formula)
            elif at == holding:
                pattern = self._pattern(pattern.output, True)
            answer.append(pattern)
        return answer

    def _restricted(self, problem: tuple[_Pattern, ...], known: Field, truth: bool
                    ) -> list[_Pattern]:
        """``problem`` once ``known`` is known to have ``truth``, without the patterns
        that can no longer hold. Every pattern looked at counts towards MAX_WORK, and
        every part of a formula rewritten."""
        self._count(len(problem))
        mark, key = _mark(known, truth), known.key

        def decide(test: Field) -> bool | None:
            return implied(test, known, truth)

        kept = []
        for pattern in problem:
            if mark in pattern.reads or (pattern.vague and key in pattern.reads):
                formula = pattern.formula
                if formula.__class__ is Field:
                    # A single test: the answer decides it, or leaves it as it is.
                    truth_of = implied(formula, known, truth)
                    if truth_of is not None:
                        formula = truth_of
                else:
                    formula = self._restrict(formula, decide, mark, key)
                if formula is False:
                    continue
                pattern = self._pattern(pattern.output, formula)
            kept.append(pattern)
        return kept

    def _count(self, work: int) -> None:
        self.work += work
        if self.work > MAX_WORK:
            raise TooComplex(f"patterns too complex to compile (more than {MAX_WORK} "
                             "rewrites of their tests)")

    def _restrict(self, f: Formula, decide: Callable[[Field], bool | None], mark: object,
                  key: tuple) -> Formula:
        """``f`` (interned), each test in it that ``decide`` settles replaced by its
        truth, interned; the parts that do not read ``mark`` (``_mark``), or of a
        vague part ``key``, are kept as they are."""
        if f is True or f is False:
            return f
        reads = self._reads[id(f)]
        if mark not in reads and not (id(f) in self._vague and key in reads):
            return f
        self._count(REWRITE_WORK)
        if isinstance(f, Field):
            implied = decide(f)
            return f if implied is None else implied
        kind = f[0]
        restrict = self._restrict
        first = restrict(f[1], decide, mark, key)
        if kind == "not":
            return self._adopt(neg(first))
        # An answer that settles the first part may settle the whole.
        if kind == "and":
            return False if first is False else \
                self._adopt(conj(first, restrict(f[2], decide, mark, key)))
        if kind == "or":
            return True if first is True else \
                self._adopt(disj(first, restrict(f[2], decide, mark, key)))
        return self._adopt(choose(first, restrict(f[2], decide, mark, key),
                                  restrict(f[3], decide, mark, key)))

    def _intern(self, f: Formula) -> Formula:
        """The one object of ``f``'s structure, its parts interned first."""
        if id(f) in self._reads:
            # Interned already (the tables keep every interned object alive, so
            # no other object has its identity).
            return f
        if isinstance(f, Field):
            field = self._fields.get(f)
            if field is None:
                field = self._fields[f] = f
                self._reads[id(f)] = frozenset((f.key, f.key[:3], id(f)))
            return field
        if f is True or f is False:
            return f
        return self._adopt((f[0], *[self._intern(part) for part in f[1:]]))

    def _adopt(self, f: Formula) -> Formula:
        """The one object of ``f``'s structure, its parts (or ``f`` itself) interned:
        what ``neg``, ``conj``, ``disj`` and ``choose`` make of interned parts."""
        if f is True or f is False or id(f) in self._reads:
            return f
        identity = (f[0], *map(id, f[1:]))
        interned = self._formulas.get(identity)
        if interned is None:
            interned = self._formulas[identity] = f
            get = self._reads.get
            reads = get(id(f[1]), _EMPTY)
            for part in f[2:]:
                reads = reads | get(id(part), _EMPTY)
            vague = self._vague
            # Tests are counted only when there may be too many: most formulas are small.
            if any(id(part) in vague for part in f[1:]) or (
                    len(reads) > READS_NAMED
                    and sum(read.__class__ is int for read in reads) > READS_NAMED):
                reads = frozenset(read for read in reads if read.__class__ is tuple)
                vague.add(id(f))
            self._reads[id(f)] = reads
        return interned

    def _pattern(self, output: int, formula: Formula) -> _Pattern:
        identity = (output, id(formula))
        pattern = self._patterns.get(identity)
        if pattern is None:
            reads = _EMPTY if formula is True or formula is False else self._reads[id(formula)]
            pattern = self._patterns[identity] = _Pattern(output, formula, reads,
                                                          id(formula) in self._vague)
        return pattern

    def _settled(self, patterns: list[_Pattern]) -> tuple[Node | None, tuple[_Pattern, ...]]:
        """The node of ``patterns`` (none false) when known without a decision (a
        leaf, or built before), else None; and the patterns as a subproblem."""
        problem = tuple(patterns)
        if not problem:
            return self._leaf(-1), problem
        if problem[0].formula is True:
            return self._leaf(problem[0].output), problem
        return self.memo.get(problem), problem

    def _leaf(self, output: int) -> Leaf:
        return self.leaves.setdefault(output, Leaf(output))


def expand(patterns: list[tuple[int, Formula]]) -> Node:
    """The decision tree of ``patterns`` (see the module docstring); TooComplex past
    MAX_NODES or MAX_WORK."""
    return Builder().build(tuple(patterns))
