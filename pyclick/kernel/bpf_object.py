"""XDP programs from compiled BPF object files, loaded as they are by libbpf.

An object built with clang (``clang -O2 -g -target bpf -c prog.c -o
prog.o``) declares its maps in BTF and may need relocations that only
libbpf performs, so pyclick hands it to ``bpftool`` (Debian's ``bpftool``
package, built on libbpf): ``bpftool prog loadall OBJ DIR pinmaps MAPDIR``
loads every program and map and pins them by name in a BPF filesystem.
pyclick opens each pin, which gives it its own handle and the maps' full
names, then removes the pins at once: from then on the objects live by
pyclick's handles and, once attached, by the interface, and nothing of
them outlives pyclick except what it leaves attached.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from pyclick.kernel import bpf_syscall, bpffs
from pyclick.kernel.rss_program import DEFAULT_KEY, XDP_ENTRY, toeplitz_table

BPFTOOL_HINT = "apt-get install bpftool"
#: bpftool runs the verifier on every program; a large one takes seconds.
LOAD_TIMEOUT = 120.0
BPF_MAP_TYPE_PERCPU_ARRAY = 6


class BpfObjectError(RuntimeError):
    """An object file that cannot be loaded; the message names it and says why."""


def _what_went_wrong(stderr: str) -> str:
    """The end of libbpf's account, up to bpftool's own error (its advice after it is
    about bpftool's options, not the object)."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    end = next((i for i, line in enumerate(lines) if line.startswith("Error:")), len(lines) - 1)
    return " / ".join(lines[max(0, end - 7): end + 1])


def _pinned(directory: Path) -> list[Path]:
    """The pins bpftool made in ``directory`` (none made it for an object without maps)."""
    return sorted(directory.iterdir()) if directory.is_dir() else []


class ObjectProgram:
    """The XDP program ``entry`` of a BPF object file, loaded, with the object's maps.

    ``pins`` is a directory to create in a BPF filesystem, used during the
    load and removed before the constructor returns. When the object has a
    ``toeplitz_map``, it is filled from ``key``; ``reta_size`` is the number
    of entries of its ``count_map`` (0 without one).
    """

    def __init__(self, path: Path, pins: Path, key: bytes = DEFAULT_KEY,
                 entry: str = XDP_ENTRY) -> None:
        self.source = path
        self.key = bytes(key)
        self._maps: dict[str, int] = {}
        self.xdp_fd = -1
        programs = self._load(path, pins)
        try:
            self.xdp_fd = programs.pop(self._entry(programs, entry))
            self.reta_size = self._check_count_map()
            self._fill_toeplitz()
        except BaseException:
            self.close()
            raise
        finally:
            for fd in programs.values():
                os.close(fd)

    def _load(self, path: Path, pins: Path) -> dict[str, int]:
        """Run bpftool; returns the programs' fds by name and fills ``_maps``."""
        tool = shutil.which("bpftool")
        if tool is None:
            raise BpfObjectError(f"loading the BPF object '{path}' needs bpftool, which is "
                                 f"not installed ({BPFTOOL_HINT})")
        pins.mkdir(mode=0o700)
        programs: dict[str, int] = {}
        try:
            done = subprocess.run([tool, "prog", "loadall", str(path), str(pins / "progs"),
                                   "pinmaps", str(pins / "maps")],
                                  capture_output=True, text=True, timeout=LOAD_TIMEOUT)
            if done.returncode != 0:
                raise BpfObjectError(f"{path}: the kernel or libbpf refused the object: "
                                     + _what_went_wrong(done.stderr))
            for pin in _pinned(pins / "progs"):
                programs[pin.name] = bpf_syscall.obj_get(str(pin))
            for pin in _pinned(pins / "maps"):
                self._maps[pin.name] = bpf_syscall.obj_get(str(pin))
        except BaseException:
            for fd in programs.values():
                os.close(fd)
            self.close()
            raise
        finally:
            bpffs.remove_pins(pins)
        return programs

    def _entry(self, programs: dict[str, int], entry: str) -> str:
        if entry in programs:
            return entry
        xdp = [name for name, fd in programs.items()
               if bpf_syscall.prog_info(fd).type == bpf_syscall.BPF_PROG_TYPE_XDP]
        if len(xdp) == 1:
            return xdp[0]
        raise BpfObjectError(f"{self.source}: no XDP program named {entry} among "
                             f"{', '.join(sorted(programs)) or 'none'}, and not exactly one "
                             f"XDP program to take instead")

    def _check_count_map(self) -> int:
        if "count_map" not in self._maps:
            return 0
        info = bpf_syscall.map_info(self._maps["count_map"])
        if (info.type, info.key_size, info.value_size) != (BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8):
            raise BpfObjectError(f"{self.source}: count_map must be a per-CPU array of u64 "
                                 f"counters (BPF_MAP_TYPE_PERCPU_ARRAY, u32 keys)")
        return info.max_entries

    def _fill_toeplitz(self) -> None:
        if "toeplitz_map" not in self._maps:
            return
        table = toeplitz_table(self.key).reshape(1, -1)
        info = bpf_syscall.map_info(self._maps["toeplitz_map"])
        if info.value_size != table.nbytes or info.max_entries < 1:
            raise BpfObjectError(f"{self.source}: toeplitz_map holds {info.value_size}-byte "
                                 f"values; pyclick fills it with the {table.nbytes}-byte "
                                 f"table of xdp_count.c")
        bpf_syscall.write_array(self._maps["toeplitz_map"], table)

    def map_names(self) -> list[str]:
        """Names of the object's maps, in the order the object declares them."""
        return sorted(self._maps, key=lambda name: bpf_syscall.map_info(self._maps[name]).id)

    def has_map(self, name: str) -> bool:
        return name in self._maps

    def map_fd(self, name: str) -> int:
        """File descriptor of the map ``name`` (owned by this object)."""
        if name not in self._maps:
            raise KeyError(f"{self.source.name} has no map {name!r} "
                           f"(maps: {', '.join(self.map_names()) or 'none'})")
        return self._maps[name]

    def close(self) -> None:
        """Release the program and maps (an attached program stays alive)."""
        if self.xdp_fd >= 0:
            os.close(self.xdp_fd)
            self.xdp_fd = -1
        for fd in self._maps.values():
            os.close(fd)
        self._maps.clear()
