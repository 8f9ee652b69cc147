"""The shipped XDP RSS program (``pyclick/bpf/xdp_count.c``), built and primed.

``RssProgram`` compiles a BPF C source with bcc for one table size, loads
its XDP entry point and fills its Toeplitz table from the hash key. It
gives access to the program's maps by name. The same source built with
``redirect_cpus`` is the software RSS variant (see ``xdp_count.c``).
"""

from __future__ import annotations

import ctypes
import functools
from pathlib import Path

import numpy as np

from pyclick.kernel import bcc_loader, bpf_syscall
from pyclick.rss.toeplitz import MICROSOFT_KEY, byte_tables

#: Where the shipped BPF C sources live: ``pyclick/bpf``, package data that
#: installs with pyclick (bcc compiles from a file, hence a path).
BPF_DIR = Path(__file__).resolve().parent.parent / "bpf"
COUNT_SOURCE = BPF_DIR / "xdp_count.c"

XDP_ENTRY = "xdp_count"
LANDED_ENTRY = "xdp_landed"
#: The longest hash input xdp_count.c handles: two IPv6 addresses, two ports.
HASH_INPUT_MAX = 36
#: bpf_attach_type BPF_XDP_CPUMAP: programs run by a CPUMAP entry.
BPF_XDP_CPUMAP = 35

DEFAULT_KEY = MICROSOFT_KEY


def toeplitz_table(key: bytes) -> np.ndarray:
    """The per-(input byte, value) hash contributions xdp_count.c XORs together."""
    if len(key) < HASH_INPUT_MAX + 4:
        raise ValueError(f"the RSS key must have at least {HASH_INPUT_MAX + 4} bytes to hash "
                         f"IPv6 flows, got {len(key)}")
    return np.ascontiguousarray(byte_tables(bytes(key))[:HASH_INPUT_MAX])


@functools.cache
def _map_directory() -> ctypes.CDLL:
    """libbcc's map listing calls, which bcc's Python module leaves undeclared.

    A separate handle, so that bcc's own prototypes stay untouched.
    """
    lib = ctypes.CDLL(bcc_loader.import_bcc().libbcc.lib._name)
    lib.bpf_num_tables.restype = ctypes.c_size_t
    lib.bpf_num_tables.argtypes = [ctypes.c_void_p]
    lib.bpf_table_name.restype = ctypes.c_char_p
    lib.bpf_table_name.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    lib.bpf_table_fd.restype = ctypes.c_int
    lib.bpf_table_fd.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    return lib


class RssProgram:
    """A compiled, loaded XDP program whose maps are reachable by name.

    ``reta_size`` sizes the per-bucket maps; ``key`` fills ``toeplitz_map``
    when the source declares one; ``redirect_cpus`` (the number of CPU
    entries) selects the software RSS variant with its CPUMAP.
    """

    def __init__(self, reta_size: int, key: bytes = DEFAULT_KEY, source: Path = COUNT_SOURCE,
                 redirect_cpus: int | None = None) -> None:
        if reta_size <= 0:
            raise ValueError(f"the table size must be positive, got {reta_size}")
        self.reta_size = reta_size
        self.key = bytes(key)
        self.source = source
        defines: dict[str, int] = {"RETA_SIZE": reta_size}
        if redirect_cpus is not None:
            defines.update(RSS_REDIRECT=1, MAX_CPUS=redirect_cpus)
        self.bpf = bcc_loader.compile_program(source, defines)
        bcc = bcc_loader.import_bcc()
        try:
            self.xdp_fd: int = self.bpf.load_func(XDP_ENTRY.encode(), bcc.BPF.XDP).fd
            self.landed_fd: int | None = None
            if redirect_cpus is not None:
                self.landed_fd = self.bpf.load_func(LANDED_ENTRY.encode(), bcc.BPF.XDP,
                                                    attach_type=BPF_XDP_CPUMAP).fd
        except Exception as err:
            self.close()
            raise RuntimeError(f"{source}: the kernel refused the program: {err}") from err
        if self.has_map("toeplitz_map"):
            bpf_syscall.write_array(self.map_fd("toeplitz_map"),
                                    toeplitz_table(self.key).reshape(1, -1))

    def map_names(self) -> list[str]:
        """Names of the program's maps, in declaration order."""
        lib = _map_directory()
        module = self.bpf.module
        return [lib.bpf_table_name(module, i).decode() for i in range(lib.bpf_num_tables(module))]

    def has_map(self, name: str) -> bool:
        return _map_directory().bpf_table_fd(self.bpf.module, name.encode()) >= 0

    def map(self, name: str) -> object:
        """bcc's table object for the map ``name``."""
        if not self.has_map(name):
            raise KeyError(f"{self.source.name} has no map {name!r} "
                           f"(maps: {', '.join(self.map_names()) or 'none'})")
        return self.bpf[name.encode()]

    def map_fd(self, name: str) -> int:
        """File descriptor of the map ``name`` (owned by the program object)."""
        return self.map(name).map_fd

    def close(self) -> None:
        """Release the program and maps (an attached program stays alive)."""
        self.bpf.cleanup()
