"""FastUDPFlows and FastTCPFlows: pull sources of many short flows."""

from __future__ import annotations

import struct

from pyclick.args import BOOL, INT, UNSIGNED, Args
from pyclick.element import read_handler, write_handler
from pyclick.elements.fastudpsource import (ETHER_HEADER, IP_HEADER, MIN_LENGTH, RATE, TTL,
                                            FastUDPSource)
from pyclick.elements.handlercall import parse_value
from pyclick.elements.inet import ETHERADDR, IPADDR, ipv4_header, transport_checksum
from pyclick.elements.ipproto import TCP, UDP
from pyclick.packet import Packet
from pyclick.runtime.notifier import Notifier
from pyclick.runtime.timers import Timer

LIMIT = INT.range(-2**31, 2**31 - 1)
#: TCP flags of the three packets of a FastTCPFlows flow: SYN, PSH and ACK, FIN.
KINDS = (0x02, 0x18, 0x01)
#: The shortest flow FastTCPFlows makes: a SYN, a data packet, a FIN.
MIN_TCP_FLOW = 3
_TCP_HEADER = struct.Struct("!2s2s4s4sBBHHH")
_UDP_HEADER = struct.Struct("!2s2sHH")


class _Flow:
    """One flow: the numbers its packets keep when its ports change, its
    packets (one per kind), and how many it gave since its ports changed."""

    def __init__(self, numbers: list[bytes]) -> None:
        self.numbers = numbers
        self.packets: list[Packet] = []
        self.count = 0


class _FastFlows(FastUDPSource):
    """What both flow sources share: the arguments up to FLOWSIZE, the rate,
    LIMIT, ACTIVE and their handlers (FastUDPSource's), and the flow table."""

    registered = False
    protocol: int
    _header_length: int

    def _read_flow_settings(self, args: Args) -> int:
        self.rate = args.read_mp("RATE", RATE)
        self.limit = args.read_mp("LIMIT", LIMIT)
        length = args.read_mp("LENGTH", UNSIGNED.range(0, 65535))
        self.src_eth = args.read_mp("SRCETH", ETHERADDR)
        self.src_ip = args.read_mp("SRCIP", IPADDR)
        self.dst_eth = args.read_mp("DSTETH", ETHERADDR)
        self.dst_ip = args.read_mp("DSTIP", IPADDR)
        # Click divides by FLOWS to pick a flow: none at all cannot work.
        self.nflows = args.read_mp("FLOWS", UNSIGNED.range(1, 2**32 - 1))
        self.flowsize = args.read_mp("FLOWSIZE", UNSIGNED.range(0, 2**32 - 1))
        return length

    def _start_source(self, length: int) -> None:
        self._set_length(length)
        self._random = self.router.random_source(self)
        self._flows: list[_Flow] = []
        self._note = Notifier(active=True)
        self._timer = Timer(self, self._note.wake)
        self._reset()

    def _set_length(self, length: int) -> None:
        if length < MIN_LENGTH:
            self.log.warning("%s: packet length < %d, defaulting to %d", self.declaration(),
                             MIN_LENGTH, MIN_LENGTH)
        self.length = max(length, MIN_LENGTH)

    def initialize(self) -> None:
        self._build_flows()
        self._reset()

    def _build_flows(self) -> None:
        self.count = 0
        self._flows = []
        for _ in range(self.nflows):
            flow = _Flow(self._numbers())
            self._new_ports(flow)
            self._flows.append(flow)

    def _numbers(self) -> list[bytes]:
        return []

    def _new_ports(self, flow: _Flow) -> None:
        flow.packets = self._flow_packets(self._ports(), flow.numbers)

    def _reset(self) -> None:
        self.count = 0
        self._first: float | None = None
        self._last: float | None = None
        self._start: float | None = None
        self._start_count = 0
        self._note.wake()

    def _draw(self) -> int:
        """Click's random number: 31 bits."""
        return self._random.getrandbits(31)

    def _ports(self) -> bytes:
        # Click stores each port as drawn, in its (little-endian) host order.
        return b"".join(((self._draw() >> 2) % 0xFFFF).to_bytes(2, "little") for _ in "sd")

    def _frame(self, segment: bytearray, checksum_at: int | None) -> Packet:
        """The packet of a transport ``segment``, its checksum put at
        ``checksum_at`` (None: left 0)."""
        if checksum_at is not None:
            struct.pack_into("!H", segment, checksum_at,
                             transport_checksum(self.src_ip, self.dst_ip, self.protocol, segment))
        ip = ipv4_header(self.length - ETHER_HEADER, 0, TTL, self.protocol, self.src_ip,
                         self.dst_ip)
        packet = Packet.make(self.dst_eth + self.src_eth + b"\x08\x00" + ip + bytes(segment))
        packet.dst_ip = self.dst_ip
        packet.set_network_header(ETHER_HEADER, IP_HEADER)
        return packet

    @property
    def _payload(self) -> bytes:
        return bytes(self.length - ETHER_HEADER - IP_HEADER - self._header_length)

    def _flow_packets(self, ports: bytes, numbers: list[bytes]) -> list[Packet]:
        raise NotImplementedError

    def _pick(self) -> _Flow:
        """A flow chosen at random, with new ports once it gave FLOWSIZE packets."""
        flow = self._flows[(self._draw() >> 2) % self.nflows]
        if flow.count == self.flowsize:
            self._new_ports(flow)
            flow.count = 0
        flow.count += 1
        return flow

    def _next_packet(self) -> Packet | None:
        return self._pick().packets[0].clone()

    def _finished(self) -> bool:
        return 0 <= self.limit <= self.count

    def pull(self, port: int) -> Packet | None:
        if not self.active or self._finished():
            self._note.sleep()
            return None
        now = self.router.now()
        if not self._rate_allows(now):
            return None
        packet = self._next_packet()
        if packet is None:
            self._note.sleep()
            return None
        self.count += 1
        if self.count == 1:
            self._first = now
        if 0 <= self.limit <= self.count:
            self._last = now
        return packet

    @write_handler("limit")
    def _write_flow_limit(self, value: str) -> None:
        self.limit = parse_value(LIMIT, value)
        self._note.wake()


class FastUDPFlows(_FastFlows):
    """FastUDPFlows(RATE, LIMIT, LENGTH, SRCETH, SRCIP, DSTETH, DSTIP, FLOWS, FLOWSIZE, CHECKSUM, ACTIVE) -- creates packets of many UDP flows

    Description
    A pull source for benchmarks. At initialization it builds FLOWS UDP/IP
    packets in Ethernet frames of LENGTH bytes (at least 60; shorter is
    raised to 60 with a warning), from SRCETH and SRCIP to DSTETH and
    DSTIP, each with its own random source and destination ports. The
    payload is zeros, the IP TTL 250 and the IP ID 0; the UDP checksum is
    computed when CHECKSUM is true. Each pull picks one of the flows at
    random and gives a copy of its packet sharing its bytes. Once a flow
    gave FLOWSIZE packets, the next pick of it draws new ports for it (with
    FLOWSIZE 0, a flow's ports change once, at its first pick). The ports
    are drawn as Click draws them, below 65535 in the byte order of the
    little-endian machines it runs on. Packets carry their destination IP
    annotation and IP header offset.

    At most RATE packets per second are given (0: as fast as pulled), and
    LIMIT packets in all (negative: no limit). Once LIMIT packets went out,
    the rate handler reports the average rate between the first and the
    last.

    Ports
    no inputs, one pull output

    Keyword arguments
    RATE -- the most packets a second, up to 10^9 (0: unlimited); mandatory
    LIMIT -- how many packets to give, at most 2^31-1 (negative: unlimited); mandatory
    LENGTH -- bytes per frame, up to 65535; mandatory
    SRCETH, SRCIP -- the source Ethernet and IP addresses; mandatory
    DSTETH, DSTIP -- the destination Ethernet and IP addresses; mandatory
    FLOWS -- how many flows, at least 1; mandatory
    FLOWSIZE -- packets a flow gives before its ports change; mandatory
    CHECKSUM -- whether to set the UDP checksum; default true
    ACTIVE -- whether to give packets; default true

    Element handlers
    count (read) -- how many packets went out
    rate (read/write) -- reads the average rate once LIMIT is reached (before: 0); writes RATE
    reset (write) -- counts from 0 again
    limit, active (write) -- set LIMIT, ACTIVE (writing true to active also resets)
    length (read/write) -- LENGTH; writing another length builds new flows and sets count to 0

    Example
    FastUDPFlows(0, 20, 60, 0:0:0:0:0:0, 1.0.0.1, 1:1:1:1:1:1, 2.0.0.2, 4, 5)
        -> Unqueue -> c :: Counter -> Discard;
    """

    protocol = UDP
    _header_length = 8

    def configure(self, args: Args) -> None:
        length = self._read_flow_settings(args)
        self.checksum = args.read_p("CHECKSUM", BOOL, True)
        self.active = args.read_p("ACTIVE", BOOL, True)
        args.complete()
        self._start_source(length)

    def _flow_packets(self, ports: bytes, numbers: list[bytes]) -> list[Packet]:
        segment = bytearray(_UDP_HEADER.pack(ports[:2], ports[2:],
                                            self.length - ETHER_HEADER - IP_HEADER, 0)
                            + self._payload)
        return [self._frame(segment, 6 if self.checksum else None)]

    @read_handler("length")
    def _read_length(self) -> str:
        return str(self.length)

    @write_handler("length")
    def _write_length(self, value: str) -> None:
        length = parse_value(UNSIGNED.range(0, 65535), value)
        if length != self.length:
            self._set_length(length)
            self._build_flows()


class FastTCPFlows(_FastFlows):
    """FastTCPFlows(RATE, LIMIT, LENGTH, SRCETH, SRCIP, DSTETH, DSTIP, FLOWS, FLOWSIZE, ACTIVE) -- creates packets of many TCP flows

    Description
    A pull source for benchmarks, like FastUDPFlows but with TCP: each of
    the FLOWS flows has three TCP/IP packets in Ethernet frames of LENGTH
    bytes (at least 60), a SYN, a data packet with PSH and ACK, and a FIN,
    with the same random ports, each its own random sequence and
    acknowledgment numbers (31-bit draws in little-endian byte order, so
    meaningless as TCP), window 65535, payload zeros, TCP checksum set, IP
    TTL 250 and IP ID 0. Each pull picks a flow at random; a flow gives its
    SYN first, then data packets, and its FIN as its FLOWSIZE-th packet
    (FLOWSIZE at least 3; smaller is raised to 3 with a warning); the next
    pick of it draws new ports.

    Once LIMIT packets went out, each further pull gives the FIN of one
    flow that has not just given its FIN (in flow order, also flows never
    picked), counting it too, and then nothing more. RATE, LIMIT, ACTIVE,
    the annotations and the handlers are as FastUDPFlows'.

    Ports
    no inputs, one pull output

    Keyword arguments
    RATE, LENGTH, SRCETH, SRCIP, DSTETH, DSTIP, FLOWS -- as FastUDPFlows'; mandatory
    LIMIT -- packets before the closing FINs, at most 2^31-1 (negative: unlimited); mandatory
    FLOWSIZE -- packets of a flow, its SYN and FIN included; mandatory
    ACTIVE -- whether to give packets; default true

    Element handlers
    count (read) -- how many packets went out, FINs after LIMIT included
    rate, limit, active (read/write, write, write) -- as FastUDPFlows'
    reset (write) -- counts from 0 again, and closes the flows again after LIMIT

    Example
    src :: FastTCPFlows(1000, 200, 80, 0:0:0:0:0:0, 1.0.0.1, 1:1:1:1:1:1, 2.0.0.2, 10, 4);
    src -> Unqueue -> Strip(14) -> CheckIPHeader -> CheckTCPHeader -> Discard;
    """

    protocol = TCP
    _header_length = 20

    def configure(self, args: Args) -> None:
        length = self._read_flow_settings(args)
        self.active = args.read_p("ACTIVE", BOOL, True)
        args.complete()
        if self.flowsize < MIN_TCP_FLOW:
            self.log.warning("%s: flow size < %d, defaulting to %d", self.declaration(),
                             MIN_TCP_FLOW, MIN_TCP_FLOW)
            self.flowsize = MIN_TCP_FLOW
        self._start_source(length)

    def _reset(self) -> None:
        self._sent_all_fins = False
        super()._reset()

    def _numbers(self) -> list[bytes]:
        # Click draws a sequence and an acknowledgment number per packet and
        # stores them as drawn, in its (little-endian) host order.
        return [b"".join(self._draw().to_bytes(4, "little") for _ in "sa") for _ in KINDS]

    def _flow_packets(self, ports: bytes, numbers: list[bytes]) -> list[Packet]:
        return [self._frame(bytearray(_TCP_HEADER.pack(ports[:2], ports[2:], pair[:4], pair[4:],
                                                       0x50, flags, 0xFFFF, 0, 0)
                                      + self._payload), 16)
                for flags, pair in zip(KINDS, numbers)]

    def _next_packet(self) -> Packet | None:
        if not 0 <= self.limit <= self.count:
            flow = self._pick()
            kind = 0 if flow.count == 1 else 2 if flow.count == self.flowsize else 1
            return flow.packets[kind].clone()
        for flow in self._flows:
            if flow.count != self.flowsize:
                flow.count = self.flowsize
                return flow.packets[2].clone()
        self._sent_all_fins = True
        return None

    def _finished(self) -> bool:
        return self._sent_all_fins and super()._finished()
