"""FTPPortMapper: lets FTP's PORT command through a rewriter."""

from __future__ import annotations

import re
import struct

from pyclick.args import ELEMENT, UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element
from pyclick.elements.inet import checksum
from pyclick.elements.iprewriter import IPRewriter
from pyclick.elements.rewriterbase import TCP, RewriterBase, ip_header, packet_key
from pyclick.elements.tcprewriter import TCPFlow, TCPRewriter
from pyclick.packet import Packet

#: "PORT h1,h2,h3,h4,p1,p2" then the end of the line, at the start of a segment's data.
_PORT = re.compile(rb"(?i:port) +([0-9]+(?:,[0-9]+){5})[\r\n]")


class FTPPortMapper(Element):
    """FTPPortMapper(CONTROL_REWRITER, DATA_REWRITER, DATA_REWRITER_INPUT) -- rewrites FTP PORT commands for a rewriter

    Description
    Makes active FTP work through a network address translator. It
    expects the segments of FTP control connections, on their way to
    CONTROL_REWRITER (a TCPRewriter or IPRewriter that maps the control
    connection). When a segment's data starts with a complete PORT
    command ('PORT h1,h2,h3,h4,p1,p2' and the end of the line), the
    data connection the server will open, from the control connection's
    destination port minus one to the announced address and port, is
    mapped in DATA_REWRITER as if a packet had come in on its input
    DATA_REWRITER_INPUT (usually a pattern), and the command is rewritten
    to announce the new address and port. The segment's length may change:
    its IP length and checksums are fixed, and the control connection's
    mapping in CONTROL_REWRITER gets the sequence number delta that keeps
    the rest of the stream consistent. The segment's addresses and ports
    are left to CONTROL_REWRITER. Segments without a PORT command, or of
    control connections CONTROL_REWRITER does not map, pass unchanged.

    Ports
    one input, one output (agnostic)

    Keyword arguments
    CONTROL_REWRITER -- the TCPRewriter or IPRewriter the control connection goes through next
    DATA_REWRITER -- the rewriter that maps the data connections
    DATA_REWRITER_INPUT -- the input of DATA_REWRITER whose spec maps them

    Example
    control :: TCPRewriter(pattern 18.26.4.24 1024-65535# - - 0 1, drop);
    data :: IPRewriter(pattern 18.26.4.24 1024-65535# - - 0 1, drop);
    Idle -> FTPPortMapper(control, data, 0) -> [0]control;
    Idle -> [1]control; Idle -> [0]data; Idle -> [1]data;
    control[0] -> Discard; control[1] -> Discard; data[0] -> Discard; data[1] -> Discard;
    """

    can_live_reconfigure = True
    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        control = args.read_mp("CONTROL_REWRITER", ELEMENT)
        data = args.read_mp("DATA_REWRITER", ELEMENT)
        data_input = args.read_mp("DATA_REWRITER_INPUT", UNSIGNED.range(0, 0xFFFF))
        if control is not None and not isinstance(control, (TCPRewriter, IPRewriter)):
            args.error(f"CONTROL_REWRITER: '{control.declaration()}' is not a TCPRewriter "
                       "or IPRewriter")
        if data is not None and not isinstance(data, RewriterBase):
            args.error(f"DATA_REWRITER: '{data.declaration()}' is not a rewriter")
        elif data is not None and data_input is not None and data_input >= data.ninputs:
            args.error("DATA_REWRITER_INPUT out of range")
        args.complete()
        self.control: RewriterBase = control
        self.data: RewriterBase = data
        self.data_input: int = data_input

    def simple_action(self, packet: Packet) -> Packet | None:
        where = ip_header(packet)
        if where is None or where[2] != TCP:
            return packet
        at, t, _ = where
        frame = packet.data
        start = t + (frame[t + 12] >> 4) * 4
        command = _PORT.match(frame, start)
        if command is None or len(frame) < t + 20:
            return packet
        control = self.control.lookup(TCP, packet_key(frame, at, t))
        numbers = [int(n) for n in command.group(1).split(b",")]
        if control is None or max(numbers) > 255:
            return packet
        flow, direction = control
        announced = (bytes(numbers[:4]), numbers[4] << 8 | numbers[5])
        (dport,) = struct.unpack_from("!H", frame, t + 2)
        data_key = (announced[0], announced[1], frame[at + 16:at + 20], (dport - 1) & 0xFFFF)
        mapped = self.data.install(TCP, data_key, self.data_input)
        if mapped is None:
            return packet
        new = mapped[0].new[mapped[1]]
        text = ",".join(str(n) for n in (*new[0], new[1] >> 8, new[1] & 255)).encode()
        old_start, old_end = command.span(1)
        self._replace(packet, at, t, old_start, old_end, text)
        (seq,) = struct.unpack_from("!I", frame, t + 4)
        assert isinstance(flow, TCPFlow)
        flow.update_seqno_delta(direction, (seq + len(frame) - start) & 0xFFFFFFFF,
                                len(text) - (old_end - old_start))
        return packet

    @staticmethod
    def _replace(packet: Packet, at: int, t: int, begin: int, end: int, text: bytes) -> None:
        """Put ``text`` in place of bytes ``begin:end``; fix the IP length and checksums."""
        old = packet.data
        new_frame = old[:begin] + text + old[end:]
        growth = len(new_frame) - len(old)
        if growth > 0:
            packet.put(growth)
        else:
            packet.take(-growth)
        view = packet.writable_data()
        view[:] = new_frame
        struct.pack_into("!H", view, at + 2, len(new_frame) - at)
        struct.pack_into("!H", view, at + 10, 0)
        struct.pack_into("!H", view, at + 10, checksum(view[at:t]))
        # The data moved: the TCP checksum is computed again in full.
        struct.pack_into("!H", view, t + 16, 0)
        pseudo = bytes(view[at + 12:at + 20]) + struct.pack("!BBH", 0, TCP, len(new_frame) - t)
        struct.pack_into("!H", view, t + 16, checksum(pseudo + bytes(view[t:])))
