"""Whether a configuration string reads back as written, without loading lark.

Writing a flat graph back (:mod:`pyclick.lang.unparse`) checks each
configuration string against the grammar's CONFIG terminal: ``(config)``
must read back as exactly one configuration string. The terminal's pattern
is what lark makes of the grammar, and a program read from the parse cache
has not loaded lark (its import and the grammar's tables cost a run written
back from the cache more than the rest of writing back). The pattern lark
gave is therefore kept in the user's cache directory too, under the same
fingerprint as the programs (:mod:`pyclick.lang.parsecache`: a change to
the grammar, the language package or lark finds no stale pattern), and
compiled with ``regex`` alone.
"""

from __future__ import annotations

import functools

import regex

from pyclick.lang import parsecache, usercache

#: The one pattern kept, and room for a few versions of it side by side.
SHELF = usercache.Shelf("terminal-", max_entries=8, max_bytes=1 << 20)


def config_reads_back(config: str) -> bool:
    """Whether ``(config)`` reads back as exactly this configuration string."""
    return _closed_config().fullmatch(f"({config})") is not None


@functools.cache
def _closed_config() -> regex.Pattern:
    """The compiled CONFIG terminal: a whole, balanced ``(configuration)``."""
    version = parsecache.fingerprint()
    path = None if version is None else SHELF.entry(version, b"CONFIG")
    pattern = None if path is None else SHELF.load(path, _nothing, str)
    if pattern is None:
        from pyclick.lang.parser import config_pattern

        pattern = config_pattern()
        if path is not None:
            SHELF.store(path, pattern)
    return regex.compile(pattern)


def _nothing(module: str, name: str) -> None:
    """An entry makes plain values only: a pattern is a string."""
    return None
