"""What FromHost, KernelTun and KernelTap share: a TUN or TAP device made at
initialize, its set-up, the task that emits what the kernel sends out of it,
and their common keywords and handlers."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from pyclick.args import UNSIGNED, Args
from pyclick.element import Element, read_handler
from pyclick.elements.inet import IPADDR
from pyclick.elements.polldevice import ReceiveTask, initialize_failed, live_only
from pyclick.packet import DEFAULT_HEADROOM, Packet

if TYPE_CHECKING:
    from pyclick.kernel.tap import TunDevice

DEFAULT_MTU = 1500
MTU = UNSIGNED.range(68, 65535)
HEADROOM = UNSIGNED.range(0, 1 << 16)


def read_gateway(args: Args, address: ipaddress.IPv4Interface | None, positional: bool
                 ) -> ipaddress.IPv4Address | None:
    """GATEWAY (a keyword, or the argument after the address with ``positional``):
    the host a default route through the device goes to; None for none (or
    0.0.0.0, as Click). It must lie in the device's prefix."""
    raw = (args.read_p if positional else args.read)("GATEWAY", IPADDR)
    gateway = ipaddress.IPv4Address(raw) if raw is not None else None
    if not gateway:
        return None
    if address is not None and gateway not in address.network:
        args.error(f"GATEWAY: {gateway} is not in the device's network {address.network}")
    return gateway


def tap_address(address: tuple[bytes, int] | None) -> ipaddress.IPv4Interface | None:
    """The interface address of an IPPREFIX value."""
    if address is None:
        return None
    ip, length = address
    return ipaddress.IPv4Interface((ipaddress.IPv4Address(ip), length))


class TunTapElement(Element):
    """A device element on a TUN or TAP device (see the module docstring).

    A subclass reads its own keywords, then calls :meth:`read_device_settings`
    for MTU and HEADROOM; it sets ``devname``, ``tap``, ``address`` (the
    kernel's address and prefix, or None), ``ether`` and ``burst``, and
    defines :meth:`emit` for the frames read.
    """

    registered = False

    devname: str = ""
    tap = True
    address: ipaddress.IPv4Interface | None = None
    gateway: ipaddress.IPv4Address | None = None
    ether: bytes | None = None
    burst = 32

    def read_device_settings(self, args: Args) -> None:
        self.mtu: int = args.read("MTU", MTU, DEFAULT_MTU)
        self.headroom: int = args.read("HEADROOM", HEADROOM, DEFAULT_HEADROOM)
        args.complete()
        live_only(self, args)
        self.count = 0
        self.device: TunDevice | None = None
        self._receiver: ReceiveTask | None = None

    def initialize(self) -> None:
        # The device layer (and pyroute2) is loaded by a router that opens a device, not by
        # --list, --doc or a checked configuration.
        from pyclick.kernel.netdev import DeviceError
        from pyclick.kernel.tap import TunDevice

        try:
            self.device = TunDevice(self.devname, tap=self.tap)
            self.device.set_up(prefix=self.address, ether=self.ether, mtu=self.mtu,
                               gateway=self.gateway)
        except (DeviceError, OSError) as err:
            self.cleanup()
            raise initialize_failed(self, err) from err
        self.devname = self.device.name
        self._receiver = ReceiveTask(self, self.device, self.burst, self._read_and_emit)

    def cleanup(self) -> None:
        if self._receiver is not None:
            self._receiver.stop()
            self._receiver = None
        if self.device is not None:
            self.device.close()
            self.device = None

    def _read_and_emit(self, limit: int) -> int:
        assert self.device is not None
        frames = self.device.read(limit)
        if frames:
            now = self.router.now()
            self.emit([(raw, Packet.make(raw, headroom=self.headroom, timestamp=now))
                       for raw in frames])
        return len(frames)

    def emit(self, frames: list[tuple[bytes, Packet]]) -> None:
        """Send on the frames the kernel sent out of the device (raw, as packets)."""
        raise NotImplementedError

    @read_handler("dev_name")
    def _read_dev_name(self) -> str:
        return self.devname

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)
