"""FromDevice: choosing hardware or software RSS, saving and restoring the table.

The NIC's table is played by ``MemoryNic``, a table kept in memory that
checks writes as a driver does, standing in for EthtoolRSS (no RSS-capable
NIC exists on a test machine). Everything FromDevice decides is its own
code. The exit paths run in child processes whose NIC table lives in a
file, so what the process left behind can be read after it ended. The
kernel tests use a real veth in network namespaces of their own.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from pyroute2 import IPRoute
from pyroute2.netns import create_socket

from pyclick.element import Element
from pyclick.elements.fromdevice import FromDevice, rss_hash
from pyclick.errors import ConfigError, Landmark
from pyclick.kernel import exitguard
from pyclick.kernel.ethtool import NoRssTable, RssConfig
from pyclick.lang.model import FlatConfig, FlatConnection, FlatElement
from pyclick.router import Router
from pyclick.seams import RssDevice
from pyclick.sim.toeplitz import MICROSOFT_KEY, toeplitz_hash, tuple_bytes
from tests.netns import inside, skip_reason, veth_pair

ROOT = Path(__file__).resolve().parents[1]
CHILD_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
IS_ROOT = os.geteuid() == 0
KEY = bytes(range(40))
needs_root = pytest.mark.skipif(not IS_ROOT, reason="FromDevice needs CAP_NET_ADMIN")
needs_bpf = pytest.mark.skipif(bool(skip_reason()), reason=skip_reason() or "")


class MemoryNic:
    """A NIC's RSS table in memory, shared by every handle on the same name."""

    tables: dict[str, np.ndarray] = {}
    drivers: dict[str, str] = {}
    writes: dict[str, int] = {}
    queues = 4
    open_handles = 0

    @classmethod
    def install(cls, ifname: str, table: np.ndarray, driver: str = "memnic") -> None:
        cls.tables[ifname] = np.asarray(table, dtype=np.int64).copy()
        cls.drivers[ifname] = driver
        cls.writes[ifname] = 0

    def __init__(self, ifname: str):
        self.ifname = ifname
        MemoryNic.open_handles += 1

    def driver(self) -> str:
        return self.drivers[self.ifname]

    def read(self) -> RssConfig:
        if self.drivers[self.ifname] == "notable":
            raise NoRssTable(self.ifname, "notable")
        return RssConfig(self.tables[self.ifname].copy(), KEY, "toeplitz", self.queues)

    def reta_size(self) -> int:
        return int(self.tables[self.ifname].size)

    def queue_count(self) -> int:
        return self.queues

    def hash_key(self) -> bytes:
        return KEY

    def read_table(self) -> np.ndarray:
        return self.read().table

    def write_table(self, table: np.ndarray) -> None:
        entries = np.asarray(table)
        if entries.shape != self.tables[self.ifname].shape or entries.max() >= self.queues:
            raise ValueError(f"driver refuses table {entries.tolist()}")
        self.tables[self.ifname] = entries.astype(np.int64).copy()
        self.writes[self.ifname] += 1

    def close(self) -> None:
        MemoryNic.open_handles -= 1

    def __enter__(self) -> "MemoryNic":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Collect(Element):
    """Collect() -- keeps every packet pushed to it (tests)"""

    port_count = "1/0"

    def initialize(self) -> None:
        self.packets = []

    def push(self, port, batch) -> None:
        self.packets.extend(batch)


@pytest.fixture
def memory_nic(monkeypatch):
    monkeypatch.setattr(FromDevice, "hardware_backend", MemoryNic)
    MemoryNic.install("nic0", np.arange(16) % 4)
    yield MemoryNic
    assert MemoryNic.open_handles == 0, "FromDevice left a device handle open"


def router_for(config: str, sink: str = "Discard", simtime: bool = False) -> Router:
    here = Landmark("test.click", 1)
    flat = FlatConfig(
        elements=[FlatElement("fd", "FromDevice", config, here),
                  FlatElement("sink", sink, "", Landmark("test.click", 2))],
        connections=[FlatConnection("fd", 0, "sink", 0, here)])
    return Router(flat, simtime=simtime)


def configured(config: str, **kw) -> tuple[Router, FromDevice]:
    router = router_for(config, **kw)
    router.configure()
    return router, router.elements[0]


# --- hardware mode with the in-memory NIC ---------------------------------------------

def test_hardware_table_is_saved_and_restored(memory_nic):
    router, fd = configured("nic0, ACTIVE false")
    assert isinstance(fd, RssDevice)
    assert (fd.mode, fd.driver) == ("hardware", "memnic")
    assert (fd.reta_size(), fd.queue_count(), fd.hash_key()) == (16, 4, KEY)
    router.initialize()
    original = memory_nic.tables["nic0"].copy()
    moved = np.zeros(16, dtype=np.int64)
    fd.write_table(moved)
    np.testing.assert_array_equal(memory_nic.tables["nic0"], moved)
    np.testing.assert_array_equal(fd.read_table(), moved)
    assert router.handlers.read("fd.saved_table") == " ".join(map(str, original))
    router.cleanup()
    np.testing.assert_array_equal(memory_nic.tables["nic0"], original)
    assert memory_nic.writes["nic0"] == 2
    assert exitguard.pending() == []


def test_an_untouched_table_is_not_rewritten(memory_nic):
    router, fd = configured("nic0")
    router.initialize()
    router.cleanup()
    assert memory_nic.writes["nic0"] == 0


def test_a_failed_write_is_still_undone(memory_nic):
    router, fd = configured("nic0")
    router.initialize()
    fd.write_table(np.full(16, 3))
    with pytest.raises(ValueError, match="driver refuses"):
        fd.write_table(np.full(16, 9))
    router.cleanup()
    np.testing.assert_array_equal(memory_nic.tables["nic0"], np.arange(16) % 4)


def test_restore_handler_puts_the_saved_table_back(memory_nic):
    router, fd = configured("nic0")
    router.initialize()
    fd.write_table(np.full(16, 2))
    router.handlers.write("fd.restore", "")
    np.testing.assert_array_equal(memory_nic.tables["nic0"], np.arange(16) % 4)
    assert router.handlers.read("fd.table") == " ".join(str(q) for q in np.arange(16) % 4)
    router.cleanup()
    assert memory_nic.writes["nic0"] == 2


def test_handlers_describe_the_device(memory_nic):
    router, fd = configured("nic0")
    router.initialize()
    try:
        assert router.handlers.read("fd.mode") == "hardware"
        assert router.handlers.read("fd.driver") == "memnic"
        assert router.handlers.read("fd.reta_size") == "16"
        assert router.handlers.read("fd.queues") == "4"
        assert router.handlers.read("fd.key") == KEY.hex()
    finally:
        router.cleanup()


def test_balancer_facing_extras(memory_nic):
    _, fd = configured("nic0")
    assert fd.load_source("realcpu") is None
    assert "'nic0' (memnic) has 4 RX queues" in fd.describe_queues()
    assert "ethtool -L nic0 combined N" in fd.describe_queues()


def test_table_calls_before_initialize_are_refused(memory_nic):
    _, fd = configured("nic0")
    with pytest.raises(RuntimeError, match="not initialized"):
        fd.write_table(np.zeros(16))


def test_reta_size_must_match_the_nic(memory_nic):
    with pytest.raises(ConfigError) as caught:
        configured("nic0, RETA_SIZE 128")
    message = str(caught.value)
    assert message.startswith("test.click:1: ")
    assert "RETA_SIZE 128 differs from the 16 entries" in message


def test_software_keywords_with_hardware(memory_nic, caplog):
    with pytest.raises(ConfigError, match="QUEUE_CPUS, KEY: only used by MODE software"):
        configured("nic0, MODE hardware, QUEUE_CPUS 0 1, KEY 00112233")
    with caplog.at_level(logging.WARNING):
        configured("nic0, QUEUE_CPUS 0")
    assert "QUEUE_CPUS ignored" in caplog.text


def test_hardware_mode_without_a_table_names_the_driver(memory_nic):
    MemoryNic.install("soft0", np.zeros(4), driver="notable")
    with pytest.raises(ConfigError) as caught:
        configured("soft0, MODE hardware")
    message = str(caught.value)
    assert "driver 'notable'" in message and "(MODE software)" in message


def test_argument_mistakes_are_all_reported(memory_nic):
    with pytest.raises(ConfigError) as caught:
        configured("nic0, MODE fast, BURST 0, COLOR blue")
    message = str(caught.value)
    assert "MODE: expected one of auto, hardware, software, got 'fast'" in message
    assert "BURST: must be at least 1" in message
    assert "COLOR: unknown keyword" in message


def test_active_true_needs_real_time(memory_nic):
    with pytest.raises(ConfigError, match="cannot run in simulated time"):
        configured("nic0, ACTIVE true", simtime=True)


# --- other ends of the process: atexit and signals, in child processes ------------

def _child_ends_by_signal() -> None:
    os.kill(os.getpid(), signal.SIGHUP)


def test_a_forked_child_does_not_undo_its_parents_changes(tmp_path):
    marker = tmp_path / "undone"
    token = exitguard.on_exit("parent's table", marker.touch)
    try:
        context = multiprocessing.get_context("fork")
        child = context.Process(target=_child_ends_by_signal)
        child.start()
        child.join(timeout=30)
        assert child.exitcode == -signal.SIGHUP
        assert not marker.exists()
        assert exitguard.pending() == ["parent's table"]
    finally:
        exitguard.cancel(token)


def test_exit_guard_runs_newest_first_and_survives_a_failing_undo():
    ran = []

    def fail() -> None:
        ran.append("fail")
        raise OSError("device gone")

    first = exitguard.on_exit("first", lambda: ran.append("first"))
    exitguard.on_exit("failing", fail)
    cancelled = exitguard.on_exit("cancelled", lambda: ran.append("cancelled"))
    exitguard.on_exit("last", lambda: ran.append("last"))
    exitguard.cancel(cancelled)
    assert exitguard.pending() == ["first", "failing", "last"]
    exitguard.run_pending()
    assert ran == ["last", "fail", "first"]
    assert exitguard.pending() == []
    exitguard.cancel(first)



EXIT_SCRIPT = textwrap.dedent("""
    import os, signal, sys, time
    from pathlib import Path
    import numpy as np
    from pyclick.elements.fromdevice import FromDevice
    from pyclick.errors import Landmark
    from pyclick.kernel.ethtool import RssConfig
    from pyclick.lang.model import FlatConfig, FlatElement
    from pyclick.router import Router

    STATE = Path(sys.argv[1])

    class FileNic:
        '''A NIC table kept in a file, so it outlives this process.'''
        def __init__(self, ifname): pass
        def __enter__(self): return self
        def __exit__(self, *exc): pass
        def driver(self): return "filenic"
        def read(self):
            return RssConfig(np.loadtxt(STATE, dtype=np.int64), b"", "toeplitz", 4)
        def read_table(self): return self.read().table
        def queue_count(self): return 4
        def write_table(self, table): np.savetxt(STATE, np.asarray(table), fmt="%d")
        def close(self): pass

    FromDevice.hardware_backend = FileNic
    here = Landmark("exit.click", 1)
    router = Router(FlatConfig(elements=[FlatElement("fd", "FromDevice", "nic0", here)]))
    router.configure()
    fd = router.elements[0]
    how = sys.argv[2]
    if how == "router-sigterm":
        def balance_then_signal():
            fd.write_table(np.zeros(8, dtype=np.int64))
            print("written", flush=True)
            os.kill(os.getpid(), signal.SIGTERM)
        import threading
        threading.Timer(0.2, balance_then_signal).start()
        sys.exit(router.run())
    router.initialize()
    fd.write_table(np.zeros(8, dtype=np.int64))
    print("written", flush=True)
    if how == "exit":
        sys.exit(3)
    if how == "exception":
        raise RuntimeError("an element went wrong")
    os.kill(os.getpid(), getattr(signal, how))
    time.sleep(10)
""")


def _no_core_dump() -> None:
    # SIGQUIT's default action dumps core
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


@needs_root
@pytest.mark.parametrize("how, status", [
    ("exit", 3), ("exception", 1), ("SIGHUP", -signal.SIGHUP), ("SIGTERM", -signal.SIGTERM),
    ("SIGQUIT", -signal.SIGQUIT), ("router-sigterm", 0)])
def test_every_exit_path_restores_the_table(tmp_path, how, status):
    state = tmp_path / "table"
    original = np.arange(8) % 4
    np.savetxt(state, original, fmt="%d")
    script = tmp_path / "exit_paths.py"
    script.write_text(EXIT_SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(state), how], env=CHILD_ENV,
                          cwd=tmp_path, preexec_fn=_no_core_dump, capture_output=True,
                          text=True, timeout=60)
    assert "written" in done.stdout, done.stderr
    assert done.returncode == status, done.stderr
    np.testing.assert_array_equal(np.loadtxt(state, dtype=np.int64), original)


def test_without_cap_net_admin_configure_says_so(tmp_path):
    script = textwrap.dedent("""
        import os, sys
        from pyclick import registry
        from pyclick.errors import ConfigError, Landmark
        from pyclick.lang.model import FlatConfig, FlatElement
        from pyclick.router import Router
        registry.all_classes()
        if os.geteuid() == 0:
            os.setgid(65534)
            os.setuid(65534)
        router = Router(FlatConfig(elements=[
            FlatElement("fd", "FromDevice", "lo", Landmark("perm.click", 4))]))
        try:
            router.configure()
        except ConfigError as err:
            print(err)
    """)
    done = subprocess.run([sys.executable, "-c", script], env=CHILD_ENV, capture_output=True,
                          text=True, timeout=60)
    assert "perm.click:4: While configuring 'fd :: FromDevice': changing the RSS table of " \
           "'lo' needs root or CAP_NET_ADMIN" in done.stdout, done.stderr


# --- the real kernel: a veth in namespaces of our own -----------------------------------

@pytest.fixture
def veth():
    if not IS_ROOT:
        pytest.skip("creating network namespaces needs root")
    with veth_pair(queues=2) as pair:
        yield pair


@needs_root
def test_veth_in_hardware_mode_names_the_driver(veth):
    with inside(veth.recv_ns):
        with pytest.raises(ConfigError) as caught:
            configured(f"{veth.recv_if}, MODE hardware")
    message = str(caught.value)
    assert f"driver 'veth' of interface '{veth.recv_if}'" in message
    assert "(MODE software)" in message


@needs_root
def test_missing_interface_is_a_configure_error():
    with pytest.raises(ConfigError, match="interface 'nosuchif0' does not exist"):
        configured("nosuchif0")


def xdp_attached(ns: str, ifname: str) -> bool:
    with IPRoute(netns=ns) as ipr:
        link = ipr.link("get", ifname=ifname)[0]
    xdp = link.get_attr("IFLA_XDP")
    return bool(xdp and xdp.get_attr("IFLA_XDP_ATTACHED"))


@needs_bpf
def test_auto_mode_on_veth_runs_software_rss(veth, caplog):
    with inside(veth.recv_ns), caplog.at_level(logging.INFO):
        router, fd = configured(f"{veth.recv_if}, QUEUE_CPUS 0 1, RETA_SIZE 64")
        assert (fd.mode, fd.driver) == ("software", "veth")
        assert "driver 'veth' has no RSS table; using software RSS" in caplog.text
        assert (fd.reta_size(), fd.queue_count()) == (64, 2)
        router.initialize()
        try:
            assert xdp_attached(veth.recv_ns, veth.recv_if)
            np.testing.assert_array_equal(fd.read_table(), np.arange(64) % 2)
            table = np.random.default_rng(3).integers(0, 2, size=64)
            fd.write_table(table)
            np.testing.assert_array_equal(fd.read_table(), table)
            assert "software RSS on" in fd.describe_queues()
        finally:
            router.cleanup()
        assert not xdp_attached(veth.recv_ns, veth.recv_if)
        assert exitguard.pending() == []


# --- ACTIVE true: frames received through AF_PACKET ------------------------------------

def test_rss_hash_follows_the_nic_inputs():
    udp = ("10.0.0.1", "10.0.0.2", 1000, 53, 17)
    icmp = ("10.0.0.1", "10.0.0.2", 0, 0, 1)
    assert rss_hash(MICROSOFT_KEY, udp) == toeplitz_hash(
        MICROSOFT_KEY, tuple_bytes("10.0.0.1", "10.0.0.2", 1000, 53))
    assert rss_hash(MICROSOFT_KEY, icmp) == toeplitz_hash(
        MICROSOFT_KEY, tuple_bytes("10.0.0.1", "10.0.0.2"))
    assert rss_hash(MICROSOFT_KEY, None) == 0


@needs_root
def test_active_true_emits_received_frames(veth, memory_nic):
    MemoryNic.install(veth.recv_if, np.arange(16) % 4)
    with inside(veth.recv_ns):
        router, fd = configured(f"{veth.recv_if}, ACTIVE true, BURST 4", sink="Collect")
        sink = router.elements[1]
        runner = threading.Thread(target=router.run, kwargs={"handle_signals": False})
        runner.start()
    ports = set(range(5000, 5010))
    sender = create_socket(veth.send_ns, socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sender.bind((veth.send_addr, 40000))
        deadline = time.monotonic() + 20
        # The router starts in the background: resend what it has not seen yet.
        while time.monotonic() < deadline and _ports_seen(sink, veth.send_addr) != ports:
            for port in ports - _ports_seen(sink, veth.send_addr):
                sender.sendto(b"x" * 20, (veth.recv_addr, port))
            time.sleep(0.1)
    finally:
        sender.close()
        router.stop("test done")
        runner.join(timeout=30)
    assert _ports_seen(sink, veth.send_addr) == ports
    for packet in _udp_from(sink, veth.send_addr):
        assert packet.flow[:3] == (veth.send_addr, veth.recv_addr, 40000)
        assert packet.data[-20:] == b"x" * 20
        assert packet.rss_hash == toeplitz_hash(KEY, tuple_bytes(*packet.flow[:4]))
    assert int(router.handlers.read("fd.count")) >= len(ports)


def _udp_from(sink: Collect, addr: str) -> list:
    return [p for p in list(getattr(sink, "packets", [])) if p.flow and p.flow[0] == addr
            and p.flow[4] == 17]


def _ports_seen(sink: Collect, addr: str) -> set[int]:
    return {p.flow[3] for p in _udp_from(sink, addr)}
