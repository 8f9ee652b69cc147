"""Which core the calling thread serves.

A worker thread that serves one RX queue binds itself to that queue's core
number once, before it pushes packets. Elements that keep per-core data
(FlowIPManager's flow tables) read the binding on every batch; a thread-local
read needs no lock because each thread only ever sees its own value.
"""

from __future__ import annotations

import threading

_binding = threading.local()


def bind_core(core: int | None) -> None:
    """Declare that the calling thread serves ``core`` (None: serves no core)."""
    _binding.core = core


def current_core() -> int | None:
    """The core bound to the calling thread, or None when it is not bound."""
    return getattr(_binding, "core", None)
