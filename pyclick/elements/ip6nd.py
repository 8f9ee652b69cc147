"""IP6NDAdvertiser and IP6NDSolicitor: the two halves of IPv6 neighbor discovery
(RFC 4861) on an Ethernet interface."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pyclick.args import TIME, Args
from pyclick.element import PROCESSING_A_AH, PUSH, Element, read_handler
from pyclick.elements.addresstable import Entry, most_specific, parse_ip6_entries, read_entries
from pyclick.elements.inet import (ETHERADDR, IP6ADDR, checksum, reject, unparse_ether,
                                   unparse_ip6)
from pyclick.packet import Packet

ETHERTYPE_IP6 = 0x86DD
PROTO_ICMP6 = 58
NEIGHBOR_SOLICITATION = 135
NEIGHBOR_ADVERTISEMENT = 136
#: Neighbor discovery messages carry hop limit 255, which proves they were not forwarded.
HOP_LIMIT = 255
#: ICMPv6 option types: the sender's and the target's link-layer address.
OPTION_SOURCE_LL = 1
OPTION_TARGET_LL = 2
#: Advertisement flags: Router, Solicited.
FLAG_ROUTER = 0x80
FLAG_SOLICITED = 0x40
#: Ethernet header, IPv6 header, and the fixed part of a solicitation or advertisement.
ND_FRAME_LENGTH = 14 + 40 + 24
UNSPECIFIED = bytes(16)
#: ff02::1, every node on the link, and its Ethernet group.
ALL_NODES = bytes.fromhex("ff020000000000000000000000000001")
#: ff02::1:ff00:0/104, the solicited-node multicast prefix.
SOLICITED_NODE_PREFIX = bytes.fromhex("ff0200000000000000000001ff")


def multicast_ether(address: bytes) -> bytes:
    """The Ethernet group of an IPv6 multicast address: 33-33 and its last 32 bits (RFC 2464)."""
    return b"\x33\x33" + address[12:]


def icmp6_checksum(source: bytes, destination: bytes, message: bytes) -> int:
    """The ICMPv6 checksum of ``message``, which covers the IPv6 pseudo-header too."""
    pseudo = source + destination + struct.pack("!IxxxB", len(message), PROTO_ICMP6)
    return checksum(pseudo + message)


def nd_frame(ether_dst: bytes, ether_src: bytes, ip_src: bytes, ip_dst: bytes,
             message: bytes) -> bytes:
    """An Ethernet frame holding one ND message, its ICMPv6 checksum filled in."""
    csum = icmp6_checksum(ip_src, ip_dst, message)
    message = message[:2] + struct.pack("!H", csum) + message[4:]
    ip6 = struct.pack("!IHBB", 0x60000000, len(message), PROTO_ICMP6, HOP_LIMIT) + ip_src + ip_dst
    return ether_dst + ether_src + struct.pack("!H", ETHERTYPE_IP6) + ip6 + message


def nd_message(data: bytes, kind: int) -> bytes | None:
    """The ICMPv6 message of an ND frame of type ``kind``, when the frame is one whose
    hop limit and checksum are right; None otherwise."""
    if len(data) < ND_FRAME_LENGTH or data[12:14] != b"\x86\xdd" or data[14] >> 4 != 6:
        return None
    length = struct.unpack_from("!H", data, 18)[0]
    message = data[54:54 + length]
    if data[20] != PROTO_ICMP6 or data[21] != HOP_LIMIT or len(message) != length \
            or length < 24 or message[0] != kind or message[1] != 0:
        return None
    if icmp6_checksum(data[22:38], data[38:54], message) != 0:
        return None
    return message


class IP6NDAdvertiser(Element):
    """IP6NDAdvertiser(IP6/PREFIX [IP6/PREFIX...] ETH, IP62/PREFIX2 ETH2, ...) -- answers IPv6 neighbor solicitations

    Description
    Expects Neighbor Solicitations (ICMPv6 type 135), Ethernet and IPv6
    headers included. When one of its networks holds the target address
    (the most specific one, when several do), IP6NDAdvertiser answers with
    a Neighbor Advertisement (ICMPv6 type 136) for that target, carrying
    the network's Ethernet address in a target link-layer address option,
    and consumes the solicitation. The advertisement comes from the target
    address and goes to the solicitation's source, with the Router and
    Solicited flags set; a solicitation from the unspecified address (::,
    duplicate address detection) is answered to all nodes, ff02::1,
    without the Solicited flag. Solicitations are only answered when their
    hop limit is 255 and their ICMPv6 checksum is right. Other packets
    leave by output 1 when it is connected, and are dropped otherwise. An
    address alone is a /128. Serves proxy neighbor discovery as well as a
    host's own addresses. Addresses may be names an AddressInfo defines
    (NAME:ip6, NAME:ip6net, NAME:eth); a name for both an IPv6 address
    and an Ethernet address may be a whole argument: IP6NDAdvertiser(me).

    Ports
    one agnostic input; agnostic output 0 (advertisements), optional push output 1

    Element handlers
    table (read) -- the entries, one network and Ethernet address per line

    Example
    // Advertisements for 3ffe:1ce1:2::5, and proxy ND for 3ffe:1ce1:2::/80.
    c :: Classifier(12/86dd 54/87, -);
    FromDump(trace.pcap, STOP true) -> c;
    c[0] -> IP6NDAdvertiser(3ffe:1ce1:2::5 00:00:C0:AE:67:EF, 3ffe:1ce1:2::/80 00:00:C0:AE:67:EF) -> Discard;
    c[1] -> Discard;
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        self.entries: list[Entry] = read_entries(args, parse_ip6_entries)

    def lookup(self, address: bytes) -> bytes | None:
        """The Ethernet address of the most specific network holding ``address``."""
        return most_specific(self.entries, address)

    def simple_action(self, packet: Packet) -> Packet | None:
        data = packet.data
        message = nd_message(data, NEIGHBOR_SOLICITATION)
        if message is not None:
            target = message[8:24]
            ether = self.lookup(target)
            if ether is not None:
                source = data[22:38]
                if source == UNSPECIFIED:
                    ip_dst, ether_dst, flags = ALL_NODES, multicast_ether(ALL_NODES), FLAG_ROUTER
                else:
                    ip_dst, ether_dst = source, data[6:12]
                    flags = FLAG_ROUTER | FLAG_SOLICITED
                advertisement = (struct.pack("!BBHB3x", NEIGHBOR_ADVERTISEMENT, 0, 0, flags)
                                 + target + struct.pack("!BB", OPTION_TARGET_LL, 1) + ether)
                reply = Packet.make(nd_frame(ether_dst, ether, target, ip_dst, advertisement),
                                    timestamp=packet.timestamp)
                reply.set_mac_header(0)
                reply.vlan_tci = packet.vlan_tci
                return reply
        reject(self, packet)
        return None

    @read_handler("table")
    def _read_table(self) -> str:
        return "".join(entry.text() + "\n" for entry in self.entries)


@dataclass
class _Neighbor:
    """What IP6NDSolicitor knows of one IPv6 address."""

    ether: bytes | None = None
    #: When the Ethernet address was learned (router time).
    learned: float = 0.0
    #: The packet waiting for the address (one at most: a newer one replaces it).
    waiting: Packet | None = None


class IP6NDSolicitor(Element):
    """IP6NDSolicitor(IP6, ETH, KEYWORDS) -- encapsulates IPv6 packets in Ethernet headers found via neighbor discovery

    Description
    Handles most of IPv6 neighbor discovery for the host whose IPv6
    address is IP6 and Ethernet address ETH. IPv6 packets arrive on input
    0 with their destination IPv6 address annotation set. When the
    Ethernet address of the destination is known, the packet gets an
    Ethernet header (type 0x86DD, from ETH to that address) and leaves by
    output 0. Otherwise the packet waits (one packet for each address; a
    newer one replaces the one waiting, which is dropped) and a Neighbor
    Solicitation is sent, from IP6 and ETH, to the target's solicited-node
    multicast address ff02::1:ffXX:XXXX (Ethernet 33-33-FF-XX-XX-XX), with
    ETH in a source link-layer address option. Multicast destinations need
    no solicitation: they go to 33-33 and the group's last 32 bits (RFC
    2464). Neighbor Advertisements arrive on input 1, Ethernet header
    included: the target link-layer address of an advertisement for an
    address asked for is recorded, and the packet waiting for it is sent.
    An entry expires TIMEOUT after it was learned. With two outputs,
    solicitations leave by output 1; with one, by output 0.

    Ports
    input 0 push (IPv6 packets), input 1 push (advertisements); output 0 push, optional output 1 push (solicitations)

    Keyword arguments
    IP6 -- this host's IPv6 address; mandatory
    ETH -- this host's Ethernet address; mandatory
    TIMEOUT -- how long a learned address stays valid, up to a year; default 5min

    Element handlers
    table (read) -- one line per address asked for: IPv6 address, 1 if known and valid (else 0), Ethernet address
    stats (read) -- packets dropped and solicitations sent

    Example
    c :: Classifier(12/86dd 20/3aff 54/87, 12/86dd 20/3aff 54/88, 12/86dd, -);
    nds :: IP6NDSolicitor(3ffe:1ce1:2::1, 00:e0:29:05:e5:6f);
    FromDump(trace.pcap, STOP true) -> c;
    c[0] -> Discard;
    c[1] -> [1]nds;
    c[2] -> Strip(14) -> [0]nds;
    c[3] -> Discard;
    nds -> Discard;
    """

    port_count = "2/1-2"
    processing = PUSH
    flow_code = "xy/x"

    def configure(self, args: Args) -> None:
        self.ip = args.read_mp("IP6", IP6ADDR)
        self.ether = args.read_mp("ETH", ETHERADDR)
        self.timeout = args.read("TIMEOUT", TIME.range(0, 365 * 86400.0, open_low=True), 300.0)
        args.complete()
        self.table: dict[bytes, _Neighbor] = {}
        self.drops = self.solicitations = 0

    def push(self, port: int, batch: list[Packet]) -> None:
        if port == 1:
            for packet in batch:
                self._learn(packet)
            return
        ready: list[Packet] = []
        now = self.router.now()
        for packet in batch:
            destination = packet.anno_bytes(0, 16)
            if destination[0] == 0xFF:
                ready.append(self._encapsulated(packet, multicast_ether(destination)))
                continue
            neighbor = self.table.setdefault(destination, _Neighbor())
            if neighbor.ether is not None and now - neighbor.learned < self.timeout:
                ready.append(self._encapsulated(packet, neighbor.ether))
                continue
            if neighbor.waiting is not None:
                self.drops += 1
            neighbor.waiting = packet
            self._solicit(destination, packet, now)
        if ready:
            self.output_push(0, ready)

    def _encapsulated(self, packet: Packet, ether: bytes) -> Packet:
        packet.push(14)
        packet.write(0, ether + self.ether + struct.pack("!H", ETHERTYPE_IP6))
        packet.set_mac_header(0)
        return packet

    def _solicit(self, target: bytes, cause: Packet, now: float) -> None:
        group = SOLICITED_NODE_PREFIX + target[13:]
        solicitation = (struct.pack("!BBH4x", NEIGHBOR_SOLICITATION, 0, 0) + target
                        + struct.pack("!BB", OPTION_SOURCE_LL, 1) + self.ether)
        query = Packet.make(nd_frame(multicast_ether(group), self.ether, self.ip, group,
                                     solicitation), timestamp=now)
        query.set_mac_header(0)
        query.vlan_tci = cause.vlan_tci
        self.solicitations += 1
        self.output_push(1 if self.noutputs > 1 else 0, [query])

    def _learn(self, packet: Packet) -> None:
        message = nd_message(packet.data, NEIGHBOR_ADVERTISEMENT)
        if message is None:
            return
        neighbor = self.table.get(message[8:24])
        ether = _option(message[24:], OPTION_TARGET_LL)
        if neighbor is None or ether is None:
            return
        neighbor.ether, neighbor.learned = ether, self.router.now()
        waiting, neighbor.waiting = neighbor.waiting, None
        if waiting is not None:
            self.output_push(0, [self._encapsulated(waiting, ether)])

    @read_handler("table")
    def _read_table(self) -> str:
        now = self.router.now()
        lines = []
        for address, neighbor in self.table.items():
            valid = neighbor.ether is not None and now - neighbor.learned < self.timeout
            ether = unparse_ether(neighbor.ether or bytes(6))
            lines.append(f"{unparse_ip6(address)} {1 if valid else 0} {ether}\n")
        return "".join(lines)

    @read_handler("stats")
    def _read_stats(self) -> str:
        return f"{self.drops} packets killed\n{self.solicitations} neighbor solicitations sent\n"


def _option(options: bytes, kind: int) -> bytes | None:
    """The Ethernet address in the first link-layer address option of type ``kind``."""
    offset = 0
    while offset + 2 <= len(options):
        length = options[offset + 1] * 8
        if length == 0:
            return None
        if options[offset] == kind and length == 8 and offset + 8 <= len(options):
            return options[offset + 2:offset + 8]
        offset += length
    return None
