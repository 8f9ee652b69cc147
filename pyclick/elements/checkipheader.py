"""CheckIPHeader, CheckIPHeader2 and MarkIPHeader: finding, checking and marking IP headers."""

from __future__ import annotations

import ipaddress
import struct

from pyclick.args import BOOL, UNSIGNED, Args, ListOf
from pyclick.element import AGNOSTIC, PROCESSING_A_AH, Element, read_handler
from pyclick.elements.inet import IPADDR, IPPREFIX, checksum, reject
from pyclick.packet import Packet

#: Why CheckIPHeader refuses a packet, in the order of its checks.
REASONS = ("tiny packet", "bad IP version", "bad IP header length", "bad IP length",
           "bad IP checksum", "bad source address")
TINY, BAD_VERSION, BAD_HLEN, BAD_LENGTH, BAD_CHECKSUM, BAD_SOURCE = range(len(REASONS))
_OFFSET = UNSIGNED.range(0, 65535)
_LENGTH = struct.Struct("!H")


def interface_addresses(interfaces: list[tuple[bytes, int]]) -> tuple[list[bytes], list[bytes]]:
    """What INTERFACES (a router's addresses with their prefix lengths) means:
    the sources to refuse (each network's broadcast address, 0.0.0.0 and
    255.255.255.255) and the destinations exempt from that (the addresses)."""
    bad = [ipaddress.IPv4Network(interface, strict=False).broadcast_address.packed
           for interface in interfaces]
    return bad + [bytes(4), b"\xff" * 4], [address for address, _ in interfaces]


def accept_ip_header(packet: Packet, offset: int, check_checksum: bool,
                     bad_sources: frozenset[bytes], good_destinations: frozenset[bytes]
                     ) -> int | None:
    """CheckIPHeader's checks of the IP header ``offset`` bytes into ``packet``:
    the index in REASONS of the first that fails, or None when all pass, the
    packet then marked (network header and destination IP address
    annotations) and cut to its IP length."""
    buf = packet.buffer
    start = packet.data_offset + offset
    available = len(packet) - offset
    if available < 20:
        return TINY
    first = buf[start]
    if first >> 4 != 4:
        return BAD_VERSION
    hlen = (first & 0x0F) << 2
    if hlen < 20:
        return BAD_HLEN
    (length,) = _LENGTH.unpack_from(buf, start + 2)
    if length > available or length < hlen:
        return BAD_LENGTH
    if check_checksum and checksum(buf[start:start + hlen]) != 0:
        return BAD_CHECKSUM
    if bad_sources and bytes(buf[start + 12:start + 16]) in bad_sources \
            and bytes(buf[start + 16:start + 20]) not in good_destinations:
        return BAD_SOURCE
    packet.set_network_header(offset, hlen)
    if available > length:
        packet.take(available - length)
    packet.dst_ip = bytes(buf[start + 16:start + 20])
    return None


class CheckIPHeader(Element):
    """CheckIPHeader(OFFSET, KEYWORDS) -- checks IP header

    Description
    Expects packets whose IP header starts OFFSET bytes in. Checks that the
    packet is long enough, and that the IP version (4), header length, total
    length and checksum are valid; with BADSRC, GOODDST or INTERFACES, also
    that the source address is a legal one (RFC 1812 5.3.7). Packets longer
    than their IP length (Ethernet padding) are cut to it. A valid packet
    gets its network header annotation (so IPClassifier, DecIPTTL and the
    others find the header) and its destination IP address annotation, and
    leaves by output 0.

    Invalid packets leave by output 1 when it is connected, and are dropped
    otherwise. The first one is reported with the reason (every one with
    VERBOSE).

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (invalid packets)

    Keyword arguments
    OFFSET -- where the IP header starts, 0 to 65535; default 0
    CHECKSUM -- check the header checksum; default true
    BADSRC -- IP addresses refused as sources (unless the destination is in GOODDST); default none
    GOODDST -- destinations exempt from BADSRC; default none
    INTERFACES -- this router's addresses with prefixes (18.26.4.9/24 ...): their broadcast addresses, 0.0.0.0 and 255.255.255.255 are added to BADSRC, the addresses to GOODDST
    VERBOSE -- report every invalid packet, not only the first; default false
    DETAILS -- count drops per reason (drop_details handler); default false

    Element handlers
    drops (read) -- invalid packets so far
    drop_details (read) -- invalid packets per reason, one line each (count, tab, reason); with DETAILS only

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> c :: CheckIPHeader -> Discard;
    c[1] -> bad :: Counter -> Discard;
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH
    #: CHECKSUM's default.
    checksum_by_default = True

    def configure(self, args: Args) -> None:
        self.offset = args.read_p("OFFSET", _OFFSET, 0)
        self.check_checksum = args.read("CHECKSUM", BOOL, self.checksum_by_default)
        bad = args.read("BADSRC", ListOf(IPADDR), [])
        good = args.read("GOODDST", ListOf(IPADDR), [])
        interfaces = args.read("INTERFACES", ListOf(IPPREFIX), [])
        self.verbose = args.read("VERBOSE", BOOL, False)
        self.details = args.read("DETAILS", BOOL, False)
        args.complete()
        if interfaces:
            bad_of, good_of = interface_addresses(interfaces)
            bad += bad_of
            good += good_of
        self.bad_sources = frozenset(bad)
        self.good_destinations = frozenset(good)
        self.drops = 0
        self.reason_drops = [0] * len(REASONS)

    def initialize(self) -> None:
        if self.details:
            self.router.handlers.add_read(self, "drop_details", self._drop_details)

    def _refuse(self, reason: int, packet: Packet) -> None:
        if self.drops == 0 or self.verbose:
            self.log.warning("%s: IP header check failed: %s", self.name, REASONS[reason])
        self.drops += 1
        self.reason_drops[reason] += 1
        reject(self, packet)

    def simple_action(self, packet: Packet) -> Packet | None:
        reason = accept_ip_header(packet, self.offset, self.check_checksum,
                                  self.bad_sources, self.good_destinations)
        if reason is not None:
            return self._refuse(reason, packet)
        return packet

    def simple_action_batch(self, batch: list[Packet]) -> list[Packet]:
        """Valid packets inline, reading and setting the packets' layout
        directly (see pyclick.packet); refused ones (and every packet when
        BADSRC or INTERFACES is given) through :meth:`simple_action`, which
        finds the reason."""
        if self.bad_sources:
            return super().simple_action_batch(batch)
        offset, check, slow = self.offset, self.check_checksum, self.simple_action
        from_bytes = int.from_bytes
        out = []
        append = out.append
        for packet in batch:
            buf = packet._buf
            start = packet._head + offset
            tail = packet._tail
            if tail - start >= 20:
                first = buf[start]
                header_end = start + ((first & 0x0F) << 2)
                ip_end = start + (buf[start + 2] << 8 | buf[start + 3])
                # Version 4 and a header of 20 bytes or more: 0x45 to 0x4F.
                # The header's 16-bit words sum to 0xFFFF in ones' complement
                # exactly when the header, as one number, is a nonzero multiple
                # of 0xFFFF (2**16 is 1 modulo 0xFFFF).
                if 0x45 <= first <= 0x4F and header_end <= ip_end <= tail and (
                        not check or from_bytes(buf[start:header_end], "big") % 0xFFFF == 0):
                    packet._nh = start
                    packet._th = header_end
                    if tail > ip_end:
                        packet._tail = ip_end
                    # The destination address annotation: an area of just
                    # those 4 bytes when the packet has none (the rest is zeros).
                    area = packet._annos
                    if area is None:
                        address = buf[start + 16:start + 20]
                        packet._annos = address if type(address) is bytes else bytes(address)
                    elif type(area) is bytearray:
                        area[0:4] = buf[start + 16:start + 20]
                    else:
                        packet._annos = bytes(buf[start + 16:start + 20]) + area[4:]
                    append(packet)
                    continue
            if slow(packet) is not None:
                append(packet)
        return out

    @read_handler("drops")
    def _read_drops(self) -> str:
        return str(self.drops)

    def _drop_details(self) -> str:
        return "".join(f"{count}\t{reason}\n"
                       for count, reason in zip(self.reason_drops, REASONS))


class CheckIPHeader2(CheckIPHeader):
    """CheckIPHeader2(OFFSET, KEYWORDS) -- checks IP header, no checksum

    Description
    CheckIPHeader without its checksum check: the same checks otherwise,
    the same annotations, the same outputs and handlers (see CheckIPHeader).
    It suits packets whose checksum a device has checked already, or one an
    element upstream is yet to fill in.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (invalid packets)

    Keyword arguments
    OFFSET, BADSRC, GOODDST, INTERFACES, VERBOSE, DETAILS -- as CheckIPHeader's
    CHECKSUM -- check the header checksum after all; default false

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader2 -> Discard;
    """

    checksum_by_default = False


class MarkIPHeader(Element):
    """MarkIPHeader(OFFSET) -- sets IP header annotation

    Description
    Marks packets as IP packets: sets the network header annotation to an
    IP header starting OFFSET bytes in, whose length is the header's IHL
    field. Checks nothing, does not cut packets to their IP length and does
    not set the destination IP address annotation: CheckIPHeader does all
    that.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    OFFSET -- where the IP header starts, 0 to 65535; default 0

    Example
    FromDump(trace.pcap, STOP true) -> MarkIPHeader(14) -> c :: IPClassifier(tcp, -) -> Discard;
    c[1] -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.offset = args.read_p("OFFSET", _OFFSET, 0)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        offset = self.offset
        hlen = (packet.byte(offset) & 0x0F) << 2 if offset < len(packet) else 0
        packet.set_network_header(offset, hlen)
        return packet
