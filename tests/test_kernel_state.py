"""Owned kernel state: the interface lock, the state record, and recovery after a kill.

The first part needs no privileges: FromDevice's NIC table is the in-memory
``MemoryNic`` of test_fromdevice, and locks and records go to a directory
of the test's own (``PYCLICK_STATE_DIR``).

The second part is the kernel exit-path matrix (root, bcc, a veth pair in
network namespaces the test creates and removes): pyclick runs as its own
process on the veth, is killed with SIGKILL or joined by a second
instance, and the test checks that the interface ends as it was: its XDP
program (none, or the one attached before), and none of the programs and
maps the state records name still loaded in the kernel. Missing
prerequisites skip with the reason, or fail under CI=true.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from pyclick.elements.fromdevice import FromDevice
from pyclick.errors import ConfigError
from pyclick.kernel import ownership
from pyclick.kernel.exitguard import ExitGuard
from pyclick.kernel.staterecord import InstalledXdp, PreviousXdp, RecordError, StateRecord
from pyclick.kernel.rss_program import COUNT_SOURCE
from tests.netns import VETH, in_netns, inside, veth_pair
from tests.test_fromdevice import MemoryNic, configured
from tests.test_kernel_xdp import compile_object, need_commands

ROOT = Path(__file__).resolve().parents[1]
ORIGINAL = [0, 1, 2, 3] * 4
#: How long a pyclick may take to attach (bcc compiles for seconds on a busy machine).
START_TIMEOUT = 120.0


@pytest.fixture
def state_dir(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "state"
    monkeypatch.setenv("PYCLICK_STATE_DIR", str(directory))
    return directory


@pytest.fixture
def memory_nic(monkeypatch, state_dir):
    monkeypatch.setattr(FromDevice, "hardware_backend", MemoryNic)
    monkeypatch.setattr(FromDevice, "may_change_devices", staticmethod(lambda: True))
    MemoryNic.install("nic0", np.array(ORIGINAL))
    yield MemoryNic
    assert MemoryNic.open_handles == 0, "FromDevice left a device handle open"


def dead_record(table: list[int], pid: int = 999999) -> StateRecord:
    """The record a killed pyclick leaves for nic0, which has no kernel index."""
    return StateRecord(interface="nic0", ifindex=0, netns=0, pid=pid, started=0.0,
                       command=["pyclick", "rsspp.click"], rss_table=table)


#: What a BPF filesystem holds of its own (the kernel's bpf_preload iterators).
BPFFS_OWN = {"maps.debug", "progs.debug"}


def files(directory: Path) -> list[str]:
    """The names in ``directory``, but for a BPF filesystem's own."""
    if not directory.exists():
        return []
    return sorted(p.name for p in directory.iterdir() if p.name not in BPFFS_OWN)


# --- the record and the lock, with the in-memory NIC ------------------------------

def test_the_record_names_the_table_found_at_start_and_goes_at_cleanup(memory_nic, state_dir):
    router, fd = configured("nic0, ACTIVE false")
    router.initialize()
    fd.write_table(np.zeros(16, dtype=np.int64))
    record = json.loads((state_dir / "nic0.json").read_text())
    assert (record["format"], record["interface"], record["pid"]) == (1, "nic0", os.getpid())
    assert record["rss_table"] == ORIGINAL and record["xdp"] == [] and record["pins"] == []
    assert (state_dir / "nic0.lock").read_text() == f"{os.getpid()}\n"
    router.cleanup()
    assert memory_nic.tables["nic0"].tolist() == ORIGINAL
    assert files(state_dir) == []


def test_a_second_router_on_the_interface_is_refused_and_the_first_keeps_it(memory_nic,
                                                                             state_dir):
    first, fd = configured("nic0, ACTIVE false")
    first.initialize()
    fd.write_table(np.full(16, 2))
    second, _ = configured("nic0, ACTIVE false")
    with pytest.raises(ConfigError) as caught:
        second.initialize()
    assert str(caught.value) == (
        f"test.click:1: While initializing 'fd :: FromDevice': nic0 is in use by another "
        f"pyclick (pid {os.getpid()}, lock {state_dir}/nic0.lock); one pyclick per interface")
    second.cleanup()
    assert memory_nic.tables["nic0"].tolist() == [2] * 16
    assert json.loads((state_dir / "nic0.json").read_text())["rss_table"] == ORIGINAL
    first.cleanup()
    assert memory_nic.tables["nic0"].tolist() == ORIGINAL
    assert files(state_dir) == []


def test_a_dead_owners_record_is_restored_at_the_next_start(memory_nic, state_dir, caplog):
    # The dead balancer left its table; the record holds the one it found.
    found = [3, 2, 1, 0] * 4
    memory_nic.install("nic0", np.zeros(16))
    state_dir.mkdir()
    (state_dir / "nic0.json").write_text(dead_record(found).to_json())
    router, fd = configured("nic0, ACTIVE false")
    with caplog.at_level(logging.INFO, logger="pyclick"):
        router.initialize()
    assert memory_nic.tables["nic0"].tolist() == found
    assert router.handlers.read("fd.saved_table") == " ".join(map(str, found))
    said = [r.getMessage() for r in caplog.records if "nic0: pyclick" in r.getMessage()]
    assert said == ["nic0: pyclick (pid 999999) ended without restoring it; restored from its "
                    "state record: RSS table put back (16 entries)"]
    assert json.loads((state_dir / "nic0.json").read_text())["pid"] == os.getpid()
    fd.write_table(np.full(16, 1))
    router.cleanup()
    assert memory_nic.tables["nic0"].tolist() == found
    assert files(state_dir) == []


def test_cleanup_restores_what_a_dead_owner_left_and_is_refused_while_one_lives(memory_nic,
                                                                                 state_dir):
    assert ownership.cleanup("nic0", MemoryNic) == "nic0: nothing to restore"
    memory_nic.install("nic0", np.zeros(16))
    (state_dir / "nic0.json").write_text(dead_record(ORIGINAL, pid=4242).to_json())
    assert ownership.cleanup("nic0", MemoryNic) == (
        "nic0: pyclick (pid 4242) ended without restoring it; restored from its state record: "
        "RSS table put back (16 entries)")
    assert memory_nic.tables["nic0"].tolist() == ORIGINAL
    assert files(state_dir) == []

    router, fd = configured("nic0, ACTIVE false")
    router.initialize()
    try:
        with pytest.raises(ownership.InterfaceBusy, match=f"pid {os.getpid()}"):
            ownership.cleanup("nic0", MemoryNic)
    finally:
        router.cleanup()


def test_a_record_half_written_when_its_owner_died_is_removed(memory_nic, state_dir):
    # Killed while writing its record: the new one is cut short, the last
    # whole one says what to put back.
    memory_nic.install("nic0", np.zeros(16))
    state_dir.mkdir()
    (state_dir / "nic0.json").write_text(dead_record(ORIGINAL, pid=4242).to_json())
    (state_dir / "nic0.json.new").write_text('{"interface": "nic0", "rss_t')
    assert ownership.cleanup("nic0", MemoryNic) == (
        "nic0: pyclick (pid 4242) ended without restoring it; restored from its state record: "
        "RSS table put back (16 entries)")
    assert memory_nic.tables["nic0"].tolist() == ORIGINAL
    assert files(state_dir) == []


def test_the_cleanup_option(state_dir, capsys):
    from pyclick.cli import main

    assert main(["--cleanup", "nic0"]) == 0
    assert capsys.readouterr().out == "nic0: nothing to restore\n"
    held = ownership.claim("nic0")
    try:
        assert main(["--cleanup", "nic0"]) == 1
        assert capsys.readouterr().err == (
            f"pyclick: --cleanup nic0: nic0 is in use by another pyclick (pid {os.getpid()}, "
            f"lock {state_dir}/nic0.lock); one pyclick per interface\n")
    finally:
        held.close()
    assert main(["--cleanup", "nic0", "-e", "Idle -> Discard"]) == 1
    assert "--cleanup takes an interface, not a configuration" in capsys.readouterr().err


def test_an_unreadable_record_stops_the_start_and_names_the_file(memory_nic, state_dir):
    state_dir.mkdir()
    (state_dir / "nic0.json").write_text("{not json")
    router, _ = configured("nic0, ACTIVE false")
    with pytest.raises(ConfigError) as caught:
        router.initialize()
    assert str(caught.value).startswith(
        f"test.click:1: While initializing 'fd :: FromDevice': {state_dir}/nic0.json: "
        f"not a pyclick state record")
    assert memory_nic.writes["nic0"] == 0
    # The lock went with the failed start.
    (state_dir / "nic0.json").unlink()
    ownership.claim("nic0", MemoryNic, state_dir).close()
    assert files(state_dir) == []


def test_the_lock_lives_as_long_as_its_process(state_dir):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import time
            from pyclick.kernel import ownership
            ownership.claim("nic0")
            print("held", flush=True)
            time.sleep(60)
        """)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(ownership.InterfaceBusy) as caught:
            ownership.claim("nic0")
        assert str(caught.value) == (f"nic0 is in use by another pyclick (pid {holder.pid}, "
                                     f"lock {state_dir}/nic0.lock); one pyclick per interface")
    finally:
        holder.kill()
        holder.wait(timeout=30)
        holder.stdout.close()
    # SIGKILL released it: the kernel drops a dead process's locks.
    claim = ownership.claim("nic0")
    assert claim.held
    claim.close()
    assert files(state_dir) == []


def test_a_forked_child_does_not_keep_the_lock_after_its_parent_died(state_dir):
    parent = subprocess.run(
        [sys.executable, "-c", textwrap.dedent("""
            import os, signal, time
            from pyclick.kernel.exitguard import ExitGuard
            ExitGuard().claim("nic0")
            child = os.fork()
            if child == 0:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                time.sleep(30)
                os._exit(0)
            print(child, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        """)], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    child = int(parent.stdout)
    try:
        assert parent.returncode == -signal.SIGKILL, parent.stderr
        assert (state_dir / "nic0.lock").exists()
        ownership.claim("nic0").close()
    finally:
        os.kill(child, signal.SIGKILL)


def test_the_record_reads_back_what_was_written():
    record = dead_record([1, 0])
    record.xdp.append(InstalledXdp("fd", 57, "native", [101, 104], [58],
                                   {"map_id": 104, "cpus": [0, 1]},
                                   PreviousXdp(12, "native", "/run/pyclick/bpf/eth0/prev")))
    assert StateRecord.from_json(record.to_json(), "r.json") == record
    assert record.program_ids() == {57, 58} and record.map_ids() == {101, 104}
    with pytest.raises(RecordError, match="r.json: unknown state record format"):
        StateRecord.from_json(json.dumps({"format": 2}), "r.json")
    with pytest.raises(RecordError, match="r.json: not a pyclick state record"):
        StateRecord.from_json(json.dumps({"format": 1, "interface": "eth0"}), "r.json")


def test_the_ingress_filter_is_recorded_until_forgotten(state_dir):
    claim = ownership.claim("nic0")
    try:
        claim.note_ingress_drop()
        saved = json.loads((state_dir / "nic0.json").read_text())
        assert saved["ingress_drop"] is True and saved["rss_table"] is None
        assert not StateRecord.from_json(json.dumps(saved), "r.json").empty()
        claim.forget_ingress_drop()
        assert files(state_dir) == ["nic0.lock"]
    finally:
        claim.close()
    # A record written before the field existed reads as without it.
    older = json.loads(dead_record([1, 0]).to_json())
    del older["ingress_drop"]
    assert StateRecord.from_json(json.dumps(older), "r.json").ingress_drop is False


# --- the exit guard's claims ----------------------------------------------------------

def test_the_routers_elements_share_one_claim_released_by_the_last(state_dir):
    guard = ExitGuard()
    first, second = guard.claim("nic0"), guard.claim("nic0")
    assert first is second and guard.pending() == ["state record of nic0"]
    first.note_table([1, 0])
    guard.unclaim(first)
    assert first.held and files(state_dir) == ["nic0.json", "nic0.lock"]
    first.forget_table()
    guard.unclaim(second)
    assert not first.held and files(state_dir) == [] and guard.pending() == []


def test_at_exit_the_claim_is_released_after_the_undos(state_dir):
    guard = ExitGuard()
    claim = guard.claim("nic0")
    claim.note_table([1, 0])
    guard.on_exit("RSS table of nic0", claim.forget_table)
    guard.run_pending()
    assert not claim.held and files(state_dir) == []


def test_an_undo_that_fails_at_exit_leaves_the_record_for_later(state_dir, caplog):
    guard = ExitGuard()
    claim = guard.claim("nic0")
    claim.note_table([1, 0])

    def fail() -> None:
        raise OSError("device gone")

    guard.on_exit("RSS table of nic0", fail)
    with caplog.at_level(logging.WARNING):
        guard.run_pending()
    assert not claim.held and files(state_dir) == ["nic0.json"]
    assert "'pyclick --cleanup nic0' or the next start restores it" in caplog.text


# --- the kernel exit-path matrix ---------------------------------------------------------

needs_kernel = pytest.mark.requires(*VETH, "bcc")
SOFTWARE_RSS = ("fd :: FromDevice({dev}, MODE software, QUEUE_CPUS 0 1, RETA_SIZE 64, "
                "ACTIVE false) -> Discard; "
                "DeviceBalancer(METHOD rss, DEV fd, RETA_SIZE 64, CYCLES realcpu, VERBOSE 0)")
COUNTER = "xdp :: XDPLoader(PATH {path}, DEV {dev})"


@pytest.fixture
def kernel_state(state_dir):
    """The state directory with pyclick's BPF filesystem mounted from here, so that
    what pyclick pins in it outlives the private mount namespace of 'ip netns exec'."""
    from pyclick.kernel import bpffs

    pins = bpffs.ensure_mounted(state_dir / "bpf")
    yield state_dir
    bpffs.unmount(pins)


@pytest.fixture
def pair():
    with veth_pair() as created:
        yield created


class Pyclick:
    """pyclick running on the veth pair's receiving side, its output in files."""

    def __init__(self, pair, state: Path, config: str, *extra: str) -> None:
        self.out = state.parent / f"pyclick-{time.monotonic_ns()}.log"
        with self.out.open("w") as out:
            self.process = subprocess.Popen(
                in_netns(pair.recv_ns, sys.executable, "-m", "pyclick", *extra, "-e", config),
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                env={**os.environ, "PYCLICK_STATE_DIR": str(state), "PYTHONPATH": str(ROOT)})
        self.record_path = state / f"{pair.recv_if}@{pair.recv_ns}.json"
        self.ifname, self.ns = pair.recv_if, pair.recv_ns

    @property
    def output(self) -> str:
        return self.out.read_text()

    def wait_attached(self) -> StateRecord:
        """The state record once this process's last XDP program is attached."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"pyclick ended with {self.process.returncode}:\n{self.output}")
            record = read_record(self.record_path)
            if record is not None and record.pid == self.process.pid and record.xdp:
                if attached(self.ns, self.ifname).prog_id == record.xdp[-1].prog_id:
                    return record
            time.sleep(0.1)
        self.kill()
        pytest.fail(f"pyclick did not attach within {START_TIMEOUT} s:\n{self.output}")

    def end(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def read_record(path: Path) -> StateRecord | None:
    try:
        return StateRecord.from_json(path.read_text(), str(path))
    except FileNotFoundError:
        return None


def attached(ns: str, ifname: str):
    from pyclick.kernel.xdp import xdp_state

    with inside(ns):
        return xdp_state(ifname)


def assert_gone(*records: StateRecord) -> None:
    """None of the programs and maps the records name is still loaded (freeing is
    asynchronous, so within a few seconds)."""
    from pyclick.kernel import bpf_syscall

    programs = set().union(*(r.program_ids() for r in records))
    maps = set().union(*(r.map_ids() for r in records))
    assert programs and maps
    deadline = time.monotonic() + 10
    while True:
        left = (programs & set(bpf_syscall.prog_ids()), maps & set(bpf_syscall.map_ids()))
        if left == (set(), set()):
            return
        assert time.monotonic() < deadline, f"still loaded: programs {left[0]}, maps {left[1]}"
        time.sleep(0.1)


def pass_program() -> int:
    """A loaded XDP program that passes every packet (r0 = XDP_PASS; exit)."""
    from pyclick.kernel import bpf_syscall

    code = struct.pack("<BBhi", 0xB7, 0, 0, 2) + struct.pack("<BBhi", 0x95, 0, 0, 0)
    return bpf_syscall.prog_load(bpf_syscall.BPF_PROG_TYPE_XDP, code, "theirs")


def restored_line(record: StateRecord, what: str) -> str:
    return (f"{record.interface}: pyclick (pid {record.pid}) ended without restoring it; "
            f"restored from its state record: {what}")


@needs_kernel
@pytest.mark.slow
def test_sigkill_then_restart_restores_software_rss(pair, kernel_state):
    from pyclick.kernel.xdp import XdpState

    config = SOFTWARE_RSS.format(dev=pair.recv_if)
    first = Pyclick(pair, kernel_state, config)
    killed = first.wait_attached()
    assert killed.xdp[0].cpumap["cpus"] == [0, 1] and len(killed.xdp[0].programs) == 1
    first.kill()
    # Nothing ran: the program, its CPUMAP program and their maps stay.
    assert attached(pair.recv_ns, pair.recv_if).prog_id == killed.xdp[0].prog_id

    second = Pyclick(pair, kernel_state, config)
    try:
        running = second.wait_attached()
        assert running.xdp[0].prog_id != killed.xdp[0].prog_id
        assert_gone(killed)
    finally:
        status = second.end(signal.SIGTERM)
    assert status == 128 + signal.SIGTERM, second.output
    entry = killed.xdp[0]
    said = [line for line in second.output.splitlines() if "ended without restoring" in line]
    assert len(said) == 1 and said[0].endswith(restored_line(
        killed, f"XDP program {entry.prog_id} (with program {entry.programs[0]} on its "
                f"CPUMAP) detached, none was there before"))
    assert attached(pair.recv_ns, pair.recv_if) == XdpState(None, 0)
    assert_gone(killed, running)
    assert files(kernel_state) == ["bpf"] and files(kernel_state / "bpf") == []


@needs_kernel
@pytest.mark.slow
def test_sigkill_then_cleanup_puts_the_previous_program_back(pair, kernel_state):
    from pyclick.kernel.xdp import XdpAttachment, XdpState

    theirs = pass_program()
    with inside(pair.recv_ns):
        XdpAttachment(pair.recv_if, theirs, "generic").attach()
    before = attached(pair.recv_ns, pair.recv_if)
    # Only the interface holds it now, as with a program 'ip link set xdp' attached.
    os.close(theirs)

    run = Pyclick(pair, kernel_state, COUNTER.format(path="conf/bpf/xdp_count.c",
                                                     dev=pair.recv_if))
    killed = run.wait_attached()
    run.kill()
    previous = killed.xdp[0].previous
    assert (previous.prog_id, previous.mode) == (before.prog_id, "generic")
    assert Path(previous.pin).exists()

    cleanup = subprocess.run(
        in_netns(pair.recv_ns, sys.executable, "-m", "pyclick", "--cleanup", pair.recv_if),
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYCLICK_STATE_DIR": str(kernel_state), "PYTHONPATH": str(ROOT)})
    assert cleanup.returncode == 0, cleanup.stderr
    assert cleanup.stdout == restored_line(
        killed, f"XDP program {killed.xdp[0].prog_id} detached, program {before.prog_id} "
                f"(generic) put back") + "\n"
    assert attached(pair.recv_ns, pair.recv_if) == before == XdpState("generic", before.prog_id)
    assert_gone(killed)
    assert files(kernel_state) == ["bpf"] and files(kernel_state / "bpf") == []


@needs_kernel
@pytest.mark.slow
def test_a_second_instance_is_refused_and_the_first_keeps_the_interface(pair, kernel_state):
    from pyclick.kernel.xdp import XdpState

    config = SOFTWARE_RSS.format(dev=pair.recv_if)
    first = Pyclick(pair, kernel_state, config)
    try:
        record = first.wait_attached()
        text = first.record_path.read_text()
        second = Pyclick(pair, kernel_state, config)
        assert second.process.wait(timeout=60) == 1
        assert second.output.splitlines()[-1] == (
            f"config:1: While initializing 'fd :: FromDevice': {pair.recv_if} is in use by "
            f"another pyclick (pid {first.process.pid}, lock {kernel_state}/"
            f"{pair.recv_if}@{pair.recv_ns}.lock); one pyclick per interface")
        assert first.process.poll() is None
        assert attached(pair.recv_ns, pair.recv_if).prog_id == record.xdp[0].prog_id
        assert first.record_path.read_text() == text
    finally:
        status = first.end(signal.SIGTERM)
    assert status == 128 + signal.SIGTERM, first.output
    assert attached(pair.recv_ns, pair.recv_if) == XdpState(None, 0)
    assert_gone(record)
    assert files(kernel_state) == ["bpf"]


@needs_kernel
@pytest.mark.slow
def test_sigkill_then_restart_with_a_compiled_object(pair, kernel_state, tmp_path):
    from pyclick.kernel.xdp import XdpState

    need_commands("bpftool")
    config = COUNTER.format(path=compile_object(COUNT_SOURCE, tmp_path / "xdp_count.o"),
                            dev=pair.recv_if)
    first = Pyclick(pair, kernel_state, config)
    killed = first.wait_attached()
    first.kill()
    assert len(killed.xdp[0].map_ids) == 2 and killed.pins == []
    second = Pyclick(pair, kernel_state, config)
    try:
        running = second.wait_attached()
        assert_gone(killed)
    finally:
        assert second.end(signal.SIGINT) == 128 + signal.SIGINT, second.output
    assert restored_line(killed, f"XDP program {killed.xdp[0].prog_id} detached, none was "
                                 f"there before") in second.output
    assert attached(pair.recv_ns, pair.recv_if) == XdpState(None, 0)
    assert_gone(killed, running)
    assert files(kernel_state) == ["bpf"] and files(kernel_state / "bpf") == []


@needs_kernel
def test_cleanup_unpins_what_a_load_cut_short_left(pair, kernel_state):
    from pyclick.kernel import bpf_syscall
    from pyclick.kernel.xdp import ifindex

    # A pyclick killed while bpftool loaded its object: maps pinned, nothing attached.
    key = f"{pair.recv_if}@{pair.recv_ns}"
    loading = kernel_state / "bpf" / key / "load-4242" / "maps"
    loading.mkdir(parents=True)
    fd = bpf_syscall.map_create(2, 4, 8, 16, "count_map")
    map_id = bpf_syscall.map_info(fd).id
    bpf_syscall.obj_pin(fd, str(loading / "count_map"))
    os.close(fd)
    with inside(pair.recv_ns):
        index = ifindex(pair.recv_if)
    record = StateRecord(interface=pair.recv_if, ifindex=index, netns=0, pid=4242, started=0.0,
                         command=["pyclick"], pins=[str(loading.parent)])
    (kernel_state / f"{key}.json").write_text(record.to_json())
    assert map_id in bpf_syscall.map_ids()

    cleanup = subprocess.run(
        in_netns(pair.recv_ns, sys.executable, "-m", "pyclick", "--cleanup", pair.recv_if),
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYCLICK_STATE_DIR": str(kernel_state), "PYTHONPATH": str(ROOT)})
    assert cleanup.returncode == 0, cleanup.stderr
    assert cleanup.stdout == restored_line(
        record, "the pins of a load it did not finish removed") + "\n"
    assert map_id not in bpf_syscall.map_ids()
    assert files(kernel_state) == ["bpf"] and files(kernel_state / "bpf") == []
