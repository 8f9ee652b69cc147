"""Statements of single elements written on one line, read whole from their text.

Most lines of a configuration are statements such as ``a :: C;``, ``a -> b;``
or ``s[1] => [0] q1 -> Queue(10) -> d :: Discard;``: single names, each
perhaps declared with a class and given a plain configuration string and
ports, joined by arrows, ending with a semicolon. The lexer hands such a
statement to the parser as one token, CHAIN_LINE (:func:`pattern`), and
:func:`read` makes of it the connection its words would give. The parse
cache keeps such a connection as its text (:attr:`~pyclick.lang.syntax.Connection.written`)
and reads it back with :func:`read` too: a string is much cheaper to keep than
the dozen nodes it stands for, and nothing here needs lark.
"""

from __future__ import annotations

import re

from pyclick.errors import Landmark
from pyclick.lang import syntax as s

#: A name as IDENT reads it.
NAME = r"[A-Za-z0-9_@]+(?:/[A-Za-z0-9_@]+)*"
#: The same, but not a reserved word.
_UNRESERVED = r"(?!(?:elementclass|require|define|provide)(?![A-Za-z0-9_@]|/[A-Za-z0-9_@]))" \
    + NAME
#: A configuration string without anything CONFIG reads specially (parentheses,
#: quotes, comments, backslashes): CONFIG ends such a string at its first ``)``.
PLAIN_CONFIG = r"\([^()\"'/\\\n]*\)"

#: The parts of a statement: port lists, configuration strings, names, arrows and ``::``.
_PARTS = re.compile(rf"\[[^\]]*\]|\([^)]*\)|{NAME}|[-=]>|::")
#: The two statements most lines are: a declaration and a connection of two.
_TWO_WORDS = re.compile(rf"({NAME})[ \t]*(?:(::)|([-=]>))[ \t]*({NAME})[ \t]*;")


def pattern(port: str) -> str:
    """The pattern of a whole statement of single names on one line, each perhaps
    declared with a class, given a plain configuration string (PLAIN_CONFIG) and
    ports (``port``, PORT's pattern), and its semicolon (the grammar's
    CHAIN_LINE): names as IDENT reads them but for the reserved words, whose
    errors lark's path reports. It starts with a name, as the statements
    the lexer looks for where one starts do."""
    element = (rf"{_UNRESERVED}(?:[ \t]*::[ \t]*{_UNRESERVED})?(?:[ \t]*{PLAIN_CONFIG})?"
               rf"(?:[ \t]*{port})?")
    return rf"{element}(?:[ \t]*[-=]>[ \t]*(?:{port}[ \t]*)?{element})*[ \t]*;"


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
