"""ICMPPingSource and ICMPPingResponder: both ends of ping(8)."""

from __future__ import annotations

import math
import struct
import sys
from dataclasses import dataclass

from pyclick.args import BOOL, INT, TIME, UNSIGNED, Args
from pyclick.element import PROCESSING_A_AH, Element, read_handler, write_handler
from pyclick.elements.clickargs import DATA
from pyclick.elements.handlercall import parse_value
from pyclick.elements.inet import (IPADDR, checksum, ip_header_offset, ipv4_header, reject,
                                   unparse_ip)
from pyclick.elements.ipproto import ICMP
from pyclick.elements.settinghandlers import setting_handlers
from pyclick.elements.switchable import Activatable
from pyclick.packet import Packet
from pyclick.runtime.timers import Timer

ECHO_REPLY, ECHO = 0, 8
#: The TTL of the requests made (Click's).
TTL = 200
#: IP header and ICMP echo header.
HEADERS = 28
_INTERVAL = TIME.range(0.001, 86400)


def unparse_microseconds(us: int) -> str:
    """Click's way of printing a short time: ``250us`` under a millisecond,
    seconds otherwise (``0.0015s``, ``0s``)."""
    if 0 < us < 1000:
        return f"{us}us"
    seconds = f"{us // 1_000_000}.{us % 1_000_000:06d}".rstrip("0").rstrip(".")
    return seconds + "s"


def _milliseconds(us: int) -> str:
    return f"{us // 1000}.{us % 1000:03d}"


@dataclass
class _Replies:
    """What ICMPPingSource learned from the replies (all times in microseconds)."""

    received: int = 0
    duplicates: int = 0
    rtt_min: int = 0
    rtt_max: int = 0
    rtt_sum: int = 0
    rtt_square_sum: int = 0


class ICMPPingSource(Activatable):
    """ICMPPingSource(SRC, DST, KEYWORDS) -- periodically sends ICMP echo requests

    Description
    Sends ICMP echo requests (pings) from SRC to DST, one every INTERVAL
    when its output is push (the first one INTERVAL after the start), one
    on every pull when it is pull. Each request is an IP packet (TTL 200,
    IP ID counting up from 1) holding an ICMP echo with identifier
    IDENTIFIER, a sequence number equal to the IP ID, and DATA; both
    checksums are set, as are the destination IP address annotation, the
    network header annotation and the timestamp. After LIMIT requests it
    stops sending; with STOP, it then stops the driver.

    When its input is connected, ICMPPingSource takes the echo replies to
    its requests there (IP packets with their network header annotation;
    replies with another identifier are dropped), reports each one on
    standard error as ping(8) does, unless VERBOSE is false, and keeps loss
    and round-trip statistics (from the packets' timestamps), printed at
    the end too. With MIRROR, each reply triggers the next request at once.

    Ports
    optional push input (echo replies); one agnostic output

    Keyword arguments
    SRC -- the requests' source address; mandatory
    DST -- the requests' destination address; mandatory
    INTERVAL -- time between requests, 1 ms to 1 day; default 1s
    IDENTIFIER -- the ICMP identifier, 0 to 65535; default 0
    DATA -- data after the ICMP header; default none
    LIMIT -- requests to send, negative for no limit; default -1
    ACTIVE -- send only while true; default true
    STOP -- stop the driver once LIMIT requests are sent; default false
    MIRROR -- answer each reply with the next request (push output only); default false
    VERBOSE -- report each reply and the statistics at the end; default true

    Element handlers
    count (read) -- requests sent
    active, src, dst (read/write) -- the settings of the same names
    limit, interval (write) -- the settings of the same names
    reset_counts (write) -- sets the counters to zero
    summary (read) -- ping(8)'s summary: requests sent, replies received, loss, round-trip times; with an input only
    rtt_min, rtt_avg, rtt_max (read) -- round-trip times; with an input only

    Example
    ping :: ICMPPingSource(10.0.0.1, 10.0.0.2, INTERVAL 10ms, LIMIT 3)
        -> ICMPPingResponder -> ping;
    """

    port_count = "0-1/1"
    processing = "h/a"

    def configure(self, args: Args) -> None:
        self.src = args.read_mp("SRC", IPADDR)
        self.dst = args.read_mp("DST", IPADDR)
        self.interval = args.read("INTERVAL", _INTERVAL, 1.0)
        self.identifier = args.read("IDENTIFIER", UNSIGNED.range(0, 65535), 0)
        self.data = args.read("DATA", DATA, b"")
        self.limit = args.read("LIMIT", INT.range(None, 2**63 - 1), -1)
        self.active = args.read("ACTIVE", BOOL, True)
        self.verbose = args.read("VERBOSE", BOOL, True)
        self.stop_when_done = args.read("STOP", BOOL, False)
        self.mirror = args.read("MIRROR", BOOL, False)
        pull = self.output_is_pull(0)
        if pull and self.mirror:
            args.error("MIRROR: needs a push output")
        if pull and args.has("INTERVAL"):
            self.log.warning("%s: the output is pull: INTERVAL is ignored", self.declaration())
        args.complete()
        self.count = 0
        self.replies = _Replies()
        #: Sequence number -> when the request left, for the requests not answered yet.
        self._sent: dict[int, float] = {}
        #: Sequence numbers answered (a second reply is a duplicate).
        self._answered: set[int] = set()
        self._timer = Timer(self, self._tick)

    def add_handlers(self) -> None:
        if self.ninputs:
            handlers = self.router.handlers
            handlers.add_read(self, "summary", self.statistics)
            handlers.add_read(self, "rtt_min", lambda: unparse_microseconds(self.replies.rtt_min))
            handlers.add_read(self, "rtt_max", lambda: unparse_microseconds(self.replies.rtt_max))
            handlers.add_read(self, "rtt_avg", lambda: unparse_microseconds(
                self.replies.rtt_sum // max(self.replies.received, 1)))

    def initialize(self) -> None:
        if self.limit != 0 and self.active and self.output_is_push(0):
            self._timer.schedule_after(self.interval)

    def cleanup(self) -> None:
        if self.ninputs and self.verbose:
            prefix = f"{self.declaration()}: "
            sys.stderr.write("".join(prefix + line + "\n"
                                     for line in self.statistics().splitlines()))

    def _done(self) -> bool:
        return 0 <= self.limit <= self.count

    def request(self, packet: Packet | None = None) -> Packet:
        """The next echo request; in ``packet`` (whose data after the headers it
        keeps) when given."""
        sequence = self.count % 0xFFFF + 1
        payload = self.data if packet is None else packet.data[HEADERS:]
        echo = struct.pack("!BBHHH", ECHO, 0, 0, self.identifier, sequence) + payload
        echo = echo[:2] + struct.pack("!H", checksum(echo)) + echo[4:]
        ip = ipv4_header(HEADERS + len(payload), sequence, TTL, ICMP, self.src, self.dst)
        now = self.router.now()
        made = Packet.make(ip + echo, timestamp=now)
        made.set_network_header(0, 20)
        made.dst_ip = self.dst
        self._sent[sequence] = now
        self._answered.discard(sequence)
        self.count += 1
        return made

    def _tick(self) -> None:
        if not self.active:
            return
        if not self._done():
            self.output_push(0, [self.request()])
            self._timer.reschedule_after(self.interval)
        elif self.stop_when_done:
            self.router.please_stop_driver(f"{self.name}: all pings sent")

    def pull(self, port: int) -> Packet | None:
        if not self.active:
            return None
        if not self._done():
            return self.request()
        if self.stop_when_done:
            self.stop_when_done = False
            self.router.please_stop_driver(f"{self.name}: all pings sent")
        return None

    def push(self, port: int, batch: list[Packet]) -> None:
        for packet in batch:
            if self._reply(packet) and self.mirror:
                self.output_push(0, [self.request(packet)])

    def _reply(self, packet: Packet) -> bool:
        """Take in one echo reply; False when the packet is not one of ours."""
        at = ip_header_offset(packet)
        ip = packet.data[at:] if at >= 0 else b""
        hlen = (ip[0] & 15) * 4 if ip else 0
        if len(ip) < 20 or ip[9] != ICMP or len(ip) < hlen + 8:
            return False
        kind, _, _, identifier, sequence = struct.unpack_from("!BBHHH", ip, hlen)
        if kind != ECHO_REPLY or identifier != self.identifier:
            return False
        sent = self._sent.get(sequence)
        if sent is None:
            return True
        replies = self.replies
        if sequence in self._answered:
            replies.duplicates += 1
        self._answered.add(sequence)
        rtt = max(0, round((packet.timestamp - sent) * 1e6)) if packet.timestamp else 0
        if rtt < replies.rtt_min or not replies.received:
            replies.rtt_min = rtt
        if rtt > replies.rtt_max or not replies.received:
            replies.rtt_max = rtt
        replies.rtt_sum += rtt
        replies.rtt_square_sum += rtt * rtt
        replies.received += 1
        if self.verbose:
            (length,) = struct.unpack_from("!H", ip, 2)
            sys.stderr.write(f"{self.declaration()}: {length - hlen - 8} bytes from "
                             f"{unparse_ip(ip[12:16])}: icmp_seq={sequence} ttl={ip[8]} "
                             f"time={_milliseconds(rtt)} ms\n")
        return True

    def statistics(self) -> str:
        """ping(8)'s summary lines (the ``summary`` handler)."""
        replies = self.replies
        unique = replies.received - replies.duplicates
        text = f"{self.count} packets transmitted, {unique} received"
        if replies.duplicates:
            text += f", +{replies.duplicates} duplicates"
        if self.count:
            text += f", {max(0, self.count - unique) * 100 // self.count}% packet loss\n"
        if replies.received:
            average = replies.rtt_sum // replies.received
            deviation = math.isqrt(max(0, replies.rtt_square_sum // replies.received
                                       - average * average))
            text += ("rtt min/avg/max/mdev = " + "/".join(_milliseconds(us) for us in (
                replies.rtt_min, average, replies.rtt_max, deviation)) + "\n")
        return text

    def _wake(self) -> None:
        if not self.active:
            self._timer.unschedule()
        elif (not self._timer.scheduled and self.output_is_push(0)
              and self.scheduling.scheduler is not None):
            self._timer.schedule_after(0)

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)

    _read_src, _write_src = setting_handlers("src", IPADDR, unparse_ip)
    _read_dst, _write_dst = setting_handlers("dst", IPADDR, unparse_ip)

    @write_handler("limit")
    def _write_limit(self, value: str) -> None:
        self.limit = parse_value(INT, value)
        self._restart()

    @write_handler("interval")
    def _write_interval(self, value: str) -> None:
        self.interval = parse_value(_INTERVAL, value)

    @write_handler("reset_counts")
    def _write_reset_counts(self, value: str) -> None:
        self.count = 0
        self.replies = _Replies()
        self._sent.clear()
        self._answered.clear()
        self._restart()

    def _restart(self) -> None:
        """Send again, INTERVAL from now, when a handler gave more to send."""
        if (self.active and not self._done() and not self._timer.scheduled
                and self.output_is_push(0) and self.scheduling.scheduler is not None):
            self._timer.schedule_after(self.interval)


class ICMPPingResponder(Element):
    """ICMPPingResponder -- answers ICMP echo requests

    Description
    Turns each ICMP echo request into its echo reply: swaps the IP source
    and destination, clears the fragment field, sets the TTL to 255 and
    the ICMP type to echo reply, and updates both checksums. The reply's
    destination IP address annotation is its new destination, its
    timestamp the router's time, and its paint annotation 0. Input packets
    need their network header annotation (CheckIPHeader). Other packets
    leave by output 1 when it is connected, and are dropped otherwise.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (other packets)

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader
        -> IPClassifier(icmp type echo) -> ICMPPingResponder -> Discard;
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def simple_action(self, packet: Packet) -> Packet | None:
        at = packet.network_header_offset
        transport = packet.transport_header_offset
        if at is None or transport is None or at < 0 or len(packet) < transport + 8 \
                or packet.byte(at + 9) != ICMP or packet.byte(transport) != ECHO:
            reject(self, packet)
            return None
        data = packet.writable_data()
        src, dst = bytes(data[at + 12:at + 16]), bytes(data[at + 16:at + 20])
        data[at + 12:at + 16], data[at + 16:at + 20] = dst, src
        data[at + 6:at + 8] = b"\0\0"
        data[at + 8] = 255
        data[at + 10:at + 12] = b"\0\0"
        hlen = transport - at
        data[at + 10:at + 12] = struct.pack("!H", checksum(data[at:at + hlen]))
        data[transport] = ECHO_REPLY
        data[transport + 1] = 0
        data[transport + 2:transport + 4] = b"\0\0"
        end = at + struct.unpack_from("!H", data, at + 2)[0]
        end = min(max(end, transport + 8), len(data))
        data[transport + 2:transport + 4] = struct.pack("!H", checksum(data[transport:end]))
        packet.dst_ip = src
        packet.timestamp = self.router.now()
        packet.paint = 0
        return packet
