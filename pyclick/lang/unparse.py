"""Writing a flat graph back as Click text (what ``pyclick -o`` prints).

The text declares every element (``name :: Class(config);``), then lists
every connection (``a [1] -> [2] b;``); read back with
:func:`pyclick.lang.flatten`, it gives the same graph. (Flat text cannot
say it when a class bears the name of an element, nor keep a configuration
string whose parentheses an expanded variable left unbalanced.)
"""

from __future__ import annotations

import functools
import re

from pyclick.lang.chainline import LINE_CONFIG, PLAIN_CONFIG, SPREAD_CONFIG
from pyclick.lang.configstr import quote_inside_double
from pyclick.lang.model import FlatConfig

_PLAIN_WORD = re.compile(r"[A-Za-z0-9_.:/@+-]+")
_PLAIN_CONFIG = re.compile(PLAIN_CONFIG)


def unparse(flat: FlatConfig) -> str:
    """Click text for ``flat``: requirements, declarations, then connections."""
    lines = [_requirement(kind, value) for kind, value in flat.requirements]
    # Compound instances repeat their elements' configurations: each is looked at once.
    configs: dict[str, str] = {}
    for e in flat.elements:
        config = configs.get(e.config)
        if config is None:
            config = configs[e.config] = _config(e.config)
        lines.append(f"{e.name} :: {e.class_name}{config};")
    lines += [f"{c.from_element}{_port(c.from_port)} -> {_port(c.to_port, before=False)}"
              f"{c.to_element};" for c in flat.connections]
    return "".join(line + "\n" for line in lines)


def _requirement(kind: str, value: str) -> str:
    word = value if _PLAIN_WORD.fullmatch(value) else f'"{quote_inside_double(value)}"'
    return f"require({kind} {word});" if kind else f"require({word});"


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
