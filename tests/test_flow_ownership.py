"""The hand-off protocol of FlowIPManager, step by step on one thread.

A model data path keeps one FIFO queue per core, as the threaded data path
does, but the test decides which core takes its next item (seeded), so
every interleaving is reproducible. The test thread binds itself to the
core it is acting as before each step.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Callable

import pytest

from pyclick.args import Args
from pyclick.element import Element
from pyclick.elements.flowipmanager import FlowIPManager
from pyclick.errors import Landmark
from pyclick.flow.cores import bind_core
from pyclick.flow.state import state_of
from pyclick.lang.model import FlatConfig, FlatConnection, FlatElement
from pyclick.packet import Packet
from pyclick.router import Router


class OwnershipTestSink(Element):
    """OwnershipTestSink() -- records each flow's sequence numbers in processing order"""

    port_count = "1/0"

    def configure(self, args: Args) -> None:
        args.complete()
        self.seen: list[tuple[int, int]] = []  # (flow id, seq)
        self.out_of_order: list[tuple[int, int, int]] = []

    def push(self, port: int, batch: list[Packet]) -> None:
        for packet in batch:
            state = state_of(packet)
            expected = state.get("next", 0)
            if packet.anno["seq"] != expected:
                self.out_of_order.append((packet.anno["id"], expected, packet.anno["seq"]))
            state["next"] = packet.anno["seq"] + 1
            self.seen.append((packet.anno["id"], packet.anno["seq"]))


def manager(config: str = "RETA_SIZE 8, CHECK true"
            ) -> tuple[FlowIPManager, OwnershipTestSink]:
    here = Landmark("test.click", 1)
    router = Router(FlatConfig([FlatElement("fim", "FlowIPManager", config, here),
                                FlatElement("sink", "OwnershipTestSink", "", here)],
                               [FlatConnection("fim", 0, "sink", 0, here)]), partial=True)
    router.configure()
    return router.element("fim"), router.element("sink")


class ModelPath:
    """FIFO queues per core fed through a table; the caller steps the cores."""

    def __init__(self, fim: FlowIPManager, table: list[int], cores: int) -> None:
        self.fim = fim
        self.table = list(table)
        self.queues: list[deque[Packet | Callable[[], None]]] = [deque() for _ in range(cores)]
        fim.init_assignment(self.table)
        fim.attach(self, cores)

    def fence(self, core: int, callback: Callable[[], None]) -> None:
        self.queues[core].append(callback)

    def steer(self, packet: Packet) -> None:
        self.queues[self.table[packet.rss_hash % len(self.table)]].append(packet)

    def move(self, moves: dict[int, int]) -> None:
        """Move buckets as DeviceBalancer does: pre_migrate, write, post_migrate."""
        by_source: dict[int, list[tuple[int, int]]] = {}
        for bucket, new in moves.items():
            by_source.setdefault(self.table[bucket], []).append((bucket, new))
        for source, leaving in by_source.items():
            self.fim.pre_migrate(source, leaving)
        old = list(self.table)
        for bucket, new in moves.items():
            self.table[bucket] = new
        self.fim.post_migrate([(bucket, old[bucket], new) for bucket, new in moves.items()])

    def step(self, core: int) -> bool:
        if not self.queues[core]:
            return False
        item = self.queues[core].popleft()
        bind_core(core)
        try:
            if isinstance(item, Packet):
                self.fim.push(0, [item])
            else:
                item()
        finally:
            bind_core(None)
        return True

    def drain(self) -> None:
        """Serve every queue, then let idle cores poll until no table is travelling."""
        for _ in range(len(self.fim.ownership.tables) * len(self.queues) + 1):
            while any([self.step(core) for core in range(len(self.queues))]):
                pass
            if self.fim.pending() == 0:
                return
            for core in range(len(self.queues)):
                bind_core(core)
                self.fim.poll()
                bind_core(None)
        raise AssertionError("tables still travelling after every core polled")


def packet(flow: int, seq: int, bucket: int, ident: int = 0) -> Packet:
    return Packet(data=b"\0" * 60, timestamp=0.0, rss_hash=bucket,
                  flow=("10.0.0.1", "10.0.0.2", flow, 80, 6), anno={"seq": seq, "id": flow})


def handler(fim: FlowIPManager, name: str) -> str:
    return getattr(fim, fim.read_handlers[name])()


def test_new_owner_parks_until_the_old_owner_reaches_the_fence():
    fim, sink = manager()
    path = ModelPath(fim, [0] * 8, cores=2)
    path.steer(packet(1, 0, bucket=3))
    path.move({3: 1})
    path.steer(packet(1, 1, bucket=3))
    path.steer(packet(1, 2, bucket=3))
    assert path.step(1) and path.step(1)          # core 1 gets the later packets first
    assert sink.seen == [] and handler(fim, "parked") == "2"
    assert handler(fim, "pending") == "1"
    assert path.step(0)                            # core 0 serves the earlier packet
    assert sink.seen == [(1, 0)]
    assert path.step(0)                            # the fence: core 0 hands the table over
    assert sink.seen == [(1, 0)]
    path.drain()                                   # core 1 adopts and replays
    assert sink.seen == [(1, 0), (1, 1), (1, 2)]
    assert handler(fim, "parked") == "0" and handler(fim, "parked_total") == "2"
    assert handler(fim, "pending") == "0" and handler(fim, "migrations") == "1"
    assert handler(fim, "owners") == "0 0 0 1 0 0 0 0"
    assert sink.out_of_order == [] and fim.check.violations == []


def test_a_second_move_before_the_first_hand_off_forwards_the_table():
    fim, sink = manager()
    path = ModelPath(fim, [0] * 8, cores=3)
    path.steer(packet(7, 0, bucket=5))            # queued on core 0
    path.move({5: 1})
    path.steer(packet(7, 1, bucket=5))            # queued on core 1
    path.move({5: 2})
    path.steer(packet(7, 2, bucket=5))            # queued on core 2
    path.step(2)                                   # parked on core 2
    path.step(1)                                   # parked on core 1
    path.step(1)                                   # core 1's fence: it owes the table to core 2
    path.step(2)                                   # nothing arrived yet: stays parked
    assert sink.seen == []
    path.drain()
    assert sink.seen == [(7, 0), (7, 1), (7, 2)]
    assert handler(fim, "migrations") == "2" and handler(fim, "pending") == "0"
    assert sink.out_of_order == [] and fim.check.violations == []


def test_a_bucket_coming_back_waits_for_its_table_behind_older_packets():
    fim, sink = manager()
    path = ModelPath(fim, [0] * 8, cores=2)
    path.move({2: 1})                              # fence on core 0 not reached yet
    path.steer(packet(4, 0, bucket=2))            # core 1, parked
    path.move({2: 0})                              # back to core 0, fence on core 1
    path.steer(packet(4, 1, bucket=2))            # core 0, behind its own fence
    path.step(1)
    path.step(1)                                   # core 1: Forward(0) behind packet 0
    path.step(0)                                   # core 0's fence: table leaves for core 1
    path.step(0)                                   # packet 1 arrives: parked on core 0
    assert sink.seen == []
    path.drain()
    assert sink.seen == [(4, 0), (4, 1)]
    assert sink.out_of_order == [] and fim.check.violations == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_interleavings_keep_every_flow_whole_and_in_order(seed):
    rng = random.Random(seed)
    cores, buckets, flows = 4, 16, 60
    fim, sink = manager(f"RETA_SIZE {buckets}, CHECK true")
    path = ModelPath(fim, [b % cores for b in range(buckets)], cores)
    flow_bucket = [rng.randrange(buckets) for _ in range(flows)]
    sent = [0] * flows
    moves = 0
    for _ in range(6000):
        action = rng.random()
        if action < 0.45:
            flow = rng.randrange(flows)
            path.steer(packet(flow, sent[flow], flow_bucket[flow]))
            sent[flow] += 1
        elif action < 0.52:
            chosen = rng.sample(range(buckets), rng.randint(1, 3))
            path.move({b: (path.table[b] + rng.randrange(1, cores)) % cores for b in chosen})
            moves += len(chosen)
        else:
            path.step(rng.randrange(cores))
    path.drain()
    assert moves > 500
    assert sink.out_of_order == []
    assert fim.check.violations == []
    assert sorted(sink.seen) == sorted((f, s) for f in range(flows) for s in range(sent[f]))
    assert handler(fim, "pending") == "0" and handler(fim, "parked") == "0"
    assert handler(fim, "migrations") == str(moves)
    assert int(handler(fim, "parked_total")) > 0


def test_pre_migrate_must_name_the_current_owner():
    fim, _ = manager()
    ModelPath(fim, [0] * 8, cores=2)
    with pytest.raises(ValueError, match="bucket 3 is on core 0, not on core 1"):
        fim.pre_migrate(1, [(3, 0)])


def test_post_migrate_refuses_inconsistent_moves_without_changing_anything():
    fim, _ = manager()
    ModelPath(fim, [0] * 8, cores=2)
    with pytest.raises(ValueError, match="appears twice"):
        fim.post_migrate([(1, 0, 1), (1, 0, 1)])
    with pytest.raises(ValueError, match="outside the table"):
        fim.post_migrate([(1, 0, 1), (9, 0, 1)])
    with pytest.raises(ValueError, match="cannot move to core -1"):
        fim.post_migrate([(1, 0, -1)])
    assert handler(fim, "owners") == "0 0 0 0 0 0 0 0"
    assert handler(fim, "pending") == "0"


def test_announced_moves_count_as_pending_until_handed_over():
    fim, _ = manager()
    path = ModelPath(fim, [0] * 8, cores=2)
    fim.pre_migrate(0, [(1, 1), (2, 1)])
    assert handler(fim, "pending") == "2"
    path.table[1] = 1
    fim.post_migrate([(1, 0, 1)])                  # the balancer gave up moving bucket 2
    assert handler(fim, "pending") == "1"
    path.drain()
    assert handler(fim, "pending") == "0" and handler(fim, "migrations") == "1"


def test_assignment_must_match_the_table_size_and_not_change_mid_migration():
    fim, _ = manager()
    with pytest.raises(ValueError, match="the table has 4 buckets, the flow manager 8"):
        fim.init_assignment([0, 1, 0, 1])
    fim.init_assignment([0] * 8)
    fim.pre_migrate(0, [(0, 1)])
    with pytest.raises(ValueError, match="in flight"):
        fim.init_assignment([1] * 8)


def test_moving_to_a_core_never_seen_before_adds_it():
    fim, sink = manager()
    path = ModelPath(fim, [0] * 8, cores=2)
    path.queues.append(deque())                    # the device grew a queue
    path.move({6: 2})
    path.steer(packet(3, 0, bucket=6))
    path.drain()
    assert sink.seen == [(3, 0)] and fim.check.violations == []


def test_a_new_assignment_while_threads_run_is_reached_by_migrations():
    fim, sink = manager()
    path = ModelPath(fim, [0] * 8, cores=2)
    path.steer(packet(1, 0, bucket=4))
    path.table = [1] * 8                           # the device was rewritten
    fim.init_assignment(path.table)
    assert handler(fim, "pending") == "8"
    path.steer(packet(1, 1, bucket=4))
    path.drain()
    assert sink.seen == [(1, 0), (1, 1)] and sink.out_of_order == []
    assert handler(fim, "owners") == "1 1 1 1 1 1 1 1" and handler(fim, "migrations") == "8"
    assert fim.check.violations == []
