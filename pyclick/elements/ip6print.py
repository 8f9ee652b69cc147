"""IP6Print: one line per IPv6 packet, and its bytes if asked."""

from __future__ import annotations

import struct
import sys

from pyclick.args import BOOL, UNSIGNED, WORD, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.elements.inet import ip_header_offset, unparse_ip6
from pyclick.elements.ip6 import IP6_HEADER_LENGTH
from pyclick.packet import Packet


def hex_dump(data: bytes) -> str:
    """Two hex digits a byte, a space after every 4 bytes, and a new line
    indented by two spaces after every 24 (Click's layout)."""
    parts = []
    for i, byte in enumerate(data):
        parts.append(f"{byte:02x}")
        if i % 24 == 23:
            parts.append("\n  ")
        elif i % 4 == 3:
            parts.append(" ")
    return "".join(parts)


class IP6Print(Element):
    """IP6Print(LABEL, KEYWORDS) -- pretty-prints IPv6 packets

    Description
    Prints one line to standard error for each IPv6 packet, then passes the
    packet on unchanged:

      LABEL: SRC -> DST plen PAYLOADLENGTH, next NEXTHEADER, hlim HOPLIMIT

    The header is found through the network header annotation (at the
    start of the packet when no element set it); packets too short for an
    IPv6 header print 'truncated-ip6'. With CONTENTS, a second line, indented by two
    spaces, holds the first NBYTES bytes of the packet in hex, in groups of
    4 bytes, 24 bytes a line.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    LABEL -- a word printed first, followed by a colon (quote text holding
    spaces); default none
    NBYTES -- how many bytes CONTENTS prints, 0 to 65535; default 1500
    CONTENTS -- print the packet's bytes in hex; default false

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> IP6Print(v6, NBYTES 64, CONTENTS true) -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.label = args.read_p("LABEL", WORD, "")
        self.nbytes = args.read("NBYTES", UNSIGNED.range(0, 65535), 1500)
        self.contents = args.read("CONTENTS", BOOL, False)
        args.complete()

    def line(self, packet: Packet) -> str:
        """What IP6Print prints for ``packet`` (without the final new line)."""
        text = f"{self.label}: " if self.label else ""
        at = ip_header_offset(packet)
        ip = packet.data[at:at + IP6_HEADER_LENGTH] if at >= 0 else b""
        if len(ip) < IP6_HEADER_LENGTH:
            text += "truncated-ip6"
        else:
            (payload,) = struct.unpack_from("!H", ip, 4)
            text += (f"{unparse_ip6(ip[8:24])} -> {unparse_ip6(ip[24:40])} plen {payload}, "
                     f"next {ip[6]}, hlim {ip[7]}")
        if self.contents:
            text += "\n  " + hex_dump(packet.data[:self.nbytes])
        return text

    def simple_action(self, packet: Packet) -> Packet:
        return self.simple_action_batch([packet])[0]

    def simple_action_batch(self, batch: list[Packet]) -> list[Packet]:
        sys.stderr.write("".join(self.line(packet) + "\n" for packet in batch))
        sys.stderr.flush()
        return batch
