"""ICMPError: the ICMP error a router sends back about a packet it cannot forward."""

from __future__ import annotations

import struct

from pyclick.args import BOOL, UNSIGNED, Args, ListOf
from pyclick.classify.ippatterns import ICMP_CODES, ICMP_TYPES
from pyclick.element import AGNOSTIC, Element
from pyclick.elements.inet import IPADDR, checksum, ipv4_header, unparse_ip
from pyclick.elements.ipproto import ICMP
from pyclick.elements.settinghandlers import setting_handlers
from pyclick.packet import ANNOTATIONS, BROADCAST, MULTICAST, Packet

#: ICMP types that are errors: never answered with an error.
ERROR_TYPES = frozenset({3, 4, 5, 11, 12})
#: The TTL of the errors made (Click's).
TTL = 200
_BYTE = UNSIGNED.range(0, 255)
_MTU = UNSIGNED.range(28, 65535)
_PMTU = UNSIGNED.range(0, 65535)
_PARAMPROB, _FIX_IP_SRC = ANNOTATIONS["ICMP_PARAMPROB"][0], ANNOTATIONS["FIX_IP_SRC"][0]
#: IP option kinds: end of options, no operation, loose and strict source routes.
_EOL, _NOP = 0, 1
_SOURCE_ROUTES = (131, 137)


def _unicast(address: bytes) -> bool:
    """Not 0.0.0.0, not a multicast, experimental or broadcast address."""
    return address != bytes(4) and address[0] < 224


def _valid_source(address: bytes) -> bool:
    """Not on net 0 or the loopback net, and unicast."""
    return address[0] not in (0, 127) and _unicast(address)


def _source_route(ip: bytes) -> int | None:
    """Where in the IP header ``ip`` its first well-formed source route option
    (loose or strict) starts, its pointer on an address; None when the
    options end, or go wrong, before one."""
    end = min((ip[0] & 15) * 4, len(ip))
    at = 20
    while at < end:
        kind = ip[at]
        if kind == _NOP:
            at += 1
            continue
        if kind == _EOL or at + 1 >= end:
            return None
        size = ip[at + 1]
        if size < 2 or at + size > end:
            return None
        if kind in _SOURCE_ROUTES and at + 2 < end:
            pointer = ip[at + 2]
            if pointer >= 4 and pointer % 4 == 0 and pointer <= size + 1:
                return at
        at += size
    return None


def _route_back(ip: bytes, at: int) -> bytes:
    """The option taking an error back along the source route at ``at`` of ``ip``:
    the same kind, the addresses before the pointer (the hops made), last
    first, the pointer on the first, then an end of options; it fills whole
    4-byte words, since the pointer is a multiple of 4."""
    pointer = ip[at + 2]
    hops = [ip[hop:hop + 4] for hop in range(at + 3, at + pointer - 1, 4)]
    return bytes((ip[at], pointer - 1, 4)) + b"".join(reversed(hops)) + bytes((_EOL,))


def ICMP_TYPE(text: str, args: Args | None) -> int:
    """An ICMP type: 0 to 255, or a name (echo, unreachable...)."""
    word = text.strip().lower()
    if word in ICMP_TYPES:
        return ICMP_TYPES[word]
    try:
        return _BYTE(word, args)
    except ValueError:
        raise ValueError("expected ICMP type (0-255 or a name: "
                         f"{', '.join(ICMP_TYPES)})") from None


def icmp_code(kind: int, text: str, args: Args | None) -> int:
    """An ICMP code of the ICMP type ``kind``: 0 to 255, or a name of one of
    that type's codes (host, port, transit...)."""
    names = ICMP_CODES.get(kind, {})
    word = text.lower()
    if word in names:
        return names[word]
    try:
        return _BYTE(word, args)
    except ValueError:
        known = f" or {', '.join(names)}" if names else ""
        raise ValueError(f"expected ICMP code (0-255{known})") from None


class ICMPError(Element):
    """ICMPError(SRC, TYPE, CODE, KEYWORDS) -- generates ICMP error packets

    Description
    Answers each incoming IP packet with an ICMP error of type TYPE and
    code CODE, sent from SRC to the packet's source; the incoming packet is
    consumed. The error holds the packet's IP header and the start of its
    payload, as much as fits in MTU bytes. Its IP header has TTL 200, TOS
    0, an ID counting up from 1, and correct checksums; its destination IP
    address annotation is set to the packet's source, and so is the
    fix_ip_src annotation unless USE_FIX_ANNO is false.

    TYPE is an ICMP error type, a number or a name: unreachable (3),
    sourcequench (4), redirect (5), timeexceeded (11), parameterproblem
    (12). CODE is a number from 0 to 255 or a name: for unreachable net,
    host, protocol, port, needfrag, srcroutefail, netunknown, hostunknown,
    isolated, netprohibited, hostprohibited, tosnet, toshost,
    filterprohibited, hostprecedence, precedencecutoff (0 to 15); for
    redirect net, host, tosnet, toshost; for timeexceeded transit,
    reassembly; for parameterproblem erroratptr, missingopt, length.

    As RFC 1812 asks, no error answers an ICMP error, a fragment other than
    the first, a packet sent to a broadcast or multicast address, one that
    arrived as a link-level broadcast or multicast (packet type
    annotation), one from an invalid source (net 0, loopback, multicast),
    or one from or to an address in BADADDRS. A redirect carries the
    packet's destination annotation as the gateway; a parameter problem
    with code 0 its ICMP_PARAMPROB annotation as the pointer; an
    unreachable needfrag the PMTU.

    A packet with a source route option (loose or strict, RFC 1812 4.3.2.6)
    gets an error carrying the route back: an option of the same kind
    listing the addresses the packet went through, last first, its pointer
    at the first. No redirect answers a source-routed packet, and a
    parameter problem whose pointer falls in the route option leaves the
    route out.

    Input packets need their network header annotation (CheckIPHeader);
    packets without one are dropped.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    SRC -- the errors' source address; mandatory
    TYPE -- the ICMP type; mandatory
    CODE -- the ICMP code; default 0
    BADADDRS -- addresses never answered (as source or destination); default none
    MTU -- the largest error packet, at least 28 bytes; default 576
    PMTU -- the next-hop MTU reported by unreachable needfrag errors; default 0
    USE_FIX_ANNO, SET_FIX_ANNO -- set the fix_ip_src annotation; default true

    Element handlers
    src, mtu, pmtu (read/write) -- the SRC, MTU and PMTU settings

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader -> dt :: DecIPTTL -> Discard;
    dt[1] -> ICMPError(18.26.4.24, timeexceeded) -> errors :: Counter -> Discard;
    """

    can_live_reconfigure = True
    live_state = ("_id",)
    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.src = args.read_mp("SRC", IPADDR)
        self.type = args.read_mp("TYPE", self._type)
        code_text = args.read_p("CODE", lambda text, a: text.strip(), "0")
        self.bad_addresses = frozenset(args.read("BADADDRS", ListOf(IPADDR), []))
        self.mtu = args.read("MTU", _MTU, 576)
        self.pmtu = args.read("PMTU", _PMTU, 0)
        # Click's manual names USE_FIX_ANNO, its code reads SET_FIX_ANNO: either works.
        use = args.read("USE_FIX_ANNO", BOOL)
        set_anno = args.read("SET_FIX_ANNO", BOOL)
        if use is not None and set_anno is not None:
            args.error("give at most one of USE_FIX_ANNO and SET_FIX_ANNO")
        self.use_fix_anno = next((v for v in (use, set_anno) if v is not None), True)
        if self.type is not None:
            self.code = args.convert("CODE", code_text, self._code, 0)
        args.complete()
        self._id = 1

    _read_src, _write_src = setting_handlers("src", IPADDR, unparse_ip)
    _read_mtu, _write_mtu = setting_handlers("mtu", _MTU)
    _read_pmtu, _write_pmtu = setting_handlers("pmtu", _PMTU)

    @staticmethod
    def _type(text: str, args: Args | None) -> int:
        kind = ICMP_TYPE(text, args)
        if kind not in ERROR_TYPES:
            raise ValueError(f"ICMP type {kind} is not an error type")
        return kind

    def _code(self, text: str, args: Args | None) -> int:
        return icmp_code(self.type, text, args)

    def _answerable(self, packet: Packet, ip: bytes) -> bool:
        hlen = (ip[0] & 15) * 4
        if ip[9] == 1 and (len(ip) < hlen + 4 or ip[hlen] in ERROR_TYPES):
            return False
        src, dst = ip[12:16], ip[16:20]
        if not _unicast(dst) or not _valid_source(src):
            return False
        if packet.packet_type in (BROADCAST, MULTICAST):
            return False
        if struct.unpack_from("!H", ip, 6)[0] & 0x1FFF:
            return False
        return src not in self.bad_addresses and dst not in self.bad_addresses

    def simple_action(self, packet: Packet) -> Packet | None:
        offset = packet.network_header_offset
        if offset is None or offset < 0:
            return None
        ip = packet.data[offset:]
        if len(ip) < 20 or not self._answerable(packet, ip):
            return None
        rest = 0
        pointer = packet.anno_u8(_PARAMPROB)
        if self.type == 12 and self.code == 0:
            rest = pointer << 24
        elif self.type == 3 and self.code == 4:
            rest = self.pmtu
        options = b""
        route = _source_route(ip)
        if route is not None:
            if self.type == 5:
                return None
            about_route = route <= pointer < route + ip[route + 1]
            if not (self.type == 12 and self.code == 0 and about_route):
                options = _route_back(ip, route)
        quoted = ip[:max(self.mtu - 28 - len(options), 0)]
        if self.type == 5:
            icmp = struct.pack("!BBH4s", self.type, self.code, 0, packet.dst_ip) + quoted
        else:
            icmp = struct.pack("!BBHI", self.type, self.code, 0, rest) + quoted
        icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
        header = ipv4_header(20 + len(options) + len(icmp), self._id, TTL, ICMP, self.src,
                             ip[12:16], options=options)
        self._id = (self._id + 1) & 0xFFFF
        error = Packet.make(header + icmp, timestamp=self.router.now())
        error.set_network_header(0, len(header))
        error.dst_ip = ip[12:16]
        if self.use_fix_anno:
            error.set_anno_u8(_FIX_IP_SRC, 1)
        return error
