"""FlowIPManager: per-flow state in one table per RSS bucket, migrated with the bucket."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, Hashable, Iterator, Sequence

from pyclick.args import BOOL, TIME, UNSIGNED, Args, shorten
from pyclick.element import Element, read_handler
from pyclick.flow.cores import current_core
from pyclick.flow.guard import CheckedFlowTable, OwnershipCheck
from pyclick.flow.key import flow_key
from pyclick.flow.ownership import BucketOwnership, CoreFence, CoreSlot, ImmediateFence
from pyclick.flow.state import FLOW_STATE, StateKind, parse_state_kind, state_of
from pyclick.flow.table import FlowTable
from pyclick.packet import Packet

if TYPE_CHECKING:
    import numpy as np

#: Tables are swept for idle flows this many times per TIMEOUT.
SWEEPS_PER_TIMEOUT = 4


def STATE(text: str, args: Args) -> StateKind:
    """A state kind (``pyclick.flow.state``); the errors quote the name, which may be long."""
    try:
        return parse_state_kind(text)
    except ValueError as err:
        raise ValueError(shorten(str(err), 200)) from None


class FlowIPManager(Element):
    """FlowIPManager(KEYWORDS) -- keeps per-flow state in one table per RSS bucket

    Description
    Gives every IP flow (5-tuple) a mutable state object, created on the
    flow's first packet, and attaches it to each packet as the flow_state
    annotation; elements downstream read it with
    pyclick.flow.state_of(packet). Flows are grouped by RSS bucket (the
    packet's RSS hash modulo RETA_SIZE). Each bucket's table belongs to the
    core whose queue the NIC steers the bucket to, and only that core's
    thread uses it, so the per-packet path takes no lock.
    Name it as DeviceBalancer's MANAGER: when the balancer moves a bucket,
    the old core first serves what it received before the table change,
    then hands the bucket's table to the new core; until then the new core
    parks the bucket's packets, and serves them in order right after the
    hand-off.
    Worker threads tell which core they serve with pyclick.flow.bind_core;
    a threaded data path (pyclick.sim.datapath) does this and attaches
    itself to the manager. Packets pushed by a thread bound to no core are
    served as if by their bucket's owner, which is right when one router
    thread, the manager's home thread, pushes them all: migrations are
    then applied on that thread, at once, between two batches.
    Packets without an IP 5-tuple, and new flows of a full table, leave on
    output 1 when it is connected and are dropped otherwise. Flows idle for
    TIMEOUT (in packet timestamps) are forgotten by their owner core.

    Keyword arguments
    RETA_SIZE -- buckets of the indirection table (as in DeviceBalancer), 1 to 65536; default 128
    CAPACITY -- most flows in one bucket's table, 1 to 2^24; default 65536
    TIMEOUT -- idle time after which a flow is forgotten, up to 1 day, 0 for never; default 60s
    STATE -- per-flow state: dict, bytes (RESERVE bytes) or a factory's dotted name; default dict
    RESERVE -- size in bytes of the STATE bytes area, 0 to 65536; default 0
    CHECK -- record flow-table uses breaking single ownership (slow); default false

    Element handlers
    count (read) -- flows in all tables
    flows (read) -- flows of each bucket, in bucket order, space separated
    owners (read) -- the core each bucket belongs to or is moving to
    pending (read) -- bucket moves announced or committed, table not yet at the new core
    migrations (read) -- bucket moves completed
    parked (read) -- packets parked now, waiting for their bucket's table
    parked_total (read) -- packets parked since the start
    expired (read) -- flows forgotten after TIMEOUT
    rejected (read) -- packets without a 5-tuple or refused by a full table
    violations (read) -- with CHECK true: the ownership violations found, one per line

    Example
    src :: FromDevice(eth0, ACTIVE true) -> fim :: FlowIPManager(RETA_SIZE 128, TIMEOUT 30s)
        -> FlowCounter -> Discard;
    DeviceBalancer(METHOD rsspp, DEV src, RSSCOUNTER xdp, MANAGER fim, RETA_SIZE 128);
    """

    port_count = "1/1-2"

    def configure(self, args: Args) -> None:
        reta_size = args.read("RETA_SIZE", UNSIGNED.range(1, 65536), 128)
        capacity = args.read("CAPACITY", UNSIGNED.range(1, 2**24), 65536)
        self.timeout: float = args.read("TIMEOUT", TIME.range(0, 86400), 60.0)
        kind: StateKind = args.read("STATE", STATE, StateKind("dict"))
        reserve = args.read("RESERVE", UNSIGNED.range(0, 65536), 0)
        checked = args.read("CHECK", BOOL, False)
        try:
            factory = kind.make_factory(reserve)
        except ValueError as err:
            args.error(str(err))
        args.complete()
        self.reta_size = reta_size
        self.check = OwnershipCheck() if checked else None
        if self.check is not None:
            tables = [CheckedFlowTable(b, capacity, factory, self.check) for b in range(reta_size)]
        else:
            tables = [FlowTable(b, capacity, factory) for b in range(reta_size)]
        self.ownership = BucketOwnership(tables, 1, self._serve)
        self.ownership.place([0] * reta_size)
        self._threaded = False

    # ---- the MigrationListener seam (called by DeviceBalancer)
    def init_assignment(self, table: np.ndarray | Sequence[int]) -> None:
        """Give each bucket's table to the core the device's table names."""
        cores = [int(core) for core in table]
        if self._threaded:
            # Worker threads are running: get there by migrations, which are
            # safe under traffic, instead of rebuilding every core's slot.
            self.ownership.commit(self.ownership.moves_to(cores))
        else:
            self.router.call_on_home(self, partial(self.ownership.place, cores))

    def pre_migrate(self, source_core: int, moves: list[tuple[int, int]]) -> None:
        self.ownership.announce(source_core, moves)

    def post_migrate(self, moves: list[tuple[int, int, int]]) -> None:
        if self._threaded:
            self.ownership.commit(moves)
        else:
            # Unbound packets are processed on the home thread: apply the
            # moves there, between two batches, whatever thread balances.
            self.router.call_on_home(self, partial(self._commit_at_once, moves))

    def _commit_at_once(self, moves: list[tuple[int, int, int]]) -> None:
        self.ownership.commit(moves)
        # The fence ran at once, and this thread serves every core: the
        # new owners adopt their tables right away.
        self._receive_all()

    # ---- the data path's side
    def attach(self, fence: CoreFence, cores: int) -> None:
        """Let a threaded data path serve ``cores`` cores; call before its threads start."""
        self.ownership.ensure_cores(cores)
        self.ownership.fence = fence
        self._threaded = True

    def detach(self) -> None:
        """Back to synchronous hand-offs, once the data path's threads are stopped."""
        self.ownership.fence = ImmediateFence()
        self._threaded = False

    def poll(self) -> None:
        """Adopt the tables handed to the calling thread's core and serve their parked packets.

        A worker thread calls this when its queue is empty, so that a table
        handed to an idle core does not wait for the core's next packet. An
        unbound thread adopts for every core.
        """
        core = current_core()
        if core is None:
            self._receive_all()
        else:
            self.ownership.receive(self.ownership.slots[core])

    def _receive_all(self) -> None:
        """Adopt on behalf of every core: only for a thread that serves them all."""
        for slot in self.ownership.slots:
            if slot.inbox:
                self.ownership.receive(slot)

    def pending(self) -> int:
        """Bucket moves whose table has not reached (and served at) its new core."""
        return self.ownership.pending()

    # ---- packets
    def push(self, port: int, batch: list[Packet]) -> None:
        core = current_core()
        if core is None:
            self._push_unbound(batch)
        else:
            self._push_bound(self.ownership.slots[core], batch)

    def _push_bound(self, slot: CoreSlot, batch: list[Packet]) -> None:
        # The per-core fast path: _push_unbound repeats this loop with a
        # per-packet owner lookup rather than slowing it down with one.
        ownership = self.ownership
        if slot.inbox:
            ownership.receive(slot)
        tables = slot.tables
        size = self.reta_size
        passed: list[Packet] = []
        rejected: list[Packet] = []
        for packet in batch:
            bucket = packet.rss_hash % size
            table = tables[bucket]
            if table is None:
                ownership.park(slot, bucket, packet)
            elif self._admit(table, packet):
                passed.append(packet)
            else:
                rejected.append(packet)
        self._emit(slot, passed, rejected)
        if batch:
            self._tick(slot, batch[-1].timestamp)

    def _push_unbound(self, batch: list[Packet]) -> None:
        """One thread serves every core: each packet is handled as its bucket's owner."""
        self._receive_all()
        ownership = self.ownership
        slots = ownership.slots
        owner = ownership.assignment
        size = self.reta_size
        passed: list[Packet] = []
        rejected: list[Packet] = []
        for packet in batch:
            bucket = packet.rss_hash % size
            slot = slots[owner[bucket]]
            table = slot.tables[bucket]
            if table is None:
                ownership.park(slot, bucket, packet)
            elif self._admit(table, packet):
                passed.append(packet)
            else:
                rejected.append(packet)
        self._emit(slots[0], passed, rejected)
        if batch:
            for slot in slots:
                self._tick(slot, batch[-1].timestamp)

    def _serve(self, slot: CoreSlot, table: FlowTable, packets: list[Packet]) -> None:
        """Serve packets that waited for ``table`` (called on the owner's thread)."""
        passed: list[Packet] = []
        rejected: list[Packet] = []
        for packet in packets:
            (passed if self._admit(table, packet) else rejected).append(packet)
        self._emit(slot, passed, rejected)

    @staticmethod
    def _admit(table: FlowTable, packet: Packet) -> bool:
        key = flow_key(packet)
        entry = table.lookup(key, packet.timestamp) if key is not None else None
        if entry is None:
            return False
        packet.anno[FLOW_STATE] = entry.state
        return True

    def _emit(self, slot: CoreSlot, passed: list[Packet], rejected: list[Packet]) -> None:
        if rejected:
            slot.rejected += len(rejected)
            self.output_push(1, rejected)
        if passed:
            self.output_push(0, passed)

    def _tick(self, slot: CoreSlot, now: float) -> None:
        """Advance the core's packet clock; sweep its tables when due."""
        if now > slot.clock:
            slot.clock = now
        if self.timeout > 0 and slot.clock >= slot.next_sweep:
            idle_since = slot.clock - self.timeout
            slot.expired += sum(table.expire(idle_since) for table in slot.owned())
            slot.next_sweep = slot.clock + self.timeout / SWEEPS_PER_TIMEOUT

    # ---- flow-state API
    @staticmethod
    def state_of(packet: Packet) -> Any:
        """The state of the packet's flow (see pyclick.flow.state_of)."""
        return state_of(packet)

    def flow_items(self) -> Iterator[tuple[Hashable, Any]]:
        """(key, state) of every flow, bucket by bucket; only while no packet flows."""
        for table in self.ownership.tables:
            yield from table.items()

    # ---- handlers
    @read_handler("count")
    def _read_count(self) -> str:
        return str(sum(len(table) for table in self.ownership.tables))

    @read_handler("flows")
    def _read_flows(self) -> str:
        return " ".join(str(len(table)) for table in self.ownership.tables)

    @read_handler("owners")
    def _read_owners(self) -> str:
        return " ".join(map(str, self.ownership.assignment))

    @read_handler("pending")
    def _read_pending(self) -> str:
        return str(self.pending())

    @read_handler("migrations")
    def _read_migrations(self) -> str:
        return str(self.ownership.completed())

    @read_handler("parked")
    def _read_parked(self) -> str:
        return str(self.ownership.parked_now())

    @read_handler("parked_total")
    def _read_parked_total(self) -> str:
        return str(self.ownership.parked_total())

    @read_handler("expired")
    def _read_expired(self) -> str:
        return str(sum(slot.expired for slot in self.ownership.slots))

    @read_handler("rejected")
    def _read_rejected(self) -> str:
        return str(sum(slot.rejected for slot in self.ownership.slots))

    @read_handler("violations")
    def _read_violations(self) -> str:
        if self.check is None:
            return ""
        return "\n".join(self.check.violations)
