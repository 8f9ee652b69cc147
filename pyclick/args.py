"""Configuration arguments, parsed the way Click elements read them.

An element's configuration string is a comma-separated list of arguments.
Positional arguments come first; keyword arguments are written
``KEYWORD value`` where the keyword is an all-caps word (``A-Z``, ``0-9``,
``_``) followed by whitespace or the end of the argument. A lone all-caps
word (``TCP``) is a positional argument unless the element has already read
a keyword of that name. Commas inside quotes, parentheses, brackets or
braces do not split; ``//`` and ``/* */`` comments are ignored.
An element reads its arguments with an :class:`Args`::

    def configure(self, args: Args) -> None:
        self.dev = args.read_mp("DEV", ELEMENT)
        self.timer = args.read("TIMER", TIME, 0.1)
        args.complete()

Every problem of one element is collected; :meth:`Args.complete` raises a
single ConfigError listing them all, each line naming the element, its class
and the keyword.

A type is any callable ``(text, args) -> value`` raising
``ValueError("expected ...")``. A message starting with "expected" is
completed with the text that was given (``..., got 'abc'``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from pyclick.errors import ConfigError
from pyclick.lang import configstr
from pyclick.lang.configstr import ELEMENT_KEYWORD, split_keyword
# Elements take the lexical helpers from here, with the argument types.
from pyclick.lang.configstr import quote, split_words, unquote  # noqa: F401
from pyclick.lang.configstr import strip_comments as uncomment

if TYPE_CHECKING:
    from pyclick.element import Element

ArgType = Callable[[str, "Args"], Any]


def split_args(config: str) -> list[str]:
    """The arguments of an element's configuration: commas inside brackets do
    not split, and empty arguments are dropped."""
    return [arg for arg in configstr.split_args(uncomment(config), brackets=True) if arg]


# --- types -------------------------------------------------------------------

def BOOL(text: str, args: "Args") -> bool:
    value = text.lower()
    if value in ("true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    raise ValueError("expected boolean (true/false, yes/no, 1/0)")


def INT(text: str, args: "Args") -> int:
    try:
        return int(text, 0)
    except ValueError:
        pass
    # int(x, 0) refuses leading zeros ("010"): read them as decimal.
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text, 10)
    raise ValueError("expected integer")


def UNSIGNED(text: str, args: "Args") -> int:
    try:
        value = INT(text, args)
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError("expected unsigned integer")
    return value


def FLOAT(text: str, args: "Args") -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError("expected real number")
    return value


def STRING(text: str, args: "Args") -> str:
    return unquote(text)


def WORD(text: str, args: "Args") -> str:
    if len(split_words(text)) != 1:
        raise ValueError("expected a single word")
    return unquote(text)


_TIME_UNITS = {
    "": 1.0, "s": 1.0, "sec": 1.0, "secs": 1.0,
    "ms": 1e-3, "msec": 1e-3, "us": 1e-6, "usec": 1e-6, "ns": 1e-9, "nsec": 1e-9,
    "m": 60.0, "min": 60.0, "h": 3600.0, "hr": 3600.0, "d": 86400.0, "day": 86400.0,
}
_TIME = re.compile(r"((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-z]*)\Z")


def TIME(text: str, args: "Args") -> float:
    """A duration in seconds; a bare number is seconds (``10``, ``10ms``, ``2min``)."""
    m = _TIME.match(text.strip())
    if not m or m.group(2) not in _TIME_UNITS:
        raise ValueError("expected time (e.g. 10ms, 1s)")
    return float(m.group(1)) * _TIME_UNITS[m.group(2)]


def ELEMENT(text: str, args: "Args") -> "Element":
    """An element name, looked up relative to the reading element's compound."""
    name = unquote(text)
    if args.element is None:
        raise ValueError(f"no router to look up element '{name}'")
    from pyclick.router import NoSuchElement

    try:
        return args.element.router.find(name, args.element)
    except NoSuchElement as err:
        raise ValueError(str(err)) from None


def BYTES(text: str, args: "Args") -> bytes:
    """Hex digits (``0x`` prefix and ``:``/``-``/space separators allowed) or a quoted string."""
    if text[:1] in "\"'":
        value = unquote(text)
        encoding = "latin-1" if all(ord(c) < 256 for c in value) else "utf-8"
        return value.encode(encoding)
    digits = re.sub(r"[\s:-]", "", text.removeprefix("0x").removeprefix("0X"))
    if not re.fullmatch(r"(?:[0-9a-fA-F]{2})+", digits):
        raise ValueError("expected bytes (hex digits or a quoted string)")
    return bytes.fromhex(digits)


class ListOf:
    """A whitespace-separated list, each item of ``item_type``: ``ListOf(INT)``."""

    def __init__(self, item_type: ArgType) -> None:
        self.item_type = item_type

    def __call__(self, text: str, args: "Args") -> list[Any]:
        items = split_words(text)
        values = []
        for number, item in enumerate(items, 1):
            try:
                values.append(self.item_type(item, args))
            except ValueError as err:
                raise ValueError(f"list item {number}: {_with_text(str(err), item)}") from None
        return values


class Choice:
    """One of fixed words: ``Choice("rss", "rsspp")`` returns the word given."""

    def __init__(self, *options: str) -> None:
        self.options = options

    def __call__(self, text: str, args: "Args") -> str:
        word = unquote(text)
        if word not in self.options:
            raise ValueError(f"expected one of {', '.join(self.options)}")
        return word


def _with_text(message: str, text: str) -> str:
    return f"{message}, got '{text}'" if message.startswith("expected") else message


# --- the reader ---------------------------------------------------------------

@dataclass
class _Arg:
    raw: str
    keyword: str | None
    value: str
    consumed: bool = False

    @property
    def bare(self) -> bool:
        """A lone all-caps word: a keyword without value, or a positional word."""
        return self.keyword is not None and self.value == ""


def _parse_arg(raw: str) -> _Arg:
    keyword = split_keyword(raw, ELEMENT_KEYWORD)
    if keyword:
        return _Arg(raw, *keyword)
    return _Arg(raw, None, raw)


_MISSING = object()


class Args:
    """Reads one element's configuration string (see the module docstring).

    Reading methods never raise for a user mistake: they record the error
    and return the default (None for mandatory arguments); :meth:`complete`
    raises them all at once.
    """

    def __init__(self, config: str, element: "Element | None" = None) -> None:
        self.config = config
        self.element = element
        self.errors: list[str] = []
        self._args = [_parse_arg(a) for a in split_args(config)]
        self._known: list[str] = []
        # Positional arguments are the leading ones without a keyword value.
        self._npositional = next((i for i, a in enumerate(self._args)
                                  if a.keyword is not None and not a.bare), len(self._args))
        self._cursor = 0
        self._completed = False

    # --- reading
    def read_mp(self, key: str, type: ArgType) -> Any:
        """Mandatory argument, by keyword or at the next position."""
        return self._read(key, type, None, positional=True, mandatory=True)

    def read_p(self, key: str, type: ArgType, default: Any = None) -> Any:
        """Optional argument, by keyword or at the next position."""
        return self._read(key, type, default, positional=True, mandatory=False)

    def read_m(self, key: str, type: ArgType) -> Any:
        """Mandatory keyword argument."""
        return self._read(key, type, None, positional=False, mandatory=True)

    def read(self, key: str, type: ArgType, default: Any = None) -> Any:
        """Optional keyword argument."""
        return self._read(key, type, default, positional=False, mandatory=False)

    def read_all(self, key: str, type: ArgType) -> list[Any]:
        """Every occurrence of a repeatable keyword, in order."""
        self._learn(key)
        values = []
        for arg in self._keyword_args(key):
            arg.consumed = True
            value = self._convert(key, arg.value, type)
            if value is not _MISSING:
                values.append(value)
        return values

    def has(self, key: str) -> bool:
        """Whether keyword ``key`` was given (does not read it)."""
        return any(True for _ in self._keyword_args(key))

    def rest(self) -> list[str]:
        """Every argument not read yet that is not a keyword argument, raw, in order.

        As in Click, these may stand after keyword arguments too
        (``Script(TYPE PASSIVE, return 1)``); they are marked read.
        """
        remaining = []
        for arg in self._args:
            if arg.consumed or (arg.keyword is not None and not arg.bare):
                continue
            if not (arg.bare and arg.keyword in self._known):
                arg.consumed = True
                remaining.append(arg.raw)
        self._cursor = self._npositional
        return remaining

    def complete(self) -> "Args":
        """Raise a ConfigError holding every error of this configuration, if any."""
        if not self._completed:
            self._completed = True
            for arg in self._args:
                if arg.consumed:
                    continue
                if arg.keyword is not None and not (arg.bare and self._positional_slot(arg)):
                    self._error(f"{arg.keyword}: unknown keyword{self._keyword_hint()}")
                else:
                    self._error(f"too many arguments: '{arg.raw}'")
        if self.errors:
            raise ConfigError(messages=self.errors)
        return self

    def convert(self, key: str, text: str, type: ArgType, default: Any = None) -> Any:
        """Parse ``text`` (part of an argument the element split itself) as ``type``.

        Errors are recorded under ``key`` like those of the read methods.
        """
        value = self._convert(key, text, type)
        return default if value is _MISSING else value

    # --- error reporting
    def error(self, message: str) -> None:
        """Record an error found by the element itself (e.g. two arguments clash)."""
        self._error(message)

    def _error(self, message: str) -> None:
        el = self.element
        if el is not None:
            message = f"{el.landmark}: While configuring '{el.declaration()}': {message}"
        self.errors.append(message)

    def _keyword_hint(self) -> str:
        return f" (known: {', '.join(self._known)})" if self._known else ""

    # --- internals
    def _learn(self, key: str) -> None:
        if key not in self._known:
            self._known.append(key)

    def _keyword_args(self, key: str):
        return (a for a in self._args if a.keyword == key and not a.consumed)

    def _positional_slot(self, arg: _Arg) -> bool:
        return self._args.index(arg) < self._npositional

    def _read(self, key: str, type: ArgType, default: Any, *, positional: bool,
              mandatory: bool) -> Any:
        self._learn(key)
        found = list(self._keyword_args(key))
        text: str | None = None
        if found:
            for arg in found:
                arg.consumed = True
            text = found[-1].value
        elif positional:
            arg = self._next_positional()
            if arg is not None:
                arg.consumed = True
                text = arg.raw
        if text is None:
            if mandatory:
                self._error(f"{key}: missing mandatory argument")
            return default
        value = self._convert(key, text, type)
        return default if value is _MISSING else value

    def _next_positional(self) -> _Arg | None:
        while self._cursor < self._npositional:
            arg = self._args[self._cursor]
            self._cursor += 1
            if not arg.consumed and not (arg.bare and arg.keyword in self._known):
                return arg
        return None

    def _convert(self, key: str, text: str, type: ArgType) -> Any:
        try:
            return type(text, self)
        except ValueError as err:
            self._error(f"{key}: {_with_text(str(err), text)}")
            return _MISSING
