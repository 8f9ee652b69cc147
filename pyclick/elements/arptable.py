"""ARPTable: IP-to-Ethernet entries, and the packets waiting for them, that
ARPQuerier elements keep (each its own, or one ARPTable's shared)."""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

from pyclick.args import TIME, UNSIGNED, Args
from pyclick.element import Element, read_handler, write_handler
from pyclick.elements.handlercall import parse_value
from pyclick.elements.inet import ETHERADDR, IPADDR, unparse_ether, unparse_ip
from pyclick.packet import Packet
from pyclick.runtime.timers import Timer

BROADCAST_ETHER = b"\xff" * 6
_COUNT = UNSIGNED.range(0, 1 << 24)
_SLIM_FACTOR = UNSIGNED.range(1, 1 << 24)
#: The longest timeout accepted: a year.
TIMEOUT = TIME.range(0, 365 * 86400.0)


@dataclass
class Neighbor:
    """What is known of one IP address."""

    #: When the entry was made, or its Ethernet address learned (router time).
    learned: float
    #: The Ethernet address; None while it is unknown.
    ether: bytes | None = None
    #: When a query for the address was last sent; None if never since learned.
    queried: float | None = None
    #: Queries sent since the address was last learned.
    polls: int = 0
    waiting: list[Packet] | None = None

    def may_query(self, now: float) -> bool:
        """Whether a query may go now, and if so count it: at most 10 a second,
        slowing to one every 2 seconds after 10 unanswered ones, as Click's."""
        interval = 2.0 if self.polls >= 10 else 0.1
        if self.queried is not None and now - self.queried < interval:
            return False
        self.queried = now
        self.polls = min(self.polls + 1, 255)
        return True


class NeighborTable:
    """The entries, oldest first, and the packets waiting for their addresses.

    CAPACITY bounds the packets waiting in all (0: no bound): one more first
    drops the oldest entries' packets down to CAPACITY - CAPACITY /
    SLIM_FACTOR (at least 1), counting itself. ENTRY_CAPACITY bounds the
    entries (the oldest goes), ENTRY_PACKET_CAPACITY the packets waiting for
    one address. An address learned is valid for TIMEOUT (0: for ever).
    """

    def __init__(self, capacity: int = 2048, entry_capacity: int = 0,
                 entry_packet_capacity: int = 0, slim_factor: int = 2,
                 timeout: float = 300.0) -> None:
        self.capacity, self.entry_capacity = capacity, entry_capacity
        self.entry_packet_capacity, self.slim_factor = entry_packet_capacity, slim_factor
        self.timeout = timeout
        self.entries: OrderedDict[bytes, Neighbor] = OrderedDict()
        self.waiting = 0
        #: Packets dropped from the queues (full, or their entry forgotten).
        self.drops = 0

    def valid(self, neighbor: Neighbor, now: float) -> bool:
        return neighbor.ether is not None and (not self.timeout
                                               or now - neighbor.learned <= self.timeout)

    def known(self, address: bytes, now: float) -> Neighbor | None:
        """The entry of ``address`` when its Ethernet address is valid."""
        neighbor = self.entries.get(address)
        return neighbor if neighbor is not None and self.valid(neighbor, now) else None

    def hold(self, address: bytes, packet: Packet, now: float) -> Neighbor | None:
        """Keep ``packet`` until ``address`` is learned: its entry, or None when
        the entry's queue is full (the packet is dropped)."""
        neighbor = self.entries.get(address) or self._add(address, now)
        self._keep_alive(address, neighbor, now)
        if neighbor.waiting is None:
            neighbor.waiting = []
        if self.entry_packet_capacity and len(neighbor.waiting) >= self.entry_packet_capacity:
            self.drops += 1
            return None
        if self.capacity and self.waiting >= self.capacity:
            # As Click's: expired entries go first, then packets if still needed.
            self.expire(now)
            if self.waiting >= self.capacity:
                self._slim()
        neighbor.waiting.append(packet)
        self.waiting += 1
        return neighbor

    def _slim(self) -> None:
        """Makes room for one more packet as Click does: rather than refusing it,
        drops the oldest entries' packets, down to well under CAPACITY, so that
        the next packets need not slim again."""
        keep = max(self.capacity - self.capacity // self.slim_factor, 1) - 1
        for neighbor in self.entries.values():
            if self.waiting <= keep:
                return
            if neighbor.waiting:
                dropped = min(len(neighbor.waiting), self.waiting - keep)
                del neighbor.waiting[:dropped]
                self.waiting -= dropped
                self.drops += dropped

    def _keep_alive(self, address: bytes, neighbor: Neighbor, now: float) -> None:
        """An entry that packets still wait for stays just short of expiring
        (as Click's: making room must not forget it), moved among the entries
        to keep them oldest first."""
        if not self.timeout or now - neighbor.learned <= self.timeout:
            return
        neighbor.learned = now - self.timeout
        entries = list(self.entries.items())
        entries.sort(key=lambda item: item[1].learned)
        self.entries = OrderedDict(entries)

    def _add(self, address: bytes, now: float) -> Neighbor:
        if self.entry_capacity and len(self.entries) >= self.entry_capacity:
            # The expired entries go, and then the oldest while still too many.
            self._trim(now, self.entry_capacity - 1)
        neighbor = Neighbor(now)
        self.entries[address] = neighbor
        return neighbor

    def _forget(self, neighbor: Neighbor) -> None:
        if neighbor.waiting:
            self.drops += len(neighbor.waiting)
            self.waiting -= len(neighbor.waiting)
        neighbor.waiting = None

    def learn(self, address: bytes, ether: bytes, now: float, release: bool = True
              ) -> list[Packet]:
        """Record that ``address`` is at ``ether`` (the entry becomes the newest);
        returns the packets that waited for it, taken off the queue when
        ``release``. The broadcast address records the address as unknown."""
        neighbor = self.entries.get(address) or self._add(address, now)
        neighbor.ether = None if ether == BROADCAST_ETHER else ether
        neighbor.learned = now
        # Learning allows a renewal query at once.
        neighbor.queried, neighbor.polls = None, 0
        self.entries.move_to_end(address)
        if neighbor.ether is None or not release:
            return []
        waiting, neighbor.waiting = neighbor.waiting or [], None
        self.waiting -= len(waiting)
        return waiting

    def expire(self, now: float) -> None:
        """Forget the oldest entries while they are past TIMEOUT, as Click's
        table does from time to time."""
        self._trim(now, None)

    def _trim(self, now: float, keep: int | None) -> None:
        """Forget the oldest entries while they are past TIMEOUT or more than
        ``keep`` (None: any number) remain."""
        while self.entries:
            address, oldest = next(iter(self.entries.items()))
            expired = self.timeout and now - oldest.learned > self.timeout
            if not expired and (keep is None or len(self.entries) <= keep):
                return
            del self.entries[address]
            self._forget(oldest)

    def clear(self) -> None:
        for neighbor in self.entries.values():
            self._forget(neighbor)
        self.entries.clear()

    def text(self, now: float) -> str:
        """One line per entry, oldest first: IP, 1 if valid (else 0), Ethernet
        address (FF-FF-FF-FF-FF-FF while unknown), seconds since it was made or
        learned (whole milliseconds)."""
        lines = []
        for address, neighbor in self.entries.items():
            valid = 1 if self.valid(neighbor, now) else 0
            ether = BROADCAST_ETHER if neighbor.ether is None else neighbor.ether
            # The age in whole milliseconds, Click's jiffies at user level.
            age = math.floor((now - neighbor.learned) * 1000) / 1000
            lines.append(f"{unparse_ip(address)} {valid} {unparse_ether(ether)} {age:.6f}\n")
        return "".join(lines)

    def insert(self, value: str, now: float, release: bool) -> tuple[bytes, list[Packet]]:
        """The insert handler's 'IP ETH': learns ETH for IP; returns ETH and
        the packets ``learn`` returns."""
        words = value.split()
        if len(words) != 2:
            raise ValueError("expected 'IP ETH'")
        ether = parse_value(ETHERADDR, words[1])
        return ether, self.learn(parse_value(IPADDR, words[0]), ether, now, release)

    def delete(self, value: str, now: float) -> None:
        """The delete handler's 'IP': IP's Ethernet address is forgotten (the
        entry stays, the newest, with the packets waiting for it)."""
        self.learn(parse_value(IPADDR, value), BROADCAST_ETHER, now)


#: The table settings' keywords, their types and NeighborTable's names for them.
_SETTINGS = (("CAPACITY", _COUNT, "capacity"), ("ENTRY_CAPACITY", _COUNT, "entry_capacity"),
             ("ENTRY_PACKET_CAPACITY", _COUNT, "entry_packet_capacity"),
             ("CAPACITY_SLIM_FACTOR", _SLIM_FACTOR, "slim_factor"),
             ("TIMEOUT", TIMEOUT, "timeout"))


def read_table_settings(args: Args) -> dict[str, int | float]:
    """The CAPACITY, ENTRY_CAPACITY, ENTRY_PACKET_CAPACITY, CAPACITY_SLIM_FACTOR
    and TIMEOUT given, as ARPTable and ARPQuerier read them: NeighborTable's
    keyword arguments."""
    given = {name: args.read(keyword, arg_type) for keyword, arg_type, name in _SETTINGS}
    return {name: value for name, value in given.items() if value is not None}


def change_settings(table: NeighborTable, settings: dict[str, int | float]) -> None:
    """A live reconfiguration's new settings; the entries and packets stay."""
    for name, value in settings.items():
        setattr(table, name, value)


class NeighborHandlers(Element):
    """The handlers of a table that ARPTable and ARPQuerier share (no manual:
    not an element class of its own): table, count, length and delete."""

    registered = False
    neighbors: NeighborTable
    _timer: Timer

    def start_expiry(self) -> None:
        """Forget the entries past TIMEOUT from time to time, as Click's table
        does: TIMEOUT (whole seconds) from now, then every TIMEOUT plus a second."""
        if self.neighbors.timeout:
            self._timer.schedule_after(int(self.neighbors.timeout))

    def _expire(self) -> None:
        self.neighbors.expire(self.router.now())
        if self.neighbors.timeout:
            self._timer.schedule_after(int(self.neighbors.timeout) + 1)

    @read_handler("table")
    def _read_table(self) -> str:
        return self.neighbors.text(self.router.now())

    @read_handler("count")
    def _read_count(self) -> str:
        return str(len(self.neighbors.entries))

    @read_handler("length")
    def _read_length(self) -> str:
        return str(self.neighbors.waiting)

    @write_handler("delete")
    def _write_delete(self, value: str) -> None:
        self.neighbors.delete(value, self.router.now())


class ARPTable(NeighborHandlers):
    """ARPTable(KEYWORDS) -- stores IP-to-Ethernet mappings

    Description
    Holds the IP-to-Ethernet entries of ARP, and the packets waiting for an
    address to be learned, for ARPQuerier elements that name it as their
    TABLE: several ARPQueriers can share one. Entries are kept oldest
    first; every TIMEOUT plus a second (from TIMEOUT after the start), the
    oldest entries past TIMEOUT are forgotten, with the packets waiting for
    them. Writing the config handler keeps the entries and their packets,
    and the capacities not given; TIMEOUT not given is 5min again.

    Ports
    none

    Keyword arguments
    CAPACITY -- most packets waiting in all, 0 for no limit; default 2048. A packet
    that would pass it first drops the oldest entries' packets until at most
    CAPACITY - CAPACITY / CAPACITY_SLIM_FACTOR (at least 1) wait, counting itself
    CAPACITY_SLIM_FACTOR -- see CAPACITY, at least 1; default 2
    ENTRY_CAPACITY -- most entries, 0 for no limit (the oldest goes first); default 0
    ENTRY_PACKET_CAPACITY -- most packets waiting for one address, 0 for no limit; default 0
    TIMEOUT -- how long a learned address stays valid, 0 for ever, up to a year; default 5min

    Element handlers
    table (read) -- one line per entry, oldest first: IP, 1 if valid (else 0), Ethernet
    address (FF-FF-FF-FF-FF-FF while unknown), seconds since it was made or learned
    drops (read) -- packets dropped from the queues
    count (read) -- entries, known or not
    length (read) -- packets waiting
    insert (write) -- 'IP ETH': records an entry (FF-FF-FF-FF-FF-FF: as delete does); the
    packets waiting for IP stay queued
    delete (write) -- 'IP': forgets the Ethernet address of IP (the entry stays)
    clear (write) -- forgets every entry, dropping the packets waiting

    Example
    t :: ARPTable(TIMEOUT 1min);
    a :: ARPQuerier(18.26.4.24, 00:00:C0:AE:67:EF, TABLE t);
    b :: ARPQuerier(18.26.7.1, 00:00:C0:AE:67:F0, TABLE t);
    Idle -> a -> Discard; Idle -> [1]a;
    Idle -> b -> Discard; Idle -> [1]b;
    """

    can_live_reconfigure = True

    def configure(self, args: Args) -> None:
        self.neighbors = NeighborTable(**read_table_settings(args))
        args.complete()
        self._timer = Timer(self, self._expire)

    def live_reconfigure(self, args: Args) -> None:
        # As Click's: the entries and their packets stay, and so do the
        # capacities not given; TIMEOUT not given is the default again, and a
        # TIMEOUT starts its expiry period afresh.
        settings = {"timeout": 300.0} | read_table_settings(args)
        args.complete()
        change_settings(self.neighbors, settings)
        # Before initialize, initialize schedules it.
        if self.scheduling.scheduler is not None:
            self.start_expiry()

    def initialize(self) -> None:
        self.start_expiry()

    def cleanup(self) -> None:
        self.neighbors.clear()

    @read_handler("drops")
    def _read_drops(self) -> str:
        return str(self.neighbors.drops)

    @write_handler("insert")
    def _write_insert(self, value: str) -> None:
        # As Click's: the packets waiting for the address stay queued.
        self.neighbors.insert(value, self.router.now(), release=False)

    @write_handler("clear")
    def _write_clear(self, value: str) -> None:
        self.neighbors.clear()
