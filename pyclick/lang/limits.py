"""How much one flattening may build, so that no configuration takes unbounded time or memory.

A short text can ask for a great deal: compounds that each use the one
before twice double at every level, and variables that repeat each other
grow tenfold at every definition. Flattening counts what it builds and
stops with an error at the first limit passed:

- the primitive elements of the flat graph;
- compound element instances (each costs work even when it holds no element);
- the wiring graph: every element, every end of a group or compound
  instance, and every connection between them;
- the text that variable expansion produces, in all;
- errors: past a hundred, expansion stops and the rest are not reported.
"""

from __future__ import annotations

#: The most primitive elements a configuration may expand to.
MAX_ELEMENTS = 100_000
#: The most compound element instances a configuration may expand to.
MAX_INSTANCES = 100_000
#: The most nodes and connections of the wiring graph.
MAX_WIRING = 2_000_000
#: The most characters variable expansion may produce in one flattening.
MAX_EXPANDED = 64_000_000
#: The most errors reported for one configuration.
MAX_ERRORS = 100


class LimitExceeded(Exception):
    """A flattening went past one of its limits; the message says which."""


class Budget:
    """What one flattening has spent of each limit.

    The limits are read when the budget is made, so one flattening sees
    one set of them.
    """

    def __init__(self) -> None:
        self.max_elements = MAX_ELEMENTS
        self.max_instances = MAX_INSTANCES
        self.max_wiring = MAX_WIRING
        self.max_expanded = MAX_EXPANDED
        self.max_errors = MAX_ERRORS
        self.instances = 0
        self.expanded = 0

    def check_elements(self, count: int) -> None:
        if count > self.max_elements:
            raise LimitExceeded(f"configuration expands to more than {self.max_elements} elements")

    def check_wiring(self, count: int) -> None:
        if count > self.max_wiring:
            raise LimitExceeded(f"configuration expands to more than {self.max_wiring} "
                                "graph nodes and connections")

    def check_errors(self, count: int) -> None:
        if count > self.max_errors:
            raise LimitExceeded(f"more than {self.max_errors} errors: expansion stopped here")

    def add_instances(self, count: int) -> None:
        self.instances += count
        if self.instances > self.max_instances:
            raise LimitExceeded(f"configuration expands to more than {self.max_instances} "
                                "compound element instances")

    def add_expanded(self, characters: int) -> None:
        self.expanded += characters
        if self.expanded > self.max_expanded:
            raise LimitExceeded(f"variables expand to more than {self.max_expanded} "
                                "characters in all")
