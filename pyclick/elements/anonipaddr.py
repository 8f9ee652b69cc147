"""AnonymizeIPAddr: prefix-preserving anonymization of IP addresses (tcpdpriv's -A50)."""

from __future__ import annotations


from pyclick.args import BOOL, INT, Args, split_words
from pyclick.element import PROCESSING_A_AH, Element
from pyclick.packet import Packet

_U32 = 0xFFFFFFFF
_ICMP = 1
#: ICMP errors that quote the header of the packet they are about.
_ICMP_ERRORS = {3, 11, 12, 4, 5}


def _first_bit(x: int) -> int:
    """The position of ``x``'s highest 1 bit, 1 for bit 31 to 32 for bit 0."""
    return 33 - x.bit_length()


def icmp_quoted(packet: Packet, after: int = 0) -> int | None:
    """Where the IP header an ICMP error quotes starts, when ``packet`` (its
    transport header annotation on the ICMP header) holds that header and
    ``after`` more bytes."""
    th = packet.transport_header_offset
    if th is None or not 0 <= th < len(packet) or packet.byte(th) not in _ICMP_ERRORS \
            or th + 9 > len(packet):
        return None
    hlen = (packet.byte(th + 8) & 0x0F) * 4
    if len(packet) - th >= 8 + hlen + after and hlen >= 20:
        return th + 8
    return None


def _class_arg(text: str, args: Args) -> int:
    value = INT(text, args)
    if value == 99:
        return 32
    if value > 32:
        raise ValueError("must be between 0 and 32")
    return max(value, 0)


def _preserve_arg(text: str, args: Args) -> list[int]:
    nets = []
    for word in split_words(text):
        try:
            net = INT(word, args)
        except ValueError:
            net = -1
        if not 0 <= net < 256:
            raise ValueError("expects integers between 0 and 255")
        nets.append(net)
    return nets


class AnonymizeIPAddr(Element):
    """AnonymizeIPAddr(KEYWORDS) -- anonymizes top-level IP addresses in passing packets

    Description
    Replaces the source and destination addresses of IPv4 packets by
    anonymous ones, keeping prefixes: two addresses that shared their first
    N bits still do after anonymization, and differ at the same bit. This
    is tcpdpriv's -A50 scheme: the bits after the first one where an
    address differs from every address seen before are random, so the
    mapping changes from run to run (the SEED keyword is accepted and
    ignored, as in Click). 0.0.0.0 and 255.255.255.255 always map to
    themselves.

    The IP header checksum is updated incrementally: it is right after
    exactly when it was right before. In an ICMP error (unreachable, time
    exceeded, parameter problem, source quench, redirect) the addresses of
    the quoted IP header are anonymized too, with the ICMP checksum
    updated, provided the error holds the quoted header and 8 more bytes.
    Only the header the network header annotation points to is changed.
    A packet without that annotation, or not IPv4, leaves by output 1 when
    it is connected and is dropped otherwise.

    CLASS N keeps the first N one bits of an address: an address starts
    with K ones (K < N) followed by a zero exactly when its anonymous one
    does. CLASS 1 keeps class A, 2 classes A and B, 3 A, B and C, 4 A to D.
    PRESERVE_8 lists /8 networks that map to themselves; prefix
    preservation then also fixes or permutes the networks close to them
    (with 18, net 19 maps to itself and nets 16 and 17 to each other or
    themselves).

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (non-IPv4 packets)

    Keyword arguments
    CLASS -- how many leading one bits to keep, 0 to 32 (99 means 32); default 0
    PRESERVE_8 -- first bytes of the /8 networks to keep, 0 to 255, separated by spaces; default none
    SEED -- a boolean, ignored; default true

    Example
    FromDump(trace.pcap, STOP true) -> CheckIPHeader(14) -> AnonymizeIPAddr(CLASS 4)
        -> ToDump(anon.pcap);
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        self.preserve_class = args.read("CLASS", _class_arg, 0)
        self.preserve_8 = args.read("PRESERVE_8", _preserve_arg, [])
        args.read("SEED", BOOL, True)
        args.complete()

    def initialize(self) -> None:
        self._random = self.router.random_source(self)
        #: A node is [input, output, child0, child1], addresses as numbers.
        self._root: list = [1, self._rand32(), None, None]
        touched = False
        if self.preserve_class:
            mask = ~(_U32 >> self.preserve_class) & _U32
            self._root[0] = mask
            self._root[1] |= mask
            touched = True
        for net in self.preserve_8:
            addr = net << 24
            node = self._root if not touched else self._find(addr)
            if not touched:
                node[0] = addr
                touched = True
            node[1] = (node[1] & 0x00FFFFFF) | addr

    def _rand32(self) -> int:
        return self._random.getrandbits(32)

    def _find(self, a: int) -> list:
        """The node of address ``a``, made when it is new."""
        node = self._root
        while node[0] != a:
            if node[2] is None:
                node = self._peer(a, node)
                continue
            swivel = _first_bit(node[2][0] ^ node[3][0])
            if _first_bit(a ^ node[0]) < swivel:
                node = self._peer(a, node)
            else:
                node = node[3] if a & (1 << (32 - swivel)) else node[2]
        return node

    def _peer(self, a: int, node: list) -> list:
        """Split ``node``: its old self and ``a`` become its children; ``a``'s node."""
        if a in (0, _U32):
            return [a, a, None, None]
        swivel = _first_bit(a ^ node[0])
        bit = (a >> (32 - swivel)) & 1
        if swivel == 32:
            output = node[1] ^ 1
        else:
            known = ((node[1] >> (32 - swivel)) ^ 1) << (32 - swivel)
            output = (known | ((self._rand32() & 0x7FFFFFFF) >> swivel)) & _U32
        new = [a, output, None, None]
        children = [new, list(node)] if bit == 0 else [list(node), new]
        node[0], node[1] = children[1][0], children[1][1]
        node[2], node[3] = children
        return new

    def _anonymize(self, data: memoryview, at: int, sum_at: int) -> None:
        """Anonymize the addresses of the IP header at ``at``, updating the
        checksum at ``sum_at`` as RFC 1624 says."""
        old = bytes(data[at + 12:at + 20])
        new = b"".join(self._find(int.from_bytes(old[i:i + 4], "big"))[1].to_bytes(4, "big")
                       for i in (0, 4))
        data[at + 12:at + 20] = new
        total = ~int.from_bytes(data[sum_at:sum_at + 2], "big") & 0xFFFF
        for i in range(0, 8, 2):
            total += (~int.from_bytes(old[i:i + 2], "big") & 0xFFFF) \
                + int.from_bytes(new[i:i + 2], "big")
        total = (total & 0xFFFF) + (total >> 16)
        data[sum_at:sum_at + 2] = (~(total + (total >> 16)) & 0xFFFF).to_bytes(2, "big")

    def simple_action(self, packet: Packet) -> Packet | None:
        nh = packet.network_header_offset
        if nh is None or nh < 0 or nh >= len(packet) or packet.byte(nh) >> 4 != 4:
            self.output_push(1, [packet])
            return None
        data = packet.writable_data()
        self._anonymize(data, nh, nh + 10)
        quoted = icmp_quoted(packet, 8) if data[nh + 9] == _ICMP else None
        if quoted is not None:
            self._anonymize(data, quoted, quoted - 6)
        return packet
