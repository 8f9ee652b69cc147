"""FromDevice: receiving packets, and, only for a balancer, taking the RSS table
over: choosing hardware or software RSS, saving and restoring the table.

The NIC's table is played by ``MemoryNic``, a table kept in memory that
checks writes as a driver does, standing in for EthtoolRSS (no RSS-capable
NIC exists on a test machine); with it, FromDevice is not asked for
CAP_NET_ADMIN, and the interface locks and state records go to a directory
of the test's own, so these tests pass without privileges. Everything
FromDevice decides is its own code. The exit paths run in child processes
whose NIC table lives in a file, so what the process left behind can be
read after it ended. ``BalancesTable`` stands for DeviceBalancer: it names
a FromDevice as its DEV and runs no loop, so that the tests see what
FromDevice alone does with the table. The kernel tests use a real veth in
network namespaces of their own.
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
from typing import Callable

import numpy as np
import pytest
from pyroute2 import IPRoute
from pyroute2.netns import create_socket

from pyclick.args import ELEMENT
from pyclick.element import Element
from pyclick.elements.fromdevice import FromDevice, rss_hash
from pyclick.errors import ConfigError, Landmark
from pyclick.kernel.ethtool import NoRssTable, RssConfig
from pyclick.lang.model import FlatConfig, FlatConnection, FlatElement
from pyclick.packet import HOST, OUTGOING
from pyclick.router import Router
from pyclick.rss.toeplitz import MICROSOFT_KEY, toeplitz_hash, tuple_bytes
from pyclick.seams import OwnLoadSource, QueueDescription, RssDevice
from tests.helpers import config_error_of, configured_router
from tests.netns import VETH, in_netns, inside, ip, pyclick_command, veth_pair

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


class BalancesTable(Element):
    """BalancesTable(DEV) -- balances DEV's table as DeviceBalancer does, without deciding (tests)"""

    port_count = "0/0"

    def configure(self, args) -> None:
        self.dev = args.read_mp("DEV", ELEMENT)

    def balances(self, device: object) -> bool:
        return device is self.dev


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


def router_for(config: str, sink: str = "Discard", simtime: bool = False,
               balanced: bool = True) -> Router:
    """``fd :: FromDevice(config) -> sink``, its table balanced by ``db`` unless not ``balanced``."""
    here = Landmark("test.click", 1)
    balancer = [FlatElement("db", "BalancesTable", "fd", Landmark("test.click", 3))]
    flat = FlatConfig(
        elements=[FlatElement("fd", "FromDevice", config, here),
                  FlatElement("sink", sink, "", Landmark("test.click", 2)),
                  *(balancer if balanced else [])],
        connections=[FlatConnection("fd", 0, "sink", 0, here)])
    return Router(flat, simtime=simtime, partial=True)


def configured(config: str, **kw) -> tuple[Router, FromDevice]:
    router = router_for(config, **kw)
    router.configure()
    return router, router.elements[0]


# --- hardware mode with the in-memory NIC ---------------------------------------------

def test_hardware_table_is_saved_and_restored(memory_nic):
    router, fd = configured("nic0, ACTIVE false")
    assert isinstance(fd, RssDevice)
    router.initialize()
    assert (fd.table.mode, fd.table.driver) == ("hardware", "memnic")
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
    assert opened == [] and fd.table is None
    assert router.handlers.read("fd.mode") == ""
    with pytest.raises(RuntimeError, match="not initialized"):
        fd.reta_size()


def test_the_table_is_writable_only_once_saved(memory_nic, monkeypatch):
    # A write before the table found at start was read would be put back at
    # exit as that table: until it is saved, nothing can write.
    def unreadable(nic):
        assert fd.table.device is None
        with pytest.raises(RuntimeError, match="not taken over"):
            fd.write_table(np.zeros(16, dtype=np.int64))
        raise OSError("table read failed")

    router, fd = configured("nic0, ACTIVE false")
    monkeypatch.setattr(MemoryNic, "read_table", unreadable)
    with pytest.raises(ConfigError, match="initializing 'fd :: FromDevice': table read failed"):
        router.initialize()
    assert memory_nic.writes["nic0"] == 0


def test_an_untouched_table_is_not_rewritten(memory_nic):
    router, fd = configured("nic0, ACTIVE false")
    router.initialize()
    router.cleanup()
    assert memory_nic.writes["nic0"] == 0


def test_a_failed_write_is_still_undone(memory_nic):
    router, fd = configured("nic0, ACTIVE false")
    router.initialize()
    fd.write_table(np.full(16, 3))
    with pytest.raises(ValueError, match="driver refuses"):
        fd.write_table(np.full(16, 9))
    router.cleanup()
    np.testing.assert_array_equal(memory_nic.tables["nic0"], np.arange(16) % 4)


def test_restore_handler_puts_the_saved_table_back(memory_nic):
    router, fd = configured("nic0, ACTIVE false")
    router.initialize()
    fd.write_table(np.full(16, 2))
    router.handlers.write("fd.restore", "")
    np.testing.assert_array_equal(memory_nic.tables["nic0"], np.arange(16) % 4)
    assert router.handlers.read("fd.table") == " ".join(str(q) for q in np.arange(16) % 4)
    router.cleanup()
    assert memory_nic.writes["nic0"] == 2


def test_handlers_describe_the_device(memory_nic):
    router, fd = configured("nic0, ACTIVE false")
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
    router, fd = configured("nic0, ACTIVE false")
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
    _, fd = configured("nic0, ACTIVE false")
    with pytest.raises(RuntimeError, match="not initialized"):
        fd.write_table(np.zeros(16))


def test_reta_size_must_match_the_nic(memory_nic):
    router, _ = configured("nic0, RETA_SIZE 128, ACTIVE false")
    with pytest.raises(ConfigError) as caught:
        router.initialize()
    assert str(caught.value) == (
        "test.click:1: While initializing 'fd :: FromDevice': RETA_SIZE 128 differs from the "
        "16 entries of the RSS table of 'nic0' (a NIC's table size is fixed; omit RETA_SIZE)")


def test_without_the_right_to_change_interfaces_initialize_says_so(memory_nic, monkeypatch):
    monkeypatch.setattr(FromDevice, "may_change_devices", staticmethod(lambda: False))
    router, _ = configured("nic0, ACTIVE false")
    with pytest.raises(ConfigError) as caught:
        router.initialize()
    assert str(caught.value) == ("test.click:1: While initializing 'fd :: FromDevice': changing "
                                 "the RSS table of 'nic0' needs root or CAP_NET_ADMIN")
    assert memory_nic.writes["nic0"] == 0


def test_software_keywords_with_hardware(memory_nic, caplog):
    with pytest.raises(ConfigError, match="QUEUE_CPUS, KEY: only used by MODE software"):
        configured("nic0, MODE hardware, QUEUE_CPUS 0 1, KEY 00112233")
    router, _ = configured("nic0, QUEUE_CPUS 0, ACTIVE false")
    with caplog.at_level(logging.WARNING):
        router.initialize()
    router.cleanup()
    assert "nic0: QUEUE_CPUS ignored, 'nic0' has a hardware RSS table" in caplog.text


def test_hardware_mode_without_a_table_names_the_driver(memory_nic):
    MemoryNic.install("soft0", np.zeros(4), driver="notable")
    router, _ = configured("soft0, MODE hardware, ACTIVE false")
    with pytest.raises(ConfigError) as caught:
        router.initialize()
    message = str(caught.value)
    assert "driver 'notable'" in message and "(MODE software)" in message


class MemorySoftRss:
    """Software RSS without a kernel: a table in memory, started or not."""

    def __init__(self, ifname: str, reta_size: int, cpus, key: bytes, mode: str,
                 ledger=None, owner: str = "") -> None:
        self.cpus = np.array(cpus or [0])
        self.table = np.arange(reta_size) % len(self.cpus)
        self.started = False

    def reta_size(self) -> int:
        return self.table.size

    def start(self) -> str:
        self.started = True
        return "generic"

    def stop(self) -> None:
        self.started = False


def test_one_interface_runs_one_software_rss(memory_nic, monkeypatch):
    monkeypatch.setattr(FromDevice, "software_backend", MemorySoftRss)
    MemoryNic.install("soft0", np.zeros(4), driver="notable")
    router = configured_router([("a", "FromDevice", "soft0, QUEUE_CPUS 0 1, ACTIVE false"),
                                ("b", "FromDevice", "soft0, ACTIVE false"),
                                ("da", "BalancesTable", "a"), ("db", "BalancesTable", "b")],
                               at="two.click")
    a = router.element("a")
    with pytest.raises(ConfigError) as caught:
        router.initialize()
    assert str(caught.value) == ("two.click:2: While initializing 'b :: FromDevice': "
                                 "software RSS already runs on soft0")
    # The first one was cleaned up with the failed start.
    assert (a.table.mode, a.table.driver, a.table.device.started) == (
        "software", "notable", False)
    assert router.exit_guard.pending() == []


def test_software_takeover_is_one_line_naming_the_interface(memory_nic, monkeypatch, caplog):
    monkeypatch.setattr(FromDevice, "software_backend", MemorySoftRss)
    MemoryNic.install("soft0", np.zeros(4), driver="notable")
    router, fd = configured("soft0, QUEUE_CPUS 2 3, RETA_SIZE 8, ACTIVE false")
    with caplog.at_level(logging.INFO, logger="pyclick"):
        router.initialize()
    router.cleanup()
    assert [r.getMessage() for r in caplog.records] == [
        "soft0: driver 'notable' has no RSS table; software RSS takes it over: XDP in "
        "generic mode steers 8 buckets to CPUs 2 3 through a CPUMAP, removed at exit"]


def test_alone_it_changes_nothing_on_the_interface(memory_nic, state_dir, caplog):
    router, fd = configured("nic0, ACTIVE false, MODE hardware, RETA_SIZE 16", balanced=False)
    opened = MemoryNic.open_handles
    with caplog.at_level(logging.INFO, logger="pyclick"):
        router.initialize()
    try:
        # No table opened, nothing locked or recorded, no undo registered.
        assert MemoryNic.open_handles == opened and memory_nic.writes["nic0"] == 0
        assert not state_dir.exists() or list(state_dir.iterdir()) == []
        assert router.exit_guard.pending() == []
        assert router.handlers.read("fd.mode") == ""
        with pytest.raises(RuntimeError, match="no DeviceBalancer balances it"):
            fd.read_table()
        assert fd.software_rss("nic0") is None
    finally:
        router.cleanup()
    assert [r.getMessage() for r in caplog.records] == [
        "nic0: MODE, RETA_SIZE ignored, no DeviceBalancer balances 'fd'"]


def test_click_defaults():
    router, fd = configured("eth9", balanced=False)
    assert (fd.active, fd.promisc, fd.outbound, fd.burst) == (True, False, False, 1)
    router, fd = configured("eth9, true, BURST 16, OUTBOUND true", balanced=False)
    assert (fd.active, fd.promisc, fd.outbound, fd.burst) == (True, True, True, 16)


def test_idle_receive_keywords_are_refused():
    with pytest.raises(ConfigError) as caught:
        configured("eth9, ACTIVE false, PROMISC true, OUTBOUND true, SNIFFER false")
    assert str(caught.value) == (
        "test.click:1: While configuring 'fd :: FromDevice': PROMISC true and OUTBOUND true "
        "and SNIFFER false: only used with ACTIVE true (ACTIVE false receives nothing)")
    router, fd = configured("eth9, SNIFFER true, ACTIVE false", balanced=False)
    assert fd.active is False and fd.sniffer is True


def test_clicks_capture_keywords():
    router, fd = configured("eth9", balanced=False)
    assert (fd.method, fd.snaplen, fd.force_ip, fd.protocol, fd.headroom, fd.timestamp,
            fd.sniffer) == ("PCAP", 2046, False, 0, 30, True, True)
    router, fd = configured("eth9, false, 128, SNIFFER false, METHOD LINUX, FORCE_IP true, "
                            "PROTOCOL 0x0800, HEADROOM 0, TIMESTAMP false, BPF_FILTER ''",
                            balanced=False)
    assert (fd.promisc, fd.method, fd.snaplen, fd.force_ip, fd.protocol, fd.headroom,
            fd.timestamp, fd.sniffer) == (False, "LINUX", 128, True, 0x800, 0, False, False)
    assert configured("eth9, CAPTURE LINUX", balanced=False)[1].method == "LINUX"
    assert configured("eth9, CAPTURE PCAP, METHOD PCAP", balanced=False)[1].method == "PCAP"


@pytest.mark.parametrize("config, message", [
    ("eth9, METHOD NETMAP", "METHOD NETMAP: unknown capture method; on Linux FromDevice "
                            "reads with LINUX or PCAP"),
    ("eth9, METHOD linux", "METHOD linux: unknown capture method; on Linux FromDevice "
                           "reads with LINUX or PCAP"),
    ("eth9, CAPTURE BSD", "CAPTURE BSD: unknown capture method; on Linux FromDevice "
                          "reads with LINUX or PCAP"),
    ("eth9, METHOD LINUX, CAPTURE PCAP", "METHOD LINUX and CAPTURE PCAP: CAPTURE is the old "
                                         "name of METHOD, give one"),
    ("eth9, BPF_FILTER 'udp port 53'", "BPF_FILTER: filter expressions are not supported"),
])
def test_capture_keywords_errors_name_the_element(config, message):
    with pytest.raises(ConfigError) as caught:
        configured(config, balanced=False)
    assert str(caught.value).startswith(
        f"test.click:1: While configuring 'fd :: FromDevice': {message}")


def test_receiving_is_refused_in_simulated_time_by_default():
    with pytest.raises(ConfigError, match="cannot run in simulated time"):
        configured("eth9", simtime=True, balanced=False)
    configured("eth9, ACTIVE false", simtime=True, balanced=False)


def test_xdp_modes_are_the_kernels():
    from pyclick.elements.argtypes import XDP_MODES
    from pyclick.kernel.xdp import MODES

    assert XDP_MODES == MODES


# --- other ends of the process: atexit and signals, in child processes ------------

EXIT_SCRIPT = textwrap.dedent("""
    import logging, os, signal, sys, time
    from pathlib import Path
    import numpy as np
    from pyclick.args import ELEMENT
    from pyclick.element import Element
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

    class Balances(Element):
        '''Balances(DEV) -- balances DEV's table, deciding nothing (tests)'''
        port_count = "0/0"
        def configure(self, args): self.dev = args.read_mp("DEV", ELEMENT)
        def balances(self, device): return device is self.dev

    FromDevice.hardware_backend = FileNic
    FromDevice.may_change_devices = staticmethod(lambda: True)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    here = Landmark("exit.click", 1)
    router = Router(FlatConfig(elements=[
        FlatElement("fd", "FromDevice", "nic0, ACTIVE false", here),
        FlatElement("db", "Balances", "fd", here)]), partial=True)
    router.configure()
    fd = router.elements[0]
    how = sys.argv[2]
    if how == "router-sigterm":
        def balance_then_signal():
            # Once the running router took the table over.
            while fd.table is None or fd.table.device is None:
                time.sleep(0.01)
            fd.write_table(np.zeros(8, dtype=np.int64))
            print("written", flush=True)
            os.kill(os.getpid(), signal.SIGTERM)
        import threading
        threading.Thread(target=balance_then_signal, daemon=True).start()
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
        # Loaded while root: the interpreter's files and a checkout made with
        # mktemp -d may be readable by root only.
        import pyclick.elements.devicebalancer
        import pyclick.kernel.takeover
        if os.geteuid() == 0:
            os.setgid(65534)
            os.setuid(65534)
        for config, balanced in (("lo, ACTIVE false", False), ("lo, ACTIVE false", True),
                                 ("lo, SNIFFER false", False)):
            router = Router(FlatConfig(elements=[
                FlatElement("fd", "FromDevice", config, Landmark("perm.click", 4)),
                *([FlatElement("db", "DeviceBalancer", "METHOD rss, DEV fd",
                               Landmark("perm.click", 5))] if balanced else [])]),
                            partial=True)
            router.configure()
            print("configured")
            try:
                router.initialize()
                print("initialized")
                router.cleanup()
            except ConfigError as err:
                print(err)
    """)
    done = subprocess.run([sys.executable, "-c", script], env=CHILD_ENV, capture_output=True,
                          text=True, timeout=60)
    # Alone, the FromDevice changes nothing, so it needs no privilege.
    assert done.stdout.splitlines() == [
        "configured", "initialized",
        "configured", "perm.click:4: While initializing 'fd :: FromDevice': changing the RSS "
        "table of 'lo' needs root or CAP_NET_ADMIN",
        "configured", "perm.click:4: While initializing 'fd :: FromDevice': SNIFFER false keeps "
        "received frames from the network stack of 'lo' with a tc ingress filter, which needs "
        "root or CAP_NET_ADMIN"], done.stderr


def test_checking_a_configuration_touches_no_interface(capsys):
    from pyclick.cli import main

    assert main(["-q", "-e", "fd :: FromDevice(nosuchif0, MODE hardware) -> Discard"]) == 0
    assert main(["-q", "-e", "fd :: FromDevice(nosuchif0, PROMISC true) -> Discard; "
                             "DeviceBalancer(METHOD rsspp, DEV fd, RSSCOUNTER xdp); "
                             "xdp :: XDPLoader(PATH conf/bpf/xdp_count.o, DEV nosuchif0)"]) == 0


def test_checking_the_readme_configuration_loads_no_adapter():
    """``pyclick -q conf/rsspp.click`` reads the configuration only: neither numpy
    nor the kernel adapters nor the balancing methods are loaded."""
    script = textwrap.dedent("""
        import sys
        from pyclick.cli import main
        assert main(["-q", "conf/rsspp.click"]) == 0
        heavy = ("numpy", "pyroute2", "bcc", "pyclick.balance.controller",
                 "pyclick.balance.methods", "pyclick.runtime.loads", "pyclick.record")
        print(sorted(m for m in sys.modules if m.split(".")[0] in heavy[:3] or m in heavy
                     or m.startswith("pyclick.kernel.") and m != "pyclick.kernel.exitguard"))
    """)
    done = subprocess.run([sys.executable, "-c", script], env=CHILD_ENV, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"


# --- the real kernel: a veth in namespaces of our own -----------------------------------

@pytest.fixture
def veth():
    with veth_pair(queues=2) as pair:
        yield pair


@needs_veth
def test_veth_in_hardware_mode_names_the_driver(veth):
    with inside(veth.recv_ns):
        router, _ = configured(f"{veth.recv_if}, MODE hardware, ACTIVE false")
        with pytest.raises(ConfigError) as caught:
            router.initialize()
    message = str(caught.value)
    assert f"driver 'veth' of interface '{veth.recv_if}'" in message
    assert "(MODE software)" in message


def test_missing_interface_is_an_initialize_error(monkeypatch):
    monkeypatch.setattr(FromDevice, "may_change_devices", staticmethod(lambda: True))
    router, _ = configured("nosuchif0, ACTIVE false")
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
        router, fd = configured(f"{veth.recv_if}, QUEUE_CPUS 0 1, RETA_SIZE 64, ACTIVE false")
        router.initialize()
        try:
            assert (fd.table.mode, fd.table.driver) == ("software", "veth")
            said = [r.getMessage() for r in caplog.records if "software RSS" in r.getMessage()]
            assert len(said) == 1 and said[0].startswith(
                f"{veth.recv_if}: driver 'veth' has no RSS table; software RSS takes it over: "
                f"XDP in ")
            assert said[0].endswith("mode steers 64 buckets to CPUs 0 1 through a CPUMAP, "
                                    "removed at exit")
            assert (fd.reta_size(), fd.queue_count()) == (64, 2)
            assert fd.software_rss(veth.recv_if) is fd.table.device
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


PORTS = set(range(5000, 5010))


def run_receiving(veth, router: Router, sink: Collect, ns: str,
                  while_running: Callable[[], None] = lambda: None) -> None:
    """Run ``router`` (built inside ``ns``) until ``sink`` saw UDP to every port
    of PORTS from the sending side, then call ``while_running`` and stop it."""
    with inside(ns):
        runner = threading.Thread(target=router.run, kwargs={"handle_signals": False})
        runner.start()
    sender = create_socket(veth.send_ns, socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sender.bind((veth.send_addr, 40000))
        deadline = time.monotonic() + 20
        # The router starts in the background: resend what it has not seen yet.
        while time.monotonic() < deadline and _ports_seen(sink, veth.send_addr) != PORTS:
            for port in PORTS - _ports_seen(sink, veth.send_addr):
                sender.sendto(b"x" * 20, (veth.recv_addr, port))
            time.sleep(0.1)
        while_running()
    finally:
        sender.close()
        router.stop("test done")
        runner.join(timeout=30)


def promiscuity(ns: str, ifname: str) -> int:
    return json.loads(ip("-n", ns, "-d", "-j", "link", "show", "dev", ifname))[0]["promiscuity"]


@needs_veth
def test_active_true_emits_received_frames(veth, memory_nic):
    MemoryNic.install(veth.recv_if, np.arange(16) % 4)
    with inside(veth.recv_ns):
        router, fd = configured(f"{veth.recv_if}, ACTIVE true, BURST 4", sink="Collect")
    sink = router.elements[1]
    run_receiving(veth, router, sink, veth.recv_ns)
    assert _ports_seen(sink, veth.send_addr) == PORTS
    for packet in _udp_from(sink, veth.send_addr):
        assert packet.flow[:3] == (veth.send_addr, veth.recv_addr, 40000)
        assert packet.data[-20:] == b"x" * 20
        assert packet.rss_hash == toeplitz_hash(KEY, tuple_bytes(*packet.flow[:4]))
    assert int(router.handlers.read("fd.count")) >= len(PORTS)


@needs_veth
def test_alone_on_a_veth_it_receives_and_changes_nothing(veth, state_dir):
    with inside(veth.recv_ns):
        router, fd = configured(veth.recv_if, sink="Collect", balanced=False)
    sink = router.elements[1]
    seen = {}

    def look() -> None:
        seen["xdp"] = xdp_attached(veth.recv_ns, veth.recv_if)
        seen["promiscuity"] = promiscuity(veth.recv_ns, veth.recv_if)
        seen["state"] = sorted(p.name for p in state_dir.iterdir()) if state_dir.exists() else []

    run_receiving(veth, router, sink, veth.recv_ns, look)
    assert seen == {"xdp": False, "promiscuity": 0, "state": []}
    assert _ports_seen(sink, veth.send_addr) == PORTS
    for packet in _udp_from(sink, veth.send_addr):
        # Not balanced: the hash under the Microsoft key, as most NICs compute it.
        assert packet.rss_hash == toeplitz_hash(MICROSOFT_KEY, tuple_bytes(*packet.flow[:4]))
        assert packet.packet_type == HOST


@needs_veth
def test_promisc_holds_the_interface_promiscuous_while_receiving(veth):
    with inside(veth.recv_ns):
        router, fd = configured(f"{veth.recv_if}, true", sink="Collect", balanced=False)
    seen = []
    run_receiving(veth, router, router.elements[1], veth.recv_ns,
                  lambda: seen.append(promiscuity(veth.recv_ns, veth.recv_if)))
    assert seen == [1] and promiscuity(veth.recv_ns, veth.recv_if) == 0


@needs_veth
def test_outbound_emits_what_the_host_sends(veth):
    with inside(veth.send_ns):
        router = configured_router(
            [("both", "FromDevice", f"{veth.send_if}, OUTBOUND true"), ("sent", "Collect", ""),
             ("fd", "FromDevice", veth.send_if), ("received", "Collect", "")],
            [("both", 0, "sent", 0), ("fd", 0, "received", 0)], at="outbound.click")
    sent, received = router.element("sent"), router.element("received")
    run_receiving(veth, router, sent, veth.send_ns)
    assert _ports_seen(sent, veth.send_addr) == PORTS
    assert {p.packet_type for p in _udp_from(sent, veth.send_addr)} == {OUTGOING}
    assert _udp_from(received, veth.send_addr) == []


# --- what becomes of a frame: SNAPLEN, FORCE_IP, PROTOCOL, TIMESTAMP, HEADROOM ---------

MAC = bytes.fromhex("020000000002" "020000000001")
IPV4_UDP = (MAC + b"\x08\x00"
            + bytes.fromhex("45000030" "00004000" "4011" "0000" "c0000201" "c0000202")
            + bytes.fromhex("9c40" "1388" "001c" "0000") + b"x" * 20)
ARP = MAC + b"\x08\x06" + bytes(28)
VLAN_IPV4 = (MAC + b"\x81\x00\x00\x05\x08\x00"
             + bytes.fromhex("46000018" "00000000" "4001" "0000" "0a000001" "0a000002")
             + bytes(4))
IPV6 = MAC + b"\x86\xdd" + bytes.fromhex("60000000" "0000" "3b40") + bytes(32)
# An IPv4 header claiming 60 bytes in a 40-byte frame.
SHORT_IPV4 = MAC + b"\x08\x00" + bytes.fromhex("4f000028") + bytes(22)


class FramesRing:
    """Hands out the frames given, as the receive ring does."""

    def __init__(self, frames):
        self.frames = list(frames)

    def receive(self, limit):
        taken, self.frames = self.frames[:limit], self.frames[limit:]
        return taken


def frame(data: bytes, age: float = 0.0, protocol: int | None = None):
    from pyclick.kernel.ring import Frame

    ethertype = int.from_bytes(data[12:14], "big") if protocol is None else protocol
    return Frame(data, len(data), time.time() - age, 0, HOST, ethertype)


def emitting(config: str, frames, second_output: bool = False):
    """``fd :: FromDevice(config)`` fed ``frames``; returns (fd, output 0's, output 1's)."""
    elements = [("fd", "FromDevice", config), ("ip", "Collect", ""), ("other", "Collect", "")]
    connections = [("fd", 0, "ip", 0)] + ([("fd", 1, "other", 0)] if second_output else [])
    router = configured_router(elements, connections, at="emit.click")
    fd, ip_sink, other_sink = (router.element(n) for n in ("fd", "ip", "other"))
    ip_sink.initialize()
    other_sink.initialize()
    fd._ring = FramesRing(frames)
    fd._hash_key = MICROSOFT_KEY
    assert fd._emit(len(frames) + 1) == len(frames)
    return router, fd, ip_sink.packets, other_sink.packets


def test_snaplen_cuts_frames_and_counts_the_rest():
    router, fd, out, _ = emitting("eth9, SNAPLEN 50", [frame(IPV4_UDP), frame(ARP)])
    # 62 bytes on the wire: 50 emitted, 12 in the extra length annotation; ARP's 42 whole.
    assert [len(p.data) for p in out] == [50, 42]
    assert [p.extra_length for p in out] == [12, 0]
    assert out[0].data == IPV4_UDP[:50]
    # The flow and hash are those of the whole frame.
    assert out[0].flow == ("192.0.2.1", "192.0.2.2", 40000, 5000, 17)
    assert out[0].rss_hash == toeplitz_hash(MICROSOFT_KEY, tuple_bytes(
        "192.0.2.1", "192.0.2.2", 40000, 5000))
    assert out[0].mac_header_offset == 0 and out[0].headroom == 30
    assert fd.count == 2


def test_force_ip_marks_ip_headers_and_parts_the_rest():
    frames = [frame(IPV4_UDP), frame(ARP), frame(VLAN_IPV4), frame(IPV6), frame(SHORT_IPV4)]
    router, fd, out, other = emitting("eth9, FORCE_IP true", frames, second_output=True)
    assert [p.data for p in out] == [IPV4_UDP, VLAN_IPV4, IPV6]
    # IPv4 after 14 bytes, 20-byte header; after a VLAN tag at 18, 24 bytes; IPv6 40.
    assert [(p.network_header_offset, p.transport_header_offset) for p in out] == [
        (14, 34), (18, 42), (14, 54)]
    assert [p.dst_ip for p in out[:2]] == [bytes([192, 0, 2, 2]), bytes([10, 0, 0, 2])]
    assert [p.data for p in other] == [ARP, SHORT_IPV4]
    assert fd.count == 5
    # Without output 1, the non-IP frames are dropped (and still counted).
    router, fd, out, other = emitting("eth9, FORCE_IP true", frames)
    assert (len(out), other, fd.count) == (3, [], 5)


def test_protocol_keeps_one_ethertype():
    frames = [frame(IPV4_UDP), frame(ARP), frame(VLAN_IPV4, protocol=0x0800)]
    router, fd, out, _ = emitting("eth9, PROTOCOL 0x0806", frames)
    assert [p.data for p in out] == [ARP] and fd.count == 1
    router, fd, out, _ = emitting("eth9, PROTOCOL 2048", frames)
    assert [p.data for p in out] == [IPV4_UDP, VLAN_IPV4]


def test_timestamp_is_the_arrival_on_the_routers_clock():
    router, fd, out, _ = emitting("eth9, HEADROOM 64", [frame(ARP, age=2.0)])
    assert abs(out[0].timestamp - (router.now() - 2.0)) < 0.5
    assert out[0].headroom == 64
    router, fd, out, _ = emitting("eth9, TIMESTAMP false", [frame(ARP, age=2.0)])
    assert out[0].timestamp == 0.0


def _udp_from(sink: Collect, addr: str) -> list:
    return [p for p in list(getattr(sink, "packets", [])) if p.flow and p.flow[0] == addr
            and p.flow[4] == 17]


def _ports_seen(sink: Collect, addr: str) -> set[int]:
    return {p.flow[3] for p in _udp_from(sink, addr)}


# --- SNIFFER false: a tc ingress filter keeps the frames from the stack -------------------

def clsact_qdiscs(ns: str, ifname: str) -> list[str]:
    """Kinds of the qdiscs on ``ifname``'s ingress side (clsact, ingress)."""
    with IPRoute(netns=ns) as ipr:
        index = ipr.link_lookup(ifname=ifname)[0]
        return [q.get_attr("TCA_KIND") for q in ipr.get_qdiscs(index=index)
                if q["parent"] == 0xFFFFFFF1]


def ip_in_receives(ns: str) -> int:
    """IP packets the namespace's stack took in (/proc/net/snmp, Ip: InReceives)."""
    text = subprocess.run(in_netns(ns, "cat", "/proc/net/snmp"), capture_output=True,
                          text=True, check=True).stdout
    names, values = [line.split()[1:] for line in text.splitlines() if line.startswith("Ip:")]
    return int(values[names.index("InReceives")])


def _checksum(data: bytes) -> int:
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def echo_answered(veth, ident: int) -> bool:
    """Whether the receiving side answers an ICMP echo request sent from the sending side."""
    request = bytes([8, 0, 0, 0]) + ident.to_bytes(2, "big") + b"\x00\x01" + b"pyclick!"
    request = request[:2] + _checksum(request).to_bytes(2, "big") + request[4:]
    sock = create_socket(veth.send_ns, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    try:
        sock.settimeout(0.2)
        sock.sendto(request, (veth.recv_addr, 0))
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            try:
                reply = sock.recv(2048)
            except socket.timeout:
                continue
            icmp = reply[(reply[0] & 0x0F) * 4:]
            if icmp[0] == 0 and icmp[4:6] == ident.to_bytes(2, "big"):
                return True
        return False
    finally:
        sock.close()


def test_sniffer_false_needs_the_right_to_change_interfaces(monkeypatch):
    monkeypatch.setattr(FromDevice, "may_change_devices", staticmethod(lambda: False))
    router, fd = configured("eth9, SNIFFER false", balanced=False)
    with pytest.raises(ConfigError) as caught:
        router.initialize()
    assert str(caught.value) == (
        "test.click:1: While initializing 'fd :: FromDevice': SNIFFER false keeps received "
        "frames from the network stack of 'eth9' with a tc ingress filter, which needs root "
        "or CAP_NET_ADMIN")


def kept_from_the_stack(veth, router: Router, sink: Collect, state_dir: Path,
                        echo: int) -> None:
    """Run ``router`` (built in the receiving namespace) as ``run_receiving`` does and
    check that, while it ran, what arrived reached the sink and not the stack (an
    echo request with identifier ``echo`` went unanswered, one with ``echo + 1``
    is answered once it stopped) and that nothing of the filter is left; its
    log lines are the caller's to look at."""
    seen = {}

    def look() -> None:
        before = ip_in_receives(veth.recv_ns)
        seen["echo"] = echo_answered(veth, echo)
        seen["in_receives"] = ip_in_receives(veth.recv_ns) - before
        seen["qdiscs"] = clsact_qdiscs(veth.recv_ns, veth.recv_if)
        record = json.loads(next(state_dir.glob(f"{veth.recv_if}*.json")).read_text())
        seen["recorded"] = record["ingress_drop"]

    run_receiving(veth, router, sink, veth.recv_ns, look)
    # The echo request and the UDP datagrams reached the sink, none the stack.
    assert seen == {"echo": False, "in_receives": 0, "qdiscs": ["clsact"], "recorded": True}
    assert _ports_seen(sink, veth.send_addr) == PORTS
    assert any(p.data[34:35] == b"\x08" and p.data[38:40] == echo.to_bytes(2, "big")
               for p in sink.packets), "the sink did not see the echo request"
    # Stopped: nothing of it is left, and the stack answers again.
    assert clsact_qdiscs(veth.recv_ns, veth.recv_if) == []
    assert sorted(p.name for p in state_dir.iterdir()) == []
    assert router.exit_guard.pending() == []
    assert echo_answered(veth, echo + 1)


def clsact_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "clsact" in r.getMessage()]


@needs_veth
def test_sniffer_false_receives_what_the_stack_never_gets(veth, state_dir, caplog):
    assert echo_answered(veth, 1), "the receiving side should answer before FromDevice runs"
    with inside(veth.recv_ns):
        router, fd = configured(f"{veth.recv_if}, SNIFFER false", sink="Collect",
                                balanced=False)
    with caplog.at_level(logging.INFO):
        kept_from_the_stack(veth, router, router.elements[1], state_dir, 2)
    assert clsact_lines(caplog) == [
        f"{veth.recv_if}: SNIFFER false: a clsact qdisc drops every frame arriving on it after "
        f"FromDevice's copy, so the network stack gets none; removed at exit"]


@needs_veth
def test_kernelfilter_keeps_what_fromdevice_receives_from_the_stack(veth, state_dir, caplog):
    assert echo_answered(veth, 4), "the receiving side should answer before KernelFilter runs"
    with inside(veth.recv_ns):
        router = configured_router(
            [("fd", "FromDevice", veth.recv_if), ("c", "Collect", ""),
             ("kf", "KernelFilter", f"drop dev {veth.recv_if}, IPTABLES_COMMAND /bin/false")],
            [("fd", 0, "c", 0)], at="test.click")
    with caplog.at_level(logging.INFO):
        kept_from_the_stack(veth, router, router.element("c"), state_dir, 5)
    assert clsact_lines(caplog) == [
        f"{veth.recv_if}: a clsact qdisc drops every frame arriving on it after the packet "
        f"sockets' copy, so the network stack gets none; removed at exit"]


@needs_veth
def test_kernelfilter_that_fails_on_its_second_device_leaves_the_first_as_it_was(veth,
                                                                                 state_dir):
    with inside(veth.recv_ns):
        router = configured_router(
            [("kf", "KernelFilter", f"drop dev {veth.recv_if}, drop dev nosuch0")],
            at="test.click")
        with pytest.raises(ConfigError) as caught:
            router.initialize()
    assert "nosuch0" in str(caught.value)
    assert str(caught.value).startswith("test.click:1: While initializing 'kf :: KernelFilter'")
    assert clsact_qdiscs(veth.recv_ns, veth.recv_if) == []
    assert sorted(p.name for p in state_dir.iterdir()) == []
    assert router.exit_guard.pending() == []


def test_kernelfilter_needs_the_right_to_change_interfaces(monkeypatch):
    from pyclick.elements.kernelfilter import KernelFilter

    monkeypatch.setattr(KernelFilter, "may_change_devices", staticmethod(lambda: False))
    router = configured_router([("kf", "KernelFilter", "drop dev eth8, drop dev eth9")],
                               at="test.click")
    with pytest.raises(ConfigError) as caught:
        router.initialize()
    assert str(caught.value) == (
        "test.click:1: While initializing 'kf :: KernelFilter': keeping received frames from "
        "the network stack of eth8, eth9 takes a tc ingress filter, which needs root or "
        "CAP_NET_ADMIN")


@pytest.mark.parametrize("config, message", [
    ("drop eth1", "argument 1: expected 'drop dev DEVNAME', got 'drop eth1'"),
    ("drop dev eth1, accept dev eth2", "argument 2: expected 'drop dev DEVNAME', got "
                                       "'accept dev eth2'"),
    ("drop dev eth1, drop dev eth1", "argument 2: 'eth1' is named twice"),
    ("drop dev " + "e" * 16, "argument 1: '" + "e" * 16 + "' cannot name an interface "
                             "(1 to 15 bytes, no '/')"),
    ("drop dev a/b", "argument 1: 'a/b' cannot name an interface (1 to 15 bytes, no '/')"),
])
def test_kernelfilter_takes_only_drop_dev_devname(config, message):
    error = config_error_of(configured_router, [("kf", "KernelFilter", config)], at="t.click")
    assert str(error) == f"t.click:1: While configuring 'kf :: KernelFilter': {message}"


@needs_veth
def test_sniffer_false_leaves_a_qdisc_it_did_not_add_alone(veth, state_dir):
    with IPRoute(netns=veth.recv_ns) as ipr:
        ipr.tc("add", "clsact", ipr.link_lookup(ifname=veth.recv_if)[0])
    with inside(veth.recv_ns):
        router, fd = configured(f"{veth.recv_if}, SNIFFER false", balanced=False)
        with pytest.raises(ConfigError) as caught:
            router.initialize()
    assert str(caught.value) == (
        f"test.click:1: While initializing 'fd :: FromDevice': interface '{veth.recv_if}' "
        f"already has a clsact qdisc that pyclick did not add ('tc qdisc show dev "
        f"{veth.recv_if}'); pyclick leaves it alone and cannot keep received frames from the "
        f"network stack")
    assert clsact_qdiscs(veth.recv_ns, veth.recv_if) == ["clsact"]
    assert sorted(p.name for p in state_dir.iterdir()) == []


#: Configurations that keep the receiving side's frames from its stack ({IF}: the interface).
DROPPING = {"sniffer-false": "FromDevice({IF}, SNIFFER false) -> Discard",
            "kernelfilter": "FromDevice({IF}) -> Discard; KernelFilter(drop dev {IF})"}


def start_dropping_pyclick(veth, env: dict[str, str], config: str) -> subprocess.Popen:
    """``pyclick`` running ``config`` (one of DROPPING) on the receiving side, once
    its qdisc is on the interface."""
    conf = config.format(IF=veth.recv_if)
    running = subprocess.Popen(in_netns(veth.recv_ns, pyclick_command(), "-e", conf), env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while clsact_qdiscs(veth.recv_ns, veth.recv_if) != ["clsact"]:
        if running.poll() is not None or time.monotonic() > deadline:
            running.kill()
            pytest.fail(f"pyclick did not add its qdisc: {running.communicate()}")
        time.sleep(0.05)
    return running


@needs_veth
@pytest.mark.requires("pyclick-command")
@pytest.mark.parametrize("config", DROPPING.values(), ids=DROPPING.keys())
def test_sigterm_removes_the_qdisc(veth, state_dir, config):
    running = start_dropping_pyclick(veth, {**os.environ, "PYCLICK_STATE_DIR": str(state_dir)},
                                     config)
    running.send_signal(signal.SIGTERM)
    _, err = running.communicate(timeout=30)
    assert clsact_qdiscs(veth.recv_ns, veth.recv_if) == [], err
    assert sorted(p.name for p in state_dir.iterdir()) == []


@needs_veth
@pytest.mark.requires("pyclick-command")
@pytest.mark.parametrize("config", DROPPING.values(), ids=DROPPING.keys())
def test_after_sigkill_cleanup_removes_the_qdisc(veth, state_dir, config):
    env = {**os.environ, "PYCLICK_STATE_DIR": str(state_dir)}
    running = start_dropping_pyclick(veth, env, config)
    running.kill()
    running.communicate(timeout=30)
    # SIGKILL ran nothing: the qdisc stays, and the record says so.
    assert clsact_qdiscs(veth.recv_ns, veth.recv_if) == ["clsact"]
    [record] = state_dir.glob(f"{veth.recv_if}*.json")
    assert json.loads(record.read_text())["ingress_drop"] is True
    assert not echo_answered(veth, 4)

    done = subprocess.run(in_netns(veth.recv_ns, pyclick_command(), "--cleanup",
                                   veth.recv_if), env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"{veth.recv_if}: pyclick (pid {running.pid}) ended without restoring it; restored from "
        f"its state record: clsact qdisc and its dropping ingress filter removed")
    assert clsact_qdiscs(veth.recv_ns, veth.recv_if) == []
    assert sorted(p.name for p in state_dir.iterdir()) == []
    assert echo_answered(veth, 5)
