"""The threaded data path (pyclick.sim.datapath): steering, FIFO queues, counters."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from pyclick.args import Args
from pyclick.element import Element
from pyclick.errors import Landmark
from pyclick.flow.cores import current_core
from pyclick.lang.model import FlatConfig, FlatElement
from pyclick.packet import Packet
from pyclick.router import Router
from pyclick.rss.toeplitz import MICROSOFT_KEY
from pyclick.sim.datapath import DataPathError, ThreadedDataPath
from pyclick.sim.nic import SimulatedNIC
from pyclick.sim.traffic import TrafficConfig, TrafficGenerator


class DataPathRecorder(Element):
    """DataPathRecorder() -- records packet numbers in processing order, per core"""

    port_count = "1/0"

    def configure(self, args: Args) -> None:
        args.complete()
        self.lock = threading.Lock()
        self.by_core: dict[int, list[int]] = {}
        self.fail_on: int | None = None

    def push(self, port: int, batch: list[Packet]) -> None:
        core = current_core()
        for packet in batch:
            if packet.anno["n"] == self.fail_on:
                raise RuntimeError("element failure")
            with self.lock:
                self.by_core.setdefault(core, []).append(packet.anno["n"])


def recorder() -> DataPathRecorder:
    element = DataPathRecorder("rec", None, Landmark("dp.click", 1), "")
    element.configure(Args("", element))
    return element


def nic(cores: int = 3, reta: int = 16) -> SimulatedNIC:
    traffic = TrafficGenerator(TrafficConfig(seed=2), MICROSOFT_KEY, reta)
    return SimulatedNIC(cores, reta, traffic, capacity_pps=1e6, queue_packets=64,
                        key=MICROSOFT_KEY)


def numbered(count: int, seed: int, reta: int = 16) -> list[Packet]:
    rng = np.random.default_rng(seed)
    return [Packet(rss_hash=int(h), anno={"n": n})
            for n, h in enumerate(rng.integers(0, 2**32, count))]


def test_packets_go_to_the_core_the_table_names_in_fifo_order():
    device, sink = nic(), recorder()
    table = device.read_table()
    packets = numbered(2000, seed=1)
    with ThreadedDataPath(device, sink, burst=16) as path:
        path.inject(packets)
        path.wait_idle()
    for core, seen in sink.by_core.items():
        expected = [p.anno["n"] for p in packets if table[p.rss_hash % 16] == core]
        assert seen == expected
    assert path.processed == [len(sink.by_core[c]) for c in range(3)]


def test_a_table_write_applies_to_packets_steered_after_it():
    device, sink = nic(), recorder()
    packets = numbered(600, seed=2)
    with ThreadedDataPath(device, sink) as path:
        path.inject(packets[:300])
        device.write_table(np.zeros(16, np.int64))
        path.inject(packets[300:])
        path.wait_idle()
    assert set(range(300, 600)) <= set(sink.by_core[0])
    assert not any(n >= 300 for core in (1, 2) for n in sink.by_core.get(core, []))


def test_fence_runs_on_the_core_after_what_was_queued_before_it():
    device, sink = nic(), recorder()
    packets = numbered(500, seed=3)
    ran_on: list[tuple[int | None, int]] = []
    with ThreadedDataPath(device, sink) as path:
        path.inject(packets)
        path.fence(1, lambda: ran_on.append((current_core(), len(sink.by_core.get(1, [])))))
        path.wait_idle()
    assert ran_on == [(1, len(sink.by_core[1]))]


def test_bucket_counts_and_loads():
    device, sink = nic(), recorder()
    packets = numbered(1000, seed=4)
    with ThreadedDataPath(device, sink) as path:
        path.inject(packets)
        path.wait_idle()
        counts = path.read_counts()
        loads = path.read_loads([0, 1, 2])
        assert path.read_counts().sum() == 0
    expected = np.bincount([p.rss_hash % 16 for p in packets], minlength=16)
    assert counts.tolist() == expected.tolist()
    assert loads.shape == (3,) and ((loads >= 0) & (loads <= 1)).all() and loads.sum() > 0


def test_feed_injects_a_traffic_source_window_by_window():
    device, sink = nic(), recorder()
    traffic = TrafficGenerator(TrafficConfig(seed=9, rate_pps=50_000), MICROSOFT_KEY, 16)
    ticks: list[float] = []
    stamped = []

    class Numbering:
        def packets(self, t, dt):
            window = traffic.packets(t, dt)
            for p in window:
                p.anno["n"] = len(stamped)
                stamped.append(p)
            return window

    with ThreadedDataPath(device, sink) as path:
        injected = path.feed(Numbering(), 0.0, 0.01, 0.002, between=ticks.append)
        path.wait_idle()
    assert injected == len(stamped) > 0
    assert ticks == pytest.approx([0.002, 0.004, 0.006, 0.008, 0.01])
    assert sum(len(v) for v in sink.by_core.values()) == injected


def test_a_failing_worker_is_reported_when_stopping():
    device, sink = nic(), recorder()
    sink.fail_on = 10
    path = ThreadedDataPath(device, sink, backlog=8).start()
    with pytest.raises(DataPathError, match="element failure"):
        try:
            path.inject(numbered(5000, seed=5))
        finally:
            path.stop()


def test_a_flow_manager_must_count_buckets_like_the_device():
    router = Router(FlatConfig([FlatElement("fim", "FlowIPManager", "RETA_SIZE 64",
                                            Landmark("dp.click", 2))]), partial=True)
    router.configure()
    fim = router.element("fim")
    with pytest.raises(ValueError, match="the device has 16 buckets, a flow manager 64"):
        ThreadedDataPath(nic(), fim, managers=[fim]).start()
