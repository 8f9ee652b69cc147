"""Strip and Unstrip: bytes off and back onto the front of packets."""

from __future__ import annotations

from pyclick.args import UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.packet import Packet, pull_batch, push_batch


class _Shift(Element):
    """LENGTH bytes moved at the front of each packet, by :attr:`_shift`
    (``Packet.pull`` or ``Packet.push``) and, a batch at a time, by
    :attr:`_shift_batch`."""

    registered = False
    port_count = "1/1"
    processing = AGNOSTIC
    _shift: staticmethod[[Packet, int], Packet]
    _shift_batch: staticmethod[[list[Packet], int], None]

    def configure(self, args: Args) -> None:
        self.length = args.read_mp("LENGTH", UNSIGNED.range(0, 65535))
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        return self._shift(packet, self.length)

    def simple_action_batch(self, batch: list[Packet]) -> list[Packet]:
        self._shift_batch(batch, self.length)
        return batch


class Strip(_Shift):
    """Strip(LENGTH) -- strips bytes from front of packets

    Description
    Deletes the first LENGTH bytes from each packet (all of a shorter one).
    The bytes stay in the packet's headroom: Unstrip puts them back. Costs
    no copy.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    LENGTH -- bytes to remove, 0 to 65535; mandatory

    Example
    FromDump(trace.pcap) -> Strip(14) -> CheckIPHeader -> Discard;
    """

    _shift = staticmethod(Packet.pull)
    _shift_batch = staticmethod(pull_batch)


class Unstrip(_Shift):
    """Unstrip(LENGTH) -- unstrips bytes from front of packets

    Description
    Puts LENGTH bytes back at the front of each packet: the bytes removed
    before by Strip when the packet still holds them (no copy), zeros when
    it has no headroom left.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    LENGTH -- bytes to put back, 0 to 65535; mandatory

    Example
    InfiniteSource(LIMIT 1) -> Strip(14) -> Unstrip(14) -> Print -> Discard;
    """

    _shift = staticmethod(Packet.push)
    _shift_batch = staticmethod(push_batch)
