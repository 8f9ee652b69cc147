"""A pattern's syntax as plain data, and the mistakes found in it.

lark reads a pattern into a tree of rules and tokens; :meth:`Grammar.parse`
gives it back as :class:`Branch` and :class:`Lexeme` tuples, which need no
lark to be used, compared or read back from the cache
(:mod:`pyclick.classify.syntaxcache`). lark is imported when a pattern is
parsed, not before: a run whose patterns are all read back never loads it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple, Union

if TYPE_CHECKING:
    from lark import Lark, Tree
    from lark.exceptions import UnexpectedInput


class PatternError(ValueError):
    """A mistake in a pattern, at ``position`` (from 1) in its text."""

    def __init__(self, position: int, message: str) -> None:
        super().__init__(f"position {position}: {message}")
        self.position = position
        self.message = message


class Lexeme(NamedTuple):
    """A token: its terminal's name, its text, where it starts (from 0)."""

    type: str
    text: str
    start_pos: int

    def __str__(self) -> str:
        return self.text


class Branch(NamedTuple):
    """A rule matched: its name (or alias) and what it is made of."""

    data: str
    children: tuple[Union[Branch, Lexeme], ...]


class Grammar(NamedTuple):
    """A pattern language: lark's grammar, what each terminal is called in errors, and
    (``plain``) a reader of the texts whose syntax needs no parser, giving what
    lark gives them, None for any other text."""

    rules: str
    names: dict[str, str]
    plain: Callable[[str], Branch | None] | None = None

    def parse(self, text: str) -> Branch:
        """The syntax of ``text``; PatternError where it breaks the grammar."""
        from lark.exceptions import UnexpectedInput

        try:
            tree = _parser(self.rules).parse(text)
        except UnexpectedInput as err:
            raise _syntax_error(err, text, self.names) from None
        return _plain(tree)


#: The spaces every pattern grammar ignores (lark's ``common.WS``), for the readers
#: of ``Grammar.plain``.
WS = r"[ \t\f\r\n]"

#: How lark parses every pattern language.
_OPTIONS = {"parser": "lalr", "lexer": "contextual"}


@functools.cache
def _parser(rules: str) -> Lark:
    """The parser of ``rules``; lark keeps its analysed tables in the user's cache
    directory, so that a first run reads them instead of analysing the grammar."""
    import lark

    from pyclick.lang import usercache

    cache = usercache.grammar_cache("classify-grammar", f"{rules}{_OPTIONS}{lark.__version__}")
    return lark.Lark(rules, **_OPTIONS, cache=cache)


def _plain(tree: Tree) -> Branch:
    from lark import Token

    # Subtrees come children first: no recursion, so that a pattern may nest
    # as deep as its meaning can be worked out.
    branches: dict[int, Branch] = {}
    for subtree in tree.iter_subtrees():
        branches[id(subtree)] = Branch(str(subtree.data), tuple(
            Lexeme(child.type, str(child), child.start_pos) if isinstance(child, Token)
            else branches[id(child)] for child in subtree.children))
    return branches[id(tree)]


def _syntax_error(err: UnexpectedInput, text: str, names: dict[str, str]) -> PatternError:
    """A lark error as a PatternError: where, what was found, what was expected."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    position = (err.pos_in_stream or 0) + 1 if err.pos_in_stream is not None else len(text) + 1
    wanted_terminals = getattr(err, "expected", None) or getattr(err, "allowed", None) or ()
    expected = sorted({names.get(t, t.lower()) for t in wanted_terminals
                       if not t.startswith("__")})
    wanted = f"expected {' or '.join(expected)}" if expected else "syntax error"
    if isinstance(err, UnexpectedCharacters):
        return PatternError(position, f"{wanted}, got {text[err.pos_in_stream]!r}")
    if isinstance(err, UnexpectedToken) and err.token.type != "$END":
        return PatternError(position, f"{wanted}, got {str(err.token)!r}")
    return PatternError(len(text) + 1, f"{wanted} at end of pattern")
