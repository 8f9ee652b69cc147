"""The BPF filesystem: where programs and maps outlive the process that holds them.

A BPF object lives while something refers to it: a file descriptor, an
attachment (an interface's XDP slot), another object, or a pin, a file in
a BPF filesystem. pyclick pins only what must survive its own death: the
XDP program it replaced on an interface, so that a later start can put it
back after a SIGKILL, and, for a moment, what ``bpftool`` loads from an
object file. It keeps its pins in a BPF filesystem of its own under its
state directory, mounted on first use; every mount of the filesystem is a
separate instance, so pyclick's pins never mix with anybody else's.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

#: ``f_type`` of a BPF filesystem in statfs(2).
BPF_FS_MAGIC = 0xCAFE4A11
MNT_DETACH = 2

_libc = ctypes.CDLL(None, use_errno=True)


class _StatFs(ctypes.Structure):
    # struct statfs begins with f_type, a word wide on every Linux ABI pyclick runs on.
    _fields_ = [("f_type", ctypes.c_long), ("rest", ctypes.c_byte * 120)]


def is_bpffs(path: Path) -> bool:
    """Whether ``path`` is (in) a BPF filesystem."""
    info = _StatFs()
    if _libc.statfs(os.fsencode(path), ctypes.byref(info)) != 0:
        return False
    return info.f_type & 0xFFFFFFFF == BPF_FS_MAGIC


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def ensure_mounted(path: Path) -> Path:
    """A BPF filesystem at ``path``: the one there, or a new one mounted (root only)."""
    if is_bpffs(path):
        return path
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    _check(_libc.mount(b"bpf", os.fsencode(path), b"bpf", 0, b"mode=0700"),
           f"mount -t bpf {path}")
    return path


def unmount(path: Path) -> None:
    """Unmount the BPF filesystem at ``path`` (objects pinned only there are freed)."""
    _check(_libc.umount2(os.fsencode(path), MNT_DETACH), f"umount {path}")


def remove_pins(path: Path) -> None:
    """Unpin everything under ``path`` (a directory of a BPF filesystem) and remove it."""
    if not path.exists():
        return
    for entry in sorted(path.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if entry.is_dir() and not entry.is_symlink():
            entry.rmdir()
        else:
            entry.unlink()
    path.rmdir()
