"""ICMPPingEncap and ICMPIPEncap: ICMP and IP headers in front of each packet."""

from __future__ import annotations

import struct

from pyclick.args import UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.elements.icmperror import ICMP_TYPE, icmp_code
from pyclick.elements.inet import IPADDR, checksum, ipv4_header, unparse_ip
from pyclick.elements.ipproto import ICMP
from pyclick.elements.settinghandlers import setting_handlers
from pyclick.packet import Packet

#: The TTL of the packets made (Click's).
TTL = 255
ECHO_REPLY, ECHO, TIMESTAMP, TIMESTAMP_REPLY = 0, 8, 13, 14
#: ICMP types whose header has an identifier and a sequence number.
SEQUENCED = frozenset({ECHO_REPLY, ECHO, TIMESTAMP, TIMESTAMP_REPLY, 15, 16})
_IDENTIFIER = UNSIGNED.range(0, 65535)


def _code_word(text: str, args: Args | None) -> str:
    return text.strip()


class _ICMPEncap(Element):
    """What ICMPPingEncap and ICMPIPEncap share: SRC, DST and IDENTIFIER, the
    headers put in front, their handlers (no manual: not an element class
    of its own)."""

    registered = False
    port_count = "1/1"
    processing = AGNOSTIC
    icmp_type = ECHO
    icmp_code = 0

    def configure(self, args: Args) -> None:
        self.src = args.read_mp("SRC", IPADDR)
        self.dst = args.read_mp("DST", IPADDR)
        self._read_type(args)
        self.identifier = args.read("IDENTIFIER", _IDENTIFIER, 0)
        args.complete()
        self._ip_id = 1

    def _read_type(self, args: Args) -> None:
        """Read the ICMP type and code, for the classes that take them."""

    def simple_action(self, packet: Packet) -> Packet:
        kind = self.icmp_type
        # The timestamps of a timestamp message belong to its header: zeros here.
        icmp = bytearray(20 if kind in (TIMESTAMP, TIMESTAMP_REPLY) else 8)
        icmp[0], icmp[1] = kind, self.icmp_code
        if kind in SEQUENCED:
            struct.pack_into("!HH", icmp, 4, self.identifier, self._ip_id)
        icmp += packet.data
        struct.pack_into("!H", icmp, 2, checksum(icmp))
        # As in Click, the IP length of an oversized packet keeps its low 16 bits.
        ip = ipv4_header((len(icmp) + 20) & 0xFFFF, self._ip_id, TTL, ICMP, self.src, self.dst)
        headers = len(icmp) - len(packet)
        packet.push(20 + headers)
        packet.write(0, ip + icmp[:headers])
        packet.set_network_header(0, 20)
        packet.dst_ip = self.dst
        # The IP ID and the sequence number skip 0 when they wrap around.
        self._ip_id = self._ip_id % 0xFFFF + 1
        return packet

    _read_src, _write_src = setting_handlers("src", IPADDR, unparse_ip)
    _read_dst, _write_dst = setting_handlers("dst", IPADDR, unparse_ip)


class ICMPPingEncap(_ICMPEncap):
    """ICMPPingEncap(SRC, DST, KEYWORDS) -- encapsulates packets in ICMP ping headers

    Description
    Puts an ICMP echo request header and an IP header in front of each
    packet, from SRC to DST. The IP header has no options, TOS 0, TTL 255,
    no fragment bits and an ID that counts up from 1 with each packet (0
    is skipped when it wraps around); the echo's sequence number is that
    ID, its identifier IDENTIFIER. Both checksums are set. The packet's
    network header annotation is set to the new IP header, its destination
    IP address annotation to DST.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    SRC -- source IP address; mandatory
    DST -- destination IP address; mandatory
    IDENTIFIER -- the ICMP identifier, 0 to 65535; default 0

    Element handlers
    src, dst (read/write) -- the SRC and DST settings

    Example
    InfiniteSource(LIMIT 1, LENGTH 8) -> ICMPPingEncap(1.0.0.1, 2.0.0.2) -> ICMPPingResponder -> Discard;
    """


class ICMPIPEncap(_ICMPEncap):
    """ICMPIPEncap(SRC, DST, TYPE, CODE, KEYWORDS) -- encapsulates packets in ICMP/IP headers

    Description
    Puts an ICMP header of type TYPE and code CODE and an IP header in
    front of each packet, from SRC to DST. The IP header has no options,
    TOS 0, TTL 255, no fragment bits and an ID that counts up from 1 with
    each packet (0 is skipped when it wraps around). The ICMP header is 8
    bytes long, 20 for a timestamp or timestamp reply (the timestamps
    zero); for the types that have them (echo, echo-reply, timestamp,
    timestamp-reply, inforeq, inforeq-reply) its identifier is IDENTIFIER
    and its sequence number the IP ID, and its other bytes are zero
    otherwise. Both checksums are set. The packet's network header
    annotation is set to the new IP header, its destination IP address
    annotation to DST.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    SRC -- source IP address; mandatory
    DST -- destination IP address; mandatory
    TYPE -- the ICMP type, 0 to 255 or a name (echo, unreachable, timestamp...); mandatory
    CODE -- the ICMP code, 0 to 255 or a name of one of the type's codes (port, transit...); default 0
    IDENTIFIER -- the ICMP identifier, 0 to 65535; default 0

    Element handlers
    src, dst (read/write) -- the SRC and DST settings

    Example
    InfiniteSource(LIMIT 1, LENGTH 8) -> ICMPIPEncap(1.0.0.1, 2.0.0.2, unreachable, port) -> Discard;
    """

    def _read_type(self, args: Args) -> None:
        self.icmp_type = args.read_mp("TYPE", ICMP_TYPE)
        code = args.read_p("CODE", _code_word, "0")
        if self.icmp_type is not None:
            self.icmp_code = args.convert("CODE", code, self._code, 0)

    def _code(self, text: str, args: Args | None) -> int:
        try:
            return icmp_code(self.icmp_type, text, args)
        except ValueError as err:
            raise ValueError(f"{err} for TYPE {self.icmp_type}") from None
