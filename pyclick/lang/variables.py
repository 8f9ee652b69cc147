"""Configuration variables (``$NAME``) and their expansion in configuration strings.

Click's rules: ``$NAME`` and ``${NAME}`` expand to the variable's value,
``${NAME-DEFAULT}`` to DEFAULT when NAME is not defined and ``${NAME[i]}``
to the i-th space-separated word of the value. Nothing expands inside
single quotes; inside double quotes the value is backslash-escaped so that
it reads back as itself. Undefined variables, ``$(...)`` expressions (read
later by elements such as Script) and ``$?``, ``$#``, ``$$`` are left as
written. Values are expanded in turn, up to a fixed depth, so a cycle of
definitions stops instead of looping.
"""

from __future__ import annotations

import re

from pyclick.lang.configstr import comment_at, quote_inside_double, skip_comment, split_words

#: How many levels of variables-within-values are expanded.
MAX_DEPTH = 10
#: The longest string an expansion may produce.
MAX_LENGTH = 1_000_000

_NAME = re.compile(r"[A-Za-z0-9_]+")
_BRACED = re.compile(r"\s*([A-Za-z0-9_]*)\s*(?:\[\s*(\d+)\s*\]\s*)?(-)?")


class ExpansionTooLong(Exception):
    """An expansion grew past MAX_LENGTH characters."""


class Environment:
    """The variables visible in one scope: its own over its lexical parent's.

    ``depth`` is the nesting level of the scope (0 for the file), so that a
    compound instantiated deep inside others still sees the variables of
    the scope it was defined in, not those of the scope it is used in.
    """

    def __init__(self, values: dict[str, str], parent: "Environment | None" = None,
                 depth: int = 0):
        self.values = values
        self.parent = parent
        self.depth = depth
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

        Raises ExpansionTooLong past MAX_LENGTH characters.
        """
        if "$" not in text:
            return text
        return _Expansion(self, text, depth).run()

    def _value(self, reference: str, braced: bool, depth: int) -> str | None:
        """What ``$reference`` (``${reference}`` when braced) expands to, or None."""
        key = (reference, braced, depth)
        if key not in self._known:
            self._known[key] = self._work_out(reference, braced, depth)
        return self._known[key]

    def _work_out(self, reference: str, braced: bool, depth: int) -> str | None:
        name, index, default = reference, None, None
        if braced:
            match = _BRACED.match(reference)
            name = match.group(1)
            index = int(match.group(2)) if match.group(2) is not None else None
            if match.group(3):
                default = reference[match.end():]
        value = self.lookup(name)
        if value is None:
            return None if default is None else self.expand(default, depth + 1)
        value = self.expand(value, depth + 1)
        if index is None:
            return value
        words = split_words(value)
        return words[index] if index < len(words) else ""


class _Expansion:
    """One pass over a configuration string, copying it with references replaced."""

    def __init__(self, env: Environment, text: str, depth: int):
        self.env = env
        self.text = text
        self.depth = depth
        self.out: list[str] = []
        self.length = 0
        self.copied = 0

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
        if value is None and not renamed:
            return end
        self.out.append(self.text[self.copied:start])
        if value is None:
            value = f"${brackets[0]}{reference}{brackets[1]}"
        elif quote == '"':
            value = quote_inside_double(value)
        self.out.append(value)
        self.length += len(value) + start - self.copied
        if self.length > MAX_LENGTH:
            raise ExpansionTooLong()
        self.copied = end
        return end


def _closing_paren(text: str, i: int) -> int | None:
    """The index of the ``)`` that balances an opening just before ``i``."""
    level, quote = 1, None
    n = len(text)
    while i < n:
        c = text[i]
        if c in "'\"":
            quote = c if quote is None else (None if quote == c else quote)
        elif c == "\\" and quote != "'":
            i += 1
        elif quote is None and c == "(":
            level += 1
        elif quote is None and c == ")":
            level -= 1
            if level == 0:
                return i
        i += 1
    return None
