"""The simulator's heap setting: freed blocks kept for the next one."""

import ctypes
import platform

import numpy as np
import pytest

from pyclick.sim.heap import KEPT_BYTES, keep_freed_heap


class MallocInfo(ctypes.Structure):
    """glibc's ``struct mallinfo2``."""
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


@pytest.fixture
def libc():
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt, mallinfo2 and malloc_trim are glibc's")
    library = ctypes.CDLL(None)
    library.mallinfo2.restype = MallocInfo
    return library


def test_a_freed_block_of_megabytes_stays_in_the_heap(libc):
    assert keep_freed_heap()
    # What earlier tests left free goes back first: the block's return cannot
    # push the heap's free top over the threshold and have it trimmed.
    libc.malloc_trim(0)
    size = KEPT_BYTES // 4
    block = np.ones(size, np.uint8)
    # From the heap, not a mapping of its own (which freeing would unmap).
    held = libc.mallinfo2()
    assert held.hblkhd < size
    del block
    assert libc.mallinfo2().fordblks >= held.fordblks + size
