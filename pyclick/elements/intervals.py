"""Click's way of printing a time interval in handlers (``500ms``, ``250us``, ``1.500000s``)."""

from __future__ import annotations

_USEC = 1_000_000


def unparse_interval(seconds: float) -> str:
    """``seconds`` to the microsecond: whole milliseconds as ``Nms`` and other
    times under a second as ``Nus``; a second or more as seconds with six
    decimals (``1.500000s``)."""
    us = round(seconds * _USEC)
    if us < _USEC:
        return f"{us // 1000}ms" if us % 1000 == 0 else f"{us}us"
    return f"{us // _USEC}.{us % _USEC:06d}s"
