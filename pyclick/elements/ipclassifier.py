"""IPClassifier and IPFilter: IP packets to outputs by tcpdump-like patterns."""

from __future__ import annotations

import re

from pyclick.args import Args
from pyclick.classify.ippatterns import AddressNames, parse_ip_pattern
from pyclick.classify.rawpatterns import PatternError
from pyclick.classify.compiled import Classification, compile_patterns
from pyclick.classify.expand import TooComplex
from pyclick.classify.tree import Formula, ip_layout
from pyclick.element import PUSH, Element, read_handler
from pyclick.elements.classifier import push_classified, warn_unreachable
from pyclick.lang.configstr import with_argument
from pyclick.elements.inet import ETHERADDR, IPADDR, IPPREFIX
from pyclick.elements.portnames import find_port
from pyclick.packet import Packet

_ACTION = re.compile(r"\s*(\S+)\s*")


class ArgumentNames:
    """The words of a pattern that are not literal addresses, read as the
    element's address arguments read them: names an AddressInfo defines
    (``me``, ``me:ipnet``, ``me:eth``...) and network devices' names; and
    the names of ports a PortInfo defines."""

    def __init__(self, args: Args) -> None:
        self.args = args

    def ip(self, word: str) -> int | None:
        try:
            return int.from_bytes(IPADDR(word, self.args), "big")
        except ValueError:
            return None

    def prefix(self, word: str) -> tuple[int, int] | None:
        try:
            address, length = IPPREFIX(word, self.args)
        except ValueError:
            return None
        return int.from_bytes(address, "big"), (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF

    def ether(self, word: str) -> bytes | None:
        try:
            return ETHERADDR(word, self.args)
        except ValueError:
            return None

    def port(self, word: str, proto: int) -> int | None:
        return find_port(word, proto, self.args.element)


class IPClassifier(Element):
    """IPClassifier(PATTERN_1, ..., PATTERN_N) -- classifies IP packets by contents

    Description
    Classifies IP packets by tcpdump-like patterns: IPClassifier has N
    outputs, output i for PATTERN_i. Each packet goes out of the output of
    the first pattern it matches, and is dropped when it matches none.
    The IP header is where the network header annotation says
    (CheckIPHeader and MarkIPHeader set it), or at the start of the packet
    when no element set it; the transport header follows it. As in Click,
    a primitive whose bytes are not all in the packet is false, whatever
    its operator (src port != 53 too), and not makes it true.

    Patterns are built from primitives:

      ip proto PROTO -- the IP protocol, a name (icmp, igmp, ipip, tcp, udp) or number
      [SRCDST] host ADDR -- SRCDST is src, dst, src or dst (the default), src and dst
      [SRCDST] net NET -- NET as 10.0.0.0/8 or 10.0.0.0 mask 255.0.0.0
      [SRCDST] [tcp | udp] port PORT -- a number or a name (www, ssh, domain...)
      ip vers V, ip hl HL, ip id ID, ip tos TOS, ip dscp DSCP, ip ttl TTL, ip len LEN
      ip ect, ip ce -- ECN capable transport, congestion experienced
      ip frag, ip unfrag -- fragments (more-fragments bit or an offset), and the others
      tcp opt FLAG -- the TCP flag is set: syn, fin, ack, rst, psh, urg
      tcp win WIN -- the TCP window (unscaled)
      icmp type TYPE -- a number or a name (echo, echo-reply, unreachable...)
      ip[POS:LEN] VALUE -- LEN bytes (1 to 4, default 1) of the IP header at POS
      transp[POS:LEN] VALUE -- the same in the transport header (tcp[..], udp[..], icmp[..] for one protocol)
      [SRCDST] ether host ETH -- the MAC header (its annotation must be set)
      true, false

    and combined with and (&&), or (||), not (!), parentheses and
    COND ? A : B (the colon between spaces). Primitives side by side are
    joined by and. Numbers accept an operator before the value: == (or =),
    !=, <, >, <=, >=; most primitives a mask: 'DIRECTIVE & MASK [OP VALUE]'
    (without a value, the masked field must be nonzero). Much can be left
    out: 'tcp' is 'ip proto tcp', 'www' is 'port www', 'syn' is 'tcp opt
    syn', '10.0.0.0/24' is 'net 10.0.0.0/24', and a bare number repeats
    the primitive before it ('src port 80 or 81'). A pattern '-', 'any' or
    'all' matches every packet.

    Addresses may be names, read as address arguments are: names an
    AddressInfo defines (wherever it is declared) and network devices'
    names. A name alone is its IPv4 address ('dst me'); after 'net', its
    prefix when it has one ('src net me', or 'src me:ipnet'); after
    'ether host', its Ethernet address. A word that is no keyword,
    literal or name is an error. A port, TCP flag or ICMP type name is
    read in the tables the words before it allow: 'icmp echo' is 'icmp
    type echo' and 'tcp echo' the port, while 'echo' alone is ambiguous.
    A port name may also be one a PortInfo defines, for TCP, UDP or both
    ('tcp port myport').

    Ports, ICMP types, TCP flags and windows and transport fields hold
    only on first fragments of their protocol's packets, and their != and
    ordering operators keep that condition: 'src tcp port != 5' matches
    TCP packets whose source port is not 5, while 'not src tcp port 5'
    matches non-TCP packets too. A test on bytes past the end of a packet
    does not hold.

    The patterns are compiled once into a decision tree, so a packet costs
    one walk down the tree; a list of hosts, networks of one size or ports
    is one step of it, a lookup of the packet's value. A list of 32
    patterns or more (each alternative of a 'host' or 'port' counted) is
    indexed as Classifier indexes it: by the field each
    pattern names values of (networks, hosts, ports), a lookup per field,
    the earliest pattern found deciding; a pattern of alternatives on
    different fields ('host', 'port') is looked up with each. Patterns of
    ranges ('dst tcp port >= 6000 and dst tcp port <= 6063') are placed by
    the field's value among the ranges' bounds, a binary search, and
    patterns of ranges of several fields by bit vectors, the patterns whose
    ranges hold the packet's values found by and-ing a mask per field. An
    answer about a comparison settles the comparisons it implies ('ip ttl >
    100' false makes 'ip ttl > 200' false). A warning names each output no
    packet can reach (in an indexed list, as far as each lookup's patterns
    show). Mistakes are reported with the pattern's number (from 0) and
    the position (from 1) in it.

    Ports
    one push input; as many push outputs as patterns

    Element handlers
    program (read) -- the decision tree, one decision per line: a test, a lookup of a value, a placement among ranges (<=BOUND->... up to each bound, >LAST->... above the last, absent->... without the bytes), or a placement by bit vectors (bits of FIELDS, then each pattern's check in order, with the fields present and with some missing) ([N] is output N, [X] a drop); of an indexed list, each part's tree after 'part K, from pattern P' (#P[N] is pattern P, of output N; none, no pattern of the part)
    patternN (read/write) -- pattern N, one handler per output; writing recompiles the tree and sets the argument in config

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader -> c :: IPClassifier(udp, tcp, -);
    c[0] -> u :: Counter -> Discard; c[1] -> t :: Counter -> Discard; c[2] -> o :: Counter -> Discard;
    // TCP packets to port 8000 or 8080 to output 0, other TCP packets to
    // user ports to output 1, the other TCP packets to output 2; non-TCP
    // packets are dropped.
    Idle -> w :: IPClassifier(dst tcp port 8000 or 8080, dst tcp port > 1023, tcp);
    w[0] -> Discard; w[1] -> Discard; w[2] -> Discard;
    """

    can_live_reconfigure = True
    port_count = "1/-"
    processing = PUSH

    def configure(self, args: Args) -> None:
        # Arguments are read whole, as Click reads them: a capitalized name
        # (MY_ADDR 10.0.0.1) is not a keyword.
        self.patterns = args.accept_rest()
        if len(self.patterns) != self.noutputs:
            args.error(f"need {self.noutputs} arguments, one per output port")
        rules = [(index, index, text, 0) for index, text in enumerate(self.patterns)]
        self.names = ArgumentNames(args)
        self.classification = _compiled(args, rules, self.names)
        args.complete()

    def initialize(self) -> None:
        warn_unreachable(self, self.classification, set(range(self.noutputs)))

    def add_handlers(self) -> None:
        for index in range(self.noutputs):
            self.router.handlers.add_read(self, f"pattern{index}", self._pattern_reader(index))
            self.router.handlers.add_write(self, f"pattern{index}", self._pattern_writer(index))

    def push(self, port: int, batch: list[Packet]) -> None:
        push_classified(self, self.classification, batch)

    @read_handler("program")
    def _read_program(self) -> str:
        return self.classification.program()

    def _pattern_reader(self, index: int):
        return lambda: self.patterns[index]

    def _pattern_writer(self, index: int):
        def write(value: str) -> None:
            patterns = list(self.patterns)
            patterns[index] = value.strip()
            formulas = []
            for output, text in enumerate(patterns):
                try:
                    formulas.append((output, parse_ip_pattern(text, self.names)))
                except PatternError as err:
                    raise ValueError(f"pattern {output}: {err}") from None
            try:
                classification = compile_patterns(formulas, ip_layout)
            except TooComplex as err:
                raise ValueError(str(err)) from None
            self.patterns, self.classification = patterns, classification
            # As Click's: the configuration reads with the new pattern.
            self.config = with_argument(self.config, value.strip(), index, None)
        return write


class IPFilter(Element):
    """IPFilter(ACTION_1 PATTERN_1, ..., ACTION_N PATTERN_N) -- filters IP packets by contents

    Description
    Filters IP packets by rules, each an ACTION followed by a PATTERN in
    IPClassifier's language. Packets are tested against the rules in
    order; the first rule whose pattern matches says what to do. An ACTION
    is an output number, 'allow' (output 0), or 'deny' or 'drop' (drop the
    packet). Packets no rule matches are dropped. IPFilter has any number
    of outputs; an action may not name an output that does not exist.

    The input packets' IP header is found as IPClassifier finds it
    (CheckIPHeader and MarkIPHeader set its annotation). Every IPFilter has
    an equivalent IPClassifier, and the reverse: use the more convenient.
    Mistakes are reported with the rule's number (from 0) and the
    position (from 1) in it. An access list of thousands of rules is
    indexed (see IPClassifier): a packet costs a lookup per field the
    rules name, not a test per rule.

    Ports
    one push input, any number of push outputs

    Element handlers
    program (read) -- the decision tree, one decision per line: a test, a lookup of a value, a placement among ranges (<=BOUND->... up to each bound, >LAST->... above the last, absent->... without the bytes), or a placement by bit vectors (bits of FIELDS, then each pattern's check in order, with the fields present and with some missing) ([N] is output N, [X] a drop); of an indexed list, each part's tree after 'part K, from pattern P' (#P[N] is pattern P, of output N; none, no pattern of the part)

    Example
    FromDump(trace.pcap, STOP true) -> Strip(14) -> CheckIPHeader
        -> IPFilter(deny src net 10.0.0.0/8,
                    allow tcp dst port www && syn,
                    allow udp dst port dns,
                    deny all)
        -> c :: Counter -> Discard;
    """

    can_live_reconfigure = True
    port_count = "1/-"
    processing = PUSH

    def configure(self, args: Args) -> None:
        rules = []
        # Arguments are read whole, as Click reads them: a capitalized name
        # (MY_ADDR 10.0.0.1) is not a keyword.
        for index, text in enumerate(args.accept_rest()):
            m = _ACTION.match(text)
            word = m.group(1) if m else ""
            if word == "allow":
                output = 0
            elif word in ("deny", "drop"):
                output = -1
            elif word.isdigit():
                output = int(word)
            else:
                args.error(f"pattern {index}: position 1: expected an action "
                           f"(allow, deny, drop or an output number), got '{word}'")
                continue
            if output >= self.noutputs:
                args.error(f"pattern {index}: position 1: output {output} out of range "
                           f"(the element has {self.noutputs} outputs)")
                continue
            assert m is not None
            rules.append((index, output, text[m.end():], m.end()))
        self.classification = _compiled(args, rules, ArgumentNames(args))
        args.complete()
        #: The outputs some rule sends packets to.
        self.targets = {output for _, output, _, _ in rules if output >= 0}

    def initialize(self) -> None:
        warn_unreachable(self, self.classification, self.targets)

    def push(self, port: int, batch: list[Packet]) -> None:
        push_classified(self, self.classification, batch)

    @read_handler("program")
    def _read_program(self) -> str:
        return self.classification.program()


def _compiled(args: Args, rules: list[tuple[int, int, str, int]],
              names: AddressNames) -> Classification | None:
    """The classification of ``rules`` (index, output, pattern text, where the
    pattern starts in its argument), address names read by ``names``; errors
    go to ``args``."""
    formulas: list[tuple[int, Formula]] = []
    for index, output, text, start in rules:
        try:
            formulas.append((output, parse_ip_pattern(text, names)))
        except PatternError as err:
            args.error(f"pattern {index}: position {err.position + start}: {err.message}")
    if len(formulas) < len(rules):
        return None
    try:
        return compile_patterns(formulas, ip_layout)
    except TooComplex as err:
        args.error(str(err))
        return None
