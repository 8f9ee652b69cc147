"""Print: one line per packet, for watching traffic go by."""

from __future__ import annotations

import sys

from pyclick.args import BOOL, INT, STRING, Args, Choice
from pyclick.elements.switchable import Switchable
from pyclick.packet import Packet


def hex_groups(data: bytes) -> str:
    """Hex digits in groups of four bytes: ``00010203 0405``."""
    text = data.hex()
    return " ".join(text[i:i + 8] for i in range(0, len(text), 8))


def ascii_groups(data: bytes) -> str:
    """Printable ASCII, dots elsewhere, in groups of eight bytes."""
    shown = "".join(chr(b) if 32 <= b < 127 else "." for b in data)
    return " ".join(shown[i:i + 8] for i in range(0, len(shown), 8))


class Print(Switchable):
    """Print(LABEL, MAXLENGTH, KEYWORDS) -- prints packet contents

    Description
    Writes one line to standard output for every packet that passes, then
    forwards the packet unchanged. The line holds LABEL, the packet length
    and up to MAXLENGTH bytes of the packet, in hexadecimal groups of four
    bytes:

        x:   64 | 00112233 44556677 ...

    Keyword arguments
    LABEL -- text printed first, followed by a colon; default none
    MAXLENGTH -- bytes of content shown; negative shows the whole packet; default 24
    CONTENTS -- HEX, ASCII or NONE; default HEX
    TIMESTAMP -- also print each packet's timestamp (seconds); default false
    ACTIVE -- print only while true; default true

    Element handlers
    active (read/write) -- the ACTIVE setting
    count (read) -- packets printed

    Example
    InfiniteSource(LIMIT 3) -> Print(ok, 8) -> Discard;
    """

    port_count = "1/1"

    def configure(self, args: Args) -> None:
        self.label = args.read_p("LABEL", STRING, "")
        self.maxlength = args.read_p("MAXLENGTH", INT, 24)
        self.contents = args.read("CONTENTS", Choice("HEX", "ASCII", "NONE"), "HEX")
        self.timestamp = args.read("TIMESTAMP", BOOL, False)
        self.active = args.read("ACTIVE", BOOL, True)
        args.complete()
        self.count = 0

    def push(self, port: int, batch: list[Packet]) -> None:
        if self.active and batch:
            sys.stdout.write("".join(self.format(p) + "\n" for p in batch))
            sys.stdout.flush()
            self.count += len(batch)
        self.output_push(0, batch)

    def format(self, packet: Packet) -> str:
        """The line printed for ``packet``."""
        parts = [self.label] if self.label else []
        if self.timestamp:
            parts.append(f"{packet.timestamp:.6f}")
        line = ": ".join(parts + [f"{len(packet.data):4d}"])
        shown = packet.data if self.maxlength < 0 else packet.data[:self.maxlength]
        if shown and self.contents == "HEX":
            line += " | " + hex_groups(shown)
        elif shown and self.contents == "ASCII":
            line += " | " + ascii_groups(shown)
        return line
