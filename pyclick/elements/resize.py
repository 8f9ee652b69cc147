"""Resize: bytes added to or removed from both ends of packets."""

from __future__ import annotations

from pyclick.args import INT, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.elements.settinghandlers import setting_handlers
from pyclick.packet import Packet

_AMOUNT = INT.range(-2**31, 2**31 - 1)


class Resize(Element):
    """Resize(HEAD, TAIL) -- adjust packet length

    Description
    Adds HEAD bytes in front of each packet and TAIL bytes at its end; a
    negative number removes that many bytes instead (all of a shorter
    packet). The bytes added in front are those removed before (by Strip,
    say) when the packet still holds them, zeros otherwise; the bytes added
    at the end are zeros. Their content is not to be relied on: Click
    leaves them uninitialized.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    HEAD -- bytes added in front, negative to remove; default 0
    TAIL -- bytes added at the end, negative to remove; default 0

    Element handlers
    head (read/write) -- the HEAD setting
    tail (read/write) -- the TAIL setting

    Example
    InfiniteSource(LENGTH 64, LIMIT 1) -> Resize(-14, 4) -> Print -> Discard;
    """

    can_live_reconfigure = True
    port_count = "1/1"
    processing = AGNOSTIC
    flags = "S0"

    def configure(self, args: Args) -> None:
        self.head = args.read_p("HEAD", _AMOUNT, 0)
        self.tail = args.read_p("TAIL", _AMOUNT, 0)
        args.complete()

    _read_head, _write_head = setting_handlers("head", _AMOUNT)
    _read_tail, _write_tail = setting_handlers("tail", _AMOUNT)

    def simple_action(self, packet: Packet) -> Packet:
        head, tail = self.head, self.tail
        if head > 0:
            packet.push(head)
        elif head < 0:
            packet.pull(-head)
        if tail > 0:
            packet.put(tail)
        elif tail < 0:
            packet.take(-tail)
        return packet
