"""Errors with landmarks, reported the Click way (``FILE:LINE: message``), and the
lookup failures of the router (no such element, unknown element class)."""

from __future__ import annotations

from typing import NamedTuple


class Landmark(NamedTuple):
    """Where something was written: a file name (``config`` for -e, as Click names it) and line.

    A named tuple: a configuration makes one for each of its statements, and
    a tuple costs less to make than a frozen dataclass."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class ConfigError(Exception):
    """One or more user mistakes, each with the place it was made.

    ``messages`` holds fully formatted lines (``FILE:LINE: text``); a
    ConfigError is what the command prints before exiting with status 1.
    """

    def __init__(self, message: str | None = None, landmark: Landmark | str | None = None,
                 messages: list[str] | None = None):
        self.messages: list[str] = list(messages or [])
        if message is not None:
            self.messages.append(f"{landmark}: {message}" if landmark else message)
        super().__init__("\n".join(self.messages))


class AtEnd(str):
    """A message about the end of a text (what is still open there): where messages
    are ordered by line, it comes after the others of its line."""

    __slots__ = ()


class ErrorCollector:
    """Gathers every error of a phase so that all are reported at once."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def error(self, message: str, landmark: Landmark | str | None = None) -> None:
        self.messages.append(f"{landmark}: {message}" if landmark else message)

    def absorb(self, err: ConfigError) -> None:
        self.messages.extend(err.messages)

    def raise_if_any(self) -> None:
        if self.messages:
            raise ConfigError(messages=self.messages)

    def __bool__(self) -> bool:
        return bool(self.messages)


class NoSuchElement(LookupError):
    """A configuration names an element that does not exist."""


class UnknownClass(ConfigError):
    """A configuration names an element class nobody defines: ``class_name``, and
    ``why`` (what may explain it, in parentheses after a space, or empty)."""

    def __init__(self, class_name: str, why: str = "",
                 landmark: Landmark | str | None = None) -> None:
        self.class_name = class_name
        self.why = why
        super().__init__(f"unknown element class '{class_name}'{why}", landmark)


class ElementModuleError(ConfigError):
    """The module that defines a named element class failed to import."""
