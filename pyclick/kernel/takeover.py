"""An interface's RSS table, taken over for a balancer.

FromDevice hands its interface's table to a DeviceBalancer through a
:class:`TableTakeover`, and only then: an interface nobody balances is left
as it is. The table is the NIC's own when its driver has one (MODE
hardware): it is saved before anything writes it, noted in the interface's
state record, and put back at cleanup or at any other exit the process
notices. Otherwise (MODE software) software RSS implements one with XDP and
a CPUMAP (:mod:`pyclick.kernel.softrss`), detached the same way. Either
takeover is announced in one log line naming the interface.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from pyclick.kernel.ethtool import NoRssTable, RssConfig
from pyclick.kernel.exitguard import ExitGuard
from pyclick.kernel.netdev import DeviceError, NetDevice
from pyclick.kernel.ownership import InterfaceBusy, InterfaceClaim
from pyclick.kernel.recovery import RestoreError
from pyclick.kernel.rss_program import DEFAULT_KEY
from pyclick.kernel.softrss import running_on
from pyclick.kernel.staterecord import RecordError

DEFAULT_SOFTWARE_RETA_SIZE = 128
#: How long an exit-time restore waits for a table write under way elsewhere.
EXIT_RESTORE_WAIT = 1.0


class TakeoverError(Exception):
    """The table cannot be taken over; the message says why."""


@dataclass
class TakeoverRequest:
    """What the balanced device asks for (FromDevice's keywords).

    ``software_given`` names the software-only keywords given, for the
    warning when the NIC has a table of its own.
    """

    ifname: str
    owner: str
    mode: str = "auto"
    reta_size: int | None = None
    queue_cpus: Sequence[int] | None = None
    key: bytes | None = None
    xdp_mode: str = "auto"
    software_given: Sequence[str] = field(default_factory=list)


@dataclass
class Backends:
    """How a takeover reaches the kernel; tests put a table in memory instead.

    ``hardware(ifname)`` opens the NIC's table (``read() -> RssConfig``,
    ``driver()``, ``read_table()``, ``write_table()``, ``queue_count()``,
    ``close()``, a context manager); ``software(ifname, reta_size, cpus,
    key, mode, ledger, owner)`` builds software RSS (``start() -> XDP mode
    used``, ``stop()``, ``started``); ``may_change()`` tells whether this
    process may change interfaces (CAP_NET_ADMIN).
    """

    hardware: Callable[[str], Any]
    software: Callable[..., Any]
    may_change: Callable[[], bool]


class TableTakeover:
    """The RSS table of one interface while a balancer owns it (an RssDevice)."""

    def __init__(self, request: TakeoverRequest, backends: Backends, exit_guard: ExitGuard,
                 log: logging.Logger) -> None:
        self.request = request
        self.ifname = request.ifname
        self.backends = backends
        self.exit_guard = exit_guard
        self.log = log
        #: hardware or software, once started.
        self.mode = ""
        self.driver = ""
        self.device: Any = None
        self.saved: np.ndarray | None = None
        self._probed: RssConfig | None = None
        self._changed = False
        self._guard: int | None = None
        self._claim: InterfaceClaim | None = None
        self._table_lock = threading.Lock()

    # --- start and stop
    def start(self, others: Iterable[object]) -> None:
        """Take the table over; ``others`` are the router's other elements, one of
        which may already run software RSS on the interface."""
        if not self.backends.may_change():
            raise TakeoverError(f"changing the RSS table of '{self.ifname}' needs root or "
                                f"CAP_NET_ADMIN")
        try:
            self._claim = self.exit_guard.claim(self.ifname, self.backends.hardware)
        except (InterfaceBusy, RestoreError, RecordError, OSError) as err:
            raise TakeoverError(str(err)) from None
        try:
            reason = self._choose_mode()
            if self.mode == "hardware":
                self._open_hardware()
            else:
                self._start_software(reason, list(others))
        except (DeviceError, ValueError) as err:
            self.stop()
            raise TakeoverError(str(err)) from None
        except BaseException:
            self.stop()
            raise

    def _choose_mode(self) -> str:
        """hardware or software; returns why software RSS is used, if it is."""
        if self.request.mode == "software":
            return "MODE software"
        try:
            self._probe_hardware()
            return ""
        except NoRssTable as err:
            if self.request.mode == "hardware":
                raise TakeoverError(f"{err} (MODE software)") from None
            self.driver = err.driver
            return f"driver '{err.driver}' has no RSS table"

    def _probe_hardware(self) -> None:
        with self.backends.hardware(self.ifname) as device:
            self._probed = device.read()
            self.driver = device.driver()
        self.mode = "hardware"
        size = self._probed.table.size
        if self.request.reta_size not in (None, size):
            raise TakeoverError(f"RETA_SIZE {self.request.reta_size} differs from the {size} "
                                f"entries of the RSS table of '{self.ifname}' (a NIC's table "
                                f"size is fixed; omit RETA_SIZE)")
        if self.request.software_given:
            self.log.warning("%s: %s ignored, '%s' has a hardware RSS table", self.ifname,
                             ", ".join(self.request.software_given), self.ifname)

    def _open_hardware(self) -> None:
        device = self.backends.hardware(self.ifname)
        try:
            self.saved = device.read_table()
        except BaseException:
            device.close()
            raise
        # Writable from here on only: a write that came before the table was
        # saved would be put back at exit as the table found at start.
        self.device = device
        self._claim.note_table(self.saved.tolist())
        self._guard = self.exit_guard.on_exit(f"RSS table of {self.ifname}",
                                              self._restore_at_exit)
        self.log.info("%s (%s): balanced; its %d-entry RSS table over %d queues is saved and "
                      "restored at exit", self.ifname, self.driver, self.saved.size,
                      self.device.queue_count())

    def _start_software(self, reason: str, others: list[object]) -> None:
        if running_on(self.ifname, others) is not None:
            raise TakeoverError(f"software RSS already runs on {self.ifname}")
        if not self.driver:
            self.driver = NetDevice(self.ifname).driver()
        request = self.request
        self.device = self.backends.software(
            self.ifname, reta_size=request.reta_size or DEFAULT_SOFTWARE_RETA_SIZE,
            cpus=request.queue_cpus, key=request.key or DEFAULT_KEY, mode=request.xdp_mode,
            ledger=self._claim, owner=request.owner)
        self.mode = "software"
        used = self.device.start()
        self._guard = self.exit_guard.on_exit(f"software RSS on {self.ifname}",
                                              self.device.stop)
        self.log.info("%s: %s; software RSS takes it over: XDP in %s mode steers %d buckets "
                      "to CPUs %s through a CPUMAP, removed at exit", self.ifname, reason, used,
                      self.device.reta_size(), " ".join(map(str, self.device.cpus.tolist())))

    def stop(self) -> None:
        """Put the interface back as found and let go of it."""
        try:
            if self._guard is not None:
                self.exit_guard.cancel(self._guard)
                self._guard = None
            if self.mode == "hardware":
                with self._table_lock:
                    self._restore()
                if self._claim is not None:
                    self._claim.forget_table()
            elif self.device is not None:
                self.device.stop()
        finally:
            if self.mode == "hardware" and self.device is not None:
                self.device.close()
                self.device = None
            if self._claim is not None:
                self.exit_guard.unclaim(self._claim)
                self._claim = None

    def _restore(self) -> None:
        """Write the saved table back if it was changed; call with the table lock."""
        if self._changed and self.saved is not None and self.device is not None:
            self.device.write_table(self.saved)
            self._changed = False
            self.log.info("%s: RSS table restored", self.ifname)

    def _restore_at_exit(self) -> None:
        # The exit may interrupt the thread that holds the lock: then give up
        # rather than wait for ourselves.
        if self._table_lock.acquire(timeout=EXIT_RESTORE_WAIT):
            try:
                self._restore()
                if self._claim is not None:
                    self._claim.forget_table()
            finally:
                self._table_lock.release()

    def restore(self) -> None:
        """MODE hardware: put the saved table back now."""
        if self.mode != "hardware":
            raise ValueError("only MODE hardware saves a table to restore")
        self._started_device()
        with self._table_lock:
            self._restore()

    def _started_device(self) -> Any:
        if self.device is None or (self.mode == "software" and not self.device.started):
            raise RuntimeError(f"the RSS table of {self.ifname} is not taken over")
        return self.device

    # --- RssDevice
    def reta_size(self) -> int:
        if self.mode == "hardware":
            return int(self._probed.table.size)
        return self._started_device().reta_size()

    def queue_count(self) -> int:
        if self.mode == "hardware":
            return self._probed.queues
        return self._started_device().queue_count()

    def hash_key(self) -> bytes:
        if self.mode == "hardware":
            return self._probed.key or DEFAULT_KEY
        return self._started_device().hash_key()

    def read_table(self) -> np.ndarray:
        return self._started_device().read_table()

    def write_table(self, table: np.ndarray) -> None:
        device = self._started_device()
        with self._table_lock:
            # Marked first: a write that fails half-way still needs the restore.
            self._changed = True
            device.write_table(table)

    def describe_queues(self, element: str) -> str:
        """Where the queue count comes from and how to change it, for error messages."""
        if self.mode == "hardware":
            return (f"'{self.ifname}' ({self.driver}) has {self.queue_count()} RX queues; "
                    f"'ethtool -L {self.ifname} combined N' changes the count")
        return (f"software RSS on '{self.ifname}' steers to {self.queue_count()} CPUs; "
                f"QUEUE_CPUS of '{element}' chooses them")

    def software_rss(self) -> Any:
        """The started software RSS, if this takeover runs one."""
        if self.mode == "software" and self.device is not None and self.device.started:
            return self.device
        return None
