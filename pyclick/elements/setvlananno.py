"""SetVLANAnno: a fixed VLAN tag control word in every packet's annotation."""

from __future__ import annotations

from pyclick.args import INT, Args
from pyclick.element import AGNOSTIC, Element, read_handler, write_handler
from pyclick.elements.handlercall import parse_value
from pyclick.packet import Packet

_TCI = INT.range(0, 0xFFFF)
_PCP = INT.range(0, 7)
_VLAN_ID = INT.range(0, 0xFFF)


class SetVLANAnno(Element):
    """SetVLANAnno(VLAN_TCI, VLAN_PCP, KEYWORDS) -- sets VLAN annotation

    Description
    Sets the VLAN TCI annotation of every packet, which VLANEncap(ANNO) and
    EtherVLANEncap(ANNO) put in the tags they add. The value is VLAN_TCI,
    or else VLAN_ID, with VLAN_PCP in its upper three bits in either case.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    VLAN_TCI -- the whole tag control word, 0 to 0xFFFF; default none (VLAN_ID)
    VLAN_PCP -- the priority code point, 0 to 7, or-ed into the top three bits; default 0
    VLAN_ID -- the VLAN ID, 0 to 0xFFF, used without VLAN_TCI; default 0

    Element handlers
    config (read) -- 'VLAN_ID id, VLAN_PCP pcp', read from the word set
    vlan_tci (read/write) -- the word set, in decimal; a write keeps the
        current VLAN_PCP or-ed in
    vlan_id (read/write) -- its lower 12 bits; a write keeps the VLAN_PCP and
        clears the bit between them
    vlan_pcp (read/write) -- its upper 3 bits; a write keeps the VLAN_ID and
        clears the bit between them

    Example
    InfiniteSource(LIMIT 3) -> SetVLANAnno(VLAN_ID 7, VLAN_PCP 2)
        -> EtherVLANEncap(0x0800, 1:1:1:1:1:1, 2:2:2:2:2:2, ANNO) -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    can_live_reconfigure = True

    def configure(self, args: Args) -> None:
        tci = args.read_p("VLAN_TCI", _TCI, -1)
        pcp = args.read_p("VLAN_PCP", _PCP, 0)
        vlan_id = args.read("VLAN_ID", _VLAN_ID, 0)
        args.complete()
        self.tci = (tci if tci >= 0 else vlan_id) | (pcp << 13)

    def simple_action(self, packet: Packet) -> Packet:
        packet.vlan_tci = self.tci
        return packet

    def simple_action_batch(self, batch: list[Packet]) -> list[Packet]:
        tci = self.tci
        for packet in batch:
            packet.vlan_tci = tci
        return batch

    # Writes set one argument of the config handler's 'VLAN_ID, VLAN_PCP'
    # form, as Click's: bit 12, which that form leaves out, is lost.
    @property
    def _id(self) -> int:
        return self.tci & 0xFFF

    @property
    def _pcp(self) -> int:
        return self.tci >> 13

    @read_handler("config")
    def _read_config(self) -> str:
        return f"VLAN_ID {self._id}, VLAN_PCP {self._pcp}"

    @read_handler("vlan_tci")
    def _read_vlan_tci(self) -> str:
        return str(self.tci)

    @write_handler("vlan_tci")
    def _write_vlan_tci(self, value: str) -> None:
        self.tci = parse_value(_TCI, value) | (self._pcp << 13)

    @read_handler("vlan_id")
    def _read_vlan_id(self) -> str:
        return str(self._id)

    @write_handler("vlan_id")
    def _write_vlan_id(self, value: str) -> None:
        self.tci = parse_value(_VLAN_ID, value) | (self._pcp << 13)

    @read_handler("vlan_pcp")
    def _read_vlan_pcp(self) -> str:
        return str(self._pcp)

    @write_handler("vlan_pcp")
    def _write_vlan_pcp(self, value: str) -> None:
        self.tci = self._id | (parse_value(_PCP, value) << 13)
