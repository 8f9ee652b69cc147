"""End to end on a veth pair: the README's configuration balancing a socket
application with software RSS.

Two fresh network namespaces are joined by a two-queue veth pair. In the
receiving one, ``python -m pyclick`` runs the README's configuration
(FromDevice + DeviceBalancer with CYCLES realcpu + XDPLoader); as veth has
no RSS table, FromDevice falls back to software RSS: an XDP program hashes,
counts and steers every packet through a CPUMAP to the CPU its bucket names.
A socket application (one worker pinned per CPU, receiving the datagrams
that CPU processed, a fixed amount of work per datagram) makes CPU load
follow the packets. The sender's flows are chosen so that the heavy ones
fall in buckets of CPU 0 under the initial table, and the sender runs on
CPU 0 too (its own cost stays small next to the application's work per
datagram): CPU 0 is hot by construction, and the balancer must move
buckets to CPU 1.

While it runs, the test reads the program's maps directly from the kernel
(by the id of the program attached to the interface): the counters, the
table and the per-CPU landing counts. An XDP program attached before the
run must be back on the interface after it.

Root only; skipped with the reason when not root, when BPF is unavailable,
or when other programs keep the CPUs busy (CYCLES realcpu would see their
load, not the test's).
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from pyclick.kernel import bpf_syscall
from pyclick.kernel.rss_program import DEFAULT_KEY
from pyclick.sim.toeplitz import toeplitz_hash, tuple_bytes
from tests.netns import in_netns, inside, skip_reason, veth_pair

pytestmark = pytest.mark.skipif(bool(skip_reason()), reason=skip_reason() or "")

ROOT = Path(__file__).resolve().parents[1]
UDP_LOAD = ROOT / "tests" / "udp_load.py"
RETA = 128
DPORT = 5000
CPUS = (0, 1)
HEAVY_FLOWS, HEAVY_WEIGHT = 4, 24
LIGHT_FLOWS, LIGHT_WEIGHT = 32, 1
RATE, TRAFFIC_SECONDS = 1200, 8.0
WORK_US = 400
#: The tail of the run over which the balanced state is judged.
JUDGED_SECONDS = 3.0
#: Time for the whole router to initialize once the program is attached.
SETTLE_SECONDS = 1.5
#: CYCLES realcpu sees all work on a CPU: above this load from other
#: programs before the test, the test's own load cannot be told apart.
BACKGROUND_LOAD_MAX = 0.25
#: Two-second looks at the CPUs' load before giving up on a quiet moment.
QUIET_CHECKS = 15

README_CONFIG = """
define ($IF eth0,
        $CPU 2,
        $RETA 128,
        $VERBOSE 1,
        $TIMER 200,
        $BPF_XDP_COUNT "conf/bpf/xdp_count.o");

fd :: FromDevice($IF, ACTIVE false) -> Discard;

db :: DeviceBalancer(
    METHOD pianorss,
    DEV fd,
    CPUS $CPU,
    RSSCOUNTER xdp,
    CYCLES realcpu,
    RETA_SIZE $RETA,
    VERBOSE $VERBOSE,
    TARGET_LOAD 0.75,
    TIMER $TIMER,
    TIMER_MAX 1000,
    IMBALANCE_THRESHOLD 0.02,
    AUTOSCALE false);

StaticThreadSched(db 1)

xdp :: XDPLoader(PATH $BPF_XDP_COUNT, DEV $IF, CLEAN true);
"""


@pytest.fixture
def pair():
    with veth_pair(queues=2) as created:
        yield created


@pytest.fixture
def previous_program(pair):
    """A pass-everything XDP program already on the receiving interface."""
    from pyclick.kernel import bcc_loader
    from pyclick.kernel.xdp import XdpAttachment

    bcc = bcc_loader.prepare()
    program = bcc.BPF(text=b"int earlier(struct xdp_md *ctx) { return XDP_PASS; }")
    fd = program.load_func(b"earlier", bcc.BPF.XDP).fd
    with inside(pair.recv_ns):
        XdpAttachment(pair.recv_if, fd, "native").attach()
    yield bpf_syscall.prog_info(fd).id
    program.cleanup()


class Maps:
    """The running programs' maps, opened by id: those of the program attached
    to the interface, and those of the program its CPUMAP entries run."""

    def __init__(self, prog_id: int) -> None:
        self.fds: dict[str, int] = {}
        self._open_maps_of(prog_id)
        # A CPUMAP value reads back as (queue size, id of the entry's program).
        _, landing_id = struct.unpack("<II", bpf_syscall.lookup_elem(
            self.fds["cpu_map"], struct.pack("<I", CPUS[0]), 8))
        self._open_maps_of(landing_id)

    def _open_maps_of(self, prog_id: int) -> None:
        prog_fd = bpf_syscall.prog_fd_by_id(prog_id)
        try:
            for map_id in bpf_syscall.prog_info(prog_fd).map_ids:
                fd = bpf_syscall.map_fd_by_id(map_id)
                name = bpf_syscall.map_info(fd).name
                if name in self.fds:
                    os.close(fd)
                else:
                    self.fds[name] = fd
        finally:
            os.close(prog_fd)

    def table(self) -> np.ndarray:
        """CPU of each bucket."""
        return bpf_syscall.read_array(self.fds["reta_map"], RETA, np.uint32).astype(np.int64)

    def counted(self) -> np.ndarray:
        return bpf_syscall.read_array(self.fds["count_map"], RETA, np.uint64,
                                      per_cpu=True).astype(np.int64).sum(axis=0)

    def landed(self) -> np.ndarray:
        """Packets per (CPU, bucket) counted where they were steered."""
        return bpf_syscall.read_array(self.fds["landed_map"], RETA, np.uint64,
                                      per_cpu=True).astype(np.int64)

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)


@dataclass
class Watch:
    """What a poller saw of the table and the landings while traffic ran."""

    seen: dict[int, set[int]] = field(default_factory=dict)
    samples: list[tuple[float, np.ndarray, np.ndarray]] = field(default_factory=list)
    writes: int = 0


def watch_maps(maps: Maps, stop: threading.Event, watch: Watch) -> None:
    previous = None
    while not stop.is_set():
        table = maps.table()
        for bucket, cpu in enumerate(table.tolist()):
            watch.seen.setdefault(bucket, set()).add(cpu)
        if previous is not None and not np.array_equal(previous, table):
            watch.writes += 1
        previous = table
        watch.samples.append((time.monotonic(), table, maps.landed()))
        stop.wait(0.05)


def bucket_of(pair, sport: int) -> int:
    return toeplitz_hash(DEFAULT_KEY, tuple_bytes(pair.send_addr, pair.recv_addr,
                                                  sport, DPORT)) % RETA


def choose_flows(pair, table: np.ndarray) -> dict[int, int]:
    """Source port -> weight: heavy flows in distinct buckets of CPU 0, light ones elsewhere."""
    heavy: dict[int, int] = {}
    used: set[int] = set()
    for sport in range(20000, 30000):
        bucket = bucket_of(pair, sport)
        if table[bucket] == CPUS[0] and bucket not in used:
            heavy[sport] = HEAVY_WEIGHT
            used.add(bucket)
            if len(heavy) == HEAVY_FLOWS:
                break
    light: dict[int, int] = {}
    for sport in range(40000, 50000):
        if bucket_of(pair, sport) not in used:
            light[sport] = LIGHT_WEIGHT
            if len(light) == LIGHT_FLOWS:
                break
    return {**heavy, **light}


def wait_for_program(pair, previous_id: int, router: subprocess.Popen) -> int:
    """Id of the program pyclick attached (once it replaced the previous one)."""
    from pyclick.kernel.xdp import xdp_state

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if router.poll() is not None:
            raise AssertionError(f"pyclick exited early:\n{router.stderr.read()}")
        with inside(pair.recv_ns):
            state = xdp_state(pair.recv_if)
        if state.prog_id not in (0, previous_id):
            return state.prog_id
        time.sleep(0.2)
    raise AssertionError("pyclick did not attach its XDP program in time")


def udp_buffer_drops(pair) -> int:
    """Datagrams the receiving namespace dropped for want of socket buffer."""
    snmp = subprocess.run(in_netns(pair.recv_ns, "cat", "/proc/net/snmp"), check=True,
                          capture_output=True, text=True).stdout
    names, values = [line.split()[1:] for line in snmp.splitlines() if line.startswith("Udp:")]
    return int(values[names.index("RcvbufErrors")])


def imbalance(per_cpu: np.ndarray) -> float:
    """(max - min) / total of per-CPU packet counts."""
    return float(per_cpu.max() - per_cpu.min()) / max(int(per_cpu.sum()), 1)


@dataclass
class Run:
    """What one traffic run sent, what the application received, what was seen."""

    sent: dict[int, int]
    received: dict[int, int]
    watch: Watch


def run_traffic(pair, flows: dict[int, int], maps: Maps, initial: np.ndarray) -> Run:
    """Start the per-CPU application, send the flows, watch the maps meanwhile."""
    sink = subprocess.Popen(
        in_netns(pair.recv_ns, sys.executable, str(UDP_LOAD), "sink", pair.recv_addr,
                 str(DPORT), "--cpus", *map(str, CPUS),
                 "--seconds", str(TRAFFIC_SECONDS), "--work-us", str(WORK_US)),
        stdout=subprocess.PIPE, text=True)
    try:
        assert sink.stdout.readline().strip() == "ready"
        stop = threading.Event()
        watch = Watch(seen={b: {cpu} for b, cpu in enumerate(initial.tolist())})
        poller = threading.Thread(target=watch_maps, args=(maps, stop, watch))
        poller.start()
        try:
            sender = subprocess.run(
                in_netns(pair.send_ns, "taskset", "-c", str(CPUS[0]), sys.executable,
                         str(UDP_LOAD), "send", pair.send_addr, pair.recv_addr, str(DPORT),
                         "--flows", *(f"{p}:{w}" for p, w in flows.items()),
                         "--packets", str(int(RATE * TRAFFIC_SECONDS)),
                         "--seconds", str(TRAFFIC_SECONDS), "--rate", str(RATE)),
                capture_output=True, text=True, timeout=TRAFFIC_SECONDS + 30, check=True)
            time.sleep(0.5)
        finally:
            stop.set()
            poller.join()
        out = sink.communicate(timeout=90)[0]
    finally:
        if sink.poll() is None:
            sink.kill()
            sink.wait()
    return Run(sent={int(p): n for p, n in json.loads(sender.stdout).items()},
               received={int(c): n for c, n in json.loads(out.splitlines()[-1]).items()},
               watch=watch)


@pytest.fixture
def quiet_cpus():
    """Wait a little for the CPUs to be quiet; skip when other programs keep them busy."""
    from pyclick.kernel.procstat import ProcStatLoad

    loads = ProcStatLoad()
    for _ in range(QUIET_CHECKS):
        time.sleep(2)
        busy = loads.read_loads(list(CPUS))
        if busy.max() <= BACKGROUND_LOAD_MAX:
            return
    pytest.skip(f"CPUs busy with other work before the test (loads {busy.round(2)}); "
                f"CYCLES realcpu could not see the test's own load")


def test_readme_configuration_balances_a_skewed_socket_load(quiet_cpus, pair,
                                                            previous_program):
    from pyclick.kernel.xdp import XdpState, xdp_state

    router = subprocess.Popen(
        in_netns(pair.recv_ns, sys.executable, "-m", "pyclick", "-e", README_CONFIG,
                 f"IF={pair.recv_if}"),
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        maps = Maps(wait_for_program(pair, previous_program, router))
        time.sleep(SETTLE_SECONDS)
        initial = maps.table()
        assert sorted(set(initial.tolist())) == list(CPUS)
        run = run_traffic(pair, choose_flows(pair, initial), maps, initial)

        # Every packet sent was counted, in the bucket its flow hashes to.
        expected = np.zeros(RETA, dtype=np.int64)
        for sport, count in run.sent.items():
            expected[bucket_of(pair, sport)] += count
        assert maps.counted().tolist() == expected.tolist()

        # Every packet landed, and only on a CPU the table named for its bucket.
        landed = maps.landed()
        assert landed.sum(axis=0).tolist() == expected.tolist()
        for cpu, bucket in zip(*np.nonzero(landed)):
            assert cpu in run.watch.seen[int(bucket)], (cpu, bucket, run.watch.seen[int(bucket)])
        # The application received each datagram on the CPU it landed on
        # (less those its socket had no room for).
        for cpu in CPUS:
            assert run.received[cpu] <= landed[cpu].sum()
        assert sum(run.received.values()) + udp_buffer_drops(pair) == landed.sum()

        # The balancer moved loaded buckets away from the hot CPU...
        final = maps.table()
        moved = [b for b in np.flatnonzero(expected)
                 if initial[b] == CPUS[0] and final[b] == CPUS[1]]
        assert run.watch.writes >= 1 and moved, router_log(router)
        # ...and the packets of the end of the run spread more evenly than
        # the initial table would have spread the same packets.
        end = run.watch.samples[-1]
        start = next(s for s in run.watch.samples if s[0] >= end[0] - JUDGED_SECONDS)
        window = end[2] - start[2]
        per_bucket = window.sum(axis=0)
        with_initial = np.array([per_bucket[initial == cpu].sum() for cpu in CPUS])
        actual = np.array([window[cpu].sum() for cpu in CPUS])
        assert imbalance(actual) < imbalance(with_initial), (actual, with_initial)
        maps.close()

        # At exit the software RSS program is gone and the earlier one is back.
        router.send_signal(signal.SIGTERM)
        _, err = router.communicate(timeout=60)
        assert router.returncode == 0, err
        assert "Traceback" not in err, err
        with inside(pair.recv_ns):
            assert xdp_state(pair.recv_if) == XdpState("native", previous_program)
    finally:
        if router.poll() is None:
            router.kill()
            router.wait()


def router_log(router: subprocess.Popen) -> str:
    """What pyclick printed so far (for a failure message), stopping it."""
    router.send_signal(signal.SIGTERM)
    try:
        return router.communicate(timeout=30)[1]
    except subprocess.TimeoutExpired:
        return "(pyclick did not stop)"
