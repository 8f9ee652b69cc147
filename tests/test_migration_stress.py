"""Bucket migrations under load: worker threads, a simulated NIC, moves every few ms.

A seeded stream from the traffic generator is steered by the simulated
NIC's indirection table to four worker threads, each pushing its queue
through FlowIPManager -> FlowCounter -> a checking sink, while another
thread moves buckets the way DeviceBalancer does (pre_migrate per source
core, table write, post_migrate). The last tests let DeviceBalancer itself
move them, in a router running in simulated time next to the workers.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict

import numpy as np
import pytest

from pyclick.args import Args
from pyclick.element import Element
from pyclick.errors import Landmark
from pyclick.flow.state import state_of
from pyclick.packet import Packet
from pyclick.router import Router
from pyclick.rss.toeplitz import MICROSOFT_KEY
from pyclick.runtime.timers import Timer
from pyclick.sim.datapath import ThreadedDataPath
from pyclick.sim.nic import SimulatedNIC
from pyclick.sim.traffic import TrafficConfig, TrafficGenerator
from tests.helpers import configured_router

CORES = 4
RETA = 128
DURATION = 0.8           # seconds of traffic
WINDOW = 0.001           # injected (and paced against the mover) one window at a time
MIN_MOVES = 1000
MOVES_PER_ROUND = 4


class MigrationStressSink(Element):
    """MigrationStressSink() -- checks per-flow order in the flow state, records packet ids"""

    port_count = "1/0"

    def configure(self, args: Args) -> None:
        args.complete()
        self._local = threading.local()
        self.ids_per_thread: list[list[int]] = []
        self.out_of_order: list[tuple[tuple, int, int]] = []

    def push(self, port: int, batch: list[Packet]) -> None:
        ids = getattr(self._local, "ids", None)
        if ids is None:
            ids = self._local.ids = []
            self.ids_per_thread.append(ids)
        for packet in batch:
            state = state_of(packet)
            expected = state.get("next_seq", 0)
            if packet.anno["seq"] != expected:
                self.out_of_order.append((packet.flow, expected, packet.anno["seq"]))
            state["next_seq"] = packet.anno["seq"] + 1
            ids.append(packet.anno["id"])


#: The flow path every test drives: FlowIPManager -> FlowCounter -> checking sink.
FLOW_PATH = [("fim", "FlowIPManager", f"RETA_SIZE {RETA}, CHECK true, TIMEOUT 0"),
             ("fc", "FlowCounter", ""),
             ("sink", "MigrationStressSink", "")]
FLOW_CONNECTIONS = [("fim", 0, "fc", 0), ("fc", 0, "sink", 0)]


def build_router() -> Router:
    router = configured_router(FLOW_PATH, FLOW_CONNECTIONS, at=Landmark("stress.click", 1))
    router.initialize()
    return router


def started_path(nic: SimulatedNIC) -> tuple[Router, ThreadedDataPath]:
    """The flow path's router and a running data path from ``nic`` into its manager."""
    router = build_router()
    fim = router.element("fim")
    fim.init_assignment(nic.read_table())
    return router, ThreadedDataPath(nic, fim, managers=[fim]).start()


def assert_flows_whole(router: Router, per_flow: dict[tuple, int], sent: int,
                       moves: int) -> None:
    """Every packet arrived once, in order within its flow, and was counted
    with its flow; no table was used off its core; every move completed."""
    fim, fc, sink = (router.element(n) for n in ("fim", "fc", "sink"))
    ids = sorted(i for part in sink.ids_per_thread for i in part)
    assert ids == list(range(sent)), "packets lost or duplicated"
    assert sink.out_of_order == []
    counted = {key: fc.tally_of(state).packets for key, state in fim.flow_items()}
    assert counted == per_flow
    assert fim.check.violations == []
    assert int(router.handlers.read("fim.migrations")) == moves
    assert router.handlers.read("fim.pending") == "0"


def seeded_stream(traffic: TrafficGenerator) -> tuple[list[list[Packet]], dict[tuple, int]]:
    """Windows of packets, each packet numbered globally (id) and within its flow (seq)."""
    windows, per_flow, ident = [], defaultdict(int), 0
    for index in range(round(DURATION / WINDOW)):
        window = traffic.packets(index * WINDOW, WINDOW)
        for packet in window:
            packet.anno["id"] = ident
            packet.anno["seq"] = per_flow[packet.flow]
            per_flow[packet.flow] += 1
            ident += 1
        windows.append(window)
    return windows, dict(per_flow)


class Mover(threading.Thread):
    """Moves random buckets to random other cores, as a balancer tick would."""

    def __init__(self, nic: SimulatedNIC, fim: Element, seed: int) -> None:
        super().__init__(name="mover", daemon=True)
        self.nic, self.fim = nic, fim
        self.rng = random.Random(seed)
        self.moves = 0
        self.done = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.done.is_set():
                self.move_once()
                time.sleep(0.0005)
        except BaseException as err:
            self.error = err

    def move_once(self) -> None:
        old = self.nic.read_table()
        new = old.copy()
        leaving = defaultdict(list)
        for bucket in self.rng.sample(range(RETA), MOVES_PER_ROUND):
            new[bucket] = (old[bucket] + self.rng.randrange(1, CORES)) % CORES
            leaving[int(old[bucket])].append((bucket, int(new[bucket])))
        for source, moves in leaving.items():
            self.fim.pre_migrate(source, moves)
        self.nic.write_table(new)
        self.fim.post_migrate([(b, int(old[b]), int(new[b]))
                               for b in np.flatnonzero(new != old).tolist()])
        self.moves += MOVES_PER_ROUND


@pytest.fixture(scope="module")
def traffic_setup():
    config = TrafficConfig(seed=11, rate_pps=120_000, flows=1500, mean_lifetime=1.0)
    traffic = TrafficGenerator(config, MICROSOFT_KEY, RETA)
    nic = SimulatedNIC(CORES, RETA, traffic, capacity_pps=1e6, queue_packets=1024,
                       key=MICROSOFT_KEY)
    windows, per_flow = seeded_stream(traffic)
    return nic, windows, per_flow


def test_migrations_under_load_lose_nothing_and_keep_flows_whole(traffic_setup):
    nic, windows, per_flow = traffic_setup
    router, path = started_path(nic)
    mover = Mover(nic, router.element("fim"), seed=5)
    mover.start()
    try:
        for index, window in enumerate(windows):
            path.inject(window)
            # Spread the migrations over the whole stream.
            while mover.moves < MIN_MOVES * (index + 1) / len(windows) and mover.is_alive():
                time.sleep(0.0002)
    finally:
        mover.done.set()
        mover.join()
        path.wait_idle()
        path.stop()
    assert mover.error is None
    sent = sum(len(window) for window in windows)

    assert_flows_whole(router, per_flow, sent, mover.moves)
    assert mover.moves >= MIN_MOVES
    assert router.handlers.read("fim.parked") == "0"
    assert int(router.handlers.read("fim.parked_total")) > 0
    assert sum(path.processed) == sent
    assert min(path.processed) > 0


class HandOverOnTheCaller:
    """A broken fence: hands tables over at once, on the balancer's thread."""

    def fence(self, core, callback):
        callback()


def test_the_ownership_check_catches_a_hand_off_without_fence(traffic_setup):
    nic, windows, _ = traffic_setup
    router, path = started_path(nic)
    fim = router.element("fim")
    try:
        for window in windows[:50]:
            path.inject(window)
        path.wait_idle()
        fim.ownership.fence = HandOverOnTheCaller()
        Mover(nic, fim, seed=6).move_once()
        for window in windows[50:100]:
            path.inject(window)
        path.wait_idle()
    finally:
        path.stop()
    assert any("released a table another thread holds" in v for v in fim.check.violations)


class StressFeeder(Element):
    """StressFeeder() -- injects one window of packets into a data path every window"""

    port_count = "0/0"

    def initialize(self) -> None:
        self.timer = Timer(self, self.inject_next)
        self.timer.schedule_after(WINDOW)
        self.next_window = 0

    def inject_next(self) -> None:
        if self.next_window == len(self.windows):
            self.router.stop("stream done")
            return
        self.path.inject(self.windows[self.next_window])
        self.next_window += 1
        self.timer.reschedule_after(WINDOW)


def balanced_router(method: str, nic_extra: str = "") -> Router:
    elements = [
        ("fd", "SimNIC", f"CORES {CORES}, RETA_SIZE {RETA}, DURATION 0, PROGRESS 0, QUIET true"
                         + nic_extra),
        ("xdp", "SimCounter", "DEV fd"),
        ("db", "DeviceBalancer", f"METHOD {method}, DEV fd, RSSCOUNTER xdp, MANAGER fim, "
                                 f"RETA_SIZE {RETA}, TIMER 2, VERBOSE 0"),
        *FLOW_PATH,
        ("feeder", "StressFeeder", ""),
    ]
    return configured_router(elements, FLOW_CONNECTIONS, at=Landmark("balanced.click", 1))


@pytest.mark.parametrize("method, nic_extra, least_moves", [
    ("rssrr", "", MIN_MOVES),                                # every bucket moves every tick
    # RSS++ moves only what pays off: the stress is the rssrr case, this one
    # checks that its few migrations keep every flow whole too.
    ("rsspp", ", FLOWS 100, ELEPHANTS 8, LOAD 0.9", 1),
])
def test_devicebalancer_migrations_under_load(traffic_setup, method, nic_extra, least_moves):
    """DeviceBalancer, ticking every 2 ms of simulated time, moves the buckets."""
    _, windows, per_flow = traffic_setup
    router = balanced_router(method, nic_extra)
    fd, fim = router.element("fd"), router.element("fim")
    fim.init_assignment(fd.read_table())
    path = ThreadedDataPath(fd, fim, managers=[fim])
    feeder = router.element("feeder")
    feeder.path, feeder.windows = path, windows
    path.start()
    try:
        assert router.run(handle_signals=False) == 0
    finally:
        path.wait_idle()
        path.stop()
    sent = sum(len(window) for window in windows)
    moves = int(router.handlers.read("db.moves").split()[0])

    assert_flows_whole(router, per_flow, sent, moves)
    assert moves >= least_moves
