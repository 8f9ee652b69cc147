"""Programs parsed before, kept in the user's cache directory as Python keeps bytecode.

Reading a configuration starts with lark: importing it, loading the parsing
tables, compiling the lexer's patterns, then parsing, which together cost a
short command most of its run. A text made only of statements of named
elements, definitions and compound classes of the same (``Idle -> Discard``,
``define($N 1)``, ``elementclass S { input -> Queue -> output }``) needs none
of it: :func:`~pyclick.lang.plainprogram.read_program` reads it whole, and it
is not kept. Any other text that parsed without a mistake is kept, pickled, on a
:class:`~pyclick.lang.usercache.Shelf` of the user's cache directory, and
read back the next time the same text comes under the same file name: lark
is then not even imported.

An entry is named after a digest of the text, its file name, the Python
version, the sources of the language package and of
:class:`~pyclick.errors.Landmark`, the grammar, and lark's own ``__init__``
(its version): a change to any of them can never load a program that the
parser would now make differently. Texts with mistakes are not kept (their
errors are worked out again). An entry that cannot be read back whole, or
holds anything but syntax (:mod:`pyclick.lang.syntax`), is a miss and is
written again. At most 256 entries of 64 MiB in all are kept (:data:`SHELF`).

Nodes are pickled as calls of their classes with their fields, except
statements of named elements read whole from one line (``a :: C;``,
``s[1] -> Queue(10) -> b;``, most statements of a configuration): those are
kept as their text and read again by :func:`~pyclick.lang.chainline.read`,
a string for the pickler instead of a dozen nodes.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from pyclick.errors import Landmark
from pyclick.lang import chainline, plainprogram, syntax, usercache

#: Where programs are kept, and how many.
SHELF = usercache.Shelf("parse-", max_entries=256, max_bytes=64 << 20)

_LANG = os.path.dirname(os.path.abspath(__file__))
_PACKAGE = os.path.dirname(_LANG)


def parse_text(text: str, filename: str) -> tuple[syntax.Program | None, list[str]]:
    """:func:`pyclick.lang.parser.parse_text`, read from the cache when the same text was
    parsed without a mistake before.

    A text made only of statements of named elements, definitions and
    compound classes of the same is read whole by
    :func:`~pyclick.lang.plainprogram.read_program` instead, faster than lark
    or the cache would give it, and is not kept.
    """
    program = plainprogram.read_program(text, filename)
    if program is not None:
        return program, []
    path = _entry(text, filename)
    if path is not None:
        program = SHELF.load(path, _syntax_class, syntax.Program)
        if program is not None:
            return program, []
    from pyclick.lang.parser import parse_text as parse

    program, errors = parse(text, filename)
    if path is not None and program is not None and not errors:
        SHELF.store(path, program, _CONSTRUCTORS)
    return program, errors


def _entry(text: str, filename: str) -> str | None:
    """The file that keeps the program of ``text``; None without a cache."""
    version = fingerprint()
    if version is None:
        return None
    # Surrogates (bytes that were not UTF-8) are kept as they are: such a text
    # has a mistake, and is never found.
    return SHELF.entry(version, filename.encode("utf-8", "surrogatepass"),
                       text.encode("utf-8", "surrogatepass"))


@functools.cache
def fingerprint() -> bytes | None:
    """A digest of everything but the text that decides what the parser makes of it;
    None when a source cannot be read (then nothing is kept)."""
    return usercache.lark_fingerprint([_LANG, os.path.join(_PACKAGE, "errors.py"),
                                       os.path.join(_PACKAGE, "grammar", "click.lark")])


def _connection(node: syntax.Connection) -> tuple:
    """A connection the parser read whole from one line as its text, read again by
    :func:`~pyclick.lang.chainline.read`; any other as its fields."""
    if node.written is None:
        return syntax.Connection, node.values()
    return chainline.read, (node.written, node.landmark)


#: How a program is pickled beyond what its nodes, records, do themselves (a
#: call of their class with their fields).
_CONSTRUCTORS: dict[type, Callable[[Any], tuple]] = {syntax.Connection: _connection}


def _syntax_class(module: str, name: str) -> Callable[..., Any] | None:
    """What an entry may make: syntax classes, landmarks and one-line statements only
    (and so nothing is imported)."""
    if module == syntax.__name__:
        found = getattr(syntax, name, None)
        if isinstance(found, type) and found.__module__ == module:
            return found
    elif (module, name) == (chainline.__name__, "read"):
        return chainline.read
    elif (module, name) == ("pyclick.errors", "Landmark"):
        return Landmark
    return None
