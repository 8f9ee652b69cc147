"""Print: one line per packet, for watching traffic go by."""

from __future__ import annotations

import sys

from pyclick.args import BOOL, INT, WORD, Args, Choice
from pyclick.element import AGNOSTIC
from pyclick.elements.switchable import Switchable
from pyclick.packet import ANNO_SIZE, Packet


def groups(text: str, size: int = 8) -> list[str]:
    """``text`` cut every ``size`` characters."""
    return [text[i:i + size] for i in range(0, len(text), size)]


def printable(data: bytes) -> str:
    """Printable ASCII as it is, a dot for any other byte."""
    return "".join(chr(b) if 32 <= b < 127 else "." for b in data)


def hex_groups(data: bytes) -> str:
    """Hex digits in groups of four bytes: ``00010203 0405``."""
    return " ".join(groups(data.hex()))


def ascii_groups(data: bytes) -> str:
    """Printable ASCII, dots elsewhere, each group of eight bytes after a space."""
    return "".join(" " + group for group in groups(printable(data)))


class Print(Switchable):
    """Print(LABEL, MAXLENGTH, KEYWORDS) -- prints packet contents

    Description
    Writes one line to standard error for every packet that passes, push
    or pull, then forwards the packet unchanged. The line holds LABEL, the
    packet length and up to MAXLENGTH bytes of the packet, in hexadecimal
    groups of four bytes:

        x:   64 | 00112233 44556677 ...

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    LABEL -- a word printed first, followed by a colon (quote text holding
    spaces); default none
    MAXLENGTH, LENGTH, NBYTES -- bytes of content shown, 0 to 2^20, or -1 for the whole packet; default 24
    CONTENTS -- HEX, ASCII or NONE; default HEX
    TIMESTAMP -- also print each packet's timestamp (seconds); default false
    PRINTANNO -- also print the packet's annotation area in hexadecimal; default false
    HEADROOM -- also print the packet's headroom and tailroom, as (h16 t0); default false
    ACTIVE -- print only while true; default true

    Element handlers
    active (read/write) -- the ACTIVE setting
    count (read) -- packets printed

    Example
    InfiniteSource(LIMIT 3) -> Print(ok, 8) -> Discard;
    """

    can_live_reconfigure = True
    live_state = ("count",)
    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.label = args.read_p("LABEL", WORD, "")
        length = INT.range(-1, 2**20)
        self.maxlength = args.read_p("MAXLENGTH", length, 24)
        # Click's older names for MAXLENGTH, still read there.
        for older in ("LENGTH", "NBYTES"):
            self.maxlength = args.read(older, length, self.maxlength)
        self.contents = args.read("CONTENTS", CONTENTS, "HEX")
        self.timestamp = args.read("TIMESTAMP", BOOL, False)
        self.print_anno = args.read("PRINTANNO", BOOL, False)
        self.headroom = args.read("HEADROOM", BOOL, False)
        self.active = args.read("ACTIVE", BOOL, True)
        args.complete()
        self.count = 0

    def simple_action_batch(self, batch: list[Packet]) -> list[Packet]:
        if self.active and batch:
            sys.stderr.write("".join(self.format(p) + "\n" for p in batch))
            sys.stderr.flush()
            self.count += len(batch)
        return batch

    def format(self, packet: Packet) -> str:
        """The line printed for ``packet``."""
        parts = [self.label] if self.label else []
        if self.timestamp:
            parts.append(f"{self.router.to_epoch(packet.timestamp):.6f}")
        line = ": ".join(parts + [f"{len(packet):4d}"])
        if self.headroom:
            line += f" (h{packet.headroom} t{packet.tailroom})"
        if self.print_anno:
            line += " | " + packet.anno_bytes(0, ANNO_SIZE).hex()
        data = packet.data
        shown = data if self.maxlength < 0 else data[:self.maxlength]
        if shown and self.contents == "HEX":
            line += " | " + hex_groups(shown)
        elif shown and self.contents == "ASCII":
            line += " | " + ascii_groups(shown)
        return line


def CONTENTS(text: str, args: Args) -> str:
    """NONE, HEX or ASCII (any case), or a boolean (true is HEX, as in Click)."""
    word = text.strip().upper()
    if word in ("TRUE", "YES", "1"):
        return "HEX"
    if word in ("FALSE", "NO", "0"):
        return "NONE"
    return Choice("HEX", "ASCII", "NONE")(word, args)
