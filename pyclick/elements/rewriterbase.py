"""What IPRewriter, TCPRewriter, UDPRewriter and ICMPPingRewriter share.

:class:`RewriterBase` reads the keywords every rewriter has (capacity,
reaping), one input spec per input, and keeps the flow set; it finds or
installs the flow of a packet (:meth:`RewriterBase.flow_for`) and answers
the common handlers, and forwards a packet by its flow
(:meth:`RewriterBase.forward`). A subclass reads its own keywords (timeouts)
in :meth:`RewriterBase.read_keywords`, says which maps it prints, and
rewrites a packet's headers; :class:`SingleTableRewriter` keeps every flow
in one table. :func:`rewrite_addresses` and :func:`rewrite_ports` patch
headers and update their checksums incrementally.
"""

from __future__ import annotations

import struct
from functools import partial
from typing import TYPE_CHECKING

from pyclick.args import BOOL, ELEMENT, TIME, UNSIGNED, Args
from pyclick.element import PUSH, Element, read_handler, write_handler
from pyclick.elements.clickargs import ANNO1
from pyclick.elements.inet import ip_header_offset
from pyclick.elements.iprwpatterns import find_pattern
from pyclick.elements.rewriterspec import InputSpec, Key, parse_input_spec, reverse
from pyclick.elements.rewritertable import Flow, FlowSet, Map, Timeouts, adjust_checksum
from pyclick.errors import ConfigError

if TYPE_CHECKING:
    from pyclick.packet import Packet

#: Timeouts and intervals: up to a year.
SECONDS = TIME.range(0, 365 * 86400.0)
#: Flows one rewriter (or a group sharing a capacity) may hold.
CAPACITY = UNSIGNED.range(0, 0x7FFFFFFF)
TCP, UDP, ICMP, DCCP = 6, 17, 1, 33


def annotation_keywords(args: Args) -> tuple[bool, int | None]:
    """DST_ANNO and REPLY_ANNO, as the rewriters and ICMPRewriter read them."""
    return args.read("DST_ANNO", BOOL, True), args.read("REPLY_ANNO", ANNO1)


class CapacityArg:
    """A number of flows, or the name of a rewriter whose capacity to share."""

    def __call__(self, text: str, args: Args) -> int | RewriterBase:
        word = text.strip()
        if not word or word[0] in "0123456789+-.":
            return CAPACITY(word, args)
        element = ELEMENT(word, args)
        if not isinstance(element, RewriterBase):
            raise ValueError(f"'{element.declaration()}' is not a rewriter")
        return element


class RewriterBase(Element):
    """Base of the rewriters (no manual: not an element class of its own)."""

    registered = False
    port_count = "1-/1-"
    processing = PUSH
    #: DST_ANNO: give a rewritten packet its new destination address as annotation.
    dst_anno: bool
    #: REPLY_ANNO: where the one-byte annotation a flow's first packet carried is
    #: kept and given back to the packets of its replies (None: nowhere).
    reply_anno: int | None

    # --- configuration
    def read_keywords(self, args: Args) -> None:
        """Read the subclass's own keywords (timeouts, and ``read_annotations``)."""

    def read_annotations(self, args: Args) -> None:
        """DST_ANNO and REPLY_ANNO, which every rewriter takes."""
        self.dst_anno, self.reply_anno = annotation_keywords(args)

    def maps(self) -> list[Map]:
        """The maps whose mappings the table handlers print, in order."""
        raise NotImplementedError

    def flow_parts(self, protocol: int) -> tuple[Map, Timeouts, type[Flow]] | None:
        """Where flows of IP protocol ``protocol`` live, their timeouts and their
        class; None for a protocol this rewriter does not map."""
        raise NotImplementedError

    def complete_key(self, key: Key) -> Key:
        """A new identifier an input spec chose, completed (ICMP echo: the reply's
        identifier follows the request's)."""
        return key

    def configure(self, args: Args) -> None:
        self.read_keywords(args)
        capacity = args.read("MAPPING_CAPACITY", CapacityArg(), None)
        capacity = args.read("CAPACITY", CapacityArg(), capacity)
        interval = args.read("REAP_TIME", SECONDS, 15 * 60.0)
        self.reap_interval = args.read("REAP_INTERVAL", SECONDS, interval)
        specs = self.read_specs(args)
        args.complete()
        self.specs: list[InputSpec] = specs
        self._capacity = 0x7FFFFFFF if capacity is None else capacity
        self.flowset = FlowSet(self._capacity if isinstance(self._capacity, int) else 0)
        self._next_reap = 0.0

    def read_specs(self, args: Args) -> list[InputSpec]:
        """The positional arguments' input specs, one an input; each bad one is
        reported and left out."""
        texts = args.rest()
        if len(texts) != self.ninputs:
            args.error(f"need {self.ninputs} arguments, one per input port")
            texts = []
        specs = []
        for number, text in enumerate(texts):
            try:
                specs.append(parse_input_spec(text, args, self.noutputs,
                                              lambda name: find_pattern(self.router, name)))
            except ValueError as err:
                args.error(f"input spec {number}: {err}")
        return specs

    def initialize(self) -> None:
        if isinstance(self._capacity, RewriterBase):
            # The named rewriter initialized first (this one names it).
            self.flowset = self._capacity.flowset
        # The router places these messages (landmark, declaration).
        errors = [f"input spec {number}: {message}"
                  for number, spec in enumerate(self.specs) if spec.mapper is not None
                  for message in spec.mapper.output_errors(self.noutputs)]
        if errors:
            raise ConfigError(messages=errors)
        for number in range(len(self.specs)):
            self.router.handlers.add_read(self, f"pattern{number}",
                                          partial(self._read_spec, number))
            self.router.handlers.add_write(self, f"pattern{number}",
                                           partial(self._write_spec, number))

    def _read_spec(self, number: int) -> str:
        return self.specs[number].describe() + "\n"

    def _write_spec(self, number: int, text: str) -> None:
        """Replace input ``number``'s spec; the flows the old one installed go."""
        try:
            spec = parse_input_spec(text, Args(text, self), self.noutputs,
                                    lambda name: find_pattern(self.router, name))
        except ValueError as err:
            raise ValueError(f"input spec {number}: {err}") from None
        if spec.mapper is not None and spec.mapper.output_errors(self.noutputs):
            raise ValueError(f"input spec {number}: "
                             f"{spec.mapper.output_errors(self.noutputs)[0]}")
        old = self.specs[number]
        for flow in [f for f in self.flowset.flows if f.spec is old]:
            self.flowset.destroy(flow)
        self.specs[number] = spec

    # --- flows
    def flow_for(self, port: int, key: Key, protocol: int, now: float,
                 reply_anno: int = 0) -> tuple[Flow, int] | int:
        """The flow and direction of a packet with identifier ``key``, installing
        a flow by input ``port``'s spec if needed (keeping ``reply_anno`` for its
        replies); otherwise the output to send the packet to unchanged (-1: drop
        it)."""
        parts = self.flow_parts(protocol)
        if parts is None:
            return self.unhandled(port)
        table, timeouts, flow_class = parts
        entry = table.get(key)
        if entry is not None:
            if not entry[0].expired(now):
                return entry
            self.flowset.destroy(entry[0])
        spec = self.specs[port]
        if spec.kind == "drop":
            return -1
        if spec.kind == "pass":
            return spec.foutput
        if self.reap_interval and now >= self._next_reap:
            self.flowset.reap(now)
            self._next_reap = now + self.reap_interval

        def taken(reply: Key) -> bool:
            reply = reverse(self.complete_key(reverse(reply)))
            found = table.get(reply)
            return found is not None and not found[0].expired(now)

        foutput, routput = spec.foutput, spec.routput
        if spec.kind == "keep":
            new: Key | None = key
        elif spec.pattern is not None:
            new = spec.pattern.rewrite(key, taken, self.router.random_source(self))
        else:
            assert spec.mapper is not None
            mapped = spec.mapper.map_flow(key, taken)
            new = None
            if mapped is not None and max(mapped[1], mapped[2]) < self.noutputs:
                new, foutput, routput = mapped
        if new is None:
            spec.failures += 1
            return -1
        new = self.complete_key(new)
        flow = flow_class((key, reverse(new)), (new, reverse(key)), (foutput, routput), spec,
                          port, table, timeouts, now)
        flow.reply_anno = reply_anno
        if not self.flowset.add(flow, now):
            spec.failures += 1
            return -1
        return flow, 0

    def lookup(self, protocol: int, key: Key) -> tuple[Flow, int] | None:
        """The live mapping of ``key`` for ``protocol``, installing nothing."""
        parts = self.flow_parts(protocol)
        entry = parts[0].get(key) if parts is not None else None
        if entry is None or entry[0].expired(self.router.now()):
            return None
        return entry

    def install(self, protocol: int, key: Key, port: int) -> tuple[Flow, int] | None:
        """The mapping of ``key``, installed by input ``port``'s spec as if a packet
        had arrived there if there is none; None when the spec installs nothing."""
        found = self.flow_for(port, key, protocol, self.router.now())
        return None if isinstance(found, int) else found

    # --- packets
    def handle(self, port: int, packet: Packet, now: float) -> int:
        """Rewrite one packet arrived on ``port``; the output it leaves by, -1 to drop it.
        A TCP or UDP packet's flow is known by its addresses and ports; a rewriter
        of other packets says how it knows theirs."""
        where = ip_header(packet)
        if where is None:
            return self.unhandled(port)
        at, t, _ = where
        return self.forward(port, packet, packet_key(packet.data, at, t), where, now)

    def rewrite(self, flow: Flow, data: memoryview, at: int, t: int, direction: int,
                protocol: int) -> None:
        """Rewrite the headers of a packet of ``flow`` going in ``direction``, its IP
        header at ``at`` and its transport header at ``t``."""
        raise NotImplementedError

    def forward(self, port: int, packet: Packet, key: Key, where: tuple[int, int, int],
                now: float) -> int:
        """Rewrite ``packet`` (identifier ``key``, headers where :func:`ip_header`
        found them) by its flow, installing one by input ``port``'s spec if needed;
        the output it leaves by, -1 to drop it."""
        at, t, protocol = where
        kept = self.reply_anno
        found = self.flow_for(port, key, protocol, now,
                              0 if kept is None else packet.anno_u8(kept))
        if isinstance(found, int):
            return found
        flow, direction = found
        self.rewrite(flow, packet.writable_data(), at, t, direction, protocol)
        if self.dst_anno:
            packet.dst_ip = flow.new[direction][2]
        if direction and kept is not None:
            packet.set_anno_u8(kept, flow.reply_anno)
        flow.saw_packet(direction, now)
        return flow.outputs[direction]

    def unhandled(self, port: int) -> int:
        """Where a packet the rewriter cannot map goes: a 'pass' input's output, or nowhere."""
        spec = self.specs[port]
        return spec.foutput if spec.kind == "pass" else -1

    def push(self, port: int, batch: list[Packet]) -> None:
        groups: dict[int, list[Packet]] = {}
        now = self.router.now()
        for packet in batch:
            output = self.handle(port, packet, now)
            if output >= 0:
                groups.setdefault(output, []).append(packet)
        for output, group in groups.items():
            self.output_push(output, group)

    # --- handlers
    def table_text(self, table: Map) -> str:
        now = self.router.now()
        return "".join(flow.unparse(direction, now) + "\n"
                       for flow, direction in table.values() if not flow.expired(now))

    @read_handler("table_size")
    def _read_table_size(self) -> str:
        return str(sum(spec.count for spec in self.specs))

    @read_handler("nmappings")
    def _read_nmappings(self) -> str:
        return self._read_table_size()

    @read_handler("mapping_failures")
    def _read_failures(self) -> str:
        return str(sum(spec.failures for spec in self.specs))

    @read_handler("patterns")
    def _read_patterns(self) -> str:
        return "".join(spec.describe() + "\n" for spec in self.specs)

    @read_handler("size")
    def _read_size(self) -> str:
        return str(len(self.flowset))

    @read_handler("capacity")
    def _read_capacity(self) -> str:
        return str(self.flowset.capacity)

    @write_handler("capacity")
    def _write_capacity(self, value: str) -> None:
        capacity = CAPACITY(value, None)
        self.flowset.capacity = capacity
        self.flowset.shrink(capacity, self.router.now())

    @write_handler("clear")
    def _write_clear(self, value: str) -> None:
        self.flowset.clear(self.maps())


class SingleTableRewriter(RewriterBase):
    """Base of the rewriters with one mapping table, ``table``, for the IP
    protocols in ``protocols`` (no manual: not an element class of its own)."""

    registered = False
    protocols: tuple[int, ...]
    flow_class: type[Flow] = Flow
    #: The flows' timeouts (read among the subclass's keywords).
    timeouts: Timeouts

    def configure(self, args: Args) -> None:
        self.table: Map = {}
        super().configure(args)

    def maps(self) -> list[Map]:
        return [self.table]

    def flow_parts(self, protocol: int) -> tuple[Map, Timeouts, type[Flow]] | None:
        return (self.table, self.timeouts, self.flow_class) if protocol in self.protocols else None

    @read_handler("table")
    @read_handler("mappings")
    def _read_table(self) -> str:
        return self.table_text(self.table)


def ip_header(packet: Packet, need: int = 8) -> tuple[int, int, int] | None:
    """(IP header offset, transport header offset, protocol) of a first fragment
    with ``need`` transport bytes; None otherwise."""
    at = ip_header_offset(packet)
    data = packet.data
    if len(data) < at + 20:
        return None
    hlen = (data[at] & 15) * 4
    if hlen < 20 or data[at + 6] & 0x1F or data[at + 7] or len(data) < at + hlen + need:
        return None
    return at, at + hlen, data[at + 9]


def packet_key(data: bytes, at: int, t: int) -> Key:
    """A TCP or UDP packet's flow identifier."""
    sport, dport = struct.unpack_from("!HH", data, t)
    return (data[at + 12:at + 16], sport, data[at + 16:at + 20], dport)


def rewrite_addresses(data: memoryview, at: int, new: Key) -> bytes:
    """Give the IP header at ``at`` the addresses of ``new``, updating its checksum;
    the old addresses (for the transport checksum's pseudo-header)."""
    old = bytes(data[at + 12:at + 20])
    addresses = new[0] + new[2]
    if addresses != old:
        data[at + 12:at + 20] = addresses
        (ip_sum,) = struct.unpack_from("!H", data, at + 10)
        struct.pack_into("!H", data, at + 10, adjust_checksum(ip_sum, old, addresses))
    return old


def rewrite_ports(data: memoryview, t: int, new: Key, old_addresses: bytes,
                  sum_at: int | None, optional_sum: bool = False) -> None:
    """Give the TCP or UDP header at ``t`` the ports of ``new``, and update the
    checksum at ``t + sum_at`` (if the packet holds it) for the ports and the
    addresses; ``optional_sum``: 0 means no checksum (UDP)."""
    old_ports = bytes(data[t:t + 4])
    ports = struct.pack("!HH", new[1], new[3])
    data[t:t + 4] = ports
    if sum_at is None or len(data) < t + sum_at + 2:
        return
    (old_sum,) = struct.unpack_from("!H", data, t + sum_at)
    if optional_sum and old_sum == 0:
        return
    new_sum = adjust_checksum(old_sum, old_addresses + old_ports, new[0] + new[2] + ports)
    if optional_sum and new_sum == 0:
        new_sum = 0xFFFF
    struct.pack_into("!H", data, t + sum_at, new_sum)
