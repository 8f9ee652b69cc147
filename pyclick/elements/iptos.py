"""The TOS byte of IP packets: SetIPDSCP, SetIPECN and MarkIPCE.

The byte holds the Differentiated Services code point (upper 6 bits) and
the ECN field (lower 2). Each element rewrites its part and patches the IP
checksum incrementally, as Click's do.
"""

from __future__ import annotations

from pyclick.args import BOOL, UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element, read_handler, reconfigures, write_handler
from pyclick.elements.handlercall import parse_value
from pyclick.elements.inet import patch_checksum, whole_ip_header_at
from pyclick.elements.settinghandlers import setting_handlers
from pyclick.packet import Packet

_DSCP = UNSIGNED.range(0, 0x3F)
NOT_ECT, ECT1, ECT0, CE = 0, 1, 2, 3
#: Click's names of the ECN codepoints (ect2 is RFC 3168's ECT(0)).
_ECN_NAMES = {"no": NOT_ECT, "-": NOT_ECT, "ect1": ECT1, "ECT(1)": ECT1, "ect2": ECT0,
              "ECT(0)": ECT0, "ce": CE, "CE": CE}


def _ecn(text: str, args: Args | None) -> int:
    word = text.strip()
    if word in ("0", "1", "2", "3"):
        return int(word)
    if word in _ECN_NAMES:
        return _ECN_NAMES[word]
    raise ValueError("expected ECN codepoint (0-3, no, ect1, ect2, ce)")


def _ecn_word(text: str, args: Args | None) -> str:
    """An ECN argument kept as written, once :func:`_ecn` accepts it: Click's
    ecn handler gives the word back (ect2), not its number."""
    _ecn(text, args)
    return text.strip()


def set_tos(packet: Packet, at: int, keep: int, put: int) -> None:
    """TOS byte of the IP header at ``at`` = its ``keep`` bits | ``put``, checksum patched."""
    data = packet.writable_data()
    old = (data[at] << 8) | data[at + 1]
    data[at + 1] = (data[at + 1] & keep) | put
    patch_checksum(data, at + 10, old, (data[at] << 8) | data[at + 1])


class _TOSElement(Element):
    """What the three share: one agnostic port each way, IP packets expected."""

    registered = False
    port_count = "1/1"
    processing = AGNOSTIC


class SetIPDSCP(_TOSElement):
    """SetIPDSCP(DSCP) -- sets IP packets' DSCP fields

    Description
    Expects IP packets (the network header annotation says where the header
    is; at the start of the packet when no element set it). Sets each
    one's Differentiated Services code point, the upper 6 bits of the TOS
    byte, to DSCP, keeps the 2 ECN bits, and updates the IP checksum to
    match (incrementally). Packets too short to hold an IP header pass
    unchanged.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    DSCP -- the code point, 0 to 63; mandatory

    Element handlers
    dscp (read/write) -- the DSCP setting; a write sets the argument in
    config too

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader -> SetIPDSCP(46)
        -> IPPrint(TOS true) -> Discard;
    """

    can_live_reconfigure = True

    def configure(self, args: Args) -> None:
        self.dscp = args.read_mp("DSCP", _DSCP)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        at = whole_ip_header_at(packet)
        if at is not None:
            set_tos(packet, at, 0x03, self.dscp << 2)
        return packet

    _read_dscp, _write_dscp = setting_handlers("dscp", _DSCP, argument=(0, "DSCP"))


class SetIPECN(_TOSElement):
    """SetIPECN(ECN) -- sets IP packets' ECN fields

    Description
    Expects IP packets (as SetIPDSCP). Sets each one's ECN field, the lower
    2 bits of the TOS byte, to ECN, keeps the code point, and updates the
    IP checksum to match (incrementally). ECN is 0 to 3 or a name: no or -
    (0, not ECN-capable), ect1 or ECT(1) (1), ect2 or ECT(0) (2), ce or CE
    (3, congestion experienced). Packets too short to hold an IP header
    pass unchanged.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    ECN -- the ECN codepoint; mandatory

    Element handlers
    ecn (read/write) -- the ECN setting, as written (ect2 stays ect2); a
    write sets the argument in config too

    Example
    InfiniteSource(LIMIT 1, STOP true) -> UDPIPEncap(10.0.0.1, 1, 10.0.0.2, 2)
        -> SetIPECN(ect2) -> IPPrint(TOS true) -> Discard;
    """

    can_live_reconfigure = True

    def configure(self, args: Args) -> None:
        self.ecn_text = args.read_mp("ECN", _ecn_word)
        args.complete()
        self.ecn = _ecn(self.ecn_text, args)

    def simple_action(self, packet: Packet) -> Packet:
        at = whole_ip_header_at(packet)
        if at is not None:
            set_tos(packet, at, 0xFC, self.ecn)
        return packet

    @read_handler("ecn")
    def _read_ecn(self) -> str:
        return self.ecn_text

    @write_handler("ecn")
    @reconfigures(0, "ECN")
    def _write_ecn(self, value: str) -> None:
        self.ecn = parse_value(_ecn, value)
        self.ecn_text = value.strip()


class MarkIPCE(_TOSElement):
    """MarkIPCE(FORCE) -- sets IP packets' ECN field to Congestion Experienced

    Description
    Expects IP packets (as SetIPDSCP). Marks ECN-capable packets as having
    experienced congestion: their ECN field becomes CE (3) and the IP
    checksum is updated to match; packets marked already pass unchanged.
    Packets that are not ECN-capable (ECN 0) are dropped, unless FORCE is
    true: then they are marked too. Packets too short to hold an IP header
    pass unchanged.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    FORCE -- mark packets that are not ECN-capable instead of dropping them; default false

    Element handlers
    drops (read) -- packets dropped as not ECN-capable

    Example
    InfiniteSource(LIMIT 1, STOP true) -> UDPIPEncap(10.0.0.1, 1, 10.0.0.2, 2)
        -> SetIPECN(ect2) -> MarkIPCE -> IPPrint(TOS true) -> Discard;
    """

    def configure(self, args: Args) -> None:
        self.force = args.read_p("FORCE", BOOL, False)
        args.complete()
        self.drops = 0

    def simple_action(self, packet: Packet) -> Packet | None:
        at = whole_ip_header_at(packet)
        if at is None:
            return packet
        ecn = packet.byte(at + 1) & 0x03
        if ecn == NOT_ECT and not self.force:
            self.drops += 1
            return None
        if ecn != CE:
            set_tos(packet, at, 0xFF, CE)
        return packet

    @read_handler("drops")
    def _read_drops(self) -> str:
        return str(self.drops)
