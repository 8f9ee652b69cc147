"""IP protocols by number or by name, as elements' arguments take them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyclick.args import Args

ICMP, TCP, UDP = 1, 6, 17
#: The IP protocols known by name (Click's names).
IP_PROTOCOLS = {"icmp": ICMP, "igmp": 2, "ipip": 4, "tcp": TCP, "udp": UDP, "gre": 47,
                "esp": 50, "ah": 51, "icmp6": 58, "sctp": 132}


def IP_PROTO(text: str, args: Args | None = None) -> int:
    """An IP protocol: a number from 0 to 255 or a name of :data:`IP_PROTOCOLS`."""
    word = text.strip().lower()
    if word in IP_PROTOCOLS:
        return IP_PROTOCOLS[word]
    if word.isdigit() and len(word) <= 3 and int(word) <= 255:
        return int(word)
    raise ValueError(f"expected IP protocol (0-255 or {', '.join(IP_PROTOCOLS)})")
