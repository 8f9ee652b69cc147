"""ICMPPingRewriter: rewrites ICMP echo requests and their replies (pings through a NAT)."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from pyclick.args import Args
from pyclick.elements.inet import unparse_ip
from pyclick.elements.rewriterbase import (SECONDS, ICMP, SingleTableRewriter, ip_header,
                                           rewrite_addresses)
from pyclick.elements.rewriterspec import Key
from pyclick.elements.rewritertable import Flow, Timeouts, adjust_checksum

if TYPE_CHECKING:
    from pyclick.packet import Packet

ECHO_REPLY, ECHO = 0, 8


def echo_key(source: bytes, destination: bytes, identifier: int, request: bool) -> Key:
    """The flow identifier of an echo request (or reply): the identifier stands
    for the source port and the identifier plus one for the destination port
    (the other way round for a reply), so that a reply's identifier is the
    reverse of its request's."""
    following = (identifier + 1) & 0xFFFF
    if request:
        return (source, identifier, destination, following)
    return (source, following, destination, identifier)


def set_echo_identifier(data: memoryview, t: int, identifier: int) -> None:
    """Write the identifier of the echo message at ``t``, updating its checksum.
    The update gives 0x0000 where a message of nothing but zeros has 0xFFFF
    (the other zero of one's complement), so such a message gets 0xFFFF."""
    old = bytes(data[t + 4:t + 6])
    new = struct.pack("!H", identifier)
    data[t + 4:t + 6] = new
    (old_sum,) = struct.unpack_from("!H", data, t + 2)
    new_sum = adjust_checksum(old_sum, old, new)
    if new_sum == 0 and not any(data[t:t + 2]) and not any(data[t + 4:]):
        new_sum = 0xFFFF
    struct.pack_into("!H", data, t + 2, new_sum)


def _swap16(number: int) -> int:
    return ((number & 0xFF) << 8) | (number >> 8)


def _unparse_ping(key: Key, direction: int) -> str:
    """``(SRC, DST, N)`` as Click prints a ping flow. Click adds the one to the
    identifier in network byte order, so for a reply N is that sum read back
    in host order (identifier 7 gives 0x0701 read as 0x0107, 263); a request's N
    is its identifier."""
    number = key[1] if direction == 0 else _swap16((_swap16(key[3]) + 1) & 0xFFFF)
    return f"({unparse_ip(key[0])}, {unparse_ip(key[2])}, {number})"


class PingFlow(Flow):
    """A ping flow, printed as Click prints one: addresses and identifier."""

    def identifiers(self, direction: int) -> str:
        return (f"{_unparse_ping(self.keys[direction], direction)} => "
                f"{_unparse_ping(self.new[direction], direction)}")


class ICMPPingRewriter(SingleTableRewriter):
    """ICMPPingRewriter(INPUTSPEC1, ..., INPUTSPECn, KEYWORDS) -- rewrites ICMP echo requests and replies

    Description
    Lets pings through a network address translator: rewrites the addresses
    and the identifier of ICMP echo requests by the INPUTSPEC of their input
    (IPRewriter's input specifications; a pattern's SPORT is the identifier,
    usually a range to choose from, and its DPORT is not used, so the
    pattern is often written with three fields, 'SADDR DADDR SPORT'), and rewrites
    the replies back so they answer the original request.

    A request (SRC, DST, ID) rewritten to (SRC', DST', ID') installs two
    mappings: requests (SRC, DST, ID) become (SRC', DST', ID') and leave by
    FOUTPUT; replies (DST', SRC', ID') become (DST, SRC, ID) and leave by
    ROUTPUT. The table prints a request mapping as (SRC, DST, ID) =>
    (SRC', DST', ID') and a reply mapping as (DST', SRC', N') => (DST, SRC,
    N), where N is what Click prints there: ID plus one in network byte
    order, read back in host byte order (7 prints as 263). A mapping
    expires TIMEOUT after its last packet. Echo replies with no mapping,
    other ICMP messages and other packets are dropped unless their input's
    spec is 'pass'. The ICMP and IP checksums are updated incrementally.

    Ports
    one or more push inputs, one or more push outputs

    Keyword arguments
    TIMEOUT -- idle time before a mapping expires; default 5min
    GUARANTEE -- time after each packet during which the mapping is not evicted for room; default 5s
    MAPPING_CAPACITY, CAPACITY -- most ping flows held (a number, or a rewriter whose capacity this one shares); default 2147483647
    REAP_INTERVAL -- how often expired mappings are removed; default 15min
    DST_ANNO -- set the destination address annotation to the rewritten destination; default true
    REPLY_ANNO -- a one-byte annotation (a name or an offset): each flow keeps the value its first packet had there, and the packets of its replies get it; default none

    Element handlers
    table (read) -- the mappings, one per line (see IPRewriter)
    mappings (read) -- the same (an older name)
    table_size, nmappings (read) -- ping flows mapped
    size (read) -- flows in the flow set (more when several rewriters share a capacity)
    capacity (read/write) -- the capacity of the flow set
    mapping_failures (read) -- requests dropped for want of an identifier or of room
    patterns (read) -- the input specs, with their live flows
    clear (write) -- remove every mapping
    patternN (read/write) -- input N's spec; writing one replaces it and removes the flows it installed

    Example
    pr :: ICMPPingRewriter(pattern 18.26.4.24 1024-65535# - - 0 1, drop);
    Idle -> [0]pr; Idle -> [1]pr; pr[0] -> Discard; pr[1] -> Discard;
    """

    protocols = (ICMP,)
    flow_class = PingFlow

    def read_keywords(self, args: Args) -> None:
        self.read_annotations(args)
        self.timeouts = Timeouts(args.read("TIMEOUT", SECONDS, 300.0),
                                 args.read("GUARANTEE", SECONDS, 5.0))

    def complete_key(self, key: Key) -> Key:
        return (key[0], key[1], key[2], (key[1] + 1) & 0xFFFF)

    def handle(self, port: int, packet: Packet, now: float) -> int:
        where = ip_header(packet, need=8)
        if where is None or where[2] != ICMP:
            return self.unhandled(port)
        at, t, _ = where
        data = packet.data
        kind = data[t]
        if kind not in (ECHO, ECHO_REPLY):
            return self.unhandled(port)
        (identifier,) = struct.unpack_from("!H", data, t + 4)
        key = echo_key(data[at + 12:at + 16], data[at + 16:at + 20], identifier, kind == ECHO)
        if kind == ECHO_REPLY:
            entry = self.table.get(key)
            if entry is None or entry[0].expired(now):
                return self.unhandled(port)
        return self.forward(port, packet, key, where, now)

    def rewrite(self, flow: Flow, data: memoryview, at: int, t: int, direction: int,
                protocol: int) -> None:
        new = flow.new[direction]
        rewrite_addresses(data, at, new)
        set_echo_identifier(data, t, new[1] if direction == 0 else new[3])
