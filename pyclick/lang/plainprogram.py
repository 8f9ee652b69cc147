"""Texts of plain statements, read whole without lark.

Most configurations a user writes or a program generates hold nothing but
statements of single elements (``Idle -> Discard``, ``a :: C;``,
``s [1] -> q :: Queue(10) -> d;``), a statement perhaps spread over lines
(a declaration whose arguments take a line each) and definitions of
variables or of what is required (``define($N 10)``): no compound class, no
element list or group, no line directive. Such a text is read here, by
regular expressions, into the program the parser makes of it, landmarks
included; importing lark and loading the parser's tables would cost a short
configuration most of its run. Any other text gives None, and the parser
reads it (and reports its mistakes).

Statements on one line are read by :func:`pyclick.lang.chainline.read`;
a statement over several lines has comments and newlines between its
tokens and configuration strings that run over lines (without their
escapes, comments or nested parentheses, as on one line), and each of its
nodes is at its own line, as the parser puts it. A semicolon may be left
out: a statement then ends where the next one starts, or at the end of the
text, and Click reports output ports left at its end there.
"""

from __future__ import annotations

import functools
import re

from pyclick.errors import Landmark
from pyclick.lang import chainline
from pyclick.lang import syntax as s
from pyclick.lang.source import encoding_error, with_newlines

#: What only the parser reads: compound classes, line directives, synonyms of classes.
_PARSER_ONLY = ("{", "#", "elementclass")

#: A configuration string as on one line (chainline.PLAIN_CONFIG), but that may run
#: over lines, quoted strings too.
SPREAD_CONFIG = r"""\((?:[^()"'/\\]|/(?![/*])|"[^"\\]*"|'[^']*')*\)"""


class _Patterns:
    """The patterns of a text read whole, compiled once and only when one is read:
    they take milliseconds to compile.

    What is skipped before a token is taken whole (an atomic group): tried
    shorter, it would leave the end of a comment to be read as a statement.
    A statement without its semicolon ends only after a whole name, as a
    lexer reads one, and only where another statement or the text's end
    follows.
    """

    def __init__(self) -> None:
        skip = f"(?>{chainline.SKIP})"
        unended = rf"(?![A-Za-z0-9_@])(?={skip}(?:\Z|[A-Za-z0-9_@]))"
        #: A statement after what is skipped before it: on one line (group 1, its
        #: semicolon group 2), over several (group 3, its semicolon group 4), or a
        #: definition (its keyword group 5, its configuration group 6).
        self.statement = re.compile(
            f"{skip}(?:({chainline.elements()})(?:[ \\t]*(;)|{unended})"
            f"|({chainline.elements(skip, SPREAD_CONFIG)})(?:{skip}(;)|{unended})"
            f"|(define|require){chainline.WORD_END}{skip}({SPREAD_CONFIG})(?:{skip};)?)")
        #: A token of a statement over several lines, after what is skipped before it.
        self.token = re.compile(
            rf"{skip}(\[[^\]]*\]|{SPREAD_CONFIG}|{chainline.NAME}|[-=]>|::)")
        #: What may follow the last statement.
        self.rest = re.compile(f"{skip}\\Z")


@functools.cache
def _patterns() -> _Patterns:
    return _Patterns()


def read_program(text: str, filename: str) -> s.Program | None:
    """The program the parser makes of ``text`` when it is made of plain statements
    (see the module's documentation); None for any other text (and for a text
    holding a character UTF-8 cannot encode, whose error the parser reports)."""
    # A text that holds a mark of what only the parser reads, even in a
    # comment or a configuration string, is not tried.
    if any(mark in text for mark in _PARSER_ONLY):
        return None
    text = with_newlines(text)
    patterns = _patterns()
    # Where each statement is, found before any is read: a text that turns out
    # not to be read whole costs the parser only this pass.
    found = []
    pos, line, counted = 0, 1, 0
    while (match := patterns.statement.match(text, pos)) is not None:
        start = match.start(1)
        if start < 0:
            # Where the other kind of statement starts (-1 for the one not matched).
            start = max(match.start(3), match.start(5))
        # Lines counted from the last statement's start: it may span several.
        line += text.count("\n", counted, start)
        counted = start
        found.append((line, match))
        pos = match.end()
    if patterns.rest.match(text, pos) is None or encoding_error(text, filename) is not None:
        return None
    last_line = text.count("\n") + 1
    statements: list[s.Statement] = []
    for k, (number, match) in enumerate(found):
        at = Landmark(filename, number)
        one_line, ended = match.group(1, 2)
        if ended is not None:
            statements.append(chainline.read(text[match.start(1):match.end()], at))
            continue
        # A statement without its semicolon ends where the next one starts.
        unended_end = Landmark(filename, found[k + 1][0] if k + 1 < len(found) else last_line)
        if one_line is not None:
            connection = chainline.read(one_line + ";", at)
            statements.append(s.Connection(connection.segments, connection.arrows, at,
                                           unended_end))
        elif match.start(3) >= 0:
            semicolon = match.start(4)
            end = unended_end if semicolon < 0 else \
                Landmark(filename, number + text.count("\n", match.start(3), semicolon))
            statements.append(_spread(match.group(3), number, filename, end))
        else:
            config = match.group(6)
            config_at = Landmark(filename, number + text.count("\n", match.start(5),
                                                               match.start(6)))
            kind = s.Define if match.group(5) == "define" else s.Require
            statements.append(kind(s.Config(config[1:-1], True, config_at), at))
    return s.Program(filename, statements)


def _spread(text: str, line: int, filename: str, end: Landmark) -> s.Connection:
    """The connection of ``text``, a statement over several lines starting on ``line``,
    each node at the line of its token, ending at ``end``."""
    parts: list[str] = []
    places: list[Landmark] = []
    pos = 0
    for token in _patterns().token.finditer(text):
        start = token.start(1)
        line += text.count("\n", pos, start)
        pos = start
        parts.append(token.group(1))
        places.append(Landmark(filename, line))
    return chainline.connection(parts, places, end)
