"""The lexer lark's parser reads Click text through.

lark's contextual lexer tries the terminals the parser can take next at
each position, through a general loop that costs about as much as the
parsing itself, and compiles a scanner for each state it meets. Most of a
configuration is tokens whose kind the first characters decide (names,
keywords, arrows, ``::``, ports, braces, semicolons, configuration strings
and groups) between spaces and comments: :class:`ClickLexer` reads those
with one regular expression and hands them to the parser directly, and
leaves the rest to lark's contextual lexer one token at a time (line
directives, comments never closed, variables, ``|``, ``...``, and every
mistake). A token is read directly only when the parser can take it in its
current state, and chosen among the terminals as lark's lexer chooses, so
tokens, landmarks and errors are the ones lark's lexer alone gives.

Where the parser is about to start a statement (:func:`starts_statement`),
a whole statement of names on one line, in chains and lists, each perhaps
declared with a class and given a configuration string and ports, and its
semicolon (``a :: C;``, ``a [1] -> Queue(10) -> b, c;``) is one token, CHAIN_LINE, which
only this lexer makes (its pattern is :func:`pyclick.lang.chainline.pattern`):
most lines of a generated configuration are such statements, and one token
costs the parser a quarter of what their four or more words cost. The parser
makes of it the program, landmarks and errors its words would give.

The loop runs once per token of the text, tens of thousands of times for a
large configuration, and does no more than it must: a token is made as
lark makes its own but without the checks of lark's constructor, lark's
line counter is told where the text is read up to only as far as lark's
lexer (and a parse resumed after a mistake) reads it, and the parse under
way learns which token it was handed last (:data:`READING`) from the loop
itself rather than through a stage of its own between lexer and parser.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from types import SimpleNamespace
from typing import Any, Protocol

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedToken
from lark.lexer import ContextualLexer, LexerState, LineCounter
from lark.parsers.lalr_analysis import Shift

from pyclick.lang import chainline

#: The terminals read directly, in the order they are tried: the most common
#: first, and a whole port list before its bracket alone (the others start
#: with characters of their own). A parenthesis opens a configuration string
#: (CONFIG, or OPEN_CONFIG when it never ends) where the parser can take one,
#: and a group (LPAR) elsewhere, as in lark's contextual lexer.
DIRECT = ("IDENT", "ARROW", "SEMICOLON", "COLONCOLON", "PORT", "COMMA", "LSQB", "RSQB",
          "LBRACE", "RBRACE", "RPAR", "ARROW2", "LPAR")

#: Words the grammar reads as keywords where one may stand.
_KEYWORDS = {"elementclass": "ELEMENTCLASS", "require": "REQUIRE", "define": "DEFINE"}
#: Words that can never name an element or a class: the keywords, and ``provide``.
#: IDENT's callback, which reports them, is called for these words only.
RESERVED = frozenset({*_KEYWORDS, "provide"})
#: The closing terminals and what each closes.
_OPENER = {"RBRACE": "LBRACE", "RPAR": "LPAR"}
_OPENS = frozenset(_OPENER.values())
#: What a closer with nothing open before it is handed to the parser as: a
#: terminal of no rule, refused where it stands (see ``_closes_something``).
STRAY = "STRAY_CLOSER"
#: The terminals read directly that may span lines.
_MULTILINE = frozenset({"CONFIG", "OPEN_CONFIG"})

#: The kinds of token a statement most often follows (None: the start of the
#: text); after these only, the parser's table is asked whether one starts.
_BEFORE_STATEMENT = frozenset({None, "SEMICOLON", "CHAIN_LINE", "LBRACE", "RBRACE", "LPAR",
                               "BAR", "BARBAR"})
#: How many parser stacks the lexer remembers the answer of ``starts_statement`` for.
_STACKS_KEPT = 256
#: How many states at the top of a stack it remembers an answer by.
_STACK_TOP = 8


class Reading(Protocol):
    """The parse under way as the lexer sees it: told of each token handed to the parser."""

    #: The token handed over last; None once the text has ended.
    lookahead: Token | None


#: The parse under way, when it wants to know which token the parser was
#: handed last (a rule being reduced then knows what follows it).
READING: ContextVar[Reading] = ContextVar("pyclick_lang_reading")


class ClickLexer(ContextualLexer):
    """lark's contextual lexer with a direct path for the common tokens (module docstring)."""

    def __init__(self, conf, states, always_accept=()) -> None:
        super().__init__(conf, states, always_accept)
        terminals = conf.terminals_by_name
        patterns = [f"(?P<{name}>{terminals[name].pattern.to_regexp()})" for name in DIRECT]
        self._direct = re.compile(chainline.SKIP + "(?:" + "|".join(patterns) + ")?")
        # Where a statement starts: the same, a whole one-line statement first.
        self._statement = re.compile(chainline.SKIP + "(?:" + "|".join(
            [f"(?P<CHAIN_LINE>{chainline.pattern()})", *patterns]) + ")?")
        self._conf = conf
        # starts_statement's answers by parser stack: the same few stacks come back
        # before statement after statement.
        self._starts: dict[tuple, bool] = {}

    @functools.cached_property
    def _configs(self) -> tuple[tuple[str, Any], ...]:
        """The configuration string's terminals, compiled when a text first has one (their
        patterns take the `regex` module several milliseconds to compile)."""
        terminals = self._conf.terminals_by_name
        return tuple((name, self._conf.re_module.compile(terminals[name].pattern.to_regexp()))
                     for name in ("CONFIG", "OPEN_CONFIG"))

    def lex(self, lexer_state: LexerState, parser_state) -> Iterator[Token]:
        text = lexer_state.text.text
        end = lexer_state.text.end
        line_ctr = lexer_state.line_ctr
        states = parser_state.parse_conf.states
        stack = parser_state.state_stack
        on_ident = self.root_lexer.user_callbacks.get("IDENT")
        match, statement = self._direct.match, self._statement.match
        last = lexer_state.last_token
        last = None if last is None else last.type
        count, rindex = text.count, text.rindex
        make = str.__new__
        reading = READING.get(None) or SimpleNamespace()
        # Where the text is read up to, kept here and in lark's line counter,
        # which lark's lexer reads on from: its position as each token is handed
        # over, its line as lines are passed, its column before lark's lexer runs.
        pos, line, line_start = line_ctr.char_pos, line_ctr.line, line_ctr.line_start_pos
        while True:
            if last in _BEFORE_STATEMENT and self._starts_statement(states, stack):
                found = statement(text, pos, end)
            else:
                found = match(text, pos, end)
            kind = found.lastgroup
            if kind is None:
                start = stop = found.end()
            else:
                start, stop = found.span(kind)
            if start > pos:
                newlines = count("\n", pos, start)
                if newlines:
                    line += newlines
                    line_start = rindex("\n", pos, start) + 1
                    line_ctr.line, line_ctr.line_start_pos = line, line_start
            if start >= end:
                _move(line_ctr, start, line, line_start)
                reading.lookahead = None
                return
            accepts = states[stack[-1]]
            if kind == "LPAR":
                kind, value = self._parenthesis(text, start, end, accepts)
                stop = start + len(value)
            elif kind is not None:
                value = text[start:stop]
                if kind == "IDENT" and value in _KEYWORDS and _KEYWORDS[value] in accepts:
                    kind = _KEYWORDS[value]
            if kind is None or kind not in accepts:
                _move(line_ctr, start, line, line_start)
                token = self._lark_token(lexer_state, parser_state)
                if token is None:
                    reading.lookahead = None
                    return
                reading.lookahead = token
                last = token.type
                yield token
                pos, line, line_start = line_ctr.char_pos, line_ctr.line, line_ctr.line_start_pos
                continue
            if kind in _OPENER and not _closes_something(parser_state.value_stack, kind):
                kind = STRAY
            # Made as lark makes its tokens, without the checks of its constructor.
            token = make(Token, value)
            token.type = kind
            token.value = value
            token.start_pos = start
            token.line = line
            token.column = start - line_start + 1
            if kind in _MULTILINE:
                newlines = count("\n", start, stop)
                if newlines:
                    line += newlines
                    line_start = rindex("\n", start, stop) + 1
                    line_ctr.line, line_ctr.line_start_pos = line, line_start
            token.end_line = line
            token.end_column = stop - line_start + 1
            token.end_pos = pos = stop
            if kind == "IDENT" and on_ident is not None and value in RESERVED:
                token = on_ident(token)
            line_ctr.char_pos = stop
            lexer_state.last_token = token
            reading.lookahead = token
            last = kind
            yield token

    def _starts_statement(self, states: Mapping[Any, Mapping[str, tuple]], stack: list) -> bool:
        """:func:`starts_statement`, remembered by the top ``_STACK_TOP`` states of
        ``stack`` when it read no deeper (the same answer for any stack that has them),
        for at most ``_STACKS_KEPT`` of them: groups nested thousands deep keep each
        question as short as at the top."""
        key = tuple(stack[-_STACK_TOP:])
        known = self._starts.get(key)
        if known is None:
            known, read = starts_statement(states, stack)
            if read <= _STACK_TOP:
                if len(self._starts) >= _STACKS_KEPT:
                    self._starts.clear()
                self._starts[key] = known
        return known

    def _parenthesis(self, text: str, start: int, end: int,
                     accepts: Mapping[str, object]) -> tuple[str, str]:
        """What a ``(`` at ``start`` opens where the parser can take ``accepts``."""
        for name, pattern in self._configs:
            if name in accepts:
                found = pattern.match(text, start, end)
                if found:
                    return name, found.group()
        return "LPAR", "("

    def _lark_token(self, lexer_state: LexerState, parser_state) -> Token | None:
        """The next token as lark's contextual lexer reads it; None at the end of the text."""
        try:
            return self.lexers[parser_state.position].next_token(lexer_state, parser_state)
        except EOFError:
            return None
        except UnexpectedCharacters as error:
            # As lark's contextual lexer: a terminal the parser cannot take here is
            # reported as an unexpected token, not as unexpected characters.
            last_token = lexer_state.last_token
            try:
                token = self.root_lexer.next_token(lexer_state, parser_state)
            except UnexpectedCharacters:
                raise error from None
            raise UnexpectedToken(token, error.allowed, state=parser_state,
                                  token_history=[last_token],
                                  terminals_by_name=self.root_lexer.terminals_by_name) from None


def _closes_something(values: list, closer: str) -> bool:
    """Whether a ``closer`` (RBRACE or RPAR) closes what is open last among the
    parser's ``values``, the tokens and rules it has read and not yet reduced.

    Where the parser's table takes a closer only to end the statements before
    it (the lookaheads LALR merges), a stray one would end the whole program
    there, and every word after it would be a mistake; refused where it stands
    instead, it is one mistake and the reading goes on. The search stops at
    the innermost opener still open, a few values down, whatever the nesting.
    """
    pending = 0
    for value in reversed(values):
        if isinstance(value, Token):
            if value.type in _OPENER:
                pending += 1
            elif value.type in _OPENS:
                if not pending:
                    return value.type == _OPENER[closer]
                pending -= 1
    return False


def starts_statement(states: Mapping[Any, Mapping[str, tuple]], stack: list
                     ) -> tuple[bool, int]:
    """Whether the parser with ``stack`` on ``states`` would take an IDENT next as the
    first word of a statement, as it takes CHAIN_LINE: both make it reduce the same
    rules (its stack left as it is) and then shift them from the same state.
    After an arrow, say, the parser shifts an IDENT but reduces before a CHAIN_LINE.
    Also how many states from the top of ``stack`` the answer depends on."""
    depth = len(stack)
    pushed: list = []
    state = stack[-1]
    while True:
        actions = states[state]
        word, line = actions.get("IDENT"), actions.get("CHAIN_LINE")
        read = len(stack) - depth + 1
        if word is None or line is None:
            return False, read
        if word[0] is Shift or line[0] is Shift:
            return word[0] is Shift and line[0] is Shift, read
        rule = word[1]
        if line[1] is not rule and line[1] != rule:
            return False, read
        size = len(rule.expansion)
        if size >= len(pushed):
            depth -= size - len(pushed)
            pushed.clear()
        else:
            del pushed[len(pushed) - size:]
        below = pushed[-1] if pushed else stack[depth - 1]
        state = states[below][rule.origin.name][1]
        pushed.append(state)


def _move(line_ctr: LineCounter, pos: int, line: int, line_start: int) -> None:
    """Set lark's line counter at ``pos``, on ``line`` that starts at ``line_start``."""
    line_ctr.char_pos = pos
    line_ctr.line = line
    line_ctr.line_start_pos = line_start
    line_ctr.column = pos - line_start + 1
