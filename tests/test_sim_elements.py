"""SimNIC and SimCounter inside a router, in simulated time."""

from __future__ import annotations

import numpy as np
import pytest

from pyclick.args import ELEMENT, TIME, Args
from pyclick.element import Element
from pyclick.errors import Landmark
from pyclick.packet import Packet
from pyclick.router import Router
from pyclick.rss.toeplitz import address_bytes
from pyclick.runtime.timers import Timer
from pyclick.seams import (BucketCounter, LoadSource, MoveListener, OwnLoadSource,
                           QueueDescription, ResizableTable, RssDevice)
from pyclick.sim.flows import TCP, build_frame
from pyclick.sim.pcap import write_pcap
from tests.helpers import config_error_of, configured_router

LANDMARK = Landmark("sim.click", 4)


class SimTestSink(Element):
    """SimTestSink() -- keeps every packet it receives"""

    port_count = "1/0"

    def initialize(self) -> None:
        self.packets: list[Packet] = []

    def push(self, port: int, batch: list[Packet]) -> None:
        self.packets.extend(batch)


class SimTestMover(Element):
    """SimTestMover(DEV, COUNTER, EVERY) -- moves the busiest bucket to the idlest core"""

    def configure(self, args: Args) -> None:
        self.dev = args.read_mp("DEV", ELEMENT)
        self.counter = args.read_mp("COUNTER", ELEMENT)
        self.every = args.read("EVERY", TIME, 0.1)
        args.complete()

    def initialize(self) -> None:
        self.moves = 0
        self.counted = 0
        self.loads: list[np.ndarray] = []
        self.source = self.dev.load_source("realcpu")
        self.timer = Timer(self, self.tick)
        self.timer.schedule_after(self.every)

    def tick(self) -> None:
        counts = self.counter.read_counts()
        self.counted += int(counts.sum())
        loads = self.source.read_loads(range(self.dev.queue_count()))
        self.loads.append(loads)
        table = self.dev.read_table()
        table[int(np.argmax(counts))] = int(np.argmin(loads))
        self.dev.write_table(table)
        self.moves += 1
        self.dev.moves_applied(self.name, 1)
        self.timer.reschedule_after(self.every)


def build(elements, connections=()) -> Router:
    return configured_router(elements, connections, at=LANDMARK)


def nic_router(config: str, *extra, sink: str = "Discard") -> Router:
    return build([("fd", "SimNIC", config), ("out", sink, ""),
                  ("xdp", "SimCounter", "DEV fd"), *extra], [("fd", 0, "out", 0)])


def config_errors(*elements) -> str:
    return str(config_error_of(build, list(elements)))


def test_runs_in_simulated_time_for_its_duration_then_stops(capsys):
    router = nic_router("CORES 4, DURATION 3, CAPACITY 100000, LOAD 0.5")
    assert router.simtime
    assert router.run(handle_signals=False) == 0
    assert "3 simulated seconds done" in router.stop_reason
    out = capsys.readouterr().out
    progress = [line for line in out.splitlines() if line.startswith("fd ")]
    assert len(progress) == 3
    assert "imbalance" in progress[0] and "load 0." in progress[0]
    assert "fd: summary" in out and "median" in out
    handlers = router.handlers
    assert handlers.read("fd.time") == "3.000000"
    assert 0 < float(handlers.read("fd.imbalance")) < 5
    loads = [float(x) for x in handlers.read("fd.loads").split()]
    assert len(loads) == 4 and all(0.3 < x < 0.8 for x in loads)
    assert handlers.read("fd.drops") == "0"
    assert len(handlers.read("fd.table").split()) == 128
    counts = [int(x) for x in handlers.read("fd.counts").split()]
    assert sum(counts) == pytest.approx(3 * 0.5 * 4 * 100_000, rel=0.05)
    assert "simulated seconds: 3" in handlers.read("fd.stats")
    assert handlers.read("xdp.dev") == "fd"
    # A core of 100,000 packets/s serves one every 10 µs; at half load
    # nearly every packet finds its queue empty.
    words = handlers.read("fd.latency").split()
    assert words[0::2] == ["p50", "p95", "p99"]
    assert float(words[1]) == pytest.approx(10.0, rel=0.01)
    assert float(words[1]) <= float(words[3]) <= float(words[5])
    summary = out.split("fd: summary\n", 1)[1]
    assert "latency p50 10.0 µs" in summary and "on a static RSS table" in summary


def test_simulated_cores_are_never_missing_from_the_machine():
    # The machine running the test has fewer than 64 CPUs; a simulated
    # configuration's CPUs are simulated.
    router = nic_router("CORES 4, DURATION 1, QUIET true", ("s", "StaticThreadSched", "out 63"))
    assert router.warnings == []
    assert router.cpu_of(router.element("out")) == 63


def test_quiet_prints_nothing(capsys):
    router = nic_router("CORES 2, DURATION 2, QUIET true")
    router.run(handle_signals=False)
    assert capsys.readouterr().out == ""


def test_same_seed_same_run():
    results = []
    for _ in range(2):
        router = nic_router("CORES 4, DURATION 2, SEED 7, QUIET true")
        router.run(handle_signals=False)
        results.append(router.handlers.read("fd.counts"))
    assert results[0] == results[1]


def test_device_seams_through_the_elements():
    router = nic_router("CORES 4, DURATION 2, QUIET true")
    fd, xdp = router.element("fd"), router.element("xdp")
    assert isinstance(fd, RssDevice) and isinstance(xdp, BucketCounter)
    for capability in (OwnLoadSource, ResizableTable, QueueDescription, MoveListener):
        assert isinstance(fd, capability)
    for mode in ("realcpu", "cycles", "cpu", "queue", "cyclesqueue"):
        assert isinstance(fd.load_source(mode), LoadSource)
    with pytest.raises(ValueError, match="unknown CYCLES"):
        fd.load_source("jiffies")
    fd.set_reta_size(512)
    assert fd.reta_size() == 512 and xdp.read_counts().shape == (512,)
    with pytest.raises(ValueError, match="64 to 2048"):
        fd.set_reta_size(32)
    assert fd.describe_queues() == ("SimNIC 'fd' simulates 4 cores; its CORES sets the count")


def test_a_balancer_reads_and_steers_the_model_at_its_ticks(capsys):
    router = nic_router("CORES 4, DURATION 2, CAPACITY 100000, LOAD 0.5",
                        ("mover", "SimTestMover", "DEV fd, COUNTER xdp, EVERY 100ms"))
    router.run(handle_signals=False)
    mover, fd = router.element("mover"), router.element("fd")
    # Ticks at 0.1 .. 2 s: the mover's chain of periods, set while
    # initializing, ranks before the NIC's wakeup due at 2 s, set at 1.x s.
    assert mover.moves == 20
    # Every packet counted up to the last tick, none twice.
    assert mover.counted == fd.nic.bucket_totals.sum() - fd.read_counts().sum()
    assert all(((0 < loads) & (loads <= 1)).all() for loads in mover.loads)
    assert fd.nic.stats.buckets_moved > 0
    progress = capsys.readouterr().out.splitlines()
    # At 1 s the mover has ticked ten times, give or take the tick due at 1 s.
    assert progress[0].split("mover.moves ")[1] in ("9", "10")
    assert progress[1].endswith(f"mover.moves {mover.moves}")


def test_table_handler_writes_steer_traffic():
    router = nic_router("CORES 2, DURATION 1, QUIET true")
    router.handlers.write("fd.table", " ".join(["1"] * 128))
    router.run(handle_signals=False)
    fd = router.element("fd")
    assert fd.nic.received_total[0] == 0 and fd.nic.received_total[1] > 0
    from pyclick.runtime.handlers import HandlerError
    with pytest.raises(HandlerError):
        router.handlers.write("fd.table", "0 1 x")


def test_packet_mode_emits_what_the_model_counts():
    router = nic_router("CORES 4, RATE 20000, DURATION 50ms, PACKETS true, QUIET true",
                        sink="SimTestSink")
    router.run(handle_signals=False)
    fd, sink = router.element("fd"), router.element("out")
    assert len(sink.packets) == fd.nic.received_total.sum() > 500
    table = fd.nic.read_table()
    for packet in sink.packets[:50]:
        assert packet.anno["rx_queue"] == table[packet.rss_hash % 128]
        assert packet.flow is not None
    times = [p.timestamp for p in sink.packets]
    assert times == sorted(times) and times[-1] < 0.05


def test_pcap_replay_runs_for_the_captures_length(tmp_path, capsys):
    frames = [(10.0 + i * 0.01, build_frame(address_bytes("10.0.0.1"),
                                            address_bytes(f"10.0.1.{i % 7}"), 1000 + i, 80, TCP))
              for i in range(200)]
    path = tmp_path / "replay.pcap"
    write_pcap(path, frames)
    router = nic_router(f"CORES 2, PCAP {path}, PROGRESS 0")
    router.run(handle_signals=False)
    fd = router.element("fd")
    assert fd.nic.received_total.sum() == 200
    assert fd.nic.now == pytest.approx(1.991)
    assert "fd: summary" in capsys.readouterr().out


def test_a_simnic_anywhere_puts_the_whole_configuration_in_simulated_time():
    from pyclick.lang import flatten

    for text in ("fd :: FromDevice(lo, ACTIVE true) -> Discard; SimNIC(QUIET true)",
                 "SimNIC(QUIET true); fd :: FromDevice(lo, ACTIVE true) -> Discard"):
        router = Router(flatten(text, "swap.click"))
        assert router.simtime
        error = config_error_of(router.configure)
        assert error.messages == ["swap.click:1: While configuring 'fd :: FromDevice': ACTIVE "
                                  "true receives live packets and cannot run in simulated time"]


def test_argument_mistakes_are_reported_with_their_keyword():
    text = config_errors(("fd", "SimNIC", "CORES 0, RETA_SIZE 5, KEY 0011, LOAD 1, RATE 5, "
                                          "STEP 3ms, FLOWS 0, QUEUE 0, PROGRESS 5ms, BOGUS 1"))
    for expected in ["sim.click:4: While configuring 'fd :: SimNIC': CORES: must be at least 1",
                     "RETA_SIZE: must be at least 64 and at most 2048, got '5'",
                     "KEY: must have at least 40 bytes, got 2",
                     "LOAD and RATE are mutually exclusive",
                     "STEP: must divide one second evenly",
                     "FLOWS: must be at least 1",
                     "QUEUE: must be at least 1",
                     "PROGRESS: must be 0 s or at least 0.01 s and at most 86400 s, got '5ms'",
                     "BOGUS: unknown keyword"]:
        assert expected in text


def test_file_mistakes_are_reported(tmp_path):
    missing = config_errors(("fd", "SimNIC", f"PCAP {tmp_path}/nothing.pcap"))
    assert "PCAP: cannot read" in missing and "No such file" in missing
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"not a capture at all, really not")
    assert "PCAP: " in config_errors(("fd", "SimNIC", f"PCAP {junk}"))
    assert "SHIFT_AT applies to synthetic traffic" in config_errors(
        ("fd", "SimNIC", f"PCAP {junk}, SHIFT_AT 5"))


def test_counter_needs_a_simnic():
    text = config_errors(("d", "Discard", ""), ("xdp", "SimCounter", "DEV d"))
    assert "DEV: 'd' is a Discard, expected a SimNIC" in text
    assert "DEV: missing mandatory argument" in config_errors(("xdp", "SimCounter", ""))


def test_manuals_follow_the_house_format():
    from pyclick.elements.simnic import SimCounter, SimNIC
    for cls in (SimNIC, SimCounter):
        doc = cls.__doc__
        assert doc.splitlines()[0].startswith(cls.__name__ + "(") and " -- " in doc
        for section in ("Description", "Keyword arguments", "Element handlers", "Example"):
            assert f"\n    {section}\n" in doc
