"""Click's way of printing a time interval in handlers (``500ms``, ``250us``,
``1500ns``, ``1.500000s``, ``1.000001500s``)."""

from __future__ import annotations

_NSEC = 1_000_000_000


def unparse_interval(seconds: float) -> str:
    """``seconds`` to the nanosecond. Under a second: whole milliseconds as
    ``Nms``, whole microseconds as ``Nus``, else ``Nns``. A second or more:
    seconds with six decimals (``1.500000s``), or nine when the microseconds
    are not whole (``1.000001500s``)."""
    ns = round(seconds * _NSEC)
    if ns < _NSEC:
        if ns % 1_000_000 == 0:
            return f"{ns // 1_000_000}ms"
        return f"{ns // 1000}us" if ns % 1000 == 0 else f"{ns}ns"
    whole, frac = divmod(ns, _NSEC)
    return f"{whole}.{frac // 1000:06d}s" if frac % 1000 == 0 else f"{whole}.{frac:09d}s"
