"""RandomSource: packets of random bytes, made as InfiniteSource makes its own."""

from __future__ import annotations


from pyclick.args import UNSIGNED, Args
from pyclick.elements.sources import MAX_LENGTH, InfiniteSource
from pyclick.packet import Packet

#: InfiniteSource's handlers RandomSource lacks: data, and the deprecated names.
_NOT_HERE = ("data", "datasize", "burstsize")


class RandomSource(InfiniteSource):
    """RandomSource(LENGTH, LIMIT, BURST, ACTIVE, KEYWORDS) -- generates random packets whenever scheduled

    Description
    Creates packets of LENGTH bytes, each filled with its own random bytes,
    and otherwise works as InfiniteSource does: in push context its task
    pushes BURST packets every time it runs, in pull context every pull
    gets one; it stops after LIMIT packets (never when LIMIT is negative)
    and sends only while ACTIVE. Each packet's timestamp is the router's
    clock when it was made.

    Ports
    one agnostic output

    Keyword arguments
    LENGTH -- packet length, 0 to 65535 bytes; mandatory
    LIMIT, BURST, ACTIVE, STOP, END_CALL, TIMESTAMP -- as InfiniteSource's

    Element handlers
    count, reset, length, limit, burst, active -- as InfiniteSource's (it has no data, and not
    the old names datasize and burstsize)

    Example
    RandomSource(64, LIMIT 10, STOP true) -> c :: Counter -> Discard;
    """

    # Its packets have no DATA to read or write.
    read_handlers = {k: v for k, v in InfiniteSource.read_handlers.items() if k not in _NOT_HERE}
    write_handlers = {k: v for k, v in InfiniteSource.write_handlers.items() if k not in _NOT_HERE}

    def _read_settings(self, args: Args) -> None:
        self.length = args.read_mp("LENGTH", UNSIGNED.range(0, MAX_LENGTH))
        self._read_pace(args)
        self._read_ending(args)
        args.complete()
        self.data = b""
        self._random = self.router.random_source(self)
        self._made()

    def _make(self, n: int) -> list[Packet]:
        now = self.router.now() if self.timestamp else 0.0
        self.count += n
        make, length = self._random.randbytes, self.length
        return [Packet(make(length), now) for _ in range(n)]
