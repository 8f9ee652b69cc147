"""Null1 to Null8: eight classes that each behave exactly as Null."""

from __future__ import annotations

from pyclick.elements.null import Null

_MANUAL = """Null{n}() -- copy of Null

    Description
    Null1 to Null8 each pass packets unchanged, push or pull, exactly as
    Null does. They are distinct classes, so a configuration can tell
    apart stand-ins that do nothing (for instance to see how the cost of a
    path grows with the number of distinct element classes on it).

    Ports
    one agnostic input, one agnostic output

    Example
    InfiniteSource(LIMIT 5) -> Null{n} -> c :: Counter -> Discard;
    """


def _copy_of_null(n: int) -> type[Null]:
    return type(f"Null{n}", (Null,), {"__doc__": _MANUAL.format(n=n), "__module__": __name__})


Null1 = _copy_of_null(1)
Null2 = _copy_of_null(2)
Null3 = _copy_of_null(3)
Null4 = _copy_of_null(4)
Null5 = _copy_of_null(5)
Null6 = _copy_of_null(6)
Null7 = _copy_of_null(7)
Null8 = _copy_of_null(8)
