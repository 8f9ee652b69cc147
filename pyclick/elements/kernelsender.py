"""What ToDevice, ToHost and ToHostSniffers share: counting the packets they
hand to the kernel, those it took and those it refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pyclick.element import Element, read_handler

if TYPE_CHECKING:
    from pyclick.packet import Packet


class KernelSender(Element):
    """Base of the elements that hand packets to the kernel: ``count`` packets
    taken, ``drops`` refused, and their handlers (no manual: not an element
    class of its own)."""

    registered = False
    count: int
    drops: int

    def hand_over(self, batch: list[Packet], send: Callable[[bytes], bool] | None) -> None:
        """Hand each packet's data to ``send`` (False: refused); without ``send``
        (no device open) every packet is a drop."""
        if send is None:
            self.drops += len(batch)
            return
        for packet in batch:
            if send(packet.data):
                self.count += 1
            else:
                self.drops += 1

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)

    @read_handler("drops")
    def _read_drops(self) -> str:
        return str(self.drops)
