"""XDPLoader: an XDP program counting packets per RSS bucket on an interface."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from pyclick.args import BOOL, BYTES, STRING, UNSIGNED, Args, Choice, shorten
from pyclick.element import CONFIGURE_PHASE_DEFAULT, Element, read_handler
from pyclick.elements.argtypes import XDP_MODES
from pyclick.errors import ConfigError

if TYPE_CHECKING:  # the kernel adapters, bcc and numpy load when the router starts
    import numpy as np

    from pyclick.kernel.bpf_object import ObjectProgram
    from pyclick.kernel.bucket_counts import BucketCounts
    from pyclick.kernel.ownership import InterfaceClaim
    from pyclick.kernel.rss_program import RssProgram
    from pyclick.kernel.rxhash import RxHashCounter
    from pyclick.kernel.softrss import SoftwareRSS
    from pyclick.kernel.xdp import XdpAttachment

#: Counter size when neither RETA_SIZE nor the device tells one.
DEFAULT_RETA_SIZE = 512
HASHES = ("auto", "nic", "toeplitz")
#: The programs shipped with pyclick (pyclick.kernel.rss_program.BPF_DIR compiles them).
SHIPPED_BPF = Path(__file__).resolve().parent.parent / "bpf"
#: ELF e_machine of BPF objects.
EM_BPF = 247


def check_object(path: Path) -> None:
    """Raise ValueError unless ``path`` is an ELF object for BPF (read, not loaded)."""
    try:
        with path.open("rb") as f:
            header = f.read(20)
    except OSError as err:
        raise ValueError(f"cannot read '{path}': {err.strerror}") from None
    if header[:4] != b"\x7fELF" or len(header) < 20:
        raise ValueError(f"'{path}' is not an ELF object file")
    order = "little" if header[5] == 1 else "big"
    machine = int.from_bytes(header[18:20], order)
    if machine != EM_BPF:
        raise ValueError(f"'{path}' is an object for ELF machine {machine}, not BPF "
                         f"(compile it with clang -target bpf)")


def bpf_source(path: str) -> Path:
    """The BPF program PATH names: a compiled object, or a C source.

    An ``X.o`` that exists is a compiled object, checked to be a BPF ELF
    file. An ``X.o`` that does not exist stands for the ``X.c`` beside it.
    A relative path is tried from the working directory; failing that, a
    program of the same name shipped with pyclick (``pyclick/bpf``) is used,
    so the README's ``conf/bpf/xdp_count.o`` works from any directory.
    """
    given = Path(path)
    if given.suffix == ".o" and (Path.cwd() / given).is_file():
        check_object(given)
        return (Path.cwd() / given).resolve()
    wanted = given.with_suffix(".c") if given.suffix == ".o" else given
    candidates = [Path.cwd() / wanted]
    if not given.is_absolute():
        candidates.append(SHIPPED_BPF / wanted.name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    looked = ([str(Path.cwd() / given)] if given.suffix == ".o" else []) + \
        [str(c) for c in candidates]
    raise ValueError(f"no BPF program '{shorten(path)}' "
                     f"(looked for {', '.join(shorten(p, 100) for p in looked)})")


def is_object(source: Path) -> bool:
    """Whether ``source`` (from bpf_source) is a compiled object rather than C."""
    return source.suffix == ".o"


def BPF_SOURCE(text: str, args: Args) -> Path:
    path = STRING(text, args)
    try:
        return bpf_source(path)
    except OSError as err:  # a name too long, a directory that cannot be read...
        raise ValueError(f"cannot read '{shorten(path)}': {err.strerror}") from None


class XDPLoader(Element):
    """XDPLoader(PATH, DEV, CLEAN, MODE, HASH, RETA_SIZE, KEY) -- counts packets per RSS bucket in XDP

    Description
    Loads the XDP program PATH on interface DEV. The shipped program
    pyclick/bpf/xdp_count.c computes every IP packet's RSS hash (Toeplitz
    over source and destination address and, for TCP and UDP, ports, under
    the NIC's key) and counts it in a per-CPU array named count_map at
    index hash % RETA_SIZE. The element is a bucket counter: DeviceBalancer
    names it as RSSCOUNTER and reads the packets each bucket received since
    its previous tick.

    PATH is a compiled BPF object or a BPF C file. An object (a .o file
    that exists, as conf/bpf/xdp_count.o in the RSS++ README) is loaded as
    it is by libbpf, through bpftool; its program xdp_count (or its only
    XDP program) is attached, and its count_map, found by name, is
    counted with as many buckets as it has entries. The shipped program
    builds into such an object with
    'clang -O2 -g -target bpf -I/usr/include/$(clang -print-multiarch) -c
    pyclick/bpf/xdp_count.c -o conf/bpf/xdp_count.o'. A C file is compiled
    with bcc when the router starts, with RETA_SIZE passed as a define. A
    .o PATH that does not exist names the .c file beside it; a relative
    path is looked up from the working directory, then among the programs
    shipped with pyclick (pyclick/bpf), by file name. A program of one's
    own must declare count_map the same way (a per-CPU array of u64); when
    it declares toeplitz_map, that map is filled from the key.

    The key and table size come from DEV's RSS configuration (ethtool)
    when its driver has one. Such a NIC computes the hash itself and
    indexes its table with it, so with HASH auto (the default) or nic,
    XDPLoader asks the driver for that hash instead of recomputing it: a
    built-in program bound to DEV calls the bpf_xdp_metadata_rx_hash
    kfunc (Linux 6.3+), and PATH is not loaded. Counts then follow the
    NIC's buckets whatever fields and function it hashes. HASH auto falls
    back to PATH when the driver cannot give the hash, and uses PATH for
    interfaces without an RSS table; HASH toeplitz always uses PATH.

    When a FromDevice of the configuration runs software RSS on DEV (as
    it does for a DeviceBalancer on a driver without an RSS table), that
    XDP program already counts: XDPLoader reads its count_map instead of
    attaching a second program. XDPLoader starts after the FromDevice
    elements, wherever it is declared.

    The program attaches in native (driver) mode when the driver supports
    XDP, else in generic mode (MODE auto). With CLEAN true it is detached
    at cleanup, and also when the process ends in any other way Python
    notices (an exception, exit, SIGHUP, SIGTERM, SIGQUIT); a program that
    was on DEV before is put back. Like FromDevice, XDPLoader locks DEV
    for the process and notes what it attaches in DEV's state record under
    /run/pyclick: after SIGKILL or a crash, the next start on DEV, or
    'pyclick --cleanup DEV', detaches it and puts the previous program
    back.

    Keyword arguments
    PATH -- compiled BPF object (.o) or BPF C source, mandatory
    DEV -- interface name, mandatory
    CLEAN -- detach the program at cleanup, default true; false leaves it counting
    MODE -- auto, native or generic, default auto (HASH nic: native only)
    HASH -- auto, nic or toeplitz: where bucket numbers come from, default auto
    RETA_SIZE -- buckets counted, 1 to 65536, default the device's table size, else 512
    KEY -- Toeplitz key (hex), default the device's key, else the Microsoft key

    Element handlers
    maps (read) -- names of the program's maps
    mode (read) -- native, generic, or shared when counting with software RSS
    hash (read) -- nic (the driver's RX hash) or toeplitz
    reta_size (read) -- buckets counted
    counts (read) -- packets per bucket since start, one "BUCKET COUNT" line per non-empty bucket

    Example
    xdp :: XDPLoader(PATH conf/bpf/xdp_count.o, DEV eth0, CLEAN false);
    """

    port_count = "0/0"
    # After the FromDevice elements, whose software RSS it may count with.
    configure_phase = CONFIGURE_PHASE_DEFAULT + 1

    def configure(self, args: Args) -> None:
        self.source: Path | None = args.read_mp("PATH", BPF_SOURCE)
        self.dev: str = args.read_mp("DEV", STRING)
        self.clean: bool = args.read("CLEAN", BOOL, True)
        self.mode: str = args.read("MODE", Choice(*XDP_MODES), "auto")
        self.hash: str = args.read("HASH", Choice(*HASHES), "auto")
        self.requested_size: int | None = args.read("RETA_SIZE", UNSIGNED.range(1, 65536))
        self.requested_key: bytes | None = args.read("KEY", BYTES)
        if self.hash == "nic" and self.mode == "generic":
            args.error("HASH nic: the driver's hash needs MODE native or auto")
        self.program: RssProgram | RxHashCounter | ObjectProgram | None = None
        self.attachment: XdpAttachment | None = None
        self._claim: InterfaceClaim | None = None
        self.shared: SoftwareRSS | None = None
        self.counts: BucketCounts | None = None
        self.table_size = 0
        self._guard: int | None = None

    # --- lifecycle
    def initialize(self) -> None:
        from pyclick.kernel.netdev import DeviceError
        from pyclick.kernel.staterecord import RecordError

        try:
            self._start()
        except (RuntimeError, OSError, DeviceError, RecordError) as err:
            self._release()
            raise ConfigError(f"While initializing '{self.declaration()}': {err}",
                              self.landmark) from None

    def _start(self) -> None:
        from pyclick.kernel.bucket_counts import BucketCounts
        from pyclick.kernel.rxhash import RxHashCounter
        from pyclick.kernel.softrss import running_on
        from pyclick.kernel.xdp import XdpAttachment, ifindex

        self.shared = running_on(self.dev, self.router.elements)
        if self.shared is not None:
            self._count_with_software_rss(self.shared)
            return
        index = ifindex(self.dev)
        self._claim = self.router.exit_guard.claim(self.dev)
        key, size, has_table = self._hash_parameters()
        self.program = self._load(index, key, size, has_table)
        try:
            size = self._counted_size(size)
            self.counts = BucketCounts(self.program.map_fd("count_map"), size)
            mode = "native" if isinstance(self.program, RxHashCounter) else self.mode
            self.attachment = XdpAttachment(self.dev, self.program.xdp_fd, mode,
                                            ledger=self._claim, owner=self.name)
            used = self.attachment.attach()
            if self.clean:
                self._guard = self.router.exit_guard.on_exit(f"XDP program on {self.dev}",
                                                             self.attachment.detach)
            else:
                # Left counting at any exit, and then no longer in DEV's state record.
                self._guard = self.router.exit_guard.on_exit(
                    f"XDP program on {self.dev} (left attached)", self.attachment.leave)
        except BaseException:
            self._release()
            raise
        self.log.info("%s: counting %d buckets by %s hash, XDP in %s mode", self.dev, size,
                      self._hash_name(), used)

    def _load(self, index: int, key: bytes, size: int, has_table: bool
              ) -> RssProgram | RxHashCounter | ObjectProgram:
        """The counting program HASH asks for (see the manual)."""
        from pyclick.kernel.rss_program import RssProgram
        from pyclick.kernel.rxhash import RxHashCounter, RxHashUnavailable

        if self.hash == "nic" or (self.hash == "auto" and has_table):
            try:
                return RxHashCounter(index, size)
            except RxHashUnavailable as err:
                if self.hash == "nic":
                    raise RuntimeError(f"HASH nic on {self.dev}: {err}") from err
                self.log.info("%s: %s; counting with the Toeplitz program", self.dev, err)
        if is_object(self.source):
            program = self._load_object(key)
        else:
            program = RssProgram(size, key, source=self.source)
        if not program.has_map("count_map"):
            program.close()
            raise RuntimeError(f"{self.source} declares no count_map; XDPLoader reads "
                               f"packets per bucket from a per-CPU array of that name")
        return program

    def _load_object(self, key: bytes) -> ObjectProgram:
        from pyclick.kernel.bpf_object import ObjectProgram

        # Pinned while bpftool loads it: noted, so that a kill meanwhile is cleaned up.
        pins = self._claim.pin_directory() / f"load-{os.getpid()}"
        self._claim.note_pins(pins)
        try:
            return ObjectProgram(self.source, pins, key)
        finally:
            self._claim.forget_pins(pins)

    def _counted_size(self, wanted: int) -> int:
        """Buckets the loaded program counts: ``wanted``, unless an object fixed it."""
        from pyclick.kernel.bpf_object import ObjectProgram

        size = wanted
        if isinstance(self.program, ObjectProgram):
            size = self.program.reta_size
            if self.requested_size not in (None, size):
                raise RuntimeError(f"RETA_SIZE {self.requested_size} differs from the {size} "
                                   f"entries of count_map in {self.source.name} (fixed when "
                                   f"it was compiled)")
        if size % self.table_size:
            raise RuntimeError(f"the {size} buckets counted are not a multiple of {self.dev}'s "
                               f"table size {self.table_size}, so its counts cannot be folded "
                               f"onto it")
        return size

    def _hash_name(self) -> str:
        from pyclick.kernel.rxhash import RxHashCounter

        return "nic" if isinstance(self.program, RxHashCounter) else "toeplitz"

    def _count_with_software_rss(self, shared: SoftwareRSS) -> None:
        from pyclick.kernel.bucket_counts import BucketCounts

        program = shared.program
        self.counts = BucketCounts(program.map_fd("count_map"), shared.reta_size())
        self.table_size = shared.reta_size()
        if self.requested_size not in (None, self.table_size):
            raise RuntimeError(f"RETA_SIZE {self.requested_size} differs from the "
                               f"{self.table_size} buckets of {self.dev}'s software RSS")
        if self.source.resolve() != program.source.resolve():
            self.log.warning("%s runs software RSS; its program counts, %s is not loaded",
                             self.dev, self.source)
        self.log.info("%s: counting with the software RSS program's count_map", self.dev)

    def _hash_parameters(self) -> tuple[bytes, int, bool]:
        """Key, counter size and whether DEV has an RSS table.

        Arguments first, then the device, then the defaults.
        """
        from pyclick.kernel.ethtool import DeviceError, EthtoolRSS
        from pyclick.kernel.rss_program import DEFAULT_KEY

        device_key, device_size = None, None
        try:
            with EthtoolRSS(self.dev) as device:
                config = device.read()
            device_key, device_size = config.key, int(config.table.size)
            if config.hfunc not in ("", "toeplitz") and self.hash == "toeplitz":
                self.log.warning("%s hashes with %s; bucket counts follow Toeplitz and may not "
                                 "match the NIC's buckets", self.dev, config.hfunc)
        except DeviceError as err:
            self.log.info("%s: no RSS table (%s)", self.dev, err)
        key = self.requested_key or device_key or DEFAULT_KEY
        size = self.requested_size or device_size or DEFAULT_RETA_SIZE
        self.table_size = device_size or size
        return key, size, device_size is not None

    def cleanup(self) -> None:
        self._release()

    def _release(self) -> None:
        from pyclick.kernel.xdp import detach_and_close

        if self._guard is not None:
            self.router.exit_guard.cancel(self._guard)
            self._guard = None
        attachment, program = self.attachment, self.program
        self.attachment = self.counts = self.program = None
        try:
            if attachment is not None and not self.clean:
                # Without CLEAN the program stays attached, counting, and is no longer ours.
                attachment.leave()
                attachment = None
            detach_and_close(attachment, program)
        finally:
            if self._claim is not None:
                self.router.exit_guard.unclaim(self._claim)
                self._claim = None

    # --- BucketCounter
    def read_counts(self) -> np.ndarray:
        """Packets per bucket of the device's table since the previous call."""
        if self.counts is None:
            raise RuntimeError(f"XDPLoader '{self.name}' is not initialized")
        return self.counts.read(self.table_size)

    # --- maps
    def _program(self) -> RssProgram | RxHashCounter | None:
        return self.shared.program if self.shared is not None else self.program

    def map_fd(self, name: str) -> int:
        """File descriptor of the program's map ``name``."""
        program = self._program()
        if program is None:
            raise RuntimeError(f"XDPLoader '{self.name}' is not initialized")
        return program.map_fd(name)

    # --- handlers
    @read_handler("maps")
    def _maps(self) -> str:
        program = self._program()
        return " ".join(program.map_names()) if program is not None else ""

    @read_handler("hash")
    def _hash(self) -> str:
        return self._hash_name() if self._program() is not None else ""

    @read_handler("mode")
    def _mode(self) -> str:
        if self.shared is not None:
            return "shared"
        return self.attachment.mode if self.attachment is not None else ""

    @read_handler("reta_size")
    def _reta_size(self) -> str:
        return str(self.counts.entries) if self.counts is not None else ""

    @read_handler("counts")
    def _counts(self) -> str:
        if self.counts is None:
            return ""
        import numpy as np

        totals = self.counts.totals()
        return "\n".join(f"{bucket} {totals[bucket]}" for bucket in np.flatnonzero(totals))
