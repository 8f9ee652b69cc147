"""The balancing methods by name, with the reference's aliases."""

from __future__ import annotations

from pyclick.balance.method import Method
from pyclick.balance.names import ALIASES, canonical_name  # noqa: F401
from pyclick.balance.reference_method import RssppReference
from pyclick.balance.rsspp_method import Rsspp
from pyclick.balance.static_methods import RoundRobinRss, StaticRss

METHODS: dict[str, type[Method]] = {
    "rss": StaticRss,
    "rssrr": RoundRobinRss,
    "rsspp": Rsspp,
    "rsspp-ref": RssppReference,
}


def method_class(name: str) -> type[Method]:
    return METHODS[canonical_name(name)]
