"""Bucket ownership and the hand-off of flow tables between cores.

Every bucket's flow table belongs to exactly one core at a time, and only
that core's worker thread touches it, so the per-packet path takes no lock.
When the balancer moves a bucket from core A to core B:

1. ``announce`` (pre_migrate) records the move; nothing changes yet.
2. The balancer writes the NIC's indirection table: packets of the bucket
   steered from now on land in B's queue, the earlier ones are in A's.
3. ``commit`` (post_migrate) asks the data path for a *fence* on A: a
   callback that A's thread runs once it has processed everything queued
   to A before the fence, i.e. every packet steered by the old table.
4. In that callback A removes the table from its own slot and appends the
   table to B's inbox.
5. B checks its inbox before each batch. Until the table arrives, B parks
   the bucket's packets (in arrival order); on adoption it replays them,
   then serves the bucket directly.

A bucket may move again before it reached its previous destination (A→B,
then B→C while A is still draining). B then parks a ``Forward(C)`` marker
behind the packets it parked so far: when the table finally reaches B, B
replays up to the marker and passes the table on to C. Packets B parks
after the marker (the bucket may even come back to B) wait for the table's
next visit, so each flow is always served in NIC arrival order.

Why no lock is needed (and which guarantees are relied upon):

- ``CoreSlot.tables`` and ``CoreSlot.parked`` are read and written only by
  the slot's own thread once packets flow; ``place`` fills them before the
  worker threads start (``Thread.start`` orders those writes before
  anything the thread does).
- The only cross-thread channel is ``CoreSlot.inbox``, a ``collections.deque``:
  ``append`` by the sending core and ``popleft`` by the receiving core are
  documented thread-safe. The sender stops using the table before it
  appends, the receiver starts using it after it pops, so at any moment a
  table is reachable from one thread at most.
- The fence is the data path's promise; ``pyclick.sim.datapath`` keeps it
  by steering (table read + enqueue) and fence insertion under one lock, so
  no packet steered by the old table can land behind the fence.
- New cores get a slot by ``list.append`` on the control thread (atomic);
  worker threads only index slots that already exist.
- Counters are written by a single thread each (the core, or the control
  thread for announcements); readers sum plain integer reads.

Nothing here depends on when the interpreter switches threads: the
ownership instrument (``pyclick.flow.guard``) checks the hand-offs
themselves, and the stress test runs it under concurrent migrations.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from functools import partial
from typing import Callable, Iterator, Protocol, Sequence

from pyclick.flow.table import FlowTable
from pyclick.packet import Packet


class CoreFence(Protocol):
    """What the data path must offer for tables to move safely."""

    def fence(self, core: int, callback: Callable[[], None]) -> None:
        """Run ``callback`` on ``core``'s thread after all packets queued to it so far."""


class ImmediateFence:
    """The fence of a single-threaded router: every queued packet is already processed.

    In a router whose one thread both runs the balancer and pushes packets
    synchronously, nothing is ever waiting in a queue when post_migrate
    runs, so the hand-off can happen at once.
    """

    def fence(self, core: int, callback: Callable[[], None]) -> None:
        callback()


@dataclass(frozen=True, slots=True)
class Forward:
    """A parked marker: when the table arrives, serve what is parked before me, then pass it on."""

    core: int


class CoreSlot:
    """Everything one core owns. Only the core's thread writes it, except ``inbox``."""

    __slots__ = ("core", "tables", "parked", "inbox", "adopted", "parked_now", "parked_total",
                 "expired", "rejected", "clock", "next_sweep")

    def __init__(self, core: int, buckets: int) -> None:
        self.core = core
        #: tables[bucket] is the bucket's table while this core owns it, else None.
        self.tables: list[FlowTable | None] = [None] * buckets
        #: Packets (and Forward markers) of buckets this core does not own yet.
        self.parked: dict[int, deque[Packet | Forward]] = {}
        #: Tables handed to this core; the only field other threads touch (append only).
        self.inbox: deque[FlowTable] = deque()
        self.adopted = 0
        self.parked_now = 0
        self.parked_total = 0
        self.expired = 0
        self.rejected = 0
        #: Latest packet time seen by this core, and when its tables are next swept.
        self.clock = 0.0
        self.next_sweep = 0.0

    def owned(self) -> Iterator[FlowTable]:
        """The tables this core owns now."""
        return (table for table in self.tables if table is not None)


#: Serves packets of a bucket the core owns: (slot, table, packets in order).
Serve = Callable[[CoreSlot, FlowTable, list[Packet]], None]


class BucketOwnership:
    """Which core owns which bucket's table, and the moves between them."""

    def __init__(self, tables: Sequence[FlowTable], cores: int, serve: Serve) -> None:
        self.tables = list(tables)
        self.slots = [CoreSlot(core, len(self.tables)) for core in range(cores)]
        #: The owner each bucket has or is on its way to (the committed table).
        self.assignment = [0] * len(self.tables)
        self.fence: CoreFence = ImmediateFence()
        self._serve = serve
        self._announced: dict[int, int] = {}
        self._committed = 0

    # ---- control side: the balancer's thread
    def ensure_cores(self, cores: int) -> None:
        """Have a slot for cores 0..cores-1 (control thread only).

        Worker threads only index slots that exist; appending to a list is
        atomic, so slots may be added while packets flow.
        """
        while len(self.slots) < cores:
            self.slots.append(CoreSlot(len(self.slots), len(self.tables)))

    def place(self, assignment: Sequence[int]) -> None:
        """Give every bucket's table to its core; only while no packet flows."""
        if len(assignment) != len(self.tables):
            raise ValueError(f"the table has {len(assignment)} buckets, "
                             f"the flow manager {len(self.tables)} (RETA_SIZE)")
        if self.pending() or self.parked_now():
            raise ValueError("cannot re-assign buckets while migrations are in flight")
        if min(assignment, default=0) < 0:
            raise ValueError("the table names a negative core")
        self.ensure_cores(max(assignment, default=0) + 1)
        for slot in self.slots:
            slot.tables = [None] * len(self.tables)
            slot.parked.clear()
        for bucket, core in enumerate(assignment):
            self.slots[core].tables[bucket] = self.tables[bucket]
            self.tables[bucket].placed(core)
        self.assignment = [int(core) for core in assignment]

    def moves_to(self, assignment: Sequence[int]) -> list[tuple[int, int, int]]:
        """The moves (bucket, old, new) that turn the current assignment into ``assignment``."""
        if len(assignment) != len(self.tables):
            raise ValueError(f"the table has {len(assignment)} buckets, "
                             f"the flow manager {len(self.tables)} (RETA_SIZE)")
        return [(bucket, old, int(new)) for bucket, (old, new)
                in enumerate(zip(self.assignment, assignment)) if old != new]

    def announce(self, source_core: int, moves: Sequence[tuple[int, int]]) -> None:
        """pre_migrate: ``moves`` (bucket, new_core) will leave ``source_core``."""
        moves = [(int(bucket), int(new_core)) for bucket, new_core in moves]
        for bucket, new_core in moves:
            self._check_move(bucket, source_core, new_core)
        for bucket, new_core in moves:
            self._announced[bucket] = new_core

    def commit(self, moves: Sequence[tuple[int, int, int]]) -> None:
        """post_migrate: the device now steers ``moves`` (bucket, old, new) to the new cores."""
        moves = [(int(bucket), int(old), int(new)) for bucket, old, new in moves]
        buckets = [bucket for bucket, _, _ in moves]
        if len(set(buckets)) != len(buckets):
            raise ValueError("a bucket appears twice in one migration")
        for bucket, old_core, new_core in moves:
            self._check_move(bucket, old_core, new_core)
        self.ensure_cores(max((new for _, _, new in moves), default=0) + 1)
        by_source: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for bucket, old_core, new_core in moves:
            if old_core != new_core:
                self.assignment[bucket] = new_core
                by_source[old_core].append((bucket, new_core))
                self._committed += 1
        # Announced moves the balancer did not commit were given up.
        self._announced.clear()
        for source_core, leaving in by_source.items():
            self.fence.fence(source_core, partial(self._hand_over_on, source_core, leaving))

    def _check_move(self, bucket: int, old_core: int, new_core: int) -> None:
        if not 0 <= bucket < len(self.tables):
            raise ValueError(f"bucket {bucket} is outside the table (RETA_SIZE {len(self.tables)})")
        if new_core < 0:
            raise ValueError(f"bucket {bucket} cannot move to core {new_core}")
        if self.assignment[bucket] != old_core:
            raise ValueError(f"bucket {bucket} is on core {self.assignment[bucket]}, "
                             f"not on core {old_core}")

    # ---- core side: each function runs on the thread of the slot it is given
    def receive(self, slot: CoreSlot) -> None:
        """Adopt the tables handed to this core and serve what was parked for them."""
        inbox = slot.inbox
        while inbox:
            table = inbox.popleft()
            slot.tables[table.bucket] = table
            table.adopted(slot.core)
            self._replay(slot, table)
            # Counted once the parked packets are served, so that a reader
            # seeing no pending move also sees every replay finished.
            slot.adopted += 1

    def park(self, slot: CoreSlot, bucket: int, packet: Packet) -> None:
        """Keep a packet of a bucket this core does not own yet."""
        self._queue_for(slot, bucket).append(packet)
        slot.parked_now += 1
        slot.parked_total += 1

    def hand_over(self, slot: CoreSlot, leaving: Sequence[tuple[int, int]]) -> None:
        """The fence of a migration was reached: pass each bucket on, or promise to."""
        self.receive(slot)
        for bucket, new_core in leaving:
            table = slot.tables[bucket]
            if table is not None:
                self._give(slot, table, new_core)
            else:
                self._queue_for(slot, bucket).append(Forward(new_core))

    def _hand_over_on(self, core: int, leaving: Sequence[tuple[int, int]]) -> None:
        self.hand_over(self.slots[core], leaving)

    @staticmethod
    def _queue_for(slot: CoreSlot, bucket: int) -> deque[Packet | Forward]:
        queue = slot.parked.get(bucket)
        if queue is None:
            queue = slot.parked[bucket] = deque()
        return queue

    def _replay(self, slot: CoreSlot, table: FlowTable) -> None:
        """Serve the packets parked for a just adopted table, up to a Forward marker."""
        queue = slot.parked.get(table.bucket)
        if queue is None:
            return
        run: list[Packet] = []
        forward: Forward | None = None
        while queue:
            item = queue.popleft()
            if isinstance(item, Forward):
                forward = item
                break
            run.append(item)
        if not queue:
            del slot.parked[table.bucket]
        slot.parked_now -= len(run)
        if run:
            self._serve(slot, table, run)
        if forward is not None:
            self._give(slot, table, forward.core)

    def _give(self, slot: CoreSlot, table: FlowTable, new_core: int) -> None:
        slot.tables[table.bucket] = None
        table.released(slot.core)
        # From here on this thread no longer refers to the table; the append
        # publishes it to the new owner.
        self.slots[new_core].inbox.append(table)

    # ---- statistics, readable from any thread
    def completed(self) -> int:
        """Moves whose table reached its new owner."""
        return sum(slot.adopted for slot in self.slots)

    def pending(self) -> int:
        """Moves announced or committed whose table has not reached its new owner."""
        # Completions never outrun commits, so reading them first keeps the
        # difference from going negative while the control thread commits.
        done = self.completed()
        return len(self._announced) + self._committed - done

    def parked_now(self) -> int:
        return sum(slot.parked_now for slot in self.slots)

    def parked_total(self) -> int:
        return sum(slot.parked_total for slot in self.slots)
