"""TCPIPSend: TCP/IP packets made on request, through a write handler."""

from __future__ import annotations

import struct

from pyclick.args import BOOL, UNSIGNED, Args
from pyclick.element import PUSH, Element, write_handler
from pyclick.elements.inet import IPADDR, ipv4_header, transport_checksum
from pyclick.elements.ipproto import TCP
from pyclick.elements.portnames import TCP_PORT
from pyclick.errors import ConfigError
from pyclick.lang.configstr import split_words
from pyclick.packet import Packet

#: The IP header's TTL, fragment field (don't fragment) and the TCP window (Click's).
TTL, DONT_FRAGMENT, WINDOW = 255, 0x4000, 32120
U32 = UNSIGNED.range(0, 2**32 - 1)
_TCP_HEADER = struct.Struct("!HHIIBBHHH")


def ADDRESS(text: str, args: Args | None) -> bytes:
    """An IP address; a plain number is laid out as Click lays it out, in the
    byte order of the little-endian machines it runs on."""
    word = text.strip()
    if word.isdigit():
        return U32(word, args).to_bytes(4, "little")
    return IPADDR(word, args)


def tcp_packet(src: bytes, sport: int, dst: bytes, dport: int, seq: int, ack: int,
               flags: int) -> Packet:
    """A 40-byte TCP/IP packet without payload, both checksums set."""
    tcp = bytearray(_TCP_HEADER.pack(sport, dport, seq, ack, 0x50, flags, WINDOW, 0, 0))
    struct.pack_into("!H", tcp, 16, transport_checksum(src, dst, TCP, tcp))
    ip = ipv4_header(40, 0, TTL, TCP, src, dst, fragment=DONT_FRAGMENT)
    packet = Packet.make(ip + bytes(tcp))
    packet.set_network_header(0, 20)
    return packet


class TCPIPSend(Element):
    """TCPIPSend() -- sends TCP/IP packets when asked to

    Description
    Makes TCP/IP packets when its send handler is written, and pushes them
    out of its output. The value written is "SRC SPORT DST DPORT SEQNO
    ACKNO FLAGS [COUNT [STOP]]", words separated by spaces: the packet
    goes from SRC port SPORT to DST port DPORT with sequence number SEQNO,
    acknowledgment number ACKNO and the TCP flags byte FLAGS (FIN 1, SYN 2,
    RST 4, PSH 8, ACK 16, URG 32). COUNT copies are sent (default 1; 0
    sends none), and a true STOP then asks the driver to stop. SPORT and
    DPORT are 0 to 65535 or port names (PortInfo, www...), SEQNO and ACKNO
    0 to 2^32-1, FLAGS 0 to 255, COUNT at most 2^32-1.

    The packets are 40 bytes, a 20-byte IP header (TOS 0, ID 0, don't
    fragment, TTL 255) and a 20-byte TCP header (window 32120, no options,
    no payload), both checksums set. Their IP header annotation is set.
    SRC and DST are IP addresses; a plain number is read as Click reads it
    (Click takes only numbers), its bytes in little-endian order: 16777217
    is 1.0.0.1 and 1 is 1.0.0.0.

    Ports
    no inputs, one push output

    Element handlers
    send (write) -- "SRC SPORT DST DPORT SEQNO ACKNO FLAGS [COUNT [STOP]]": sends COUNT packets

    Example
    t :: TCPIPSend -> c :: Counter -> Discard;
    Script(write t.send 1.0.0.1 1234 2.0.0.2 80 1 0 2 3, print c.count);
    """

    port_count = "0/1"
    processing = PUSH

    def configure(self, args: Args) -> None:
        args.complete()

    @write_handler("send")
    def _write_send(self, value: str) -> None:
        args = Args(", ".join(split_words(value)))
        # Port names are looked up from this element (its PortInfo), while
        # errors name only the argument: the handler error names the element.
        scope = Args("", self)

        def port(text: str, _: Args | None) -> int:
            return TCP_PORT(text, scope)

        src = args.read_mp("SRC", ADDRESS)
        sport = args.read_mp("SPORT", port)
        dst = args.read_mp("DST", ADDRESS)
        dport = args.read_mp("DPORT", port)
        seq = args.read_mp("SEQNO", U32)
        ack = args.read_mp("ACKNO", U32)
        flags = args.read_mp("FLAGS", UNSIGNED.range(0, 255))
        count = args.read_p("COUNT", U32, 1)
        stop = args.read_p("STOP", BOOL, False)
        try:
            args.complete()
        except ConfigError as err:
            raise ValueError("; ".join(err.messages)) from None
        if count:
            packet = tcp_packet(src, sport, dst, dport, seq, ack, flags)
            for i in range(count):
                self.output_push(0, [packet.clone() if i + 1 < count else packet])
        if stop:
            self.router.please_stop_driver(f"{self.name}: sent")
