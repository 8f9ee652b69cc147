"""Attaching an XDP program to an interface, and putting things back after.

An interface carries at most one XDP program, in native (driver) or generic
(skb) mode. ``XdpAttachment`` remembers what was there before it attached
and holds a reference on that program, so ``detach`` can reinstall it
exactly; without the reference the kernel would free a replaced program
that nothing else pins. Attach and restore go through rtnetlink (pyroute2)
in the calling thread's network namespace.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from dataclasses import dataclass
from typing import Protocol

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from pyclick.kernel import bpf_syscall

XDP_FLAGS_UPDATE_IF_NOEXIST = 1 << 0
XDP_FLAGS_SKB_MODE = 1 << 1
XDP_FLAGS_DRV_MODE = 1 << 2
XDP_FLAGS_REPLACE = 1 << 4

MODE_FLAGS = {"native": XDP_FLAGS_DRV_MODE, "generic": XDP_FLAGS_SKB_MODE}
_ATTACHED_MODES = {"xdp": "native", "xdpgeneric": "generic", "xdpoffload": "offload",
                   "xdpmulti": "multi"}
MODES = ("auto", "native", "generic")

log = logging.getLogger("pyclick.kernel.xdp")


class XdpError(RuntimeError):
    """An XDP attach or detach failed; the message names interface and mode."""


@dataclass(frozen=True)
class XdpState:
    """What an interface carries: mode (native, generic, offload) and program id.

    ``mode`` is None and ``prog_id`` 0 when no program is attached.
    """

    mode: str | None
    prog_id: int


def ifindex(ifname: str) -> int:
    """The interface's index in the current network namespace."""
    try:
        return socket.if_nametoindex(ifname)
    except OSError as err:
        raise XdpError(f"interface {ifname} does not exist in this network namespace") from err


def xdp_state(ifname: str) -> XdpState:
    """The XDP program currently attached to ``ifname``, if any."""
    index = ifindex(ifname)
    with IPRoute() as ipr:
        link = ipr.get_links(index)[0]
    xdp = link.get_attr("IFLA_XDP")
    if xdp is None:
        return XdpState(None, 0)
    attached = xdp.get_attr("IFLA_XDP_ATTACHED")
    if not attached:
        return XdpState(None, 0)
    return XdpState(_ATTACHED_MODES.get(attached, attached),
                    xdp.get_attr("IFLA_XDP_PROG_ID") or 0)


def _set_xdp(index: int, fd: int, flags: int, expected_fd: int | None = None) -> None:
    attrs: list[tuple[str, int]] = [("IFLA_XDP_FD", fd), ("IFLA_XDP_FLAGS", flags)]
    if expected_fd is not None:
        attrs[1] = ("IFLA_XDP_FLAGS", flags | XDP_FLAGS_REPLACE)
        attrs.append(("IFLA_XDP_EXPECTED_FD", expected_fd))
    with IPRoute() as ipr:
        ipr.link("set", index=index, xdp={"attrs": attrs})


class XdpAttachment:
    """One program attached to one interface, undone by ``detach``.

    ``mode`` is ``native``, ``generic`` or ``auto`` (native, else generic).
    When a program is already attached, ours replaces it in that program's
    mode (the kernel allows one mode at a time) and ``detach`` puts it back.
    """

    def __init__(self, ifname: str, prog_fd: int, mode: str = "auto") -> None:
        if mode not in MODES:
            raise ValueError(f"XDP mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.ifname = ifname
        self.prog_fd = prog_fd
        self.requested_mode = mode
        #: The mode actually in use once attached.
        self.mode: str | None = None
        self.previous = XdpState(None, 0)
        self._previous_fd: int | None = None
        self._index = 0

    @property
    def attached(self) -> bool:
        return self.mode is not None

    def _candidate_modes(self) -> list[str]:
        if self.previous.mode in MODE_FLAGS:
            if self.requested_mode not in ("auto", self.previous.mode):
                raise XdpError(
                    f"{self.ifname} already carries an XDP program (id {self.previous.prog_id}) "
                    f"in {self.previous.mode} mode; the kernel allows one mode at a time, "
                    f"so {self.requested_mode} mode is not possible")
            return [self.previous.mode]
        if self.previous.mode is not None:
            raise XdpError(f"{self.ifname} carries an XDP program in {self.previous.mode} mode, "
                           f"which pyclick does not replace")
        return ["native", "generic"] if self.requested_mode == "auto" else [self.requested_mode]

    def attach(self) -> str:
        """Attach the program; returns the mode used."""
        if self.attached:
            return self.mode
        self._index = ifindex(self.ifname)
        self.previous = xdp_state(self.ifname)
        modes = self._candidate_modes()
        if self.previous.prog_id:
            self._previous_fd = bpf_syscall.prog_fd_by_id(self.previous.prog_id)
        failures = []
        for mode in modes:
            try:
                _set_xdp(self._index, self.prog_fd, MODE_FLAGS[mode])
            except NetlinkError as err:
                failures.append(f"{mode}: {os.strerror(err.code)}")
                continue
            self.mode = mode
            if failures:
                log.info("%s: XDP attached in %s mode (%s)", self.ifname, mode,
                         "; ".join(failures))
            return mode
        self._release_previous()
        raise XdpError(f"cannot attach XDP program to {self.ifname}: " + "; ".join(failures))

    def detach(self) -> None:
        """Remove our program and reinstall the previous one, if there was one.

        A program that someone else attached over ours meanwhile is left alone.
        """
        if not self.attached:
            return
        flags = MODE_FLAGS[self.mode]
        replacement = self._previous_fd if self._previous_fd is not None else -1
        try:
            _set_xdp(self._index, replacement, flags, expected_fd=self.prog_fd)
        except NetlinkError as err:
            if err.code == errno.ENODEV:
                log.info("%s: interface gone, nothing to detach", self.ifname)
            elif err.code == errno.EEXIST:
                log.warning("%s: another XDP program replaced pyclick's; leaving it attached",
                            self.ifname)
            else:
                raise XdpError(f"cannot detach XDP program from {self.ifname}: "
                               f"{os.strerror(err.code)}") from err
        finally:
            self.mode = None
            self._release_previous()

    def _release_previous(self) -> None:
        if self._previous_fd is not None:
            os.close(self._previous_fd)
            self._previous_fd = None

    def __enter__(self) -> "XdpAttachment":
        self.attach()
        return self

    def __exit__(self, *exc: object) -> None:
        self.detach()


class _Closable(Protocol):
    def close(self) -> None: ...


def detach_and_close(attachment: XdpAttachment | None, program: _Closable | None) -> None:
    """Detach ``attachment``, then close ``program`` even when detaching failed.

    Either may be None (nothing attached, or the program is kept attached).
    """
    try:
        if attachment is not None:
            attachment.detach()
    finally:
        if program is not None:
            program.close()
