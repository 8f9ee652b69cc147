"""Network namespaces joined by a veth pair, for the kernel tests (root only).

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
import subprocess
from dataclasses import dataclass
from typing import Iterator

from pyroute2.netns import popns, pushns

_serial = itertools.count()


@functools.cache
def skip_reason() -> str | None:
    """Why the kernel tests cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "kernel tests need root (network namespaces, XDP)"
    from pyclick.kernel import bcc_loader
    missing = [r for r in bcc_loader.check() if not r.ok]
    if missing:
        return "BPF unavailable: " + "; ".join(f"{r.what}: {r.detail}" for r in missing)
    return None


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
    pushns(ns)
    try:
        yield
    finally:
        popns()
