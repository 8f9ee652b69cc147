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
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedToken
from lark.lexer import ContextualLexer, LexerState, LineCounter

#: The terminals read directly, in the order they are tried: a whole port
#: list before its bracket alone. A parenthesis opens a configuration string
#: (CONFIG, or OPEN_CONFIG when it never ends) where the parser can take one,
#: and a group (LPAR) elsewhere, as in lark's contextual lexer.
DIRECT = ("IDENT", "PORT", "ARROW", "COLONCOLON", "SEMICOLON", "COMMA", "LSQB", "RSQB",
          "LBRACE", "RBRACE", "RPAR", "ARROW2", "LPAR")

#: What is skipped before a token: spaces, line comments and closed block
#: comments (an unclosed one is left to lark's lexer, which reports it).
_SKIP = r"(?:[ \t\f\v\n]|//[^\n]*|/\*(?s:.)*?\*/)*"

#: Words the grammar reads as keywords where one may stand.
_KEYWORDS = {"elementclass": "ELEMENTCLASS", "require": "REQUIRE", "define": "DEFINE"}


class ClickLexer(ContextualLexer):
    """lark's contextual lexer with a direct path for the common tokens (module docstring)."""

    def __init__(self, conf, states, always_accept=()) -> None:
        super().__init__(conf, states, always_accept)
        terminals = conf.terminals_by_name
        patterns = (f"(?P<{name}>{terminals[name].pattern.to_regexp()})" for name in DIRECT)
        self._direct = re.compile(_SKIP + "(?:" + "|".join(patterns) + ")?")
        self._configs = tuple((name, conf.re_module.compile(terminals[name].pattern.to_regexp()))
                              for name in ("CONFIG", "OPEN_CONFIG"))

    def lex(self, lexer_state: LexerState, parser_state) -> Iterator[Token]:
        text = lexer_state.text.text
        end = lexer_state.text.end
        line_ctr = lexer_state.line_ctr
        states = parser_state.parse_conf.states
        stack = parser_state.state_stack
        on_ident = self.root_lexer.user_callbacks.get("IDENT")
        match = self._direct.match
        while True:
            pos = line_ctr.char_pos
            found = match(text, pos, end)
            kind = found.lastgroup
            start = found.start(kind) if kind else found.end()
            if start > pos:
                _advance(line_ctr, text, pos, start)
            if start >= end:
                return
            accepts = states[stack[-1]]
            value = found.group(kind) if kind else None
            if kind == "LPAR":
                kind, value = self._parenthesis(text, start, end, accepts)
            elif kind == "IDENT" and value in _KEYWORDS and _KEYWORDS[value] in accepts:
                kind = _KEYWORDS[value]
            if kind is None or kind not in accepts:
                token = self._lark_token(lexer_state, parser_state)
                if token is None:
                    return
                yield token
                continue
            line, column = line_ctr.line, line_ctr.column
            _advance(line_ctr, text, start, start + len(value))
            token = Token(kind, value, start, line, column, line_ctr.line, line_ctr.column,
                          line_ctr.char_pos)
            if kind == "IDENT" and on_ident is not None:
                token = on_ident(token)
            lexer_state.last_token = token
            yield token

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


def _advance(line_ctr: LineCounter, text: str, start: int, stop: int) -> None:
    """Move lark's line counter over ``text[start:stop]``, counting lines as it does."""
    newlines = text.count("\n", start, stop)
    if newlines:
        line_ctr.line += newlines
        line_ctr.line_start_pos = text.rindex("\n", start, stop) + 1
    line_ctr.char_pos = stop
    line_ctr.column = stop - line_ctr.line_start_pos + 1
