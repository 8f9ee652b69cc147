"""FromTcpdump: packets made from the text lines tcpdump prints."""

from __future__ import annotations

from pyclick.args import BOOL, FILENAME, Args
from pyclick.elements.clickargs import DATE
from pyclick.elements.fromipsumdump import SAMPLE_PROBABILITY
from pyclick.elements.fromnetflowsumdump import LineSource, address_of
from pyclick.elements.inet import checksum, transport_checksum
from pyclick.elements.ipsumreaders import scan_number
from pyclick.elements.portnames import TCP_PORT, UDP_PORT
from pyclick.packet import Packet

_ICMP, _TCP, _UDP = 1, 6, 17
_MASK32 = 0xFFFFFFFF
_SPACE = " \t\n\v\f\r"
_DIGITS = "0123456789"


def _find(line: str, start: int, char: str) -> int:
    """Where ``char`` is from ``start`` on; the end (or ``start`` past it) if nowhere."""
    at = line.find(char, start)
    return at if at >= 0 else max(start, len(line))


def _digit(line: str, at: int) -> bool:
    return at < len(line) and line[at] in _DIGITS


def _number(line: str, at: int, base: int = 0) -> tuple[int, int]:
    value, end = scan_number(line, at, base)
    return (value or 0) & _MASK32, end


def _signed(value: int) -> int:
    value &= _MASK32
    return value - (1 << 32) if value >> 31 else value


def _endpoint(line: str, start: int, stop: int, proto: int, buf: bytearray, at: int,
              port_at: int) -> bool:
    """Read the address (and, for TCP and UDP, the port after its last '.' or
    ':') in ``line[start:stop]`` into ``buf``; whether it could be read."""
    if proto not in (_TCP, _UDP):
        address = address_of(line[start:stop])
        if address is None:
            return False
        buf[at:at + 4] = address
        return True
    dot = stop - 1
    while dot > start and line[dot] not in ".:":
        dot -= 1
    address = address_of(line[start:dot])
    if address is None:
        return False
    try:
        port = (TCP_PORT if proto == _TCP else UDP_PORT)(line[dot + 1:stop], None)
    except ValueError:
        return False
    buf[at:at + 4] = address
    buf[port_at:port_at + 2] = port.to_bytes(2, "big")
    return True


def _skip_checksum_notes(line: str, at: int, proto: str) -> tuple[int, bool]:
    """Past tcpdump's '[bad hdr length ...]' and '[tcp sum ok]' or '[bad tcp
    cksum ...]' notes after the space at ``at``; whether a sum note was read."""
    end = len(line)
    if at + 9 <= end and line.startswith("[bad hdr", at + 1):
        close = _find(line, at + 9, "]")
        if close + 1 < end and line[close + 1] == " ":
            at = close + 1
    if at + 14 <= end and line.startswith(f"[{proto} sum ok] ", at + 1):
        return at + 14, True
    if at + 9 <= end and line.startswith(f"[bad {proto}", at + 1):
        close = _find(line, at + 9, "]")
        if close + 1 < end and line[close + 1] == " ":
            return close + 2, True
    return at, False


def _word_number(line: str, at: int, word: str) -> tuple[int, int] | None:
    """The number after ``word`` at ``at`` (a digit must follow it) and where it ends."""
    if at + len(word) < len(line) and line.startswith(word, at) and _digit(line, at + len(word)):
        return _number(line, at + len(word))
    return None


class FromTcpdump(LineSource):
    """FromTcpdump(FILENAME, KEYWORDS) -- makes packets from tcpdump's text output

    Description
    Reads the lines tcpdump prints (run with -n and -tt, so that addresses
    and ports are numbers and times are seconds since the epoch) and emits
    an IPv4 packet resembling each one. Lines that start with '#' are
    skipped. A line must start with the time, then 'SRC > DST:'; a line
    that does not (other than a blank one) is skipped, and the first such
    line is reported with the file name and line number.

    The protocol is guessed from what follows the colon: 'icmp' ICMP,
    'udp' (or '[udp') UDP, '.' or a capital letter (TCP flags) TCP. For TCP
    and UDP, the port is the last part of an address after a '.' or ':' (a
    number or a port name). The packet is a 20-byte IPv4 header (TTL 2
    unless the line gives one) and, for TCP, a TCP header with the flags
    (letters FSRPAUECN, W for C, X for E, '.' for ACK), sequence numbers
    'SEQ:END(LEN)', 'ack N', 'win N', 'urg N' and the options between '<'
    and '>' (nop, eol, mss, wscale, sackOK, timestamp, sack), or for UDP an
    8-byte UDP header; the data is not there, but counted in the IP length
    and the extra length annotation ('udp N', the sequence numbers, or the
    IP length). Sequence numbers that tcpdump printed relative to the
    first of their connection are made absolute again as tcpdump's own
    guess does. Groups in parentheses or brackets at the end of the line
    set the IP fields: 'tos 0xN', 'ECT(0)', 'ECT(1)', 'CE', 'DF',
    'frag ID:LEN@OFFSET[+]', 'ttl N', 'id N', 'len N'. A 'len' longer than
    the headers and data of a TCP line is taken as more TCP options.

    Parsing is faithful to Click's, quirks included (this reads the
    older tcpdump formats Click reads; newer option formats are not
    understood). With CHECKSUM, the IP, TCP and UDP checksums are set
    (over the bytes the packet holds). With SAMPLE, each packet leaves with
    that probability (kept to 2^-28). A push output emits a packet a task
    run; a pull output hands one out when pulled. When the file is done,
    FromTcpdump stops the driver if STOP is true. A first line that does
    not start with a digit draws a warning.

    FILENAME '-' is standard input. A file compressed with gzip or bzip2 is
    uncompressed as it is read. A file that cannot be read is an error.

    Ports
    no inputs; one agnostic output

    Keyword arguments
    FILENAME -- the tcpdump output, or '-'; mandatory
    STOP -- stop the driver when the file is done; default false
    ACTIVE -- emit packets; default true
    ZERO -- bytes the line does not set are 0 (always so here); default true
    CHECKSUM -- set the checksums; default false
    SAMPLE -- the probability that a packet is emitted, 0 to 1; default 1

    Element handlers
    sampling_prob (read) -- the SAMPLE setting
    active (read/write) -- the ACTIVE setting
    encap (read) -- IP
    filename (read) -- the file name
    filesize (read) -- the file's size in bytes ('-' when it is not a regular file)
    filepos (read) -- how far the file has been read, in bytes
    stop (write) -- makes the element inactive and stops the driver

    Example
    FromTcpdump(trace.txt, STOP true, CHECKSUM true) -> ToDump(trace.pcap, ENCAP IP);
    """

    def configure(self, args: Args) -> None:
        self.filename = args.read_mp("FILENAME", FILENAME)
        self.stop_when_done = args.read("STOP", BOOL, False)
        self.active = args.read("ACTIVE", BOOL, True)
        # As for FromIPSummaryDump, unset bytes are always 0 here.
        args.read("ZERO", BOOL, True)
        self.checksum = args.read("CHECKSUM", BOOL, False)
        self.sampling = args.read("SAMPLE", SAMPLE_PROBABILITY, 1 << 28)
        args.complete()
        self._check_sampling()
        self.timing = False
        self._start_reading()
        #: Each connection's first and last sequence numbers, each way.
        self._flows: dict[tuple[bytes, ...], tuple[list[int], list[int]]] = {}
        #: Whether tcpdump printed absolute sequence numbers: -1 until guessed.
        self._absolute_seq = -1

    def _read_banner(self) -> None:
        assert self._stream is not None
        line = self._stream.peek_line()
        if not line[:1].isdigit():
            self.log.warning("%s: %s: first line suspicious; is this a tcpdump output file?",
                             self.declaration(), self.filename)

    def _read_packet(self) -> Packet | None | bool:
        """The next line's packet; None for a line that gives none; False at the end."""
        raw = self._next_line(b"#")
        if raw is None:
            return False
        line = raw.decode("latin-1")
        packet = self._line_packet(line) if line[:1] in _DIGITS else None
        if packet is None and not self._complained and line.strip(" \t\n\r"):
            self._complain("packet parse error")
            self._complained = True
        return packet

    def _line_packet(self, line: str) -> Packet | None:
        end = len(line)
        buf = bytearray(40)
        buf[0], buf[8] = 0x45, 2
        stop = _find(line, 0, " ")
        try:
            when = DATE(line[:stop], None)
        except ValueError:
            return None
        start = stop + 1
        colon = _find(line, start, ":") + 1
        while colon < end and line[colon] == " ":
            colon += 1
        proto = 0
        if colon < end:
            first = line[colon]
            if first == "i":
                proto = _ICMP
            elif first == "u" or (first == "[" and colon + 1 < end and line[colon + 1] == "u"):
                proto = _UDP
            elif first == "." or "A" <= first <= "Z":
                proto = _TCP
        buf[9] = proto
        stop = _find(line, start, " ")
        if stop == start or stop + 2 >= end or line[stop + 1:stop + 3] != "> " \
                or not _endpoint(line, start, stop, proto, buf, 12, 20):
            return None
        start = stop + 3
        if not _endpoint(line, start, _find(line, start, ":"), proto, buf, 16, 22):
            return None
        data_len = -1
        if proto == _TCP:
            at, data_len = self._tcp(line, colon, buf)
        elif proto == _UDP:
            at, data_len = _udp(line, colon)
            del buf[28:]
        else:
            at = colon
            del buf[20:]
        data_len = _ip_groups(line, at, buf, data_len)
        data_len = max(data_len, 0)
        ip_len = (len(buf) + data_len) & 0xFFFF
        buf[2:4] = ip_len.to_bytes(2, "big")
        if proto == _UDP:
            buf[24:26] = ((ip_len - 20) & 0xFFFF).to_bytes(2, "big")
        if self.checksum:
            _set_checksums(buf)
        packet = Packet(bytes(buf))
        packet.set_network_header(0, 20)
        packet.timestamp = self.router.from_epoch(when)
        packet.extra_length = data_len
        return packet

    def _tcp(self, line: str, at: int, buf: bytearray) -> tuple[int, int]:
        """Read the TCP part of ``line`` from ``at`` into ``buf``: where it
        ends and the data length (-1 when not given)."""
        end = len(line)
        flags = 0
        if at < end and line[at] == ".":
            flags, at = 0x10, at + 1
        else:
            while at < end and line[at] in _FLAG_BITS:
                flags |= _FLAG_BITS[line[at]]
                at += 1
        buf[33] = flags & 0xFF
        if at >= end or line[at] != " ":
            return at, -1
        at, noted = _skip_checksum_notes(line, at, "tcp")
        at += not noted
        seq = end_seq = ack = 0
        if at < end and line[at] != "a":
            value, stop = scan_number(line, at)
            if value is None or stop >= end or line[stop] != ":":
                return at, -1
            seq = value & _MASK32
            value, stop = scan_number(line, stop + 1)
            if value is None or stop >= end or line[stop] != "(":
                return at, -1
            end_seq = value & _MASK32
            at = stop + 1
            while _digit(line, at):
                at += 1
            if at >= end or line[at] != ")":
                return at, -1
            if at + 1 >= end or line[at + 1] != " ":
                return at + 1, -1
            at += 2
        data_len = _signed(end_seq - seq)
        found = _word_number(line, at, "ack ")
        if found is not None:
            flags |= 0x10
            buf[33] = flags & 0xFF
            ack, at = found
            at += at < end and line[at] == " "
        rel = None
        if flags & 0x10:
            seq, end_seq, ack, rel = self._absolute(buf, flags, seq, end_seq, ack)
        buf[24:28] = seq.to_bytes(4, "big")
        buf[28:32] = ack.to_bytes(4, "big")
        found = _word_number(line, at, "win ")
        if found is not None:
            buf[34:36] = (found[0] & 0xFFFF).to_bytes(2, "big")
            at = found[1] + (found[1] < end and line[found[1]] == " ")
        found = _word_number(line, at, "urg ")
        if found is not None:
            buf[38:40] = (found[0] & 0xFFFF).to_bytes(2, "big")
            # Click skips a character that is not a space here.
            at = found[1] + (found[1] < end and line[found[1]] != " ")
        if at < end and line[at] == "<":
            options, at = _tcp_options(line, at + 1, rel)
            buf += options
            buf[32] = ((20 + len(options)) >> 2 & 15) << 4
        else:
            buf[32] = 0x50
        return at, data_len

    def _absolute(self, buf: bytearray, flags: int, seq: int, end_seq: int, ack: int
                  ) -> tuple[int, int, int, int | None]:
        """The sequence and acknowledgment numbers made absolute with tcpdump's
        connection heuristics, and what makes the other way's numbers
        absolute (None when they are left alone)."""
        sport, dport = buf[20:22], buf[22:24]
        src, dst = bytes(buf[12:16]), bytes(buf[16:20])
        # Click compares the ports and addresses as an x86 host holds them.
        sport_host = int.from_bytes(sport, "little")
        dport_host = int.from_bytes(dport, "little")
        rev = sport_host < dport_host or (sport_host == dport_host and
                                          int.from_bytes(src, "little")
                                          < int.from_bytes(dst, "little"))
        key = (src, bytes(sport), dst, bytes(dport)) if rev \
            else (dst, bytes(dport), src, bytes(sport))
        init, last = self._flows.setdefault(key, ([0, 0], [0, 0]))
        this, other = int(rev), 1 - int(rev)
        if (not init[0] and not init[1]) or flags & 0x02:
            init[this] = seq
            init[other] = (ack - 1) & _MASK32
        else:
            if self._absolute_seq < 0:
                self._absolute_seq = int(_signed(ack - init[other]) >= 0 and ack > 8000)
            if seq == 0 and end_seq == 0:
                seq = end_seq = last[this]
            elif not self._absolute_seq:
                seq = (seq + init[this]) & _MASK32
                end_seq = (end_seq + init[this]) & _MASK32
            if not self._absolute_seq:
                ack = (ack + init[other]) & _MASK32
        last[this] = (end_seq + bool(flags & 0x02) + bool(flags & 0x01)) & _MASK32
        if not last[other]:
            last[other] = ack
        return seq, end_seq, ack, init[other] if self._absolute_seq == 0 else None


#: The TCP flag bits of tcpdump's letters (W and X: older names of C and E).
_FLAG_BITS = {letter: 1 << bit for bit, letter in enumerate("FSRPAUEC")}
_FLAG_BITS.update({"W": 0x80, "X": 0x40, "Y": 0x80, "N": 0})


def _udp(line: str, at: int) -> tuple[int, int]:
    """Past the UDP part of ``line`` at ``at``: where it ends and the data length."""
    at, _ = _skip_checksum_notes(line, at, "udp")
    found = _word_number(line, at, "udp ")
    if found is None:
        return at, -1
    return found[1], _signed(found[0])


def _tcp_options(line: str, at: int, rel: int | None) -> tuple[bytearray, int]:
    """The TCP options between '<' and '>' from ``at``, padded with EOL, and
    where they end; ``rel`` makes relative SACK blocks absolute."""
    end = len(line)
    opt = bytearray()
    while at < end and line[at] != ">":
        mark = len(opt)
        if at + 3 <= end and line.startswith("nop", at):
            opt.append(1)
            at += 3
        elif at + 3 <= end and line.startswith("eol", at):
            opt.append(0)
            at += 3
        elif (found := _word_number(line, at, "mss ")) is not None:
            value, at = found
            opt += bytes((2, 4, value >> 8 & 255, value & 255))
        elif (found := _word_number(line, at, "wscale ")) is not None:
            value, at = found
            opt += bytes((3, 3, value & 255))
        elif at + 6 <= end and line.startswith("sackOK", at):
            opt += b"\x04\x02"
            at += 6
        elif (found := _word_number(line, at, "timestamp ")) is not None:
            value, at = found
            if at + 1 < end and line[at] == " " and _digit(line, at + 1):
                value2, at = _number(line, at + 1)
                opt += b"\x08\x0a" + value.to_bytes(4, "big") + value2.to_bytes(4, "big")
        elif (found := _word_number(line, at, "sack sack ")) is not None:
            at = _sack(line, found, rel, opt)
        if at < end and line[at] == ",":
            at += 1
        elif at < end and line[at] != ">":
            # Not the option it looked like: dropped up to the next one.
            del opt[mark:]
            while at < end and line[at] not in ",>":
                at += 1
    if at < end and line[at] == ">":
        at += 1
    opt += bytes(-len(opt) % 4)
    return opt, at


def _sack(line: str, found: tuple[int, int], rel: int | None, opt: bytearray) -> int:
    """Append a SACK option ('sack sack N {L:R}...'); where it ends."""
    end = len(line)
    count, at = found
    opt += bytes((5, (count * 8 + 2) & 255))
    while at < end and line[at] == " ":
        at += 1
    while at + 1 < end and line[at] == "{" and _digit(line, at + 1):
        left, at = _number(line, at + 1)
        if at + 1 < end and line[at] == ":" and _digit(line, at + 1):
            right, at = _number(line, at + 1)
            if at < end and line[at] == "}":
                at += 1
                if rel is not None:
                    left, right = (left + rel) & _MASK32, (right + rel) & _MASK32
                opt += left.to_bytes(4, "big") + right.to_bytes(4, "big")
    while at < end and line[at] == " ":
        at += 1
    return at


def _ip_groups(line: str, start: int, buf: bytearray, data_len: int) -> int:
    """Read the parenthesized and bracketed groups ending ``line`` (after
    ``start``) into the IP header; the data length, changed by 'frag' and 'len'."""
    last = len(line) - 1
    while last > start:
        while last > start and line[last] in _SPACE:
            last -= 1
        if last <= start or line[last] not in ")]":
            break
        opener = "(" if line[last] == ")" else "["
        close = last
        open_at = last - 1
        while open_at >= start and line[open_at] != opener:
            open_at -= 1
        last = open_at - 1
        if start <= open_at < close:
            data_len = _ip_items(line, open_at + 1, close, buf, data_len)
    return data_len


def _ip_items(line: str, item: int, close: int, buf: bytearray, data_len: int) -> int:
    """Read one group's items, ``line[item:close]``; the data length."""
    while item < close:
        room = close - item
        number = _word_number(line, item, "ttl ") if room >= 5 else None
        if room >= 7 and line.startswith("tos 0x", item):
            value, item = _number(line, item + 6, 16)
            buf[1] = value & 255
        elif room >= 6 and line.startswith("ECT(", item) and line[item + 4] in "01" \
                and line[item + 5] == ")":
            buf[1] = (buf[1] & ~3) | (1 if line[item + 4] == "0" else 2)
            item += 6
        elif room >= 2 and line.startswith("CE", item):
            buf[1] |= 3
            item += 2
        elif room >= 2 and line.startswith("DF", item):
            buf[6] |= 0x40
            item += 2
        elif room >= 10 and line.startswith("frag ", item) and _digit(line, item + 5):
            item, data_len, complete = _frag(line, item + 5, close, buf, data_len)
            if not complete:
                break
        elif number is not None:
            buf[8], item = number[0] & 255, number[1]
        elif room >= 4 and (found := _word_number(line, item, "id ")) is not None:
            buf[4:6] = (found[0] & 0xFFFF).to_bytes(2, "big")
            item = found[1]
        elif room >= 5 and (found := _word_number(line, item, "len ")) is not None:
            data_len = _ip_length(buf, found[0], data_len)
            item = found[1]
        else:
            break
        while item < close and (line[item] == "," or line[item] in _SPACE):
            item += 1
    return data_len


def _frag(line: str, item: int, close: int, buf: bytearray, data_len: int
          ) -> tuple[int, int, bool]:
    """Read 'frag ID:LEN@OFFSET[+]' from the ID; where it ends, the data
    length, and whether it was whole."""
    value, item = _number(line, item)
    buf[4:6] = (value & 0xFFFF).to_bytes(2, "big")
    if item > close - 2 or line[item] != ":" or not _digit(line, item + 1):
        return item, data_len, False
    value, item = _number(line, item + 1)
    data_len = _signed(value)
    if item > close - 2 or line[item] != "@" or not _digit(line, item + 1):
        return item, data_len, False
    value, item = _number(line, item + 1)
    offset = (int.from_bytes(buf[6:8], "big") & 0xE000) | (value & 0xFFFF)
    if item < close and line[item] == "+":
        offset |= 0x2000
        item += 1
    buf[6:8] = offset.to_bytes(2, "big")
    return item, data_len, True


def _ip_length(buf: bytearray, length: int, data_len: int) -> int:
    """An IP length: the data length it leaves, or, for TCP, more (or fewer)
    option bytes when the headers and data do not add up to it."""
    if data_len < 0 or length == len(buf) + data_len:
        return _signed(length - len(buf))
    size = length - data_len
    if buf[9] == _TCP and size >= 40:
        # Bytes added are EOL options (Click sets the first, the rest are 0 here).
        del buf[size:]
        buf += bytes(size - len(buf))
        buf[32] = (buf[32] & 0x0F) | ((size - 20) >> 2 & 15) << 4
    return data_len


def _set_checksums(buf: bytearray) -> None:
    buf[10:12] = b"\0\0"
    buf[10:12] = checksum(buf[:20]).to_bytes(2, "big")
    fragment = int.from_bytes(buf[6:8], "big") & 0x3FFF
    at = {_TCP: 36, _UDP: 26}.get(buf[9])
    if fragment or at is None:
        return
    buf[at:at + 2] = b"\0\0"
    total = transport_checksum(bytes(buf[12:16]), bytes(buf[16:20]), buf[9], buf[20:])
    buf[at:at + 2] = total.to_bytes(2, "big")
