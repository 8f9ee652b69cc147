"""Owned kernel state: one pyclick per interface, and a record of what it changed.

Before it changes anything on an interface, pyclick claims it: it takes an
exclusive lock (flock(2) on ``STATE/IFNAME.lock``, which holds the owner's
PID) and keeps it until it has put everything back, normally for the whole
run. A second pyclick on the same interface is refused, with the holder's
PID in the message. Beside the lock, ``STATE/IFNAME.json`` is the state
record (:mod:`pyclick.kernel.staterecord`): written before each change,
updated after each undo, deleted once the interface is as it was.

A process that dies without putting things back (SIGKILL, a crash, the
machine's OOM killer) leaves its record behind and its lock free; the next
claim of the interface restores what the record names first
(:mod:`pyclick.kernel.recovery`) and says so in one log line, and so does
``pyclick --cleanup IFNAME``.

``STATE`` is ``$PYCLICK_STATE_DIR``, else ``/run/pyclick`` (emptied at boot,
as is the kernel state it describes). Interface names are per network
namespace, so an interface in a namespace ``ip netns`` named has that name
in its files (``IFNAME@NSNAME``), and one in another namespace known to
differ from init's, the namespace's inode (``IFNAME@net-INODE``).
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import sys
import time
from pathlib import Path
from typing import Callable

from pyclick.kernel import bpf_syscall, bpffs, recovery
from pyclick.kernel.namespaces import init_netns_inode, netns_inode, netns_name
from pyclick.kernel.staterecord import InstalledXdp, StateRecord
from pyclick.kernel.xdp import ifindex

STATE_DIR_ENV = "PYCLICK_STATE_DIR"
DEFAULT_STATE_DIR = Path("/run/pyclick")

log = logging.getLogger("pyclick.kernel.ownership")


class InterfaceBusy(RuntimeError):
    """Another process holds the interface; the message names its PID."""


def state_dir() -> Path:
    """Where locks and records live: $PYCLICK_STATE_DIR, else /run/pyclick."""
    return Path(os.environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR)


def interface_key(ifname: str) -> str:
    """The file name stem of ``ifname``'s lock and record (see the module docstring)."""
    own = netns_inode()
    init = init_netns_inode()
    if own == 0 or own == init:
        return ifname
    name = netns_name(own)
    if name is not None:
        return f"{ifname}@{name}"
    # Without a name, and unless init's namespace is known to differ, the plain name.
    return ifname if init is None else f"{ifname}@net-{own}"


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode().strip()
    except (OSError, UnicodeDecodeError):
        text = ""
    return f"pid {text}" if text.isdigit() else "pid unknown"


def _lock(path: Path, ifname: str) -> int:
    """An fd holding the exclusive lock at ``path``, or InterfaceBusy naming the holder."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise InterfaceBusy(f"{ifname} is in use by another pyclick ({holder}, lock "
                                f"{path}); one pyclick per interface") from None
        try:
            # The holder before us may have removed the file after we opened it.
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


TableOpener = Callable[[str], recovery.TableWriter]


class InterfaceClaim:
    """The lock on one interface and its state record (see the module docstring).

    It is the ledger that :class:`~pyclick.kernel.xdp.XdpAttachment` and
    FromDevice note their changes in. ``close`` releases the lock; the record
    goes with it when nothing is left to put back.
    """

    def __init__(self, ifname: str, directory: Path, key: str, lock_fd: int) -> None:
        self.ifname = ifname
        self.directory = directory
        self.key = key
        self.lock_path = directory / f"{key}.lock"
        self.record_path = directory / f"{key}.json"
        #: Where the record is written before it replaces the last one.
        self.scratch_path = directory / f"{key}.json.new"
        self._lock_fd: int | None = lock_fd
        self.record = StateRecord(
            interface=ifname, ifindex=_ifindex_or_zero(ifname), netns=netns_inode(),
            pid=os.getpid(), started=time.time(), command=list(sys.argv))

    @property
    def held(self) -> bool:
        return self._lock_fd is not None

    # --- an interface pyclick created
    def note_created(self, ifindex: int) -> None:
        """This process created the interface, which got index ``ifindex``."""
        self.record.ifindex = ifindex
        self.record.created = True
        self._save()

    def forget_created(self) -> None:
        """The interface this process created is deleted."""
        self.record.created = False
        self._save()

    # --- the ingress filter keeping received frames from the stack (IngressLedger)
    def note_ingress_drop(self) -> None:
        self.record.ingress_drop = True
        self._save()

    def forget_ingress_drop(self) -> None:
        self.record.ingress_drop = False
        self._save()

    # --- the RSS table
    def note_table(self, table: list[int]) -> None:
        """The NIC's table as found, before anything writes it."""
        self.record.rss_table = [int(q) for q in table]
        self._save()

    def forget_table(self) -> None:
        """The table is back as found (or was never changed)."""
        if self.record.rss_table is not None:
            self.record.rss_table = None
            self._save()

    # --- XDP (XdpLedger)
    def attaching(self, installed: InstalledXdp, previous_fd: int | None) -> None:
        if previous_fd is not None and installed.previous.prog_id not in \
                self.record.program_ids():
            installed.previous.pin = self._pin_previous(previous_fd, installed.previous.prog_id)
        self.record.xdp = [e for e in self.record.xdp if e.prog_id != installed.prog_id]
        self.record.xdp.append(installed)
        self._save()

    def attached(self, prog_id: int, mode: str) -> None:
        for entry in self.record.xdp:
            if entry.prog_id == prog_id:
                entry.mode = mode
        self._save()

    def detached(self, prog_id: int) -> None:
        gone = [e for e in self.record.xdp if e.prog_id == prog_id]
        self.record.xdp = [e for e in self.record.xdp if e.prog_id != prog_id]
        self._save()
        for entry in gone:
            if entry.previous.pin:
                _unlink(Path(entry.previous.pin))

    def _pin_previous(self, fd: int, prog_id: int) -> str | None:
        """Pin the replaced program so that it outlives a killed pyclick."""
        try:
            pin = self.pin_directory() / f"previous-{prog_id}"
            _unlink(pin)
            bpf_syscall.obj_pin(fd, str(pin))
            return str(pin)
        except OSError as err:
            log.warning("%s: cannot pin the XDP program %d it replaces (%s); it is put back "
                        "when pyclick stops, but would not survive pyclick being killed",
                        self.ifname, prog_id, err)
            return None

    # --- pins of objects being loaded
    def pin_directory(self) -> Path:
        """A directory of this interface in pyclick's BPF filesystem (mounted if needed)."""
        directory = bpffs.ensure_mounted(self.directory / "bpf") / self.key
        directory.mkdir(mode=0o700, exist_ok=True)
        return directory

    def note_pins(self, path: Path) -> None:
        self.record.pins.append(str(path))
        self._save()

    def forget_pins(self, path: Path) -> None:
        bpffs.remove_pins(path)
        self.record.pins = [p for p in self.record.pins if p != str(path)]
        self._save()

    # --- the file
    def _save(self) -> None:
        if self.record.empty():
            _unlink(self.record_path)
            return
        self.scratch_path.write_text(self.record.to_json())
        os.replace(self.scratch_path, self.record_path)

    def close(self) -> None:
        """Release the lock; keep the record only if something is left to put back."""
        if self._lock_fd is None:
            return
        if self.record.empty():
            _unlink(self.record_path)
            _remove_empty_dir(self.directory / "bpf" / self.key)
        else:
            log.warning("%s: not everything was put back; %s says what is left, and "
                        "'pyclick --cleanup %s' or the next start restores it",
                        self.ifname, self.record_path, self.ifname)
        # Removed while still held, so that nobody locks a file about to vanish.
        _unlink(self.lock_path)
        os.close(self._lock_fd)
        self._lock_fd = None

    def abandon(self) -> None:
        """Let go of the lock without touching the files (a forked child's copy)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _ifindex_or_zero(ifname: str) -> int:
    try:
        return ifindex(ifname)
    except RuntimeError:
        return 0


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _remove_empty_dir(path: Path) -> None:
    try:
        path.rmdir()
    except OSError as err:
        if err.errno not in (errno.ENOENT, errno.ENOTEMPTY, errno.ENOTDIR):
            raise


def claim(ifname: str, open_table: TableOpener | None = None,
          directory: Path | None = None,
          report: Callable[[str], None] | None = None) -> InterfaceClaim:
    """Lock ``ifname`` for this process, restoring first what a dead owner left.

    ``open_table`` opens the NIC's table for a restore (default: ethtool);
    the one line saying what was restored goes to ``report`` (default: the
    log, as a warning). Raises InterfaceBusy when another process holds the
    interface, and recovery.RestoreError when a dead owner's state cannot be
    put back.
    """
    where = directory or state_dir()
    where.mkdir(parents=True, exist_ok=True)
    key = interface_key(ifname)
    fd = _lock(where / f"{key}.lock", ifname)
    held = InterfaceClaim(ifname, where, key, fd)
    try:
        summary = _restore_dead_owner(held, open_table)
    except BaseException:
        held.abandon()
        raise
    if summary is not None:
        (report or log.warning)(summary)
    return held


def _restore_dead_owner(held: InterfaceClaim, open_table: TableOpener | None) -> str | None:
    # An owner killed while writing its record leaves the new one half
    # written: the record it was replacing still says what to put back.
    _unlink(held.scratch_path)
    if not held.record_path.exists():
        return None
    stale = StateRecord.from_json(held.record_path.read_text(), str(held.record_path))
    done = recovery.restore(stale, held.directory / "bpf" / held.key, open_table)
    held.record_path.unlink()
    return (f"{held.ifname}: pyclick (pid {stale.pid}) ended without restoring it; "
            f"restored from its state record: {done}")


def cleanup(ifname: str, open_table: TableOpener | None = None,
            directory: Path | None = None) -> str:
    """``pyclick --cleanup IFNAME``: restore what a dead pyclick left on ``ifname``.

    Returns the line saying what was done. Refused (InterfaceBusy) while a
    live pyclick holds the interface.
    """
    said: list[str] = []
    claim(ifname, open_table, directory, report=said.append).close()
    return said[0] if said else f"{ifname}: nothing to restore"
