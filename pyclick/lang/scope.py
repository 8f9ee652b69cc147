"""One scope of a Click program once read: the file, or a compound's body.

A :class:`Body` lists the scope's elements (named as Click names them,
anonymous ones included), its connections by element index, and its
passages: pairs of pseudo-elements through which connections run from
one side of a group (or of a compound's ``input``/``output``) to the other.
"""

from __future__ import annotations

from pyclick.errors import Landmark
from pyclick.lang.classes import Binding
from pyclick.lang.record import Record


# Not dataclasses: see pyclick.lang.record.
class LocalElement:
    """An element of one scope.

    ``binding`` is None for pseudo-elements (group ends, ``input`` and
    ``output``), which only pass connections through.
    """

    __slots__ = ("name", "binding", "config", "landmark", "anonymous", "inputs_used",
                 "outputs_used", "first_input_use", "first_output_use")

    def __init__(self, name: str, binding: Binding | None, config: str, landmark: Landmark,
                 anonymous: bool = False) -> None:
        self.name = name
        self.binding = binding
        self.config = config
        self.landmark = landmark
        self.anonymous = anonymous
        self.inputs_used: set[int] = set()
        self.outputs_used: set[int] = set()
        self.first_input_use: Landmark | None = None
        self.first_output_use: Landmark | None = None


class LocalConnection(Record):
    __slots__ = ("from_index", "from_port", "to_index", "to_port", "landmark")

    def __init__(self, from_index: int, from_port: int, to_index: int, to_port: int,
                 landmark: Landmark) -> None:
        self.from_index = from_index
        self.from_port = from_port
        self.to_index = to_index
        self.to_port = to_port
        self.landmark = landmark


class Body:
    """The elements, connections and definitions of one scope.

    A compound's body starts with its ``input`` (index 0) and ``output``
    (index 1). ``passages`` pairs ``(entry, exit)``: whatever reaches the
    entry's input port p leaves the exit's output port p. ``defines``
    holds ``define`` values unexpanded: all definitions of a scope take
    effect together.
    """

    __slots__ = ("elements", "connections", "passages", "defines")

    def __init__(self) -> None:
        self.elements: list[LocalElement] = []
        self.connections: list[LocalConnection] = []
        self.passages: list[tuple[int, int]] = []
        self.defines: dict[str, str] = {}

    def add(self, element: LocalElement) -> int:
        self.elements.append(element)
        return len(self.elements) - 1

    def connect(self, from_index: int, from_port: int, to_index: int, to_port: int,
                landmark: Landmark) -> None:
        self.connections.append(LocalConnection(from_index, from_port, to_index, to_port, landmark))
        source, target = self.elements[from_index], self.elements[to_index]
        source.outputs_used.add(from_port)
        target.inputs_used.add(to_port)
        source.first_output_use = source.first_output_use or landmark
        target.first_input_use = target.first_input_use or landmark
