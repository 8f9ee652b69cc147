"""The plain data the language front end hands to the router: a flat graph.

Elements and connections are named tuples, as the nodes of a program are
(:mod:`pyclick.lang.syntax`, which says why): nothing changes one once made.
"""

from __future__ import annotations

from typing import NamedTuple

from pyclick.errors import Landmark


class FlatElement(NamedTuple):
    """One primitive element after flattening: ``name :: class_name(config)``.

    ``config`` is the configuration string with variables expanded, exactly
    as it would be written back in Click syntax (quotes and comments kept).
    """

    name: str
    class_name: str
    config: str
    landmark: Landmark


class FlatConnection(NamedTuple):
    """``from_element [from_port] -> [to_port] to_element``, hashed and compared
    without its landmark."""

    from_element: str
    from_port: int
    to_element: str
    to_port: int
    landmark: Landmark

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FlatConnection) and self[:4] == other[:4]

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self[:4])


class FlatConfig:
    """A whole flattened configuration.

    ``elements`` is in declaration order; ``connections`` has no repeats;
    ``requirements`` lists every ``require(...)`` as (kind, value) pairs,
    e.g. ("package", "mypackage") or ("", "compact_config"), and
    ``requirement_landmarks`` where each was first required.
    """

    __slots__ = ("elements", "connections", "requirements", "requirement_landmarks")

    def __init__(self, elements: list[FlatElement] | None = None,
                 connections: list[FlatConnection] | None = None,
                 requirements: list[tuple[str, str]] | None = None,
                 requirement_landmarks: dict[tuple[str, str], Landmark] | None = None) -> None:
        self.elements = [] if elements is None else elements
        self.connections = [] if connections is None else connections
        self.requirements = [] if requirements is None else requirements
        self.requirement_landmarks = {} if requirement_landmarks is None \
            else requirement_landmarks
