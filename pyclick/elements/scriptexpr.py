"""The text layer of Script: ``$`` substitutions and its functions.

Substitution follows Click's Script: ``$name`` and ``${name}`` are script
variables (left as written when undefined, so a typo shows), ``$(handler
args...)`` is replaced by the handler's value, and both nest. Single quotes
protect text from substitution; double quotes do not, but a value put
between double quotes is escaped there, so that removing the quotes gives
it back as it was (``print`` quotes the values it puts outside quotes
too). The functions (``add``, ``lt``, ``sprintf``...) are what ``$(add 1
2)`` calls when the name has no element part.

Every mistake in a function's arguments (a word that is not a number, NaN,
an infinity, a division by zero, a result too large to write) is a
:class:`ScriptError`, which the instruction reports (ending the script
only for the instructions that cannot go on without it), never the router.
"""

from __future__ import annotations

import math
import re
from typing import Callable

from pyclick.args import BOOL, shorten, split_words, unquote
from pyclick.lang.configstr import quote_inside_double

_NAME = re.compile(r"[A-Za-z0-9_]+")
_SPECIAL_VARIABLES = "?#$"
#: Longest number a function reads, in characters (a double has 309 digits).
MAX_NUMBER_TEXT = 400
#: Widest field or precision sprintf accepts: the text it makes stays small.
MAX_FORMAT_WIDTH = 4096
_FORMAT_SIZES = re.compile(r"%[-+ #0]*(\*|\d*)(?:\.(\*|\d*))?")

Number = int | float
#: A variable's value, or a ``$(...)``'s; None leaves the text as written.
Lookup = Callable[[str], "str | None"]
Call = Callable[[str], "str | None"]


class ScriptError(ValueError):
    """A script instruction or function could not be carried out."""


# --- words
def split_first(text: str) -> tuple[str, str]:
    """The first word and the rest (stripped) of ``text``."""
    parts = text.strip().split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


# --- substitution
def expand(text: str, variable: Lookup, call: Call, quote_all: bool = False) -> str:
    """Substitute variables and ``$(...)`` handler values in ``text``: escaped
    between double quotes, and elsewhere double-quoted with ``quote_all``."""
    out: list[str] = []
    i, n = 0, len(text)
    in_double = False
    while i < n:
        c = text[i]
        if c == "'" and not in_double:
            end = text.find("'", i + 1)
            end = n - 1 if end < 0 else end
            out.append(text[i:end + 1])
            i = end + 1
        elif c == '"':
            in_double = not in_double
            out.append(c)
            i += 1
        elif c == "\\" and in_double and i + 1 < n:
            out.append(text[i:i + 2])
            i += 2
        elif c == "$":
            start = i
            value, i = _substitution(text, i, variable, call)
            if value is None:
                out.append(text[start:i])
            elif in_double or quote_all:
                escaped = quote_inside_double(value)
                out.append(escaped if in_double else f'"{escaped}"')
            else:
                out.append(value)
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _substitution(text: str, i: int, variable: Lookup, call: Call) -> tuple[str | None, int]:
    """Expand the ``$`` construct at ``i``: its value (None when it stays as
    written) and where it ends."""
    nxt = text[i + 1:i + 2]
    if nxt == "(":
        end = _closing_paren(text, i + 1)
        inner = expand(text[i + 2:end], variable, call)
        return call(inner), end + 1
    if nxt == "{":
        end = text.find("}", i + 2)
        if end < 0:
            raise ScriptError(f"unterminated '${{' in '{text}'")
        return variable(text[i + 2:end]), end + 1
    if nxt and nxt in _SPECIAL_VARIABLES:
        return variable(nxt), i + 2
    match = _NAME.match(text, i + 1)
    if match is None:
        return None, i + 1
    return variable(match.group()), match.end()


def _closing_paren(text: str, start: int) -> int:
    """Index of the ``)`` matching the ``(`` at ``start`` (quotes respected)."""
    depth = 0
    quote = ""
    i = start
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ScriptError(f"unterminated '$(' in '{text}'")


# --- values
def parse_bool(text: str) -> bool:
    try:
        return BOOL(unquote(text.strip()), None)  # type: ignore[arg-type]
    except ValueError:
        raise ScriptError(f"expected true or false, got '{text}'") from None


def unparse_bool(value: bool) -> str:
    return "true" if value else "false"


_INT64_MIN, _INT64_MAX = -2**63, 2**63 - 1
_OCTAL_WORD = re.compile(r"([+-]?)0([0-7_]+)")


def parse_number(text: str) -> Number:
    """A number as Click's Script reads one: a 64-bit integer (decimal, ``0x``
    hex, ``0b`` binary, ``0``-led octal) when the word is one, else a finite
    real number; ScriptError for anything else."""
    word = unquote(text.strip())
    if len(word) <= MAX_NUMBER_TEXT and word.isascii():
        for convert in (_integer, float):
            try:
                value = convert(word)
            except ValueError:
                continue
            if isinstance(value, float) and not math.isfinite(value):
                raise ScriptError(f"expected a finite number, got '{shorten(text)}'")
            # An integer beyond 64 bits is read as the real number it names.
            return value if _INT64_MIN <= value <= _INT64_MAX else float(value)
    raise ScriptError(f"expected a number, got '{shorten(text)}'")


def _integer(word: str) -> int:
    octal = _OCTAL_WORD.fullmatch(word)
    if octal:
        return int(octal.group(1) + octal.group(2), 8)
    try:
        return int(word, 10)
    except ValueError:
        return int(word, 0)


def _wrap(value: int) -> int:
    """A 64-bit integer result, wrapped around as Click's arithmetic wraps it."""
    return (value - _INT64_MIN) % 2**64 + _INT64_MIN


def unparse_number(value: Number) -> str:
    """Integers in full, real numbers with 12 significant digits (Click's ``%.12g``)."""
    if isinstance(value, int):
        if value.bit_length() > MAX_NUMBER_TEXT * 3:
            raise ScriptError("result too large")
        return str(value)
    return f"{value:.12g}"


def _numbers(args: list[str], name: str, at_least: int = 1) -> list[Number]:
    if len(args) < at_least:
        raise ScriptError(f"{name}: expected at least {at_least} number(s)")
    return [parse_number(a) for a in args]


def _exactly(args: list[str], name: str, count: int) -> list[str]:
    if len(args) != count:
        raise ScriptError(f"{name}: expected {count} argument(s), got {len(args)}")
    return args


def _fold(name: str, op: Callable[[Number, Number], Number]) -> Callable[[list[str]], str]:
    """Click's arithmetic over a list: the first number, then ``op`` with each
    next one; 64-bit integers (wrapping around) until a number is real, real
    numbers from there on (always, for ``div`` and ``idiv``). No number
    gives 0 (``add``, ``sub``) or 1; ``idiv`` truncates the real quotient."""
    real = name in ("div", "idiv")

    def run(args: list[str]) -> str:
        result: Number = 0 if name in ("add", "sub") else 1
        floating = real
        for index, word in enumerate(args):
            value = parse_number(word)
            floating = floating or isinstance(value, float)
            if floating:
                result, value = float(result), float(value)
            result = value if index == 0 else op(result, value)
            if not floating:
                result = _wrap(int(result))
        if name == "idiv":
            return str(_wrap(math.trunc(result)))
        return unparse_number(float(result) if real else result)
    return run


def _divide(name: str) -> Callable[[Number, Number], Number]:
    def divide(a: Number, b: Number) -> Number:
        if b == 0:
            raise ScriptError(f"{name}: division by zero")
        return a / b
    return divide


def _c_remainder(a: int, b: int) -> int:
    """C's ``a % b``: the sign of the dividend."""
    rest = abs(a) % abs(b)
    return -rest if a < 0 else rest


def _mod(args: list[str]) -> str:
    a, b = (parse_number(x) for x in _exactly(args, "mod", 2))
    if not isinstance(a, int) or not isinstance(b, int):
        raise ScriptError("mod: expected integers")
    if b == 0:
        raise ScriptError("mod: division by zero")
    return str(_wrap(_c_remainder(a, b)))


def _rem(args: list[str]) -> str:
    a, b = (parse_number(x) for x in _exactly(args, "rem", 2))
    if b == 0:
        raise ScriptError("rem: division by zero")
    if isinstance(a, int) and isinstance(b, int):
        return str(_wrap(_c_remainder(a, b)))
    return unparse_number(math.fmod(a, b))


def _unary(name: str, op: Callable[[Number], Number]) -> Callable[[list[str]], str]:
    def run(args: list[str]) -> str:
        value = op(parse_number(_exactly(args, name, 1)[0]))
        return unparse_number(_wrap(value) if isinstance(value, int) else value)
    return run


def _compare(name: str, op: Callable[[object, object], bool]) -> Callable[[list[str]], str]:
    def run(args: list[str]) -> str:
        a, b = _exactly(args, name, 2)
        try:
            return unparse_bool(op(parse_number(a), parse_number(b)))
        except ScriptError:
            return unparse_bool(op(unquote(a).encode(), unquote(b).encode()))
    return run


def _logic(settles: bool, negate: bool) -> Callable[[list[str]], str]:
    """and/or and their negations: the words are read in order until one is
    ``settles`` (false for and, true for or); the words after it are not read."""
    def run(args: list[str]) -> str:
        value = not settles
        for word in args:
            if parse_bool(word) == settles:
                value = settles
                break
        return unparse_bool(value != negate)
    return run


def _if(args: list[str]) -> str:
    """``if COND THEN [ELSE]``: the word chosen, empty when missing."""
    if not args:
        raise ScriptError("if: expected a condition")
    chosen = 1 if parse_bool(args[0]) else 2
    return args[chosen] if chosen < len(args) else ""


def _in(args: list[str]) -> str:
    """Whether the first word, unquoted, is one of the others (false without one)."""
    words = [unquote(a) for a in args]
    return unparse_bool(bool(words) and words[0] != "" and words[0] in words[1:])


def _sprintf(args: list[str]) -> str:
    if not args:
        return ""
    for match in _FORMAT_SIZES.finditer(unquote(args[0])):
        for size in match.groups(""):
            if size == "*" or (size and int(size) > MAX_FORMAT_WIDTH):
                raise ScriptError("sprintf: field widths and precisions are numbers up to "
                                  f"{MAX_FORMAT_WIDTH}")
    values: list[object] = []
    for arg in args[1:]:
        try:
            values.append(parse_number(arg))
        except ScriptError:
            values.append(unquote(arg))
    try:
        return unquote(args[0]) % tuple(values)
    except (TypeError, ValueError) as err:
        raise ScriptError(f"sprintf: {err}") from None


#: An integer as Click's byte-order functions read one: a sign, then decimal,
#: 0x hex, 0b binary or 0-led octal digits.
_C_INTEGER = re.compile(r"([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)\Z")


def _c_int(name: str, text: str) -> int:
    """One integer, held to the 32-bit signed range as Click holds it."""
    match = _C_INTEGER.match(text.strip())
    if match is None or len(text) > MAX_NUMBER_TEXT:
        raise ScriptError(f"{name}: expected one integer, got '{shorten(text.strip())}'")
    sign, digits = match.groups()
    value = int(sign + digits, 8 if re.fullmatch("0[0-7]+", digits) else 0)
    return max(-2**31, min(2**31 - 1, value))


def _swap(name: str, size: int) -> Callable[[str], str]:
    """htons and the like: the integer's low ``size`` bytes in the other byte order."""

    def swap(text: str) -> str:
        low = _c_int(name, text) & ((1 << 8 * size) - 1)
        return str(int.from_bytes(low.to_bytes(size, "big"), "little"))

    return swap


def _first(text: str) -> str:
    words = split_words(text)
    return words[0] if words else ""


def _count(args: list[str]) -> str:
    return str(len(args))


def _popcount(args: list[str]) -> str:
    return str(sum(1 for v in _numbers(args, "popcount", 0) if v != 0))


def _avg(args: list[str]) -> str:
    values = _numbers(args, "avg")
    return unparse_number(sum(values) / len(values))


_ON_WORDS: dict[str, Callable[[list[str]], str]] = {
    "add": _fold("add", lambda a, b: a + b),
    "sub": _fold("sub", lambda a, b: a - b),
    "mul": _fold("mul", lambda a, b: a * b),
    "div": _fold("div", _divide("div")),
    "idiv": _fold("idiv", _divide("idiv")),
    "mod": _mod,
    "rem": _rem,
    "min": _fold("min", min),
    "max": _fold("max", max),
    "avg": _avg,
    "neg": _unary("neg", lambda a: -a),
    "abs": _unary("abs", abs),
    "ceil": _unary("ceil", math.ceil),
    "floor": _unary("floor", math.floor),
    "count": _count,
    "popcount": _popcount,
    "eq": _compare("eq", lambda a, b: a == b),
    "ne": _compare("ne", lambda a, b: a != b),
    "lt": _compare("lt", lambda a, b: a < b),   # type: ignore[operator]
    "gt": _compare("gt", lambda a, b: a > b),   # type: ignore[operator]
    "le": _compare("le", lambda a, b: a <= b),  # type: ignore[operator]
    "ge": _compare("ge", lambda a, b: a >= b),  # type: ignore[operator]
    "not": lambda args: unparse_bool(not parse_bool(_exactly(args, "not", 1)[0])),
    "and": _logic(False, negate=False),
    "or": _logic(True, negate=False),
    "nand": _logic(False, negate=True),
    "nor": _logic(True, negate=True),
    "if": _if,
    "in": _in,
    "sprintf": _sprintf,
}

def _guarded(name: str, fn: Callable[[str], str]) -> Callable[[str], str]:
    """``fn`` with every arithmetic or conversion failure turned into a ScriptError."""

    def run(text: str) -> str:
        try:
            return fn(text)
        except ScriptError:
            raise
        except (ArithmeticError, ValueError, TypeError) as err:
            raise ScriptError(f"{name}: {err}") from None

    return run


#: Functions by name, each taking its raw argument text.
FUNCTIONS: dict[str, Callable[[str], str]] = {
    **{name: _guarded(name, (lambda fn: lambda text: fn(split_words(text)))(fn))
       for name, fn in _ON_WORDS.items()},
    "length": lambda text: str(len(text)),
    "unquote": unquote,
    "first": _first,
    "htons": _swap("htons", 2),
    "ntohs": _swap("ntohs", 2),
    "htonl": _swap("htonl", 4),
    "ntohl": _swap("ntohl", 4),
}
