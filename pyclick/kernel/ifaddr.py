"""A network device's own addresses, read without changing anything.

Click lets an address argument name a device (``EtherEncap(0x0800, eth0,
...)``): its Ethernet address, or its primary IPv4 address and netmask.
The Ethernet address comes from ``/sys/class/net``, the IPv4 address from
the SIOCGIFADDR and SIOCGIFNETMASK ioctls on a datagram socket.
"""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct

# include/uapi/linux/sockios.h
SIOCGIFADDR = 0x8915
SIOCGIFNETMASK = 0x891B
IFNAMSIZ = 16
#: ARPHRD_ETHER and ARPHRD_IEEE80211 (include/uapi/linux/if_arp.h): the
#: device types whose hardware address is an Ethernet address.
_ETHER_TYPES = ("1", "801")


def _valid_name(name: str) -> bool:
    return 0 < len(name.encode()) < IFNAMSIZ and "/" not in name and name not in (".", "..")


def ether_address(name: str, sysfs: str = "/sys/class/net") -> bytes | None:
    """The Ethernet address of device ``name``, or None (no such Ethernet device)."""
    if not _valid_name(name):
        return None
    try:
        with open(f"{sysfs}/{name}/type") as kind:
            if kind.read().strip() not in _ETHER_TYPES:
                return None
        with open(f"{sysfs}/{name}/address") as address:
            text = address.read().strip()
    except OSError:
        return None
    parts = text.split(":")
    if len(parts) != 6:
        return None
    return bytes(int(part, 16) for part in parts)


def ipv4_address(name: str) -> tuple[bytes, int] | None:
    """The primary IPv4 address of device ``name`` and its prefix length, or None."""
    if not _valid_name(name):
        return None
    request = struct.pack("16s16x", name.encode())
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            address = fcntl.ioctl(sock.fileno(), SIOCGIFADDR, request)[20:24]
            mask = fcntl.ioctl(sock.fileno(), SIOCGIFNETMASK, request)[20:24]
    except OSError:
        return None
    try:
        length = ipaddress.IPv4Network(f"0.0.0.0/{ipaddress.IPv4Address(mask)}").prefixlen
    except ValueError:
        return None
    return address, length
