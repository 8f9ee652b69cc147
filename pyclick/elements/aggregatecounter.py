"""AggregateCounter: packet or byte counts per aggregate annotation, and
Click's aggregate files (``!IPAggregate 1.0``)."""

from __future__ import annotations

import functools
import math
import sys
from typing import Callable

from pyclick.args import BOOL, FILENAME, STRING, UNSIGNED, Args, split_words, uncomment
from pyclick.element import AGNOSTIC, Element, read_handler, write_handler
from pyclick.elements.handlercall import HandlerCall
from pyclick.elements.settinghandlers import setting_handlers
from pyclick.packet import ANNOTATIONS, Packet
from pyclick.runtime.handlers import HandlerError

_AGGREGATE = ANNOTATIONS["AGGREGATE"][0]
_EXTRA_PACKETS = ANNOTATIONS["EXTRA_PACKETS"][0]
_EXTRA_LENGTH = ANNOTATIONS["EXTRA_LENGTH"][0]
_U32 = 0xFFFFFFFF
_U64 = 2**64 - 1
_AGGREGATES = UNSIGNED.range(0, _U32)
_COUNTS = UNSIGNED.range(0, _U64)
#: The calls' handlers -> the range of their N, and the N that means "no call"
#: (Click's all-ones value).
_CALLS = {"aggregate_call": (_AGGREGATES, _U32), "count_call": (_COUNTS, _U64)}

#: write handler -> how a record is written (aggregate, count, total) -> line.
_FILE_FORMATS: dict[str, Callable[[int, int, int], str] | None] = {
    "write_text_file": lambda a, c, total: f"{a} {c}\n",
    "write_ascii_file": lambda a, c, total: f"{a} {c}\n",
    "write_ip_file": lambda a, c, total: f"{'.'.join(str(b) for b in a.to_bytes(4, 'big'))} {c}\n",
    "write_pdf_file": lambda a, c, total: f"{a} {c / total if total else math.inf:.12g}\n",
    "write_file": None,
}


class _Trie:
    """Click's counters: a binary trie on the aggregates' bits (from tcpdpriv).

    A node is ``[aggregate, count, child0, child1]``; an inner node holds its
    subtree's common prefix, its other bits zero. Its shape, which depends on
    the order aggregates arrived in, decides the order of the files and the
    zero counts ``counts_pdf`` finds, so it is kept as Click builds it."""

    def __init__(self) -> None:
        self.root: list = [0, 0, None, None]

    def find(self, aggregate: int, frozen: bool) -> list | None:
        """The node of ``aggregate``, made unless ``frozen`` (then only a node
        that has counted something)."""
        node: list | None = self.root
        while node is not None:
            if node[0] == aggregate:
                return node if node[1] or not frozen else None
            if node[2] is None:
                node = None if frozen else _split(node, aggregate)
                continue
            swivel = _first_bit(node[2][0] ^ node[3][0])
            if _first_bit(aggregate ^ node[0]) < swivel:
                node = None if frozen else _split(node, aggregate)
            else:
                node = node[3] if aggregate >> (32 - swivel) & 1 else node[2]
        return None

    def nodes(self) -> list[list]:
        """Every node, parent before children, child 0 before child 1."""
        found, todo = [], [self.root]
        while todo:
            node = todo.pop()
            found.append(node)
            if node[2] is not None:
                todo += (node[3], node[2])
        return found


def _first_bit(x: int) -> int:
    """The position of ``x``'s highest 1 bit, 1 for bit 31 to 32 for bit 0; 0 for 0."""
    return 33 - x.bit_length() if x else 0


def _split(node: list, aggregate: int) -> list:
    """Make ``node`` the parent of a copy of itself and a new node for ``aggregate``;
    the node that now stands for ``aggregate``."""
    swivel = _first_bit(aggregate ^ node[0])
    side = aggregate >> (32 - swivel) & 1
    new = [aggregate, 0, None, None]
    children = [new, list(node)] if side == 0 else [list(node), new]
    prefix = 0 if swivel == 1 else children[0][0] & (_U32 << (33 - swivel)) & _U32
    node[0] = prefix
    if children[0][0] == prefix:
        node[1], children[0][1] = children[0][1], 0
    else:
        node[1] = 0
    node[2], node[3] = children
    return node if prefix == aggregate else new


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def _parse_call(text: str, element: Element, bound: Callable[[str, None], int], what: str
               ) -> tuple[int, HandlerCall]:
    """``N HANDLER [VALUE]`` (AGGREGATE_CALL, COUNT_CALL): ValueError ``what``
    when N is not a number in ``bound``."""
    words = split_words(text)
    try:
        threshold = bound(words[0], None)
    except (ValueError, IndexError):
        raise ValueError(what) from None
    return threshold, _handler_call(text.strip()[len(words[0]):], element)


def _handler_call(text: str, element: Element) -> HandlerCall:
    """``HANDLER [VALUE]`` as Click finds it: a name without a dot is first
    looked for among ``element``'s own handlers (``stop`` is its stop).
    ``handler_name`` finds the class's; the file and call handlers are
    added only after configure, so they are named here."""
    words = split_words(text)
    if words and "." not in words[0] and words[0] in {*_FILE_FORMATS, *_CALLS}:
        text = f"{element.name}.{text.strip()}"
    return HandlerCall.parse(text, element)


class AggregateCounter(Element):
    """AggregateCounter(KEYWORDS) -- counts packets per aggregate annotation

    Description
    Counts the packets, or the bytes, seen for each value of the aggregate
    annotation, and writes the counts to files in Click's aggregate format
    on demand (the write_*_file handlers). Packets pass unchanged.

    A frozen AggregateCounter only adds to aggregates it has counted
    already: a packet of a new aggregate is not counted. Input 1, when
    used, is always frozen. With two outputs, pushed packets that were
    counted leave by output 0, the others by output 1; pulled, output N
    pulls input N (input 0 when there is one input).

    The AGGREGATE keywords act when N aggregates are counted and a packet
    of another one arrives, before that packet is counted (AGGREGATE_STOP 2
    keeps two aggregates); the COUNT keywords act once the total count
    reaches N, after the packet that reached it. Each acts once. Of the
    three AGGREGATE keywords at most one may be given, and the same for
    COUNT. A HANDLER without an element name is one of AggregateCounter's
    own handlers when it has one of that name ('stop', 'freeze true'), a
    global handler otherwise.

    A file starts with '!IPAggregate 1.0', the BANNER (with a newline
    added when it has none), '!num_nonzero N', then for write_file
    '!packed_le' (or '!packed_be': the host's byte order) and 8 bytes per
    aggregate, the aggregate then its count as 32-bit numbers in that
    order; for the text files one line per aggregate, the aggregate and its
    count in decimal (write_ip_file: '!ip' first, the aggregate as an IPv4
    address; write_pdf_file: the count as a fraction of the total). The
    aggregates come in Click's order, which is numerical order. The
    file '-' is the standard output.

    Ports
    one or two agnostic inputs, one or two agnostic outputs

    Keyword arguments
    BYTES -- count bytes, not packets; default false
    IP_BYTES -- with BYTES, do not count the bytes before the network header; default false
    MULTIPACKET -- count a packet as 1 + its extra packets annotation (FromIPSummaryDump sets it); default true
    EXTRA_LENGTH -- with BYTES, add the packet's extra length annotation (FromDump sets it); default true
    AGGREGATE_STOP -- stop counting and stop the router at N aggregates (0 to 2^32-1); default none
    AGGREGATE_FREEZE -- freeze at N aggregates; default none
    AGGREGATE_CALL -- 'N HANDLER [VALUE]': call a write handler at N aggregates; default none
    COUNT_STOP -- stop counting and stop the router once the total count reaches N (0 to 2^64-1); default none
    COUNT_FREEZE -- freeze once the total count reaches N; default none
    COUNT_CALL -- 'N HANDLER [VALUE]': call a write handler once the total count reaches N; default none
    BANNER -- text written after the first line of every file; default empty

    Element handlers
    write_text_file (write) -- writes the counts to a file, in text (also write_ascii_file)
    write_file (write) -- writes the counts to a file, in binary
    write_ip_file (write) -- writes the counts to a file, aggregates as IP addresses
    write_pdf_file (write) -- writes each count's fraction of the total to a file
    freeze (read/write) -- whether new aggregates are refused
    active (read/write) -- whether packets are counted at all
    stop (write) -- stops counting and stops the router
    counts_pdf (write) -- replaces the counts by their distribution: each count becomes an aggregate, counting how many aggregates had it, as Click does (also reaggregate_counts)
    clear (write) -- forgets every count
    banner (read/write) -- the BANNER (a newline added on writing)
    aggregate_call (read/write) -- the pending AGGREGATE call, 'N HANDLER [VALUE]'; empty once made
    count_call (read/write) -- the pending COUNT call, 'N HANDLER [VALUE]'; empty once made
    count (read) -- the total count
    nagg (read) -- the number of aggregates with a non-zero count

    Example
    FromDump(trace.pcap, STOP true) -> CheckIPHeader(14) -> AggregateIP(ip dst)
        -> ac :: AggregateCounter -> Discard;
    DriverManager(wait_stop, write ac.write_text_file counts.txt);
    """

    port_count = "1-2/1-2"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.bytes = args.read("BYTES", BOOL, False)
        self.ip_bytes = args.read("IP_BYTES", BOOL, False)
        self.multipacket = args.read("MULTIPACKET", BOOL, True)
        self.extra_length = args.read("EXTRA_LENGTH", BOOL, True)
        freeze_nagg = args.read("AGGREGATE_FREEZE", _AGGREGATES, _U32)
        freeze_count = args.read("COUNT_FREEZE", _COUNTS, _U64)
        stop_nagg = args.read("AGGREGATE_STOP", _AGGREGATES, _U32)
        stop_count = args.read("COUNT_STOP", _COUNTS, _U64)
        call_nagg = args.read("AGGREGATE_CALL", lambda text, a: _parse_call(
            text, self, _AGGREGATES, "first word should be unsigned (number of aggregates)"))
        call_count = args.read("COUNT_CALL", lambda text, a: _parse_call(
            text, self, _COUNTS, "first word should be unsigned (count)"))
        self.banner = args.read("BANNER", STRING, "")
        #: handler -> (N, call): the AGGREGATE and COUNT calls.
        self.calls = {
            "aggregate_call": self._own_call(args, "AGGREGATE", freeze_nagg, stop_nagg,
                                             call_nagg, _U32),
            "count_call": self._own_call(args, "COUNT", freeze_count, stop_count, call_count,
                                         _U64)}
        args.complete()
        self.freeze, self.active = False, True
        self._clear()

    def _own_call(self, args: Args, kind: str, freeze: int, stop: int,
                  call: tuple[int, HandlerCall] | None, none: int
                  ) -> tuple[int, HandlerCall | None]:
        """The (threshold, handler) of the FREEZE, STOP or CALL keyword of ``kind``."""
        if (freeze != none) + (stop != none) + (call is not None) > 1:
            args.error(f"'{kind}_FREEZE', '{kind}_STOP', and '{kind}_CALL' are mutually exclusive")
        if freeze != none:
            return freeze, HandlerCall(f"{self.name}.freeze", "true")
        if stop != none:
            return stop, HandlerCall(f"{self.name}.stop")
        return call if call is not None else (none, None)

    def initialize(self) -> None:
        for _, call in self.calls.values():
            if call is not None:
                call.check(self)
        self._clear()
        self.freeze, self.active = False, True

    def _clear(self) -> None:
        self._trie = _Trie()
        self.nagg = 0
        self.count = 0

    # --- counting
    def _update(self, packet: Packet, frozen: bool) -> bool:
        """Count ``packet``; whether it was counted."""
        if not self.active:
            return False
        node = self._trie.find(packet.anno_u32(_AGGREGATE), frozen)
        if node is None:
            return False
        if not self.bytes:
            amount = 1 + (packet.anno_u32(_EXTRA_PACKETS) if self.multipacket else 0)
        else:
            amount = len(packet) + (packet.anno_u32(_EXTRA_LENGTH) if self.extra_length else 0)
            nh = packet.network_header_offset
            if self.ip_bytes and nh is not None:
                amount -= nh
        amount &= _U32
        if amount and not node[1]:
            threshold, call = self.calls["aggregate_call"]
            if self.nagg >= threshold and call is not None:
                self.calls["aggregate_call"] = (_U32, call)
                self._call(call)
                # The handler may have frozen, stopped or cleared the counter.
                return self._update(packet, frozen or self.freeze)
            self.nagg += 1
        node[1] = (node[1] + amount) & _U32
        self.count = (self.count + amount) & _U64
        threshold, call = self.calls["count_call"]
        if self.count >= threshold and call is not None:
            self.calls["count_call"] = (_U64, call)
            self._call(call)
        return True

    def _call(self, call: HandlerCall) -> None:
        try:
            call.write(self)
        except HandlerError as err:
            self.log.error("%s: calling %s: %s", self.declaration(), call.name, err.message)

    def push(self, port: int, batch: list[Packet]) -> None:
        if self.noutputs == 1:
            for packet in batch:
                self._update(packet, self.freeze or port == 1)
            self.output_push(0, batch)
            return
        counted, other = [], []
        for packet in batch:
            (counted if self._update(packet, self.freeze or port == 1) else other).append(packet)
        if counted:
            self.output_push(0, counted)
        if other:
            self.output_push(1, other)

    def pull(self, port: int) -> Packet | None:
        packet = self.input_pull(0 if self.ninputs == 1 else port)
        if packet is not None:
            self._update(packet, self.freeze or port == 1)
        return packet

    def pull_batch(self, port: int, max_packets: int) -> list[Packet]:
        batch = self.input_pull_batch(0 if self.ninputs == 1 else port, max_packets)
        for packet in batch:
            self._update(packet, self.freeze or port == 1)
        return batch

    # --- files
    def _write_file(self, value: str, handler: str) -> None:
        try:
            name = FILENAME(uncomment(value).strip(), None)  # type: ignore[arg-type]
        except ValueError:
            raise ValueError("argument should be filename") from None
        head = "!IPAggregate 1.0\n" + self.banner
        if self.banner and not self.banner.endswith("\n"):
            head += "\n"
        head += f"!num_nonzero {self.nagg}\n"
        line = _FILE_FORMATS[handler]
        records = [(node[0], node[1]) for node in self._trie.nodes() if node[1]]
        if line is None:
            head += "!packed_le\n" if sys.byteorder == "little" else "!packed_be\n"
            body = b"".join(a.to_bytes(4, sys.byteorder) + c.to_bytes(4, sys.byteorder)
                            for a, c in records)
        else:
            head += "!ip\n" if handler == "write_ip_file" else ""
            body = "".join(line(a, c, self.count) for a, c in records).encode()
        data = head.encode("utf-8", "surrogateescape") + body
        if name == "-":
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        try:
            with open(name, "wb") as f:
                f.write(data)
        except OSError as err:
            raise ValueError(f"{name}: {err.strerror}") from None

    def add_handlers(self) -> None:
        handlers = self.router.handlers
        for handler in _FILE_FORMATS:
            handlers.add_write(self, handler, functools.partial(self._write_file, handler=handler))
        for handler in _CALLS:
            handlers.add_read(self, handler, functools.partial(self._read_call, handler))
            handlers.add_write(self, handler, functools.partial(self._write_call, handler))

    # --- state
    _read_freeze, _write_freeze = setting_handlers("freeze", BOOL, _bool_text)
    _read_active, _write_active = setting_handlers("active", BOOL, _bool_text)

    @write_handler("stop")
    def _write_stop(self, value: str) -> None:
        self.active = False
        self.router.please_stop_driver(f"{self.name}: stop handler written")

    @write_handler("clear")
    def _write_clear(self, value: str) -> None:
        self._clear()

    @write_handler("counts_pdf")
    @write_handler("reaggregate_counts")
    def _write_counts_pdf(self, value: str) -> None:
        # Every node counts, those with a zero count too (Click's inner nodes
        # add to aggregate 0).
        old = self._trie.nodes()
        self._clear()
        for node in old:
            target = self._trie.find(node[1], False)
            if target is not None:
                if not target[1]:
                    self.nagg += 1
                target[1] += 1
                self.count += 1

    @read_handler("banner", raw=True)
    def _read_banner(self) -> str:
        return self.banner

    @write_handler("banner")
    def _write_banner(self, value: str) -> None:
        if value and not value.endswith("\n"):
            value += "\n"
        elif value == "\n":
            value = ""
        self.banner = value

    def _read_call(self, handler: str) -> str:
        threshold, call = self.calls[handler]
        if threshold == _CALLS[handler][1] or call is None:
            return ""
        return f"{threshold} {call.name}" + (f" {call.value}" if call.value else "")

    def _write_call(self, handler: str, value: str) -> None:
        """'N HANDLER [VALUE]', or empty for no call."""
        bound, none = _CALLS[handler]
        text = uncomment(value).strip()
        if not text:
            self.calls[handler] = (none, self.calls[handler][1])
            return
        threshold, call = _parse_call(text, self, bound,
                                     f"argument to '{handler}' should be 'N HANDLER [VALUE]'")
        call.check(self)
        self.calls[handler] = (threshold, call)

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)

    @read_handler("nagg")
    def _read_nagg(self) -> str:
        return str(self.nagg)
