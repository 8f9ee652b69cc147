"""IPGWOptions and FixIPSrc: what a router does to IP headers on the way out of
an interface (RFC 1812 4.2.2.2: its own address is the outgoing interface's)."""

from __future__ import annotations

import struct

from pyclick.args import Args, ListOf
from pyclick.element import AGNOSTIC, PROCESSING_A_AH, Element, read_handler
from pyclick.elements.inet import IPADDR, checksum, reject
from pyclick.packet import ANNOTATIONS, Packet

END_OF_OPTIONS, NO_OPERATION = 0, 1
RECORD_ROUTE, TIMESTAMP = 7, 68
#: Timestamp option flags: timestamps only, address and timestamp, prespecified addresses.
TS_ONLY, TS_AND_ADDRESS, TS_PRESPECIFIED = 0, 1, 3
#: The highest count the 4-bit overflow field of a timestamp option holds.
MAX_OVERFLOW = 15
_PARAMPROB, _FIX_IP_SRC = ANNOTATIONS["ICMP_PARAMPROB"][0], ANNOTATIONS["FIX_IP_SRC"][0]


class BadOption(Exception):
    """An option a router cannot process; ``at`` is the offending byte in the header."""

    def __init__(self, at: int) -> None:
        super().__init__(at)
        self.at = at


def process_options(header: bytearray, address: bytes, addresses: frozenset[bytes],
                    stamp: bytes) -> bool:
    """Process the Record Route and Timestamp options of the IP ``header`` in
    place for the interface ``address`` (``addresses``: all of the router's),
    ``stamp`` being the time to record; whether any changed. BadOption
    for a malformed one."""
    changed = False
    hlen, at = len(header), 20
    while at < hlen:
        kind = header[at]
        if kind == NO_OPERATION:
            at += 1
            continue
        if kind == END_OF_OPTIONS:
            break
        length = header[at + 1] if at + 1 < hlen else 0
        if length < 2 or at + length > hlen:
            raise BadOption(at + 1)
        if kind == RECORD_ROUTE:
            changed |= _record_route(header, at, length, address)
        elif kind == TIMESTAMP:
            changed |= _timestamp(header, at, length, address, addresses, stamp)
        at += length
    return changed


def _record_route(header: bytearray, at: int, length: int, address: bytes) -> bool:
    # The pointer counts from 1, at the start of the option.
    pointer = header[at + 2] - 1 if length > 2 else 0
    if 3 <= pointer and pointer + 4 <= length:
        header[at + pointer:at + pointer + 4] = address
        header[at + 2] += 4
        return True
    if pointer != length:
        raise BadOption(at + 2)
    return False


def _timestamp(header: bytearray, at: int, length: int, address: bytes,
               addresses: frozenset[bytes], stamp: bytes) -> bool:
    if length < 4:
        raise BadOption(at + 2)
    pointer = header[at + 2] - 1
    overflow, flag = header[at + 3] >> 4, header[at + 3] & 15
    if pointer < 4:
        raise BadOption(at + 2)
    if flag == TS_ONLY:
        if pointer + 4 <= length:
            header[at + pointer:at + pointer + 4] = stamp
            header[at + 2] += 4
            return True
    elif flag == TS_AND_ADDRESS:
        if pointer + 8 <= length:
            header[at + pointer:at + pointer + 8] = address + stamp
            header[at + 2] += 8
            return True
    elif flag == TS_PRESPECIFIED and pointer + 8 <= length:
        if bytes(header[at + pointer:at + pointer + 4]) not in addresses:
            return False
        header[at + pointer + 4:at + pointer + 8] = stamp
        header[at + 2] += 8
        return True
    else:
        raise BadOption(at + 3)
    # The option is full: count one more router that could not stamp it.
    if overflow >= MAX_OVERFLOW:
        raise BadOption(at + 3)
    header[at + 3] = (overflow + 1) << 4 | flag
    return True


def option_stamp(element: Element) -> bytes:
    """The time a router records in a Timestamp option: milliseconds since
    midnight UT on its clock (RFC 791)."""
    router = element.router
    return struct.pack("!I", int(router.to_epoch(router.now()) % 86400 * 1000))


class IPGWOptions(Element):
    """IPGWOptions(MYADDR, OTHERADDRS) -- processes router IP options

    Description
    Processes the IP options every router on the path handles, not only
    the packet's destination: Record Route (MYADDR is recorded) and
    Timestamp (milliseconds since midnight UT on the router's clock;
    with flag 1 after MYADDR; with flag 3 only in the slot naming MYADDR
    or one of OTHERADDRS; when the option is full, its overflow count goes
    up). Source routes are left alone. MYADDR is the address of the
    interface the packet leaves by, so IPGWOptions belongs on the output
    path. When it changes the header, the IP checksum is recomputed.

    A malformed option (a bad length or pointer, an overflow count that
    would exceed 15) sends the packet to output 1 when it is connected
    (usually to ICMPError with type parameterproblem), with its
    ICMP_PARAMPROB annotation pointing at the offending byte of the
    header; otherwise it is dropped. Packets without a network header
    annotation, or without options, pass unchanged.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (packets with bad options)

    Keyword arguments
    MYADDR -- this interface's IP address; mandatory
    OTHERADDRS -- the router's other addresses, separated by spaces; default none

    Element handlers
    drops (read) -- packets with bad options so far

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader -> gio :: IPGWOptions(18.26.4.24) -> Discard;
    gio[1] -> ICMPError(18.26.4.24, parameterproblem) -> Discard;
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        self.address = args.read_mp("MYADDR", IPADDR)
        others = args.read_p("OTHERADDRS", ListOf(IPADDR), [])
        args.complete()
        self.addresses = frozenset(others) | {self.address}
        self.drops = 0

    def simple_action(self, packet: Packet) -> Packet | None:
        at, hlen = packet.network_header_offset, packet.network_header_length
        if at is None or hlen is None or at < 0 or hlen <= 20 or len(packet) < at + hlen:
            return packet
        header = bytearray(packet.data[at:at + hlen])
        try:
            changed = process_options(header, self.address, self.addresses,
                                      option_stamp(self))
        except BadOption as bad:
            self.drops += 1
            packet.set_anno_u8(_PARAMPROB, bad.at)
            reject(self, packet)
            return None
        if changed:
            header[10:12] = b"\0\0"
            header[10:12] = struct.pack("!H", checksum(header))
            packet.write(at, header)
        return packet

    @read_handler("drops")
    def _read_drops(self) -> str:
        return str(self.drops)


class FixIPSrc(Element):
    """FixIPSrc(IPADDR) -- sets IP source field if requested by annotation

    Description
    Expects IP packets with their network header annotation. When a
    packet's fix_ip_src annotation is set, replaces its IP source address
    with IPADDR, recomputes the IP checksum and clears the annotation;
    other packets pass unchanged. ICMPError and ICMP6Error set the
    annotation: standards want an error to come from the address of the
    interface it leaves by, which only the output path knows.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    IPADDR -- the interface's IP address; mandatory

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader
        -> ICMPError(10.0.0.1, unreachable, host) -> FixIPSrc(18.26.4.24) -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.address = args.read_mp("IPADDR", IPADDR)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        at = packet.network_header_offset
        if not packet.anno_u8(_FIX_IP_SRC) or at is None or at < 0 or len(packet) < at + 20:
            return packet
        packet.set_anno_u8(_FIX_IP_SRC, 0)
        hlen = min(max(20, (packet.byte(at) & 15) * 4), len(packet) - at)
        header = bytearray(packet.data[at:at + hlen])
        header[12:16] = self.address
        header[10:12] = b"\0\0"
        header[10:12] = struct.pack("!H", checksum(header))
        packet.write(at, header)
        return packet
