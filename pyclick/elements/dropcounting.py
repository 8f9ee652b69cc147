"""What the elements that refuse some packets share: the count of refused
packets (the ``drops`` handler), the report of the first one, and output 1
for them when it is connected."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyclick.element import Element, read_handler
from pyclick.elements.inet import reject

if TYPE_CHECKING:
    from pyclick.args import Args
    from pyclick.packet import Packet


class DropCounting(Element):
    """Base of the elements that count the packets they refuse (no manual: not
    an element class of its own). Its configuration takes no arguments; a
    subclass that takes some reads them and sets ``drops`` to 0 itself."""

    registered = False
    drops: int

    def configure(self, args: Args) -> None:
        args.complete()
        self.drops = 0

    def refuse(self, packet: Packet, why: str | None = None, every: bool = False) -> None:
        """Count a refused packet and send it out of output 1 when that is
        connected (drop it otherwise); report ``why`` for the first one, or for
        every one with ``every``."""
        if why is not None and (self.drops == 0 or every):
            self.log.warning("%s: %s", self.name, why)
        self.drops += 1
        reject(self, packet)

    @read_handler("drops")
    def _read_drops(self) -> str:
        return str(self.drops)
