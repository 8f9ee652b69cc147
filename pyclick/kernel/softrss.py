"""Software RSS: an indirection table in BPF for interfaces without one.

Many virtual and older NICs (veth, virtio, ...) cannot have their RSS table
programmed. ``SoftwareRSS`` gives them one: an XDP program hashes every
packet with the Toeplitz function under ``key``, counts it in its bucket
(``count_map``) and redirects it through a CPUMAP to the CPU that the
table (``reta_map``) names for the bucket; the packet's network stack
processing then happens on that CPU. A small program on every CPUMAP entry
counts, on the CPU where each packet lands, its bucket (``landed_map``),
which proves the steering.

It is an RSS device and a bucket counter at once. Queue ``q`` of the table
is served by ``cpus[q]``. Whoever starts it (FromDevice, through a
:class:`~pyclick.kernel.takeover.TableTakeover`) is a
:class:`SoftwareRssHost`: an XDPLoader on the same interface finds the
running program through :func:`running_on` among the router's elements, and
reads its counters instead of attaching a second program.
"""

from __future__ import annotations

from typing import Iterable, Protocol, Sequence, runtime_checkable

import numpy as np

from pyclick.kernel import bpf_syscall
from pyclick.kernel.bucket_counts import BucketCounts
from pyclick.kernel.rss_program import DEFAULT_KEY, RssProgram
from pyclick.kernel.xdp import XdpAttachment, XdpLedger, detach_and_close
from pyclick.rss.indirection import even_table

#: Packets a CPUMAP entry queues for its CPU before dropping.
DEFAULT_QSIZE = 2048

@runtime_checkable
class SoftwareRssHost(Protocol):
    """Something that may run software RSS on an interface (FromDevice)."""

    def software_rss(self, ifname: str) -> "SoftwareRSS | None":
        """Its started software RSS on ``ifname``, if it runs one."""


def running_on(ifname: str, candidates: Iterable[object]) -> "SoftwareRSS | None":
    """The started software RSS on ``ifname`` of the first host among ``candidates``
    that runs one."""
    for candidate in candidates:
        if isinstance(candidate, SoftwareRssHost):
            found = candidate.software_rss(ifname)
            if found is not None:
                return found
    return None


class SoftwareRSS:
    """An RSS indirection table implemented by XDP and a CPUMAP on ``ifname``."""

    def __init__(self, ifname: str, reta_size: int = 128, cpus: Sequence[int] | None = None,
                 key: bytes = DEFAULT_KEY, mode: str = "auto",
                 qsize: int = DEFAULT_QSIZE, ledger: XdpLedger | None = None,
                 owner: str = "") -> None:
        cpu_list = list(range(bpf_syscall.possible_cpus())) if cpus is None else list(cpus)
        if not cpu_list:
            raise ValueError("software RSS needs at least one CPU")
        if len(set(cpu_list)) != len(cpu_list) or min(cpu_list) < 0:
            raise ValueError(f"CPUs must be distinct and non-negative, got {cpu_list}")
        if max(cpu_list) >= bpf_syscall.possible_cpus():
            raise ValueError(f"CPU {max(cpu_list)} does not exist (this machine has "
                             f"{bpf_syscall.possible_cpus()})")
        if reta_size <= 0:
            raise ValueError(f"the table size must be positive, got {reta_size}")
        self.ifname = ifname
        self.cpus = np.array(cpu_list, dtype=np.uint32)
        self.key = bytes(key)
        self.mode = mode
        self.qsize = qsize
        #: Where the attachment is noted (the interface's state record), under ``owner``.
        self.ledger = ledger
        self.owner = owner
        self._reta_size = reta_size
        self._queue_of_cpu = np.full(int(self.cpus.max()) + 1, -1, dtype=np.int64)
        self._queue_of_cpu[self.cpus] = np.arange(len(self.cpus))
        self.program: RssProgram | None = None
        self.attachment: XdpAttachment | None = None
        self.counts: BucketCounts | None = None

    # --- lifecycle
    @property
    def started(self) -> bool:
        return self.attachment is not None and self.attachment.attached

    def start(self) -> str:
        """Load the program, install the even table and attach to the interface;
        returns the XDP mode used (native or generic)."""
        if self.started:
            return self.attachment.mode
        try:
            self.program = RssProgram(self._reta_size, self.key,
                                      redirect_cpus=int(self.cpus.max()) + 1)
            self._fill_cpu_map()
            self.write_table(even_table(self._reta_size, range(len(self.cpus))))
            self.counts = BucketCounts(self.program.map_fd("count_map"), self._reta_size)
            self.attachment = XdpAttachment(
                self.ifname, self.program.xdp_fd, self.mode, ledger=self.ledger,
                owner=self.owner, companions=[self.program.landed_fd],
                cpumap={"map_id": self._cpu_map_id(), "cpus": self.cpus.tolist()})
            used = self.attachment.attach()
        except BaseException:
            self.stop()
            raise
        return used

    def stop(self) -> None:
        """Detach (restoring the interface's previous XDP program) and release all."""
        attachment, program = self.attachment, self.program
        self.attachment = self.counts = self.program = None
        detach_and_close(attachment, program)

    def __enter__(self) -> "SoftwareRSS":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _fill_cpu_map(self) -> None:
        cpu_map = self._program().map("cpu_map")
        for cpu in self.cpus.tolist():
            entry = cpu_map.Leaf()
            entry.qsize = self.qsize
            entry.bpf_prog.fd = self._program().landed_fd
            cpu_map[cpu_map.Key(cpu)] = entry

    def _cpu_map_id(self) -> int:
        return bpf_syscall.map_info(self._program().map_fd("cpu_map")).id

    def _program(self) -> RssProgram:
        if self.program is None:
            raise RuntimeError(f"software RSS on {self.ifname} is not started")
        return self.program

    # --- RssDevice
    def reta_size(self) -> int:
        return self._reta_size

    def queue_count(self) -> int:
        return len(self.cpus)

    def hash_key(self) -> bytes:
        return self.key

    def read_table(self) -> np.ndarray:
        """Queue (index into ``cpus``) per bucket, as the kernel holds it."""
        cpus = bpf_syscall.read_array(self._program().map_fd("reta_map"), self._reta_size,
                                      np.uint32)
        return self._queue_of_cpu[cpus]

    def write_table(self, table: np.ndarray) -> None:
        """Steer bucket i to CPU ``cpus[table[i]]`` from the next packet on."""
        queues = np.asarray(table)
        if queues.shape != (self._reta_size,):
            raise ValueError(f"table of {queues.shape} entries for a {self._reta_size}-bucket "
                             f"software RSS table")
        if len(queues) and (queues.min() < 0 or queues.max() >= len(self.cpus)):
            raise ValueError(f"table entries must be queues 0..{len(self.cpus) - 1}")
        bpf_syscall.write_array(self._program().map_fd("reta_map"),
                                self.cpus[queues.astype(np.int64)])

    # --- BucketCounter
    def read_counts(self) -> np.ndarray:
        """Packets per bucket since the previous call."""
        if self.counts is None:
            raise RuntimeError(f"software RSS on {self.ifname} is not started")
        return self.counts.read()

    def landed(self) -> np.ndarray:
        """Packets per bucket by the CPU they were steered to (cumulative).

        Shape (possible CPUs, reta_size).
        """
        return bpf_syscall.read_array(self._program().map_fd("landed_map"), self._reta_size,
                                      np.uint64, per_cpu=True).astype(np.int64)
