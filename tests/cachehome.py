"""What the tests of the cache directory share: a cache home of the test's own, and
the ways an entry is found damaged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

#: An entry's bytes, damaged: cut short, one bit flipped, emptied, overwritten.
DAMAGES: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda data: data[:len(data) // 2],
    "one-bit": lambda data: data[:-1] + bytes([data[-1] ^ 1]),
    "empty": lambda data: b"",
    "garbage": lambda data: b"not a cache entry at all\n" * 4,
}


def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make ``tmp_path`` the cache home; the directory entries go to."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "pyclick"


def calls(monkeypatch: pytest.MonkeyPatch, owner: object, name: str, position: int) -> list[str]:
    """The texts ``owner.name`` is called with from now on (its argument at
    ``position``), in order; the calls still go through."""
    seen: list[str] = []
    call = getattr(owner, name)

    def recording(*args: object) -> object:
        seen.append(args[position])
        return call(*args)

    monkeypatch.setattr(owner, name, recording)
    return seen


def shelf_entries(cache: Path, prefix: str) -> list[str]:
    """The names of the entries of one shelf, sorted."""
    return sorted(p.name for p in cache.glob(f"{prefix}*"))
