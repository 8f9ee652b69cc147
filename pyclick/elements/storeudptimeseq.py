"""StoreUDPTimeSeqRecord: a sequence number and send or transit times written into UDP payloads."""

from __future__ import annotations

import struct

from pyclick.args import BOOL, UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element, read_handler, write_handler
from pyclick.elements.clickargs import nanoseconds
from pyclick.packet import Packet

_OFFSET = UNSIGNED.range(0, 2**32 - 1)
_UDP_HEADER = 8
_IP6_HEADER = 40
#: The record after the UDP header: sequence number, first time, time difference.
_RECORD = struct.Struct("!IIIII")
_MASK32 = 0xFFFFFFFF


def _host_sum(data: bytes) -> int:
    """Click's in_cksum over ``data`` read as the little-endian words an x86
    host sees, which is how Click mixes it with the stored checksum."""
    total = sum(struct.unpack(f"<{len(data) // 2}H", data))
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class StoreUDPTimeSeqRecord(Element):
    """StoreUDPTimeSeqRecord(OFFSET, KEYWORDS) -- stores sequence numbers and times in UDP payloads

    Description
    Marks UDP packets so that their one-way delay can be measured later
    from a capture. The IPv4 or IPv6 header starts OFFSET bytes into the
    packet (14 after an Ethernet header). The 20 bytes right after the UDP
    header hold, as five 32-bit words in network byte order: a sequence
    number, the seconds and nanoseconds of a first date, and the seconds and
    nanoseconds of a difference.

    With DELTA false, the element numbers the packet (1 for the first it
    marks, then 2, ...), writes the current time as the first date and
    zeros as the difference. With DELTA true, it leaves the number and the
    first date alone and writes the current time minus the first date as the
    difference. Either way the UDP checksum is adjusted incrementally,
    exactly as Click adjusts it (Click's arithmetic is kept bit for bit, on
    the little-endian words of an x86 host: with DELTA true it adds the new
    difference without taking out the old one, so only a difference field
    that was zero before gives a correct checksum).

    An IPv6 packet must have UDP as its next header. A packet is dropped
    when it is shorter than OFFSET plus 8 bytes, when its IP version is
    neither 4 nor 6 (with a message), when its IPv6 next header is not UDP,
    or when it is too short to hold the UDP header and the 20 bytes after
    it.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    OFFSET -- where the IP header starts, in bytes; mandatory
    DELTA -- write the time difference instead of numbering and dating the packet; default false

    Element handlers
    count (read) -- packets marked
    reset (write) -- sets count to 0 (numbering starts again at 1)

    Example
    RatedSource(\\<00>, LENGTH 22, RATE 1, LIMIT 10)
      -> UDPIPEncap(10.0.1.1, 6667, 20.0.0.2, 6667)
      -> StoreUDPTimeSeqRecord(0)
      -> DelayShaper(100msec)
      -> StoreUDPTimeSeqRecord(0, DELTA true)
      -> ToDump(delays.pcap);
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.offset = args.read_mp("OFFSET", _OFFSET)
        self.delta = args.read("DELTA", BOOL, False)
        args.complete()
        self.count = 0

    def _record_at(self, packet: Packet) -> int | None:
        """Where the record after the UDP header starts; None when the packet is dropped."""
        offset = self.offset
        if len(packet) < offset + 8:
            return None
        version = packet.byte(offset) >> 4
        if version == 4:
            offset += (packet.byte(offset) & 15) << 2
        elif version == 6 and packet.byte(offset + 6) == 17:
            offset += _IP6_HEADER
        elif version == 6:
            return None
        else:
            self.log.info("Unknown IP version!")
            return None
        if len(packet) < offset + _UDP_HEADER + _RECORD.size:
            return None
        return offset + _UDP_HEADER

    def simple_action(self, packet: Packet) -> Packet | None:
        at = self._record_at(packet)
        if at is None:
            return None
        self.count += 1
        data = packet.data
        csum = int.from_bytes(data[at - 2:at], "little")
        now = nanoseconds(self.router.to_epoch(self.router.now()))
        if self.delta:
            seq, sec, nsec, _, _ = _RECORD.unpack_from(data, at)
            first = (sec - ((sec & 0x80000000) << 1)) * 1_000_000_000 + nsec
            since, part = divmod(now - first, 1_000_000_000)
            change = struct.pack("!II", since & _MASK32, part)
            record = _RECORD.pack(seq, sec, nsec, *struct.unpack("!II", change))
            csum += _host_sum(change)
        else:
            csum -= _host_sum(data[at:at + _RECORD.size])
            seconds, part = divmod(now, 1_000_000_000)
            record = _RECORD.pack(self.count & _MASK32, seconds & _MASK32, part, 0, 0)
            csum += _host_sum(record)
        csum &= _MASK32
        csum = (csum & 0xFFFF) + (csum >> 16)
        if csum == 0xFFFF:
            csum = 0
        packet.write(at - 2, (csum & 0xFFFF).to_bytes(2, "little"))
        packet.write(at, record)
        return packet

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)

    @write_handler("reset")
    def _write_reset(self, value: str) -> None:
        self.count = 0
