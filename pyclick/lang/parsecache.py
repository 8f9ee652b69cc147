"""Programs parsed before, kept in the user's cache directory as Python keeps bytecode.

Reading a configuration starts with lark: importing it, loading the parsing
tables, compiling the lexer's patterns, then parsing, which together cost a
short command most of its run. A text that parsed without a mistake is
therefore kept, pickled, in the cache directory of :mod:`pyclick.lang.usercache`,
and read back the next time the same text comes under the same file name:
lark is then not even imported.

An entry is named after a digest of the text, its file name, the Python
version, the sources of the language package and of
:class:`~pyclick.errors.Landmark`, the grammar, and lark's own ``__init__``
(its version): a change to any of them can never load a program that the
parser would now make differently. Texts with mistakes are not kept (their
errors are worked out again). An entry that cannot be read back whole, or
holds anything but syntax (:mod:`pyclick.lang.syntax`), is a miss and is
written again. At most :data:`MAX_ENTRIES` entries of :data:`MAX_BYTES` in
all are kept; the ones least recently used go first. Writing is atomic
(a file of its own, then renamed) and gives up silently when the disk is
full or read-only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.util
import io
import operator
import os
import pickle
import sys
from collections.abc import Callable
from typing import Any

from pyclick.errors import Landmark
from pyclick.lang import syntax, usercache

#: At most this many programs are kept.
MAX_ENTRIES = 256
#: At most this many bytes of programs are kept (a bigger program is not kept at all).
MAX_BYTES = 64 << 20

_PREFIX = "parse-"
_SUFFIX = ".pickle"
#: Each entry starts with a digest of the rest: a file cut short or damaged is told at once.
_CHECK_SIZE = 64
_LANG = os.path.dirname(os.path.abspath(__file__))
_PACKAGE = os.path.dirname(_LANG)


def parse_text(text: str, filename: str) -> tuple[syntax.Program | None, list[str]]:
    """:func:`pyclick.lang.parser.parse_text`, read from the cache when the same text was
    parsed without a mistake before."""
    path = _entry(text, filename)
    if path is not None:
        program = _load(path)
        if program is not None:
            return program, []
    from pyclick.lang.parser import parse_text as parse

    program, errors = parse(text, filename)
    if path is not None and program is not None and not errors:
        _store(path, program)
    return program, errors


def _entry(text: str, filename: str) -> str | None:
    """The file that keeps the program of ``text``; None without a cache."""
    directory = usercache.directory()
    if directory is None:
        return None
    version = _version()
    if version is None:
        return None
    # Surrogates (bytes that were not UTF-8) are kept as they are: such a text
    # has a mistake, and is never found.
    key = usercache.digest(version, filename.encode("utf-8", "surrogatepass"),
                           text.encode("utf-8", "surrogatepass"))
    return os.path.join(directory, f"{_PREFIX}{key}{_SUFFIX}")


@functools.cache
def _version() -> bytes | None:
    """A digest of everything but the text that decides what the parser makes of it;
    None when a source cannot be read (then nothing is kept)."""
    lark = importlib.util.find_spec("lark")
    if lark is None or lark.origin is None:
        return None
    parts = [sys.version.encode()]
    try:
        sources = sorted(os.path.join(_LANG, name) for name in os.listdir(_LANG)
                         if name.endswith(".py"))
        sources += [os.path.join(_PACKAGE, "errors.py"),
                    os.path.join(_PACKAGE, "grammar", "click.lark"), lark.origin]
        for source in sources:
            with open(source, "rb") as f:
                parts.append(f.read())
    except OSError:
        return None
    return usercache.digest(*parts).encode()


def _load(path: str) -> syntax.Program | None:
    """The program kept at ``path``; None when there is none, or not a whole one."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    check, payload = data[:_CHECK_SIZE], data[_CHECK_SIZE:]
    if check != _check(payload):
        return None
    try:
        program = _SyntaxUnpickler(io.BytesIO(payload)).load()
    # Whatever the bytes make the unpickler do: an entry that does not read back is a miss.
    except Exception:
        return None
    if not isinstance(program, syntax.Program):
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # used now: the last to be removed
    return program


def _store(path: str, program: syntax.Program) -> None:
    """Keep ``program`` at ``path``, then remove what is over the bounds; give up quietly
    when it cannot be written."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _constructors()
    try:
        pickler.dump(program)
    except RecursionError:  # groups nested deeper than the pickler goes
        return
    payload = buffer.getvalue()
    data = _check(payload) + payload
    if len(data) > MAX_BYTES:
        return
    # Named like an entry, so that one left behind by a killed run is removed in time.
    temporary = f"{path}.{os.urandom(6).hex()}.tmp"
    try:
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(data)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return
    _prune(path, len(data))


def _prune(written: str, size: int) -> None:
    """Keep the cache within MAX_ENTRIES and MAX_BYTES after ``written`` (``size`` bytes).

    Looking at every entry's size and age takes a system call each, so it is
    done only when there are too many entries or the new one is big (more
    than its share, MAX_BYTES / MAX_ENTRIES); the least recently used entries
    are then removed down to three quarters of both bounds. Until the next
    look, only entries within their share are added, a quarter of
    MAX_ENTRIES at most: they cannot take the cache over MAX_BYTES.
    """
    directory = os.path.dirname(written)
    try:
        names = [name for name in os.listdir(directory) if name.startswith(_PREFIX)]
    except OSError:
        return
    if len(names) <= MAX_ENTRIES and size * MAX_ENTRIES <= MAX_BYTES:
        return
    entries = []
    for name in names:
        path = os.path.join(directory, name)
        try:
            status = os.lstat(path)
        except OSError:  # removed meanwhile by another run
            continue
        if path != written:
            entries.append((status.st_mtime_ns, status.st_size, path))
    entries.sort(reverse=True)
    count, total = 1, size
    for _, entry_size, path in entries:
        count += 1
        total += entry_size
        if count > MAX_ENTRIES * 3 // 4 or total > MAX_BYTES * 3 // 4:
            with contextlib.suppress(OSError):
                os.unlink(path)


@functools.cache
def _constructors() -> dict[type, Callable[[Any], tuple]]:
    """How each class of a program is pickled: as a call of the class with its fields.

    A node is then read back by its constructor rather than by setting its
    fields one by one from a dictionary: about half the bytes, twice as fast
    both ways.
    """
    classes = [cls for cls in vars(syntax).values()
               if dataclasses.is_dataclass(cls) and cls.__module__ == syntax.__name__]
    return {cls: _constructor(cls) for cls in [*classes, Landmark]}


def _constructor(cls: type) -> Callable[[Any], tuple]:
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    fields = operator.attrgetter(*names)
    if len(names) == 1:
        return lambda node: (cls, (fields(node),))
    return lambda node: (cls, fields(node))


def _check(payload: bytes) -> bytes:
    return usercache.digest(payload).encode()


class _SyntaxUnpickler(pickle.Unpickler):
    """An unpickler that makes syntax classes and landmarks only (and so imports nothing)."""

    def find_class(self, module: str, name: str) -> type:
        if module == syntax.__name__:
            found = getattr(syntax, name, None)
            if isinstance(found, type) and found.__module__ == module:
                return found
        elif (module, name) == ("pyclick.errors", "Landmark"):
            return Landmark
        raise pickle.UnpicklingError(f"{module}.{name} is not syntax")
