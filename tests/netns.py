"""What the kernel tests need of the host, and network namespaces joined by
a veth pair for them (root only).

Each prerequisite has a name (``root``, ``bcc``, ``ip``, ...) that tests
list in a ``requires`` mark (see conftest.py) or pass to ``require``: a
missing one skips the test with the reason, or fails it under CI=true.

Every test gets its own pair of namespaces with unique names; the context
manager deletes them (and so their links) however the test ends. IPv6 is
off inside them and the neighbours are entered statically, so that no
neighbour discovery traffic (ARP, ND) mixes with what a test sends and
counts.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

_serial = itertools.count()

#: What ``veth_pair`` needs.
VETH = ("root", "netns", "ip", "sysctl", "ethtool")


def _root() -> str | None:
    if os.geteuid() == 0:
        return None
    return "needs root (network namespaces, XDP, CAP_NET_ADMIN)"


def _netns() -> str | None:
    if os.path.exists("/proc/self/ns/net"):
        return None
    return "the kernel has no network namespaces (CONFIG_NET_NS)"


def _command(name: str, package: str) -> Callable[[], str | None]:
    def check() -> str | None:
        if shutil.which(name):
            return None
        return f"the {name} command is not installed (apt-get install {package})"
    return check


def _bcc() -> str | None:
    from pyclick.kernel import bcc_loader
    unmet = [r for r in bcc_loader.check() if not r.ok and r.what != "root"]
    if not unmet:
        return None
    return "BPF unavailable: " + "; ".join(f"{r.what}: {r.detail}" for r in unmet)


def _debian_bcc() -> str | None:
    if Path("/usr/lib/python3/dist-packages/bcc").is_dir():
        return None
    return "Debian's bcc is not installed (apt-get install python3-bpfcc)"


def _kernel_btf() -> str | None:
    if Path("/sys/kernel/btf/vmlinux").exists():
        return None
    return "the kernel publishes no BTF (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF)"


def _pyclick_command() -> str | None:
    if pyclick_command():
        return None
    return "the pyclick command is not installed (scripts/setup.sh)"


def pyclick_command() -> str | None:
    """The pyclick command installed beside the Python running the tests (a
    venv), else the one on PATH."""
    return (shutil.which("pyclick", path=str(Path(sys.executable).parent))
            or shutil.which("pyclick"))


CHECKS: dict[str, Callable[[], str | None]] = {
    "root": _root,
    "netns": _netns,
    "ip": _command("ip", "iproute2"),
    "sysctl": _command("sysctl", "procps"),
    "ethtool": _command("ethtool", "ethtool"),
    "taskset": _command("taskset", "util-linux"),
    "systemd-analyze": _command("systemd-analyze", "systemd"),
    "bcc": _bcc,
    "debian-bcc": _debian_bcc,
    "kernel-btf": _kernel_btf,
    "pyclick-command": _pyclick_command,
}


@functools.cache
def missing(name: str) -> str | None:
    """Why prerequisite ``name`` is not met here, or None when it is."""
    return CHECKS[name]()


def in_ci() -> bool:
    """Whether the tests run under CI (the environment variable CI=true)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require(*names: str) -> None:
    """Stop the calling test unless every prerequisite in ``names`` is met:
    a skip naming the first one missing, or a failure under CI=true, where
    ``scripts/setup.sh --test`` prepared the machine and a kernel test that
    does not run would otherwise leave CI green. Names are checked in order
    and the first missing one ends the checks: without root, bcc is not
    even tried."""
    for name in names:
        reason = missing(name)
        if reason is None:
            continue
        if in_ci():
            pytest.fail(f"CI=true and a prerequisite is missing: {reason}", pytrace=False)
        pytest.skip(reason)


def skip_reason() -> str | None:
    """Why root-and-bcc kernel tests cannot run here, or None when they can."""
    return missing("root") or missing("bcc")


def ip(*args: str) -> str:
    """Run ``ip ARGS``; raise with ip's message when it fails."""
    result = subprocess.run(["ip", *args], capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def in_netns(ns: str, *command: str) -> list[str]:
    """A command line that runs ``command`` inside namespace ``ns``."""
    return ["ip", "netns", "exec", ns, *command]


@dataclass(frozen=True)
class VethPair:
    """Interface ``send_if`` in ``send_ns`` is wired to ``recv_if`` in ``recv_ns``."""

    send_ns: str
    recv_ns: str
    send_if: str
    recv_if: str
    send_addr: str
    recv_addr: str


def _new_namespace(name: str) -> None:
    ip("netns", "add", name)
    for conf in ("all", "default"):
        subprocess.run(in_netns(name, "sysctl", "-q", "-w",
                                f"net.ipv6.conf.{conf}.disable_ipv6=1"), check=True)
    ip("-n", name, "link", "set", "lo", "up")


def mac_address(ns: str, ifname: str) -> str:
    return json.loads(ip("-n", ns, "-j", "link", "show", "dev", ifname))[0]["address"]


@contextlib.contextmanager
def veth_pair(queues: int = 2) -> Iterator[VethPair]:
    """Two fresh namespaces joined by a ``queues``-queue veth pair, addresses set."""
    require(*VETH)
    tag = f"{os.getpid() % 100000}x{next(_serial)}"
    pair = VethPair(f"pyck-send-{tag}", f"pyck-recv-{tag}", f"ps{tag}", f"pr{tag}",
                    "192.0.2.1", "192.0.2.2")
    created: list[str] = []
    try:
        for ns in (pair.send_ns, pair.recv_ns):
            _new_namespace(ns)
            created.append(ns)
        q = str(queues)
        ip("link", "add", pair.send_if, "netns", pair.send_ns,
           "numtxqueues", q, "numrxqueues", q, "type", "veth",
           "peer", pair.recv_if, "netns", pair.recv_ns, "numtxqueues", q, "numrxqueues", q)
        for ns, ifname, addr in ((pair.send_ns, pair.send_if, pair.send_addr),
                                 (pair.recv_ns, pair.recv_if, pair.recv_addr)):
            ip("-n", ns, "addr", "add", f"{addr}/24", "dev", ifname)
            ip("-n", ns, "link", "set", ifname, "up")
        for ns, ifname, peer_ns, peer_if, peer_addr in (
                (pair.send_ns, pair.send_if, pair.recv_ns, pair.recv_if, pair.recv_addr),
                (pair.recv_ns, pair.recv_if, pair.send_ns, pair.send_if, pair.send_addr)):
            ip("-n", ns, "neigh", "replace", peer_addr, "lladdr", mac_address(peer_ns, peer_if),
               "dev", ifname, "nud", "permanent")
        # A veth frame turned into an XDP frame and redirected loses the
        # "checksum still to fill in" mark of locally sent packets; real
        # wires carry complete checksums, so the sender computes them.
        subprocess.run(in_netns(pair.send_ns, "ethtool", "-K", pair.send_if, "tx", "off"),
                       check=True, capture_output=True)
        yield pair
    finally:
        for ns in created:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@contextlib.contextmanager
def inside(ns: str) -> Iterator[None]:
    """Run the body with this thread in namespace ``ns`` (sockets stay there)."""
    from pyroute2.netns import popns, pushns

    pushns(ns)
    try:
        yield
    finally:
        popns()
