"""AggregateIP: the aggregate annotation from a field of the IP packet."""

from __future__ import annotations

from pyclick.args import ANY, BOOL, Args
from pyclick.element import PROCESSING_A_AH, Element, read_handler
from pyclick.elements.ipfield import PAYLOAD, TCP_OR_UDP, TRANSP, IPField, parse_ip_field, \
    protocol_name, unparse_ip_field
from pyclick.packet import ANNOTATIONS, Packet

_AGGREGATE = ANNOTATIONS["AGGREGATE"][0]
_TCP, _UDP = 6, 17
#: What a FIELD that could not be read stands for until the error is reported.
_PLACEHOLDER = IPField.of(0, 0, 8)


class AggregateIP(Element):
    """AggregateIP(FIELD, KEYWORDS) -- sets aggregate annotation based on IP packet field

    Description
    Sets each packet's aggregate annotation (a 32-bit number) to the value
    of a field of its IP header, transport header or payload. The network
    header annotation must be set (CheckIPHeader, MarkIPHeader).

    FIELD is written as in Click: a header, then a field name or a range,
    then optionally a prefix length or a mask. Headers: 'ip', 'tcp', 'udp',
    'icmp', 'tcpudp' (TCP or UDP), 'transp' (any transport header),
    'payload' (after the TCP or UDP header), another protocol by name, or
    'ip proto N'. Names: ip vers, hl, tos, dscp, ecn, len, id, off, rf,
    df, mf, fragoff, ttl, proto, sum, src, dst, sport, dport; tcp sport,
    dport, seq (seqno), ackno, hl, flags, fin, syn, rst, psh (push), ack
    (the ACK flag), urg, win, sum, urp; udp sport, dport, len, sum; icmp
    type, code, sum. Ranges, after a name or a header: [OFFSET],
    [OFFSET:LENGTH], [OFFSET1-OFFSET2] in bytes, {OFFSET}, {OFFSET:LENGTH},
    {OFFSET1-OFFSET2} in bits. Then '/N' keeps the N leading bits, '& MASK'
    the bits of MASK, one run of ones. The field must lie within one
    aligned 32-bit word of its header: 'ip src/8', 'ip[12]', 'ip{96-103}'
    all name the first byte of the source address. The value is a number
    in host order: the field's bits, shifted down.

    A packet that lacks the field (too short, a later fragment, another
    protocol) leaves by output 1 when it is connected and is dropped
    otherwise. As in Click, the whole 32-bit word holding the field must
    be in the packet.

    Ports
    one agnostic input; agnostic output 0, optional push output 1 (packets without the field)

    Keyword arguments
    FIELD -- the field; mandatory
    INCREMENTAL -- shift the annotation left by the field's width and add the field (a field narrower than 32 bits); default false
    UNSHIFT_IP_ADDR -- for a field within the IP source or destination address, keep the masked address bits in place rather than shift them down; default false

    Element handlers
    header (read) -- the header's protocol name ('' for ip)
    bit_offset (read) -- the field's offset into its header, in bits
    bit_length (read) -- the field's width in bits
    field (read) -- the field as Click writes it

    Example
    FromDump(trace.pcap, STOP true) -> CheckIPHeader(14) -> AggregateIP(ip src/24)
        -> c :: AggregateCounter -> Discard;
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        text = args.read_mp("FIELD", ANY)
        self.incremental = args.read("INCREMENTAL", BOOL, False)
        self.unshift_ip_addr = args.read("UNSHIFT_IP_ADDR", BOOL, False)
        self.field = _PLACEHOLDER if text is None else _field(text, self.incremental, args)
        args.complete()
        self._setup()

    def _setup(self) -> None:
        field = self.field
        width, right = field.bit_length, field.bit_offset + field.bit_length - 1
        self._mask = (1 << width) - 1
        self._word_offset = field.bit_offset // 32 * 4
        self._shift = 31 - right % 32
        if self.unshift_ip_addr and field.proto == 0 and 96 <= field.bit_offset < 160:
            self._mask <<= self._shift
            self._shift = 0

    def simple_action(self, packet: Packet) -> Packet | None:
        value = self._value(packet)
        if value is None:
            self.output_push(1, [packet])
            return None
        if self.incremental:
            value += packet.anno_u32(_AGGREGATE) << self.field.bit_length
        packet.set_anno_u32(_AGGREGATE, value)
        return packet

    def _value(self, packet: Packet) -> int | None:
        """The field's value in ``packet``, or None when the packet lacks it."""
        nh = packet.network_header_offset
        if nh is None:
            return None
        offset = self._header_offset(packet, nh)
        if offset is None:
            return None
        offset += self._word_offset
        start = packet.data_offset + offset
        if offset + 4 > len(packet) or start < 0:
            return None
        word = int.from_bytes(packet.buffer[start:start + 4], "big")
        return (word >> self._shift) & self._mask

    def _header_offset(self, packet: Packet, nh: int) -> int | None:
        """Where the field's header starts in ``packet``; None when it has none."""
        proto = self.field.proto
        if proto == 0:
            return nh
        th = packet.transport_header_offset
        if th is None or nh < 0 or nh + 10 > len(packet):
            return None
        ip = packet.buffer[packet.data_offset + nh:packet.data_offset + nh + 10]
        if int.from_bytes(ip[6:8], "big") & 0x1FFF:
            return None
        ip_p = ip[9]
        if proto == TRANSP or proto == ip_p or (proto == TCP_OR_UDP and ip_p in (_TCP, _UDP)):
            return th
        if proto != PAYLOAD:
            return None
        if ip_p == _UDP:
            return th + 8
        if ip_p == _TCP and th + 20 <= len(packet):
            return th + (packet.byte(th + 12) >> 4) * 4
        return None

    @read_handler("header")
    def _read_header(self) -> str:
        return protocol_name(self.field.proto)

    @read_handler("bit_offset")
    def _read_bit_offset(self) -> str:
        return str(self.field.bit_offset)

    @read_handler("bit_length")
    def _read_bit_length(self) -> str:
        return str(self.field.bit_length)

    @read_handler("field")
    def _read_field(self) -> str:
        return unparse_ip_field(self.field)


def _field(text: str, incremental: bool, args: Args) -> IPField:
    """FIELD, checked as AggregateIP needs it (errors recorded in ``args``)."""
    try:
        field, end = parse_ip_field(text)
    except ValueError as err:
        args.error(f"FIELD: {err}")
        return _PLACEHOLDER
    if end != len(text):
        args.error("FIELD: garbage after field specification")
    elif field.bit_offset // 32 != (field.bit_offset + field.bit_length - 1) // 32:
        args.error("FIELD: field specification does not fit within a single word")
    elif field.bit_length == 32 and incremental:
        args.error("INCREMENTAL: incompatible with a field of 32 bits")
    return field
