"""The C heap of a simulating process: freed memory kept for the next block.

The simulator makes and drops arrays of megabytes every simulated second:
a block's new flows, their hashes and slots, the rows of its epochs.
glibc's malloc hands the free top of its heap back to the kernel once it
passes a threshold (which it raises as it sees large blocks freed, to a
few megabytes here), and the next block faults those pages in again: some
40,000 page faults, a tenth of a second of kernel time, in a minute of
100,000 flows living a second. ``keep_freed_heap`` fixes both that
threshold and the size from which an allocation is mapped on its own at
32 MB, the ceiling glibc's own adjustment stops at: arrays of up to 32 MB
come from the heap, and up to 32 MB freed at its top wait for the next
block instead of going back to the kernel.
"""

from __future__ import annotations

import ctypes

#: mallopt's parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

#: Freed memory kept at the top of the heap, and the size from which an
#: allocation is mapped on its own.
KEPT_BYTES = 32 << 20


def keep_freed_heap(kept: int = KEPT_BYTES) -> bool:
    """Have malloc keep up to ``kept`` freed bytes at the top of the heap, and serve
    allocations of up to ``kept`` bytes from it. Process-wide; False, and nothing
    changed, where the C library has no glibc ``mallopt``."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(_M_MMAP_THRESHOLD, kept)) and bool(mallopt(_M_TRIM_THRESHOLD, kept))
