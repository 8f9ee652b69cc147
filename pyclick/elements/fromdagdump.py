"""FromDAGDump: packets read from an ERF file (the format of Endace DAG captures)."""

from __future__ import annotations

from pyclick.args import FILENAME, WORD, Args
from pyclick.elements.fromnlanrdump import CellSource
from pyclick.elements.inet import ETHERTYPE_IPV4, ETHERTYPE_IPV6, mark_ip_header, mark_ip_header_at
from pyclick.errors import ConfigError
from pyclick.packet import Packet

_HEADER, _CELL = 16, 64
_MASK32 = 0xFFFFFFFF
#: Link types, with pcap's numbers, and the names ENCAP and the encap handler use.
_NONE, _ETHER, _PPP, _PPP_HDLC, _ATM, _IP, _HDLC, _SUNATM = -1, 1, 9, 50, 100, 101, 104, 123
_NAMES = {"IP": _IP, "ETHER": _ETHER, "ATM": _ATM, "RFC1483": _ATM, "ATM_RFC1483": _ATM,
          "HDLC": _HDLC, "PPP_HDLC": _PPP_HDLC, "PPP": _PPP, "SUNATM": _SUNATM}
_OTHER_NAMES = ("NULL", "FDDI", "802_11", "802.11", "802_11_RADIO", "802.11_RADIO", "SLL",
                "AIRONET", "PRISM")
_UNPARSE = {_IP: "IP", _ETHER: "ETHER", _ATM: "ATM", _HDLC: "HDLC", _PPP_HDLC: "PPP_HDLC",
            _PPP: "PPP", _SUNATM: "SUNATM"}
#: New-style record types: ATM cell, Ethernet, HDLC (PoS), AAL5 frame.
_TYPE_LINKS = {1: _HDLC, 2: _ETHER, 3: _SUNATM, 4: _SUNATM}
_IP_TYPES = (ETHERTYPE_IPV4, ETHERTYPE_IPV6)
_SNAP_IP = b"\xaa\xaa\x03\x00\x00\x00"
_PPP_IP = (0x21, 0x57)


def _encap(word: str) -> int | None:
    """ENCAP's link type, as Click's pcap names read it (case matters)."""
    if word in _NAMES:
        return _NAMES[word]
    if word in _OTHER_NAMES or len(word) < 2 or word[0] != "#" or not word[1:].isdigit():
        return None
    number = int(word[1:])
    return number if number in _UNPARSE else None


def _stamp_time(stamp: int) -> int:
    """An ERF date (32.32 fixed point seconds) in nanoseconds, rounded as Click rounds it."""
    seconds = stamp >> 32
    fraction = (stamp & _MASK32) * 1_000_000_000
    fraction += (fraction & 0x80000000) << 1
    nsec = (fraction >> 32) & _MASK32
    if nsec >= 1_000_000_000:
        nsec -= 1_000_000_000
        seconds = (seconds + 1) & _MASK32
    return (seconds - ((seconds & 0x80000000) << 1)) * 1_000_000_000 + nsec


def _ethernet_ip(packet: Packet, base: int) -> bool:
    """The IP header in the Ethernet frame whose type field is at ``base + 12``."""
    data = packet.data
    if base + 14 > len(data):
        return False
    kind = int.from_bytes(data[base + 12:base + 14], "big")
    if kind in _IP_TYPES:
        return mark_ip_header_at(packet, base + 14)
    if kind == 0x8100 and base + 18 <= len(data) \
            and int.from_bytes(data[base + 16:base + 18], "big") in _IP_TYPES:
        return mark_ip_header_at(packet, base + 18)
    return False


def _rfc1483_ip(packet: Packet, at: int) -> bool:
    """The IP header after the LLC/SNAP header at ``at`` (RFC 1483, RFC 2684)."""
    data = packet.data
    snap = at + 8 <= len(data)
    if snap and data[at:at + 6] == _SNAP_IP and int.from_bytes(data[at + 6:at + 8],
                                                               "big") in _IP_TYPES:
        return mark_ip_header_at(packet, at + 8)
    if at + 4 <= len(data) and data[at] == data[at + 1] == 0x06:
        return mark_ip_header_at(packet, at + 4)
    if not (snap and data[at] == data[at + 1] == 0xAA):
        return False
    org = int.from_bytes(data[at + 3:at + 6], "big")
    pid = int.from_bytes(data[at + 6:at + 8], "big")
    if org in (0, 0xF8):
        return _ethernet_ip(packet, at - 6)
    if org == 0x0080C2 and pid in (1, 7):
        return _ethernet_ip(packet, at + 8)
    if org == 0x0080C2 and pid in (4, 10):
        fddi = at + 9
        return fddi + 21 <= len(data) and data[fddi] & 0xF0 == 0x50 \
            and _rfc1483_ip(packet, fddi + 13)
    return False


def _hdlc_ip(packet: Packet, at: int) -> bool:
    data = packet.data
    return at + 4 <= len(data) and int.from_bytes(data[at + 2:at + 4], "big") in _IP_TYPES \
        and mark_ip_header_at(packet, at + 4)


def force_ip(packet: Packet, link: int) -> bool:
    """Set the network header of the IP packet a frame of link type ``link``
    holds (Click's FORCE_IP); whether there is one."""
    data = packet.data
    if link == _IP:
        return mark_ip_header_at(packet, 0)
    if link == _ETHER:
        return mark_ip_header(packet)
    if link in (_ATM, _SUNATM):
        return _rfc1483_ip(packet, 4 if link == _SUNATM else 0)
    if link == _HDLC:
        return _hdlc_ip(packet, 0)
    if link == _PPP_HDLC and len(data) >= 4:
        if data[0] == 0xFF:
            return data[2] == 0 and data[3] in _PPP_IP and mark_ip_header_at(packet, 4)
        return data[0] in (0x0F, 0x8F) and _hdlc_ip(packet, 0)
    if link == _PPP:
        at = 2 if len(data) >= 2 and data[0] == 0xFF and data[1] == 0x03 else 0
        if at + 2 > len(data):
            return False
        if data[at] in _PPP_IP:
            return mark_ip_header_at(packet, at + 1)
        return data[at] == 0 and data[at + 1] in _PPP_IP and mark_ip_header_at(packet, at + 2)
    return False


class FromDAGDump(CellSource):
    """FromDAGDump(FILENAME, KEYWORDS) -- reads packets from an ERF (DAG capture) file

    Description
    Reads the records of an ERF file, as Endace DAG cards and their tools
    write them, and emits their packets. A record starts with a 16-byte
    header: the date (8 bytes, little-endian, seconds in the high 32 bits
    and a binary fraction in the low 32, rounded to nanoseconds), the type,
    flags, the record length (2 bytes, network byte order), a loss counter
    and the wire length. Types 1 (HDLC), 2 (Ethernet), 3 (ATM cell) and 4
    (AAL5) are read as such: the packet is the rest of the record (for
    Ethernet, after 2 bytes of padding), its link type HDLC, ETHER or
    SUNATM, its extra length annotation the wire length less the packet's
    length (for Ethernet, the wire length less the 4-byte CRC). A record
    shorter than its header ends the file.

    Other records are old-style 64-byte cells, whose link type ENCAP gives
    (ATM when it is not given; any other type than 1 to 4 warns once and
    makes the rest of the file such cells). With ENCAP given, every record
    is such a cell. The packet is the cell after its header for ATM, PPP,
    PPP_HDLC and HDLC (HDLC's wire length is the header's bytes 10 and 11);
    for SUNATM, the header's last 4 bytes and the rest; for ETHER, the
    header's last 6 bytes and the rest (the wire length is bytes 8 and 9);
    for IP, the header's last 8 bytes and the rest.

    The packet's timestamp is the record's date. With FORCE_IP, only
    packets holding a whole IPv4 or IPv6 header (found as Click finds it
    for the link type: after the Ethernet header, an LLC/SNAP header,
    an HDLC or PPP header) are emitted, with their network header (and
    destination IP annotation) set; the others go out of output 1 if
    FromDAGDump has one, else are dropped. FORCE_IP and TIMING cannot be
    given together. A record cut short ends the file, with a warning naming
    the file and the byte where the record starts. The file may be
    compressed with gzip or bzip2.

    START skips the packets dated before it, START_AFTER those less than
    that long after the first record. END, END_AFTER (counted from the first
    record) or INTERVAL (counted from the start date) sets an end date: at
    the first record dated at or after it, FromDAGDump calls END_CALL (which
    is, with STOP, 'NAME.stop'; with neither, 'NAME.active false'); if that
    made it inactive, the packet waits (writing active true emits it). When
    the file is done, END_CALL is called (again, as in Click), if there is
    one. With TIMING, packets leave with the gaps between their dates,
    measured on the router's clock from the first record. With SAMPLE, each
    packet is emitted with that probability (kept to 2^-28). A push output
    emits a packet a task run; a pull output hands one out when pulled.

    Ports
    no inputs; agnostic output 0, optional push output 1 (non-IP packets with FORCE_IP)

    Keyword arguments
    FILENAME -- the ERF file; mandatory
    STOP -- stop the driver when the file is done or the end date reached; default false
    ACTIVE -- emit packets; default true
    FORCE_IP -- emit only IP packets, their network header set; default false
    START -- skip the packets before this date (seconds since the epoch); default none
    START_AFTER -- skip the packets less than this long after the first one; default none
    END -- end date (seconds since the epoch); default none
    END_AFTER -- end this long after the first record's date; default none
    INTERVAL -- end this long after the start date; default none
    END_CALL -- write handler (with value) called at the end date and when the file is done; default as above
    SAMPLE -- the probability that a packet is emitted, 0 to 1; default 1
    TIMING -- keep the gaps between the packets' dates; default false
    ENCAP -- the link type of old-style cells: IP, ATM (or RFC1483, ATM_RFC1483), SUNATM,
    ETHER, PPP, PPP_HDLC, HDLC, or '#' and a number; default none (ATM)
    MMAP -- boolean, Click's choice of mmap(2); the file is read the same either way; default true

    Element handlers
    sampling_prob (read) -- the SAMPLE setting
    active (read/write) -- the ACTIVE setting
    encap (read) -- the link type of the packet read last (a packet is read ahead); '<none>' before any
    stop (write) -- makes the element inactive and stops the driver
    extend_interval (write) -- a time: moves the end date that much later; with an END_CALL, also
    makes the element active and looks for the end date again
    filename (read) -- the file name
    filesize (read) -- the file's size in bytes ('-' when it is not a regular file)
    filepos (read) -- how far the file has been read, in bytes

    Example
    FromDAGDump(trace.erf, STOP true, FORCE_IP true) -> ToDump(trace.pcap, ENCAP IP);
    """

    force_ip_default = False

    def configure(self, args: Args) -> None:
        self.filename = args.read_mp("FILENAME", FILENAME)
        self._encap_word = ""
        self._read_times(args, "'START' and 'START_AFTER' are mutually exclusive")
        self._base_link = _NONE
        if self._encap_word:
            link = _encap(self._encap_word)
            if link is None:
                args.error("ENCAP: bad encapsulation type")
            self._base_link = _NONE if link is None else link
        self._link = _NONE

    def _extra_keywords(self, args: Args) -> None:
        self._encap_word = args.read("ENCAP", WORD, "")

    def initialize(self) -> None:
        super().initialize()
        if self.force_ip and self.timing:
            raise ConfigError(f"{self.declaration()}: FORCE_IP and TIMING options are "
                              "incompatible", self.landmark)

    def _read_banner(self) -> None:
        if self.force_ip and self.timing:
            return
        super()._read_banner()

    def _read_cell(self) -> tuple[bytes, int] | None:
        header = self._read_exact(_HEADER)
        if header is None:
            return None
        return header, _stamp_time(int.from_bytes(header[:8], "little"))

    def _cell_packet(self, cell: bytes, when: int) -> Packet | None:
        kind = cell[8]
        wire = 0
        if kind == 0 or self._base_link >= 0 or kind not in _TYPE_LINKS:
            if kind != 0 and self._base_link < 0:
                self._base_link = _ATM
                self.log.warning("%s: DAG cell with odd type %d, assuming old-style ATM "
                                 "encapsulation for the rest of the dump (to avoid this "
                                 "warning, give ENCAP)", self.declaration(), kind)
            data = self._legacy_cell(cell)
            if data is None:
                return None
            data, wire = data
        else:
            length = int.from_bytes(cell[10:12], "big")
            wire = int.from_bytes(cell[14:16], "big")
            self._link = _TYPE_LINKS[kind]
            if kind == 2:
                if self._read_exact(2) is None:
                    return None
                length -= 2
                wire = (wire - 4) & _MASK32
            if length < _HEADER:
                return None
            rest = self._read_exact(length - _HEADER)
            if rest is None:
                return None
            data = rest
        packet = Packet(data)
        packet.timestamp = self.router.from_epoch(when / 1e9)
        if wire:
            packet.extra_length = (wire - len(packet)) & _MASK32
        return packet

    def _legacy_cell(self, cell: bytes) -> tuple[bytes, int] | None:
        """An old-style cell's packet bytes and wire length (0: none)."""
        self._link = _ATM if self._base_link == _NONE else self._base_link
        rest = self._read_exact(_CELL - _HEADER)
        if rest is None:
            return None
        if self._link == _HDLC:
            return rest, int.from_bytes(cell[10:12], "big")
        if self._link == _SUNATM:
            return cell[12:] + rest, 0
        if self._link == _ETHER:
            return cell[10:] + rest, int.from_bytes(cell[8:10], "big")
        if self._link in (_ATM, _PPP, _PPP_HDLC):
            return rest, 0
        return cell[8:] + rest, 0

    def _is_ip(self, packet: Packet) -> bool:
        return not self.force_ip or force_ip(packet, self._link)

    def _read_encap(self) -> str:
        return _UNPARSE.get(self._link, "<none>")
