"""Attaching an XDP program to an interface, and putting things back after.

An interface carries at most one XDP program, in native (driver) or generic
(skb) mode. ``XdpAttachment`` remembers what was there before it attached
and holds a reference on that program, so ``detach`` can reinstall it
exactly; without the reference the kernel would free a replaced program
that nothing else pins. Attach and restore go through rtnetlink (pyroute2)
in the calling thread's network namespace.

Given a ledger (the interface's :class:`~pyclick.kernel.ownership.InterfaceClaim`),
an attachment notes what it installs, and what it replaces, before it
attaches, and forgets it once detached: a pyclick killed in between leaves
a state record from which the next one puts the interface back.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from dataclasses import dataclass
from typing import Any, Protocol, Sequence

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from pyclick.kernel import bpf_syscall
from pyclick.kernel.staterecord import InstalledXdp, PreviousXdp

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


def replace_program(ifname: str, mode: str, expected_fd: int, replacement_fd: int) -> None:
    """Put ``replacement_fd`` (-1: nothing) where ``expected_fd`` is attached in ``mode``.

    Refused (XdpError) when another program is attached by then.
    """
    try:
        _set_xdp(ifindex(ifname), replacement_fd, MODE_FLAGS[mode], expected_fd=expected_fd)
    except NetlinkError as err:
        raise XdpError(f"cannot replace the XDP program of {ifname}: "
                       f"{os.strerror(err.code)}") from err


class XdpLedger(Protocol):
    """Where an attachment notes what it installs (an interface's state record)."""

    def attaching(self, installed: InstalledXdp, previous_fd: int | None) -> None:
        """Note ``installed`` before it is attached; ``previous_fd`` holds the program
        it replaces, if any."""

    def attached(self, prog_id: int, mode: str) -> None:
        """The program ``prog_id`` is attached, in ``mode``."""

    def detached(self, prog_id: int) -> None:
        """The program ``prog_id`` is gone from the interface (or never got there)."""


class XdpAttachment:
    """One program attached to one interface, undone by ``detach``.

    ``mode`` is ``native``, ``generic`` or ``auto`` (native, else generic).
    When a program is already attached, ours replaces it in that program's
    mode (the kernel allows one mode at a time) and ``detach`` puts it back.
    With a ``ledger``, the attachment is noted under ``owner`` with the
    ``companions`` (program fds, such as CPUMAP entries' programs) and
    ``cpumap`` description the program brings along.
    """

    def __init__(self, ifname: str, prog_fd: int, mode: str = "auto", *,
                 ledger: XdpLedger | None = None, owner: str = "",
                 companions: Sequence[int] = (), cpumap: dict[str, Any] | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"XDP mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.ifname = ifname
        self.prog_fd = prog_fd
        self.requested_mode = mode
        self.ledger = ledger
        self.owner = owner
        self.companions = tuple(companions)
        self.cpumap = cpumap
        self._prog_id = 0
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
        try:
            self._note(modes[0])
        except BaseException:
            self._release_previous()
            raise
        failures = []
        for mode in modes:
            try:
                _set_xdp(self._index, self.prog_fd, MODE_FLAGS[mode])
            except NetlinkError as err:
                failures.append(f"{mode}: {os.strerror(err.code)}")
                continue
            self.mode = mode
            if self.ledger is not None:
                self.ledger.attached(self._prog_id, mode)
            if failures:
                log.info("%s: XDP attached in %s mode (%s)", self.ifname, mode,
                         "; ".join(failures))
            return mode
        self._forget()
        raise XdpError(f"cannot attach XDP program to {self.ifname}: " + "; ".join(failures))

    def _note(self, mode: str) -> None:
        """Write ahead in the ledger what attaching is about to change."""
        if self.ledger is None:
            return
        info = bpf_syscall.prog_info(self.prog_fd)
        self._prog_id = info.id
        map_ids = set(info.map_ids)
        programs = []
        for fd in self.companions:
            companion = bpf_syscall.prog_info(fd)
            programs.append(companion.id)
            map_ids.update(companion.map_ids)
        self.ledger.attaching(
            InstalledXdp(self.owner, info.id, mode, sorted(map_ids), programs, self.cpumap,
                         PreviousXdp(self.previous.prog_id, self.previous.mode)),
            self._previous_fd)

    def _forget(self) -> None:
        try:
            if self.ledger is not None and self._prog_id:
                self.ledger.detached(self._prog_id)
        finally:
            self._release_previous()

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
                # Still attached: the ledger keeps it for a later restore.
                self.mode = None
                self._release_previous()
                raise XdpError(f"cannot detach XDP program from {self.ifname}: "
                               f"{os.strerror(err.code)}") from err
        self.mode = None
        self._forget()

    def leave(self) -> None:
        """Stop owning the attached program: it stays, and so does its replacement of
        the previous one, which is no longer kept."""
        self.mode = None
        self._forget()

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
