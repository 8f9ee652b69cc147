"""ARPResponder and ARPQuerier: the two halves of ARP on an Ethernet interface."""

from __future__ import annotations

import ipaddress
import struct
from typing import Any

from pyclick.args import ANY, BOOL, ELEMENT, Args, ArgType
from pyclick.element import PROCESSING_A_AH, PUSH, Element, read_handler, write_handler
from pyclick.elements.addresstable import (Entry, Network, most_specific, nested_first,
                                           parse_ip_entries, read_entries)
from pyclick.elements.arptable import (BROADCAST_ETHER, TIMEOUT, ARPTable, Neighbor,
                                       NeighborHandlers, NeighborTable, change_settings,
                                       read_table_settings)
from pyclick.elements.handlercall import parse_value
from pyclick.elements.inet import ETHERADDR, IP_OR_PREFIX, IPADDR, reject, unparse_ether, unparse_ip
from pyclick.packet import Packet
from pyclick.runtime.timers import Timer

ETHERTYPE_ARP = 0x0806
#: The fixed part of an Ethernet/IPv4 ARP request: hardware Ethernet, protocol IPv4,
#: address lengths 6 and 4, operation request.
_REQUEST = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1)
_REPLY = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2)
#: An Ethernet header and an Ethernet/IPv4 ARP message.
ARP_FRAME_LENGTH = 14 + 28


class ARPResponder(Element):
    """ARPResponder(IP/MASK [IP/MASK...] ETH, IP2/MASK2 ETH2, ...) -- generates responses to ARP queries

    Description
    Expects ARP requests, Ethernet header included. When one of its
    networks holds the address asked for (the most specific one, when
    several do), ARPResponder answers with an ARP reply giving that
    network's Ethernet address, sent to the asker, and consumes the
    request. Other packets (requests it cannot answer, replies, non-ARP
    frames) leave by output 1 when it is connected, and are dropped
    otherwise. Networks are written 18.26.7.0/24 or 18.26.7.0/255.255.255.0;
    an address alone is a /32. Serves proxy ARP as well as a host's own
    addresses. The reply keeps the request's VLAN annotation. Addresses may
    be names an AddressInfo defines, or network devices' names; a name for
    both an IP address and an Ethernet address may be a whole argument:
    ARPResponder(me). Of two entries for one network the later stays, with
    a warning.

    Ports
    one agnostic input; agnostic output 0 (replies), optional push output 1

    Element handlers
    table (read) -- the entries, one network and Ethernet address per line, in the order
    given except that a network comes before the networks that hold it; of two entries for
    one network, the later stays
    lookup (read with parameter) -- takes an IP address; returns its Ethernet address, or nothing
    add (write) -- adds entries, written as an argument is
    remove (write) -- removes the entry of one network (IP/MASK)

    Example
    // ARP replies for 18.26.4.24, and proxy ARP for net 18.26.7.
    c :: Classifier(12/0806 20/0001, -);
    FromDump(trace.pcap, STOP true) -> c;
    c[0] -> ARPResponder(18.26.4.24 18.26.7.0/24 00-00-C0-AE-67-EF) -> answered :: Counter -> Discard;
    c[1] -> Discard;
    """

    can_live_reconfigure = True
    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        self.entries: list[Entry] = nested_first(read_entries(args, parse_ip_entries),
                                                 self._warn_duplicate)

    def _warn_duplicate(self, network: Network) -> None:
        self.log.warning("%s: %s: multiple entries for %s", self.landmark,
                         self.declaration(), network)

    def add_handlers(self) -> None:
        self.router.handlers.add_read(self, "lookup", self._lookup_handler)

    def lookup(self, address: bytes) -> bytes | None:
        """The Ethernet address of the most specific network holding ``address``."""
        return most_specific(self.entries, address)

    def simple_action(self, packet: Packet) -> Packet | None:
        data = packet.data
        if len(data) >= ARP_FRAME_LENGTH and data[12:14] == b"\x08\x06" \
                and data[14:22] == _REQUEST:
            sender_ether, sender_ip = data[22:28], data[28:32]
            target_ip = data[38:42]
            ether = self.lookup(target_ip)
            if ether is not None:
                # As Click's, the reply is a new packet: no timestamp.
                reply = Packet.make(sender_ether + ether + struct.pack("!H", ETHERTYPE_ARP)
                                    + _REPLY + ether + target_ip + sender_ether + sender_ip)
                reply.set_mac_header(0)
                reply.vlan_tci = packet.vlan_tci
                return reply
        reject(self, packet)
        return None

    @read_handler("table")
    def _read_table(self) -> str:
        return "".join(entry.text() + "\n" for entry in self.entries)

    # Handler values read names (AddressInfo, devices) as the configuration does.
    def _lookup_handler(self, params: str) -> str:
        ether = self.lookup(IPADDR(params.strip(), Args("", self)))
        return "" if ether is None else unparse_ether(ether)

    @write_handler("add")
    def _write_add(self, value: str) -> None:
        self.entries = nested_first(self.entries + parse_ip_entries(value, Args("", self)))

    @write_handler("remove")
    def _write_remove(self, value: str) -> None:
        try:
            network = ipaddress.IPv4Network(IP_OR_PREFIX(value.strip(), Args("", self)),
                                            strict=False)
        except ValueError:
            raise ValueError(f"expected IP/MASK, got '{value.strip()}'") from None
        kept = [e for e in self.entries if e.network != network]
        if len(kept) == len(self.entries):
            raise ValueError(f"no entry for {network}")
        self.entries = kept


class ARPQuerier(NeighborHandlers):
    """ARPQuerier(IP, ETH, KEYWORDS) -- encapsulates IP packets in Ethernet headers found via ARP

    Description
    Handles most of the ARP protocol for the host whose IP address is IP
    and Ethernet address ETH. IP packets arrive on input 0 with their
    destination IP address annotation set. When the Ethernet address of
    the destination is known, the packet gets an Ethernet header (type
    0x0800, from ETH to that address) and leaves by output 0. Otherwise
    the packet waits, and an ARP query is sent (broadcast, from IP and ETH;
    at most 10 a second for one address, one every 2 seconds after 10
    unanswered). ARP replies arrive on input 1,
    Ethernet header included: the address learned is recorded and the
    packets waiting for it are sent. With two outputs, queries leave by
    output 1; with one, by output 0.

    Packets for 0.0.0.0 are dropped; packets for 255.255.255.255 and the
    BROADCAST address (by default the broadcast address of IP's prefix, or
    255.255.255.255 without one) go to FF-FF-FF-FF-FF-FF; multicast packets to
    01-00-5E-xx-yy-zz, the last 23 bits of the group (RFC 1112). An entry
    expires TIMEOUT after it was learned; past POLL_TIMEOUT, sending to it
    also sends a renewal query (unicast, or broadcast with BROADCAST_POLL).
    A table of its own forgets expired entries from time to time, as an
    ARPTable does.

    Writing the config handler keeps the table and the counts: a table of
    its own forgets its entries when IP or ETH changes, and takes only the
    table settings given; POLL_TIMEOUT and BROADCAST_POLL not given keep
    their values; TABLE cannot change.

    Ports
    input 0 push (IP packets), input 1 push (ARP replies); output 0 push, optional output 1 push (queries)

    Keyword arguments
    IP -- this host's IP address, optionally with a prefix (18.26.4.24/24) that gives BROADCAST; mandatory
    ETH -- this host's Ethernet address; mandatory
    CAPACITY -- most packets waiting in all, 0 for no limit; default 2048. A packet
    that would pass it first drops the oldest entries' packets until at most
    CAPACITY - CAPACITY / CAPACITY_SLIM_FACTOR (at least 1) wait, counting itself
    CAPACITY_SLIM_FACTOR -- see CAPACITY, at least 1; default 2
    ENTRY_CAPACITY -- most addresses known, 0 for no limit (the oldest entry goes first); default 0
    ENTRY_PACKET_CAPACITY -- most packets waiting for one address, 0 for no limit; default 0
    TIMEOUT -- how long a learned address stays valid, 0 for ever, up to a year; default 5min
    TABLE -- an ARPTable holding the entries, shared with other ARPQueriers naming it; its
    settings then replace CAPACITY, CAPACITY_SLIM_FACTOR, ENTRY_CAPACITY, ENTRY_PACKET_CAPACITY
    and TIMEOUT; default a table of this element's own
    POLL_TIMEOUT -- age past which an entry in use is renewed, 0 for never, up to a year; default 1min
    BROADCAST -- the local IP broadcast address; default from IP's prefix, else 255.255.255.255
    BROADCAST_POLL -- send renewal queries broadcast; default false

    Element handlers
    ipaddr (read/write) -- the IP setting
    broadcast (read/write) -- the BROADCAST setting
    table (read) -- one line per entry, oldest first: IP, 1 if valid (else 0), Ethernet address
    (FF-FF-FF-FF-FF-FF while unknown), seconds since it was made or learned (whole milliseconds)
    stats (read) -- packets dropped (here and from the table's queues) and queries sent
    queries, responses (read) -- queries sent, replies received
    drops (read) -- packets dropped for want of an address (not those dropped from the queues)
    count (read) -- entries in the table, known or not
    length (read) -- packets waiting
    insert (write) -- 'IP ETH': records an entry (FF-FF-FF-FF-FF-FF: as delete does)
    delete (write) -- 'IP': forgets the Ethernet address of IP (the entry stays, unknown,
    with the packets waiting for it)
    clear (write) -- forgets every entry (dropping the packets waiting) and zeroes queries,
    responses and drops

    Example
    c :: Classifier(12/0806 20/0002, 12/0800, -);
    a :: ARPQuerier(18.26.4.24, 00:00:C0:AE:67:EF);
    FromDump(trace.pcap, STOP true) -> c;
    c[0] -> [1]a;
    c[1] -> Strip(14) -> CheckIPHeader -> [0]a;
    c[2] -> Discard;
    a[0] -> Discard;
    a[1] -> Discard;
    """

    port_count = "2/1-2"
    processing = PUSH
    flow_code = "xy/x"

    can_live_reconfigure = True

    def configure(self, args: Args) -> None:
        settings, self.shared = self._read(args, ARP_TABLE, 60.0, False)
        self.neighbors: NeighborTable = NeighborTable(**settings)
        self.queries = self.responses = self.drops = 0
        self._timer = Timer(self, self._expire)

    def live_reconfigure(self, args: Args) -> None:
        # As Click's: the table and the counts stay. A table of its own forgets
        # its entries when IP or ETH changes, and changes only the settings
        # given; a shared table stays as it is. POLL_TIMEOUT and
        # BROADCAST_POLL not given keep their values.
        ip, ether = self.ip, self.ether
        settings, _ = self._read(args, ANY, self.poll_timeout, self.broadcast_poll)
        if self.shared is None:
            if (ip, ether) != (self.ip, self.ether):
                self.neighbors.clear()
            change_settings(self.neighbors, settings)

    def _read(self, args: Args, table_type: ArgType, poll_timeout: float,
              broadcast_poll: bool) -> tuple[dict[str, int | float], Any]:
        """Read the configuration; set the addresses and polling (when it holds
        no mistake); return the table settings given and TABLE's value."""
        # As in Click, one name (AddressInfo) may give both addresses: ARPQuerier(me).
        ip_text = args.read_mp("IP", ANY)
        address = (args.convert("IP", ip_text, _address_with_prefix)
                   if ip_text is not None else None)
        ether_text = args.read_p("ETH", ANY)
        if ether_text is None:
            ether_text = ip_text
        ether = (args.convert("ETH", ether_text, ETHERADDR)
                 if ether_text is not None else None)
        settings = read_table_settings(args)
        table = args.read("TABLE", table_type)
        poll_timeout = args.read("POLL_TIMEOUT", TIMEOUT, poll_timeout)
        broadcast = args.read("BROADCAST", IPADDR)
        broadcast_poll = args.read("BROADCAST_POLL", BOOL, broadcast_poll)
        args.complete()
        self.ether, self.poll_timeout, self.broadcast_poll = ether, poll_timeout, broadcast_poll
        self.ip, network = address
        if broadcast is None:
            # The prefix's broadcast address, unless that is IP itself (a /32, or
            # the upper address of a /31): then 255.255.255.255.
            if network is not None and network.broadcast_address.packed != self.ip:
                broadcast = network.broadcast_address.packed
            else:
                broadcast = b"\xff" * 4
        self.broadcast = broadcast
        return settings, table

    def initialize(self) -> None:
        # The shared table's element may configure after this one.
        if self.shared is not None:
            self.neighbors = self.shared.neighbors
        else:
            self.start_expiry()

    # --- input 0: IP packets
    def push(self, port: int, batch: list[Packet]) -> None:
        if port == 1:
            for packet in batch:
                self._learn(packet)
            return
        ready: list[Packet] = []
        now = self.router.now()
        for packet in batch:
            destination = packet.dst_ip
            if destination == bytes(4):
                self.drops += 1
            elif destination == b"\xff" * 4 or destination == self.broadcast:
                ready.append(self._encapsulated(packet, BROADCAST_ETHER))
            elif destination[0] & 0xF0 == 0xE0:
                group = b"\x01\x00\x5e" + bytes([destination[1] & 0x7F]) + destination[2:]
                ready.append(self._encapsulated(packet, group))
            else:
                neighbor = self.neighbors.known(destination, now)
                if neighbor is not None:
                    if self.poll_timeout and now - neighbor.learned >= self.poll_timeout:
                        self._query(destination, neighbor, now, packet,
                                    None if self.broadcast_poll else neighbor.ether, ready)
                    ready.append(self._encapsulated(packet, neighbor.ether))
                else:
                    self._wait(destination, packet, now, ready)
        if ready:
            self.output_push(0, ready)

    def _encapsulated(self, packet: Packet, ether: bytes) -> Packet:
        packet.push(14)
        packet.write(0, ether + self.ether + b"\x08\x00")
        packet.set_mac_header(0)
        return packet

    def _wait(self, destination: bytes, packet: Packet, now: float, ready: list[Packet]
              ) -> None:
        neighbor = self.neighbors.hold(destination, packet, now)
        # A packet its address's full queue refused asks for no query.
        if neighbor is not None:
            self._query(destination, neighbor, now, packet, None, ready)

    def _query(self, destination: bytes, neighbor: Neighbor, now: float, cause: Packet,
               unicast: bytes | None, ready: list[Packet]) -> None:
        """Send a query, unless one went too recently; the packets ``ready``
        before it leave first, as Click sends each packet as it comes."""
        if not neighbor.may_query(now):
            return
        if ready:
            self.output_push(0, ready[:])
            ready.clear()
        frame = ((unicast or BROADCAST_ETHER) + self.ether + struct.pack("!H", ETHERTYPE_ARP)
                 + _REQUEST + self.ether + self.ip + bytes(6) + destination)
        # As Click: the query carries the timestamp and VLAN of the packet that caused it.
        query = Packet.make(frame, timestamp=cause.timestamp)
        query.set_mac_header(0)
        query.vlan_tci = cause.vlan_tci
        self.queries += 1
        self.output_push(1 if self.noutputs > 1 else 0, [query])

    # --- input 1: ARP replies
    def _learn(self, packet: Packet) -> None:
        data = packet.data
        if len(data) < ARP_FRAME_LENGTH:
            return
        # Counted as a response even when it is not a usable reply (then ignored).
        self.responses += 1
        if data[12:14] == b"\x08\x06" and data[14:18] == _REPLY[:4] \
                and data[20:22] == _REPLY[6:] and not data[22] & 1:
            self.record(data[28:32], data[22:28])

    def record(self, address: bytes, ether: bytes) -> None:
        """Learn that ``address`` is at ``ether``, and send what waited for it."""
        waiting = self.neighbors.learn(address, ether, self.router.now())
        if waiting:
            self.output_push(0, [self._encapsulated(p, ether) for p in waiting])

    # --- handlers
    @read_handler("ipaddr")
    def _read_ipaddr(self) -> str:
        return unparse_ip(self.ip)

    @write_handler("ipaddr")
    def _write_ipaddr(self, value: str) -> None:
        self.ip = parse_value(IPADDR, value)

    @read_handler("broadcast")
    def _read_broadcast(self) -> str:
        return unparse_ip(self.broadcast)

    @write_handler("broadcast")
    def _write_broadcast(self, value: str) -> None:
        self.broadcast = parse_value(IPADDR, value)

    @read_handler("stats")
    def _read_stats(self) -> str:
        return (f"{self.drops + self.neighbors.drops} packets killed\n"
                f"{self.queries} ARP queries sent\n")

    @read_handler("queries")
    def _read_queries(self) -> str:
        return str(self.queries)

    @read_handler("responses")
    def _read_responses(self) -> str:
        return str(self.responses)

    @read_handler("drops")
    def _read_drops(self) -> str:
        return str(self.drops)

    @write_handler("insert")
    def _write_insert(self, value: str) -> None:
        ether, waiting = self.neighbors.insert(value, self.router.now(), release=True)
        if waiting:
            self.output_push(0, [self._encapsulated(p, ether) for p in waiting])

    @write_handler("clear")
    def _write_clear(self, value: str) -> None:
        self.neighbors.clear()
        self.queries = self.responses = self.drops = 0


def ARP_TABLE(text: str, args: Args) -> ARPTable:
    """The name of an ARPTable element."""
    element = ELEMENT(text, args)
    if not isinstance(element, ARPTable):
        raise ValueError(f"'{element.declaration()}' is not an ARPTable")
    return element


def _address_with_prefix(text: str, args: Args | None) -> tuple[bytes, ipaddress.IPv4Network | None]:
    """An IP address, optionally with a prefix (which gives the broadcast address)."""
    word = text.strip()
    if "/" not in word:
        return IPADDR(word, args), None
    try:
        interface = ipaddress.IPv4Interface(word)
    except ValueError:
        raise ValueError("expected IP address (with an optional prefix)") from None
    return interface.ip.packed, interface.network
