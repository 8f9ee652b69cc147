"""Statements of names written on one line, read whole from their text.

Most lines of a configuration are statements such as ``a :: C;``, ``a -> b;``
or ``s[1] => [0] q1, q2 -> Queue(10) -> d :: Discard;``: names, each perhaps
declared with a class and given a configuration string (whose parentheses
nest at most CONFIG_DEPTH deep) and ports, joined by arrows into chains and
by commas into lists, ending with a semicolon. The lexer hands such a
statement to the parser as one token, CHAIN_LINE (:func:`pattern`), and
:func:`read` makes of it the connection its words would give. The parse
cache keeps such a connection as its text (:attr:`~pyclick.lang.syntax.Connection.written`)
and reads it back with :func:`read` too: a string is much cheaper to keep than
the dozen nodes it stands for. :mod:`pyclick.lang.plainprogram` reads whole
texts of such statements, and of the same statements spread over lines,
with :func:`connection`. Nothing here needs lark.
"""

from __future__ import annotations

import functools
import re

from pyclick.errors import Landmark
from pyclick.lang import syntax as s

#: A name as IDENT reads it.
_NAME_TEXT = r"[A-Za-z0-9_@]+(?:/[A-Za-z0-9_@]+)*"
#: A name taken whole (an atomic group): nothing that may follow a name starts
#: with a character of one, so a shorter name never reads what IDENT reads, and
#: backing off through it could only read two names where one is written
#: (``elementclass AB`` as the synonym ``elementclass A B``) or cost a failing
#: match time for every character of every name.
NAME = f"(?>{_NAME_TEXT})"
#: Where a word ends: not before more of a name.
WORD_END = r"(?![A-Za-z0-9_@]|/[A-Za-z0-9_@])"
#: A name, but not a reserved word.
UNRESERVED = rf"(?!(?:elementclass|require|define|provide){WORD_END}){NAME}"
#: How deep the parentheses of a configuration string read here nest, its own
#: included (``IPFilter(allow (tcp or (udp and dst port 53)))``): deeper ones
#: are left to lark's CONFIG, whose pattern recurses.
CONFIG_DEPTH = 3


def nested_config(piece: str, depth: int = CONFIG_DEPTH) -> str:
    """A configuration string made of ``piece`` (what may stand between its
    parentheses, a character or a whole token at a time) and of parenthesized
    strings of the same, nesting at most ``depth`` deep.

    Each alternative of ``piece`` starts with characters no other starts
    with, as CONFIG's do, and ends where CONFIG's ends (a comment that a
    later token could end otherwise is an atomic group): the string ends
    where CONFIG ends it, and backing off cannot end it elsewhere. No
    possessive repetition: the ``re`` of Python 3.11.2 (Debian 12's) lets
    ``(?:...)*+`` keep part of an alternative that failed."""
    inner = piece
    for _ in range(depth):
        config = rf"\((?:{inner})*\)"
        inner = f"{piece}|{config}"
    return config


#: A configuration string on one line that CONFIG reads without its escapes,
#: comments or nested parentheses: runs of characters but those, a slash that
#: starts no comment (not followed by another or by a star), and quoted strings
#: without a backslash. CONFIG reads such a string whole and keeps it as
#: written. Most are such, and their pattern compiles in a sixth of
#: LINE_CONFIG's time. The runs are atomic groups: ``re`` keeps a mark for
#: every repetition of a group, and one a character would take hundreds of
#: megabytes on a string of a few megabytes (a routing table's routes).
PLAIN_CONFIG = r"""\((?:(?>[^()"'/\\\n]+)|/(?![/*])|"[^"\\\n]*"|'[^'\n]*')*\)"""
#: A configuration string on one line, as CONFIG reads it, its parentheses
#: nesting at most CONFIG_DEPTH deep. Its pieces: a run of characters but
#: parentheses, quotes, slashes and backslashes (an atomic group: backing off
#: character by character would take time exponential in its length); a slash
#: that starts no comment; a block comment; a double-quoted string with its
#: escapes (``\<hex>`` or a backslash and the character after it); a
#: single-quoted string; a ``\<hex>`` block; a backslash alone. CONFIG keeps
#: the string as written.
LINE_CONFIG = nested_config(r"""(?>[^()"'/\\\n]+)|/(?![/*])|/\*(?:[^*\n]|\*(?!/))*\*/"""
                            r"""|"(?:(?>[^"\\\n]+)|\\<[^>\n]*>|\\(?!<)[^\n])*"|'[^'\n]*'"""
                            r"""|\\<[^>\n]*>|\\(?!<)""")
#: A configuration string as on one line (LINE_CONFIG), but that may run over
#: lines, its comments, quoted strings and ``\<hex>`` blocks too, and that may
#: hold line comments.
SPREAD_CONFIG = nested_config(
    r"""(?>[^()"'/\\]+)|/(?![/*])|(?>//[^\n]*)|(?>/\*(?s:.)*?\*/)"""
    r"""|"(?:(?>[^"\\]+)|\\<[^>]*>|\\(?!<)(?s:.))*"|'[^']*'|\\<[^>]*>|\\(?!<)""")
#: A port list on one line without comments, as the grammar's PORT reads it
#: (a test checks they are the same): items and ranges of names, perhaps a
#: last comma.
_ITEM = rf"{_NAME_TEXT}(?:[ \t]*-[ \t]*{_NAME_TEXT})?"
PORT = rf"\[[ \t]*(?:{_ITEM}(?:[ \t]*,[ \t]*{_ITEM})*[ \t]*(?:,[ \t]*)?)?\]"
#: What is skipped before a token: spaces, line comments and closed block
#: comments (an unclosed one is left to lark's lexer, which reports it).
SKIP = r"(?:[ \t\f\v\n]|//[^\n]*|/\*(?s:.)*?\*/)*"

#: The two statements most lines are, ``a :: C;`` and ``a -> b;``, the second word
#: perhaps given a configuration string (``q :: Queue(10);``). Groups: the first
#: name, ``::`` or the arrow, the second name, its configuration string.
TWO_WORDS = (rf"({UNRESERVED})[ \t]*(?:(::)|([-=]>))[ \t]*({UNRESERVED})"
             rf"(?:[ \t]*({PLAIN_CONFIG}))?[ \t]*;")


# Compiled at their first use: a text of two-word statements read whole needs
# neither, and compiling them costs a millisecond.
@functools.cache
def _parts() -> re.Pattern:
    """The parts of a statement: port lists, configuration strings, names, arrows,
    ``::`` and commas."""
    return re.compile(rf"\[[^\]]*\]|{LINE_CONFIG}|{NAME}|[-=]>|::|,")


@functools.cache
def _two_words() -> re.Pattern:
    return re.compile(TWO_WORDS)


def pattern() -> str:
    """The pattern of a whole statement of names on one line, in chains and lists,
    each perhaps declared with a class, given a configuration string
    (LINE_CONFIG) and ports (PORT), and its semicolon (the grammar's
    CHAIN_LINE): names as IDENT reads them but for the reserved words, whose
    errors lark's path reports. It starts with a name, as the statements the
    lexer looks for where one starts do."""
    return elements(LINE_CONFIG) + r"[ \t]*;"


def elements(config: str, gap: str = r"[ \t]*") -> str:
    """:func:`pattern` without its semicolon, its configuration strings ``config``
    and its tokens ``gap`` apart: a statement that may run over several lines
    (:mod:`pyclick.lang.plainprogram`) has comments and newlines between them."""
    element = (rf"{UNRESERVED}(?:{gap}::{gap}{UNRESERVED})?(?:{gap}{config})?"
               rf"(?:{gap}{PORT})?")
    # Lists and chains in one: elements after the first follow an arrow or a comma.
    return rf"{element}(?:{gap}(?:[-=]>|,){gap}(?:{PORT}{gap})?{element})*"


def read(text: str, at: Landmark) -> s.Connection:
    """The connection of ``text``, a statement :func:`pattern` matches, written at ``at``:
    every node is there, as its words would each be, and so is its end (the semicolon).

    Raises ValueError for a text that is not such a statement."""
    two = _two_words().fullmatch(text)
    if two is not None:
        return two_words(*two.groups(), at, text)
    return one_line(text, at, at, text)


def one_line(text: str, at: Landmark, end: Landmark, written: str | None = None
             ) -> s.Connection:
    """The connection of ``text``, a statement of names on one line (its semicolon
    perhaps left out), every node at ``at``, ending at ``end``."""
    parts = _parts().findall(text)
    return connection(parts, [at] * len(parts), end, written)


def two_words(first: str, declared: str | None, arrow: str | None, second: str,
              config: str | None, at: Landmark, written: str | None = None) -> s.Connection:
    """The statement ``first :: second;`` (``declared`` set) or ``first -> second;``
    (``arrow``, ``->`` or ``=>``), ``second`` given ``config`` (in its parentheses)
    unless None, written at ``at``: most statements are one of them."""
    given = None if config is None else s.Config(config[1:-1], True, at)
    if declared:
        return s.Connection(((_item(first, s.ClassName(second, at), at, config=given),),), (),
                            at, at, written)
    return s.Connection(((_item(first, None, at),), (_item(second, None, at, config=given),)),
                        (s.Arrow(arrow == "=>", at),), at, at, written)


def connection(parts: list[str], places: list[Landmark], end: Landmark,
               written: str | None = None) -> s.Connection:
    """The connection of a statement of elements, in chains and lists, made of
    ``parts`` (port lists, configuration strings in their parentheses, names,
    arrows, commas and ``::``), each written at its place in ``places``, ending
    at ``end``.

    Raises ValueError for parts that are not such a statement."""
    segments: list[tuple[s.Item, ...]] = []
    arrows: list[s.Arrow] = []
    # The items of the list being read before the element being read: most lists
    # have none.
    listed: list[s.Item] = []
    # The element being read: its word (None until it comes), where, and what it has.
    word = word_at = declared = config = in_port = out_port = None
    placed = zip(parts, places)
    for part, at in placed:
        if part[0] == "[":
            # A port list before the name is the element's input, after it its output.
            if word is None:
                in_port = port_spec(part, at)
            else:
                out_port = port_spec(part, at)
        elif part[0] == "(":
            config = s.Config(part[1:-1], True, at)
        elif part == "::":
            declared = s.ClassName(*next(placed))
        elif part == "->" or part == "=>" or part == ",":
            if word is None:
                raise ValueError(f"{part!r} without an element before it: {parts!r}")
            item = _item(word, declared, word_at, in_port, out_port, config)
            word = declared = config = in_port = out_port = None
            if part == ",":
                listed.append(item)
                continue
            segments.append((*listed, item) if listed else (item,))
            listed = []
            arrows.append(s.Arrow(part == "=>", at))
        elif word is None:
            word, word_at = part, at
        else:
            raise ValueError(f"two elements without an arrow or a comma between them: "
                             f"{parts!r}")
    if word is None:
        raise ValueError(f"not a statement of elements: {parts!r}")
    item = _item(word, declared, word_at, in_port, out_port, config)
    segments.append((*listed, item) if listed else (item,))
    return s.Connection(tuple(segments), tuple(arrows), segments[0][0].landmark, end, written)


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


def _item(word: str, declared: s.ClassName | None, at: Landmark,
          in_port: s.PortSpec | None = None, out_port: s.PortSpec | None = None,
          config: s.Config | None = None) -> s.Item:
    """The element ``word`` written at ``at``, declared with ``declared`` unless None,
    with its ports and configuration; the item starts at its input port."""
    ref = s.ElementRef(word, declared, config, at)
    return s.Item(in_port, ref, out_port, at if in_port is None else in_port.landmark)
