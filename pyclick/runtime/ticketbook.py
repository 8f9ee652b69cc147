"""Scheduling parameters by element name: what ScheduleInfo defines.

Each ScheduleInfo speaks for the scope its own name lies in (``c/`` for one
inside compound ``c``; the empty scope at the top) and gives parameters to
names relative to it: to elements, and to compounds as a whole, which
scales every component. Parameters are Click's fixed-point numbers, in
1/1024ths (1 is DEFAULT_TICKETS).

An element's tickets: for each scope holding definitions, from the
element's own outwards, the longest of the element's path prefixes
(``c``, ``c/d``, ``c/d/i`` for ``c/d/i``) that the scope defines sets that
prefix's parameter, and the shorter prefixes within the scope go back to 1
(an outer ``ScheduleInfo(c/i 10.5)`` is i's whole parameter, whatever
``c``'s); the tickets are DEFAULT_TICKETS times the product of the
prefixes' parameters. This is what Click's manual describes: Click itself
looks compounds up as ``c/``, which no ScheduleInfo can name, so its
compound scaling never applies.
"""

from __future__ import annotations

#: Fractional bits of a parameter: 1.0 is 1 << FRACTION_BITS (Click's DEFAULT_TICKETS).
FRACTION_BITS = 10
ONE = 1 << FRACTION_BITS


class TicketBook:
    """One router's scheduling parameters, by scope."""

    def __init__(self) -> None:
        self._scopes: dict[str, dict[str, int]] = {}

    def define(self, scope: str, name: str, parameter: float) -> None:
        """``name`` (relative to ``scope``, which is empty or ends with ``/``) has
        ``parameter``; a later definition of the same name replaces it."""
        self._scopes.setdefault(scope, {})[name] = round(parameter * ONE)

    def granted(self, element: str) -> int:
        """The tickets of ``element``'s tasks (not pinned: may be 0 or above the most)."""
        if not self._scopes:
            return ONE
        parts = element.split("/")
        prefixes = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
        parameters = [ONE] * len(prefixes)
        for scope in _enclosing_scopes(element):
            defined = self._scopes.get(scope)
            if not defined:
                continue
            found = False
            for k in range(len(prefixes) - 1, -1, -1):
                prefix = prefixes[k]
                if len(prefix) <= len(scope):
                    break
                if not found and prefix[len(scope):] in defined:
                    parameters[k] = defined[prefix[len(scope):]]
                    found = True
                elif found:
                    parameters[k] = ONE
        tickets = ONE
        for parameter in parameters:
            if parameter != ONE:
                tickets = (tickets * parameter) >> FRACTION_BITS
        return tickets


def _enclosing_scopes(element: str) -> list[str]:
    """The scopes around ``element``, its own first: ``c/d/``, ``c/``, ``''``."""
    scopes = []
    slash = element.rfind("/")
    while slash >= 0:
        scopes.append(element[:slash + 1])
        slash = element.rfind("/", 0, slash)
    scopes.append("")
    return scopes
