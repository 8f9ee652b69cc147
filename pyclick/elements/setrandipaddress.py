"""SetRandIPAddress: a random destination IP address annotation in a prefix."""

from __future__ import annotations


from pyclick.args import INT, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.elements.inet import IP_OR_PREFIX
from pyclick.elements.iproutetable import prefix_mask
from pyclick.packet import Packet


class SetRandIPAddress(Element):
    """SetRandIPAddress(PREFIX, LIMIT) -- sets destination IP address annotations randomly

    Description
    Sets each packet's destination IP address annotation to a random
    address in PREFIX (10.0.0.0/8; a bare address stands for itself
    alone). With a positive LIMIT, the addresses come from a set of LIMIT
    addresses drawn at random once (duplicates possible), each packet
    getting one of them at random: at most LIMIT distinct addresses. The
    draws are Click's: a 31-bit random number laid over the address's
    free bits in the byte order of the little-endian machines Click runs
    on, so the high bit of the last byte is never set by the draw
    (10.0.0.0/24 gives 10.0.0.0 to 10.0.0.127). Each run draws different
    addresses.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    PREFIX -- the network of the addresses; mandatory
    LIMIT -- how many addresses to choose from; zero or negative for no limit; default no limit

    Example
    InfiniteSource(LIMIT 5) -> SetRandIPAddress(10.0.0.0/8, 100)
        -> r :: StaticIPLookup(10.0.0.0/8 0) -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        address, length = args.read_mp("PREFIX", IP_OR_PREFIX)
        self.limit = args.read_p("LIMIT", INT.range(-2**31, 2**31 - 1), -1)
        args.complete()
        self._mask = prefix_mask(length)
        self._network = int.from_bytes(address, "big") & self._mask
        self._random = self.router.random_source(self)
        #: The LIMIT addresses, each drawn when first chosen.
        self._chosen: dict[int, bytes] = {}

    def _draw(self) -> bytes:
        free = int.from_bytes(self._random.getrandbits(31).to_bytes(4, "little"), "big")
        return ((free & ~self._mask) | self._network).to_bytes(4, "big")

    def simple_action(self, packet: Packet) -> Packet:
        if self.limit <= 0:
            packet.dst_ip = self._draw()
            return packet
        which = self._random.randrange(self.limit)
        address = self._chosen.get(which)
        if address is None:
            address = self._chosen[which] = self._draw()
        packet.dst_ip = address
        return packet
