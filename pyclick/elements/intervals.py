"""Click's ways of printing times: a timestamp (``1000.250000``,
``5.000000001``) and a time interval in handlers (``500ms``, ``250us``,
``1500ns``, ``1.500000s``, ``1.000001500s``)."""

from __future__ import annotations

_NSEC = 1_000_000_000


def unparse_timestamp(ns: int) -> str:
    """A time in nanoseconds as Click prints a timestamp: seconds with six
    decimals, nine when the microseconds are not whole, ``-`` in front of a
    negative time (``-0.500000``)."""
    sign = "-" if ns < 0 else ""
    whole, frac = divmod(abs(ns), _NSEC)
    if frac % 1000 == 0:
        return f"{sign}{whole}.{frac // 1000:06d}"
    return f"{sign}{whole}.{frac:09d}"


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
    return unparse_timestamp(ns) + "s"
