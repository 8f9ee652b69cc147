"""Packets as they travel between Python elements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Packet:
    """A packet: its bytes and Click-style annotations.

    ``flow`` is the parsed 5-tuple (src, dst, sport, dport, proto) when a
    source or classifier filled it; ``rss_hash`` the NIC's (or simulated)
    RSS hash; ``timestamp`` in the router's clock (seconds).
    """

    data: bytes = b""
    timestamp: float = 0.0
    rss_hash: int = 0
    flow: tuple[Any, ...] | None = None
    anno: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.data)
