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

_DIRECTIVE = re.compile(r'#[ \t]*(?:line[ \t]+)?(\d+)[ \t]*(?:"((?:\\.|[^"\\])*)"?)?')


class LineMap:
    """Maps raw line numbers of one text to landmarks."""

    def __init__(self, filename: str):
        self.filename = filename
        self._raw_lines: list[int] = []
        self._targets: list[tuple[str, int]] = []

    def directive(self, raw_line: int, text: str) -> bool:
        """Apply the directive ``text`` found on ``raw_line``; false if it is not one."""
        match = _DIRECTIVE.match(text)
        if not match:
            return False
        number, name = match.groups()
        if name is None:
            file = self.landmark(raw_line).file
        else:
            file = re.sub(r"\\(.)", r"\1", name) or self.filename
        self._raw_lines.append(raw_line)
        self._targets.append((file, int(number)))
        return True

    def landmark(self, raw_line: int) -> Landmark:
        """The landmark of the text's line ``raw_line`` (1-based)."""
        at = bisect.bisect_left(self._raw_lines, raw_line) - 1
        if at < 0:
            return Landmark(self.filename, raw_line)
        file, number = self._targets[at]
        return Landmark(file, number + raw_line - self._raw_lines[at] - 1)
