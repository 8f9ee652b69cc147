"""Line directives: from a line of the text to the landmark errors should show.

A Click file may carry C preprocessor-style directives at the start of a
line, ``# 100 "file.click"`` or ``#line 200``; the line after a directive
is reported as that number (in that file, when one is named, and in the
original file again for an empty name).
"""

from __future__ import annotations

import bisect
import re

from pyclick.errors import Landmark

#: A directive's line number has at most this many digits.
MAX_LINE_DIGITS = 9
#: A directive's file name has at most this many characters.
MAX_NAME_LENGTH = 4096

_DIRECTIVE = re.compile(r'#[ \t]*(?:line[ \t]+)?([0-9]+)[ \t]*(?:"((?:\\.|[^"\\])*)"?)?')
#: In a configuration string: what a directive cannot start in (a quoted
#: string, a comment, hex data), or a directive, a line starting with ``#``.
_CONFIG_PARTS = re.compile(r'''"(?:[^"\\]|\\<[^>]*>?|\\.)*"?|'[^']*'?|//[^\n]*|/\*.*?(?:\*/|\Z)'''
                           r'''|\\<[^>]*>?|^\#[^\n]*''', re.S | re.M)


def directives_in(config: str) -> list[re.Match[str]]:
    """The line directives inside a configuration string's text (Click reads them
    there too, and leaves them out of the string)."""
    return [part for part in _CONFIG_PARTS.finditer(config) if part.group().startswith("#")]


class LineMap:
    """Maps raw line numbers of one text to landmarks."""

    def __init__(self, filename: str):
        self.filename = filename
        self._raw_lines: list[int] = []
        self._targets: list[tuple[str, int]] = []
        # Every token asks for its line's landmark: one object per line.
        self._known: dict[int, Landmark] = {}

    def directive(self, raw_line: int, text: str) -> str | None:
        """Apply the directive ``text`` found on ``raw_line``; what is wrong with it, if any."""
        match = _DIRECTIVE.match(text)
        if not match:
            return "unknown preprocessor directive"
        number, name = match.groups()
        if len(number.lstrip("0")) > MAX_LINE_DIGITS:
            return f"line number in directive has more than {MAX_LINE_DIGITS} digits"
        if name is not None and len(name) > MAX_NAME_LENGTH:
            return f"file name in directive longer than {MAX_NAME_LENGTH} characters"
        if name is None:
            file = self.landmark(raw_line).file
        else:
            file = re.sub(r"\\(.)", r"\1", name) or self.filename
        # In text order, though a directive in a configuration string is
        # applied once the parser is past the directives after it.
        at = bisect.bisect(self._raw_lines, raw_line)
        self._raw_lines.insert(at, raw_line)
        self._targets.insert(at, (file, int(number)))
        self._known.clear()
        return None

    def landmark(self, raw_line: int) -> Landmark:
        """The landmark of the text's line ``raw_line`` (1-based)."""
        known = self._known.get(raw_line)
        if known is not None:
            return known
        at = bisect.bisect_left(self._raw_lines, raw_line) - 1
        if at < 0:
            landmark = Landmark(self.filename, raw_line)
        else:
            file, number = self._targets[at]
            landmark = Landmark(file, number + raw_line - self._raw_lines[at] - 1)
        self._known[raw_line] = landmark
        return landmark
