"""Truncate: shortens packets to a maximum length."""

from __future__ import annotations

from pyclick.args import BOOL, UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.elements.settinghandlers import setting_handlers
from pyclick.packet import Packet

_LENGTH = UNSIGNED.range(0, 65535)


class Truncate(Element):
    """Truncate(LENGTH, KEYWORDS) -- limit packet length

    Description
    Shortens packets to at most LENGTH bytes (no copy). With EXTRA_LENGTH,
    the bytes cut off are added to the packet's extra length annotation, so
    that elements downstream still know the original length.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    LENGTH -- the maximum length, 0 to 65535; mandatory
    EXTRA_LENGTH -- add the bytes cut off to the extra length annotation; default true

    Element handlers
    nbytes (read/write) -- the LENGTH setting

    Example
    InfiniteSource(LENGTH 100, LIMIT 3) -> Truncate(60) -> c :: Counter -> Discard;
    """

    can_live_reconfigure = True
    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.nbytes = args.read_mp("LENGTH", _LENGTH)
        self.extra_length = args.read("EXTRA_LENGTH", BOOL, True)
        args.complete()

    _read_nbytes, _write_nbytes = setting_handlers("nbytes", _LENGTH)

    def simple_action(self, packet: Packet) -> Packet:
        excess = len(packet) - self.nbytes
        if excess > 0:
            if self.extra_length:
                packet.extra_length += excess
            packet.take(excess)
        return packet
