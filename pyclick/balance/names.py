"""The balancing methods' names and aliases, without the methods themselves.

Reading a configuration checks METHOD against these; the methods (and
numpy) load only when a balancer starts (``pyclick.balance.methods``).
"""

from __future__ import annotations

#: The methods' own names (``pyclick.balance.methods.METHODS`` maps each to its class).
METHOD_NAMES = ("rss", "rssrr", "rsspp", "rsspp-ref")
ALIASES: dict[str, str] = {"pianorss": "rsspp", "rss++": "rsspp"}
#: Methods of the reference that need a DPDK flow-rule device.
DPDK_ONLY = ("metron",)


def canonical_name(name: str) -> str:
    """The method's own name for ``name`` (an alias or a name), else ValueError."""
    key = name.lower()
    key = ALIASES.get(key, key)
    if key in METHOD_NAMES:
        return key
    if key in DPDK_ONLY:
        raise ValueError(f"method {name!r} needs DPDK flow rules, which pyclick does not drive")
    known = ", ".join(sorted([*METHOD_NAMES, *ALIASES]))
    raise ValueError(f"unknown method {name!r} (expected one of {known})")
