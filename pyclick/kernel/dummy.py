"""Dummy interfaces: where frames go to reach the host's packet sniffers only.

A frame transmitted on an interface is first handed to every packet tap
on it (tcpdump's packet sockets among them), then to the driver. The
``dummy`` driver drops every frame it is given: nothing reaches a wire,
and nothing enters the host's network stack. Sending through a packet
socket on a dummy interface therefore shows frames to the sniffers alone
(what ToHostSniffers does). Kernels built without the dummy driver often
have ``ifb``, which drops the same way every frame that tc did not
redirect to it: it stands in for dummy there.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
import subprocess
from pathlib import Path

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from pyclick.kernel.netdev import DeviceError, InterfaceMissing, encode_ifname, raise_for_errno

IFF_UP = 0x1
#: Kinds of link whose driver drops what it is sent, in order of preference.
DROPPING_KINDS = ("dummy", "ifb")
#: Where the kernel lists its drivers, loaded or built in.
SYS_MODULE = Path("/sys/module")


def link_kind(ifname: str) -> str | None:
    """The kind of link ``ifname`` is (``dummy``, ``veth``, ``""`` for a NIC's
    own driver), or None when no such interface exists."""
    encode_ifname(ifname)
    with IPRoute() as ipr:
        try:
            link = ipr.link("get", ifname=ifname)[0]
        except NetlinkError as err:
            if err.code == errno.ENODEV:
                return None
            raise_for_errno(err.code, ifname, "read the link")
            raise DeviceError(ifname, f"cannot read link '{ifname}': {err}") from err
    info = link.get_attr("IFLA_LINKINFO")
    return str(info.get_attr("IFLA_INFO_KIND") or "") if info else ""


def is_up(ifname: str) -> bool:
    with IPRoute() as ipr:
        try:
            return bool(ipr.link("get", ifname=ifname)[0]["flags"] & IFF_UP)
        except NetlinkError as err:
            if err.code == errno.ENODEV:
                raise InterfaceMissing(ifname) from err
            raise


def create(ifname: str) -> tuple[int, str]:
    """Create a dummy interface ``ifname`` (an ifb one on kernels without the
    dummy driver), up; returns its index and its kind."""
    encode_ifname(ifname)
    with IPRoute() as ipr:
        try:
            kind = _add_dropping_link(ipr, ifname)
            index = ipr.link_lookup(ifname=ifname)[0]
            ipr.link("set", index=index, state="up")
        except NetlinkError as err:
            if err.code in (errno.EPERM, errno.EACCES):
                raise DeviceError(ifname, f"permission denied to create dummy interface "
                                          f"'{ifname}': run as root or grant CAP_NET_ADMIN"
                                  ) from err
            raise DeviceError(ifname, f"cannot create dummy interface '{ifname}': "
                                      f"{err.args[-1] if err.args else err}") from err
    return int(index), kind


def _add_dropping_link(ipr: IPRoute, ifname: str) -> str:
    *preferred, last = DROPPING_KINDS
    for kind in preferred:
        try:
            ipr.link("add", ifname=ifname, kind=kind)
            return kind
        except NetlinkError as err:
            # A kernel without the driver says "Unknown device type".
            if err.code != errno.EOPNOTSUPP:
                raise
    if last == "ifb":
        load_ifb_bare()
    ipr.link("add", ifname=ifname, kind=last)
    return last


def load_ifb_bare() -> None:
    """Load the ifb driver with no interface of its own, unless it is there already.

    Loaded by a first link instead, the driver would also make ifb0 and ifb1
    in the first namespace, which would stay after ours is deleted. Without
    modprobe, or when it refuses, the link loads the driver as before.
    """
    if (SYS_MODULE / "ifb").exists():
        return
    modprobe = shutil.which("modprobe") or "/usr/sbin/modprobe"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run([modprobe, "ifb", "numifbs=0"], capture_output=True, timeout=10,
                       check=False)


def delete(ifname: str, index: int) -> bool:
    """Delete interface ``ifname`` if it still has index ``index`` (the one
    created); False when it is gone or another interface took the name."""
    with IPRoute() as ipr:
        if ipr.link_lookup(ifname=ifname) != [index]:
            return False
        try:
            ipr.link("del", index=index)
        except NetlinkError as err:
            if err.code == errno.ENODEV:
                return False
            raise DeviceError(ifname, f"cannot delete interface '{ifname}': {err}") from err
    return True
