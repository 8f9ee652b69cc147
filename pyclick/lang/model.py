"""The plain data the language front end hands to the router: a flat graph.

Elements and connections are records (:mod:`pyclick.lang.record`), as the
nodes of a program are: nothing changes one once made.
"""

from __future__ import annotations

from pyclick.errors import Landmark
from pyclick.lang.record import Record


class FlatElement(Record):
    """One primitive element after flattening: ``name :: class_name(config)``.

    ``config`` is the configuration string with variables expanded, exactly
    as it would be written back in Click syntax (quotes and comments kept).
    ``by_class``: the element was written as its class (``Queue`` or
    ``Queue(10)`` where an element goes), not declared with a name; Click
    words an unknown class so written as an undeclared element. How it was
    written, not what it is: not compared.
    """

    __slots__ = ("name", "class_name", "config", "landmark", "by_class")
    UNCOMPARED = ("by_class",)

    def __init__(self, name: str, class_name: str, config: str, landmark: Landmark,
                 by_class: bool = False) -> None:
        self.name = name
        self.class_name = class_name
        self.config = config
        self.landmark = landmark
        self.by_class = by_class


class FlatConnection(Record):
    """``from_element [from_port] -> [to_port] to_element``, hashed and compared
    without its landmark."""

    __slots__ = ("from_element", "from_port", "to_element", "to_port", "landmark")
    UNCOMPARED = ("landmark",)

    def __init__(self, from_element: str, from_port: int, to_element: str, to_port: int,
                 landmark: Landmark) -> None:
        self.from_element = from_element
        self.from_port = from_port
        self.to_element = to_element
        self.to_port = to_port
        self.landmark = landmark

    def __hash__(self) -> int:
        return hash((self.from_element, self.from_port, self.to_element, self.to_port))


class FlatConfig:
    """A whole flattened configuration.

    ``elements`` is in Click's order (a scope's own elements as declared,
    then each compound instance's, depth first); ``connections`` has no
    repeats and is sorted as Click's are (by input end, then output end);
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
