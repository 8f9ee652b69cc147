"""CheckARPHeader and ARPPrint: checking ARP headers and printing ARP packets."""

from __future__ import annotations

import struct

from pyclick.args import BOOL, UNSIGNED, Args
from pyclick.elements.checktransport import HeaderCheck
from pyclick.elements.inet import ETHERTYPE_IPV4, ETHERTYPE_IPV6, unparse_ether, unparse_ip
from pyclick.elements.ipprint import LinePrinter
from pyclick.packet import Packet

TINY, BAD_LENGTH, BAD_HARDWARE, BAD_PROTOCOL = range(4)
#: The fixed part of an ARP header: hardware type, protocol type, the two
#: address lengths, operation.
_FIXED = struct.Struct("!HHBBH")
ARP_FIXED_LENGTH = _FIXED.size
HARDWARE_ETHER = 1
#: The protocol type of Berkeley trailer encapsulation.
ETHERTYPE_TRAILER = 0x1000
#: An Ethernet/IPv4 ARP message: the fixed part, then sender hardware and
#: protocol addresses, then target hardware and protocol addresses.
_ETHER_IPV4_LENGTH = ARP_FIXED_LENGTH + 2 * (6 + 4)
REQUEST, REPLY = 1, 2
#: The reverse (RFC 903) and inverse (RFC 2390) ARP operations: requests, then replies.
_ASKING = {3: "rarp", 8: "invarp"}
_ANSWERING = {4: "rarp", 9: "invarp"}


class CheckARPHeader(HeaderCheck):
    """CheckARPHeader(OFFSET, KEYWORDS) -- checks ARP header

    Description
    Expects ARP packets whose ARP header starts OFFSET bytes in. Checks that
    the packet holds the 8-byte fixed part of the header and the four
    addresses its length fields announce, that an Ethernet hardware type
    comes with 6-byte hardware addresses, and that an IPv4 protocol type
    comes with 4-byte protocol addresses (an IPv6 one with 16-byte
    addresses). A valid packet gets its network header annotation on the
    ARP header (ARPPrint needs it) and leaves by output 0.

    Invalid packets leave by output 1 when it is connected, and are dropped
    otherwise. The first one is reported with the reason (every one with
    VERBOSE).

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (invalid packets)

    Keyword arguments
    OFFSET -- where the ARP header starts, 0 to 65535; default 0
    VERBOSE -- report every invalid packet, not only the first; default false
    DETAILS -- count drops per reason (drop_details handler); default false

    Element handlers
    drops (read) -- invalid packets so far
    drop_details (read) -- invalid packets per reason, one line each (count, tab, reason); with DETAILS only

    Example
    FromDump(trace.pcap, STOP true) -> c :: Classifier(12/0806, -);
    c[0] -> Strip(14) -> a :: CheckARPHeader -> ARPPrint(arp) -> Discard;
    c[1] -> Discard;
    a[1] -> bad :: Counter -> Discard;
    """

    protocol_name = "ARP"
    reasons = ("tiny packet", "too small for addresses", "bad hardware type/length",
               "bad protocol type/length")

    def configure(self, args: Args) -> None:
        self.offset = args.read_p("OFFSET", UNSIGNED.range(0, 65535), 0)
        super().configure(args)

    def simple_action(self, packet: Packet) -> Packet | None:
        offset = self.offset
        if len(packet) - offset < ARP_FIXED_LENGTH:
            return self._refuse(TINY, packet)
        hardware, protocol, hlen, plen, _ = _FIXED.unpack_from(
            packet.buffer, packet.data_offset + offset)
        length = ARP_FIXED_LENGTH + 2 * (hlen + plen)
        if len(packet) - offset < length:
            return self._refuse(BAD_LENGTH, packet)
        if hardware == HARDWARE_ETHER and hlen != 6:
            return self._refuse(BAD_HARDWARE, packet)
        if (protocol == ETHERTYPE_IPV4 and plen != 4) or (protocol == ETHERTYPE_IPV6
                                                          and plen != 16):
            return self._refuse(BAD_PROTOCOL, packet)
        packet.set_network_header(offset, length)
        return packet


class ARPPrint(LinePrinter):
    """ARPPrint(LABEL, KEYWORDS) -- pretty-prints ARP packets

    Description
    Prints one line to standard error (or OUTFILE) for each ARP packet, in a
    tcpdump-like format, then passes the packet on unchanged. The packet's
    network header annotation must point at its ARP header (CheckARPHeader
    sets it); packets without one pass unprinted. The line holds LABEL, the
    timestamp, with ETHER the Ethernet source and destination, then:

      arp who-has TPA (THA) tell SPA -- request; (THA) only when it is not all zeros
      arp reply SPA is-at SHA -- reply
      rarp who-is THA tell SHA, rarp reply THA at TPA -- reverse ARP
      invarp who-is THA tell SHA, invarp reply THA at TPA -- inverse ARP
      arp-#N -- other operations

    where SHA, SPA, THA and TPA are the sender's and the target's hardware
    and protocol addresses, read as Ethernet and IPv4 ones. A trailer
    protocol type puts 'trailer-' in front, a hardware type other than
    Ethernet adds 'hardware #N' at the end. Packets with less than the
    8-byte fixed ARP header print 'truncated-arp (LENGTH)'. As in Click,
    packets whose protocol is neither IPv4 nor trailer, whose protocol
    addresses are not 4 bytes long or whose hardware addresses are empty
    pass without a line; address bytes beyond the end of a short packet
    read as zeros.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    LABEL -- text printed first, followed by a colon; default none
    TIMESTAMP -- print the packet's timestamp; default true
    ETHER -- print the Ethernet source and destination addresses, from the MAC header annotation (or the start of the packet) when a whole Ethernet header lies before the ARP header; default false
    OUTFILE -- write to this file instead of standard error
    ACTIVE -- print only while true; default true

    Element handlers
    active (read/write) -- the ACTIVE setting

    Example
    FromDump(trace.pcap, STOP true) -> c :: Classifier(12/0806, -);
    c[0] -> CheckARPHeader(14) -> ARPPrint(arp, ETHER true) -> Discard;
    c[1] -> Discard;
    """

    def configure(self, args: Args) -> None:
        self.read_settings(args)
        self.print_ether = args.read("ETHER", BOOL, False)
        args.complete()

    def line(self, packet: Packet) -> str | None:
        # None: an ARP packet of a kind Click does not print.
        parts = self.prefix(packet)
        buf, head = packet.buffer, packet.data_offset
        at = head + (packet.network_header_offset or 0)
        end = head + len(packet)
        if self.print_ether:
            mac = packet.mac_header_offset
            mac = head + (0 if mac is None else mac)
            if mac + 14 <= at and mac + 14 <= end:
                parts.append(f"{unparse_ether(buf[mac + 6:mac + 12])} > "
                             f"{unparse_ether(buf[mac:mac + 6])}: ")
        if end - at < ARP_FIXED_LENGTH:
            return "".join(parts) + f"truncated-arp ({end - at})"
        arp = bytes(buf[at:min(at + _ETHER_IPV4_LENGTH, end)]).ljust(_ETHER_IPV4_LENGTH, b"\0")
        hardware, protocol, hlen, plen, operation = _FIXED.unpack_from(arp)
        if protocol not in (ETHERTYPE_IPV4, ETHERTYPE_TRAILER) or plen != 4 or hlen == 0:
            return None
        sha, spa, tha, tpa = (unparse_ether(arp[8:14]), unparse_ip(arp[14:18]),
                              unparse_ether(arp[18:24]), unparse_ip(arp[24:28]))
        if protocol == ETHERTYPE_TRAILER:
            parts.append("trailer-")
        if operation == REQUEST:
            # Only as many bytes of the target hardware address as it has
            # (at most the 6 an Ethernet address holds) tell whether it is known.
            known = f" ({tha})" if any(arp[18:18 + min(hlen, 6)]) else ""
            parts.append(f"arp who-has {tpa}{known} tell {spa}")
        elif operation == REPLY:
            parts.append(f"arp reply {spa} is-at {sha}")
        elif operation in _ASKING:
            parts.append(f"{_ASKING[operation]} who-is {tha} tell {sha}")
        elif operation in _ANSWERING:
            parts.append(f"{_ANSWERING[operation]} reply {tha} at {tpa}")
        else:
            parts.append(f"arp-#{operation}")
        if hardware != HARDWARE_ETHER:
            # No space before it, as Click prints it.
            parts.append(f"hardware #{hardware}")
        return "".join(parts)
