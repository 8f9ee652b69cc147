"""Facts about one network interface: does it exist, its driver, its RX queues.

Two kernel interfaces answer: rtnetlink (through pyroute2) for what every
link has (index, kind, allocated queues), and the SIOCETHTOOL ioctl for
what the driver reports (driver name, RX rings, channels). Both work on an
interface of another network namespace when ``netns`` names it.

The device errors shared by the kernel adapters live here too.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import socket

from pyroute2 import IPRoute
from pyroute2 import netns as pyroute2_netns
from pyroute2.netlink.exceptions import NetlinkError

# include/uapi/linux/sockios.h and include/uapi/linux/ethtool.h
SIOCETHTOOL = 0x8946
ETHTOOL_GDRVINFO = 0x00000003
ETHTOOL_GRXRINGS = 0x0000002D
ETHTOOL_GCHANNELS = 0x0000003C
IFNAMSIZ = 16
IFF_LOOPBACK = 0x8
# include/uapi/linux/capability.h
CAP_NET_ADMIN = 12

_NOT_SUPPORTED = (errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL)


class DeviceError(Exception):
    """A kernel device operation failed; the message says what to do."""

    def __init__(self, ifname: str, message: str):
        self.ifname = ifname
        super().__init__(message)


class InterfaceMissing(DeviceError):
    """No interface of that name exists (in the namespace looked at)."""

    def __init__(self, ifname: str, netns: str | None = None):
        where = f"network namespace '{netns}'" if netns else "this network namespace"
        super().__init__(ifname, f"interface '{ifname}' does not exist in {where} "
                                 f"(see 'ip link show')")


class PermissionDenied(DeviceError):
    """The kernel refused: changing a device needs root or CAP_NET_ADMIN."""

    def __init__(self, ifname: str, action: str, capability: str = "CAP_NET_ADMIN"):
        self.capability = capability
        super().__init__(ifname, f"permission denied to {action} of interface '{ifname}': "
                                 f"run as root or grant {capability} (e.g. 'setcap "
                                 f"{capability.lower()}+ep' on the interpreter)")


def has_net_admin(status_path: str = "/proc/self/status") -> bool:
    """Whether this process may change devices (CAP_NET_ADMIN is effective)."""
    with open(status_path) as status:
        for line in status:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> CAP_NET_ADMIN & 1)
    return os.geteuid() == 0


def raise_for_errno(code: int, ifname: str, action: str, netns: str | None = None) -> None:
    """Turn the errno values every device request may return into DeviceErrors.

    Returns normally for any other code so the caller can name it precisely.
    """
    if code == errno.ENODEV:
        raise InterfaceMissing(ifname, netns)
    if code in (errno.EPERM, errno.EACCES):
        raise PermissionDenied(ifname, action)


class EthtoolDrvinfo(ctypes.Structure):
    """struct ethtool_drvinfo (196 bytes)."""

    _fields_ = [
        ("cmd", ctypes.c_uint32),
        ("driver", ctypes.c_char * 32),
        ("version", ctypes.c_char * 32),
        ("fw_version", ctypes.c_char * 32),
        ("bus_info", ctypes.c_char * 32),
        ("erom_version", ctypes.c_char * 32),
        ("reserved2", ctypes.c_char * 12),
        ("n_priv_flags", ctypes.c_uint32),
        ("n_stats", ctypes.c_uint32),
        ("testinfo_len", ctypes.c_uint32),
        ("eedump_len", ctypes.c_uint32),
        ("regdump_len", ctypes.c_uint32),
    ]


class EthtoolChannels(ctypes.Structure):
    """struct ethtool_channels (36 bytes)."""

    _fields_ = [(name, ctypes.c_uint32) for name in (
        "cmd", "max_rx", "max_tx", "max_other", "max_combined",
        "rx_count", "tx_count", "other_count", "combined_count")]


class EthtoolRxnfc(ctypes.Structure):
    """struct ethtool_rxnfc (192 bytes); only the fields GRXRINGS uses are named.

    The kernel copies the whole structure in and out, so the buffer must
    have its full size even though only ``data`` carries the answer.
    """

    _fields_ = [
        ("cmd", ctypes.c_uint32),
        ("flow_type", ctypes.c_uint32),
        ("data", ctypes.c_uint64),
        ("rest", ctypes.c_uint8 * 176),
    ]


class IfReq(ctypes.Structure):
    """struct ifreq as SIOCETHTOOL uses it: a name and a pointer to the command."""

    _fields_ = [
        ("ifr_name", ctypes.c_char * IFNAMSIZ),
        ("ifr_data", ctypes.c_void_p),
        ("pad", ctypes.c_uint8 * 16),
    ]


def encode_ifname(ifname: str) -> bytes:
    """The interface name as the kernel stores it; too long a name cannot exist."""
    raw = ifname.encode()
    if not raw or len(raw) >= IFNAMSIZ or b"/" in raw or b"\0" in raw:
        raise InterfaceMissing(ifname)
    return raw


class EthtoolIoctl:
    """A socket for SIOCETHTOOL requests on the interfaces of one namespace."""

    def __init__(self, netns: str | None = None):
        self.netns = netns
        self._sock = pyroute2_netns.create_socket(netns, socket.AF_INET, socket.SOCK_DGRAM)

    def request(self, ifname: str, command: ctypes.Structure | ctypes.Array) -> None:
        """Send one ethtool command; the kernel fills ``command`` in place.

        Raises OSError with the kernel's errno on failure.
        """
        ifr = IfReq(encode_ifname(ifname), ctypes.addressof(command))
        fcntl.ioctl(self._sock.fileno(), SIOCETHTOOL, ifr)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> "EthtoolIoctl":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NetDevice:
    """One interface, looked up by name, optionally in another namespace."""

    def __init__(self, ifname: str, netns: str | None = None):
        encode_ifname(ifname)
        self.ifname = ifname
        self.netns = netns

    def _link(self):
        try:
            with IPRoute(netns=self.netns) as ipr:
                return ipr.link("get", ifname=self.ifname)[0]
        except NetlinkError as err:
            raise_for_errno(err.code, self.ifname, "read the link", self.netns)
            raise DeviceError(self.ifname, f"cannot read link '{self.ifname}': {err}") from err

    def _ethtool(self, command: ctypes.Structure) -> bool:
        """Run a read-only ethtool command; False when the driver lacks it."""
        with EthtoolIoctl(self.netns) as ioc:
            try:
                ioc.request(self.ifname, command)
            except OSError as err:
                raise_for_errno(err.errno, self.ifname, "query the driver", self.netns)
                if err.errno in _NOT_SUPPORTED:
                    return False
                raise DeviceError(self.ifname,
                                  f"ethtool request on '{self.ifname}' failed: {err.strerror}") from err
        return True

    def exists(self) -> bool:
        try:
            self._link()
        except InterfaceMissing:
            return False
        return True

    def ifindex(self) -> int:
        return int(self._link()["index"])

    def driver(self) -> str:
        """The driver's name (``ethtool -i``), else the link kind, e.g. ``veth``."""
        info = EthtoolDrvinfo(cmd=ETHTOOL_GDRVINFO)
        if self._ethtool(info) and info.driver:
            return info.driver.decode(errors="replace")
        link = self._link()
        linkinfo = link.get_attr("IFLA_LINKINFO")
        kind = linkinfo.get_attr("IFLA_INFO_KIND") if linkinfo else None
        if kind:
            return str(kind)
        if link["flags"] & IFF_LOOPBACK:
            return "loopback"
        return "unknown"

    def rx_queue_count(self) -> int:
        """RX queues an RSS table may name.

        The RX ring count (``ETHTOOL_GRXRINGS``) is what the kernel checks
        table entries against; drivers without it report channels, and
        any link at least has its allocated RX queues.
        """
        rings = EthtoolRxnfc(cmd=ETHTOOL_GRXRINGS)
        if self._ethtool(rings) and rings.data:
            return int(rings.data)
        channels = EthtoolChannels(cmd=ETHTOOL_GCHANNELS)
        if self._ethtool(channels) and channels.rx_count + channels.combined_count:
            return int(channels.rx_count + channels.combined_count)
        return int(self._link().get_attr("IFLA_NUM_RX_QUEUES") or 1)
