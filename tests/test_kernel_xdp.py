"""The XDP side of the kernel path: hashing and counting in BPF, attaching,
software RSS and the XDPLoader element.

Tests that load BPF programs need root and bcc; without them they are
skipped with the reason, or fail under CI=true. Packets are crafted here
and either run through the program with BPF_PROG_TEST_RUN or sent across
a veth pair between two fresh network namespaces.
"""

from __future__ import annotations

import ipaddress
import os
import random
import shutil
import socket
import struct
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from pyclick.errors import ConfigError
from pyclick.kernel.bucket_counts import fold
from pyclick.kernel.rss_program import COUNT_SOURCE, HASH_INPUT_MAX, toeplitz_table
from pyclick.router import Router
from pyclick.rss.toeplitz import MICROSOFT_KEY, toeplitz_hash, tuple_bytes
from tests.helpers import config_error_of, configured_router
from tests.netns import in_ci, inside, veth_pair

ROOT = Path(__file__).resolve().parents[1]
XDP_PASS, XDP_REDIRECT = 2, 4

needs_bpf = pytest.mark.requires("root", "bcc")


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    """Interface locks, state records and BPF pins of this test, not the system's."""
    from pyclick.kernel import bpffs

    directory = tmp_path / "state"
    monkeypatch.setenv("PYCLICK_STATE_DIR", str(directory))
    yield directory
    if bpffs.is_bpffs(directory / "bpf"):
        bpffs.unmount(directory / "bpf")


def need_commands(*names: str) -> None:
    """Skip with the reason (fail under CI=true) unless every command is installed."""
    missing = [name for name in names if shutil.which(name) is None]
    if not missing:
        return
    reason = f"not installed: {', '.join(missing)} (apt-get install {' '.join(missing)})"
    if in_ci():
        pytest.fail(f"CI=true and a prerequisite is missing: {reason}", pytrace=False)
    pytest.skip(reason)


def compile_object(source: Path, target: Path) -> Path:
    """``source`` built into a BPF object with clang, as the XDPLoader manual says."""
    need_commands("clang")
    multiarch = subprocess.run(["clang", "-print-multiarch"], capture_output=True, text=True,
                               check=True).stdout.strip()
    built = subprocess.run(["clang", "-O2", "-g", "-target", "bpf",
                            f"-I/usr/include/{multiarch}", "-c", str(source), "-o", str(target)],
                           capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    return target


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> Path:
    """The shipped xdp_count.c as a BPF object (512 buckets, its default)."""
    return compile_object(COUNT_SOURCE, tmp_path_factory.mktemp("bpf") / "xdp_count.o")


# --- crafted frames ------------------------------------------------------------

def frame(src: str, dst: str, proto: int = socket.IPPROTO_UDP, sport: int = 0,
          dport: int = 0, *, vlan: int | None = None, fragment_offset: int = 0) -> bytes:
    """An Ethernet frame carrying an IPv4 or IPv6 packet with a 4-byte-port L4 header."""
    l4 = struct.pack("!HH", sport, dport) + bytes(16)
    if ipaddress.ip_address(src).version == 4:
        l3 = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, fragment_offset, 64,
                         proto, 0, ipaddress.ip_address(src).packed,
                         ipaddress.ip_address(dst).packed)
        ethertype = 0x0800
    else:
        l3 = struct.pack("!IHBB16s16s", 6 << 28, len(l4), proto, 64,
                         ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed)
        ethertype = 0x86DD
    eth = bytes.fromhex("020000000002") + bytes.fromhex("020000000001")
    if vlan is not None:
        eth += struct.pack("!HH", 0x8100, vlan)
    return eth + struct.pack("!H", ethertype) + l3 + l4


def arp_frame() -> bytes:
    return bytes.fromhex("ffffffffffff020000000001") + struct.pack("!H", 0x0806) + bytes(28)


def random_flows(rng: random.Random, count: int,
                 family: int = 4) -> list[tuple[str, str, int, int]]:
    bits = 32 if family == 4 else 128
    return [(str(ipaddress.ip_address(rng.getrandbits(bits) | (1 << (bits - 8)))),
             str(ipaddress.ip_address(rng.getrandbits(bits) | (1 << (bits - 8)))),
             rng.randrange(1, 65536), rng.randrange(1, 65536)) for _ in range(count)]


# --- pure Python parts ------------------------------------------------------------

def test_toeplitz_table_reproduces_the_hash():
    rng = random.Random(7)
    key = bytes(rng.getrandbits(8) for _ in range(40))
    table = toeplitz_table(key)
    assert table.shape == (HASH_INPUT_MAX, 256)
    for _ in range(50):
        data = bytes(rng.getrandbits(8) for _ in range(rng.choice((8, 12, 32, 36))))
        xor = 0
        for position, value in enumerate(data):
            xor ^= int(table[position, value])
        assert xor == toeplitz_hash(key, data)


def test_toeplitz_table_refuses_short_keys():
    with pytest.raises(ValueError, match="at least 40 bytes"):
        toeplitz_table(bytes(16))


def test_fold_adds_buckets_congruent_modulo_the_table_size():
    counts = np.arange(16)
    assert fold(counts, 4).tolist() == [0 + 4 + 8 + 12, 1 + 5 + 9 + 13, 2 + 6 + 10 + 14,
                                        3 + 7 + 11 + 15]
    assert fold(counts, 16).tolist() == counts.tolist()
    with pytest.raises(ValueError, match="must divide"):
        fold(counts, 5)


def elf_header(machine: int) -> bytes:
    """The first 20 bytes of a little-endian 64-bit ELF relocatable for ``machine``."""
    return b"\x7fELF" + bytes([2, 1, 1]) + bytes(9) + struct.pack("<HH", 1, machine)


def test_bpf_source_resolves_the_readme_object_name_to_the_shipped_c_file(tmp_path, monkeypatch):
    from pyclick.elements.xdploader import bpf_source, is_object

    monkeypatch.chdir(tmp_path)
    shipped = ROOT / "pyclick/bpf/xdp_count.c"
    assert bpf_source("conf/bpf/xdp_count.o") == shipped
    assert bpf_source(str(shipped)) == shipped and not is_object(shipped)
    with pytest.raises(ValueError, match="no BPF program 'nowhere.o'"):
        bpf_source("nowhere.o")
    (tmp_path / "mine.c").write_text("/* a program */")
    assert bpf_source("mine.o") == tmp_path / "mine.c"


def test_an_existing_object_is_taken_as_it_is_once_checked(tmp_path, monkeypatch):
    from pyclick.elements.xdploader import bpf_source, is_object

    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.c").write_text("/* its source, not used */")
    (tmp_path / "mine.o").write_bytes(elf_header(247) + bytes(44))
    assert bpf_source("mine.o") == tmp_path / "mine.o" and is_object(tmp_path / "mine.o")
    (tmp_path / "mine.o").write_bytes(b"\x7fELF")
    with pytest.raises(ValueError, match="'mine.o' is not an ELF object file"):
        bpf_source("mine.o")
    (tmp_path / "mine.o").write_bytes(elf_header(62) + bytes(44))
    with pytest.raises(ValueError, match="'mine.o' is an object for ELF machine 62, not BPF"):
        bpf_source("mine.o")


def loader_router(config: str) -> Router:
    return configured_router([("xdp", "XDPLoader", config)], at="test.click")


def test_xdploader_argument_errors_name_element_and_keyword():
    error = config_error_of(loader_router, "PATH nowhere.o, DEV eth0, MODE fast, CLEAN maybe")
    text = "\n".join(error.messages)
    assert "test.click:1" in text and "xdp :: XDPLoader" in text
    assert "PATH: no BPF program 'nowhere.o'" in text
    assert "MODE:" in text and "CLEAN:" in text


def test_xdploader_clashing_arguments_are_configuration_errors():
    error = config_error_of(loader_router, "PATH conf/bpf/xdp_count.o, DEV eth0, RETA_SIZE 0, "
                                           "HASH nic, MODE generic")
    assert error.messages == [
        "test.click:1: While configuring 'xdp :: XDPLoader': RETA_SIZE: must be at least 1 and "
        "at most 65536, got '0'",
        "test.click:1: While configuring 'xdp :: XDPLoader': HASH nic: the driver's hash needs "
        "MODE native or auto"]


def test_xdploader_needs_path_and_dev():
    text = "\n".join(config_error_of(loader_router, "").messages)
    assert "PATH: missing mandatory argument" in text and "DEV: missing mandatory argument" in text


# --- finding bcc and kernel headers -------------------------------------------------

def fake_headers(root: Path, version: str, flavour: str = "amd64") -> None:
    common = root / f"linux-headers-{version}-common"
    arch = root / f"linux-headers-{version}-{flavour}"
    (common / "include" / "linux").mkdir(parents=True)
    (common / "include" / "linux" / "bpf.h").write_text("common")
    (common / "Makefile").write_text("common")
    (arch / "include" / "generated").mkdir(parents=True)
    (arch / "include" / "generated" / "autoconf.h").write_text(flavour)
    (arch / "Makefile").write_text(flavour)


def test_newest_debian_headers_are_merged_flavour_first(tmp_path):
    from pyclick.kernel import bcc_loader

    fake_headers(tmp_path / "src", "6.1.0-9")
    fake_headers(tmp_path / "src", "6.1.0-12")
    (tmp_path / "src" / "linux-headers-6.1.0-13-common").mkdir()  # no flavour half
    common, flavour = bcc_loader.debian_header_halves(tmp_path / "src")
    assert (common.name, flavour.name) == ("linux-headers-6.1.0-12-common",
                                           "linux-headers-6.1.0-12-amd64")
    tree = bcc_loader.merged_headers(common, flavour, cache=tmp_path / "cache")
    assert (tree / "include/linux/bpf.h").read_text() == "common"
    assert (tree / "include/generated/autoconf.h").read_text() == "amd64"
    assert (tree / "Makefile").read_text() == "amd64"
    assert bcc_loader.merged_headers(common, flavour, cache=tmp_path / "cache") == tree
    assert bcc_loader.debian_header_halves(tmp_path / "empty") is None


def test_bcc_kernel_source_is_respected(tmp_path, monkeypatch):
    from pyclick.kernel import bcc_loader

    (tmp_path / "include").mkdir()
    monkeypatch.setenv("BCC_KERNEL_SOURCE", str(tmp_path))
    assert bcc_loader.kernel_source() == tmp_path
    monkeypatch.setenv("BCC_KERNEL_SOURCE", str(tmp_path / "missing"))
    with pytest.raises(bcc_loader.BccUnavailable, match="no include/ directory"):
        bcc_loader.kernel_source()


def test_missing_bcc_says_which_package_to_install(tmp_path, monkeypatch):
    import sys

    from pyclick.kernel import bcc_loader

    monkeypatch.setitem(sys.modules, "bcc", None)
    monkeypatch.setattr(bcc_loader, "DEBIAN_DIST_PACKAGES", tmp_path)
    with pytest.raises(bcc_loader.BccUnavailable, match="apt-get install python3-bpfcc"):
        bcc_loader.import_bcc()
    assert str(tmp_path) not in sys.path


@pytest.mark.requires("debian-bcc")
def test_debian_bcc_is_imported_without_shadowing_other_packages():
    import subprocess
    import sys

    # Debian's own interpreter has dist-packages on its path from the start;
    # importing bcc must not add it for any other interpreter.
    probe = ("import sys; before = list(sys.path); from pyclick.kernel import bcc_loader; "
             "bcc = bcc_loader.import_bcc(); print(bcc.__file__); print(sys.path == before)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["/usr/lib/python3/dist-packages/bcc/__init__.py", "True"]


# --- BPF programs under BPF_PROG_TEST_RUN -----------------------------------------

@pytest.fixture(scope="module")
def keyed_program():
    from pyclick.kernel.rss_program import RssProgram

    key = bytes(random.Random(11).getrandbits(8) for _ in range(40))
    program = RssProgram(128, key)
    yield program
    program.close()


def counted_bucket(program, packet: bytes) -> int | None:
    """Run the program once on ``packet``; the bucket it counted, if any."""
    from pyclick.kernel import bpf_syscall
    from pyclick.kernel.bucket_counts import BucketCounts

    counts = BucketCounts(program.map_fd("count_map"), program.reta_size)
    counts.read()
    result = bpf_syscall.prog_test_run(program.xdp_fd, packet)
    assert result.retval == XDP_PASS
    delta = counts.read()
    assert delta.sum() in (0, 1)
    return int(np.flatnonzero(delta)[0]) if delta.any() else None


@needs_bpf
@pytest.mark.parametrize("family,proto", [(4, socket.IPPROTO_UDP), (4, socket.IPPROTO_TCP),
                                          (6, socket.IPPROTO_UDP), (6, socket.IPPROTO_TCP)])
def test_counted_bucket_is_the_toeplitz_hash_of_the_4_tuple(keyed_program, family, proto):
    for src, dst, sport, dport in random_flows(random.Random(family * 100 + proto), 40, family):
        expected = toeplitz_hash(keyed_program.key, tuple_bytes(src, dst, sport, dport)) % 128
        assert counted_bucket(keyed_program, frame(src, dst, proto, sport, dport)) == expected


@needs_bpf
def test_portless_and_fragmented_packets_hash_the_addresses_only(keyed_program):
    for src, dst, sport, dport in random_flows(random.Random(3), 20):
        expected = toeplitz_hash(keyed_program.key, tuple_bytes(src, dst)) % 128
        assert counted_bucket(keyed_program, frame(src, dst, socket.IPPROTO_ICMP)) == expected
        later_fragment = frame(src, dst, socket.IPPROTO_UDP, sport, dport, fragment_offset=100)
        assert counted_bucket(keyed_program, later_fragment) == expected
        first_fragment = frame(src, dst, socket.IPPROTO_UDP, sport, dport,
                               fragment_offset=0x2000)
        assert counted_bucket(keyed_program, first_fragment) == expected


@needs_bpf
def test_vlan_tagged_packets_hash_like_untagged_ones(keyed_program):
    for src, dst, sport, dport in random_flows(random.Random(5), 10):
        expected = toeplitz_hash(keyed_program.key, tuple_bytes(src, dst, sport, dport)) % 128
        tagged = frame(src, dst, socket.IPPROTO_TCP, sport, dport, vlan=42)
        assert counted_bucket(keyed_program, tagged) == expected


@needs_bpf
def test_non_ip_and_truncated_packets_are_not_counted(keyed_program):
    assert counted_bucket(keyed_program, arp_frame()) is None
    whole = frame("10.0.0.1", "10.0.0.2", socket.IPPROTO_UDP, 1, 2)
    assert counted_bucket(keyed_program, whole[:14 + 10]) is None


@needs_bpf
def test_microsoft_verification_vector_lands_in_its_bucket():
    from pyclick.kernel.rss_program import RssProgram

    program = RssProgram(512, MICROSOFT_KEY)
    try:
        # Microsoft's RSS verification suite: this IPv4 TCP flow hashes to 0x51ccc178.
        packet = frame("66.9.149.187", "161.142.100.80", socket.IPPROTO_TCP, 2794, 1766)
        assert counted_bucket(program, packet) == 0x51CCC178 % 512
    finally:
        program.close()


@needs_bpf
def test_software_rss_program_redirects_to_the_table_cpu():
    from pyclick.kernel import bpf_syscall
    from pyclick.kernel.rss_program import RssProgram

    program = RssProgram(64, MICROSOFT_KEY, redirect_cpus=2)
    try:
        reta = np.arange(64, dtype=np.uint32) % 2
        bpf_syscall.write_array(program.map_fd("reta_map"), reta)
        packet = frame("192.0.2.1", "192.0.2.2", socket.IPPROTO_UDP, 1000, 2000)
        # No CPUMAP entry yet: the packet stays on the receiving CPU.
        assert bpf_syscall.prog_test_run(program.xdp_fd, packet).retval == XDP_PASS
        cpu_map = program.map("cpu_map")
        entry = cpu_map.Leaf()
        entry.qsize = 64
        for cpu in (0, 1):
            cpu_map[cpu_map.Key(cpu)] = entry
        assert bpf_syscall.prog_test_run(program.xdp_fd, packet).retval == XDP_REDIRECT
    finally:
        program.close()


# --- attaching ------------------------------------------------------------------------

@pytest.fixture
def pair():
    with veth_pair() as created:
        yield created


@pytest.fixture(scope="module")
def two_programs():
    """Two distinct loaded XDP programs that pass everything."""
    from pyclick.kernel import bcc_loader

    bcc = bcc_loader.prepare()
    first = bcc.BPF(text=b"int first(struct xdp_md *ctx) { return XDP_PASS; }")
    second = bcc.BPF(text=b"int second(struct xdp_md *ctx) { return XDP_PASS; }")
    yield first.load_func(b"first", bcc.BPF.XDP).fd, second.load_func(b"second", bcc.BPF.XDP).fd
    first.cleanup()
    second.cleanup()


def prog_id(fd: int) -> int:
    from pyclick.kernel import bpf_syscall
    return bpf_syscall.prog_info(fd).id


@needs_bpf
@pytest.mark.parametrize("mode,expected", [("auto", "native"), ("native", "native"),
                                           ("generic", "generic")])
def test_attach_in_each_mode_and_detach_leaves_nothing(pair, two_programs, mode, expected):
    from pyclick.kernel.xdp import XdpAttachment, xdp_state

    with inside(pair.recv_ns):
        attachment = XdpAttachment(pair.recv_if, two_programs[0], mode)
        assert attachment.attach() == expected
        assert xdp_state(pair.recv_if).mode == expected
        assert xdp_state(pair.recv_if).prog_id == prog_id(two_programs[0])
        attachment.detach()
        assert xdp_state(pair.recv_if).mode is None
        attachment.detach()


@needs_bpf
@pytest.mark.parametrize("previous_mode", ["native", "generic"])
def test_detach_reinstalls_the_previous_program(pair, two_programs, previous_mode):
    from pyclick.kernel.xdp import XdpAttachment, xdp_state

    theirs, ours = two_programs
    with inside(pair.recv_ns):
        with XdpAttachment(pair.recv_if, theirs, previous_mode):
            attachment = XdpAttachment(pair.recv_if, ours, "auto")
            assert attachment.attach() == previous_mode
            assert xdp_state(pair.recv_if).prog_id == prog_id(ours)
            attachment.detach()
            assert xdp_state(pair.recv_if) == type(xdp_state(pair.recv_if))(previous_mode,
                                                                            prog_id(theirs))


@needs_bpf
def test_mode_conflicting_with_the_attached_program_is_refused(pair, two_programs):
    from pyclick.kernel.xdp import XdpAttachment, XdpError, xdp_state

    theirs, ours = two_programs
    with inside(pair.recv_ns):
        with XdpAttachment(pair.recv_if, theirs, "generic"):
            with pytest.raises(XdpError, match="generic mode.*one mode at a time"):
                XdpAttachment(pair.recv_if, ours, "native").attach()
            assert xdp_state(pair.recv_if).prog_id == prog_id(theirs)


@needs_bpf
def test_a_program_attached_over_ours_is_left_alone(pair, two_programs):
    from pyclick.kernel.xdp import XdpAttachment, xdp_state

    first, second = two_programs
    with inside(pair.recv_ns):
        ours = XdpAttachment(pair.recv_if, first, "native")
        ours.attach()
        XdpAttachment(pair.recv_if, second, "native").attach()
        ours.detach()
        assert xdp_state(pair.recv_if).prog_id == prog_id(second)


@needs_bpf
def test_missing_interface_is_named():
    from pyclick.kernel.xdp import XdpAttachment, XdpError

    with pytest.raises(XdpError, match="interface nosuch0 does not exist"):
        XdpAttachment("nosuch0", 0).attach()


# --- software RSS over a veth pair -------------------------------------------------------

def udp_senders(pair, ports) -> list[socket.socket]:
    with inside(pair.send_ns):
        senders = []
        for port in ports:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((pair.send_addr, port))
            senders.append(sock)
    return senders


def expected_buckets(pair, ports, dport: int, key: bytes, size: int) -> list[int]:
    return [toeplitz_hash(key, tuple_bytes(pair.send_addr, pair.recv_addr, p, dport)) % size
            for p in ports]


def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


@needs_bpf
@pytest.mark.parametrize("mode", ["native", "generic"])
def test_software_rss_counts_every_packet_and_steers_it_to_the_table_cpu(pair, mode):
    from pyclick.kernel import softrss
    from pyclick.kernel.xdp import xdp_state

    ports = list(range(30000, 30040))
    sends = {port: 1 + i % 7 for i, port in enumerate(ports)}
    with inside(pair.recv_ns):
        rss = softrss.SoftwareRSS(pair.recv_if, 64, [0, 1], mode=mode)
        rss.start()
        assert xdp_state(pair.recv_if).mode == mode
    try:
        assert rss.started
        assert rss.reta_size() == 64 and rss.queue_count() == 2
        assert rss.read_table().tolist() == (np.arange(64) % 2).tolist()
        skewed = np.zeros(64, dtype=np.int64)
        skewed[::3] = 1
        rss.write_table(skewed)
        assert rss.read_table().tolist() == skewed.tolist()

        for sock, port in zip(udp_senders(pair, ports), ports):
            for _ in range(sends[port]):
                sock.sendto(b"payload", (pair.recv_addr, 9))
            sock.close()
        expected = np.zeros(64, dtype=np.int64)
        for port, bucket in zip(ports, expected_buckets(pair, ports, 9, rss.hash_key(), 64)):
            expected[bucket] += sends[port]
        wait_until(lambda: rss.landed().sum() == expected.sum())
        assert rss.read_counts().tolist() == expected.tolist()
        assert rss.read_counts().sum() == 0
        landed = rss.landed()
        assert landed.sum(axis=0).tolist() == expected.tolist()
        for bucket in np.flatnonzero(expected):
            assert landed[skewed[bucket], bucket] == expected[bucket]
    finally:
        with inside(pair.recv_ns):
            rss.stop()
            assert xdp_state(pair.recv_if).mode is None
    assert not rss.started


@needs_bpf
def test_software_rss_rejects_bad_tables_and_cpus(pair):
    from pyclick.kernel import softrss

    with pytest.raises(ValueError, match="does not exist"):
        softrss.SoftwareRSS(pair.recv_if, 8, [0, os.cpu_count() + 64])
    with pytest.raises(ValueError, match="distinct"):
        softrss.SoftwareRSS(pair.recv_if, 8, [0, 0])
    with inside(pair.recv_ns), softrss.SoftwareRSS(pair.recv_if, 8, [0]) as rss:
        with pytest.raises(ValueError, match="queues 0..0"):
            rss.write_table(np.ones(8, dtype=int))
        with pytest.raises(ValueError, match="8-bucket"):
            rss.write_table(np.zeros(4, dtype=int))


# --- the XDPLoader element ---------------------------------------------------------------

@needs_bpf
def test_xdploader_counts_per_bucket_and_detaches_at_cleanup(pair):
    from pyclick.kernel.xdp import xdp_state

    ports = list(range(31000, 31016))
    with inside(pair.recv_ns):
        router = loader_router(f"PATH conf/bpf/xdp_count.o, DEV {pair.recv_if}, "
                                     f"RETA_SIZE 256")
        router.initialize()
        xdp = router.element("xdp")
        try:
            assert xdp_state(pair.recv_if).mode == "native"
            assert router.handlers.read("xdp.mode") == "native"
            assert router.handlers.read("xdp.maps").split() == ["count_map", "toeplitz_map"]
            for sock in udp_senders(pair, ports):
                sock.sendto(b"x", (pair.recv_addr, 7))
                sock.close()
            buckets = expected_buckets(pair, ports, 7, MICROSOFT_KEY, 256)
            wait_until(lambda: xdp.counts.totals().sum() == len(ports))
            expected = np.bincount(buckets, minlength=256)
            # veth has no RSS table: the counter size is the table size.
            assert xdp.read_counts().tolist() == expected.tolist()
            assert xdp.read_counts().sum() == 0
            assert xdp.counts.read().sum() == 0
            folded = np.bincount([b % 64 for b in buckets], minlength=64)
            lines = router.handlers.read("xdp.counts").splitlines()
            assert sum(int(line.split()[1]) for line in lines) == len(ports)
            assert xdp.counts.totals().reshape(-1, 64).sum(axis=0).tolist() == folded.tolist()
        finally:
            router.cleanup()
        assert xdp_state(pair.recv_if).mode is None


@needs_bpf
def test_xdploader_clean_false_leaves_the_program_counting(pair):
    from pyclick.kernel.xdp import xdp_state

    with inside(pair.recv_ns):
        router = loader_router(f"PATH conf/bpf/xdp_count.c, DEV {pair.recv_if}, "
                                     f"CLEAN false, MODE generic")
        router.initialize()
        router.cleanup()
        state = xdp_state(pair.recv_if)
        assert state.mode == "generic" and state.prog_id != 0


@needs_bpf
def test_xdploader_reads_software_rss_counts_instead_of_attaching(pair):
    from pyclick.kernel.xdp import xdp_state

    with inside(pair.recv_ns):
        before = xdp_state(pair.recv_if)
        # Declared before the FromDevice whose program it shares, it still starts after it;
        # the FromDevice runs software RSS because a balancer names it.
        router = configured_router([
            ("xdp", "XDPLoader", f"PATH conf/bpf/xdp_count.o, DEV {pair.recv_if}"),
            ("fd", "FromDevice", f"{pair.recv_if}, MODE software, QUEUE_CPUS 0 1, RETA_SIZE 32, "
                                 f"ACTIVE false"),
            ("db", "DeviceBalancer", "METHOD rss, DEV fd, RETA_SIZE 32, CYCLES realcpu, "
                                     "VERBOSE 0, ACTIVE false")],
            at="test.click")
        router.initialize()
        xdp, rss = router.element("xdp"), router.element("fd").table.device
        try:
            assert router.handlers.read("xdp.mode") == "shared"
            assert xdp.program is None and xdp.shared is rss
            assert "reta_map" in router.handlers.read("xdp.maps").split()
            for sock in udp_senders(pair, range(32000, 32010)):
                sock.sendto(b"x", (pair.recv_addr, 7))
                sock.close()
            wait_until(lambda: rss.landed().sum() == 10)
            counts = xdp.read_counts()
            assert len(counts) == 32 and counts.sum() == 10
            # Each reader has its own notion of "since the last read".
            assert rss.read_counts().sum() == 10
        finally:
            router.cleanup()
        assert xdp_state(pair.recv_if) == before


@needs_bpf
@pytest.mark.parametrize("ending", ["raise SystemExit(3)",
                                    "os.kill(os.getpid(), signal.SIGTERM)"])
def test_xdploader_detaches_when_the_process_ends_without_cleanup(pair, ending, state_dir):
    import subprocess
    import sys

    from pyclick.kernel.xdp import xdp_state
    from tests.netns import in_netns

    script = (
        "import os, signal\n"
        "from tests.test_kernel_xdp import loader_router\n"
        f"router = loader_router('PATH conf/bpf/xdp_count.o, DEV {pair.recv_if}')\n"
        "router.initialize()\n"
        "print('attached', flush=True)\n"
        f"{ending}\n")
    result = subprocess.run(in_netns(pair.recv_ns, sys.executable, "-c", script), cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "attached", result.stderr
    assert result.returncode != 0
    with inside(pair.recv_ns):
        assert xdp_state(pair.recv_if).mode is None
    # Everything was put back, so the lock and the state record went too.
    assert list(state_dir.iterdir()) == []


@needs_bpf
def test_xdploader_failed_initialize_is_reported_and_leaves_nothing(pair, tmp_path):
    from pyclick.kernel.xdp import xdp_state

    router = loader_router("PATH conf/bpf/xdp_count.o, DEV nosuch0")
    with pytest.raises(ConfigError, match="nosuch0"):
        router.run(handle_signals=False)

    no_counter = tmp_path / "pass.c"
    no_counter.write_text("int xdp_count(struct xdp_md *ctx) { return XDP_PASS; }\n")
    with inside(pair.recv_ns):
        router = loader_router(f"PATH {no_counter}, DEV {pair.recv_if}")
        with pytest.raises(ConfigError, match="declares no count_map"):
            router.run(handle_signals=False)
        assert xdp_state(pair.recv_if).mode is None


# --- compiled BPF objects, loaded as they are through bpftool ------------------------------

needs_object_loading = pytest.mark.requires("root", "bcc", "ip", "netns")


def loaded_ids(xdp) -> tuple[set[int], set[int]]:
    """Ids of the element's program and of its maps."""
    from pyclick.kernel import bpf_syscall

    program = bpf_syscall.prog_info(xdp.program.xdp_fd)
    return {program.id}, set(program.map_ids)


def wait_gone(programs: set[int], maps: set[int]) -> None:
    from pyclick.kernel import bpf_syscall

    wait_until(lambda: not programs & set(bpf_syscall.prog_ids())
               and not maps & set(bpf_syscall.map_ids()), timeout=10)


@needs_object_loading
def test_xdploader_loads_the_compiled_object_and_counts_with_its_count_map(pair, compiled,
                                                                           state_dir):
    from pyclick.kernel.bpf_object import ObjectProgram
    from pyclick.kernel.xdp import xdp_state

    need_commands("bpftool")
    ports = list(range(34000, 34016))
    with inside(pair.recv_ns):
        router = loader_router(f"PATH {compiled}, DEV {pair.recv_if}")
        router.initialize()
        xdp = router.element("xdp")
        try:
            assert isinstance(xdp.program, ObjectProgram)
            programs, maps = loaded_ids(xdp)
            assert len(maps) == 2
            assert xdp_state(pair.recv_if).prog_id in programs
            assert router.handlers.read("xdp.maps").split() == ["count_map", "toeplitz_map"]
            # The object was compiled with 512 buckets, and says so.
            assert router.handlers.read("xdp.reta_size") == "512"
            for sock in udp_senders(pair, ports):
                sock.sendto(b"x", (pair.recv_addr, 7))
                sock.close()
            wait_until(lambda: xdp.counts.totals().sum() == len(ports))
            expected = np.bincount(expected_buckets(pair, ports, 7, MICROSOFT_KEY, 512),
                                   minlength=512)
            assert xdp.read_counts().tolist() == expected.tolist()
        finally:
            router.cleanup()
        assert xdp_state(pair.recv_if).mode is None
    wait_gone(programs, maps)
    # bpftool's pins went as soon as the objects were open.
    assert not list((state_dir / "bpf").glob("*/load-*"))


@needs_object_loading
def test_an_object_with_another_table_size_than_asked_is_refused(pair, compiled):
    from pyclick.kernel.xdp import xdp_state

    need_commands("bpftool")
    with inside(pair.recv_ns):
        router = loader_router(f"PATH {compiled}, DEV {pair.recv_if}, RETA_SIZE 256")
        with pytest.raises(ConfigError) as caught:
            router.run(handle_signals=False)
        assert xdp_state(pair.recv_if).mode is None
    assert str(caught.value) == (
        "test.click:1: While initializing 'xdp :: XDPLoader': RETA_SIZE 256 differs from the "
        "512 entries of count_map in xdp_count.o (fixed when it was compiled)")


@needs_object_loading
def test_objects_without_a_counter_or_refused_by_the_kernel_are_reported(pair, tmp_path):
    from pyclick.kernel.xdp import xdp_state

    need_commands("bpftool")
    headers = "#include <linux/bpf.h>\n#define SEC(s) __attribute__((section(s), used))\n"
    (tmp_path / "pass.c").write_text(
        headers + 'SEC("xdp") int xdp_count(struct xdp_md *ctx) { return XDP_PASS; }\n'
        'char _license[] SEC("license") = "GPL";\n')
    # Reads the packet without checking its length: the verifier refuses it.
    (tmp_path / "unchecked.c").write_text(
        headers + 'SEC("xdp") int xdp_count(struct xdp_md *ctx) '
        '{ return *(int *)(long)ctx->data; }\nchar _license[] SEC("license") = "GPL";\n')
    with inside(pair.recv_ns):
        for name, message in (("pass", "declares no count_map"),
                              ("unchecked", "the kernel or libbpf refused the object")):
            built = compile_object(tmp_path / f"{name}.c", tmp_path / f"{name}.o")
            router = loader_router(f"PATH {built}, DEV {pair.recv_if}")
            with pytest.raises(ConfigError, match=message):
                router.run(handle_signals=False)
            assert xdp_state(pair.recv_if).mode is None


# --- counting by the NIC's own RX hash (kfunc) ---------------------------------------------

def test_rx_hash_program_jumps_land_on_the_return():
    from pyclick.kernel import rxhash

    code = rxhash.count_program(map_fd=7, reta_size=128, kfunc_id=1234)
    insns = [struct.unpack_from("<BBhi", code, i) for i in range(0, len(code), 8)]
    ret = next(i for i, (op, regs, off, imm) in enumerate(insns)
               if op == rxhash.BPF_ALU64 | rxhash.BPF_MOV | rxhash.BPF_K and imm == 2)
    assert insns[ret + 1][0] == rxhash.BPF_JMP | rxhash.BPF_EXIT and ret + 2 == len(insns)
    jumps = [(i, off) for i, (op, _, off, _) in enumerate(insns)
             if op in (rxhash.BPF_JMP | rxhash.BPF_JNE, rxhash.BPF_JMP | rxhash.BPF_JEQ)]
    assert len(jumps) == 2 and all(i + 1 + off == ret for i, off in jumps)
    calls = [(regs >> 4, imm) for op, regs, _, imm in insns
             if op == rxhash.BPF_JMP | rxhash.BPF_CALL]
    assert calls == [(rxhash.BPF_PSEUDO_KFUNC_CALL, 1234), (0, rxhash.FUNC_MAP_LOOKUP_ELEM)]
    assert (rxhash.BPF_ALU | rxhash.BPF_MOD | rxhash.BPF_K, 128) in [(op, imm)
                                                                     for op, _, _, imm in insns]


@pytest.mark.requires("kernel-btf")
def test_kfunc_ids_come_from_the_kernel_btf():
    from pyclick.kernel.rxhash import RxHashUnavailable, kfunc_btf_id

    assert kfunc_btf_id() > 0
    with pytest.raises(RxHashUnavailable, match="no no_such_kfunc_here"):
        kfunc_btf_id("no_such_kfunc_here")


@needs_bpf
def test_nic_hash_counts_each_flow_in_one_bucket(pair):
    from pyclick.kernel.xdp import xdp_state

    with inside(pair.recv_ns):
        router = loader_router(f"PATH conf/bpf/xdp_count.o, DEV {pair.recv_if}, "
                                     f"HASH nic, RETA_SIZE 64")
        router.initialize()
        xdp = router.element("xdp")
        try:
            assert router.handlers.read("xdp.hash") == "nic"
            assert router.handlers.read("xdp.maps") == "count_map"
            assert xdp_state(pair.recv_if).mode == "native"
            buckets = set()
            for i, sock in enumerate(udp_senders(pair, range(33000, 33012))):
                for _ in range(i + 1):
                    sock.sendto(b"x", (pair.recv_addr, 7))
                sock.close()
                wait_until(lambda: xdp.counts.totals().sum() == (i + 1) * (i + 2) // 2)
                delta = xdp.read_counts()
                assert np.count_nonzero(delta) == 1 and delta.sum() == i + 1
                buckets.add(int(np.flatnonzero(delta)[0]))
            assert len(buckets) > 1
        finally:
            router.cleanup()
        assert xdp_state(pair.recv_if).mode is None


@needs_bpf
def test_nic_hash_refused_by_a_driver_without_it_is_reported(pair):
    with inside(pair.recv_ns):
        router = loader_router("PATH conf/bpf/xdp_count.o, DEV lo, HASH nic")
        with pytest.raises(ConfigError, match="HASH nic on lo: the driver does not give XDP"):
            router.run(handle_signals=False)
        # Without an RSS table, HASH auto counts with the Toeplitz program.
        router = loader_router(f"PATH conf/bpf/xdp_count.o, DEV {pair.recv_if}")
        router.initialize()
        try:
            assert router.handlers.read("xdp.hash") == "toeplitz"
        finally:
            router.cleanup()


def test_xdploader_looks_for_programs_where_the_kernel_compiles_them():
    from pyclick.elements.xdploader import SHIPPED_BPF
    from pyclick.kernel.rss_program import BPF_DIR

    assert SHIPPED_BPF == BPF_DIR and (SHIPPED_BPF / "xdp_count.c").is_file()
