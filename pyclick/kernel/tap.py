"""A TAP or TUN device of the Linux universal TUN/TAP driver (/dev/net/tun).

A TAP device carries Ethernet frames, a TUN device IP packets (both
without the driver's packet-information prefix, ``IFF_NO_PI``). What the
process writes to the device's file, the kernel receives as if it came in
on the interface; what the kernel sends out of the interface, the process
reads. The device is not persistent: it disappears, with its addresses
and routes (a default route through it included), when the file is
closed, however the process ends.
"""

from __future__ import annotations

import errno
import fcntl
import ipaddress
import os
import select
import struct

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from pyclick.kernel.netdev import DeviceError, PermissionDenied, encode_ifname

TUN_DEVICE = "/dev/net/tun"
# include/uapi/linux/if_tun.h
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
_IFREQ = struct.Struct("=16sH22x")
#: Largest frame read at once (an MTU of 65535 plus an Ethernet header).
MAX_FRAME = 65535 + 14


class TunDevice:
    """A TAP (``tap`` true) or TUN device named ``name`` (a pattern such as
    ``tap%d``, or empty for the kernel's choice)."""

    def __init__(self, name: str = "", *, tap: bool = True) -> None:
        if name:
            encode_ifname(name.replace("%d", "0"))
        self.tap = tap
        try:
            self._fd = os.open(TUN_DEVICE, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        except PermissionError as err:
            raise PermissionDenied(name or "tap", "open " + TUN_DEVICE) from err
        except FileNotFoundError as err:
            raise DeviceError(name or "tap", f"{TUN_DEVICE} is missing (the kernel has no "
                                             f"tun module)") from err
        flags = (IFF_TAP if tap else IFF_TUN) | IFF_NO_PI
        try:
            answer = fcntl.ioctl(self._fd, TUNSETIFF, _IFREQ.pack(name.encode(), flags))
        except OSError as err:
            os.close(self._fd)
            if err.errno == errno.EPERM:
                raise PermissionDenied(name or "tap", "create a TUN/TAP device") from err
            raise DeviceError(name or "tap", f"cannot create the device: "
                                             f"{os.strerror(err.errno or 0)}") from err
        self.name = _IFREQ.unpack(answer)[0].rstrip(b"\0").decode()

    def fileno(self) -> int:
        return self._fd

    def set_up(self, *, prefix: ipaddress.IPv4Interface | None = None,
               ether: bytes | None = None, mtu: int | None = None,
               gateway: ipaddress.IPv4Address | None = None) -> None:
        """Give the device its Ethernet address, MTU and address, bring it up, and
        add a default route through ``gateway`` on it (which goes with the device)."""
        try:
            with IPRoute() as ipr:
                index = ipr.link_lookup(ifname=self.name)[0]
                changes: dict[str, object] = {}
                if ether is not None:
                    changes["address"] = ":".join(f"{b:02x}" for b in ether)
                if mtu is not None:
                    changes["mtu"] = mtu
                if changes:
                    ipr.link("set", index=index, **changes)
                if prefix is not None:
                    ipr.addr("add", index=index, address=str(prefix.ip),
                             prefixlen=prefix.network.prefixlen)
                ipr.link("set", index=index, state="up")
        except NetlinkError as err:
            raise DeviceError(self.name, f"cannot set the device up: "
                                         f"{os.strerror(err.code)}") from err
        if gateway is not None:
            self._route_default(index, gateway)

    def _route_default(self, index: int, gateway: ipaddress.IPv4Address) -> None:
        try:
            with IPRoute() as ipr:
                ipr.route("add", dst="0.0.0.0", dst_len=0, gateway=str(gateway), oif=index)
        except NetlinkError as err:
            reason = ("the host has a default route already" if err.code == errno.EEXIST
                      else os.strerror(err.code))
            raise DeviceError(self.name, f"cannot add a default route through {gateway} "
                                         f"on {self.name}: {reason}") from err

    def read(self, limit: int) -> list[bytes]:
        """Up to ``limit`` frames the kernel sent out of the device; never blocks."""
        frames: list[bytes] = []
        while len(frames) < limit:
            try:
                frames.append(os.read(self._fd, MAX_FRAME))
            except BlockingIOError:
                break
        return frames

    def write(self, frame: bytes) -> bool:
        """Hand ``frame`` to the kernel as received on the device; False when it
        refused it (a frame too short, or no room)."""
        try:
            return os.write(self._fd, frame) == len(frame)
        except OSError as err:
            if err.errno in (errno.EAGAIN, errno.ENOBUFS, errno.EINVAL, errno.EIO):
                return False
            raise

    def wait(self, timeout: float) -> bool:
        readable, _, _ = select.select([self._fd], [], [], timeout)
        return bool(readable)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
