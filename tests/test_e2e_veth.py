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
datagram): CPU 0 carries most of the packets by construction, and the
balancer must move buckets to CPU 1.

While it runs, the test reads the program's maps directly from the kernel
(by the id of the program attached to the interface): the counters, the
table and the per-CPU landing counts. The balancer records every tick
(RECORD): the loads it measured, the bucket counts it read, its table and
its moves. The test judges the balancer by those, not by the machine's
state: CYCLES realcpu sees the work of every program on a CPU, so other
programs keeping the CPUs busy change what it measures, and the test must
hold whatever they do. It checks that the balancer read exactly the
packets the kernel counted, that every bucket it moved left a core it
measured above the average for one below it, that the kernel's table only
ever held what the balancer decided, and that its tables spread the
packets of the end of the run more evenly over the CPUs than the initial
table would have. A CPU kept busy by other programs can also make the
kernel drop packets on their way to it (its CPUMAP queue overflows while
the CPU's CPUMAP thread waits to run): the kernel's tracepoints count
those, and every packet sent must be accounted for. An XDP program
attached before the run must be back on the interface after it.

Root only (network namespaces, XDP, bcc); without them the test is skipped
with the reason, or fails under CI=true.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from pyclick.kernel import bpf_syscall
from pyclick.kernel.rss_program import DEFAULT_KEY
from pyclick.record import TickRecord, read_records
from pyclick.rss.toeplitz import toeplitz_hash, tuple_bytes
from tests.netns import VETH, in_netns, inside, veth_pair

pytestmark = pytest.mark.requires(*VETH, "bcc", "taskset")

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
#: The configuration's IMBALANCE_THRESHOLD.
THRESHOLD = 0.02

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
    AUTOSCALE false,
    RECORD $RECORD);

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


#: Raw tracepoints: attached by name (no tracefs needed), their arguments the
#: tracepoints' own, in order. Both start (int map_id, unsigned int processed,
#: unsigned int drops, ...).
CPUMAP_DROPS_PROGRAM = b"""
BPF_HASH(enqueue_drops, u32, u64);
BPF_HASH(thread_drops, u32, u64);

RAW_TRACEPOINT_PROBE(xdp_cpumap_enqueue) {
    u32 map = (u32)ctx->args[0];
    u64 zero = 0;
    u64 *total = enqueue_drops.lookup_or_try_init(&map, &zero);
    if (total)
        __sync_fetch_and_add(total, (u32)ctx->args[2]);
    return 0;
}

RAW_TRACEPOINT_PROBE(xdp_cpumap_kthread) {
    u32 map = (u32)ctx->args[0];
    u64 zero = 0;
    u64 *total = thread_drops.lookup_or_try_init(&map, &zero);
    if (total)
        __sync_fetch_and_add(total, (u32)ctx->args[2]);
    return 0;
}
"""


class CpumapDrops:
    """Frames a CPUMAP dropped, as the kernel's tracepoints report them: at
    enqueue, when the target CPU's queue is full (before the landing
    program), and in the target CPU's thread (after it). A CPU that other
    programs keep busy may leave its CPUMAP thread waiting long enough for
    its queue to overflow."""

    def __init__(self) -> None:
        from pyclick.kernel import bcc_loader

        self.program = bcc_loader.prepare().BPF(text=CPUMAP_DROPS_PROGRAM)

    def of(self, map_id: int) -> tuple[int, int]:
        """(dropped at enqueue, dropped in the CPU's thread) for map ``map_id``."""
        return tuple(next((v.value for k, v in self.program[name].items() if k.value == map_id),
                          0)
                     for name in (b"enqueue_drops", b"thread_drops"))

    def close(self) -> None:
        self.program.cleanup()


@pytest.fixture
def cpumap_drops():
    drops = CpumapDrops()
    yield drops
    drops.close()


class Maps:
    """The running programs' maps, opened by id: those of the program attached
    to the interface, and those of the program its CPUMAP entries run."""

    def __init__(self, prog_id: int) -> None:
        self.fds: dict[str, int] = {}
        self._open_maps_of(prog_id)
        self.cpu_map_id = bpf_syscall.map_info(self.fds["cpu_map"]).id
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


def watch_table(maps: Maps, stop: threading.Event, seen: dict[int, set[int]]) -> None:
    """Add to ``seen`` every CPU the kernel's table names for each bucket, until ``stop``."""
    while not stop.is_set():
        for bucket, cpu in enumerate(maps.table().tolist()):
            seen[bucket].add(cpu)
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


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached in {timeout:g} s")
        time.sleep(0.1)


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
    """What one traffic run sent and counted, where it landed, what the
    application received and what the kernel dropped on the way."""

    sent: np.ndarray
    counted: np.ndarray
    landed: np.ndarray
    received: dict[int, int]
    dropped_before_landing: int
    dropped_after_landing: int
    buffer_drops: int
    seen: dict[int, set[int]]


def run_traffic(pair, flows: dict[int, int], maps: Maps, initial: np.ndarray,
                drops: CpumapDrops) -> Run:
    """Start the per-CPU application, send the flows and watch the table meanwhile;
    once the kernel has delivered or dropped every packet, stop the application."""
    sink = subprocess.Popen(
        in_netns(pair.recv_ns, sys.executable, str(UDP_LOAD), "sink", pair.recv_addr,
                 str(DPORT), "--cpus", *map(str, CPUS), "--work-us", str(WORK_US)),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert sink.stdout.readline().strip() == "ready"
        stop = threading.Event()
        seen = {b: {cpu} for b, cpu in enumerate(initial.tolist())}
        poller = threading.Thread(target=watch_table, args=(maps, stop, seen))
        poller.start()
        try:
            sender = subprocess.run(
                in_netns(pair.send_ns, "taskset", "-c", str(CPUS[0]), sys.executable,
                         str(UDP_LOAD), "send", pair.send_addr, pair.recv_addr, str(DPORT),
                         "--flows", *(f"{p}:{w}" for p, w in flows.items()),
                         "--packets", str(int(RATE * TRAFFIC_SECONDS)),
                         "--seconds", str(TRAFFIC_SECONDS), "--rate", str(RATE)),
                capture_output=True, text=True, timeout=TRAFFIC_SECONDS + 30, check=True)
            sent = np.zeros(RETA, dtype=np.int64)
            for sport, count in json.loads(sender.stdout).items():
                sent[bucket_of(pair, int(sport))] += count
            # A busy CPU may still hold packets (in its softirq or CPUMAP
            # thread): each is counted, then landed or dropped, before the
            # application stops.
            wait_until(lambda: maps.counted().sum() >= sent.sum(), "every packet counted")
            wait_until(lambda: maps.landed().sum() + drops.of(maps.cpu_map_id)[0]
                       >= maps.counted().sum(), "every packet landed or dropped")
        finally:
            stop.set()
            poller.join()
        out = sink.communicate(input="", timeout=90)[0]
    finally:
        if sink.poll() is None:
            sink.kill()
            sink.wait()
    before, after = drops.of(maps.cpu_map_id)
    return Run(sent=sent, counted=maps.counted(), landed=maps.landed(),
               received={int(c): n for c, n in json.loads(out.splitlines()[-1]).items()},
               dropped_before_landing=before, dropped_after_landing=after,
               buffer_drops=udp_buffer_drops(pair), seen=seen)


def recorded_ticks(record: Path) -> list[TickRecord]:
    """The ticks recorded so far; a line still being written counts from the next look."""
    try:
        return list(read_records(record))
    except (FileNotFoundError, ValueError):
        return []


def read_by_balancer(ticks: list[TickRecord]) -> np.ndarray:
    """Packets per bucket the balancer read over all its ticks."""
    return np.sum([t.counts for t in ticks], axis=0, dtype=np.int64)


def check_moves_follow_measured_loads(ticks: list[TickRecord], initial: np.ndarray) -> None:
    """Each tick's moves start from the table the previous tick left, and each
    bucket leaves a core the tick measured above the average for one below it."""
    table = initial
    for tick in ticks:
        load = dict(zip(tick.cores, tick.loads))
        average = sum(tick.loads) / len(tick.loads)
        for bucket, old, new in tick.moves:
            assert table[bucket] == old, (tick, bucket)
            assert load[old] > average > load[new], (tick.loads, bucket, old, new)
        expected = table.copy()
        for bucket, _, new in tick.moves:
            expected[bucket] = new
        assert tick.table == expected.tolist(), tick
        table = expected


def steered_split(ticks: list[TickRecord], initial: np.ndarray,
                  seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """Packets per CPU over the last ``seconds`` of traffic: as the balancer's
    tables steered them (each tick's counts under the table in force while
    they came), and as the initial table would have."""
    in_force, steered = initial, []
    for tick in ticks:
        counts = np.asarray(tick.counts)
        if counts.any():
            steered.append((tick.t, counts, in_force))
        in_force = np.asarray(tick.table)
    end = steered[-1][0]
    window = [(counts, table) for t, counts, table in steered if t >= end - seconds]
    balanced = sum(np.array([counts[table == cpu].sum() for cpu in CPUS])
                   for counts, table in window)
    unbalanced = sum(np.array([counts[initial == cpu].sum() for cpu in CPUS])
                     for counts, _ in window)
    return balanced, unbalanced


def test_readme_configuration_balances_a_skewed_socket_load(pair, previous_program,
                                                            cpumap_drops, tmp_path):
    from pyclick.kernel.xdp import XdpState, xdp_state

    record = tmp_path / "ticks.jsonl"
    router = subprocess.Popen(
        in_netns(pair.recv_ns, sys.executable, "-m", "pyclick", "-e", README_CONFIG,
                 f"IF={pair.recv_if}", f"RECORD={record}"),
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def fail_if_exited() -> None:
        if router.poll() is not None:
            raise AssertionError(f"pyclick exited early:\n{router.stderr.read()}")

    try:
        maps = Maps(wait_for_program(pair, previous_program, router))
        # From its first tick on, the balancer counts every packet.
        wait_until(lambda: fail_if_exited() or bool(recorded_ticks(record)), "the first tick")
        initial = maps.table()
        assert sorted(set(initial.tolist())) == list(CPUS)
        run = run_traffic(pair, choose_flows(pair, initial), maps, initial, cpumap_drops)
        # The balancer's next tick reads the last of the packets.
        wait_until(lambda: fail_if_exited() or read_by_balancer(recorded_ticks(record)).sum()
                   >= run.counted.sum(), "the balancer read the last packets")

        # SIGTERM ends the run with the conventional status (128 + 15); the
        # software RSS program is gone and the earlier one is back.
        router.send_signal(signal.SIGTERM)
        _, err = router.communicate(timeout=60)
        assert router.returncode == 128 + signal.SIGTERM, err
        assert "Traceback" not in err, err
        # The software RSS takeover of the balanced interface, said once.
        said = [line for line in err.splitlines() if "takes it over" in line]
        assert len(said) == 1 and (f"{pair.recv_if}: driver 'veth' has no RSS table; software "
                                   f"RSS takes it over: XDP in ") in said[0], err
        with inside(pair.recv_ns):
            assert xdp_state(pair.recv_if) == XdpState("native", previous_program)
        final = maps.table()
        maps.close()
    finally:
        if router.poll() is None:
            router.kill()
            router.wait()

    # Every packet sent was counted, in the bucket its flow hashes to.
    assert run.counted.tolist() == run.sent.tolist()
    # Packets landed only on a CPU the table named for their bucket; those
    # that did not land, the kernel dropped at the CPUMAP queue.
    for cpu, bucket in zip(*np.nonzero(run.landed)):
        assert cpu in run.seen[int(bucket)], (cpu, bucket, run.seen[int(bucket)])
    assert (run.landed.sum(axis=0) <= run.counted).all()
    assert run.landed.sum() + run.dropped_before_landing == run.counted.sum()
    # The application received every datagram that landed, less those the
    # kernel dropped after landing or for want of socket buffer.
    assert (sum(run.received.values()) + run.dropped_after_landing + run.buffer_drops
            == run.landed.sum()), run

    ticks = list(read_records(record))
    # The balancer read exactly the packets the kernel counted...
    assert read_by_balancer(ticks).tolist() == run.counted.tolist()
    # ...decided from what it measured...
    check_moves_follow_measured_loads(ticks, initial)
    # ...and the kernel only ever held its decisions, the last one at the end.
    assert final.tolist() == ticks[-1].table
    decided = [{int(c)} | {t.table[b] for t in ticks} for b, c in enumerate(initial)]
    for bucket, cpus in run.seen.items():
        assert cpus <= decided[bucket], (bucket, cpus, decided[bucket])

    # CPU 0 received most of the packets: the balancer measured it above the
    # average and moved buckets that carried packets from it to CPU 1...
    assert any(t.loads[t.cores.index(CPUS[0])] - sum(t.loads) / len(t.loads) > THRESHOLD
               for t in ticks), [t.loads for t in ticks]
    assert any(old == CPUS[0] and new == CPUS[1] and run.counted[bucket]
               for t in ticks for bucket, old, new in t.moves), err
    # ...so that its tables spread the packets of the end of the run more
    # evenly than the initial table would have spread the same packets.
    balanced, unbalanced = steered_split(ticks, initial, JUDGED_SECONDS)
    assert imbalance(balanced) < imbalance(unbalanced), (balanced, unbalanced)
