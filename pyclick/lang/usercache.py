"""The user's cache directory, where what can be reused across runs is kept.

``$XDG_CACHE_HOME/pyclick``, else ``~/.cache/pyclick``. What is kept there is
read back with pickle, so a directory is used only when it belongs to this
user and no one else can write to it.

A :class:`Shelf` keeps values of one kind there, pickled, each in a file
named after the shelf's prefix and a digest of its key. An entry starts
with a digest of the rest: one that cannot be read back whole, or holds
anything its reader refuses, is a miss (and is written again). A shelf
keeps at most ``max_entries`` entries of ``max_bytes`` in all; the ones
least recently used go first. Writing is atomic (a file of its own, then
renamed) and gives up silently when the disk is full or read-only.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, TypeVar

try:
    # hashlib's own blake2b, without the OpenSSL bindings hashlib loads first
    # (a few milliseconds of every start).
    from _blake2 import blake2b
except ImportError:  # an interpreter built without it
    from hashlib import blake2b

T = TypeVar("T")

_SUFFIX = ".pickle"
#: Each entry starts with a digest of the rest: a file cut short or damaged is told at once.
_CHECK_SIZE = 64


def directory() -> str | None:
    """The private cache directory (made if missing), or None when there is none to be had:
    no home, a relative ``XDG_CACHE_HOME``, a read-only home, a directory others may write to."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    path = os.path.join(base, "pyclick")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        status = os.stat(path)
    except OSError:
        return None
    if status.st_uid != os.geteuid() or status.st_mode & 0o022:
        return None
    return path


def digest(*parts: bytes) -> str:
    """A hex digest naming a cache file after ``parts`` (each one counted, not just joined)."""
    h = blake2b(digest_size=32)
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


def grammar_cache(name: str, key: str) -> str | bool:
    """Where lark keeps the analysed tables of the grammar called ``name``: a file of the
    private cache directory named after ``key`` (the grammar, lark's options and version)
    and the Python version, so that installations side by side never share a stale one;
    False without a private directory (lark then analyses the grammar on each start).

    lark reads the file back with pickle: it is only ever one of this user's own."""
    where = directory()
    if where is None:
        return False
    return os.path.join(where, f"{name}-{digest(f'{key}{sys.version}'.encode())[:20]}.lark")


def lark_fingerprint(sources: Iterable[str]) -> bytes | None:
    """A digest of what, besides a text, decides what lark and the code around it make
    of it: the Python version, lark's own ``__init__`` (its version) and ``sources``
    (files, or directories standing for the Python files in them); None when lark is
    missing or a source cannot be read (then nothing is kept)."""
    lark = importlib.util.find_spec("lark")  # found, not imported
    if lark is None or lark.origin is None:
        return None
    parts = [sys.version.encode()]
    try:
        for source in [*sources, lark.origin]:
            if os.path.isdir(source):
                parts += [_read(os.path.join(source, name)) for name in sorted(os.listdir(source))
                          if name.endswith(".py")]
            else:
                parts.append(_read(source))
    except OSError:
        return None
    return digest(*parts).encode()


def _unpickle(payload: bytes, allowed: Callable[[str, str], Any]) -> Any:
    """``payload`` unpickled, making only what ``allowed`` gives (see :meth:`Shelf.load`)."""
    # Imported here: a configuration read without the parser needs no entry, and
    # pickle is a few milliseconds of its start.
    import pickle

    class Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            found = allowed(module, name)
            if found is None:
                raise pickle.UnpicklingError(f"{module}.{name} may not be made here")
            return found

    return Unpickler(io.BytesIO(payload)).load()


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def seal(payload: bytes) -> bytes:
    """An entry's bytes: the digest that checks ``payload``, then ``payload``."""
    return digest(payload).encode() + payload


# Not a dataclass: see pyclick.lang.record.
class Shelf(NamedTuple):
    """Pickled values of one kind: entries named ``PREFIX<digest>.pickle``, at most
    ``max_entries`` of them, of at most ``max_bytes`` in all (a bigger value is not kept).

    The entries are counted after one new entry in ``look_every``: listing a
    directory of thousands of entries costs more than writing one, and a shelf
    of small values gets many at a time (see :meth:`_prune`).
    """

    prefix: str
    max_entries: int
    max_bytes: int
    look_every: int = 1

    def entry(self, *key: bytes) -> str | None:
        """The file that keeps the value of ``key``; None without a cache directory."""
        where = directory()
        if where is None:
            return None
        return os.path.join(where, f"{self.prefix}{digest(*key)}{_SUFFIX}")

    def load(self, path: str, allowed: Callable[[str, str], Any], kind: type[T]) -> T | None:
        """The ``kind`` kept at ``path``; None when there is none, not a whole one, or
        something else. The entry may make only what ``allowed(module, name)`` gives
        (None for what it refuses): what an entry holds is never imported."""
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            return None
        check, payload = data[:_CHECK_SIZE], data[_CHECK_SIZE:]
        if check != digest(payload).encode():
            return None
        try:
            value = _unpickle(payload, allowed)
        # Whatever the bytes make the unpickler do: an entry that does not read back is a miss.
        except Exception:
            return None
        if not isinstance(value, kind):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used now: the last to be removed
        return value

    def store(self, path: str, value: Any,
              dispatch_table: dict[type, Callable[[Any], tuple]] | None = None) -> None:
        """Keep ``value`` at ``path`` (pickled as ``dispatch_table`` says, when given), then
        remove what is over the bounds; give up quietly when it cannot be written."""
        import pickle

        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        if dispatch_table is not None:
            pickler.dispatch_table = dispatch_table
        try:
            pickler.dump(value)
        except RecursionError:  # nested deeper than the pickler goes
            return
        data = seal(buffer.getvalue())
        if len(data) > self.max_bytes:
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
        self._prune(path, len(data))

    def _prune(self, written: str, size: int) -> None:
        """Keep the shelf within its bounds after ``written`` (``size`` bytes).

        Looking at every entry's size and age takes a system call each, so it
        is done only when there are too many entries or the new one is big
        (more than its share, max_bytes / max_entries); the least recently
        used entries are then removed down to three quarters of both bounds.
        Until the next look, only entries within their share are added, a
        quarter of max_entries at most: they cannot take the shelf over
        max_bytes.

        With ``look_every`` above 1, the entries are counted only after the
        new entries whose digest it divides (one in ``look_every``, no count
        of them kept anywhere), and always after a big one; they are then too
        many past seven eighths of max_entries. Going over max_entries takes
        max_entries / 8 new entries in a row that are not counted after: for
        a shelf of thousands, a chance too small to happen.
        """
        big = size * self.max_entries > self.max_bytes
        digest_hex = os.path.basename(written)[len(self.prefix):len(self.prefix) + 8]
        if not big and int(digest_hex, 16) % self.look_every:
            return
        where = os.path.dirname(written)
        try:
            names = [name for name in os.listdir(where) if name.startswith(self.prefix)]
        except OSError:
            return
        limit = self.max_entries if self.look_every == 1 else self.max_entries * 7 // 8
        if len(names) <= limit and not big:
            return
        entries = []
        for name in names:
            path = os.path.join(where, name)
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
            if count > self.max_entries * 3 // 4 or total > self.max_bytes * 3 // 4:
                with contextlib.suppress(OSError):
                    os.unlink(path)
