"""IPFragmenter: IP packets cut to fit an MTU."""

from __future__ import annotations

import struct

from pyclick.args import BOOL, UNSIGNED, Args
from pyclick.element import PUSH, Element, read_handler
from pyclick.elements.inet import checksum, ip_header_offset, reject
from pyclick.packet import DEFAULT_HEADROOM, Packet

DF, MF = 0x4000, 0x2000
#: DF packets reported when VERBOSE is false.
REPORTED = 5


def copied_options(options: bytes) -> bytes:
    """The options a fragment after the first carries: those with the copy bit,
    padded with end-of-list bytes to a multiple of 4."""
    out = bytearray()
    at = 0
    while at < len(options):
        kind = options[at]
        if kind == 0:
            break
        if kind == 1:
            at += 1
            continue
        length = options[at + 1] if at + 1 < len(options) else 0
        if length < 2 or at + length > len(options):
            break
        if kind & 0x80:
            out += options[at:at + length]
        at += length
    return bytes(out + bytes(-len(out) % 4))


def _with_checksum(header: bytearray) -> bytes:
    header[10:12] = b"\0\0"
    header[10:12] = struct.pack("!H", checksum(header))
    return bytes(header)


class IPFragmenter(Element):
    """IPFragmenter(MTU, KEYWORDS) -- fragments large IP packets

    Description
    Expects IP packets (the network header annotation says where the header
    is; at the start of the packet when no element set it). A packet whose
    IP part is at most MTU bytes leaves by output 0 unchanged. A larger one
    is split into fragments of at most MTU bytes, sent in order on output
    0: the first keeps the original's header (and anything before it, such
    as a MAC header) with the more-fragments bit set; the others carry an
    IP header with the options marked to be copied, and only that. Every
    fragment carries the original's annotations and correct checksums.

    A packet too large with the don't-fragment bit set (and HONOR_DF true),
    or whose header leaves no room for 8 bytes of data, leaves by output 1
    when it is connected, usually to ICMPError(..., unreachable, needfrag),
    and is dropped otherwise; the first five are reported (every one with
    VERBOSE). With HONOR_DF false, the DF bit is cleared and the
    fragments get a random IP ID.

    Ports
    one push input; push output 0, optional push output 1 (packets that may not be fragmented)

    Keyword arguments
    MTU -- the largest IP packet sent, 28 to 65535 bytes; mandatory
    HONOR_DF -- refuse to fragment packets with the DF bit; default true
    VERBOSE -- report every DF packet, not only the first five; default false
    HEADROOM -- bytes free in front of each fragment after the first, 0 to 65535 (room for the headers pushed later); default 28, as Click's

    Element handlers
    drops (read) -- packets sent to output 1 or dropped
    fragments (read) -- fragments sent

    Example
    InfiniteSource(LENGTH 1400, LIMIT 1) -> UDPIPEncap(1.0.0.1, 1, 2.0.0.2, 2) -> fr :: IPFragmenter(576) -> Discard;
    fr[1] -> ICMPError(1.0.0.1, unreachable, needfrag, PMTU 576) -> Discard;
    """

    port_count = "1/1-2"
    processing = PUSH

    def configure(self, args: Args) -> None:
        self.mtu = args.read_mp("MTU", UNSIGNED.range(28, 65535))
        self.honor_df = args.read("HONOR_DF", BOOL, True)
        self.verbose = args.read("VERBOSE", BOOL, False)
        self.headroom = args.read("HEADROOM", UNSIGNED.range(0, 65535), DEFAULT_HEADROOM)
        args.complete()
        self.drops = 0
        self.fragments = 0
        self._random = self.router.random_source(self)

    def push(self, port: int, batch: list[Packet]) -> None:
        out: list[Packet] = []
        for packet in batch:
            at = ip_header_offset(packet)
            if len(packet) - at <= self.mtu or len(packet) < at + 20:
                out.append(packet)
            else:
                out += self._fragment(packet, at)
        if out:
            self.output_push(0, out)

    def _fragment(self, packet: Packet, at: int) -> list[Packet]:
        data = packet.data
        header = bytearray(data[at:at + (data[at] & 15) * 4])
        hlen = len(header)
        (ip_len, _, flags) = struct.unpack_from("!HHH", header, 2)
        first_length = (self.mtu - hlen) & ~7
        if (flags & DF and self.honor_df) or first_length < 8:
            if self.verbose or self.drops < REPORTED:
                self.log.warning("%s: DF packet of %d bytes, MTU %d", self.declaration(),
                                 len(packet) - at, self.mtu)
            self.drops += 1
            reject(self, packet)
            return []
        if flags & DF:
            header[4:6] = struct.pack("!H", self._random.getrandbits(16))
            flags &= ~DF
        payload = data[at + hlen:at + ip_len]
        more = flags & MF
        header[2:4] = struct.pack("!H", hlen + first_length)
        header[6:8] = struct.pack("!H", flags | MF)
        # The first fragment is the packet cut short: what lies before its
        # IP header, headroom included, stays (Unstrip restores it).
        first = packet.clone()
        first.writable_data()[at:at + hlen] = _with_checksum(header)
        first.take(len(first) - (at + hlen + first_length))
        first.set_network_header(at, hlen)
        fragments = [first]
        options = copied_options(bytes(header[20:]))
        rest = bytearray(header[:20] + options)
        rest[0] = 0x40 | (len(rest) // 4)
        offset = first_length
        while offset < len(payload):
            length = min((self.mtu - len(rest)) & ~7, len(payload) - offset)
            last = offset + length >= len(payload)
            rest[2:4] = struct.pack("!H", len(rest) + length)
            field = (flags & ~MF & 0xE000) | ((flags & 0x1FFF) + (offset >> 3))
            rest[6:8] = struct.pack("!H", field | (0 if last and not more else MF))
            fragment = packet.with_data(_with_checksum(rest) + payload[offset:offset + length],
                                        self.headroom)
            fragment.set_network_header(0, len(rest))
            fragments.append(fragment)
            offset += length
        self.fragments += len(fragments)
        return fragments

    @read_handler("drops")
    def _read_drops(self) -> str:
        return str(self.drops)

    @read_handler("fragments")
    def _read_fragments(self) -> str:
        return str(self.fragments)
