"""Configuration arguments, parsed the way Click elements read them.

An element's configuration string is a comma-separated list of arguments.
Positional arguments come first; keyword arguments are written
``KEYWORD value`` where the keyword is an all-caps word (``A-Z``, ``0-9``,
``_``) followed by whitespace or the end of the argument. A lone all-caps
word (``TCP``) is a positional argument unless the element has already read
a keyword of that name. As in Click, an argument that only looks like one
(a first word of letters, digits and ``_`` followed by a value, as in
``Print(my label)``) fills no optional positional argument: it is refused
as an unknown keyword unless a mandatory one takes it; and a positional
argument given by keyword too still uses up its place (``Print(ok, 8,
LABEL x)``: label x, MAXLENGTH 8). Commas inside quotes, parentheses,
brackets or braces do not split; ``//`` and ``/* */`` comments are
ignored.
An element reads its arguments with an :class:`Args`::

    def configure(self, args: Args) -> None:
        self.dev = args.read_mp("DEV", ELEMENT)
        self.timer = args.read("TIMER", TIME, 0.1)
        args.complete()

Every problem of one element is collected; :meth:`Args.complete` raises a
single ConfigError listing them all, each line naming the element, its class
and the keyword.

A type is any callable ``(text, args) -> value`` raising
``ValueError("expected ...")``. A message starting with "expected" or
"must be" is completed with the text that was given (``..., got 'abc'``),
shortened to its first 60 characters and its size when longer.

Integers are written as in Click: decimal, ``0x`` hexadecimal, ``0b``
binary, ``0``-led octal (``010`` is 8), with an optional sign and ``_``
between digits; times take a unit (``10ms``) and may have a ``+`` sign.
Numbers (``INT``, ``UNSIGNED``, ``FLOAT``, ``TIME``, ``MSEC``) declare the
range an element accepts, ``UNSIGNED.range(1, 4096)`` or
``args.read("CORES", UNSIGNED, 8, range=(1, 4096))``; a value outside is
refused with the range in the message. Real numbers and times are finite:
``inf`` and ``nan`` are refused unless a type allows infinity
(``TIME.or_infinite()``). :attr:`Args.declared` keeps the type of every
keyword read, so tests and manuals can list the ranges.

``ELEMENT`` arguments are remembered in :attr:`Args.references`: the
router initializes every element named this way before the element that
named it.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from pyclick.errors import ConfigError, NoSuchElement
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
    # Click's words and letters (t, y; f, n), in any case.
    value = text.lower()
    if value in ("true", "yes", "1", "t", "y"):
        return True
    if value in ("false", "no", "0", "f", "n"):
        return False
    raise ValueError("expected boolean (true/false, yes/no, 1/0)")


#: Longest integer accepted, in digits: far beyond any range an element
#: declares, and short enough that converting it costs nothing.
MAX_DIGITS = 100
#: Ranges a Number type keeps once made (``Number.range``).
MAX_RANGES = 256
#: Arguments longer than this are shortened when quoted in a message.
QUOTE_LIMIT = 60


def _parse_int(text: str) -> int:
    digits = text.strip()
    if len(digits) > MAX_DIGITS:
        if re.fullmatch(r"[+-]?[0-9]+", digits):
            raise ValueError(f"expected integer of at most {MAX_DIGITS} digits")
        raise ValueError("expected integer")
    if not digits.isascii():
        raise ValueError("expected integer")
    try:
        return int(digits, 0)
    except ValueError:
        pass
    # int(x, 0) refuses a leading zero; Click reads it as octal ("010" is 8, "09"
    # no number at all), as C does.
    if re.fullmatch(r"[+-]?0[0-7_]*", digits):
        return int(digits, 8)
    raise ValueError("expected integer")


def _parse_unsigned(text: str) -> int:
    try:
        value = _parse_int(text)
    except ValueError as err:
        raise ValueError(str(err).replace("integer", "unsigned integer", 1)) from None
    if value < 0:
        raise ValueError("expected unsigned integer")
    return value


def _parse_float(text: str) -> float:
    word = text.strip()
    if len(word) > MAX_DIGITS or not word.isascii():
        raise ValueError("expected real number")
    try:
        return float(word)
    except ValueError:
        raise ValueError("expected real number") from None


_TIME_UNITS = {
    "": 1.0, "s": 1.0, "sec": 1.0, "secs": 1.0,
    "ms": 1e-3, "msec": 1e-3, "us": 1e-6, "usec": 1e-6, "ns": 1e-9, "nsec": 1e-9,
    "m": 60.0, "min": 60.0, "h": 3600.0, "hr": 3600.0, "d": 86400.0, "day": 86400.0,
}
# A leading + is a sign, as Click's numbers take it.
_TIME = re.compile(r"\+?((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-z]*)\Z")


def _time_parser(bare_unit: float, what: str) -> Callable[[str], float]:
    """A duration in seconds; ``bare_unit`` is what a number without unit counts in."""

    def parse(text: str) -> float:
        word = text.strip()
        if word in ("inf", "infinity"):
            return math.inf
        m = _TIME.match(word) if len(word) <= MAX_DIGITS else None
        if not m or m.group(2) not in _TIME_UNITS:
            raise ValueError(f"expected {what}")
        scale = bare_unit if m.group(2) == "" else _TIME_UNITS[m.group(2)]
        return float(m.group(1)) * scale

    return parse


def _bound_text(value: float, unit: str) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{text}{unit}"


class Number:
    """A numeric argument type, with an optional declared range.

    ``INT``, ``UNSIGNED``, ``FLOAT`` and ``TIME`` are Numbers. An element
    declares the values it can live with, and Args refuses the others
    with a message saying what is allowed::

        cores = args.read("CORES", UNSIGNED.range(1, 4096), 8)
        step = args.read("STEP", TIME.range(1e-6, 1), 0.001)
        load = args.read("LOAD", FLOAT.range(0, 1, open_low=True), 0.6)

    Infinities and NaN are refused: a real number or a time is finite
    unless the type says otherwise (``TIME.or_infinite()``, written
    ``inf``); NaN is never a value. ``range_text()`` describes the range
    for manuals and messages.
    """

    def __init__(self, name: str, parse: Callable[[str], int | float], *, unit: str = "",
                 low: float | None = None, high: float | None = None, open_low: bool = False,
                 open_high: bool = False, infinite: bool = False,
                 declared: bool = False) -> None:
        self.name = name
        self.parse = parse
        #: Appended to the bounds in messages (`` s`` for times).
        self.unit = unit
        self.low, self.high = low, high
        self.open_low, self.open_high = open_low, open_high
        self.infinite = infinite
        #: Whether the element declared this range (``range()``), rather than
        #: taking the type's own (a time is never negative).
        self.declared = declared
        self._ranges: dict[tuple[float | None, float | None, bool, bool], Number] = {}

    def __call__(self, text: str, args: "Args | None") -> Any:
        value = self.parse(text)
        if isinstance(value, float) and math.isnan(value):
            raise ValueError(f"expected {self._noun()}, not NaN")
        if isinstance(value, float) and math.isinf(value) and not self.infinite:
            raise ValueError(f"expected finite {self._noun()}")
        if not self.contains(value):
            raise ValueError(f"must be {self.range_text()}")
        return value

    def range(self, low: float | None = None, high: float | None = None, *,
              open_low: bool = False, open_high: bool = False) -> "Number":
        """The same type restricted to ``low``..``high`` (inclusive unless open)."""
        if low is not None and high is not None and low > high:
            raise ValueError(f"empty range {low}..{high}")
        # Made once per range: elements ask for theirs at every configuration.
        # A range computed from arguments is made anew past the first few.
        key = (low, high, open_low, open_high)
        ranged = self._ranges.get(key)
        if ranged is None:
            ranged = self._copy(low=low, high=high, open_low=open_low, open_high=open_high,
                                declared=True)
            if len(self._ranges) < MAX_RANGES:
                self._ranges[key] = ranged
        return ranged

    def or_infinite(self) -> "Number":
        """The same type accepting ``inf`` (a time that never comes, a limit never reached)."""
        return self._copy(infinite=True)

    def contains(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.open_low else value < self.low):
            return False
        if self.high is not None and (value >= self.high if self.open_high
                                      else value > self.high):
            return False
        return True

    def range_text(self) -> str:
        """``at least 1 and at most 4096``, ``greater than 0``...; "" without range."""
        parts = []
        if self.low is not None:
            word = "greater than" if self.open_low else "at least"
            parts.append(f"{word} {_bound_text(self.low, self.unit)}")
        if self.high is not None:
            word = "less than" if self.open_high else "at most"
            parts.append(f"{word} {_bound_text(self.high, self.unit)}")
        return " and ".join(parts)

    def _noun(self) -> str:
        return "time" if self.unit else "real number"

    def _copy(self, **changes: Any) -> "Number":
        settings = dict(unit=self.unit, low=self.low, high=self.high, open_low=self.open_low,
                        open_high=self.open_high, infinite=self.infinite,
                        declared=self.declared)
        settings.update(changes)
        return Number(self.name, self.parse, **settings)

    def __repr__(self) -> str:
        text = self.range_text()
        return f"{self.name}({text})" if text else self.name


INT = Number("INT", _parse_int)
UNSIGNED = Number("UNSIGNED", _parse_unsigned)
FLOAT = Number("FLOAT", _parse_float)
#: A duration in seconds; a bare number is seconds (``10``, ``10ms``, ``2min``).
TIME = Number("TIME", _time_parser(1.0, "time (e.g. 10ms, 1s)"), unit=" s", low=0)
#: A duration in seconds where a bare number counts milliseconds (Click's TIMER).
MSEC = Number("MSEC", _time_parser(1e-3, "milliseconds or a time (e.g. 100, 100ms, 1s)"),
              unit=" s", low=0)


def STRING(text: str, args: "Args") -> str:
    return unquote(text)


def ANY(text: str, args: "Args | None") -> str:
    """The argument's text as it is written, quotes and all (Click's AnyArg)."""
    return text


def WORD(text: str, args: "Args") -> str:
    if len(split_words(text)) != 1:
        raise ValueError("expected a single word")
    return unquote(text)


def FILENAME(text: str, args: "Args") -> str:
    """A file name, as Click reads one: a single word (quotes may hold spaces),
    ``~`` or ``~user`` in front naming a home directory."""
    if len(split_words(text)) != 1:
        raise ValueError("expected a file name (one word: quote a name holding spaces)")
    name = unquote(text)
    if not name:
        raise ValueError("expected a file name")
    return os.path.expanduser(name) if name.startswith("~") else name


def ELEMENT(text: str, args: "Args") -> "Element":
    """An element name, looked up relative to the reading element's compound.

    The element found is added to ``args.references``.
    """
    name = unquote(text)
    if args.element is None:
        raise ValueError(f"no router to look up element '{shorten(name)}'")
    try:
        found = args.element.router.find(name, args.element)
    except NoSuchElement:
        raise ValueError(f"no element named '{shorten(name)}'") from None
    args.references.append(found)
    return found


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


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` as quoted in a message: at most ``limit`` characters, then its size."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…({len(text.encode('utf-8', 'surrogateescape'))} bytes)"


def _with_text(message: str, text: str) -> str:
    """Complete "expected ..." and "must be ..." with the text given (shortened)."""
    if message.startswith(("expected", "must be")):
        return f"{message}, got '{shorten(text.strip())}'"
    return message


# --- the reader ---------------------------------------------------------------

#: What Click takes for a keyword when it starts an argument and a value follows
#: it (``Args::reset_from``): a letter or ``_``, then letters, digits and ``_:.?!``.
_CLICK_KEYWORD = re.compile(r"([A-Za-z_][A-Za-z0-9_:.?!]*)[ \t\n\r\f\v]+\S")


@dataclass
class _Arg:
    raw: str
    keyword: str | None
    value: str
    consumed: bool = False
    #: The keyword Click would see in an argument that has none of ours
    #: (``my`` in ``my label``), else None.
    lookalike: str | None = None

    @property
    def bare(self) -> bool:
        """A lone all-caps word: a keyword without value, or a positional word."""
        return self.keyword is not None and self.value == ""


def _parse_arg(raw: str) -> _Arg:
    keyword = split_keyword(raw, ELEMENT_KEYWORD)
    if keyword:
        return _Arg(raw, *keyword)
    lookalike = _CLICK_KEYWORD.match(raw)
    return _Arg(raw, None, raw, lookalike=lookalike.group(1) if lookalike else None)


_MISSING = object()
#: A declared range: ``(low, high)``, either may be None.
Bounds = tuple["float | None", "float | None"]


def _ranged(type: ArgType, bounds: Bounds | None) -> ArgType:
    if bounds is None:
        return type
    if not isinstance(type, Number):
        raise TypeError(f"range= needs a Number type (INT, UNSIGNED, FLOAT, TIME), not {type!r}")
    return type.range(*bounds)


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
        #: Every element an ``ELEMENT`` argument named, in reading order.
        self.references: list[Element] = []
        self._args = [_parse_arg(a) for a in split_args(config)]
        #: The type each keyword was read with, in reading order (ranges
        #: included): what the manual and the argument tests know of it, and
        #: the keywords an unknown one is told of.
        self.declared: dict[str, ArgType] = {}
        # Positional arguments are the leading ones without a keyword value.
        self._npositional = next((i for i, a in enumerate(self._args)
                                  if a.keyword is not None and not a.bare), len(self._args))
        self._cursor = 0
        self._completed = False

    # --- reading
    # ``range=(low, high)`` restricts a Number type: ``read("CORES", UNSIGNED,
    # 8, range=(1, 4096))`` is ``read("CORES", UNSIGNED.range(1, 4096), 8)``.
    def read_mp(self, key: str, type: ArgType, *, range: Bounds | None = None) -> Any:
        """Mandatory argument, by keyword or at the next position."""
        return self._read(key, _ranged(type, range), None, positional=True, mandatory=True)

    def read_p(self, key: str, type: ArgType, default: Any = None, *,
               range: Bounds | None = None) -> Any:
        """Optional argument, by keyword or at the next position."""
        return self._read(key, _ranged(type, range), default, positional=True,
                          mandatory=False)

    def read_m(self, key: str, type: ArgType, *, range: Bounds | None = None) -> Any:
        """Mandatory keyword argument."""
        return self._read(key, _ranged(type, range), None, positional=False, mandatory=True)

    def read(self, key: str, type: ArgType, default: Any = None, *,
             range: Bounds | None = None) -> Any:
        """Optional keyword argument."""
        return self._read(key, _ranged(type, range), default, positional=False,
                          mandatory=False)

    def read_all(self, key: str, type: ArgType) -> list[Any]:
        """Every occurrence of a repeatable keyword, in order."""
        self._learn(key, type)
        values = []
        for arg in self._keyword_args(key):
            arg.consumed = True
            value = self._convert(key, arg.value, type)
            if value is not _MISSING:
                values.append(value)
        return values

    def has(self, key: str) -> bool:
        """Whether keyword ``key`` was given (does not read it)."""
        return bool(self._keyword_args(key))

    def rest(self) -> list[str]:
        """Every argument not read yet that is not a keyword argument, raw, in order.

        As in Click, these may stand after keyword arguments too
        (``Script(TYPE PASSIVE, return 1)``); they are marked read.
        """
        remaining = []
        for arg in self._args:
            if arg.consumed or (arg.keyword is not None and not arg.bare):
                continue
            if not (arg.bare and arg.keyword in self.declared):
                arg.consumed = True
                remaining.append(arg.raw)
        self._cursor = self._npositional
        return remaining

    def accept_rest(self) -> list[str]:
        """Every argument not read yet, keyword arguments included, raw, in order,
        marked read: for an element that takes any configuration (ClickyInfo)."""
        remaining = [arg.raw for arg in self._args if not arg.consumed]
        for arg in self._args:
            arg.consumed = True
        self._cursor = self._npositional
        return remaining

    def complete(self) -> "Args":
        """Raise a ConfigError holding every error of this configuration, if any."""
        if not self._completed:
            self._completed = True
            for arg in self._args:
                if arg.consumed:
                    continue
                keyword = arg.keyword or arg.lookalike
                if keyword is not None and not (arg.bare and self._positional_slot(arg)):
                    self._error(f"{shorten(keyword)}: unknown keyword{self._keyword_hint()}")
                else:
                    self._error(f"too many arguments: '{shorten(arg.raw)}'")
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
        return f" (known: {', '.join(self.declared)})" if self.declared else ""

    # --- internals
    def _learn(self, key: str, type: ArgType) -> None:
        self.declared.setdefault(key, type)

    def _keyword_args(self, key: str) -> list[_Arg]:
        """The arguments given with keyword ``key`` and not read yet, in order."""
        return [a for a in self._args if a.keyword == key and not a.consumed]

    def _positional_slot(self, arg: _Arg) -> bool:
        return self._args.index(arg) < self._npositional

    def _read(self, key: str, type: ArgType, default: Any, *, positional: bool,
              mandatory: bool) -> Any:
        self._learn(key, type)
        found = self._keyword_args(key)
        text: str | None = None
        if found:
            for arg in found:
                arg.consumed = True
            text = found[-1].value
        if positional:
            # As in Click, a positional argument takes its place even when its
            # keyword is given too: the keyword's value wins, the place is used up.
            arg = self._next_positional(mandatory and not found)
            if arg is not None:
                arg.consumed = True
                if not found:
                    text = arg.raw
        if text is None:
            if mandatory:
                self._error(f"{key}: missing mandatory argument")
            return default
        value = self._convert(key, text, type)
        return default if value is _MISSING else value

    def _next_positional(self, lookalike: bool) -> _Arg | None:
        """The next positional argument; one that looks like a keyword to Click only
        when ``lookalike`` (a mandatory read whose keyword is not given: it stays in
        place for the next read otherwise)."""
        while self._cursor < self._npositional:
            arg = self._args[self._cursor]
            if arg.lookalike is not None and not arg.consumed and not lookalike:
                return None
            self._cursor += 1
            if not arg.consumed and not (arg.bare and arg.keyword in self.declared):
                return arg
        return None

    def _convert(self, key: str, text: str, type: ArgType) -> Any:
        try:
            return type(text, self)
        except ValueError as err:
            self._error(f"{key}: {_with_text(str(err), text)}")
            return _MISSING
