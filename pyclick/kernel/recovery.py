"""Putting an interface back from the state record a dead pyclick left.

What the record names (:mod:`pyclick.kernel.staterecord`) is undone in the
order that makes the interface as it was: pyclick's XDP program is
replaced by the program found there at start (from its pin) or by none,
the NIC's table found at start is written back, the clsact qdisc that
kept received frames from the network stack is removed, an interface
pyclick created is deleted, and pyclick's pins are removed, which frees what they
held. A program attached since by somebody
else is left alone, and so is an interface that was deleted and created
again (nothing of the old one is left on it), and so is a namespace
created again under the name of the one the record was written in.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, ContextManager, Protocol

import numpy as np

from pyclick.kernel import bpf_syscall, bpffs
from pyclick.kernel.namespaces import netns_inode
from pyclick.kernel.netdev import DeviceError
from pyclick.kernel.staterecord import InstalledXdp, StateRecord
from pyclick.kernel.xdp import XdpError, ifindex, replace_program, xdp_state


class RestoreError(RuntimeError):
    """The interface could not be put back; the message says what failed."""


class TableWriter(ContextManager["TableWriter"], Protocol):
    """A NIC's RSS table, as FromDevice's hardware backend opens it."""

    def write_table(self, table: np.ndarray) -> None: ...


def _ethtool(ifname: str) -> TableWriter:
    from pyclick.kernel.ethtool import EthtoolRSS

    return EthtoolRSS(ifname)


def restore(record: StateRecord, pins: Path,
            open_table: Callable[[str], TableWriter] | None = None) -> str:
    """Put ``record.interface`` back as the record says; returns what was done, in words.

    ``pins`` is the directory of the interface's pins in pyclick's BPF
    filesystem. Raises RestoreError when the kernel refuses a step.
    """
    try:
        current_index = ifindex(record.interface)
    except XdpError:
        current_index = 0
    done: list[str] = []
    if record.netns and record.netns != netns_inode():
        done.append(f"it was written in network namespace {record.netns}, not this one "
                    f"(a namespace of that name created again); nothing of it is here")
    # An index of 0 in the record: the interface had none pyclick could see.
    elif record.ifindex and current_index == 0:
        done.append(f"{record.interface} no longer exists, and what pyclick installed went "
                    f"with it")
    elif record.ifindex and current_index != record.ifindex:
        done.append(f"{record.interface} was created again (index {current_index}, was "
                    f"{record.ifindex}); nothing of pyclick's is on it")
    else:
        if record.xdp:
            done.append(_restore_xdp(record))
        if record.rss_table is not None:
            done.append(_restore_table(record, open_table or _ethtool))
        if record.ingress_drop:
            done.append(_remove_ingress_drop(record))
        if record.created:
            done.append(_delete_created(record))
    for loading in record.pins:
        bpffs.remove_pins(Path(loading))
    if record.pins:
        done.append("the pins of a load it did not finish removed")
    bpffs.remove_pins(pins)
    return "; ".join(done) or "nothing was left to restore"


def _restore_xdp(record: StateRecord) -> str:
    ifname = record.interface
    current = xdp_state(ifname)
    if current.prog_id == 0:
        return "no XDP program attached (pyclick's was removed since)"
    if current.prog_id not in record.program_ids():
        return f"XDP program {current.prog_id} was attached by someone else since; left alone"
    previous = record.xdp[0].previous
    replacement, said = _previous_program(previous.prog_id, previous.pin, previous.mode)
    try:
        ours = bpf_syscall.prog_fd_by_id(current.prog_id)
        try:
            replace_program(ifname, current.mode, ours, replacement)
        finally:
            os.close(ours)
    except (OSError, XdpError) as err:
        raise RestoreError(f"{ifname}: cannot detach pyclick's XDP program "
                           f"{current.prog_id}: {err}") from err
    finally:
        if replacement >= 0:
            os.close(replacement)
    return f"{_programs(record.xdp)} detached, {said}"


def _programs(installed: list[InstalledXdp]) -> str:
    """``XDP program 57 (with program 58 on its CPUMAP)``, for every entry."""
    said = []
    for entry in installed:
        text = f"XDP program {entry.prog_id}"
        if entry.programs:
            text += f" (with program {', '.join(map(str, entry.programs))} on its CPUMAP)"
        said.append(text)
    return ", ".join(said)


def _previous_program(prog_id: int, pin: str | None, mode: str | None) -> tuple[int, str]:
    """An fd on the program to put back (-1: none) and how to say it."""
    if not prog_id:
        return -1, "none was there before"
    for open_it in ((lambda: bpf_syscall.obj_get(pin)) if pin else None,
                    lambda: bpf_syscall.prog_fd_by_id(prog_id)):
        if open_it is None:
            continue
        try:
            return open_it(), f"program {prog_id} ({mode}) put back"
        except OSError:
            continue
    return -1, f"program {prog_id} that was there before is gone (nothing kept it)"


def _remove_ingress_drop(record: StateRecord) -> str:
    from pyclick.kernel import ingressfilter

    try:
        return ingressfilter.remove_from(record.interface)
    except DeviceError as err:
        raise RestoreError(f"{record.interface}: {err}") from err


def _delete_created(record: StateRecord) -> str:
    from pyclick.kernel import dummy

    try:
        dummy.delete(record.interface, record.ifindex)
    except DeviceError as err:
        raise RestoreError(f"{record.interface}: cannot delete the interface pyclick "
                           f"created: {err}") from err
    return f"interface {record.interface} that pyclick created deleted"


def _restore_table(record: StateRecord, open_table: Callable[[str], TableWriter]) -> str:
    table = np.asarray(record.rss_table, dtype=np.int64)
    try:
        with open_table(record.interface) as device:
            device.write_table(table)
    except (DeviceError, OSError, RuntimeError, ValueError) as err:
        raise RestoreError(f"{record.interface}: cannot write back the RSS table found at "
                           f"start: {err}") from err
    return f"RSS table put back ({table.size} entries)"
