"""What the IP and Ethernet elements share: the Internet checksum, address
argument types, and where a packet's IP header is.

- :func:`checksum`: the Internet checksum (RFC 1071) of some bytes, and
  :func:`transport_checksum`, the same over a TCP or UDP segment with the
  IPv4 pseudo-header in front;
- :func:`ipv4_header` and :func:`udp_header`: the headers the elements that
  make packets put in front, checksums set;
- :func:`IPADDR`, :func:`IPPREFIX` (``10.0.0.1/24`` or ``10.0.0.1
  255.255.255.0``), :func:`IP_OR_PREFIX`, :func:`ETHERADDR`,
  :func:`IP6ADDR`, :func:`IP6PREFIX`: argument types returning bytes in
  network order (and the prefix length). Each also takes a name an
  AddressInfo of the router defines (``me``, ``me:ip``, ``me:ipnet``,
  ``me:bcast``, ``me:gw``, ``me:eth``, ``me:ip6``, ``me:ip6net``; see
  ``pyclick.elements.addressnames``), and, as Click does, the name of a
  network device for its Ethernet or IPv4 address;
- :func:`ip_header_offset`: the IP header's offset in a packet's data, from
  its network header annotation, 0 when no element set it;
  :func:`mark_ip_header` and :func:`mark_ip_header_at`: FORCE_IP's search
  for a whole IP header in a frame (FromDevice, FromDump);
- :func:`reject`: where the elements with an optional output for refused
  packets send them.
"""

from __future__ import annotations

import ipaddress
import re
import struct
from typing import TYPE_CHECKING, Any

from pyclick.elements.addressnames import AddressKind, find_address, split_suffix
from pyclick.elements.ipproto import UDP
from pyclick.packet import Packet

if TYPE_CHECKING:
    from pyclick.args import Args
    from pyclick.element import Element

_ETHER = re.compile(r"[0-9A-Fa-f]{1,2}([:-])[0-9A-Fa-f]{1,2}(\1[0-9A-Fa-f]{1,2}){4}\Z")


#: The first one to three bytes of an IPv4 address.
_PARTIAL = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3}){0,2}\Z")
_DOTTED = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)\Z")
#: Longest dotted address read: long runs of leading zeros are still an address.
_DOTTED_LONGEST = 64
_WORD = struct.Struct("!H")
_IPV4_HEADER = struct.Struct("!BBHHHBBH4s4s")
_UDP_HEADER = struct.Struct("!HHHH")


def checksum(data: bytes | bytearray | memoryview) -> int:
    """The Internet checksum of ``data`` (0 when ``data`` holds a correct one)."""
    if len(data) % 2:
        data = bytes(data) + b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def patch_checksum(data: bytearray | memoryview, at: int, old: int, new: int) -> None:
    """Update the checksum at ``at`` after data whose one's complement sum was
    ``old`` became ``new`` (RFC 1624: ~(~HC + ~m + m'))."""
    (current,) = _WORD.unpack_from(data, at)
    total = (~current & 0xFFFF) + (~old & 0xFFFF) + new
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    _WORD.pack_into(data, at, ~total & 0xFFFF)


def transport_checksum(src: bytes, dst: bytes, protocol: int,
                       segment: bytes | bytearray | memoryview) -> int:
    """The checksum of a TCP or UDP ``segment`` carried from ``src`` to ``dst``
    (4 bytes each), its IPv4 pseudo-header included (RFC 793, RFC 768)."""
    pseudo = bytes(src) + bytes(dst) + struct.pack("!BBH", 0, protocol, len(segment))
    return checksum(pseudo + bytes(segment))


def ipv4_header(length: int, ident: int, ttl: int, protocol: int, src: bytes, dst: bytes,
                tos: int = 0, fragment: int = 0, options: bytes = b"") -> bytes:
    """An IPv4 header of a packet ``length`` bytes long from ``src`` to ``dst``,
    its checksum set: 20 bytes, then ``options`` (whole 4-byte words; none by
    default); ``fragment`` holds the flags and the fragment offset."""
    header = bytearray(_IPV4_HEADER.pack(0x45 + len(options) // 4, tos, length, ident, fragment,
                                         ttl, protocol, 0, src, dst)) + options
    _WORD.pack_into(header, 10, checksum(header))
    return bytes(header)


def udp_header(src: bytes, sport: int, dst: bytes, dport: int,
               payload: bytes | bytearray | memoryview, with_checksum: bool) -> bytes:
    """The 8-byte UDP header of ``payload`` sent from ``src``:``sport`` to
    ``dst``:``dport``; its checksum is 0 (none) unless ``with_checksum``, and a
    computed 0 is sent as 0xFFFF (RFC 768)."""
    length = len(payload) + 8
    header = _UDP_HEADER.pack(sport, dport, length, 0)
    if not with_checksum:
        return header
    udp_sum = transport_checksum(src, dst, UDP, header + bytes(payload)) or 0xFFFF
    return _UDP_HEADER.pack(sport, dport, length, udp_sum)


def IPADDR(text: str, args: Args | None = None) -> bytes:
    """An IPv4 address, as 4 bytes: written out, or a name for one."""
    word = text.strip()
    dotted = _DOTTED.match(word) if len(word) <= _DOTTED_LONGEST else None
    if dotted:
        # Four decimal bytes; leading zeros are decimal too, as Click reads them.
        parts = [int(part) for part in dotted.groups()]
        if max(parts) <= 255:
            return bytes(parts)
        raise ValueError("expected IP address")
    named = _named_ip(word, args)
    if named is None:
        raise ValueError("expected IP address")
    return named


def IPPREFIX(text: str, args: Args | None = None) -> tuple[bytes, int]:
    """An address with a prefix length: ``18.26.4.9/24`` or ``18.26.4.9
    255.255.255.0``; the address and the length may be names (``me/24``,
    ``me:ipnet``). A bare address is a /32."""
    words = text.split()
    found = None
    if len(words) == 2:
        found = _with_mask(words[0], words[1], args)
    elif len(words) == 1:
        word = words[0]
        address, slash, length = word.rpartition("/")
        found = (_with_mask(address, length, args) if slash and length
                 else _literal_prefix(word) or _named_prefix(word, args))
    if found is None:
        raise ValueError("expected IP address with prefix (e.g. 10.0.0.1/24)")
    return found


def IP_OR_PREFIX(text: str, args: Args | None = None) -> tuple[bytes, int]:
    """An address prefix where an address stands for itself alone (/32): a
    name with both an address and a prefix gives its address, unless
    written ``NAME:ipnet`` (Click's prefixes that allow a bare address)."""
    word = text.strip()
    if "/" not in word and " " not in word:
        try:
            return IPADDR(word, args), 32
        except ValueError:
            pass
    return IPPREFIX(text, args)


def ETHERADDR(text: str, args: Args | None = None) -> bytes:
    """An Ethernet address (``00:11:22:33:44:55`` or with dashes), as 6 bytes;
    or a name for one (``me``, ``me:eth``), or a device's name."""
    word = text.strip()
    if _ETHER.match(word):
        return bytes(int(part, 16) for part in re.split("[:-]", word))
    name = split_suffix(word, AddressKind.ETHER)
    named = None
    if name is not None:
        named = find_address(name, AddressKind.ETHER, args)
        if named is None and args is not None and args.element is not None:
            # The interface layer is loaded only when a name is an interface's, so that
            # --list and --doc load no kernel adapter.
            from pyclick.kernel import ifaddr
            named = ifaddr.ether_address(name)
    if named is None:
        raise ValueError("expected Ethernet address (e.g. 00:11:22:33:44:55)")
    return named


def IP6ADDR(text: str, args: Args | None = None) -> bytes:
    """An IPv6 address, as 16 bytes: written out, or a name for one (``me:ip6``)."""
    word = text.strip()
    try:
        return ipaddress.IPv6Address(word).packed
    except ValueError:
        pass
    return _named_ip6(word, AddressKind.IP6, args, "expected IPv6 address")


def IP6PREFIX(text: str, args: Args | None = None) -> tuple[bytes, int]:
    """An IPv6 address with a prefix length (``fe80::1/64``; a bare address is
    a /128), or a name for one (``me:ip6net``)."""
    word = text.strip()
    try:
        interface = ipaddress.IPv6Interface(word)
        return interface.ip.packed, interface.network.prefixlen
    except ValueError:
        pass
    address, slash, length = word.rpartition("/")
    if slash and length.isdigit() and int(length) <= 128:
        try:
            return IP6ADDR(address, args), int(length)
        except ValueError:
            pass
    return _named_ip6(word, AddressKind.IP6NET, args,
                      "expected IPv6 address with prefix (e.g. fe80::1/64)")


def _named_ip6(word: str, kind: AddressKind, args: Args | None, expected: str) -> Any:
    """What an AddressInfo name of ``kind`` stands for (``me:ip6``, ``me:ip6net``);
    a ValueError saying what was ``expected`` when it stands for none."""
    name = split_suffix(word, kind)
    named = None if name is None else find_address(name, kind, args)
    if named is None:
        raise ValueError(expected)
    return named


def _literal_prefix(word: str) -> tuple[bytes, int] | None:
    try:
        interface = ipaddress.IPv4Interface(word)
    except ValueError:
        return None
    return interface.ip.packed, interface.network.prefixlen


def _with_mask(address: str, mask: str, args: Args | None) -> tuple[bytes, int] | None:
    """``address`` (or a name) with a prefix length or a netmask (or a name).

    As in Click, an address may be cut short (``10/8``, ``0/0``) when the
    prefix covers only the bytes written.
    """
    if _PARTIAL.match(address) and mask.isdigit():
        parts = [int(part) for part in address.split(".")]
        if int(mask) > 8 * len(parts) or max(parts) > 255:
            return None
        return bytes(parts).ljust(4, b"\0"), int(mask)
    try:
        ip = IPADDR(address, args)
    except ValueError:
        return None
    if mask.isdigit():
        return (ip, int(mask)) if int(mask) <= 32 else None
    try:
        netmask = ipaddress.IPv4Address(IPADDR(mask, args))
        length = ipaddress.IPv4Network(f"0.0.0.0/{netmask}").prefixlen
    except ValueError:
        return None
    return ip, length


def _named_ip(word: str, args: Args | None) -> bytes | None:
    """The IPv4 address a name stands for: ``NAME``, ``NAME:ip``, ``NAME:bcast`` (the
    broadcast address of its prefix), ``NAME:gw`` (its prefix's first address)."""
    name, colon, suffix = word.rpartition(":")
    if colon and suffix.lower() in ("bcast", "gw"):
        prefix = _named_prefix(name, args)
        if prefix is None:
            return None
        network = ipaddress.IPv4Network(prefix, strict=False)
        if suffix.lower() == "bcast":
            return network.broadcast_address.packed
        return (network.network_address + 1).packed
    name = split_suffix(word, AddressKind.IP)
    if name is None:
        return None
    named = find_address(name, AddressKind.IP, args)
    if named is None and args is not None and args.element is not None:
        from pyclick.kernel import ifaddr
        device = ifaddr.ipv4_address(name)
        named = device[0] if device else None
    return named


def _named_prefix(word: str, args: Args | None) -> tuple[bytes, int] | None:
    name = split_suffix(word, AddressKind.IPNET)
    if name is None:
        return None
    named = find_address(name, AddressKind.IPNET, args)
    if named is None and args is not None and args.element is not None:
        from pyclick.kernel import ifaddr
        named = ifaddr.ipv4_address(name)
    return named


def unparse_ether(address: bytes) -> str:
    """``00-11-22-33-44-55`` (Click's way of printing an Ethernet address)."""
    return "-".join(f"{b:02X}" for b in address)


def unparse_ip(address: bytes) -> str:
    return str(ipaddress.IPv4Address(address))


def unparse_ip6(address: bytes) -> str:
    return str(ipaddress.IPv6Address(address))


def ip_header_offset(packet: Packet) -> int:
    """Where the IP header starts in the packet's data (the network header
    annotation, or 0 when no element set it)."""
    offset = packet.network_header_offset
    return 0 if offset is None else offset


def whole_ip_header_at(packet: Packet) -> int | None:
    """Where the packet's IP header starts (as ``ip_header_offset``), or None
    when its 20 bytes are not all in the packet."""
    at = ip_header_offset(packet)
    return None if at < 0 or len(packet) < at + 20 else at


ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
ETHERTYPE_VLAN = 0x8100
ETHER_HEADER = 14


def mark_ip_header(packet: Packet) -> bool:
    """FORCE_IP: find the IPv4 or IPv6 header after the Ethernet header (one
    802.1Q tag allowed), set the network header (and, for IPv4, the
    destination IP annotation); False when the frame carries no whole IP
    header."""
    data = packet.data
    if len(data) < ETHER_HEADER:
        return False
    ethertype = int.from_bytes(data[12:14], "big")
    offset = ETHER_HEADER
    if ethertype == ETHERTYPE_VLAN and len(data) >= ETHER_HEADER + 4:
        ethertype = int.from_bytes(data[16:18], "big")
        offset += 4
    if ethertype not in (ETHERTYPE_IPV4, ETHERTYPE_IPV6):
        return False
    return mark_ip_header_at(packet, offset)


def mark_ip_header_at(packet: Packet, offset: int) -> bool:
    """Set the network header to the IPv4 or IPv6 header at ``offset`` (and,
    for IPv4, the destination IP annotation); False when no whole IP header
    starts there."""
    data = packet.data
    if len(data) <= offset:
        return False
    version = data[offset] >> 4
    if version == 4:
        length = (data[offset] & 0x0F) * 4
        if length < 20 or offset + length > len(data):
            return False
        packet.set_network_header(offset, length)
        packet.dst_ip = data[offset + 16:offset + 20]
        return True
    if version == 6 and offset + 40 <= len(data):
        packet.set_network_header(offset, 40)
        return True
    return False


def reject(element: Element, packet: Packet) -> None:
    """Send a refused packet out of output 1 when it is connected; drop it otherwise."""
    if element.noutputs > 1:
        element.output_push(1, [packet])
