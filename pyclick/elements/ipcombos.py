"""IPInputCombo and IPOutputCombo: a router interface's input and output
paths, each in one element."""

from __future__ import annotations

import struct

from pyclick.args import INT, UNSIGNED, Args, ListOf
from pyclick.element import AGNOSTIC, PUSH, Element, read_handler
from pyclick.elements.checkipheader import accept_ip_header, interface_addresses
from pyclick.elements.decipttl import decremented
from pyclick.elements.inet import IPADDR, IPPREFIX, checksum, whole_ip_header_at
from pyclick.elements.ipgwoptions import BadOption, option_stamp, process_options
from pyclick.elements.paint import PAINT
from pyclick.packet import ANNOTATIONS, BROADCAST, MULTICAST, Packet

_COLOR = INT.range(-2**31, 2**31 - 1)
_PARAMPROB, _FIX_IP_SRC = ANNOTATIONS["ICMP_PARAMPROB"][0], ANNOTATIONS["FIX_IP_SRC"][0]
#: IPOutputCombo's outputs besides 0.
TO_PAINTED, BAD_OPTIONS, EXPIRED, TOO_LONG = 1, 2, 3, 4


class IPInputCombo(Element):
    """IPInputCombo(COLOR, BADSRC, KEYWORDS) -- input combo for IP routing

    Description
    Does in one element what a router's input path does to each Ethernet
    frame: Paint(COLOR), Strip(14), CheckIPHeader and GetIPAddress(16).
    The packet's paint annotation becomes COLOR (its low byte), the
    Ethernet header is taken off, and the IP header is checked (length,
    version, header length, total length, checksum, source address) as
    CheckIPHeader checks it. A valid packet is cut to its IP length, gets
    its network header and destination IP address annotations, and leaves
    by the output; an invalid one is dropped, the first one reported.

    The source address check refuses the BADSRC addresses unless the
    destination is a GOODDST one. BADSRC given as the second argument
    (without its keyword) also refuses 0.0.0.0 and 255.255.255.255. As
    in Click, when more than one of them is given, the second argument
    outweighs INTERFACES, which outweighs the BADSRC keyword; INTERFACES
    outweighs GOODDST.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    COLOR -- the paint color; mandatory
    BADSRC -- IP addresses refused as sources; default none
    GOODDST -- destinations exempt from BADSRC; default none
    INTERFACES -- this router's addresses with prefixes (18.26.4.9/24 ...): refuses their broadcast addresses, 0.0.0.0 and 255.255.255.255 as sources, except to the addresses

    Element handlers
    drops (read) -- invalid packets so far

    Example
    FromDump(trace.pcap, STOP true) -> IPInputCombo(1, INTERFACES 18.26.4.24/24)
        -> r :: StaticIPLookup(18.26.4.0/24 0, 0.0.0.0/0 18.26.4.1 0) -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.color = args.read_mp("COLOR", _COLOR)
        bad = args.read("BADSRC", ListOf(IPADDR), [])
        # Read after the keyword, which it outweighs: the second argument.
        second = args.read_p("BADSRC", ListOf(IPADDR))
        interfaces = args.read("INTERFACES", ListOf(IPPREFIX))
        good = args.read("GOODDST", ListOf(IPADDR), [])
        args.complete()
        if interfaces is not None:
            bad, good = interface_addresses(interfaces)
        if second is not None:
            bad = second + [bytes(4), b"\xff" * 4]
        self.bad_sources, self.good_destinations = frozenset(bad), frozenset(good)
        self.drops = 0

    def simple_action(self, packet: Packet) -> Packet | None:
        packet.set_anno_u8(PAINT, self.color & 0xFF)
        packet.pull(14)
        if accept_ip_header(packet, 0, True, self.bad_sources, self.good_destinations) is None:
            return packet
        if self.drops == 0:
            self.log.warning("%s: IP checksum failed", self.declaration())
        self.drops += 1
        return None

    @read_handler("drops")
    def _read_drops(self) -> str:
        return str(self.drops)


class IPOutputCombo(Element):
    """IPOutputCombo(COLOR, IPADDR, MTU) -- output combo for IP routing

    Description
    Does in one element what a router's output path does to each IP
    packet, in this order: DropBroadcasts, PaintTee(COLOR),
    IPGWOptions(IPADDR), FixIPSrc(IPADDR), DecIPTTL and CheckLength(MTU).
    Packets that arrived as link-level broadcast or multicast are dropped.
    A copy of each packet painted COLOR leaves by output 1 first (with
    Paint and ICMPError, for redirects). Record Route and Timestamp
    options get IPADDR (a malformed option sends the packet out output 2,
    its ICMP_PARAMPROB annotation pointing at the bad byte); a packet
    whose fix_ip_src annotation is set gets IPADDR as its source and the
    annotation cleared; the IP checksum is recomputed when either changed
    the header. A packet whose TTL is 1 or less leaves by output 3;
    otherwise its TTL is decremented and its checksum updated. A packet
    then longer than MTU bytes leaves by output 4 (towards an
    IPFragmenter: IPOutputCombo does not fragment); the others by output 0.

    The IP header is expected at the start of the packet, as IPInputCombo
    and CheckIPHeader leave it: as in Click, the recomputed checksum
    covers the first bytes of the packet. Packets too short for an IP
    header skip the IP steps.

    Ports
    one push input; five push outputs: forwarded packets, copies of painted packets, packets with bad options, expired packets, packets longer than MTU

    Keyword arguments
    COLOR -- the paint color copied to output 1; mandatory
    IPADDR -- the IP address of the interface; mandatory
    MTU -- the largest packet for output 0, in bytes; mandatory

    Example
    InfiniteSource(LIMIT 1) -> UDPIPEncap(1.0.0.1, 1, 2.0.0.2, 2)
        -> c :: IPOutputCombo(1, 18.26.4.24, 1500) -> Discard;
    c[1] -> ICMPError(18.26.4.24, redirect, host) -> Discard;
    c[2] -> ICMPError(18.26.4.24, parameterproblem) -> Discard;
    c[3] -> ICMPError(18.26.4.24, timeexceeded) -> Discard;
    c[4] -> IPFragmenter(1500) -> Discard;
    """

    port_count = "1/5"
    processing = PUSH

    def configure(self, args: Args) -> None:
        self.color = args.read_mp("COLOR", _COLOR)
        self.address = args.read_mp("IPADDR", IPADDR)
        self.mtu = args.read_mp("MTU", UNSIGNED.range(0, 2**32 - 1))
        args.complete()

    def push(self, port: int, batch: list[Packet]) -> None:
        for packet in batch:
            if packet.packet_type in (BROADCAST, MULTICAST):
                continue
            if packet.anno_u8(PAINT) == self.color:
                self.output_push(TO_PAINTED, [packet.clone()])
            self.output_push(self._forward(packet), [packet])

    def _forward(self, packet: Packet) -> int:
        """Process the IP header of ``packet``: the output it leaves by."""
        at = whole_ip_header_at(packet)
        if at is not None:
            hlen = (packet.byte(at) & 15) << 2
            # Options run to the end of the network header, as Click reads them.
            span = max(20, packet.network_header_length or hlen)
            header = bytearray(packet.data[at:at + span])
            try:
                changed = hlen > 20 and process_options(
                    header, self.address, frozenset([self.address]), option_stamp(self))
            except BadOption as bad:
                # The options before the bad one stay processed, as in Click.
                packet.write(at, header)
                packet.set_anno_u8(_PARAMPROB, bad.at)
                return BAD_OPTIONS
            if packet.anno_u8(_FIX_IP_SRC):
                packet.set_anno_u8(_FIX_IP_SRC, 0)
                header[12:16] = self.address
                changed = True
            if changed:
                header[10:12] = b"\0\0"
                packet.write(at, header)
                packet.write(at + 10, struct.pack("!H", checksum(packet.data[:hlen])))
            if packet.byte(at + 8) <= 1:
                return EXPIRED
            decremented(packet, at)
        return TOO_LONG if len(packet) > self.mtu else 0
