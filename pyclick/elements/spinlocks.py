"""SpinlockInfo, SpinlockAcquire, SpinlockRelease and SpinlockPush: named locks
that keep the router's threads out of a stretch of the configuration.

A lock is Click's Spinlock: recursive, held by one thread at a time; the
thread holding it may take it again, and must release it as often. The
names a SpinlockInfo defines are seen as AddressInfo's are
(``pyclick.elements.addressnames``): from the compound that holds it and
every compound inside it, the nearest first.
"""

from __future__ import annotations

import threading
from typing import Callable, Protocol, runtime_checkable

from pyclick.args import WORD, Args, shorten
from pyclick.element import AGNOSTIC, CONFIGURE_PHASE_INFO, PUSH, Element
from pyclick.elements.addressnames import find_in_scope
from pyclick.lang.configstr import split_args, strip_comments
from pyclick.packet import Packet


class Spinlock:
    """A recursive lock; releasing it from a thread that does not hold it, or
    more often than it was taken, is reported through ``warn``."""

    def __init__(self, warn: Callable[[str], None]) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._warn = warn

    def acquire(self) -> None:
        me = threading.get_ident()
        if self._owner != me:
            self._lock.acquire()
            self._owner = me
        self._depth += 1

    def release(self) -> None:
        if self._owner != threading.get_ident():
            self._warn("Spinlock::release(): assertion "
                       "\"owner == click_current_processor()\" failed")
        if self._depth <= 0:
            self._warn("Spinlock::release(): assertion \"_depth > 0\" failed")
            return
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._lock.release()


@runtime_checkable
class SpinlockBook(Protocol):
    """An element that names locks (SpinlockInfo)."""

    def spinlock(self, name: str) -> Spinlock | None:
        """The lock ``name`` stands for, or None."""


class SpinlockInfo(Element):
    """SpinlockInfo(NAME, ...) -- specifies names of spinlocks

    Description
    Defines one lock for each NAME, for the SpinlockAcquire, SpinlockRelease
    and SpinlockPush elements to share. A lock is held by one thread at a
    time: a thread that takes a lock another thread holds waits until that
    thread releases it. The thread holding a lock may take it again, and
    must then release it as many times. In simulated time all the router's
    threads run on one, so locks never wait there. Each NAME is a single
    word (quotes may hold spaces); an empty argument is an error.

    Names are local to compound elements: a name a SpinlockInfo inside a
    compound defines is known within that compound (and the compounds in
    it) only. SpinlockInfo elements configure before the elements using
    their names, so a name may be used before the SpinlockInfo that
    defines it.

    Ports
    none

    Example
    SpinlockInfo(shared);
    InfiniteSource(LIMIT 5) -> SpinlockAcquire(shared) -> c :: Counter
        -> SpinlockRelease(shared) -> Discard;
    """

    port_count = "0/0"
    configure_phase = CONFIGURE_PHASE_INFO

    def configure(self, args: Args) -> None:
        self.locks: dict[str, Spinlock] = {}
        args.accept_rest()
        for text in split_args(strip_comments(args.config), brackets=True):
            try:
                name = WORD(text, args)
            except ValueError:
                args.error("bad NAME")
                continue
            self.locks[name] = Spinlock(self._warn)
        args.complete()

    def _warn(self, message: str) -> None:
        self.log.warning("%s", message)

    def spinlock(self, name: str) -> Spinlock | None:
        return self.locks.get(name)


class SpinlockUser(Element):
    """Reads LOCK, a name a SpinlockInfo defines, into ``self.lock``."""

    registered = False
    port_count = "1/1"
    processing = AGNOSTIC
    #: What each packet passing through does to the lock (Spinlock's method).
    operation = ""

    def configure(self, args: Args) -> None:
        name = args.read_mp("LOCK", WORD)
        args.complete()
        lock = find_in_scope(self, SpinlockBook, lambda book: book.spinlock(name))
        if lock is None:
            args.error(f"LOCK: cannot locate spinlock {shorten(name)}")
            args.complete()
        self.lock: Spinlock = lock

    def simple_action(self, packet: Packet) -> Packet:
        getattr(self.lock, self.operation)()
        return packet


class SpinlockAcquire(SpinlockUser):
    """SpinlockAcquire(LOCK) -- acquires spinlock

    Description
    Takes the lock named LOCK, defined by a SpinlockInfo, for each packet
    passing through (waiting while another thread holds it), then lets
    the packet go on. The lock stays held until a SpinlockRelease releases
    it, so every packet must reach one: a packet dropped on the way leaves
    the lock held.

    Ports
    one input, one output, push or pull

    Keyword arguments
    LOCK -- the lock's name

    Example
    SpinlockInfo(shared);
    InfiniteSource(LIMIT 5) -> SpinlockAcquire(shared) -> c :: Counter
        -> SpinlockRelease(shared) -> Discard;
    """

    operation = "acquire"


class SpinlockRelease(SpinlockUser):
    """SpinlockRelease(LOCK) -- releases spinlock

    Description
    Releases the lock named LOCK, defined by a SpinlockInfo, for each
    packet passing through, then lets the packet go on. Releasing a lock
    the thread does not hold, or more often than it was taken, is
    reported as a warning.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    LOCK -- the name of the lock released, defined by a SpinlockInfo

    Example
    // The pulling thread holds the lock while the packet is counted.
    SpinlockInfo(l);
    InfiniteSource(LIMIT 5) -> Queue -> SpinlockAcquire(l) -> Unqueue
        -> Counter -> SpinlockRelease(l) -> Discard;
    """

    operation = "release"


class SpinlockPush(SpinlockUser):
    """SpinlockPush(LOCK) -- acquires a spinlock, pushes the packets, then releases the lock

    Description
    Takes the lock named LOCK, defined by a SpinlockInfo, pushes the
    packets on, and releases the lock once the elements downstream are
    done with them, whether they kept, forwarded or dropped them. Only
    one thread at a time travels the push path after SpinlockPush.

    Ports
    one push input, one push output

    Keyword arguments
    LOCK -- the lock's name

    Example
    SpinlockInfo(shared);
    InfiniteSource(LIMIT 5) -> SpinlockPush(shared) -> c :: Counter -> Discard;
    """

    processing = PUSH

    def push(self, port: int, batch: list[Packet]) -> None:
        self.lock.acquire()
        try:
            self.output_push(0, batch)
        finally:
            self.lock.release()
