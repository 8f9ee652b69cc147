"""ToHost: hands Ethernet frames to the kernel through FromHost's TAP device."""

from __future__ import annotations

from pyclick.args import WORD, Args
from pyclick.element import CONFIGURE_PHASE_DEFAULT, Element, read_handler
from pyclick.elements.fromhost import FromHost
from pyclick.elements.polldevice import live_only
from pyclick.errors import ConfigError
from pyclick.kernel.tap import TunDevice
from pyclick.packet import Packet


class ToHost(Element):
    """ToHost(DEVNAME) -- sends packets to Linux through a TAP device

    Description
    Hands every packet pushed to it to the ordinary Linux network stack:
    the kernel receives it as if it had come in on the TAP device DEVNAME.
    Packets must carry an Ethernet header; IPv4 packets should be
    addressed to the kernel's address on DEVNAME and come from an address
    it can route back, or the kernel silently drops them. Frames the
    device refuses (shorter than an Ethernet header, longer than its MTU)
    are counted as drops.

    ToHost writes through the device of the FromHost with the same
    DEVNAME, which the configuration must hold (as in Click at user
    level).

    Ports
    one push input, no outputs

    Keyword arguments
    DEVNAME -- the TAP device, that of a FromHost, mandatory

    Element handlers
    count (read) -- packets handed to the kernel
    drops (read) -- packets the device refused

    Example
    FromHost(fake0, 192.0.2.1/24) -> EtherMirror -> ToHost(fake0);
    """

    port_count = "1/0"
    #: After FromHost's phase: its device exists when ToHost initializes.
    configure_phase = CONFIGURE_PHASE_DEFAULT + 1

    def configure(self, args: Args) -> None:
        self.devname: str = args.read_mp("DEVNAME", WORD)
        args.complete()
        live_only(self, args)
        self.count = 0
        self.drops = 0
        self._device: TunDevice | None = None

    def initialize(self) -> None:
        for element in self.router.elements:
            if isinstance(element, FromHost) and element.devname == self.devname \
                    and element.device is not None:
                self._device = element.device
                return
        raise ConfigError(f"While initializing '{self.declaration()}': ToHost({self.devname}) "
                          f"needs an initialized FromHost with the same DEVNAME", self.landmark)

    def cleanup(self) -> None:
        self._device = None

    def push(self, port: int, batch: list[Packet]) -> None:
        device = self._device
        if device is None:
            self.drops += len(batch)
            return
        for packet in batch:
            if device.write(packet.data):
                self.count += 1
            else:
                self.drops += 1

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)

    @read_handler("drops")
    def _read_drops(self) -> str:
        return str(self.drops)
