"""DevirtualizeInfo: parameters for Click's click-devirtualize tool, none for the router."""

from __future__ import annotations

from pyclick.args import Args
from pyclick.element import Element


class DevirtualizeInfo(Element):
    """DevirtualizeInfo(ARGUMENTS...) -- stores devirtualization parameters

    Description
    Holds parameters for Click's click-devirtualize tool, which writes
    specialized element classes for a configuration; click-devirtualize
    adds it to the configurations it rewrites. The router does nothing
    with it: any arguments are accepted and ignored, and the element has
    no ports and no handlers of its own.

    Ports
    none

    Example
    DevirtualizeInfo(q Queue);
    InfiniteSource(LIMIT 5) -> q :: Queue -> Unqueue -> Discard;
    """

    port_count = "0/0"

    def configure(self, args: Args) -> None:
        args.accept_rest()
        args.complete()
