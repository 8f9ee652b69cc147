"""The plain data the language front end hands to the router: a flat graph."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyclick.errors import Landmark


@dataclass(slots=True)
class FlatElement:
    """One primitive element after flattening: ``name :: class_name(config)``.

    ``config`` is the configuration string with variables expanded, exactly
    as it would be written back in Click syntax (quotes and comments kept).
    """

    name: str
    class_name: str
    config: str
    landmark: Landmark


@dataclass(slots=True, unsafe_hash=True)
class FlatConnection:
    """``from_element [from_port] -> [to_port] to_element``.

    Hashed and compared without its landmark. Not frozen, because a frozen
    dataclass costs three times as much to make and a large configuration
    has tens of thousands of connections; nothing changes one once made.
    """

    from_element: str
    from_port: int
    to_element: str
    to_port: int
    landmark: Landmark = field(compare=False, hash=False)


@dataclass
class FlatConfig:
    """A whole flattened configuration.

    ``elements`` is in declaration order; ``connections`` has no repeats;
    ``requirements`` lists every ``require(...)`` as (kind, value) pairs,
    e.g. ("package", "mypackage") or ("", "compact_config"), and
    ``requirement_landmarks`` where each was first required.
    """

    elements: list[FlatElement] = field(default_factory=list)
    connections: list[FlatConnection] = field(default_factory=list)
    requirements: list[tuple[str, str]] = field(default_factory=list)
    requirement_landmarks: dict[tuple[str, str], Landmark] = field(default_factory=dict)
