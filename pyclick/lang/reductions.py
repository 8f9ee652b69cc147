"""What lark's parser calls as it reduces each rule, made direct.

With an inline transformer, lark wraps each of its methods in a filter
that drops anonymous tokens (``";"``), puts None where an optional part is
missing (``[port]``, maybe_placeholders) and splices in the children of
inlined rules (``_stmts``, repetitions); a rule without a method builds a
lark Tree through two more calls. Each wrapper is a Python call running a
loop, on every reduction, and a configuration has tens of thousands of them.

:func:`make_direct` makes, for each rule, one function that builds the same list
of children in a single expression and calls the same method, or builds the
same Tree; lark's own callbacks are kept for rules wrapped any other way
(``?class``, which returns its single child). The parser then does exactly
what it did, one call per reduction. The rules in its table are also made
to hash and compare by identity (:class:`_Rule`), which it does twice per
reduction.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

from lark import Tree
from lark.grammar import Rule
from lark.parse_tree_builder import ChildFilterLALR, ChildFilterLALR_NoPlaceholders

Callback = Callable[[list], Any]


class _ParseTable(Protocol):
    states: dict[Any, dict[str, tuple[Any, Any]]]


class LALRParser(Protocol):
    """lark's LALR parser, as far as its reductions go."""

    parse_table: _ParseTable
    callbacks: dict[Rule, Callback]


class _Rule(Rule):
    """A rule hashed and compared by identity, in C: the parser looks each
    reduction's callback up by its rule, and checks the rule against its end
    state, through two calls of lark's Python methods otherwise. A parsing
    table holds each rule once, so identity is equality there."""

    __slots__ = ()
    __hash__ = object.__hash__
    __eq__ = object.__eq__
    __ne__ = object.__ne__


def make_direct(parser: LALRParser, transformer: object) -> None:
    """Make ``parser``'s reductions direct, in place: its rules compared by identity,
    each of lark's callbacks (for ``transformer``) replaced by its direct form.

    Each is made the first time its rule is reduced, in place in the callbacks
    (the parser looks its callbacks up there at each reduction): compiling a
    function costs about as much as a hundred reductions, and a configuration
    uses a few of the grammar's hundred rules.
    """
    rules: dict[Rule, _Rule] = {}
    for actions in parser.parse_table.states.values():
        for terminal, (action, argument) in actions.items():
            if isinstance(argument, Rule):
                if argument not in rules:
                    rules[argument] = copy.copy(argument)
                    rules[argument].__class__ = _Rule
                actions[terminal] = (action, rules[argument])
    callbacks = parser.callbacks
    made = {rules.get(rule, rule): _on_first_use(callbacks, rules.get(rule, rule), callback,
                                                 transformer)
            for rule, callback in callbacks.items()}
    callbacks.clear()
    callbacks.update(made)


def _on_first_use(callbacks: dict[Rule, Callback], rule: Rule, callback: Callback,
                  transformer: object) -> Callback:
    def reduce(children: list) -> Any:
        made = callbacks[rule] = _direct(rule, callback, transformer) or callback
        return made(children)

    return reduce


def _direct(rule: Rule, callback: Callback, transformer: object) -> Callback | None:
    """The direct form of lark's ``callback`` for ``rule``; None when it is direct already,
    or wrapped in a way not read here."""
    kind = type(callback)
    if kind is ChildFilterLALR:
        include = list(callback.to_include)
        trailing, builder = callback.append_none, callback.node_builder
    elif kind is ChildFilterLALR_NoPlaceholders:
        include = [(index, expand, 0) for index, expand in callback.to_include]
        trailing, builder = 0, callback.node_builder
    else:
        include = [(index, False, 0) for index in range(len(rule.expansion))]
        trailing, builder = 0, callback
    # The name lark looks the transformer's method up by.
    name = rule.alias or rule.options.template_source or rule.origin.name
    method = getattr(transformer, name, None)
    if method is not None and builder == method:
        if builder is callback:
            return None  # the method itself: nothing to take away
        make = "method(f)"
    elif method is None and isinstance(builder, partial) and builder.args == (name,):
        make = "Tree(name, f)"  # as lark's default: Tree(name, children), no meta
    else:
        return None
    source = ["def reduce(c):"]
    index, expand, nones = include[0] if include else (0, False, 0)
    if include and expand and not nones:
        # A left-recursive repetition: its list grows in place, as in lark.
        source.append(f"    f = c[{index}].children")
        for index, expand, nones in include[1:]:
            if nones:
                source.append(f"    f += {[None] * nones!r}")
            source.append(f"    f += c[{index}].children" if expand
                          else f"    f.append(c[{index}])")
        if trailing:
            source.append(f"    f += {[None] * trailing!r}")
        if make.startswith("Tree") and include[0][0] == 0 and rule.expansion[0] == rule.origin:
            # The Tree of this very rule, grown by one: the same Tree will do.
            make = "c[0]"
    elif include == [(i, False, 0) for i in range(len(rule.expansion))] and not trailing:
        source.append("    f = c")  # every child, in order: the list lark hands over
    else:
        items = []
        for index, expand, nones in include:
            items += ["None"] * nones
            items.append(f"*c[{index}].children" if expand else f"c[{index}]")
        items += ["None"] * trailing
        source.append(f"    f = [{', '.join(items)}]")
    source.append(f"    return {make}")
    # Compiled from the lines above, which hold child positions and nothing else:
    # one expression per rule is what makes a reduction a single call.
    namespace = {"method": method, "Tree": Tree, "name": name}
    exec("\n".join(source), namespace)
    return namespace["reduce"]
