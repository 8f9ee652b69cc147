"""The balancing methods by name, with the reference's aliases."""

from __future__ import annotations

from pyclick.balance.method import Method
from pyclick.balance.reference_method import RssppReference
from pyclick.balance.rsspp_method import Rsspp
from pyclick.balance.static_methods import RoundRobinRss, StaticRss

METHODS: dict[str, type[Method]] = {
    "rss": StaticRss,
    "rssrr": RoundRobinRss,
    "rsspp": Rsspp,
    "rsspp-ref": RssppReference,
}
ALIASES: dict[str, str] = {"pianorss": "rsspp", "rss++": "rsspp"}
#: Methods of the reference that need a DPDK flow-rule device.
DPDK_ONLY = ("metron",)


def canonical_name(name: str) -> str:
    """The method's own name for ``name`` (an alias or a name), else ValueError."""
    key = name.lower()
    key = ALIASES.get(key, key)
    if key in METHODS:
        return key
    if key in DPDK_ONLY:
        raise ValueError(f"method {name!r} needs DPDK flow rules, which pyclick does not drive")
    known = ", ".join(sorted([*METHODS, *ALIASES]))
    raise ValueError(f"unknown method {name!r} (expected one of {known})")


def method_class(name: str) -> type[Method]:
    return METHODS[canonical_name(name)]
