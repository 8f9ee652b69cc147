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
from typing import Container

from pyclick import collector
from pyclick.errors import ConfigError, ErrorCollector
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
            classes: Container[str] = frozenset(), from_file: bool = True) -> FlatConfig:
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
    """
    errors = ErrorCollector()
    with collector.paused():
        program, syntax_errors = parse_text(text, filename)
        errors.messages.extend(syntax_errors)
        if program is None:
            _raise_if_any(errors)
        flattening = Flattening(errors, classes)
        body = read_program(program, flattening, from_file)
        overrides = {name.removeprefix("$"): value for name, value in (variables or {}).items()}
        flat = expand_program(body, overrides, errors, flattening.requirements)
    _raise_if_any(errors)
    flat.requirement_landmarks = flattening.requirement_landmarks
    return flat


_LANDMARK = re.compile(r"^(.*?:\d+): ")


def _raise_if_any(errors: ErrorCollector) -> None:
    """Raise the errors found, the first MAX_ERRORS of them and how many more there were."""
    messages = errors.messages
    if len(messages) > limits.MAX_ERRORS:
        last = _LANDMARK.match(messages[limits.MAX_ERRORS - 1])
        more = len(messages) - limits.MAX_ERRORS
        messages = messages[:limits.MAX_ERRORS]
        if last:
            messages.append(f"{last.group(1)}: {more} more errors not shown")
    if messages:
        raise ConfigError(messages=messages)
