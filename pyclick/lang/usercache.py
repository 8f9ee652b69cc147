"""The user's cache directory, where the parser keeps what it can reuse across runs.

``$XDG_CACHE_HOME/pyclick``, else ``~/.cache/pyclick``. What is kept there is
read back with pickle, so a directory is used only when it belongs to this
user and no one else can write to it.
"""

from __future__ import annotations

import os

try:
    # hashlib's own blake2b, without the OpenSSL bindings hashlib loads first
    # (a few milliseconds of every start).
    from _blake2 import blake2b
except ImportError:  # an interpreter built without it
    from hashlib import blake2b


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
