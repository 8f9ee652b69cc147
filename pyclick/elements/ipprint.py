"""IPPrint: one tcpdump-like line per IP packet; and LinePrinter, what the
elements printing such a line per packet share."""

from __future__ import annotations

import ipaddress
import struct
import sys
from typing import TextIO

from pyclick.args import BOOL, FILENAME, INT, WORD, Args, Choice
from pyclick.classify.ippatterns import ICMP_CODE_NAMES, ICMP_TYPE_NAMES
from pyclick.element import AGNOSTIC
from pyclick.elements.printelement import CONTENTS, groups, printable
from pyclick.elements.switchable import Activatable
from pyclick.errors import ConfigError
from pyclick.packet import Packet

PROTOCOL_NAMES = {1: "icmp", 6: "tcp", 17: "udp"}


def _address(data: bytes, at: int) -> str:
    return str(ipaddress.IPv4Address(data[at:at + 4]))


def _lines(text: str) -> str:
    """48 characters a line, each line indented by two spaces, in groups of 8:
    as Click shows contents, 24 bytes a line in hex, 48 in ASCII."""
    return "".join("\n  " + " ".join(groups(text[i:i + 48])) for i in range(0, len(text), 48))


class LinePrinter(Activatable):
    """An element printing a line per packet (to standard error or OUTFILE)
    and passing it on: OUTFILE opened at initialize and closed at cleanup,
    ACTIVE, and the LABEL and timestamp that start each line. A subclass
    reads them with ``read_settings``, and says what line a packet gets."""

    registered = False
    port_count = "1/1"
    processing = AGNOSTIC

    def read_settings(self, args: Args) -> None:
        """LABEL (the first positional argument), TIMESTAMP, OUTFILE and ACTIVE."""
        self.label = args.read_p("LABEL", WORD, "")
        self.print_timestamp = args.read("TIMESTAMP", BOOL, True)
        self.outfile = args.read("OUTFILE", FILENAME)
        self.active = args.read("ACTIVE", BOOL, True)
        self._out: TextIO = sys.stderr

    def initialize(self) -> None:
        if self.outfile is not None:
            try:
                self._out = open(self.outfile, "w", encoding="utf-8")
            except OSError as err:
                raise ConfigError(f"{self.declaration()}: {self.outfile}: {err.strerror}",
                                  self.landmark) from None

    def cleanup(self) -> None:
        if self._out is not sys.stderr:
            self._out.close()

    def simple_action(self, packet: Packet) -> Packet:
        if self.active and packet.network_header_offset is not None:
            text = self.line(packet)
            if text is not None:
                print(text, file=self._out, flush=True)
        return packet

    def line(self, packet: Packet) -> str | None:
        """The line printed for ``packet`` (its network header annotation is
        set); None prints nothing."""
        raise NotImplementedError

    def prefix(self, packet: Packet) -> list[str]:
        """The start of a line: LABEL and the timestamp, as asked."""
        parts = []
        if self.label:
            parts.append(f"{self.label}: ")
        if self.print_timestamp:
            parts.append(f"{self.router.to_epoch(packet.timestamp):.6f}: ")
        return parts


class IPPrint(LinePrinter):
    """IPPrint(LABEL, KEYWORDS) -- pretty-prints IP packets

    Description
    Prints one line to standard error (or OUTFILE) for each IP packet, in a
    tcpdump-like format, then passes the packet on unchanged. The line
    holds LABEL, the timestamp, the optional IP fields asked for, then:

      SRC.SPORT > DST.DPORT: FLAGS SEQ:END(SEQLEN,LENGTH,IPLEN) ack ACK win WIN -- TCP
      SRC.SPORT > DST.DPORT: udp ULEN -- UDP
      SRC > DST: icmp echo (ID, SEQ), icmp TYPE ... -- ICMP
      SRC > DST: ip-proto-N -- other protocols

    followed by '(frag ID:LEN@OFFSET+)' for fragments. TCP flags are S, F,
    R and P, or '.' when none of them is set. Short packets print
    'truncated-ip', 'truncated-tcp'... Packets without a network header
    annotation (CheckIPHeader and MarkIPHeader set it) pass unprinted.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    LABEL -- a word printed first, followed by a colon (quote text holding
    spaces); default none
    CONTENTS -- NONE, HEX or ASCII (any case; true is HEX, false NONE): also print the packet's bytes; default NONE
    PAYLOAD -- HEX or ASCII (true is HEX, false none): like CONTENTS, for the transport payload only (give one of CONTENTS and PAYLOAD)
    MAXLENGTH, NBYTES -- most bytes of contents printed, -1 for all; default 1500
    ID, TTL, TOS, LENGTH -- print the IP ID, TTL, TOS, total length; default false
    TIMESTAMP -- print the packet's timestamp; default true
    AGGREGATE -- print the aggregate annotation; default false
    PAINT -- print the paint annotation; default false
    SWAP -- read ICMP echo identifiers and sequence numbers in network byte order (false: little-endian, as old pings wrote them); default true
    OUTFILE -- write to this file instead of standard error
    ACTIVE -- print only while true; default true

    Element handlers
    active (read/write) -- the ACTIVE setting

    Example
    // Prints "x: 1.0.0.1.1234 > 2.0.0.2.53: udp 77".
    InfiniteSource(LIMIT 1) -> UDPIPEncap(1.0.0.1, 1234, 2.0.0.2, 53) -> IPPrint(x, TIMESTAMP false) -> Discard;
    """

    def configure(self, args: Args) -> None:
        self.read_settings(args)
        contents = args.read("CONTENTS", CONTENTS, "NONE")
        payload = args.read("PAYLOAD", _PAYLOAD, "NONE")
        self.maxlength = args.read("MAXLENGTH", INT.range(-1, None), 1500)
        # Click's older name for MAXLENGTH, still read there.
        self.maxlength = args.read("NBYTES", INT.range(-1, None), self.maxlength)
        self.print_id = args.read("ID", BOOL, False)
        self.print_ttl = args.read("TTL", BOOL, False)
        self.print_tos = args.read("TOS", BOOL, False)
        self.print_length = args.read("LENGTH", BOOL, False)
        self.print_aggregate = args.read("AGGREGATE", BOOL, False)
        self.print_paint = args.read("PAINT", BOOL, False)
        self.swap = args.read("SWAP", BOOL, True)
        if contents != "NONE" and payload != "NONE":
            args.error("give at most one of CONTENTS and PAYLOAD")
        args.complete()
        self.payload_only = payload != "NONE"
        self.contents = payload if self.payload_only else contents

    def line(self, packet: Packet) -> str:
        parts = self.prefix(packet)
        if self.print_aggregate:
            parts.append(f"#{packet.aggregate}")
        if self.print_paint:
            parts.append(f"{'.' if self.print_aggregate else 'paint '}{packet.paint}")
        if self.print_aggregate or self.print_paint:
            parts.append(": ")
        data = packet.data
        nh = packet.network_header_offset or 0
        ip = data[nh:] if nh >= 0 else b""
        if len(ip) < 20:
            return "".join(parts) + "truncated-ip"
        ip_len, ident, frag = struct.unpack_from("!HHH", ip, 2)
        hlen = (ip[0] & 15) * 4
        payload_len = ip_len - hlen
        transport = ip[hlen:hlen + max(payload_len, 0)]
        if self.print_id:
            parts.append(f"id {ident} ")
        if self.print_ttl:
            parts.append(f"ttl {ip[8]} ")
        if self.print_tos:
            parts.append(f"tos {ip[1]} ")
        if self.print_length:
            parts.append(f"length {ip_len} ")
        first = frag & 0x1FFF == 0
        proto = ip[9]
        if proto == 6:
            parts.append(self._tcp(ip, transport, first, len(data), ip_len, hlen))
        elif proto == 17:
            parts.append(self._udp(ip, transport, first))
        elif proto == 1:
            parts.append(self._icmp(ip, transport, first))
        else:
            parts.append(f"{_address(ip, 12)} > {_address(ip, 16)}: ip-proto-{proto}")
        if frag & 0x3FFF:
            more = "+" if frag & 0x2000 else ""
            parts.append(f" (frag {ident}:{payload_len}@{(frag & 0x1FFF) << 3}{more})")
        if self.contents != "NONE":
            parts.append(self._contents(data, transport, proto, first))
        return "".join(parts)

    @staticmethod
    def _pair(ip: bytes) -> str:
        return f"{_address(ip, 12)} > {_address(ip, 16)}"

    def _tcp(self, ip: bytes, tcp: bytes, first: bool, length: int, ip_len: int,
             hlen: int) -> str:
        if len(tcp) < 4 or not first:
            return self._pair(ip) + (": truncated-tcp" if first else ": tcp")
        sport, dport = struct.unpack_from("!HH", tcp)
        head = f"{_address(ip, 12)}.{sport} > {_address(ip, 16)}.{dport}: "
        if len(tcp) < 14:
            return head + "truncated-tcp"
        seq, ack = struct.unpack_from("!II", tcp, 4)
        flags = tcp[13]
        seqlen = ip_len - hlen - (tcp[12] >> 4) * 4
        marks = ""
        if flags & 0x02:
            marks, seqlen = marks + "S", seqlen + 1
        if flags & 0x01:
            marks, seqlen = marks + "F", seqlen + 1
        if flags & 0x04:
            marks += "R"
        if flags & 0x08:
            marks += "P"
        text = head + (marks or ".") + f" {seq}:{(seq + seqlen) & 0xFFFFFFFF}" \
            f"({seqlen},{length},{ip_len})"
        if flags & 0x10:
            text += f" ack {ack}"
        if len(tcp) < 16:
            return text + "truncated-tcp"
        return text + f" win {struct.unpack_from('!H', tcp, 14)[0]}"

    def _udp(self, ip: bytes, udp: bytes, first: bool) -> str:
        if len(udp) < 4 or not first:
            return self._pair(ip) + (": truncated-udp" if first else ": udp")
        sport, dport = struct.unpack_from("!HH", udp)
        head = f"{_address(ip, 12)}.{sport} > {_address(ip, 16)}.{dport}: "
        if len(udp) < 8:
            return head + "truncated-udp"
        return head + f"udp {struct.unpack_from('!H', udp, 4)[0]}"

    def _icmp(self, ip: bytes, icmp: bytes, first: bool) -> str:
        head = self._pair(ip) + ": "
        if not first:
            return head + "icmp"
        if len(icmp) < 2:
            return head + "truncated-icmp"
        kind, code = icmp[0], icmp[1]
        if kind in (0, 8):
            if len(icmp) < 8:
                return head + f"icmp {ICMP_TYPE_NAMES[kind]} truncated-icmp"
            ident, seq = struct.unpack_from("!HH" if self.swap else "<HH", icmp, 4)
            return head + f"icmp {ICMP_TYPE_NAMES[kind]} ({ident}, {seq})"
        if kind == 3:
            reason = ICMP_CODE_NAMES[3].get(code, f"code {code}")
            inner = icmp[8:]
            if len(inner) < 20:
                return head + f"icmp unreachable {reason} truncated-icmp"
            text = head + f"icmp {_address(inner, 16)} unreachable {reason}"
            inner_proto = inner[9]
            if code == 2:
                text += f" {PROTOCOL_NAMES.get(inner_proto, f'protocol {inner_proto}')}"
            elif code == 3:
                text += f" {PROTOCOL_NAMES.get(inner_proto, f'protocol {inner_proto}')}"
                ports = inner[(inner[0] & 15) * 4:]
                if len(ports) < 4:
                    return text + "truncated-icmp"
                text += f"/{struct.unpack_from('!H', ports, 2)[0]}"
            elif code == 4 and len(icmp) >= 8 and struct.unpack_from("!H", icmp, 6)[0]:
                text += f" (mtu {struct.unpack_from('!H', icmp, 6)[0]})"
            return text
        text = head + "icmp " + ICMP_TYPE_NAMES.get(kind, f"type {kind}")
        name = ICMP_CODE_NAMES.get(kind, {}).get(code)
        if name is not None:
            return f"{text} {name}"
        return text + (f" code {code}" if code else "")

    def _contents(self, data: bytes, transport: bytes, proto: int, first: bool) -> str:
        shown = data
        if self.payload_only:
            skip = 0
            if first and proto == 6 and len(transport) >= 13:
                skip = (transport[12] >> 4) * 4
            elif first and proto == 17:
                skip = 8
            shown = transport[skip:]
        if self.maxlength >= 0:
            shown = shown[:self.maxlength]
        return _lines(shown.hex() if self.contents == "HEX" else printable(shown))


def _PAYLOAD(text: str, args: Args) -> str:
    """HEX or ASCII (any case), or a boolean (true is HEX; false, none), as Click reads PAYLOAD."""
    word = text.strip().upper()
    if word in ("TRUE", "YES"):
        return "HEX"
    if word in ("FALSE", "NO"):
        return "NONE"
    return Choice("HEX", "ASCII")(word, args)
