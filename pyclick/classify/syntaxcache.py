"""Patterns read before, kept in the user's cache directory.

Reading a pattern the first time imports lark and builds the pattern
language's parser, which costs more than the rest of a short configuration's
start. The syntax of a pattern that was read without a mistake
(:class:`~pyclick.classify.syntax.Branch`, plain data) is therefore kept,
pickled, on a shelf of the user's cache directory
(:mod:`pyclick.lang.usercache`), and read back the next time the same
pattern of the same language comes: lark is then not even imported.

What is kept is the syntax, not the formula: the meaning of a pattern may
depend on more than its text (IPClassifier reads the address names of the
configuration it is in), so it is worked out each time, from the syntax
read back as from the syntax just parsed, and gives the same formula or
the same error. A pattern whose syntax or meaning has a mistake is not
kept: its error is found again.

An entry is named after a digest of the pattern, its grammar, the Python
version, the sources of this package and of the shelf, and lark's own
``__init__`` (its version). An entry that cannot be read back whole, or
holds anything but a pattern's syntax, is a miss and is written again. At
most 4096 patterns of 16 MiB in all are kept (:data:`SHELF`); a configuration
brings many at a time, so they are counted after one new pattern in 16.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TypeVar

from pyclick.classify.syntax import Branch, Grammar, Lexeme
from pyclick.lang import usercache

T = TypeVar("T")

#: Where patterns are kept, and how many.
SHELF = usercache.Shelf("pattern-", max_entries=4096, max_bytes=16 << 20, look_every=16)

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def read(grammar: Grammar, text: str, meaning: Callable[[Branch], T]) -> T:
    """``meaning`` of the syntax of ``text`` in ``grammar``: the syntax is read back
    from the cache when ``text`` was read before without a mistake; a mistake
    raises :class:`~pyclick.classify.syntax.PatternError`. A text the grammar reads
    plainly (``Grammar.plain``) needs neither the cache nor lark."""
    syntax = None if grammar.plain is None else grammar.plain(text)
    if syntax is not None:
        return meaning(syntax)
    path = _entry(grammar, text)
    if path is not None:
        syntax = SHELF.load(path, _syntax_class, Branch)
        if syntax is not None:
            return meaning(syntax)
    syntax = grammar.parse(text)
    result = meaning(syntax)
    if path is not None:
        SHELF.store(path, syntax)
    return result


def _entry(grammar: Grammar, text: str) -> str | None:
    """The file that keeps the syntax of ``text``; None without a cache."""
    version = _version()
    if version is None:
        return None
    return SHELF.entry(version, grammar.rules.encode(), text.encode("utf-8", "surrogatepass"))


@functools.cache
def _version() -> bytes | None:
    """A digest of everything but the pattern that decides what is made of it;
    None when a source cannot be read (then nothing is kept)."""
    return usercache.lark_fingerprint([_PACKAGE, os.path.abspath(usercache.__file__)])


def _syntax_class(module: str, name: str) -> type | None:
    """What an entry may make: branches and lexemes only (and so nothing is imported)."""
    for cls in (Branch, Lexeme):
        if (module, name) == (cls.__module__, cls.__qualname__):
            return cls
    return None
