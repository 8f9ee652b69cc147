"""Pausing the cyclic garbage collector while a configuration is built."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Pause the cyclic garbage collector, and restore it whatever happens.

    Reading a configuration, and building and configuring its router, make
    many objects and free almost none: left running, the collector would go
    over all of them again and again. What is built is bounded
    (:mod:`pyclick.lang.limits`), so the pause is too.

    Once restored, the collector would go over everything made meanwhile at
    its first pass (milliseconds for thousands of elements): that is moved
    to the oldest generation instead, whose objects are looked at again only
    when the collector goes over them all. Freezing and unfreezing does that
    without looking at any object; it is skipped when objects are frozen
    already, which unfreezing would release.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()
