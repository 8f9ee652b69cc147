"""AggregateIPFlows: an aggregate number per TCP or UDP flow, fragments and
ICMP errors included, and the flows' summary in XML (TRACEINFO)."""

from __future__ import annotations

import sys
from typing import IO

from pyclick.args import BOOL, ELEMENT, FILENAME, UNSIGNED, Args
from pyclick.element import PROCESSING_A_AH
from pyclick.elements.aggregateipaddrpair import WHOLE_SECONDS, AggregateNotifying, \
    HostPairTable, host_pair, older
from pyclick.elements.aggregatemisc import DELETE_AGG, NEW_AGG
from pyclick.elements.anonipaddr import icmp_quoted
from pyclick.elements.ipsumfields import split_time
from pyclick.errors import ConfigError
from pyclick.packet import ANNOTATIONS, Packet
from pyclick.runtime.handlers import HandlerError

_AGGREGATE = ANNOTATIONS["AGGREGATE"][0]
_U32 = 0xFFFFFFFF
_ICMP, _TCP, _UDP = 1, 6, 17
_FIN, _SYN, _RST = 0x01, 0x02, 0x04
_EMIT, _DROP, _HELD = range(3)


def _fragment(ip: bytes) -> bool:
    """Whether the IP header ``ip`` is of a fragment (first or later)."""
    return int.from_bytes(ip[6:8], "big") & 0x3FFF != 0


def _later_fragment(ip: bytes) -> bool:
    return int.from_bytes(ip[6:8], "big") & 0x1FFF != 0


class _Flow:
    """One flow: its ports as Click keeps them (host order, the forward
    direction's), its aggregate, whether it began in reverse, which sides
    sent a FIN (3: over), and what TRACEINFO reports."""

    __slots__ = ("ports", "aggregate", "reverse", "over", "last_ts", "first_ts", "filepos",
                 "packets")

    def __init__(self, ports: int) -> None:
        self.ports, self.aggregate, self.reverse, self.over = ports, 0, False, 0
        self.last_ts = self.first_ts = 0.0
        self.filepos = 0
        self.packets = [0, 0]


class _Pair:
    """A pair of addresses: its flows, most recently used first, and the
    fragments held until their flow is known."""

    __slots__ = ("flows", "fragments")

    def __init__(self) -> None:
        self.flows: list[_Flow] = []
        self.fragments: list[Packet] = []


def _ip(packet: Packet, offset: int, length: int = 20) -> bytes:
    """Up to ``length`` bytes of ``packet`` from ``offset``."""
    start = packet.data_offset + offset
    return bytes(packet.buffer[start:min(start + length, packet.data_offset + len(packet))])


def _flow_ip(packet: Packet) -> int:
    """The offset of the header that names a held packet's flow: the quoted
    one in an ICMP error, the packet's own otherwise."""
    nh = packet.network_header_offset or 0
    if packet.byte(nh + 9) == _ICMP:
        return packet.transport_header_offset + 8
    return nh


class AggregateIPFlows(AggregateNotifying):
    """AggregateIPFlows(KEYWORDS) -- sets aggregate annotation based on flow

    Description
    Gives each TCP or UDP packet the aggregate number of its flow (its
    addresses and ports): the packets of a connection and its replies get
    the same number, numbers counting from 1 as flows appear. The paint
    annotation tells the direction: 0 for the direction of the flow's first
    packet, 1 for replies. The network and transport header annotations
    must be set (CheckIPHeader). Other packets, packets too short for the
    ports, and packets from 0.0.0.0 to 0.0.0.0 leave by output 1 when it is
    connected and are dropped otherwise.

    A flow ends after a time without packets, in whole seconds of the
    packets' timestamps: UDP_TIMEOUT for UDP, TCP_TIMEOUT for TCP,
    TCP_DONE_TIMEOUT for a TCP flow that saw a FIN each way or a RST. Its
    next packet, or a SYN after the end of a TCP flow, starts a flow with a
    new number. Every REAP seconds of packet time, ended flows are
    forgotten. A packet without timestamp is stamped with the current time,
    with a warning the first time. AggregateIPFlows tells elements
    listening to it (AggregateFirst, AggregateLast with NOTIFIER) when a
    flow's number begins and ends.

    With ICMP, an ICMP error about a TCP or UDP packet gets the aggregate
    of that packet's flow and the paint 2 + that packet's paint.

    With FRAGMENTS (the default when the input is push), fragments after
    the first get the number of their datagram's first fragment: all the
    packets between two addresses are held, in order, from a fragment on,
    and leave once they are no fragments or are more than FRAGMENT_TIMEOUT
    seconds older than the latest; fragments whose first fragment never
    came are dropped then. Packets of different address pairs may thus be
    reordered. The clear handler lets out whatever is held. Without
    FRAGMENTS, fragments after the first leave by output 1.

    With TRACEINFO, each flow is written to a file in XML when it is
    forgotten (and at the end): its aggregate, source and destination
    address and port, begin time and duration, the packets each way, and
    the SOURCE element's packet_filepos when the flow began. The file
    begins with the SOURCE element's filename and, unless it is '-' (the
    standard output), ends with '</trace>'.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (other packets)

    Keyword arguments
    TCP_TIMEOUT -- how long a TCP flow lives without packets, in whole seconds; default 86400
    TCP_DONE_TIMEOUT -- the same for a TCP flow that is over, in whole seconds; default 30
    UDP_TIMEOUT -- the same for a UDP flow, in seconds; default 60
    FRAGMENT_TIMEOUT -- how long a fragment is held, in seconds; default 30
    REAP -- how often ended flows are forgotten, in seconds of packet time; default 20 minutes
    ICMP -- give ICMP errors the aggregate of the flow they are about; default false
    FRAGMENTS -- number later fragments; only with a push input; default true with a push input
    TRACEINFO -- a file for the flows' summary; default none
    SOURCE -- an element whose filename and packet_filepos handlers TRACEINFO reports; default none

    Element handlers
    clear (write) -- forgets every flow and lets out every held packet

    Example
    FromDump(trace.pcap, STOP true, FORCE_IP true) -> af :: AggregateIPFlows
        -> AggregateCounter -> Discard;
    DriverManager(wait, write af.clear);
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        super().configure(args)
        self.tcp_timeout = args.read("TCP_TIMEOUT", UNSIGNED.range(0, _U32), 86400)
        self.tcp_done_timeout = args.read("TCP_DONE_TIMEOUT", UNSIGNED.range(0, _U32), 30)
        self.udp_timeout = args.read("UDP_TIMEOUT", WHOLE_SECONDS, 60)
        self.fragment_timeout = args.read("FRAGMENT_TIMEOUT", WHOLE_SECONDS, 30)
        self.reap_interval = args.read("REAP", WHOLE_SECONDS, 20 * 60)
        self.icmp = args.read("ICMP", BOOL, False)
        self.traceinfo = args.read("TRACEINFO", FILENAME)
        self.source = args.read("SOURCE", ELEMENT)
        self.fragments = args.read("FRAGMENTS", BOOL)
        args.complete()
        self._smallest_timeout = min(self.tcp_timeout, self.tcp_done_timeout, self.udp_timeout)
        self._tcp, self._udp = HostPairTable(), HostPairTable()
        self._file: IO[str] | None = None

    def initialize(self) -> None:
        self._next = 1
        self._active_sec = self._reap_sec = 0
        if self.fragments is None:
            self.fragments = not self.input_is_pull(0)
        elif self.fragments and self.input_is_pull(0):
            raise ConfigError(f"While initializing '{self.declaration()}': 'FRAGMENTS true' is "
                              "incompatible with pull; run this element in a push context",
                              self.landmark)
        if self.traceinfo is not None:
            self._open_traceinfo()

    def _open_traceinfo(self) -> None:
        try:
            self._file = sys.stdout if self.traceinfo == "-" else open(self.traceinfo, "w")
        except OSError as err:
            raise ConfigError(f"While initializing '{self.declaration()}': {self.traceinfo}: "
                              f"{err.strerror}", self.landmark) from None
        head = "<?xml version='1.0' standalone='yes'?>\n<trace"
        name = self._source_read("filename").strip()
        if name:
            head += f" file='{name}'"
        self._file.write(head + ">\n")

    def _source_read(self, handler: str) -> str:
        if self.source is None:
            return ""
        try:
            return self.router.handlers.read(f"{self.source.name}.{handler}")
        except HandlerError:
            return ""

    def cleanup(self) -> None:
        for table in (self._tcp, self._udp):
            for key, pair in table.items():
                pair.fragments.clear()
                for flow in pair.flows:
                    self._write_flow(key, flow)
                pair.flows.clear()
        if self._file is not None:
            if self._file is sys.stdout:
                self._file.flush()
            else:
                self._file.write("</trace>\n")
                self._file.close()
            self._file = None

    def _write_flow(self, key: tuple[int, int], flow: _Flow) -> None:
        """Report ``flow`` of host pair ``key`` to TRACEINFO."""
        if self._file is None:
            return
        a, b = (addr.to_bytes(4, sys.byteorder) for addr in key)
        src, dst = (b, a) if flow.reverse else (a, b)
        ports = int.from_bytes(flow.ports.to_bytes(4, sys.byteorder), "big")
        sport, dport = ((ports, ports >> 16) if flow.reverse else (ports >> 16, ports))
        first, last = (split_time(ts, self.router.to_epoch) for ts in (flow.first_ts, flow.last_ts))
        begin = first[0] * 1_000_000_000 + first[1]
        duration = last[0] * 1_000_000_000 + last[1] - begin
        text = (f"<flow aggregate='{flow.aggregate}' src='{_dotted(src)}' sport='{sport & 0xFFFF}'"
                f" dst='{_dotted(dst)}' dport='{dport & 0xFFFF}' begin='{_stamp(begin)}'"
                f" duration='{_stamp(duration)}'")
        if flow.filepos:
            text += f" filepos='{flow.filepos}'"
        self._file.write(f"{text}>\n  <stream dir='0' packets='{flow.packets[0]}' />"
                         f"<stream dir='1' packets='{flow.packets[1]}' />\n</flow>\n")

    # --- packets
    def push(self, port: int, batch: list[Packet]) -> None:
        for packet in batch:
            action = self._handle(packet)
            if self._active_sec >= self._reap_sec:
                self._reap()
            if action == _EMIT:
                self.output_push(0, [packet])
            elif action == _DROP:
                self.output_push(1, [packet])

    def pull(self, port: int) -> Packet | None:
        packet = self.input_pull(0)
        action = _HELD if packet is None else self._handle(packet)
        if self._active_sec >= self._reap_sec:
            self._reap()
        if action == _EMIT:
            return packet
        if action == _DROP:
            self.output_push(1, [packet])
        return None

    def _handle(self, packet: Packet) -> int:
        second = self.packet_second(packet)
        nh = packet.network_header_offset
        if nh is None:
            return _DROP
        ip_at, paint = nh, 0
        outer = _ip(packet, nh)
        if len(outer) < 20:
            return _DROP
        if outer[9] == _ICMP and not _later_fragment(outer) and self.icmp:
            quoted = icmp_quoted(packet)
            if quoted is None:
                return _DROP
            ip_at, paint = quoted, 2
        ip = _ip(packet, ip_at)
        if len(ip) < 20 or ip[9] not in (_TCP, _UDP) or ip[12:20] == bytes(8):
            return _DROP
        table = self._tcp if ip[9] == _TCP else self._udp
        key, flipped = host_pair(ip[12:16], ip[16:20])
        paint ^= flipped
        pair = table.get(key, _Pair)
        flow = None
        if not _later_fragment(ip):
            ports_at = ip_at + (ip[0] & 0x0F) * 4
            if ports_at + 4 > len(packet):
                return _DROP
            ports = int.from_bytes(_ip(packet, ports_at, 4), sys.byteorder)
            if key[0] == key[1] and ((ports << 16) - ports) & 0x80000000:
                paint ^= 1
            if paint & 1:
                ports = ((ports >> 16) & 0xFFFF) | ((ports << 16) & _U32)
            flow = self._find_flow(table, key, pair, ports, bool(paint & 1), packet, second)
            paint ^= flow.reverse
            packet.set_anno_u32(_AGGREGATE, flow.aggregate)
        else:
            packet.set_anno_u32(_AGGREGATE, 0)
        packet.paint = paint
        if (self.fragments and _fragment(ip)) or pair.fragments:
            self._hold(packet, pair, second)
            return _HELD
        if flow is None:
            return _DROP
        self._active_sec = second
        self._emitting(packet, ip, flow)
        return _EMIT

    def _timeout(self, flow: _Flow, table: HostPairTable) -> int:
        if table is self._udp:
            return self.udp_timeout
        return self.tcp_done_timeout if flow.over == 3 else self.tcp_timeout

    def _find_flow(self, table: HostPairTable, key: tuple[int, int], pair: _Pair, ports: int,
                   flipped: bool, packet: Packet, second: int) -> _Flow:
        flow = next((f for f in pair.flows if f.ports == ports), None)
        if flow is None:
            flow = _Flow(ports)
        else:
            pair.flows.remove(flow)
            age = second - self.second(flow.last_ts)
            if (age > self._smallest_timeout and age > self._timeout(flow, table)) \
                    or (flow.over == 3 and self._tcp_flags(packet) & _SYN):
                self.notify(flow.aggregate, DELETE_AGG, None)
                self._write_flow(key, flow)
                flow.aggregate = 0
        pair.flows.insert(0, flow)
        if not flow.aggregate:
            flow.aggregate, flow.reverse, flow.over = self._next, flipped, 0
            self._next = (self._next + 1) & _U32
            if self._file is not None:
                flow.first_ts = packet.timestamp
                flow.filepos = _u32(self._source_read("packet_filepos"))
            self.notify(flow.aggregate, NEW_AGG, packet)
        return flow

    @staticmethod
    def _tcp_flags(packet: Packet) -> int:
        """The TCP flags of a TCP packet, 0 for any other."""
        nh, th = packet.network_header_offset, packet.transport_header_offset
        if nh is None or th is None or packet.byte(nh + 9) != _TCP or th + 14 > len(packet):
            return 0
        return packet.byte(th + 13)

    def _emitting(self, packet: Packet, ip: bytes, flow: _Flow) -> None:
        """Account for ``packet`` of ``flow`` (``ip``: the header naming the flow)
        as it leaves: its time, the end of a TCP flow, the TRACEINFO counts."""
        flow.last_ts = packet.timestamp
        paint = packet.paint
        th = packet.transport_header_offset
        if ip[9] == _TCP and not _later_fragment(ip) and paint < 2 and th is not None \
                and len(packet) - th >= 14:
            flags = packet.byte(th + 13)
            if flags & _RST:
                flow.over = 3
            elif flags & _FIN:
                flow.over |= 1 << paint
            elif flags & _SYN:
                flow.over = 0
        if self._file is not None and paint < 2:
            flow.packets[paint] = (flow.packets[paint] + 1) & _U32

    # --- fragments
    def _hold(self, packet: Packet, pair: _Pair, second: int) -> None:
        pair.fragments.append(packet)
        self._active_sec = second
        self._release(pair, second - self.fragment_timeout)

    def _release(self, pair: _Pair, limit: int) -> None:
        """Let out the held packets, in order, up to the first fragment not
        older than second ``limit``."""
        while pair.fragments:
            head = pair.fragments[0]
            if self.second(head.timestamp) >= limit and _fragment(_ip(head, _flow_ip(head))):
                return
            self._emit_held(pair)

    def _emit_held(self, pair: _Pair) -> None:
        head = pair.fragments.pop(0)
        ip = _ip(head, _flow_ip(head))
        ident = ip[4:6]
        same = [p for p in pair.fragments if _ip(p, _flow_ip(p))[4:6] == ident]
        if head.anno_u32(_AGGREGATE):
            for packet in same:
                packet.set_anno_u32(_AGGREGATE, head.anno_u32(_AGGREGATE))
                packet.paint = head.paint
        else:
            numbered = next((p for p in same if p.anno_u32(_AGGREGATE)), None)
            if numbered is None:
                return
            head.set_anno_u32(_AGGREGATE, numbered.anno_u32(_AGGREGATE))
            head.paint = numbered.paint
        flow = next((f for f in pair.flows if f.aggregate == head.anno_u32(_AGGREGATE)), None)
        if flow is not None:
            pair.flows.remove(flow)
            pair.flows.insert(0, flow)
            self._emitting(head, ip, flow)
        self.output_push(0, [head])

    # --- forgetting flows
    def _reap(self) -> None:
        if self._reap_sec:
            self._reap_table(self._tcp, self.tcp_timeout, self.tcp_done_timeout)
            self._reap_table(self._udp, self.udp_timeout, self.udp_timeout)
        self._reap_sec = self._active_sec + self.reap_interval

    def _reap_table(self, table: HostPairTable, timeout: int, done_timeout: int) -> None:
        active = self._active_sec
        fragment_limit = ((active - self.fragment_timeout + 2**31) & _U32) - 2**31
        for key, pair in table.items():
            self._release(pair, fragment_limit)
            if pair.fragments:
                continue
            for flow in list(pair.flows):
                limit = active - (done_timeout if flow.over == 3 else timeout)
                if older(self.second(flow.last_ts), limit):
                    self.notify(flow.aggregate, DELETE_AGG, None)
                    pair.flows.remove(flow)
                    self._write_flow(key, flow)


def _dotted(addr: bytes) -> str:
    return ".".join(str(byte) for byte in addr)


def _stamp(ns: int) -> str:
    """A time as Click's TRACEINFO prints it: seconds, nine decimals."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    return f"{seconds}.{fraction:09d}"


def _u32(text: str) -> int:
    try:
        return UNSIGNED.range(0, _U32)(text.strip(), None)  # type: ignore[arg-type]
    except ValueError:
        return 0
