"""The NIC's RSS indirection table (RETA), read and written through ethtool.

Two kernel interfaces carry the table:

* the ethtool generic netlink family: ``ETHTOOL_MSG_RSS_GET`` (Linux 6.2+)
  and ``ETHTOOL_MSG_RSS_SET`` (Linux 6.17+), the table travelling as an
  array of u32 in ``ETHTOOL_A_RSS_INDIR``;
* the ``SIOCETHTOOL`` ioctl with ``ETHTOOL_GRSSH`` / ``ETHTOOL_SRSSH`` and
  ``struct ethtool_rxfh``, available on every kernel RSS++ can run on.

``EthtoolRSS`` prefers netlink for each direction when the running kernel
lists the operation in the family, and falls back to the ioctl otherwise.
A driver that answers EOPNOTSUPP has no programmable table: that is
reported as ``NoRssTable`` naming the driver, whichever path asked.
"""

from __future__ import annotations

import ctypes
import errno
import threading
from dataclasses import dataclass
from typing import NoReturn, Protocol

import numpy as np
from pyroute2.netlink import NLA_F_NESTED, NLM_F_ACK, NLM_F_REQUEST, genlmsg, nla
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.generic import GenericNetlinkSocket

from pyclick.kernel.netdev import (
    DeviceError,
    EthtoolIoctl,
    InterfaceMissing,
    NetDevice,
    PermissionDenied,
    raise_for_errno,
)

__all__ = [
    "DeviceError", "EthtoolRSS", "InterfaceMissing", "NetlinkRss", "IoctlRss",
    "NoRssTable", "PermissionDenied", "RawRss", "RssConfig",
]

# include/uapi/linux/ethtool_netlink_generated.h
ETHTOOL_GENL_NAME = "ethtool"
ETHTOOL_GENL_VERSION = 1
ETHTOOL_MSG_RSS_GET = 38
ETHTOOL_MSG_RSS_GET_REPLY = 38
ETHTOOL_MSG_RSS_SET = 48
ETHTOOL_A_HEADER_DEV_INDEX = 1
ETHTOOL_A_HEADER_DEV_NAME = 2
ETHTOOL_A_HEADER_FLAGS = 3
ETHTOOL_A_RSS_HEADER = 1
ETHTOOL_A_RSS_CONTEXT = 2
ETHTOOL_A_RSS_HFUNC = 3
ETHTOOL_A_RSS_INDIR = 4
ETHTOOL_A_RSS_HKEY = 5
ETHTOOL_A_RSS_INPUT_XFRM = 6
ETHTOOL_A_RSS_START_CONTEXT = 7

# include/uapi/linux/ethtool.h
ETHTOOL_GRSSH = 0x00000046
ETHTOOL_SRSSH = 0x00000047
ETH_RSS_HASH_NO_CHANGE = 0
HASH_FUNCTIONS = {0x1: "toeplitz", 0x2: "xor", 0x4: "crc32"}

_DRIVER_LACKS_IT = (errno.EOPNOTSUPP, errno.ENOTSUP)


def hash_function_name(bits: int) -> str:
    """Name of an ``ETH_RSS_HASH_*`` value as ``ethtool -x`` prints it."""
    if not bits:
        return ""
    names = [name for bit, name in HASH_FUNCTIONS.items() if bits & bit]
    unknown = bits & ~sum(HASH_FUNCTIONS)
    if unknown:
        names.append(f"0x{unknown:x}")
    return "+".join(names)


class NoRssTable(DeviceError):
    """The interface's driver offers no RSS indirection table to program."""

    def __init__(self, ifname: str, driver: str):
        self.driver = driver
        super().__init__(ifname, (
            f"driver '{driver}' of interface '{ifname}' has no RSS indirection table "
            f"that ethtool can program ('ethtool -x {ifname}' fails the same way); "
            f"balancing needs a NIC whose driver exposes one (e.g. mlx5_core, ice, "
            f"i40e, ixgbe, bnxt_en) or software RSS through XDP"))


@dataclass(frozen=True)
class RawRss:
    """What one RSS read returned, before interpretation."""

    table: np.ndarray
    key: bytes
    hfunc: int


@dataclass(frozen=True)
class RssConfig:
    """An interface's RSS state.

    ``table[i]`` is the RX queue of bucket i; ``key`` the Toeplitz key;
    ``hfunc`` the hash function's name (``toeplitz``, ``xor``, ``crc32``,
    empty when the driver does not say); ``queues`` the RX queue count
    table entries must stay below.
    """

    table: np.ndarray
    key: bytes
    hfunc: str
    queues: int


# --- netlink messages --------------------------------------------------------

class ethtool_header(nla):
    """The request/reply header nest every ethtool message starts with."""

    nla_flags = NLA_F_NESTED
    nla_map = (
        (0, "ETHTOOL_A_HEADER_UNSPEC", "none"),
        (ETHTOOL_A_HEADER_DEV_INDEX, "ETHTOOL_A_HEADER_DEV_INDEX", "uint32"),
        (ETHTOOL_A_HEADER_DEV_NAME, "ETHTOOL_A_HEADER_DEV_NAME", "asciiz"),
        (ETHTOOL_A_HEADER_FLAGS, "ETHTOOL_A_HEADER_FLAGS", "uint32"),
    )


class ethtool_rss_msg(genlmsg):
    """RSS_GET request and reply, RSS_SET request."""

    nla_map = (
        (0, "ETHTOOL_A_RSS_UNSPEC", "none"),
        (ETHTOOL_A_RSS_HEADER, "ETHTOOL_A_RSS_HEADER", "ethtool_header"),
        (ETHTOOL_A_RSS_CONTEXT, "ETHTOOL_A_RSS_CONTEXT", "uint32"),
        (ETHTOOL_A_RSS_HFUNC, "ETHTOOL_A_RSS_HFUNC", "uint32"),
        (ETHTOOL_A_RSS_INDIR, "ETHTOOL_A_RSS_INDIR", "cdata"),
        (ETHTOOL_A_RSS_HKEY, "ETHTOOL_A_RSS_HKEY", "cdata"),
        (ETHTOOL_A_RSS_INPUT_XFRM, "ETHTOOL_A_RSS_INPUT_XFRM", "uint32"),
        (ETHTOOL_A_RSS_START_CONTEXT, "ETHTOOL_A_RSS_START_CONTEXT", "uint32"),
    )
    ethtool_header = ethtool_header


def _rss_message(cmd: int, ifname: str) -> ethtool_rss_msg:
    msg = ethtool_rss_msg()
    msg["cmd"] = cmd
    msg["version"] = ETHTOOL_GENL_VERSION
    msg["attrs"].append(("ETHTOOL_A_RSS_HEADER",
                         {"attrs": [("ETHTOOL_A_HEADER_DEV_NAME", ifname)]}))
    return msg


def rss_get_request(ifname: str) -> ethtool_rss_msg:
    """An RSS_GET request for the default RSS context of ``ifname``."""
    return _rss_message(ETHTOOL_MSG_RSS_GET, ifname)


def rss_set_request(ifname: str, table: np.ndarray) -> ethtool_rss_msg:
    """An RSS_SET request changing only the indirection table."""
    msg = _rss_message(ETHTOOL_MSG_RSS_SET, ifname)
    indir = np.ascontiguousarray(table, dtype=np.dtype("=u4")).tobytes()
    msg["attrs"].append(("ETHTOOL_A_RSS_INDIR", indir))
    return msg


def parse_rss_reply(msg: ethtool_rss_msg) -> RawRss:
    """Table, key and hash function of a decoded RSS_GET reply."""
    indir = msg.get_attr("ETHTOOL_A_RSS_INDIR") or b""
    usable = len(indir) - len(indir) % 4
    table = np.frombuffer(indir[:usable], dtype=np.dtype("=u4")).astype(np.int64)
    key = bytes(msg.get_attr("ETHTOOL_A_RSS_HKEY") or b"")
    return RawRss(table=table, key=key, hfunc=int(msg.get_attr("ETHTOOL_A_RSS_HFUNC") or 0))


# --- transports ----------------------------------------------------------------

class RssTransport(Protocol):
    """One way of talking to the kernel about RSS tables."""

    name: str

    def get(self, ifname: str) -> RawRss: ...

    def set_table(self, ifname: str, table: np.ndarray) -> None: ...

    def close(self) -> None: ...


class NetlinkRss:
    """RSS_GET / RSS_SET over the ethtool generic netlink family."""

    name = "netlink"

    def __init__(self, netns: str | None = None):
        """Open a socket and learn which ethtool operations the kernel offers.

        Raises NetlinkError when the kernel has no ethtool family at all.
        """
        self.netns = netns
        self._sock = GenericNetlinkSocket(netns=netns, ext_ack=True)
        try:
            self._sock.bind(ETHTOOL_GENL_NAME, ethtool_rss_msg)
            family = self._sock.discovery(ETHTOOL_GENL_NAME)
        except NetlinkError:
            self._sock.close()
            raise
        self.operations = frozenset(op.get_attr("CTRL_ATTR_OP_ID")
                                    for op in family.get_attr("CTRL_ATTR_OPS") or ())
        self._lock = threading.Lock()

    @property
    def can_get(self) -> bool:
        return ETHTOOL_MSG_RSS_GET in self.operations

    @property
    def can_set(self) -> bool:
        return ETHTOOL_MSG_RSS_SET in self.operations

    def _request(self, msg: ethtool_rss_msg, flags: int, ifname: str, action: str):
        try:
            with self._lock:
                return self._sock.nlm_request(msg, msg_type=self._sock.prid, msg_flags=flags)
        except NetlinkError as err:
            _raise_device_error(err.code, ifname, action, self.netns, str(err.args[-1]))

    def get(self, ifname: str) -> RawRss:
        replies = self._request(rss_get_request(ifname), NLM_F_REQUEST, ifname,
                                "read the RSS table")
        for reply in replies:
            if reply["cmd"] == ETHTOOL_MSG_RSS_GET_REPLY:
                return parse_rss_reply(reply)
        raise DeviceError(ifname, f"the kernel sent no RSS_GET reply for '{ifname}'")

    def set_table(self, ifname: str, table: np.ndarray) -> None:
        self._request(rss_set_request(ifname, table), NLM_F_REQUEST | NLM_F_ACK, ifname,
                      "change the RSS table")

    def close(self) -> None:
        self._sock.close()


class EthtoolRxfh(ctypes.Structure):
    """The fixed head of struct ethtool_rxfh (24 bytes); the table and key follow it.

    Kernels before 6.8 call ``input_xfrm`` ``rsvd8[0]`` and require it to be
    zero, newer ones read it as the input transformation to install: writing
    back the value a read returned is right for both.
    """

    _fields_ = [
        ("cmd", ctypes.c_uint32),
        ("rss_context", ctypes.c_uint32),
        ("indir_size", ctypes.c_uint32),
        ("key_size", ctypes.c_uint32),
        ("hfunc", ctypes.c_uint8),
        ("input_xfrm", ctypes.c_uint8),
        ("rsvd8", ctypes.c_uint8 * 2),
        ("rsvd32", ctypes.c_uint32),
    ]


class IoctlRss:
    """ETHTOOL_GRSSH / ETHTOOL_SRSSH through the SIOCETHTOOL ioctl."""

    name = "ioctl"

    def __init__(self, netns: str | None = None):
        self.netns = netns
        self._ioctl = EthtoolIoctl(netns)
        self._lock = threading.Lock()
        self._input_xfrm: dict[str, int] = {}

    def _call(self, ifname: str, buf: ctypes.Array, action: str) -> None:
        try:
            with self._lock:
                self._ioctl.request(ifname, buf)
        except OSError as err:
            _raise_device_error(err.errno, ifname, action, self.netns, err.strerror or "")

    def _sizes(self, ifname: str) -> EthtoolRxfh:
        head = EthtoolRxfh(cmd=ETHTOOL_GRSSH)
        self._call(ifname, head, "read the RSS table")
        return head

    def get(self, ifname: str) -> RawRss:
        sizes = self._sizes(ifname)
        n, k = sizes.indir_size, sizes.key_size
        head_size = ctypes.sizeof(EthtoolRxfh)
        buf = ctypes.create_string_buffer(head_size + 4 * n + k)
        head = EthtoolRxfh.from_buffer(buf)
        head.cmd, head.indir_size, head.key_size = ETHTOOL_GRSSH, n, k
        self._call(ifname, buf, "read the RSS table")
        self._input_xfrm[ifname] = head.input_xfrm
        table = np.frombuffer(buf, dtype=np.dtype("=u4"), count=n, offset=head_size)
        key = bytes(buf.raw[head_size + 4 * n: head_size + 4 * n + k])
        return RawRss(table=table.astype(np.int64), key=key, hfunc=head.hfunc)

    def set_table(self, ifname: str, table: np.ndarray) -> None:
        if ifname not in self._input_xfrm:
            self.get(ifname)
        entries = np.ascontiguousarray(table, dtype=np.dtype("=u4"))
        head_size = ctypes.sizeof(EthtoolRxfh)
        buf = ctypes.create_string_buffer(head_size + entries.nbytes)
        head = EthtoolRxfh.from_buffer(buf)
        head.cmd, head.indir_size = ETHTOOL_SRSSH, entries.size
        head.hfunc = ETH_RSS_HASH_NO_CHANGE
        head.input_xfrm = self._input_xfrm[ifname]
        ctypes.memmove(ctypes.addressof(buf) + head_size, entries.ctypes.data, entries.nbytes)
        self._call(ifname, buf, "change the RSS table")

    def close(self) -> None:
        self._ioctl.close()


def _raise_device_error(code: int, ifname: str, action: str, netns: str | None,
                        detail: str) -> NoReturn:
    raise_for_errno(code, ifname, action, netns)
    if code in _DRIVER_LACKS_IT:
        raise NoRssTable(ifname, _driver_name(ifname, netns))
    raise DeviceError(ifname, f"cannot {action} of '{ifname}': {detail} "
                              f"({errno.errorcode.get(code, code)})")


def _driver_name(ifname: str, netns: str | None) -> str:
    """The driver's name for an error message; never fails itself."""
    try:
        return NetDevice(ifname, netns).driver()
    except (OSError, DeviceError):
        return "unknown"


# --- the device ------------------------------------------------------------------

TRANSPORTS = ("auto", "netlink", "ioctl")


class EthtoolRSS:
    """The RSS table of one kernel interface, as an RssDevice.

    ``transport`` is ``auto`` (netlink where the kernel offers the
    operation, ioctl otherwise), ``netlink`` or ``ioctl``. ``netns`` names
    the network namespace of the interface (None: this process's).
    """

    def __init__(self, ifname: str, *, transport: str = "auto", netns: str | None = None):
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}, not {transport!r}")
        self.ifname = ifname
        self.netns = netns
        self.device = NetDevice(ifname, netns)
        self._reader, self._writer = self._open_transports(transport)
        self._config: RssConfig | None = None

    def _open_transports(self, transport: str) -> tuple[RssTransport, RssTransport]:
        if transport == "ioctl":
            ioctl = IoctlRss(self.netns)
            return ioctl, ioctl
        netlink = self._open_netlink(required=transport == "netlink")
        if netlink is not None and netlink.can_get and netlink.can_set:
            return netlink, netlink
        ioctl = IoctlRss(self.netns)
        if netlink is not None and netlink.can_get:
            return netlink, ioctl
        if netlink is not None:
            netlink.close()
        return ioctl, ioctl

    def _open_netlink(self, required: bool) -> NetlinkRss | None:
        """The netlink path, or None when the kernel lacks it and it is optional."""
        try:
            netlink = NetlinkRss(self.netns)
        except NetlinkError as err:
            if required:
                raise DeviceError(self.ifname, f"the kernel has no ethtool netlink family "
                                               f"({err}); use the ioctl transport") from err
            return None
        if required and not (netlink.can_get and netlink.can_set):
            netlink.close()
            raise DeviceError(self.ifname, "this kernel's ethtool netlink family lacks "
                                           "RSS_GET or RSS_SET (RSS_SET needs Linux 6.17); "
                                           "use the ioctl transport")
        return netlink

    @property
    def transports(self) -> tuple[str, str]:
        """Names of the (read, write) paths in use."""
        return self._reader.name, self._writer.name

    def driver(self) -> str:
        return self.device.driver()

    def read(self) -> RssConfig:
        """The interface's current table, key, hash function and queue count.

        Raises NoRssTable when the driver has no table to program.
        """
        raw = self._reader.get(self.ifname)
        if raw.table.size == 0:
            raise NoRssTable(self.ifname, self.driver())
        queues = self._config.queues if self._config else self.device.rx_queue_count()
        self._config = RssConfig(table=raw.table, key=raw.key,
                                 hfunc=hash_function_name(raw.hfunc), queues=queues)
        return self._config

    def _known(self) -> RssConfig:
        return self._config if self._config is not None else self.read()

    # RssDevice
    def reta_size(self) -> int:
        return int(self._known().table.size)

    def queue_count(self) -> int:
        return self._known().queues

    def hash_key(self) -> bytes:
        return self._known().key

    def read_table(self) -> np.ndarray:
        return self.read().table.copy()

    def write_table(self, table: np.ndarray) -> None:
        """Install ``table``; it must have reta_size() entries, each < queue_count()."""
        entries = np.asarray(table)
        known = self._known()
        if entries.ndim != 1 or entries.size != known.table.size:
            raise ValueError(f"a table for '{self.ifname}' needs {known.table.size} entries, "
                             f"not {entries.size}")
        if entries.min() < 0 or entries.max() >= known.queues:
            raise ValueError(f"table entries must name RX queues 0..{known.queues - 1} "
                             f"of '{self.ifname}', got {int(entries.min())}..{int(entries.max())}")
        self._writer.set_table(self.ifname, entries)

    def close(self) -> None:
        self._reader.close()
        if self._writer is not self._reader:
            self._writer.close()

    def __enter__(self) -> "EthtoolRSS":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
