"""FastUDPSource: the same UDP/IP/Ethernet packet, pulled at a rate."""

from __future__ import annotations

from pyclick.args import BOOL, INT, UNSIGNED, Args
from pyclick.element import PULL, Element, read_handler, write_handler
from pyclick.elements.handlercall import parse_value
from pyclick.elements.inet import ETHERADDR, IPADDR, ipv4_header, udp_header
from pyclick.elements.portnames import UDP_PORT
from pyclick.packet import Packet
from pyclick.runtime.notifier import EMPTY, Notifier
from pyclick.runtime.timers import Timer

ETHER_HEADER = 14
IP_HEADER = 20
UDP_HEADER = 8
#: The shortest packet made: an Ethernet frame's minimum without its CRC.
MIN_LENGTH = 60
#: The TTL of the packets made (Click's).
TTL = 250
PROTO_UDP = 17
RATE = UNSIGNED.range(0, 10**9)
PORT = UDP_PORT


def udp_frame(length: int, src_eth: bytes, dst_eth: bytes, src_ip: bytes, dst_ip: bytes,
              sport: int, dport: int, with_checksum: bool) -> bytes:
    """An Ethernet frame of ``length`` bytes holding a UDP/IP packet of zeros."""
    payload = bytes(length - ETHER_HEADER - IP_HEADER - UDP_HEADER)
    ip = ipv4_header(length - ETHER_HEADER, 0, TTL, PROTO_UDP, src_ip, dst_ip)
    udp = udp_header(src_ip, sport, dst_ip, dport, payload, with_checksum)
    return dst_eth + src_eth + b"\x08\x00" + ip + udp + payload


class FastUDPSource(Element):
    """FastUDPSource(RATE, LIMIT, LENGTH, SRCETH, SRCIP, SPORT, DSTETH, DSTIP, DPORT, CHECKSUM, INTERVAL, ACTIVE) -- creates packets with static UDP/IP/Ethernet headers

    Description
    A pull source for benchmarks: it builds one UDP/IP packet in an
    Ethernet frame of LENGTH bytes (at least 60; shorter is raised to 60
    with a warning), from SRCETH, SRCIP and SPORT to DSTETH, DSTIP and
    DPORT, its payload zeros, the IP TTL 250, and answers each pull with a
    copy sharing its bytes (change it only after Packet's copy-on-write,
    as any element does). The UDP checksum is computed when CHECKSUM is
    true. Packets carry their destination IP annotation and IP header
    offset.

    At most RATE packets per second are given (0: as fast as pulled), and
    LIMIT packets in all (negative: no limit). When INTERVAL is not 0,
    both ports go up by one after every INTERVAL packets. Once LIMIT
    packets went out, the rate handler reports the average rate between
    the first and the last.

    Ports
    no inputs, one pull output

    Keyword arguments
    RATE -- packets per second, 0 to 10^9 (0: no limit); mandatory
    LIMIT -- packets in all, at most 2^63-1; negative for no limit; mandatory
    LENGTH -- frame length in bytes, at most 65535; mandatory
    SRCETH, DSTETH -- Ethernet addresses; mandatory
    SRCIP, DSTIP -- IP addresses; mandatory
    SPORT, DPORT -- UDP ports, 0 to 65535, or port names (PortInfo, www...); mandatory
    CHECKSUM -- compute the UDP checksum; default true
    INTERVAL -- packets between port increments, at most 2^32-1 (0: never); default 0
    ACTIVE -- give packets only while true; default true

    Element handlers
    count (read) -- packets given so far
    rate (read/write) -- the average rate once LIMIT packets went out (0 until then); a write sets RATE
    reset (write) -- starts counting afresh
    limit (write) -- sets LIMIT
    active (write) -- sets ACTIVE (true also resets)

    Example
    FastUDPSource(0, 3, 60, 0:0:0:0:0:0, 1.0.0.1, 1234, 1:1:1:1:1:1, 2.0.0.2, 1234)
        -> Unqueue -> c :: Counter -> Discard;
    """

    port_count = "0/1"
    processing = PULL

    def configure(self, args: Args) -> None:
        self.rate = args.read_mp("RATE", RATE)
        self.limit = args.read_mp("LIMIT", INT.range(None, 2**63 - 1))
        length = args.read_mp("LENGTH", UNSIGNED.range(0, 65535))
        self.src_eth = args.read_mp("SRCETH", ETHERADDR)
        self.src_ip = args.read_mp("SRCIP", IPADDR)
        self.sport = args.read_mp("SPORT", PORT)
        self.dst_eth = args.read_mp("DSTETH", ETHERADDR)
        self.dst_ip = args.read_mp("DSTIP", IPADDR)
        self.dport = args.read_mp("DPORT", PORT)
        self.checksum = args.read_p("CHECKSUM", BOOL, True)
        self.interval = args.read_p("INTERVAL", UNSIGNED.range(0, 2**32 - 1), 0)
        self.active = args.read_p("ACTIVE", BOOL, True)
        args.complete()
        if length < MIN_LENGTH:
            self.log.warning("%s: packet length < %d, defaulting to %d", self.declaration(),
                             MIN_LENGTH, MIN_LENGTH)
        self.length = max(length, MIN_LENGTH)
        self._note = Notifier(active=True)
        self._timer = Timer(self, self._note.wake)
        self._reset()

    def initialize(self) -> None:
        self._reset()

    def cleanup(self) -> None:
        self._timer.unschedule()

    def port_notifier(self, isoutput: bool, port: int, which: str) -> Notifier | None:
        # Empty once LIMIT packets went out, while inactive, and until the rate
        # allows the next packet: a puller downstream sleeps meanwhile.
        return self._note if isoutput and which == EMPTY else None

    def _reset(self) -> None:
        self.count = 0
        self._increment = 0
        self._first: float | None = None
        self._last: float | None = None
        self._start: float | None = None
        self._start_count = 0
        self._packet = self._make()
        self._note.wake()

    def _make(self) -> Packet:
        data = udp_frame(self.length, self.src_eth, self.dst_eth, self.src_ip, self.dst_ip,
                         (self.sport + self._increment) & 0xFFFF,
                         (self.dport + self._increment) & 0xFFFF, self.checksum)
        packet = Packet.make(data)
        packet.dst_ip = self.dst_ip
        packet.set_mac_header(0, ETHER_HEADER)
        packet.set_network_header(ETHER_HEADER, IP_HEADER)
        return packet

    def _rate_allows(self, now: float) -> bool:
        """Whether the packets given since the rate was set stay within RATE; if
        not, the output is empty until they do."""
        if self.rate == 0:
            return True
        if self._start is None:
            self._start, self._start_count = now, self.count
        # The next packet is due at one fixed instant, computed the same way here
        # and for the timer, so that the timer's wake-up always finds it due
        # (a difference of times near 1e9 seconds loses the last digits).
        due = self._start + (self.count - self._start_count) / self.rate
        if now >= due:
            return True
        self._note.sleep()
        self._timer.schedule_at(due)
        return False

    def pull(self, port: int) -> Packet | None:
        if not self.active or 0 <= self.limit <= self.count:
            self._note.sleep()
            return None
        now = self.router.now()
        if not self._rate_allows(now):
            return None
        packet = self._packet.clone()
        self.count += 1
        if self.count == 1:
            self._first = now
        if 0 <= self.limit <= self.count:
            self._last = now
        if self.interval and self.count % self.interval == 0:
            self._increment += 1
            self._packet = self._make()
        return packet

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)

    @read_handler("rate")
    def _read_rate(self) -> str:
        if self._last is None or self._first is None:
            return "0"
        # Click counts in jiffies: at least one, a millisecond.
        return str(int(self.count / max(self._last - self._first, 0.001)))

    @write_handler("rate")
    def _write_rate(self, value: str) -> None:
        self.rate = parse_value(RATE, value)
        self._start = None
        self._note.wake()

    @write_handler("reset")
    def _write_reset(self, value: str) -> None:
        self._reset()

    @write_handler("limit")
    def _write_limit(self, value: str) -> None:
        self.limit = parse_value(INT.range(None, 2**63 - 1), value)
        self._note.wake()

    @write_handler("active")
    def _write_active(self, value: str) -> None:
        self.active = parse_value(BOOL, value)
        if self.active:
            self._reset()
