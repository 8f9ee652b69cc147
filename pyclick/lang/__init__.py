"""The Click language front end: parse, flatten, and write back Click text.

- :func:`parse` reads Click text into plain data (:mod:`pyclick.lang.syntax`);
- :func:`flatten` reads it all the way to the flat graph the router runs
  (:class:`~pyclick.lang.model.FlatConfig`): compound elements, groups and
  variables expanded, every element named;
- :func:`unparse` writes a flat graph back as Click text (``pyclick -o``).

Mistakes are reported together, as one :class:`~pyclick.errors.ConfigError`
whose messages each start with ``FILE:LINE:``.
"""

from __future__ import annotations

from pyclick.errors import ConfigError, ErrorCollector
from pyclick.lang.build import Session, read_program
from pyclick.lang.expand import expand_program
from pyclick.lang.model import FlatConfig
from pyclick.lang.parser import parse_text
from pyclick.lang.syntax import Program
from pyclick.lang.unparse import unparse

__all__ = ["parse", "flatten", "unparse", "Program", "FlatConfig"]


def parse(text: str, filename: str = "<expr>") -> Program:
    """Parse Click ``text`` (from ``filename``, for landmarks) into a :class:`Program`.

    Raises ConfigError listing every syntax error.
    """
    program, errors = parse_text(text, filename)
    if errors or program is None:
        raise ConfigError(messages=errors)
    return program


def flatten(text: str, filename: str = "<expr>",
            variables: dict[str, str] | None = None) -> FlatConfig:
    """Read Click ``text`` into its flat graph.

    ``variables`` are ``NAME=value`` settings from the command line (``NAME``
    with or without ``$``); they take precedence over the file's ``define``s.
    Libraries named by ``require(library FILE)`` are read relative to
    ``filename``'s directory. Raises ConfigError with every mistake found.
    """
    errors = ErrorCollector()
    program, syntax_errors = parse_text(text, filename)
    errors.messages.extend(syntax_errors)
    if program is None:
        errors.raise_if_any()
    session = Session(errors)
    body = read_program(program, session)
    overrides = {name.removeprefix("$"): value for name, value in (variables or {}).items()}
    flat = expand_program(body, overrides, errors, session.requirements)
    errors.raise_if_any()
    return flat
