"""Pad: packets made up to a length, or to what their capture left out."""

from __future__ import annotations

from pyclick.args import BOOL, UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.packet import Packet


class Pad(Element):
    """Pad(LENGTH, KEYWORDS) -- extends packet length

    Description
    Adds bytes at the end of each packet. With LENGTH, a packet shorter than
    LENGTH bytes is extended to LENGTH bytes; longer packets keep theirs.
    Without LENGTH (or with 0), a packet gets back the bytes its extra
    length annotation says are missing: a packet read from a capture that
    kept only its first bytes regains its original length. The bytes added
    are zeros. The extra length annotation is 0 afterwards.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    LENGTH -- the least length of a packet, 0 to 65535 (0: the extra length annotation); default 0
    ZERO -- make the added bytes zeros (they always are here); default true

    Example
    FromDump(trace.pcap, STOP true) -> Pad -> ToDump(whole.pcap);
    """

    can_live_reconfigure = True
    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.length = args.read_p("LENGTH", UNSIGNED.range(0, 65535), 0)
        args.read("ZERO", BOOL, True)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        if self.length:
            missing = max(self.length - len(packet), 0)
        else:
            missing = packet.extra_length
        if missing:
            packet.put(missing)
        packet.extra_length = 0
        return packet
