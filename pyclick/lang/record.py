"""Plain records: the nodes of a program and the flat graph's elements.

A record class lists its fields in ``__slots__`` and sets them in its own
``__init__``, in that order. It is equal to a record of its own class
whose fields are equal (but those named in ``UNCOMPARED``), written as a
call of its class, and pickled as one.

Not dataclasses: importing ``dataclasses`` (with ``inspect``) and making
the language package's classes with it were three quarters of the
package's import time, paid by every run that reads a configuration, and
a record is made faster than a named tuple.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

R = TypeVar("R", bound="Record")


class Record:
    """The base of record classes (see the module's documentation)."""

    __slots__ = ()
    #: Fields left out of equality.
    UNCOMPARED: ClassVar[tuple[str, ...]] = ()

    def values(self) -> tuple[Any, ...]:
        """The fields' values, in their order."""
        return tuple(getattr(self, name) for name in self.__slots__)

    def _compared(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__
                     if name not in self.UNCOMPARED)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._compared() == other._compared()

    def __ne__(self, other: object) -> bool:
        return not self == other

    # Mutable: not hashable, unless a class says how.
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return type(self), self.values()

    def replace(self: R, **changes: Any) -> R:
        """A copy with the fields in ``changes`` changed."""
        return type(self)(*(changes.get(name, getattr(self, name)) for name in self.__slots__))
