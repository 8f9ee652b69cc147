"""Configuration variables (``$NAME``) and their expansion in configuration strings.

Click's rules: ``$NAME`` and ``${NAME}`` expand to the variable's value,
``${NAME-DEFAULT}`` to DEFAULT when NAME is not defined and ``${NAME[i]}``
to the i-th space-separated word of the value. Nothing expands inside
single quotes; inside double quotes the value is backslash-escaped so that
it reads back as itself. Undefined variables, ``$(...)`` expressions (read
later by elements such as Script) and ``$?``, ``$#``, ``$$`` are left as
written. Values are expanded in turn, up to a fixed depth, so a cycle of
definitions stops instead of looping.

The index of ``${NAME[i]}`` is read as Click reads it: spaces may follow
the ``[`` but not precede the ``]``; the number is a C integer (a sign,
``0x`` for hexadecimal, ``0b`` for binary, a leading ``0`` for octal,
single underscores between digits) that saturates at 32 bits; a negative
index, or anything but a number closed by ``]``, means the whole value. A
``-`` where the index reading stopped starts the default. An index past
the last word gives an empty word, and a configuration string whose
references all expand to empty words with nothing before them is kept as
written, references included (``${X[5]}`` stays ``${X[5]}``, while
``a${X[5]}`` becomes ``a``), as Click keeps it.
"""

from __future__ import annotations

import re

from pyclick.lang.configstr import comment_at, quote_inside_double, skip_comment, split_words
from pyclick.lang.limits import Budget

#: How many levels of variables-within-values are expanded.
MAX_DEPTH = 10
#: The longest string an expansion may produce.
MAX_LENGTH = 1_000_000

_NAME = re.compile(r"[A-Za-z0-9_]+")
_NAME_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
#: Spaces as C's isspace() knows them.
_SPACES = " \t\n\v\f\r"
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_INT_MAX = 2**31 - 1
#: A number with more significant digits than this is past 32 bits in any base.
_SATURATED_DIGITS = 33


class ExpansionTooLong(Exception):
    """An expansion grew past MAX_LENGTH characters."""


class Environment:
    """The variables visible in one scope: its own over its lexical parent's.

    ``depth`` is the nesting level of the scope (0 for the file), so that a
    compound instantiated deep inside others still sees the variables of
    the scope it was defined in, not those of the scope it is used in.
    Every expansion is charged to ``budget`` (the parent's when not given).
    """

    def __init__(self, values: dict[str, str], parent: "Environment | None" = None,
                 depth: int = 0, budget: Budget | None = None):
        self.values = values
        self.parent = parent
        self.depth = depth
        self.budget = budget or (parent.budget if parent is not None else Budget())
        # Values never change, so each reference is worked out once per
        # depth: without this, a value using a variable n times costs n**depth.
        self._known: dict[tuple[str, bool, int], str | None] = {}

    def lookup(self, name: str) -> str | None:
        env: Environment | None = self
        while env is not None:
            if name in env.values:
                return env.values[name]
            env = env.parent
        return None

    def outside(self, depth: int) -> "Environment | None":
        """The innermost enclosing environment (or this one) shallower than ``depth``."""
        env: Environment | None = self
        while env is not None and env.depth >= depth:
            env = env.parent
        return env

    def expand(self, text: str, depth: int = 0) -> str:
        """``text`` with its variable references replaced.

        Raises ExpansionTooLong past MAX_LENGTH characters, and LimitExceeded
        when the flattening's expansions together pass their limit.
        """
        if "$" not in text:
            return text
        expanded = _Expansion(self, text, depth).run()
        self.budget.add_expanded(len(expanded))
        return expanded

    def _value(self, reference: str, braced: bool, depth: int) -> str | None:
        """What ``$reference`` (``${reference}`` when braced) expands to, or None."""
        key = (reference, braced, depth)
        if key not in self._known:
            self._known[key] = self._work_out(reference, braced, depth)
        return self._known[key]

    def _work_out(self, reference: str, braced: bool, depth: int) -> str | None:
        name, index, default = braced_parts(reference) if braced else (reference, None, None)
        value = self.lookup(name)
        if value is None:
            return None if default is None else self.expand(default, depth + 1)
        value = self.expand(value, depth + 1)
        if index is None:
            return value
        words = split_words(value)
        return words[index] if index < len(words) else ""


def braced_parts(reference: str) -> tuple[str, int | None, str | None]:
    """The name, word index and default of ``${reference}``, read as Click reads them.

    The index is None for the whole value, the default None when there is none.
    """
    n = len(reference)
    i = _skip_spaces(reference, 0)
    start = i
    while i < n and reference[i] in _NAME_CHARACTERS:
        i += 1
    name = reference[start:i]
    i = _skip_spaces(reference, i)
    index = None
    if i < n and reference[i] == "[":
        number_start = _skip_spaces(reference, i + 1)
        number, i = c_integer(reference, number_start)
        if number_start < i < n and reference[i] == "]":
            i = _skip_spaces(reference, i + 1)
            index = number if number >= 0 else None
    default = reference[i + 1:] if i < n and reference[i] == "-" else None
    return name, index, default


def c_integer(text: str, begin: int) -> tuple[int, int]:
    """Click's reading of a signed 32-bit integer at ``text[begin]``: its value and end.

    The end is ``begin`` when no number starts there. The base comes from
    the prefix (``0x`` hexadecimal, ``0b`` binary, ``0`` octal, else
    decimal), single underscores may separate digits, and values past 32
    bits saturate.
    """
    n = len(text)
    i = begin
    if i < n and text[i] in "+-":
        i += 1
    if i + 2 < n and text[i] == "0" and text[i + 1] in "xXbB":
        base = 16 if text[i + 1] in "xX" else 2
        i += 2
    else:
        base = 8 if i < n and text[i] == "0" else 10
    digits = _DIGITS[:base]
    first = i
    last = first - 1
    while i < n:
        if text[i] == "_" and last == i:
            pass
        elif text[i].isascii() and text[i].lower() in digits:
            last = i + 1
        else:
            break
        i += 1
    if i != first:
        end = last
    elif first > begin + 1:
        # "0x" or "0b" with no digit after it: the "0" alone is the number.
        end = first - 1
    else:
        return 0, begin
    significant = "".join(c for c in text[first:end] if c != "_").lstrip("0") or "0"
    if len(significant) > _SATURATED_DIGITS:
        magnitude = _INT_MAX + 1
    else:
        magnitude = int(significant, base) if end > first else 0
    if text[begin] == "-":
        return -min(magnitude, _INT_MAX + 1), end
    return min(magnitude, _INT_MAX), end


def _skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i] in _SPACES:
        i += 1
    return i


class _Expansion:
    """One pass over a configuration string, copying it with references replaced."""

    def __init__(self, env: Environment, text: str, depth: int):
        self.env = env
        self.text = text
        self.depth = depth
        self.out: list[str] = []
        self.length = 0
        self.copied = 0
        #: Whether Click's expansion would have written anything by now (see run).
        self.wrote = False

    def run(self) -> str:
        text, n = self.text, len(self.text)
        quote = None
        i = 0
        while i < n:
            c = text[i]
            if c == "\\" and quote == '"':
                i += 2
            elif c in "'\"":
                quote = c if quote is None else (None if quote == c else quote)
                i += 1
            elif quote is None and comment_at(text, i):
                i = skip_comment(text, i)
            elif c == "$" and quote != "'" and self.depth <= MAX_DEPTH and i + 1 < n:
                end = self._reference(i, quote)
                if end is None:
                    break
                i = end
            else:
                i += 1
        if not self.wrote:
            # Click's quirk: when the references found wrote nothing (each
            # expanded to an empty string with nothing before it), the
            # configuration string is kept as written, references included.
            return text
        self.out.append(text[self.copied:])
        return "".join(self.out)

    def _reference(self, start: int, quote: str | None) -> int | None:
        """Expand the reference at ``start`` if it is one; where to go on (None: stop)."""
        text = self.text
        after = text[start + 1]
        if after == "{":
            close = text.find("}", start + 2)
            if close < 0:
                return None
            return self._replace(start, close + 1, text[start + 2:close], "{}", quote)
        if after == "(":
            close = _closing_paren(text, start + 2)
            if close is None:
                return None
            return self._replace(start, close + 1, text[start + 2:close], "()", quote)
        match = _NAME.match(text, start + 1)
        if match:
            return self._replace(start, match.end(), match.group(), "", quote)
        if after in "?#$":
            return self._replace(start, start + 2, after, "", quote)
        return start + 1

    def _replace(self, start: int, end: int, reference: str, brackets: str,
                 quote: str | None) -> int:
        env, depth = self.env, self.depth
        renamed = brackets and "$" in reference
        if renamed:
            reference = env.expand(reference, depth + 1)
        value = env._value(reference, brackets == "{}", depth)
        # Click writes out what comes before a reference, whether it expands or not.
        before = self.length + start - self.copied
        if value is None and not renamed:
            self.wrote = self.wrote or before > 0
            return end
        self.out.append(self.text[self.copied:start])
        if value is None:
            value = f"${brackets[0]}{reference}{brackets[1]}"
        elif quote == '"':
            value = quote_inside_double(value)
        self.wrote = self.wrote or before > 0 or value != ""
        self.out.append(value)
        self.length += len(value) + start - self.copied
        if self.length > MAX_LENGTH:
            raise ExpansionTooLong()
        self.copied = end
        return end


def _closing_paren(text: str, i: int) -> int | None:
    """The index of the ``)`` that ends a ``$(`` opened just before ``i``, as Click finds it.

    Quotes hide parentheses and a backslash outside single quotes hides the
    character after it. When the text ends before the parentheses balance,
    a ``)`` as its last character still ends the reference (Click's reading).
    """
    level, quote = 1, None
    n = len(text)
    start = i
    while i < n and level:
        c = text[i]
        if c in "'\"":
            quote = c if quote is None else (None if quote == c else quote)
        elif c == "\\":
            if i + 1 < n and quote != "'":
                i += 1
        elif quote is None and c == "(":
            level += 1
        elif quote is None and c == ")":
            level -= 1
        i += 1
    if i == start or text[i - 1] != ")":
        return None
    return i - 1
