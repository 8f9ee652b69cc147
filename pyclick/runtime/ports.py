"""Click port-count declarations (``port_count = "1/1-2"``) and their checks."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_RANGE = re.compile(r"(\d*)(-?)(\d*)\Z")


@dataclass(frozen=True)
class PortRange:
    """Allowed number of ports: ``low`` up to ``high`` (None = unbounded)."""

    low: int
    high: int | None

    def allows(self, count: int) -> bool:
        return count >= self.low and (self.high is None or count <= self.high)

    def __str__(self) -> str:
        if self.high == self.low:
            return str(self.low)
        return f"{self.low}-" if self.high is None else f"{self.low}-{self.high}"


@dataclass(frozen=True)
class PortCount:
    """An element class's inputs and outputs; ``outputs`` None means "as many as inputs"."""

    inputs: PortRange
    outputs: PortRange | None


def parse_range(text: str) -> PortRange:
    """``N``, ``N-M``, ``N-`` (N or more), ``-M`` (0 to M), ``-`` (any number)."""
    m = _RANGE.match(text.strip())
    if not m or not (m.group(1) or m.group(2)):
        raise ValueError(f"bad port count '{text}'")
    low = int(m.group(1) or 0)
    if not m.group(2):
        return PortRange(low, low)
    high = int(m.group(3)) if m.group(3) else None
    if high is not None and high < low:
        raise ValueError(f"bad port count '{text}'")
    return PortRange(low, high)


# Parsed once per spec: a class's spec is the same for each of its thousands of
# elements (the result is immutable, a mistake raises and is not kept).
@functools.lru_cache(maxsize=1024)
def parse_port_count(spec: str) -> PortCount:
    """Parse ``IN/OUT``; a single range applies to both; OUT ``=`` copies IN."""
    inputs, _, outputs = spec.partition("/")
    if not _:
        outputs = inputs
    in_range = parse_range(inputs)
    return PortCount(in_range, None if outputs.strip() == "=" else parse_range(outputs))
