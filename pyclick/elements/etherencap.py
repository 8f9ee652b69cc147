"""EtherEncap: an Ethernet header in front of each packet."""

from __future__ import annotations

import struct

from pyclick.args import UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element, read_handler, reconfigures, write_handler
from pyclick.elements.handlercall import parse_value
from pyclick.elements.inet import ETHERADDR, unparse_ether
from pyclick.packet import Packet

#: An ethertype, 0 to 0xFFFF.
ETHERTYPE = UNSIGNED.range(0, 0xFFFF)


def read_ether_header(args: Args) -> tuple[int, bytes, bytes]:
    """ETHERTYPE, SRC and DST, the mandatory arguments of the Ethernet encapsulations."""
    return (args.read_mp("ETHERTYPE", ETHERTYPE), args.read_mp("SRC", ETHERADDR),
            args.read_mp("DST", ETHERADDR))


class EtherAddresses(Element):
    """The ``src`` and ``dst`` (read/write) handlers of an element that writes
    Ethernet addresses; ``addresses_changed`` runs after a write."""

    registered = False
    src: bytes
    dst: bytes

    @read_handler("src")
    def _read_src(self) -> str:
        return unparse_ether(self.src)

    @write_handler("src")
    @reconfigures(1, "SRC")
    def _write_src(self, value: str) -> None:
        self.src = parse_value(ETHERADDR, value)
        self.addresses_changed()

    @read_handler("dst")
    def _read_dst(self) -> str:
        return unparse_ether(self.dst)

    @write_handler("dst")
    @reconfigures(2, "DST")
    def _write_dst(self, value: str) -> None:
        self.dst = parse_value(ETHERADDR, value)
        self.addresses_changed()

    def addresses_changed(self) -> None:
        """Nothing by default: the addresses are read at each packet."""


class EtherEncap(EtherAddresses):
    """EtherEncap(ETHERTYPE, SRC, DST) -- encapsulates packets in Ethernet header

    Description
    Puts a 14-byte Ethernet header in front of each packet: destination
    DST, source SRC, type ETHERTYPE (a number, 0x0800 for IP). When the
    packet still holds bytes stripped off before (Strip), they are reused,
    without moving the data. The MAC header annotation is set to the new
    header. For IP packets you probably want ARPQuerier instead.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    ETHERTYPE -- the Ethernet type, 0 to 0xFFFF; mandatory
    SRC -- the source Ethernet address; mandatory
    DST -- the destination Ethernet address; mandatory

    Element handlers
    src, dst (read/write) -- the SRC and DST addresses; a write sets the
    argument in config too
    ethertype (read/write) -- the ETHERTYPE setting, in decimal; a write
    sets the argument in config too
    etht (read/write) -- the same as ethertype (deprecated)

    Example
    InfiniteSource(LIMIT 1) -> EtherEncap(0x0800, 1:1:1:1:1:1, 2:2:2:2:2:2) -> Print -> Discard;
    """

    can_live_reconfigure = True
    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.ethertype, self.src, self.dst = read_ether_header(args)
        args.complete()
        self._header = self._make_header()

    def _make_header(self) -> bytes:
        return self.dst + self.src + struct.pack("!H", self.ethertype)

    def simple_action(self, packet: Packet) -> Packet:
        packet.push(14)
        packet.write(0, self._header)
        packet.set_mac_header(0)
        return packet

    def addresses_changed(self) -> None:
        self._header = self._make_header()

    @read_handler("ethertype")
    @read_handler("etht")
    def _read_ethertype(self) -> str:
        return str(self.ethertype)

    @write_handler("ethertype")
    @write_handler("etht")
    @reconfigures(0, "ETHERTYPE")
    def _write_ethertype(self, value: str) -> None:
        self.ethertype = parse_value(ETHERTYPE, value)
        self._header = self._make_header()
