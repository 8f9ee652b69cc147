"""ClickyInfo: style information for Click's graphical interface."""

from __future__ import annotations

from pyclick.args import Args
from pyclick.element import Element


class ClickyInfo(Element):
    """ClickyInfo(STYLE ...) -- stores information for the Clicky GUI

    Description
    Holds styles for Clicky, Click's graphical interface, which reads them
    from the configuration text. A router ignores it, as Click's drivers
    do: ClickyInfo accepts any arguments, does not check them, and does
    nothing. It lets configurations written for Clicky run unchanged.

    Ports
    none

    Example
    ClickyInfo(STYLE "* { decorations: activity }");
    """

    port_count = "0/0"

    def configure(self, args: Args) -> None:
        self.styles = args.accept_rest()
        args.complete()
