"""Where a balancer's measures come from: its load source (CYCLES) and the CPUs' NUMA nodes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from pyclick.kernel.procstat import ProcStatLoad
from pyclick.kernel.topology import cpu_node, cpu_nodes
from pyclick.runtime.loads import NoLoadSource, ThreadBusyLoad, load_source


@dataclass
class Worker:
    cpu: int | None
    busy_seconds: float = 0.0


class Clock:
    def __init__(self) -> None:
        self.t = 10.0

    def __call__(self) -> float:
        return self.t


class OwnCores:
    """A device measuring its own cores."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def load_source(self, cycles: str):
        self.asked.append(cycles)
        return self

    def read_loads(self, cores) -> np.ndarray:
        return np.zeros(len(cores))


def test_thread_busy_load_is_the_busy_share_of_each_pinned_thread():
    clock = Clock()
    workers = [Worker(2, 1.0), Worker(3, 5.0), Worker(None, 7.0)]
    source = ThreadBusyLoad(workers, clock)
    clock.t = 10.1
    workers[0].busy_seconds = 1.05         # 0.05 s busy of 0.1 s
    workers[1].busy_seconds = 5.2          # more than the interval: capped at 1
    assert source.read_loads([2, 3, 4]) == pytest.approx([0.5, 1.0, 0.0])
    clock.t = 10.3
    workers[0].busy_seconds = 1.1          # 0.05 s of 0.2 s since the last read
    assert source.read_loads([2]) == pytest.approx([0.25])


def test_a_device_with_its_own_cores_answers_every_mode():
    device = OwnCores()
    for mode in ("realcpu", "cycles", "queue"):
        source, offset = load_source(mode, device, "sim", 5, [], Clock())
        assert source is device and offset == 0
    assert device.asked == ["realcpu", "cycles", "queue"]


def test_realcpu_reads_proc_stat_and_threads_read_the_pinned_workers():
    source, offset = load_source("realcpu", object(), "eth0", 5, [], Clock())
    assert isinstance(source, ProcStatLoad) and offset == 5
    source, offset = load_source("cpu", object(), "eth0", 2, [Worker(None), Worker(3)], Clock())
    assert isinstance(source, ThreadBusyLoad) and list(source.workers) == [3] and offset == 2


@pytest.mark.parametrize("mode, message", [
    ("cycles", "CYCLES cycles needs the busy time of router threads pinned to the balanced "
               "CPUs (StaticThreadSched or -j); use CYCLES realcpu"),
    ("cyclesqueue", "CYCLES cyclesqueue needs a device that reports its RX queue fill; "
                    "DEV 'eth0' does not (use CYCLES realcpu)"),
])
def test_modes_nothing_can_measure_are_refused(mode, message):
    with pytest.raises(NoLoadSource) as caught:
        load_source(mode, object(), "eth0", 0, [Worker(None)], Clock())
    assert str(caught.value) == message


def test_numa_node_of_each_cpu_from_sys(tmp_path):
    (tmp_path / "cpu0" / "node1").mkdir(parents=True)
    (tmp_path / "cpu1").mkdir()
    (tmp_path / "cpu1" / "topology").mkdir()
    assert cpu_node(0, tmp_path) == 1
    assert cpu_node(1, tmp_path) == 0       # no node link: a kernel without NUMA
    assert cpu_nodes([1, 0, 7], tmp_path) == [0, 1, 0]
