"""FromDevice: choosing hardware or software RSS, saving and restoring the table.

The NIC's table is played by ``MemoryNic``, a table kept in memory that
checks writes as a driver does, standing in for EthtoolRSS (no RSS-capable
NIC exists on a test machine); with it, FromDevice is not asked for
CAP_NET_ADMIN, and the interface locks and state records go to a directory
of the test's own, so these tests pass without privileges. Everything
FromDevice decides is its own code. The exit paths run in child processes
whose NIC table lives in a file, so what the process left behind can be
read after it ended. The kernel tests use a real veth in network namespaces
of their own.
"""

from __future__ import annotations

import json
import logging
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
from pyclick.kernel.ethtool import NoRssTable, RssConfig
from pyclick.lang.model import FlatConfig, FlatConnection, FlatElement
from pyclick.router import Router
from pyclick.rss.toeplitz import MICROSOFT_KEY, toeplitz_hash, tuple_bytes
from pyclick.seams import OwnLoadSource, QueueDescription, RssDevice
from tests.helpers import configured_router
from tests.netns import VETH, inside, veth_pair

ROOT = Path(__file__).resolve().parents[1]
CHILD_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
KEY = bytes(range(40))
needs_veth = pytest.mark.requires(*VETH)
needs_bpf = pytest.mark.requires(*VETH, "bcc")


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


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch) -> Path:
    """Interface locks and state records of this test (pyclick.kernel.ownership)."""
    directory = tmp_path / "state"
    monkeypatch.setenv("PYCLICK_STATE_DIR", str(directory))
    return directory


@pytest.fixture
def memory_nic(monkeypatch):
    monkeypatch.setattr(FromDevice, "hardware_backend", MemoryNic)
    monkeypatch.setattr(FromDevice, "may_change_devices", staticmethod(lambda: True))
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
    router.initialize()
    assert (fd.mode, fd.driver) == ("hardware", "memnic")
    assert (fd.reta_size(), fd.queue_count(), fd.hash_key()) == (16, 4, KEY)
    original = memory_nic.tables["nic0"].copy()
    moved = np.zeros(16, dtype=np.int64)
    fd.write_table(moved)
    np.testing.assert_array_equal(memory_nic.tables["nic0"], moved)
    np.testing.assert_array_equal(fd.read_table(), moved)
    assert router.handlers.read("fd.saved_table") == " ".join(map(str, original))
    router.cleanup()
    np.testing.assert_array_equal(memory_nic.tables["nic0"], original)
    assert memory_nic.writes["nic0"] == 2
    assert router.exit_guard.pending() == []


def test_configure_touches_no_interface(monkeypatch):
    opened = []
    monkeypatch.setattr(FromDevice, "hardware_backend", opened.append)
    monkeypatch.setattr(FromDevice, "may_change_devices", staticmethod(opened.clear))
    router, fd = configured("nosuchif0, MODE hardware, RETA_SIZE 64")
    assert opened == [] and fd.mode == ""
    with pytest.raises(RuntimeError, match="not initialized"):
        fd.reta_size()


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
    router, fd = configured("nic0")
    router.initialize()
    try:
        # No load source of its own: the balancer reads /proc/stat or its threads.
        assert isinstance(fd, QueueDescription) and not isinstance(fd, OwnLoadSource)
        assert fd.describe_queues() == ("'nic0' (memnic) has 4 RX queues; "
                                        "'ethtool -L nic0 combined N' changes the count")
        assert fd.software_rss("nic0") is None
    finally:
        router.cleanup()


def test_table_calls_before_initialize_are_refused(memory_nic):
    _, fd = configured("nic0")
    with pytest.raises(RuntimeError, match="not initialized"):
        fd.write_table(np.zeros(16))


def test_reta_size_must_match_the_nic(memory_nic):
    router, _ = configured("nic0, RETA_SIZE 128")
    with pytest.raises(ConfigError) as caught:
        router.initialize()
    assert str(caught.value) == (
        "test.click:1: While initializing 'fd :: FromDevice': RETA_SIZE 128 differs from the "
        "16 entries of the RSS table of 'nic0' (a NIC's table size is fixed; omit RETA_SIZE)")


def test_without_the_right_to_change_interfaces_initialize_says_so(memory_nic, monkeypatch):
    monkeypatch.setattr(FromDevice, "may_change_devices", staticmethod(lambda: False))
    router, _ = configured("nic0")
    with pytest.raises(ConfigError) as caught:
        router.initialize()
    assert str(caught.value) == ("test.click:1: While initializing 'fd :: FromDevice': changing "
                                 "the RSS table of 'nic0' needs root or CAP_NET_ADMIN")
    assert memory_nic.writes["nic0"] == 0


def test_software_keywords_with_hardware(memory_nic, caplog):
    with pytest.raises(ConfigError, match="QUEUE_CPUS, KEY: only used by MODE software"):
        configured("nic0, MODE hardware, QUEUE_CPUS 0 1, KEY 00112233")
    router, _ = configured("nic0, QUEUE_CPUS 0")
    with caplog.at_level(logging.WARNING):
        router.initialize()
    router.cleanup()
    assert "nic0: QUEUE_CPUS ignored, 'nic0' has a hardware RSS table" in caplog.text


def test_hardware_mode_without_a_table_names_the_driver(memory_nic):
    MemoryNic.install("soft0", np.zeros(4), driver="notable")
    router, _ = configured("soft0, MODE hardware")
    with pytest.raises(ConfigError) as caught:
        router.initialize()
    message = str(caught.value)
    assert "driver 'notable'" in message and "(MODE software)" in message


class MemorySoftRss:
    """Software RSS without a kernel: a table in memory, started or not."""

    def __init__(self, ifname: str, reta_size: int, cpus, key: bytes, mode: str,
                 ledger=None, owner: str = "") -> None:
        self.table = np.arange(reta_size) % len(cpus or [0])
        self.started = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False


def test_one_interface_runs_one_software_rss(memory_nic, monkeypatch):
    monkeypatch.setattr(FromDevice, "software_backend", MemorySoftRss)
    MemoryNic.install("soft0", np.zeros(4), driver="notable")
    router = configured_router([("a", "FromDevice", "soft0, QUEUE_CPUS 0 1"),
                                ("b", "FromDevice", "soft0")], at="two.click")
    a = router.element("a")
    with pytest.raises(ConfigError) as caught:
        router.initialize()
    assert str(caught.value) == ("two.click:2: While initializing 'b :: FromDevice': "
                                 "software RSS already runs on soft0")
    # The first one was cleaned up with the failed start.
    assert (a.mode, a.driver, a.device.started) == ("software", "notable", False)
    assert router.exit_guard.pending() == []


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

EXIT_SCRIPT = textwrap.dedent("""
    import logging, os, signal, sys, time
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
    FromDevice.may_change_devices = staticmethod(lambda: True)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
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
    if how == "restart":
        print("restarted", np.loadtxt(STATE, dtype=np.int64).tolist(), flush=True)
        router.cleanup()
        sys.exit(0)
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


@pytest.mark.parametrize("how, status", [
    ("exit", 3), ("exception", 1), ("SIGHUP", -signal.SIGHUP), ("SIGTERM", -signal.SIGTERM),
    ("SIGQUIT", -signal.SIGQUIT), ("router-sigterm", 0)])
def test_every_exit_path_restores_the_table(tmp_path, state_dir, how, status):
    state = tmp_path / "table"
    original = np.arange(8) % 4
    np.savetxt(state, original, fmt="%d")
    done = run_exit_script(tmp_path, state_dir, how)
    assert "written" in done.stdout, done.stderr
    assert done.returncode == status, done.stderr
    np.testing.assert_array_equal(np.loadtxt(state, dtype=np.int64), original)
    # Nothing is left to restore, so nothing is left of the lock and record.
    assert sorted(p.name for p in state_dir.iterdir()) == []


def run_exit_script(tmp_path: Path, state_dir: Path, how: str) -> subprocess.CompletedProcess:
    script = tmp_path / "exit_paths.py"
    script.write_text(EXIT_SCRIPT)
    return subprocess.run([sys.executable, str(script), str(tmp_path / "table"), how],
                          env={**CHILD_ENV, "PYCLICK_STATE_DIR": str(state_dir)},
                          cwd=tmp_path, preexec_fn=_no_core_dump, capture_output=True,
                          text=True, timeout=60)


def test_after_sigkill_the_next_start_puts_the_table_back(tmp_path, state_dir):
    np.savetxt(tmp_path / "table", np.arange(8) % 4, fmt="%d")
    killed = run_exit_script(tmp_path, state_dir, "SIGKILL")
    assert killed.stdout == "written\n" and killed.returncode == -signal.SIGKILL, killed.stderr
    # SIGKILL runs nothing: the balancer's table stays, the record says what it replaced.
    assert np.loadtxt(tmp_path / "table", dtype=np.int64).tolist() == [0] * 8
    record = json.loads((state_dir / "nic0.json").read_text())
    assert record["rss_table"] == [0, 1, 2, 3, 0, 1, 2, 3] and record["xdp"] == []
    dead = record["pid"]

    restarted = run_exit_script(tmp_path, state_dir, "restart")
    assert restarted.returncode == 0, restarted.stderr
    assert restarted.stdout == "restarted [0, 1, 2, 3, 0, 1, 2, 3]\n"
    said = [line for line in restarted.stderr.splitlines() if line.startswith("nic0:")]
    assert said == [f"nic0: pyclick (pid {dead}) ended without restoring it; restored from "
                    f"its state record: RSS table put back (8 entries)"]
    assert sorted(p.name for p in state_dir.iterdir()) == []


def test_without_cap_net_admin_only_initialize_refuses(tmp_path):
    script = textwrap.dedent("""
        import os, sys
        import pyclick.elements.fromdevice
        from pyclick.errors import ConfigError, Landmark
        from pyclick.lang.model import FlatConfig, FlatElement
        from pyclick.router import Router
        if os.geteuid() == 0:
            os.setgid(65534)
            os.setuid(65534)
        router = Router(FlatConfig(elements=[
            FlatElement("fd", "FromDevice", "lo", Landmark("perm.click", 4))]))
        router.configure()
        print("configured")
        try:
            router.initialize()
        except ConfigError as err:
            print(err)
    """)
    done = subprocess.run([sys.executable, "-c", script], env=CHILD_ENV, capture_output=True,
                          text=True, timeout=60)
    assert done.stdout.splitlines() == [
        "configured", "perm.click:4: While initializing 'fd :: FromDevice': changing the RSS "
        "table of 'lo' needs root or CAP_NET_ADMIN"], done.stderr


def test_checking_a_configuration_touches_no_interface(capsys):
    from pyclick.cli import main

    assert main(["-q", "-e", "fd :: FromDevice(nosuchif0, MODE hardware) -> Discard"]) == 0


# --- the real kernel: a veth in namespaces of our own -----------------------------------

@pytest.fixture
def veth():
    with veth_pair(queues=2) as pair:
        yield pair


@needs_veth
def test_veth_in_hardware_mode_names_the_driver(veth):
    with inside(veth.recv_ns):
        router, _ = configured(f"{veth.recv_if}, MODE hardware")
        with pytest.raises(ConfigError) as caught:
            router.initialize()
    message = str(caught.value)
    assert f"driver 'veth' of interface '{veth.recv_if}'" in message
    assert "(MODE software)" in message


def test_missing_interface_is_an_initialize_error(monkeypatch):
    monkeypatch.setattr(FromDevice, "may_change_devices", staticmethod(lambda: True))
    router, _ = configured("nosuchif0")
    with pytest.raises(ConfigError, match="test.click:1: While initializing 'fd :: FromDevice': "
                                          "interface 'nosuchif0' does not exist"):
        router.initialize()


def xdp_attached(ns: str, ifname: str) -> bool:
    with IPRoute(netns=ns) as ipr:
        link = ipr.link("get", ifname=ifname)[0]
    xdp = link.get_attr("IFLA_XDP")
    return bool(xdp and xdp.get_attr("IFLA_XDP_ATTACHED"))


@needs_bpf
def test_auto_mode_on_veth_runs_software_rss(veth, caplog):
    with inside(veth.recv_ns), caplog.at_level(logging.INFO):
        router, fd = configured(f"{veth.recv_if}, QUEUE_CPUS 0 1, RETA_SIZE 64")
        router.initialize()
        try:
            assert (fd.mode, fd.driver) == ("software", "veth")
            assert "driver 'veth' has no RSS table; using software RSS" in caplog.text
            assert (fd.reta_size(), fd.queue_count()) == (64, 2)
            assert fd.software_rss(veth.recv_if) is fd.device
            assert xdp_attached(veth.recv_ns, veth.recv_if)
            np.testing.assert_array_equal(fd.read_table(), np.arange(64) % 2)
            table = np.random.default_rng(3).integers(0, 2, size=64)
            fd.write_table(table)
            np.testing.assert_array_equal(fd.read_table(), table)
            assert "software RSS on" in fd.describe_queues()
        finally:
            router.cleanup()
        assert not xdp_attached(veth.recv_ns, veth.recv_if)
        assert router.exit_guard.pending() == []


# --- ACTIVE true: frames received through AF_PACKET ------------------------------------

def test_rss_hash_follows_the_nic_inputs():
    udp = ("10.0.0.1", "10.0.0.2", 1000, 53, 17)
    icmp = ("10.0.0.1", "10.0.0.2", 0, 0, 1)
    assert rss_hash(MICROSOFT_KEY, udp) == toeplitz_hash(
        MICROSOFT_KEY, tuple_bytes("10.0.0.1", "10.0.0.2", 1000, 53))
    assert rss_hash(MICROSOFT_KEY, icmp) == toeplitz_hash(
        MICROSOFT_KEY, tuple_bytes("10.0.0.1", "10.0.0.2"))
    assert rss_hash(MICROSOFT_KEY, None) == 0


@needs_veth
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
