"""Statements of single elements written on one line, read whole from their text.

Most lines of a configuration are statements such as ``a :: C;``, ``a -> b;``
or ``s[1] => [0] q1 -> Queue(10) -> d :: Discard;``: single names, each
perhaps declared with a class and given a plain configuration string and
ports, joined by arrows, ending with a semicolon. The lexer hands such a
statement to the parser as one token, CHAIN_LINE (:func:`pattern`), and
:func:`read` makes of it the connection its words would give. The parse
cache keeps such a connection as its text (:attr:`~pyclick.lang.syntax.Connection.written`)
and reads it back with :func:`read` too: a string is much cheaper to keep than
the dozen nodes it stands for.

A text made of nothing else, semicolons perhaps left out (``Idle -> Discard``,
the usual ``-e`` one-liner, or a generated configuration of declarations and
connections), is read by :func:`read_program` alone, without lark: importing
it and loading the parser's tables would cost such a text most of its run.
Nothing here needs lark.
"""

from __future__ import annotations

import functools
import re

from pyclick.errors import Landmark
from pyclick.lang import syntax as s
from pyclick.lang.source import encoding_error, with_newlines

#: A name as IDENT reads it.
NAME = r"[A-Za-z0-9_@]+(?:/[A-Za-z0-9_@]+)*"
#: The same, but not a reserved word.
_UNRESERVED = r"(?!(?:elementclass|require|define|provide)(?![A-Za-z0-9_@]|/[A-Za-z0-9_@]))" \
    + NAME
#: A configuration string on one line that CONFIG reads without its escapes,
#: comments or nested parentheses: characters but those, a slash that starts no
#: comment (not followed by another or by a star), and quoted strings without a
#: backslash. CONFIG reads such a string whole and keeps it as written.
PLAIN_CONFIG = r"""\((?:[^()"'/\\\n]|/(?![/*])|"[^"\\\n]*"|'[^'\n]*')*\)"""
#: A port list on one line without comments, as the grammar's PORT reads it
#: (a test checks they are the same): items and ranges of names, perhaps a
#: last comma.
_ITEM = rf"{NAME}(?:[ \t]*-[ \t]*{NAME})?"
PORT = rf"\[[ \t]*(?:{_ITEM}(?:[ \t]*,[ \t]*{_ITEM})*[ \t]*(?:,[ \t]*)?)?\]"
#: What is skipped before a token: spaces, line comments and closed block
#: comments (an unclosed one is left to lark's lexer, which reports it).
SKIP = r"(?:[ \t\f\v\n]|//[^\n]*|/\*(?s:.)*?\*/)*"

#: What only the parser reads: compound classes, line directives, definitions.
_PARSER_ONLY = ("{", "#", "define", "require")

#: The parts of a statement: port lists, configuration strings, names, arrows and ``::``.
_PARTS = re.compile(rf"\[[^\]]*\]|{PLAIN_CONFIG}|{NAME}|[-=]>|::")
#: The two statements most lines are: a declaration and a connection of two.
_TWO_WORDS = re.compile(rf"({NAME})[ \t]*(?:(::)|([-=]>))[ \t]*({NAME})[ \t]*;")


def pattern() -> str:
    """The pattern of a whole statement of single names on one line, each perhaps
    declared with a class, given a plain configuration string (PLAIN_CONFIG) and
    ports (PORT), and its semicolon (the grammar's CHAIN_LINE): names as IDENT
    reads them but for the reserved words, whose errors lark's path reports.
    It starts with a name, as the statements the lexer looks for where one
    starts do."""
    return _elements() + r"[ \t]*;"


def _elements() -> str:
    """:func:`pattern` without its semicolon."""
    element = (rf"{_UNRESERVED}(?:[ \t]*::[ \t]*{_UNRESERVED})?(?:[ \t]*{PLAIN_CONFIG})?"
               rf"(?:[ \t]*{PORT})?")
    return rf"{element}(?:[ \t]*[-=]>[ \t]*(?:{PORT}[ \t]*)?{element})*"


@functools.cache
def _program_patterns() -> tuple[re.Pattern, re.Pattern]:
    """A statement after what is skipped before it, with its semicolon (group 2) or
    without one where the next statement starts or the text ends, and what may
    follow the last statement; compiled once, and only when a text is read whole.

    What is skipped is taken whole (an atomic group): tried shorter, it would
    leave the end of a comment to be read as a statement. A statement without
    its semicolon ends only after a whole name, as a lexer reads one."""
    skip = f"(?>{SKIP})"
    return (re.compile(f"{skip}({_elements()})"
                       f"(?:[ \\t]*(;)|(?![A-Za-z0-9_@])(?={skip}(?:\\Z|[A-Za-z0-9_@])))"),
            re.compile(f"{skip}\\Z"))


def read_program(text: str, filename: str) -> s.Program | None:
    """The program the parser makes of ``text`` when it is made of statements of single
    elements, one line each, with spaces and comments between them; None for any
    other text (and for a text holding a character UTF-8 cannot encode, whose
    error the parser reports).

    A statement without its semicolon ends where the next one starts, or where
    the text ends, as Click reports it (its ``end``).
    """
    # A compound class, a line directive or a definition of variables or of
    # what is required needs the parser: a text that holds one, or only the
    # word, is not even tried (the patterns take milliseconds to compile).
    if any(mark in text for mark in _PARSER_ONLY):
        return None
    text = with_newlines(text)
    statement, rest = _program_patterns()
    # Where each statement is, found before any is read: a text that turns out
    # not to be read whole costs the parser only this pass.
    found = []
    pos, line = 0, 1
    while (match := statement.match(text, pos)) is not None:
        start = match.start(1)
        line += text.count("\n", pos, start)
        found.append((line, match.group(1) if match.group(2) is None else None,
                      start, match.end()))
        pos = match.end()
    if rest.match(text, pos) is None or encoding_error(text, filename) is not None:
        return None
    statements: list[s.Statement] = []
    last_line = text.count("\n") + 1
    for k, (number, unended, start, end) in enumerate(found):
        at = Landmark(filename, number)
        if unended is None:
            statements.append(read(text[start:end], at))
        else:
            connection = read(unended + ";", at)
            ends = found[k + 1][0] if k + 1 < len(found) else last_line
            statements.append(s.Connection(connection.segments, connection.arrows, at,
                                           Landmark(filename, ends)))
    return s.Program(filename, statements)


def read(text: str, at: Landmark) -> s.Connection:
    """The connection of ``text``, a statement :func:`pattern` matches, written at ``at``:
    every node is there, as its words would each be, and so is its end (the semicolon).

    Raises ValueError for a text that is not such a statement."""
    two = _TWO_WORDS.fullmatch(text)
    if two is not None:
        first, declared, arrow, second = two.groups()
        if declared:
            return s.Connection((_single(first, second, at),), (), at, at, text)
        return s.Connection((_single(first, None, at), _single(second, None, at)),
                            (s.Arrow(arrow == "=>", at),), at, at, text)
    words: list[str] = []
    classes: list[str | None] = []
    configs: list[s.Config | None] = []
    arrows: list[s.Arrow] = []
    # Each element's ports, input and output; a port list before a name is its input.
    ports: list[list[s.PortSpec | None]] = [[None, None]]
    parts = iter(_PARTS.findall(text))
    for part in parts:
        if part[0] == "[":
            ports[-1][len(words) == len(ports)] = port_spec(part, at)
        elif part[0] == "(":
            configs[-1] = s.Config(part[1:-1], True, at)
        elif part == "::":
            classes[-1] = next(parts)
        elif part == "->" or part == "=>":
            arrows.append(s.Arrow(part == "=>", at))
            ports.append([None, None])
        else:
            words.append(part)
            classes.append(None)
            configs.append(None)
    if not words or len(words) != len(ports):
        raise ValueError(f"not a statement of single elements: {text!r}")
    segments = tuple([_single(word, cls, at, in_port, out_port, config)
                      for word, cls, (in_port, out_port), config
                      in zip(words, classes, ports, configs)])
    return s.Connection(segments, tuple(arrows), at, at, text)


def port_spec(text: str, at: Landmark) -> s.PortSpec:
    """A port list written whole (see PORT), at ``at``: items split at commas, ranges at
    the dash; a last item left empty leaves the ports open."""
    words = text[1:-1].split(",")
    open_ = not words[-1].strip()
    if open_:
        words.pop()
    items = []
    for word in words:
        first, dash, last = word.partition("-")
        items.append(s.PortItem(first.strip(), last.strip() if dash else None, at))
    return s.PortSpec(tuple(items), open_, at)


def _single(word: str, cls: str | None, at: Landmark, in_port: s.PortSpec | None = None,
            out_port: s.PortSpec | None = None, config: s.Config | None = None) -> tuple[s.Item]:
    """The list of one element: ``word``, declared with ``cls`` unless None, with its
    ports and configuration, at ``at``."""
    declared = None if cls is None else s.ClassName(cls, at)
    return (s.Item(in_port, s.ElementRef(word, declared, config, at), out_port, at),)
