"""IPRewriter: network address and port translation (NAPT) by input specifications."""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass

from pyclick.args import BOOL, TIME, UNSIGNED, Args
from pyclick.element import PUSH, Element, read_handler
from pyclick.elements.inet import IPADDR, checksum, ip_header_offset, unparse_ip
from pyclick.packet import Packet

TCP, UDP = 6, 17
#: Timeouts accepted: up to a year.
_TIMEOUT = TIME.range(0, 365 * 86400.0)
#: (source address, source port, destination address, destination port, protocol).
Flow = tuple[bytes, int, bytes, int, int]


@dataclass(frozen=True)
class Spec:
    """An input specification: kind (drop, pass, keep, pattern), outputs, and for
    patterns the replacement fields (None: keep the packet's)."""

    kind: str
    forward: int = -1
    reverse: int = -1
    saddr: bytes | None = None
    sports: tuple[int, int] | None = None
    #: How a source port is chosen in a range: prefer the packet's (""),
    #: sequentially ("#") or at random ("?").
    choice: str = ""
    daddr: bytes | None = None
    dport: int | None = None


@dataclass
class _Connection:
    """State two mappings (a flow and its reply) share."""

    used: float
    done: bool = False


@dataclass(frozen=True)
class Mapping:
    new: tuple[bytes, int, bytes, int]
    output: int
    connection: _Connection


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise ValueError(f"bad port '{text}'")
    return int(text)


def parse_spec(text: str) -> Spec:
    """One INPUTSPEC (see the manual); ValueError when wrong."""
    words = text.split()
    kind = words[0] if words else ""
    if kind in ("drop", "discard") and len(words) == 1:
        return Spec("drop")
    if kind == "pass" and len(words) == 2:
        return Spec("pass", _port(words[1]))
    if kind == "keep" and len(words) == 3:
        return Spec("keep", _port(words[1]), _port(words[2]))
    if kind == "pattern" and len(words) == 7:
        saddr, sport, daddr, dport = words[1:5]
        choice = ""
        sports = None
        if sport != "-":
            if sport[-1:] in ("#", "?"):
                sport, choice = sport[:-1], sport[-1]
            low, _, high = sport.partition("-")
            sports = (_port(low), _port(high or low))
            if sports[0] > sports[1]:
                raise ValueError(f"bad port range '{words[2]}'")
        return Spec("pattern", _port(words[5]), _port(words[6]),
                    None if saddr == "-" else IPADDR(saddr), sports, choice,
                    None if daddr == "-" else IPADDR(daddr),
                    None if dport == "-" else _port(dport))
    raise ValueError("expected 'drop', 'pass OUTPUT', 'keep FOUTPUT ROUTPUT' or "
                     "'pattern SADDR SPORT DADDR DPORT FOUTPUT ROUTPUT'")


def _adjusted(old_sum: int, old: bytes, new: bytes) -> int:
    """A checksum updated for 16-bit words ``old`` replaced by ``new`` (RFC 1624)."""
    total = ~old_sum & 0xFFFF
    for (was,), (now,) in zip(struct.iter_unpack("!H", old), struct.iter_unpack("!H", new)):
        total += (~was & 0xFFFF) + now
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class IPRewriter(Element):
    """IPRewriter(INPUTSPEC1, ..., INPUTSPECn, KEYWORDS) -- rewrites TCP/UDP packets' addresses and ports

    Description
    Rewrites the source and destination addresses and ports of TCP and UDP
    packets, and their checksums: a network address and port translator.
    A mapping table, indexed by flow (source address and port, destination
    address and port, protocol), says how each known flow is rewritten and
    which output it leaves by. A packet of an unknown flow is handled by
    the INPUTSPEC of the input it arrived on (there are as many inputs as
    INPUTSPECs):

      drop, discard -- drop it
      pass OUTPUT -- send it to OUTPUT unchanged, installing nothing
      keep FOUTPUT ROUTPUT -- install mappings that change nothing: the flow leaves by FOUTPUT, its replies by ROUTPUT
      pattern SADDR SPORT DADDR DPORT FOUTPUT ROUTPUT -- rewrite the flow to the pattern ('-' keeps a field) and leave by FOUTPUT; its replies are rewritten back and leave by ROUTPUT

    SPORT may be a range L-H: the packet's own source port is kept when it
    lies in the range and is free, otherwise the first free port from L
    is taken ('L-H#': always sequentially, from after the last one given;
    'L-H?': at random). A packet for which no port is free is dropped and
    counted as a mapping failure.

    Non-TCP/UDP packets and fragments other than the first are dropped,
    unless their input's spec is pass. A flow's mappings expire when idle
    for UDP_TIMEOUT (UDP) or TCP_TIMEOUT (TCP), TCP_DONE_TIMEOUT once a FIN
    or RST was seen. Input packets need their network header annotation
    (CheckIPHeader); the IP header is taken at the start of the packet
    otherwise.

    Ports
    one or more push inputs, one or more push outputs

    Keyword arguments
    TCP_TIMEOUT -- idle time before a TCP flow's mappings expire (timeouts: up to a year); default 24h
    TCP_DONE_TIMEOUT -- the same after a FIN or RST; default 4min
    UDP_TIMEOUT -- idle time before a UDP flow's mappings expire; default 5min
    MAPPING_CAPACITY -- most flows mapped at once, 0 for no limit; new flows past it are dropped; default 0
    DST_ANNO -- set the destination IP address annotation to the rewritten destination; default true

    Element handlers
    table (read) -- the mappings, one per line: (SA, SP, DA, DP, PROTO) => (SA', SP', DA', DP') [OUTPUT]
    table_size (read) -- mappings in the table (two per flow)
    mapping_failures (read) -- flows dropped for want of a port or of room

    Example
    rw :: IPRewriter(pattern 18.26.4.24 1024-65535# - - 0 1, drop);
    InfiniteSource(LIMIT 1) -> UDPIPEncap(10.0.0.1, 5000, 1.1.1.1, 53) -> rw;
    rw[0] -> Discard; rw[1] -> Discard; Idle -> [1]rw;
    """

    port_count = "1-/1-"
    processing = PUSH

    def configure(self, args: Args) -> None:
        self.tcp_timeout = args.read("TCP_TIMEOUT", _TIMEOUT, 86400.0)
        self.tcp_done_timeout = args.read("TCP_DONE_TIMEOUT", _TIMEOUT, 240.0)
        self.udp_timeout = args.read("UDP_TIMEOUT", _TIMEOUT, 300.0)
        self.capacity = args.read("MAPPING_CAPACITY", UNSIGNED.range(0, 1 << 24), 0)
        self.dst_anno = args.read("DST_ANNO", BOOL, True)
        texts = args.rest()
        specs = []
        if len(texts) != self.ninputs:
            args.error(f"need {self.ninputs} arguments, one per input port")
        for number, text in enumerate(texts):
            try:
                spec = parse_spec(text)
            except ValueError as err:
                args.error(f"input spec {number}: {err}")
                continue
            outputs = [o for o in (spec.forward, spec.reverse) if o >= 0]
            if any(o >= self.noutputs for o in outputs):
                args.error(f"input spec {number}: output out of range "
                           f"(the element has {self.noutputs} outputs)")
            specs.append(spec)
        args.complete()
        self.specs = specs
        self.mappings: dict[Flow, Mapping] = {}
        self.failures = 0
        self._next_port: dict[Spec, int] = {}

    def push(self, port: int, batch: list[Packet]) -> None:
        groups: dict[int, list[Packet]] = {}
        now = self.router.now()
        for packet in batch:
            output = self._handle(port, packet, now)
            if output >= 0:
                groups.setdefault(output, []).append(packet)
        for output, group in groups.items():
            self.output_push(output, group)

    def _handle(self, port: int, packet: Packet, now: float) -> int:
        spec = self.specs[port]
        at = ip_header_offset(packet)
        data = packet.data
        hlen = (data[at] & 15) * 4 if len(data) > at else 0
        proto = data[at + 9] if len(data) >= at + 20 else -1
        first = len(data) >= at + 20 and not struct.unpack_from("!H", data, at + 6)[0] & 0x1FFF
        if proto not in (TCP, UDP) or not first or len(data) < at + hlen + 8 or hlen < 20:
            return spec.forward if spec.kind == "pass" else -1
        t = at + hlen
        sport, dport = struct.unpack_from("!HH", data, t)
        flow = (data[at + 12:at + 16], sport, data[at + 16:at + 20], dport, proto)
        mapping = self.mappings.get(flow)
        if mapping is not None and self._expired(mapping, proto, now):
            self._remove(flow, mapping)
            mapping = None
        if mapping is None:
            if spec.kind == "drop":
                return -1
            if spec.kind == "pass":
                return spec.forward
            mapping = self._install(spec, flow, now)
            if mapping is None:
                self.failures += 1
                return -1
        mapping.connection.used = now
        if proto == TCP and data[t + 13] & 0x05:
            mapping.connection.done = True
        self._rewrite(packet, at, t, flow, mapping.new, proto)
        return mapping.output

    def _expired(self, mapping: Mapping, proto: int, now: float) -> bool:
        if proto == UDP:
            timeout = self.udp_timeout
        else:
            timeout = self.tcp_done_timeout if mapping.connection.done else self.tcp_timeout
        return now - mapping.connection.used >= timeout

    def _remove(self, flow: Flow, mapping: Mapping) -> None:
        self.mappings.pop(flow, None)
        sa, sp, da, dp = mapping.new
        self.mappings.pop((da, dp, sa, sp, flow[4]), None)

    def _install(self, spec: Spec, flow: Flow, now: float) -> Mapping | None:
        if self.capacity and len(self.mappings) // 2 >= self.capacity:
            return None
        sa, sp, da, dp, proto = flow
        new_sa = spec.saddr or sa
        new_da = spec.daddr or da
        new_dp = dp if spec.dport is None else spec.dport
        new_sp = sp if spec.sports is None else self._free_port(spec, sp, new_sa, new_da,
                                                                new_dp, proto)
        if new_sp is None:
            return None
        connection = _Connection(now)
        forward = Mapping((new_sa, new_sp, new_da, new_dp), spec.forward, connection)
        reverse = Mapping((da, dp, sa, sp), spec.reverse, connection)
        self.mappings[flow] = forward
        self.mappings[(new_da, new_dp, new_sa, new_sp, proto)] = reverse
        return forward

    def _free_port(self, spec: Spec, own: int, sa: bytes, da: bytes, dp: int,
                   proto: int) -> int | None:
        assert spec.sports is not None
        low, high = spec.sports

        def free(port: int) -> bool:
            return (da, dp, sa, port, proto) not in self.mappings

        if spec.choice == "" and low <= own <= high and free(own):
            return own
        count = high - low + 1
        if spec.choice == "?":
            start = random.randrange(count)
        elif spec.choice == "#":
            start = self._next_port.get(spec, low) - low
        else:
            start = 0
        for step in range(count):
            port = low + (start + step) % count
            if free(port):
                if spec.choice == "#":
                    self._next_port[spec] = low + (port - low + 1) % count
                return port
        return None

    def _rewrite(self, packet: Packet, at: int, t: int, flow: Flow,
                 new: tuple[bytes, int, bytes, int], proto: int) -> None:
        sa, sp, da, dp = new
        if (sa, sp, da, dp) != flow[:4]:
            data = packet.writable_data()
            old_addresses = bytes(data[at + 12:at + 20])
            old_ports = bytes(data[t:t + 4])
            new_addresses, new_ports = sa + da, struct.pack("!HH", sp, dp)
            data[at + 12:at + 20] = new_addresses
            data[t:t + 4] = new_ports
            hlen = t - at
            data[at + 10:at + 12] = b"\0\0"
            data[at + 10:at + 12] = struct.pack("!H", checksum(data[at:at + hlen]))
            where = t + (16 if proto == TCP else 6)
            if len(data) >= where + 2:
                (old_sum,) = struct.unpack_from("!H", data, where)
                if proto == TCP or old_sum:
                    new_sum = _adjusted(old_sum, old_addresses + old_ports,
                                        new_addresses + new_ports)
                    if proto == UDP and new_sum == 0:
                        new_sum = 0xFFFF
                    data[where:where + 2] = struct.pack("!H", new_sum)
        if self.dst_anno:
            packet.dst_ip = da

    @read_handler("table")
    def _read_table(self) -> str:
        lines = []
        for (sa, sp, da, dp, proto), mapping in self.mappings.items():
            nsa, nsp, nda, ndp = mapping.new
            lines.append(f"({unparse_ip(sa)}, {sp}, {unparse_ip(da)}, {dp}, {proto}) => "
                         f"({unparse_ip(nsa)}, {nsp}, {unparse_ip(nda)}, {ndp}) "
                         f"[{mapping.output}]\n")
        return "".join(lines)

    @read_handler("table_size")
    def _read_table_size(self) -> str:
        return str(len(self.mappings))

    @read_handler("mapping_failures")
    def _read_failures(self) -> str:
        return str(self.failures)
