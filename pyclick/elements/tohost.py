"""ToHost: hands Ethernet frames to the kernel through a TAP device."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyclick.args import WORD, Args
from pyclick.element import CONFIGURE_PHASE_DEFAULT, read_handler
from pyclick.elements.fromhost import FromHost
from pyclick.elements.kernelsender import KernelSender
from pyclick.elements.polldevice import initialize_failed, live_only
from pyclick.packet import Packet

if TYPE_CHECKING:
    from pyclick.kernel.tap import TunDevice

#: The kernel numbers the TAP device ToHost makes when nothing names one.
OWN_DEVICE_PATTERN = "tohost%d"


class ToHost(KernelSender):
    """ToHost([DEVNAME]) -- sends packets to Linux through a TAP device

    Description
    Hands every packet pushed to it to the ordinary Linux network stack:
    the kernel receives it as if it had come in on the TAP device DEVNAME.
    Packets must carry an Ethernet header; IPv4 packets should be
    addressed to the kernel's address on DEVNAME and come from an address
    it can route back, or the kernel silently drops them. Frames the
    device refuses (shorter than an Ethernet header, longer than its MTU)
    are counted as drops.

    When the configuration holds a FromHost with the same DEVNAME, ToHost
    writes through that FromHost's device, so the kernel's replies come
    out of the FromHost. Otherwise ToHost makes its own TAP device named
    DEVNAME at initialize, brings it up without an address, and removes
    it at cleanup. Without DEVNAME, as Click's kernel-module
    configurations write it, ToHost uses the device of the
    configuration's FromHost when there is exactly one, and makes its own
    device (the kernel names it tohost0, tohost1, ...) when there is
    none. Making a device needs CAP_NET_ADMIN; checking a configuration
    (pyclick -q) makes none.

    Ports
    one push input, no outputs

    Keyword arguments
    DEVNAME -- the TAP device; default that of the configuration's only FromHost, or a device of its own

    Element handlers
    count (read) -- packets handed to the kernel
    drops (read) -- packets the device refused
    dev_name (read) -- the TAP device written through

    Example
    FromHost(fake0, 192.0.2.1/24) -> EtherMirror -> ToHost(fake0);
    """

    port_count = "1/0"
    #: After FromHost's phase: its device exists when ToHost initializes.
    configure_phase = CONFIGURE_PHASE_DEFAULT + 1

    def configure(self, args: Args) -> None:
        devname: str | None = args.read_p("DEVNAME", WORD)
        args.complete()
        live_only(self, args)
        hosts = self.router.elements_of(FromHost)
        if devname is None and len(hosts) > 1:
            args.error(f"no DEVNAME, and {len(hosts)} FromHost elements "
                       f"({', '.join(repr(h.name) for h in hosts)}): give the DEVNAME "
                       f"of the one ToHost writes through")
        #: The FromHost whose device ToHost writes through, if any.
        self._host: FromHost | None = next(
            (h for h in hosts if devname is None or h.devname == devname), None)
        #: The TAP device's name; settled at initialize when ToHost names none.
        self.devname: str = devname or ""
        self.count = 0
        self.drops = 0
        self._device: TunDevice | None = None
        #: The device ToHost made itself, closed (and so removed) at cleanup.
        self._own: TunDevice | None = None

    def initialize(self) -> None:
        if self._host is not None:
            self._device = self._host.device
            self.devname = self._host.devname
            return
        # Loaded only by a router that makes a device, not by a checked configuration.
        from pyclick.kernel.netdev import DeviceError
        from pyclick.kernel.tap import TunDevice

        try:
            self._own = TunDevice(self.devname or OWN_DEVICE_PATTERN, tap=True)
            self._own.set_up()
        except (DeviceError, OSError) as err:
            self.cleanup()
            raise initialize_failed(self, err) from err
        self._device = self._own
        self.devname = self._own.name

    def cleanup(self) -> None:
        self._device = None
        if self._own is not None:
            self._own.close()
            self._own = None

    def push(self, port: int, batch: list[Packet]) -> None:
        self.hand_over(batch, None if self._device is None else self._device.write)

    @read_handler("dev_name")
    def _read_dev_name(self) -> str:
        return self.devname
