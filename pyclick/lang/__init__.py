"""The Click language front end: parse, flatten, and write back Click text.

- :func:`decode_config` reads configuration bytes as text;
- :func:`parse` reads Click text into plain data (:mod:`pyclick.lang.syntax`);
- :func:`flatten` reads it all the way to the flat graph the router runs
  (:class:`~pyclick.lang.model.FlatConfig`): compound elements, groups and
  variables expanded, every element named;
- :func:`unparse` writes a flat graph back as Click text (``pyclick -o``).

Mistakes are reported together, as one :class:`~pyclick.errors.ConfigError`
whose messages each start with ``FILE:LINE:``. No text makes them run
without bound: what flattening builds is limited (:mod:`pyclick.lang.limits`).
"""

from __future__ import annotations

import re
from typing import Callable, Container

from pyclick import collector
from pyclick.errors import AtEnd, ConfigError, ErrorCollector
from pyclick.lang import limits
from pyclick.lang.build import Flattening, read_program
from pyclick.lang.expand import expand_program
from pyclick.lang.model import FlatConfig
from pyclick.lang.parsecache import parse_text
from pyclick.lang.source import decode_config
from pyclick.lang.syntax import Program
from pyclick.lang.unparse import unparse

__all__ = ["decode_config", "parse", "flatten", "unparse", "Program", "FlatConfig"]


def parse(text: str, filename: str = "config") -> Program:
    """Parse Click ``text`` (from ``filename``, for landmarks) into a :class:`Program`.

    Raises ConfigError listing every syntax error.
    """
    with collector.paused():
        program, errors = parse_text(text, filename)
    if errors or program is None:
        raise ConfigError(messages=errors)
    return program


def flatten(text: str, filename: str = "config",
            variables: dict[str, str] | None = None,
            classes: Container[str] = frozenset(), from_file: bool = True,
            graph_check: Callable[[FlatConfig], list[str]] | None = None) -> FlatConfig:
    """Read Click ``text`` into its flat graph.

    ``variables`` are ``NAME=value`` settings from the command line (``NAME``
    with or without ``$``); they take precedence over the file's ``define``s.
    ``classes``: names of element classes the router will know; an element
    declared under one of them (``Queue :: Queue``) is an error, as in Click.
    Libraries named by ``require(library FILE)`` are read relative to
    ``filename``'s directory, each once; ``from_file`` false says that ``text``
    is not the file ``filename`` names (an expression, standard input), so
    a library of that name is read too. Raises ConfigError with every
    mistake found.

    ``graph_check``: when the text has mistakes, what the router would refuse
    in the graph read despite them (classes nobody defines), as messages;
    they are reported with them, after those found reading the text.
    Without mistakes the router checks the graph itself.
    """
    errors = ErrorCollector()
    with collector.paused():
        program, syntax_errors = parse_text(text, filename)
        if program is None:
            _raise_if_any(syntax_errors)
        flattening = Flattening(errors, classes)
        body = read_program(program, flattening, from_file)
        read = len(errors.messages)
        overrides = {name.removeprefix("$"): value for name, value in (variables or {}).items()}
        flat = expand_program(body, overrides, errors, flattening.requirements)
    flat.requirement_landmarks = flattening.requirement_landmarks
    # In Click's order: what reading the text finds, line by line (the parser's
    # mistakes among the reader's), then what expanding compounds finds.
    found = _by_line(errors.messages[:read], syntax_errors)
    expanded = flattening.group_ports.messages + errors.messages[read:]
    if graph_check is not None and (found or expanded):
        # Between the two: never before the first mistake click-flatten, which
        # knows no classes, would report.
        found += graph_check(flat)
    _raise_if_any(found + expanded)
    return flat


_PLACE = re.compile(r"^(.*?):(\d+): ")


def _by_line(messages: list[str], more: list[str]) -> list[str]:
    """``more`` among ``messages``, both in their order: each before the first of
    ``messages`` left that is on its line of the same file or further down,
    else after the last of that file (a landmark tells lines only: on one
    line, ``more`` comes first, unless it is about the end of the text,
    ``AtEnd``); those without a place at the end."""
    places = [_place(message) for message in messages]
    merged: list[str] = []
    unplaced: list[str] = []
    taken = 0
    for message in more:
        place = _place(message)
        if place is None:
            unplaced.append(message)
            continue
        file, line = place
        # On its line, a message about the end of the text comes last.
        after = line + 1 if isinstance(message, AtEnd) else line
        upto = taken
        for i in range(taken, len(messages)):
            if places[i] is not None and places[i][0] == file:
                if places[i][1] >= after:
                    break
                upto = i + 1
        merged += messages[taken:upto]
        merged.append(message)
        taken = upto
    return merged + messages[taken:] + unplaced


def _place(message: str) -> tuple[str, int] | None:
    """The file and line a message starts with, if it does."""
    found = _PLACE.match(message)
    return None if found is None else (found.group(1), int(found.group(2)))


def _raise_if_any(messages: list[str]) -> None:
    """Raise the errors found, the first MAX_ERRORS of them and how many more there were."""
    if len(messages) > limits.MAX_ERRORS:
        last = _PLACE.match(messages[limits.MAX_ERRORS - 1])
        more = len(messages) - limits.MAX_ERRORS
        messages = messages[:limits.MAX_ERRORS]
        if last:
            messages.append(f"{last.group(1)}:{last.group(2)}: {more} more errors not shown")
    if messages:
        raise ConfigError(messages=messages)
