"""Writing a flat graph back as Click text (what ``pyclick -o`` prints).

The text is laid out as Click writes a router: one ``require`` statement,
a blank line, every element declared (``name :: Class(config);``), a blank
line, then the connections (``a [1] -> [2] b;``) in their order, joined
into chains where a connection into port 0 continues from output 0; read
back with :func:`pyclick.lang.flatten`, it gives the same graph. (Flat text cannot
say it when a class bears the name of an element, nor keep a configuration
string whose parentheses an expanded variable left unbalanced.)
"""

from __future__ import annotations

import functools
import re
from typing import Mapping, Sequence

from pyclick.lang.chainline import LINE_CONFIG, PLAIN_CONFIG, SPREAD_CONFIG
from pyclick.lang.configstr import quote_inside_double
from pyclick.lang.model import FlatConfig, FlatConnection

_PLAIN_WORD = re.compile(r"[A-Za-z0-9_.:/@+-]+")
_PLAIN_CONFIG = re.compile(PLAIN_CONFIG)


def unparse(flat: FlatConfig, current: Mapping[str, str] | None = None) -> str:
    """Click text for ``flat``: requirements, declarations, then connections;
    ``current`` gives elements' configurations as they are now, by name (a
    running router's, some changed by handlers)."""
    lines = []
    if flat.requirements:
        items = ", ".join(_requirement(kind, value) for kind, value in flat.requirements)
        lines += [f"require({items});", ""]
    # Compound instances repeat their elements' configurations: each is looked at once.
    configs: dict[str, str] = {}
    for e in flat.elements:
        text = current.get(e.name, e.config) if current else e.config
        config = configs.get(text)
        if config is None:
            config = configs[text] = _config(text)
        lines.append(f"{e.name} :: {e.class_name}{config};")
    if flat.elements:
        lines.append("")
    lines += _chains(flat.connections)
    return "".join(line + "\n" for line in lines)


def _requirement(kind: str, value: str) -> str:
    word = value if _PLAIN_WORD.fullmatch(value) else f'"{quote_inside_double(value)}"'
    return f"{kind} {word}" if kind else word


def _chains(connections: Sequence[FlatConnection]) -> list[str]:
    """The connections as statements, each chain one statement over lines.

    A connection into port 0 of an element continues with one from that
    element's output 0 (the first of those into a port 0, else the last);
    chains start where nothing continues into them, in the connections'
    order, and a cycle starts at its first connection not yet written.
    """
    from_ports: dict[tuple[str, int], list[int]] = {}
    for i, c in enumerate(connections):
        from_ports.setdefault((c.from_element, c.from_port), []).append(i)
    following = [-1] * len(connections)
    starts = [True] * len(connections)
    for i, c in enumerate(connections):
        if c.to_port != 0:
            continue
        after = [j for j in from_ports.get((c.to_element, 0), ()) if j != i]
        if after:
            following[i] = next((j for j in after if connections[j].to_port == 0), after[-1])
            starts[following[i]] = False
    written = [False] * len(connections)
    statements = []

    def chain(i: int) -> None:
        parts = [f"{connections[i].from_element}{_port(connections[i].from_port)}"]
        j = i
        while j >= 0 and not written[j]:
            to = connections[j]
            parts.append(f"{' ' if j == i else chr(10) + '    '}-> "
                         f"{_port(to.to_port, before=False)}{to.to_element}")
            written[j] = True
            j = following[j]
        statements.append("".join(parts) + ";")

    for i in range(len(connections)):
        if starts[i] and not written[i]:
            chain(i)
    # What is left are cycles, each from its first connection not yet written
    # (one pass: every connection before it is written by then).
    for i in range(len(connections)):
        if not written[i]:
            chain(i)
    return statements


def _config(config: str) -> str:
    if not config:
        return ""
    written = f"({config})"
    # Read whole as CONFIG reads it (PLAIN_CONFIG, or LINE_CONFIG with its
    # escapes, comments and nested parentheses, or SPREAD_CONFIG over several
    # lines): it reads back.
    if _PLAIN_CONFIG.fullmatch(written) or _line_config().fullmatch(written) \
            or _spread_config().fullmatch(written):
        return written
    # Loaded only to write text back (with the `regex` module).
    from pyclick.lang.readback import config_reads_back

    # A configuration ending in a // comment needs the newline that ended it.
    if not config_reads_back(config) and config_reads_back(config + "\n"):
        config += "\n"
    return f"({config})"


@functools.cache
def _line_config() -> re.Pattern:
    """LINE_CONFIG, compiled at the first string PLAIN_CONFIG does not read."""
    return re.compile(LINE_CONFIG)


@functools.cache
def _spread_config() -> re.Pattern:
    """SPREAD_CONFIG, compiled at the first string LINE_CONFIG does not read."""
    return re.compile(SPREAD_CONFIG)


def _port(port: int, before: bool = True) -> str:
    if port == 0:
        return ""
    return f" [{port}]" if before else f"[{port}] "
