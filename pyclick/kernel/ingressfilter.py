"""Keeping received frames from the host's network stack while packet sockets still get them.

On receive, the kernel hands a frame to every packet tap on the interface
(AF_PACKET sockets such as FromDevice's ring) before the traffic-control
ingress hook runs. A filter on that hook that drops everything therefore
leaves the taps their copy while the network stack gets nothing: what
Click's ``SNIFFER false`` asks for. The filter lives on a ``clsact`` qdisc
that pyclick adds and deletes; its classifier is ``cls_bpf`` in
direct-action mode running a two-instruction program that returns
``TC_ACT_SHOT`` (some kernels are built without the matchall classifier
or the gact action; cls_bpf is rarely left out).

pyclick never touches a clsact or ingress qdisc it did not add: one found
on the interface at start is refused. At removal, the qdisc is deleted
with the filter unless somebody added filters of their own to it since;
then only pyclick's filter goes.
"""

from __future__ import annotations

import errno
import os
import struct
from typing import Protocol

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from pyclick.kernel import bpf_syscall
from pyclick.kernel.netdev import DeviceError, InterfaceMissing, encode_ifname

#: Name of the program and of the filter: how pyclick knows its own filter again.
FILTER_NAME = "pyclick_drop"
#: Priority and handle of the filter on the ingress hook.
FILTER_PRIO = 1
FILTER_HANDLE = 1
# include/uapi/linux/pkt_sched.h: the clsact qdisc's ingress and egress hooks.
TC_H_CLSACT = 0xFFFFFFF1
INGRESS_HOOK = 0xFFFFFFF2
EGRESS_HOOK = 0xFFFFFFF3
BPF_PROG_TYPE_SCHED_CLS = 3
TC_ACT_SHOT = 2
# r0 = TC_ACT_SHOT; exit
_DROP_PROGRAM = struct.pack("<BBhi", 0xB7, 0, 0, TC_ACT_SHOT) + struct.pack("<BBhi", 0x95, 0, 0, 0)


class IngressLedger(Protocol):
    """Where the drop filter is noted before it is added and forgotten once removed
    (an interface's state record, :class:`pyclick.kernel.ownership.InterfaceClaim`)."""

    def note_ingress_drop(self) -> None: ...

    def forget_ingress_drop(self) -> None: ...


def _index(ipr: IPRoute, ifname: str) -> int:
    found = ipr.link_lookup(ifname=ifname)
    if not found:
        raise InterfaceMissing(ifname)
    return int(found[0])


def _failure(ifname: str, action: str, err: OSError | NetlinkError) -> DeviceError:
    code = err.code if isinstance(err, NetlinkError) else err.errno
    if code in (errno.EPERM, errno.EACCES):
        return DeviceError(ifname, f"permission denied to {action} on interface '{ifname}': "
                                   f"run as root or grant CAP_NET_ADMIN and CAP_BPF")
    text = err.args[-1] if isinstance(err, NetlinkError) and err.args else str(err)
    return DeviceError(ifname, f"cannot {action} on interface '{ifname}': {text}")


def _hook_qdisc(ipr: IPRoute, index: int) -> str | None:
    """The kind of the qdisc on the interface's ingress side (clsact or ingress), if any."""
    for qdisc in ipr.get_qdiscs(index=index):
        if qdisc["parent"] == TC_H_CLSACT:
            return str(qdisc.get_attr("TCA_KIND"))
    return None


def _filters(ipr: IPRoute, index: int) -> tuple[bool, int]:
    """Whether pyclick's filter is on the ingress hook, and how many other filters
    the clsact qdisc holds on either hook."""
    ours = False
    others = 0
    for hook in (INGRESS_HOOK, EGRESS_HOOK):
        for entry in ipr.get_filters(index=index, parent=hook):
            options = entry.get_attr("TCA_OPTIONS")
            # The kernel lists each priority once more without a handle or options.
            if entry["handle"] == 0 and options is None:
                continue
            mine = (hook == INGRESS_HOOK and entry.get_attr("TCA_KIND") == "bpf"
                    and entry["info"] >> 16 == FILTER_PRIO and entry["handle"] == FILTER_HANDLE
                    and options is not None and options.get_attr("TCA_BPF_NAME") == FILTER_NAME)
            ours = ours or mine
            others += not mine
    return ours, others


class IngressDrop:
    """The drop filter on one interface, added by :meth:`install`, gone after :meth:`remove`."""

    def __init__(self, ifname: str, ledger: IngressLedger) -> None:
        encode_ifname(ifname)
        self.ifname = ifname
        self._ledger = ledger
        self.installed = False
        self._qdisc_added = False

    def install(self) -> None:
        """Add the clsact qdisc and the dropping filter; DeviceError when refused."""
        with IPRoute() as ipr:
            index = _index(ipr, self.ifname)
            try:
                present = _hook_qdisc(ipr, index)
            except NetlinkError as err:
                raise _failure(self.ifname, "read the qdiscs", err) from err
            if present is not None:
                raise DeviceError(self.ifname, (
                    f"interface '{self.ifname}' already has a {present} qdisc that pyclick did "
                    f"not add ('tc qdisc show dev {self.ifname}'); pyclick leaves it alone and "
                    f"cannot keep received frames from the network stack"))
            self._ledger.note_ingress_drop()
            self.installed = True
            try:
                self._add(ipr, index)
            except BaseException:
                # A qdisc that appeared meanwhile is somebody else's: only undo our own.
                if self._qdisc_added:
                    self.remove()
                else:
                    self.installed = False
                    self._ledger.forget_ingress_drop()
                raise

    def _add(self, ipr: IPRoute, index: int) -> None:
        try:
            program = bpf_syscall.prog_load(BPF_PROG_TYPE_SCHED_CLS, _DROP_PROGRAM, FILTER_NAME)
        except OSError as err:
            raise _failure(self.ifname, "load the dropping tc program", err) from err
        try:
            ipr.tc("add", "clsact", index)
            self._qdisc_added = True
            ipr.tc("add-filter", "bpf", index, handle=FILTER_HANDLE, fd=program,
                   name=FILTER_NAME, parent=INGRESS_HOOK, prio=FILTER_PRIO,
                   direct_action=True)
        except NetlinkError as err:
            raise _failure(self.ifname, "add a dropping tc ingress filter", err) from err
        finally:
            os.close(program)

    def remove(self) -> str:
        """Take the filter (and the qdisc, see the module docstring) away; safe to call
        twice. Returns what was done, in words."""
        if not self.installed:
            return "nothing to remove"
        said = remove_from(self.ifname)
        self.installed = False
        self._ledger.forget_ingress_drop()
        return said


def remove_from(ifname: str) -> str:
    """Remove pyclick's dropping filter from ``ifname``, and the clsact qdisc with it
    when nobody else's filter is on it; returns what was done, in words."""
    with IPRoute() as ipr:
        try:
            index = _index(ipr, ifname)
        except InterfaceMissing:
            return f"{ifname} no longer exists, and the tc ingress filter went with it"
        try:
            if _hook_qdisc(ipr, index) != "clsact":
                return "no clsact qdisc left (removed since)"
            ours, others = _filters(ipr, index)
            if not others:
                ipr.tc("del", "clsact", index)
                return "clsact qdisc and its dropping ingress filter removed"
            if ours:
                ipr.tc("del-filter", "bpf", index, handle=FILTER_HANDLE, parent=INGRESS_HOOK,
                       prio=FILTER_PRIO)
                return (f"dropping ingress filter removed; the clsact qdisc stays for the "
                        f"{others} filter(s) somebody else added to it")
            return "no pyclick filter on the clsact qdisc (removed since); left alone"
        except NetlinkError as err:
            if err.code == errno.ENODEV:
                return f"{ifname} no longer exists, and the tc ingress filter went with it"
            raise _failure(ifname, "remove the dropping tc ingress filter", err) from err
