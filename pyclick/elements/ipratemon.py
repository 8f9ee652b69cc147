"""IPRateMonitor: traffic rates to and from IP address prefixes, refined where
they are high."""

from __future__ import annotations

import copy

from pyclick.args import BOOL, FLOAT, INT, UNSIGNED, Args, split_args, uncomment, unquote
from pyclick.element import AGNOSTIC, Element, read_handler, write_handler
from pyclick.elements.clickargs import fixed_point, unparse_fixed
from pyclick.elements.inet import IPADDR
from pyclick.elements.rateewma import RateEWMA, jiffies
from pyclick.packet import ANNOTATIONS, Packet

_U32 = 0xFFFFFFFF
_FWD_RATE = ANNOTATIONS["FWD_RATE"][0]
_REV_RATE = ANNOTATIONS["REV_RATE"][0]
_SCALE = 10
#: Epochs of 8 jiffies: 125 a second.
_EPOCH_SHIFT = 3
_EPOCHS_PER_SECOND = 1000 >> _EPOCH_SHIFT
_ONE = 1 << 16
#: What Click counts for its tables of 256 counters and for one counter, in bytes.
_TABLE_BYTES, _COUNTER_BYTES = 2080, 40
_MEMMAX_MIN = 100
_FOLD_FACTOR, _FOLD_INCREASE = 0.9, 5.0


def _monitor_type(text: str, args: Args | None) -> str:
    """PACKETS or BYTES, in any case."""
    word = unquote(text.strip()).upper()
    if word not in ("PACKETS", "BYTES"):
        raise ValueError("must be PACKETS or BYTES")
    return word


class _Average(RateEWMA):
    """Click's rate average as IPRateMonitor keeps it: weight 1/32, 32 bits."""

    STABILITY = 5

    def signed(self) -> int:
        average = self.scaled_average()
        return average - (1 << 32) if average >= 1 << 31 else average


class _Counter:
    """One prefix: its forward and reverse rates, its table of longer prefixes
    (when it was refined) and the epoch before which it may not be refined."""

    __slots__ = ("rates", "table", "anno_until")

    def __init__(self, rates: list[_Average]) -> None:
        self.rates, self.table, self.anno_until = rates, None, 0

    def update(self, epoch: int, amount: int, which: int) -> None:
        for index, rate in enumerate(self.rates):
            rate.update(epoch, amount if index == which else 0)


class _Table:
    """The counters of the 256 prefixes one byte longer than its parent's."""

    __slots__ = ("parent", "counters")

    def __init__(self, parent: _Counter | None) -> None:
        self.parent = parent
        self.counters: dict[int, _Counter] = {}


def _ratio(text: str, args: Args) -> int:
    if FLOAT(text, args) < 0:
        raise ValueError("expected a real number from 0 to 1")
    ratio = fixed_point(text, 16)
    if ratio > _ONE:
        raise ValueError("ratio must be between 0 and 1")
    return ratio


class IPRateMonitor(Element):
    """IPRateMonitor(TYPE, RATIO, THRESH [, MEMORY, ANNO]) -- measures coming and going IP traffic rates

    Description
    Measures the rate of the traffic from each IP source address of the
    packets on input 0 (the forward rate) and to each destination address
    of the packets on input 1 (the reverse rate), packets or bytes (the IP
    length) a second, by address prefix. At first only /8 prefixes are
    measured; a prefix whose forward or reverse rate reaches THRESH is
    refined: the next byte of the address gets rates of its own, which
    start from the prefix's. Rates go down to whole addresses. Once a
    second, tables of refined prefixes whose rates fell below THRESH (in
    Click's fixed-point units) are folded back into their prefix, until a
    tenth of the memory is freed (or until it is under MEMORY); the tables
    are visited from the oldest or from the newest, at random. The rates
    are Click's moving averages over epochs of 8 milliseconds of the
    router's clock (weight 1/32). A packet leaves by the output of the
    input it came in on; one without network header annotation is not
    counted.

    Only a fraction RATIO of the packets, drawn at random, update the
    rates; THRESH is given as if RATIO were 1. With ANNO, each packet's
    FWD_RATE and REV_RATE annotations are set to the rates of the longest
    measured prefix of its address, in units a second.

    Ports
    one or two agnostic inputs, as many agnostic outputs

    Keyword arguments
    TYPE -- PACKETS or BYTES (any case); mandatory
    RATIO -- the fraction of packets that update the rates, 0 to 1; mandatory
    THRESH -- the rate that refines a prefix, a second; mandatory
    MEMORY -- the most memory the tables may take, in kilobytes as Click counts them (at least 100; 0: no limit); default 0
    ANNO -- set the rate annotations; default true

    Element handlers
    look (read) -- the epochs (8 ms) since the last reset, then one line per prefix with a rate: the prefix (its bytes, dotted, a tab more per byte after the first), its forward and reverse rates a second, tab-separated
    thresh (read) -- THRESH, times RATIO
    mem (read) -- the memory the tables take, as Click counts it, in bytes
    memmax (read/write) -- MEMORY in bytes; writing a number of kilobytes sets it and folds tables until they fit
    reset (write) -- forgets every rate
    anno_level (write) -- 'ADDR, LEVEL, SECONDS': folds the tables under ADDR's prefix of LEVEL+1 bytes (LEVEL 0 to 3) and keeps it from being refined for SECONDS seconds

    Example
    FromDevice(eth0) -> Strip(14) -> CheckIPHeader
        -> r :: IPRateMonitor(PACKETS, 0.5, 256, 600) -> Discard;
    """

    port_count = "1-2/="
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        kind = args.read_mp("TYPE", _monitor_type)
        ratio = args.read_mp("RATIO", _ratio)
        thresh = args.read_mp("THRESH", INT.range(-2**31, 2**31 - 1))
        # In KB; Click keeps the bytes in 32 bits.
        memory = args.read_p("MEMORY", UNSIGNED.range(0, _U32 // 1024), 0)
        self.anno = args.read_p("ANNO", BOOL, True)
        args.complete()
        self.count_packets = kind != "BYTES"
        self.ratio = _ONE if ratio is None else ratio
        # Click multiplies in unsigned 32-bit arithmetic: a negative THRESH wraps.
        self.thresh = (((thresh or 0) * self.ratio) & _U32) >> 16
        self.memmax = (max(memory, _MEMMAX_MIN) if memory else 0) * 1024

    def initialize(self) -> None:
        self._random = self.router.random_source(self)
        self.mem = 0
        self._base = self._new_table(None)
        #: Every table, oldest first (the base table first).
        self._age = [self._base]
        self._reset_epoch = self._epoch()
        self._last_fold: int | None = None

    def _epoch(self) -> int:
        return jiffies(self.router.now()) >> _EPOCH_SHIFT

    def _new_table(self, parent: _Counter | None) -> _Table:
        self.mem += _TABLE_BYTES
        return _Table(parent)

    def _new_counter(self, table: _Table, byte: int, rates: list[_Average] | None) -> _Counter:
        if rates is None:
            epoch = self._epoch()
            rates = [_Average(_SCALE, epoch, 32), _Average(_SCALE, epoch, 32)]
        counter = table.counters[byte] = _Counter(copy.deepcopy(rates))
        self.mem += _COUNTER_BYTES
        return counter

    def _delete(self, table: _Table) -> None:
        """Free ``table`` and the tables under it."""
        for counter in table.counters.values():
            if counter.table is not None:
                self._delete(counter.table)
            self.mem -= _COUNTER_BYTES
        table.counters.clear()
        self._age.remove(table)
        if table.parent is not None:
            table.parent.table = None
        self.mem -= _TABLE_BYTES

    # --- packets
    def push(self, port: int, batch: list[Packet]) -> None:
        for packet in batch:
            self._update(port, packet)
        self.output_push(port, batch)

    def pull(self, port: int) -> Packet | None:
        packet = self.input_pull(port)
        if packet is not None:
            self._update(port, packet)
        return packet

    def _update(self, port: int, packet: Packet) -> None:
        nh = packet.network_header_offset
        if nh is None:
            return
        sample = ((self._random.getrandbits(31) >> 5) & 0xFFFF) <= self.ratio
        header = packet.buffer[packet.data_offset + nh:packet.data_offset + nh + 20]
        amount = 1 if self.count_packets else int.from_bytes(header[2:4], "big")
        where = header[12:16] if port == 0 else header[16:20]
        self._count(int.from_bytes(where, "big"), amount, packet, port, sample)

    def _count(self, addr: int, amount: int, packet: Packet, which: int, sample: bool) -> None:
        now = self._epoch()
        table = self._base
        for shift in (24, 16, 8, 0):
            byte = (addr >> shift) & 255
            counter = table.counters.get(byte)
            if counter is None:
                if self.memmax and self.mem + _COUNTER_BYTES > self.memmax:
                    return
                counter = self._new_counter(table, byte, None)
            if sample:
                counter.update(now, amount, which)
            if counter.table is None:
                break
            table = counter.table
        fwd, rev = (((rate.scaled_average() * _EPOCHS_PER_SECOND) & _U32) >> _SCALE
                    for rate in counter.rates)
        if self.anno:
            packet.set_anno_u32(_FWD_RATE, fwd)
            packet.set_anno_u32(_REV_RATE, rev)
        if counter.anno_until < now and (fwd >= self.thresh or rev >= self.thresh) and shift > 0 \
                and (not self.memmax or self.mem + _COUNTER_BYTES + _TABLE_BYTES <= self.memmax):
            child = counter.table = self._new_table(counter)
            self._new_counter(child, (addr >> (shift - 8)) & 255, counter.rates)
            self._age.append(child)
        if self._last_fold is None:
            self._last_fold = now
        if now - self._last_fold >= _EPOCHS_PER_SECOND:
            self._fold(self.thresh)
            self._last_fold = now

    # --- folding
    def _fold(self, thresh: int) -> None:
        """Fold tables whose prefix's rates are below ``thresh``, visiting the
        tables from the oldest or the newest, until enough memory is free."""
        forward = self._random.getrandbits(1)
        memmax = self.memmax or int(self.mem * _FOLD_FACTOR)
        for table in list(self._age) if forward else self._age[::-1]:
            parent = table.parent
            # A table folded with its parent's table is gone.
            if parent is None or table not in self._age:
                continue
            parent.update(self._epoch(), 0, 0)
            if all(rate.signed() < thresh for rate in parent.rates):
                self._delete(table)
                if self.mem < memmax:
                    return

    def _forced_fold(self) -> None:
        step = int(self.thresh / _FOLD_INCREASE)
        thresh = self.thresh
        # Click would loop forever on what no fold can free.
        while self.mem > self.memmax and len(self._age) > 1:
            before = self.mem
            self._fold(thresh)
            if step <= 0 and self.mem == before:
                return
            thresh += step

    # --- handlers
    @read_handler("look")
    def _read_look(self) -> str:
        return f"{self._epoch() - self._reset_epoch}\n" + self._print(self._base, "")

    def _print(self, table: _Table, prefix: str) -> str:
        text = ""
        for byte in sorted(table.counters):
            counter = table.counters[byte]
            if counter.rates[1].signed() > 0 or counter.rates[0].signed() > 0:
                name = f"{prefix}.{byte}" if prefix else str(byte)
                counter.update(self._epoch(), 0, 0)
                rates = "\t".join(unparse_fixed((rate.scaled_average() * _EPOCHS_PER_SECOND) & _U32,
                                                _SCALE) for rate in counter.rates)
                text += f"{name}\t{rates}\n"
                if counter.table is not None:
                    text += self._print(counter.table, "\t" + name)
        return text

    @read_handler("thresh")
    def _read_thresh(self) -> str:
        return str(self.thresh)

    @read_handler("mem")
    def _read_mem(self) -> str:
        return str(self.mem)

    @read_handler("memmax")
    def _read_memmax(self) -> str:
        return str(self.memmax)

    @write_handler("memmax")
    def _write_memmax(self, value: str) -> None:
        words = split_args(uncomment(value))
        if len(words) != 1:
            raise ValueError("expecting 1 integer")
        try:
            memmax = INT(words[0], None)  # type: ignore[arg-type]
        except ValueError:
            raise ValueError("not an integer") from None
        if memmax and memmax < _MEMMAX_MIN:
            memmax = _MEMMAX_MIN
        self.memmax = memmax * 1024
        if self.memmax and self.mem > self.memmax:
            self._forced_fold()

    @write_handler("reset")
    def _write_reset(self, value: str) -> None:
        # As in Click, the memory of the /8 counters themselves is not given back.
        for counter in self._base.counters.values():
            if counter.table is not None:
                self._delete(counter.table)
        self._base.counters.clear()
        self._reset_epoch = self._epoch()

    @write_handler("anno_level")
    def _write_anno_level(self, value: str) -> None:
        words = split_args(uncomment(value))
        if len(words) != 3:
            raise ValueError("expecting 3 arguments")
        try:
            addr = int.from_bytes(IPADDR(words[0], Args("", self)), "big")
        except ValueError:
            raise ValueError("not an IP address") from None
        level = self._int(words[1])
        if level is None or not 0 <= level < 4:
            raise ValueError("2nd argument specifies a level, between 0 and 3, to annotate")
        seconds = self._int(words[2])
        if seconds is None or seconds < 1:
            raise ValueError("3rd argument specifies when this rule expires, must be > 0")
        self._anno_level(addr, level, seconds * _EPOCHS_PER_SECOND + self._epoch())

    @staticmethod
    def _int(word: str) -> int | None:
        try:
            return INT(word, None)  # type: ignore[arg-type]
        except ValueError:
            return None

    def _anno_level(self, addr: int, level: int, until: int) -> None:
        table = self._base
        for shift in (24, 16, 8, 0):
            counter = table.counters.get((addr >> shift) & 255)
            if counter is None:
                return
            if level == 0:
                counter.anno_until = until
                if counter.table is not None:
                    self._delete(counter.table)
                return
            if counter.table is None:
                return
            table = counter.table
            level -= 1
