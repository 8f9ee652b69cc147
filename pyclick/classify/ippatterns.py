"""The pattern language of IPClassifier and IPFilter (tcpdump-like).

Patterns combine primitives with ``and``/``&&``, ``or``/``||``,
``not``/``!``, parentheses and ``c ? a : b`` (the colon between spaces);
primitives written side by side are joined by ``and`` (``fin ack``). A
primitive is ``[SRCDST] [PROTO] [TYPE] [& MASK] [OP] [VALUE]``:

- SRCDST: ``src``, ``dst``, ``src or dst``, ``src and dst``;
- PROTO: ``tcp``, ``udp``, ``icmp``, ``igmp``, ``ipip``, and ``tcpudp`` (TCP
  or UDP, for ports: ``tcpudp port 80``); alone it is ``ip proto PROTO``;
- TYPE: ``host``, ``net``, ``port``, ``proto``, ``opt`` (TCP flags),
  ``win``, ``type`` (ICMP), ``vers``, ``hl``, ``id``, ``tos``, ``dscp``,
  ``ttl``, ``len``, ``frag``, ``unfrag``, ``ect``, ``ce``; ``ip[POS:LEN]``,
  ``transp[POS:LEN]``, ``tcp[..]``, ``udp[..]``, ``icmp[..]`` (LEN 1 to 4
  bytes, 1 when left out); ``ether host`` with an Ethernet address;
- OP: ``==`` (``=``, the default), ``!=``, and for numbers ``<``, ``>``,
  ``<=``, ``>=``;
- VALUE: a number (decimal or 0x hex), an IP address, a network
  (``10.0.0.0/8``, ``10.0.0.0 mask 255.0.0.0``), an Ethernet address, or a
  name: protocol, port (``www``, ``ssh``...), TCP flag (``syn``...), ICMP
  type (``echo``...). A name read in several tables must be told apart by
  what precedes it, as in Click: ``echo`` alone is ambiguous (a port or an
  ICMP type), ``icmp echo`` is ``icmp type echo`` and ``tcp echo`` or
  ``port echo`` a port.

A value may also be a name: the ``names`` given to :func:`parse_ip_pattern`
(:class:`AddressNames`) turn it into an IPv4 address, a prefix or an
Ethernet address, as an element's address arguments do (``dst host me``,
``src net me:ipnet``, ``dst me``); a word that is neither a keyword, a
literal nor a known name is an error at its position. Names that are also
:class:`PortNames` may stand for TCP or UDP ports (a PortInfo's).

A value alone takes its type from its form (an address is a host, a
network a net, ``syn`` a TCP flag, ``www`` a port) and a bare number the
type, direction and protocol of the primitive before it: ``src port 80 or
81``. ``true``, ``false`` and a whole pattern of ``-``, ``any`` or ``all``
are what they say.

Ports, ICMP types, TCP flags and windows and transport fields only hold on
first fragments of the protocol's packets; their ``!=`` keeps that
condition (``src tcp port != 5`` is ``tcp and not src tcp port 5``).

:func:`parse_ip_pattern` turns one pattern into a formula of
:mod:`pyclick.classify.tree`; mistakes raise
:class:`~pyclick.classify.syntax.PatternError` with their position.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Callable, Protocol, runtime_checkable

from pyclick.classify import syntaxcache
from pyclick.classify.syntax import WS, Branch, Grammar, Lexeme, PatternError
from pyclick.classify.tree import MAC, NET, TRANSP, Field, Formula, choose, conj, disj, neg

#: The grammar's WORD, as long as it goes and never given back (possessive), and
#: RELOP, the longest first; a pattern of those and the operators ``&&`` and
#: ``||`` between the grammar's spaces; and each of its tokens.
_WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/-]*+")
_RELOP = re.compile(r"==|!=|<=|>=|=|<|>")
_TOKENS = re.compile(rf"{WS}*+(?:(?:{_WORD.pattern}|{_RELOP.pattern}|&&|\|\|){WS}*+)+")
_TOKEN = re.compile(rf"{_WORD.pattern}|{_RELOP.pattern}|&&|\|\|")
#: Words that may read as an operator where they start: left to lark, but for
#: "and" and "or" alone.
_OPERATOR_STARTS = ("and", "or", "not")
#: The operators a plain pattern may hold, by their texts.
_OPERATORS = {"and": "AND", "&&": "AND", "or": "OR", "||": "OR"}


def _plain(text: str) -> Branch | None:
    """The syntax lark gives a pattern of runs of words and comparisons (primitives,
    ``ip ttl < 10``) joined by "and" and "or" (``&&``, ``||``), "and" first, each left
    to right; None for any other text (lark reads it): parentheses, "not", words
    that start like an operator, or "src" before an operator (as in "src or dst")."""
    if _TOKENS.fullmatch(text) is None:
        return None
    # The runs of words, and the operators between them.
    runs: list[list[Lexeme]] = [[]]
    operators: list[Lexeme] = []
    for token in _TOKEN.finditer(text):
        word = token.group()
        kind = _OPERATORS.get(word)
        if kind is not None:
            # "src and dst" and the like are one token of lark's, not an operator.
            if not runs[-1] or runs[-1][-1].text == "src":
                return None
            operators.append(Lexeme(kind, word, token.start()))
            runs.append([])
        elif word.startswith(_OPERATOR_STARTS):
            return None
        else:
            kind = "RELOP" if _RELOP.fullmatch(word) else "WORD"
            runs[-1].append(Lexeme(kind, word, token.start()))
    if not runs[-1]:
        return None
    # "and" binds first: the terms between "or"s, each folded left to right.
    terms = [Branch("run", tuple(runs[0]))]
    alternatives: list[Lexeme] = []
    for operator, run in zip(operators, runs[1:]):
        term = Branch("run", tuple(run))
        if operator.type == "AND":
            terms[-1] = Branch("and_", (terms[-1], operator, term))
        else:
            alternatives.append(operator)
            terms.append(term)
    syntax = terms[0]
    for operator, term in zip(alternatives, terms[1:]):
        syntax = Branch("or_", (syntax, operator, term))
    return syntax


GRAMMAR = Grammar(r"""
?start: expr
?expr: orexpr | orexpr QMARK expr COLON expr -> ternary
?orexpr: andexpr | orexpr OR andexpr -> or_
?andexpr: unary | andexpr AND unary -> and_ | andexpr unary -> and_
?unary: NOT unary -> not_ | LPAR expr RPAR -> group | run
run: item+
?item: WORD | FIELD | RELOP | AMP | SRCDST
LPAR: "("
RPAR: ")"
QMARK: "?"
COLON: ":"
AND.2: /(and\b|&&)/
OR.2: /(or\b|\|\|)/
NOT.2: /(not\b|!(?!=))/
SRCDST.4: /src\s+(and|&&|or|\|\|)\s+(dst|dest)\b/
FIELD.3: /(ip|transp|tcp|udp|icmp)\s*\[\s*\d+\s*(:\s*\d+\s*)?\]/
RELOP.3: /==|!=|<=|>=|=|<|>/
AMP: /&(?!&)/
WORD: /[A-Za-z0-9_][A-Za-z0-9_.:\/-]*/
%import common.WS
%ignore WS
""", {"WORD": "a word", "FIELD": "a header field", "RELOP": "an operator",
      "AMP": "'&'", "SRCDST": "'src or dst'", "LPAR": "'('", "RPAR": "')'",
      "QMARK": "'?'", "COLON": "':'", "AND": "'and'", "OR": "'or'", "NOT": "'not'",
      "$END": "end of pattern"}, _plain)

PROTOCOLS = {"icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "udp": 17}
PORTS = {"echo": 7, "discard": 9, "daytime": 13, "chargen": 19, "ftp-data": 20, "ftp": 21,
         "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "dns": 53, "bootps": 67,
         "bootpc": 68, "tftp": 69, "finger": 79, "www": 80, "http": 80, "pop3": 110,
         "sunrpc": 111, "auth": 113, "nntp": 119, "ntp": 123, "netbios-ns": 137,
         "netbios-dgm": 138, "netbios-ssn": 139, "snmp": 161, "snmp-trap": 162, "irc": 194,
         "imap3": 220, "https": 443, "rip": 520, "route": 520, "imaps": 993, "pop3s": 995}
TCP_FLAGS = {"fin": 0x01, "syn": 0x02, "rst": 0x04, "psh": 0x08, "ack": 0x10, "urg": 0x20}
ICMP_TYPES = {"echo-reply": 0, "unreachable": 3, "sourcequench": 4, "redirect": 5, "echo": 8,
              "routeradvert": 9, "routersolicit": 10, "timeexceeded": 11,
              "parameterproblem": 12, "timestamp": 13, "timestamp-reply": 14, "inforeq": 15,
              "inforeq-reply": 16, "maskreq": 17, "maskreq-reply": 18}
#: ICMP codes by name, per ICMP type (Click's names; ICMPError reads them, IPPrint prints them).
ICMP_CODES = {3: {"net": 0, "host": 1, "protocol": 2, "port": 3, "needfrag": 4, "srcroutefail": 5,
                  "netunknown": 6, "hostunknown": 7, "isolated": 8, "netprohibited": 9,
                  "hostprohibited": 10, "tosnet": 11, "toshost": 12, "filterprohibited": 13,
                  "hostprecedence": 14, "precedencecutoff": 15},
              5: {"net": 0, "host": 1, "tosnet": 2, "toshost": 3},
              11: {"transit": 0, "reassembly": 1},
              12: {"erroratptr": 0, "missingopt": 1, "length": 2}}
#: The same names by number, for the elements that print them.
ICMP_TYPE_NAMES = {number: name for name, number in ICMP_TYPES.items()}
ICMP_CODE_NAMES = {kind: {number: name for name, number in codes.items()}
                   for kind, codes in ICMP_CODES.items()}
TCP, UDP, ICMP = 6, 17, 1
#: ``tcpudp``: either of TCP and UDP, a protocol word of patterns only (not a number
#: of the header's protocol field).
TCP_OR_UDP = 256
PROTO_WORDS = {**PROTOCOLS, "tcpudp": TCP_OR_UDP}


@dataclass(frozen=True)
class _Header:
    """A numeric header field: base, offset, size, the bits it owns (mask), and
    the protocol it needs (None: any IP packet)."""

    base: str
    offset: int
    size: int
    mask: int
    proto: int | None = None

    @property
    def shift(self) -> int:
        return (self.mask & -self.mask).bit_length() - 1

    @property
    def maximum(self) -> int:
        return self.mask >> self.shift


#: How deep groups, ``not``s and operators may nest in one pattern: far beyond any
#: filter written by hand, well within the interpreter's recursion limit.
MAX_NESTING = 200

#: The numeric TYPE words.
FIELDS = {
    "vers": _Header(NET, 0, 1, 0xF0), "hl": _Header(NET, 0, 1, 0x0F),
    "tos": _Header(NET, 1, 1, 0xFF), "dscp": _Header(NET, 1, 1, 0xFC),
    "len": _Header(NET, 2, 2, 0xFFFF), "id": _Header(NET, 4, 2, 0xFFFF),
    "ttl": _Header(NET, 8, 1, 0xFF), "csum": _Header(NET, 10, 2, 0xFFFF),
    "win": _Header(TRANSP, 14, 2, 0xFFFF, TCP), "type": _Header(TRANSP, 0, 1, 0xFF, ICMP),
}
PROTO_FIELD = _Header(NET, 9, 1, 0xFF)
#: TYPE words that are complete without a value.
FLAG_TYPES = ("frag", "unfrag", "ect", "ce")
#: TYPE words taking an address, a port, a protocol or a TCP flag.
OTHER_TYPES = ("host", "net", "port", "proto", "opt")
TYPES = frozenset(FIELDS) | frozenset(FLAG_TYPES) | frozenset(OTHER_TYPES)

_FIRST_FRAGMENT = Field(NET, 6, 2, 0x1FFF, "==", 0)
_UNFRAGMENTED = Field(NET, 6, 2, 0x3FFF, "==", 0)
_ETHER = re.compile(r"[0-9A-Fa-f]{1,2}(?::[0-9A-Fa-f]{1,2}){5}\Z")
_BRACKETS = re.compile(r"(\w+)\s*\[\s*(\d+)\s*(?::\s*(\d+)\s*)?\]")


#: Words of the language itself, never read as address names.
KEYWORDS = TYPES | frozenset(PROTO_WORDS) | frozenset(
    ("src", "dst", "dest", "ip", "ether", "mask", "true", "false"))


class AddressNames(Protocol):
    """What the pattern's words that are not literal addresses stand for
    (the names an element's address arguments accept); None: not such a name."""

    def ip(self, word: str) -> int | None:
        """The IPv4 address ``word`` names, as an integer."""

    def prefix(self, word: str) -> tuple[int, int] | None:
        """The IPv4 prefix ``word`` names: address and netmask as integers."""

    def ether(self, word: str) -> bytes | None:
        """The Ethernet address ``word`` names (6 bytes)."""


@runtime_checkable
class PortNames(Protocol):
    """Names that may also stand for ports (an element's AddressNames may)."""

    def port(self, word: str, proto: int) -> int | None:
        """The port of IP protocol ``proto`` (TCP or UDP) ``word`` names, before
        the well-known names of :data:`PORTS`; None: not such a name."""


def parse_ip_pattern(text: str, names: AddressNames | None = None) -> Formula:
    """The formula of one IPClassifier pattern (see the module docstring);
    ``names`` reads the words that are not literal addresses (none when None)."""
    if text.strip() in ("-", "any", "all"):
        return True
    return syntaxcache.read(GRAMMAR, text, _Walker(names).formula)


def proto_test(proto: int) -> Field:
    return Field(NET, 9, 1, 0xFF, "==", proto)


def _compare(header: _Header, op: str, value: int, mask: int | None) -> Formula:
    """``(field & mask) op value`` on a header field, in the field's own units.

    As in Click, a comparison whose bytes are not all in the packet is false
    whatever its operator: ``!=``, ``<=``, ``>=`` and ``&`` are the negations of
    field tests, which would hold there, so they also ask for the bytes."""
    shift = header.shift
    bits = header.mask if mask is None else header.mask & (mask << shift)
    base = (header.base, header.offset, header.size, bits)
    # The same bytes with a mask of 0: true exactly when they are in the packet.
    present = Field(header.base, header.offset, header.size, 0, "==", 0)
    if op == "&":
        return conj(present, neg(Field(*base, "==", 0)))
    shifted = (value << shift) & bits
    if op == ">=" and shifted == 0 or op == "<=" and shifted >= bits:
        # Every value passes: Click decides it without reading the packet.
        return True
    if op in ("==", "!="):
        test = Field(*base, "==", shifted)
        return test if op == "==" else conj(present, neg(test))
    if op in (">", "<"):
        return Field(*base, op, shifted)
    return conj(present, neg(Field(*base, "<" if op == ">=" else ">", shifted)))


def _first_fragment_of(proto: int | None) -> Formula:
    return conj(proto_test(proto) if proto is not None else True, _FIRST_FRAGMENT)


@dataclass
class _Primitive:
    """What a primitive said, as the words were read; remembered for the next one."""

    srcdst: str | None = None
    proto: int | None = None
    type: str | None = None
    header: str | None = None
    #: For ip[..] and the like: the field.
    bracket: _Header | None = None
    #: The value's kind once read: int, host, net, ether, port, proto, opt, icmp.
    kind: str | None = None
    value: object = None
    net_mask: int = 0xFFFFFFFF
    mask: int | None = None
    op: str = "=="
    position: int = 1
    #: Where the value was written (for range errors).
    value_position: int = 1


def _chain(node: Branch, kind: str) -> list[Branch]:
    """The operands of the chain of ``kind`` nodes at ``node``, left to right (the
    grammar nests a chain to the left, one node an operator)."""
    operands: list[Branch] = []
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, Branch) and item.data == kind:
            pending += reversed([c for c in item.children if isinstance(c, Branch)])
        else:
            operands.append(item)
    return operands


def _balanced(combine: Callable[[Formula, Formula], Formula], parts: list[Formula]) -> Formula:
    """``parts`` combined pairwise, then the pairs, and so on: a tree of depth log2 of
    their number, its first part still leftmost."""
    while len(parts) > 1:
        parts = [combine(*parts[i:i + 2]) if i + 1 < len(parts) else parts[i]
                 for i in range(0, len(parts), 2)]
    return parts[0]


class _Walker:
    """Turns the parse tree into a formula, left to right, remembering the
    previous primitive for values written alone (``port 80 or 81``)."""

    def __init__(self, names: AddressNames | None) -> None:
        self.prev: _Primitive | None = None
        self.names = names
        self.depth = 0

    def formula(self, node: Branch) -> Formula:
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise PatternError(1, f"nested more than {MAX_NESTING} levels deep")
            return self._formula(node)
        finally:
            self.depth -= 1

    def _formula(self, node: Branch) -> Formula:
        kind = node.data
        if kind == "run":
            return self._run(node.children)
        if kind == "group":
            return self.formula(node.children[1])
        if kind == "not_":
            return neg(self.formula(node.children[1]))
        if kind in ("and_", "or_"):
            # A chain of one operator is one level, however long (a list of
            # hosts joined by 'or'), and its formula a balanced tree: the
            # compilation goes down a formula by recursion.
            parts = [self.formula(c) for c in _chain(node, kind)]
            return _balanced(conj if kind == "and_" else disj, parts)
        cond = self.formula(node.children[0])
        return choose(cond, self.formula(node.children[2]), self.formula(node.children[4]))

    def _run(self, tokens: tuple[Lexeme, ...]) -> Formula:
        terms = []
        at = 0
        while at < len(tokens):
            formula, at = self._primitive(tokens, at)
            terms.append(formula)
        return conj(*terms)

    # --- one primitive
    def _primitive(self, tokens: tuple[Lexeme, ...], at: int) -> tuple[Formula, int]:
        first = tokens[at]
        word = str(first).lower()
        if first.type == "WORD" and word in ("true", "false"):
            self.prev = None
            return word == "true", at + 1
        prim = _Primitive(position=first.start_pos + 1)
        start = at
        # qualifiers
        while at < len(tokens):
            token = tokens[at]
            word = str(token).lower()
            if token.type == "SRCDST":
                prim.srcdst = "and" if ("and" in word or "&&" in word) else "or"
            elif token.type == "FIELD" and prim.type is None and prim.bracket is None:
                prim.bracket = self._bracket(token)
            elif token.type != "WORD":
                break
            elif word in TYPES and prim.type is None and prim.bracket is None:
                prim.type = word
            elif word in PROTO_WORDS and prim.proto is None and prim.type is None:
                prim.proto = PROTO_WORDS[word]
            elif word == "src" and prim.srcdst is None:
                prim.srcdst = "src"
            elif word in ("dst", "dest") and prim.srcdst is None:
                prim.srcdst = "dst"
            elif word in ("ip", "ether") and prim.header is None:
                prim.header = word
            else:
                break
            at += 1
        if at > start:
            self.prev = None
        # & MASK
        if at + 1 < len(tokens) and tokens[at].type == "AMP":
            prim.mask = self._mask(tokens[at + 1])
            at += 2
        # OP
        if at < len(tokens) and tokens[at].type == "RELOP":
            prim.op = "==" if str(tokens[at]) == "=" else str(tokens[at])
            at += 1
        # VALUE
        used = self._value(prim, tokens, at) if at < len(tokens) and \
            tokens[at].type == "WORD" else 0
        if used:
            at += used
        elif prim.op != "==":
            where = tokens[at] if at < len(tokens) else tokens[-1]
            raise PatternError(where.start_pos + 1, f"dangling operator near '{where}'")
        if at == start:
            raise PatternError(first.start_pos + 1, f"unknown word '{first}'")
        formula = self._check(prim)
        self.prev = prim
        return formula, at

    def _bracket(self, token: Lexeme) -> _Header:
        m = _BRACKETS.match(str(token))
        assert m is not None
        name, pos, length = m.group(1), int(m.group(2)), int(m.group(3) or 1)
        if not 1 <= length <= 4:
            raise PatternError(token.start_pos + 1, "field length must be 1 to 4 bytes")
        if pos + length > 65535:
            raise PatternError(token.start_pos + 1, "field offset too large")
        proto = PROTOCOLS.get(name)
        base = NET if name == "ip" else TRANSP
        return _Header(base, pos, length, (1 << (8 * length)) - 1,
                       proto if base == TRANSP else None)

    def _mask(self, token: Lexeme) -> int:
        text = str(token)
        value = _integer(text)
        if value is None:
            try:
                value = int(ipaddress.IPv4Address(text))
            except ValueError:
                raise PatternError(token.start_pos + 1, f"bad mask '{text}'") from None
        if value == 0:
            raise PatternError(token.start_pos + 1, "zero mask")
        return value

    def _value(self, prim: _Primitive, tokens: tuple[Lexeme, ...], at: int) -> int:
        """Read the value at ``at`` into ``prim``: the words it takes, 0 if it is not one."""
        prim.value_position = tokens[at].start_pos + 1
        text = str(tokens[at])
        word = text.lower()
        wanted = prim.type
        if prim.bracket is not None or wanted in FIELDS or wanted == "proto" and \
                word not in PROTO_WORDS:
            number = _integer(text)
            if number is None:
                if wanted == "type" and word in ICMP_TYPES:
                    prim.kind, prim.value = "int", ICMP_TYPES[word]
                    return 1
                return 0
            prim.kind, prim.value = "int", number
            return 1
        if wanted == "proto":
            prim.kind, prim.value = "proto", PROTO_WORDS[word]
            return 1
        if wanted in (None, "port", "opt") and _named_value(prim, word, tokens[at],
                                                             self._ports(text, word)):
            return 1
        number = _integer(text)
        if number is not None:
            prim.kind, prim.value = "int", number
            return 1
        if prim.header != "ether":
            following = str(tokens[at + 1]).lower() if at + 1 < len(tokens) else ""
            if following == "mask" and at + 2 < len(tokens):
                try:
                    prim.value = int(ipaddress.IPv4Address(text))
                    prim.net_mask = int(ipaddress.IPv4Address(str(tokens[at + 2])))
                except ValueError:
                    # Either may be a name (me mask 255.255.0.0), read below.
                    if self.names is None:
                        raise PatternError(
                            tokens[at].start_pos + 1,
                            f"bad network '{text} mask {tokens[at + 2]}'") from None
                else:
                    prim.kind = "net"
                    return 3
            try:
                prim.value = int(ipaddress.IPv4Address(text))
                prim.kind = "host"
                return 1
            except ValueError:
                pass
            if "/" in text:
                try:
                    network = ipaddress.IPv4Network(text, strict=False)
                except ValueError:
                    # A prefix may be written with names (me/24), read below.
                    if self.names is None:
                        raise PatternError(tokens[at].start_pos + 1,
                                           f"bad network '{text}'") from None
                else:
                    prim.kind, prim.value = "net", int(network.network_address)
                    prim.net_mask = int(network.netmask)
                    return 1
        if prim.header != "ip" and _ETHER.match(text):
            prim.kind = "ether"
            prim.value = bytes(int(part, 16) for part in text.split(":"))
            return 1
        if word not in KEYWORDS and wanted in (None, "host", "net"):
            used = self._name(prim, text, tokens, at)
            if used:
                return used
            if wanted is not None or prim.srcdst is not None or prim.header is not None:
                raise PatternError(tokens[at].start_pos + 1,
                                   f"'{text}' is neither an address nor a known address name")
        if wanted is None and prim.op == "==" and prim.mask is None and \
                prim.proto is None and prim.srcdst is None and prim.header is None:
            raise PatternError(tokens[at].start_pos + 1, f"unknown word '{text}'")
        return 0

    def _ports(self, text: str, word: str) -> tuple[int | None, int | None]:
        """The TCP and the UDP port ``text`` names: a name of ``names``, else a well-known one."""
        known = PORTS.get(word)
        if not isinstance(self.names, PortNames):
            return known, known
        tcp, udp = self.names.port(text, TCP), self.names.port(text, UDP)
        return (known if tcp is None else tcp), (known if udp is None else udp)

    def _name(self, prim: _Primitive, text: str, tokens: tuple[Lexeme, ...], at: int) -> int:
        """Read a name into ``prim`` as Click reads one: an IPv4 address (with
        ``mask`` after it, a network; after ``net``, its prefix when it has one),
        else an IPv4 prefix, else an Ethernet address. The words it took, 0
        when it names none."""
        names = self.names
        if names is None:
            return 0
        if prim.header != "ether":
            host = names.ip(text)
            if host is not None:
                if _following_is_mask(tokens, at):
                    mask = names.ip(str(tokens[at + 2]))
                    if mask is None:
                        raise PatternError(tokens[at + 2].start_pos + 1,
                                           f"bad netmask '{tokens[at + 2]}'")
                    prim.kind, prim.value, prim.net_mask = "net", host, mask
                    return 3
                network = names.prefix(text) if prim.type == "net" else None
                if network is None:
                    prim.kind, prim.value = "host", host
                else:
                    prim.kind, (prim.value, prim.net_mask) = "net", network
                return 1
            network = names.prefix(text)
            if network is not None:
                prim.kind, (prim.value, prim.net_mask) = "net", network
                return 1
        if prim.header != "ip":
            ether = names.ether(text)
            if ether is not None:
                prim.kind, prim.value = "ether", ether
                return 1
        return 0

    # --- meaning
    def _check(self, prim: _Primitive) -> Formula:
        prev = self.prev
        kind = prim.kind
        if kind == "ether" and prim.header is None:
            # As in Click, an Ethernet address makes 'host' an Ethernet host.
            prim.header = "ether"
        if prim.type is None and prim.bracket is None:
            if kind in ("host", "net", "opt", "ether"):
                prim.type = {"host": "host", "net": "net", "opt": "opt", "ether": "host"}[kind]
                if prim.srcdst is None and prev is not None:
                    prim.srcdst = prev.srcdst
            elif kind == "port":
                prim.type = "port"
                if prev is not None:
                    prim.srcdst = prim.srcdst or prev.srcdst
                    prim.proto = prim.proto if prim.proto is not None else prev.proto
            elif kind == "icmp":
                prim.type, prim.proto, prim.kind = "type", ICMP, "int"
            elif kind == "int":
                if prev is None or not (prev.type in FIELDS or prev.type in ("proto", "port")
                                        or prev.bracket is not None):
                    raise PatternError(prim.position, "specify header field or 'port'")
                prim.type, prim.bracket = prev.type, prev.bracket
                if prim.type == "port":
                    prim.srcdst = prim.srcdst or prev.srcdst
                    prim.proto = prim.proto if prim.proto is not None else prev.proto
            elif kind is None:
                if prim.proto is None:
                    raise PatternError(prim.position, "partial directive")
                prim.type, prim.kind, prim.value = "proto", "proto", prim.proto
                prim.proto = None
        return _meaning(prim)


def _following_is_mask(tokens: tuple[Lexeme, ...], at: int) -> bool:
    """Whether the value at ``at`` is followed by ``mask NETMASK``."""
    return at + 2 < len(tokens) and str(tokens[at + 1]).lower() == "mask"


def _named_value(prim: _Primitive, word: str, token: Lexeme,
                 ports: tuple[int | None, int | None]) -> bool:
    """Read a port (``ports``: the TCP and the UDP port ``word`` names), TCP flag
    or ICMP type name into ``prim`` as Click does: the tables that know ``word``
    are those the primitive's type and protocol allow (``icmp echo`` is an ICMP
    type, ``tcp echo`` a port); a name left in two with different values is
    ambiguous, a name known only where it is not allowed meaningless."""
    proto, wanted = prim.proto, prim.type
    tcp, udp = ports
    tables = (("port", tcp, "port", (None, TCP, TCP_OR_UDP),
               "port" if tcp == udp else "tcp port"),
              ("port", udp, "port", (None, UDP, TCP_OR_UDP),
               "port" if tcp == udp else "udp port"),
              ("opt", TCP_FLAGS.get(word), "opt", (None, TCP), "tcp opt"),
              ("icmp", ICMP_TYPES.get(word), "type", (None, ICMP), "icmp type"))
    known = [entry for entry in tables if entry[1] is not None]
    if not known:
        return False
    allowed = list(dict.fromkeys((kind, value) for kind, value, type_, protos, _ in known
                                 if wanted in (None, type_) and proto in protos))
    if len(allowed) == 1:
        prim.kind, prim.value = allowed[0]
        return True
    tries = ", ".join(dict.fromkeys(f"'{spelled} {word}'" for *_, spelled in known))
    what = "ambiguous" if allowed else "meaningless here"
    raise PatternError(token.start_pos + 1, f"'{word}' is {what}; try {tries}")


def _integer(text: str) -> int | None:
    if re.fullmatch(r"[0-9]+", text):
        return int(text)
    if re.fullmatch(r"0[xX][0-9a-fA-F]+", text):
        return int(text, 16)
    return None


def _need(prim: _Primitive, what: str, *kinds: str) -> None:
    if prim.kind not in kinds:
        raise PatternError(prim.position, f"{what} missing")


def _equality_only(prim: _Primitive) -> None:
    if prim.op not in ("==", "!="):
        raise PatternError(prim.position, f"operator '{prim.op}' not supported here")


def _in_range(prim: _Primitive, maximum: int) -> int:
    value = prim.value
    assert isinstance(value, int)
    if value > maximum:
        raise PatternError(prim.value_position,
                           f"value {value} out of range (0 to {maximum})")
    return value


def _meaning(prim: _Primitive) -> Formula:
    """The formula of a checked primitive."""
    kind, type_ = prim.kind, prim.type
    op = prim.op if prim.kind is not None or prim.mask is None else "&"
    if prim.bracket is not None:
        if kind is None and op != "&":
            raise PatternError(prim.position, "value missing")
        header = prim.bracket
        value = 0 if kind is None else _in_range(prim, header.maximum)
        test = _compare(header, op, value, prim.mask)
        return conj(_first_fragment_of(header.proto), test) if header.base == TRANSP else test
    if type_ in FLAG_TYPES:
        if kind is not None:
            raise PatternError(prim.position, f"'{type_}' takes no value")
        return {"frag": neg(_UNFRAGMENTED), "unfrag": _UNFRAGMENTED,
                "ect": neg(Field(NET, 1, 1, 0x03, "==", 0)),
                "ce": Field(NET, 1, 1, 0x03, "==", 0x03)}[type_]
    if type_ in ("host", "net"):
        if prim.header == "ether":
            if type_ == "net":
                raise PatternError(prim.position, "address missing")
            _need(prim, "Ethernet address", "ether")
            _equality_only(prim)
            value = int.from_bytes(prim.value, "big")  # type: ignore[arg-type]
            tests = {side: Field(MAC, offset, 6, (1 << 48) - 1, "==", value)
                     for side, offset in (("src", 6), ("dst", 0))}
        else:
            # As in Click, 'host' takes an address and 'net' a network, not the other.
            _need(prim, "address", type_)
            _equality_only(prim)
            mask = prim.net_mask & (prim.mask if prim.mask is not None else 0xFFFFFFFF)
            value = prim.value & mask  # type: ignore[operator]
            tests = {side: Field(NET, offset, 4, mask, "==", value)
                     for side, offset in (("src", 12), ("dst", 16))}
        if prim.op == "!=":
            tests = {side: neg(test) for side, test in tests.items()}
        return _sides(prim, tests)
    if type_ == "proto":
        _need(prim, "protocol", "proto", "int")
        if prim.value == TCP_OR_UDP:
            if prim.op not in ("==", "!=") or prim.mask is not None:
                raise PatternError(prim.position, "operator or mask not supported for 'tcpudp'")
            either = disj(proto_test(TCP), proto_test(UDP))
            return either if prim.op == "==" else neg(either)
        return _compare(PROTO_FIELD, op, _in_range(prim, 255), prim.mask)
    if type_ == "port":
        _need(prim, "port", "port", "int")
        if prim.proto not in (None, TCP, UDP, TCP_OR_UDP):
            raise PatternError(prim.position, "port needs tcp or udp")
        value = _in_range(prim, 65535)
        protos = [prim.proto] if prim.proto in (TCP, UDP) else [TCP, UDP]
        tests = {side: _compare(_Header(TRANSP, offset, 2, 0xFFFF), op, value, prim.mask)
                 for side, offset in (("src", 0), ("dst", 2))}
        return conj(disj(*(proto_test(p) for p in protos)), _FIRST_FRAGMENT,
                    _sides(prim, tests))
    if type_ == "opt":
        _need(prim, "TCP flag", "opt")
        if prim.proto not in (None, TCP):
            raise PatternError(prim.position, "TCP flags need tcp")
        if prim.op != "==" or prim.mask is not None:
            raise PatternError(prim.position, "operator not supported for 'tcp opt'")
        flag = prim.value
        assert isinstance(flag, int)
        return conj(_first_fragment_of(TCP), Field(TRANSP, 13, 1, flag, "==", flag))
    header = FIELDS[type_]  # type: ignore[index]
    if kind is None and op != "&":
        raise PatternError(prim.position, f"'{type_}' needs a value")
    if header.proto is not None and prim.proto not in (None, header.proto):
        raise PatternError(prim.position, f"'{type_}' does not apply to this protocol")
    value = 0 if kind is None else _in_range(prim, header.maximum)
    test = _compare(header, op, value, prim.mask)
    if header.base == TRANSP:
        return conj(_first_fragment_of(header.proto), test)
    return test


def _sides(prim: _Primitive, tests: dict[str, Formula]) -> Formula:
    """The source, the destination, or both joined as SRCDST says (``or`` by default)."""
    if prim.srcdst in ("src", "dst"):
        return tests[prim.srcdst]
    if prim.srcdst == "and":
        return conj(tests["src"], tests["dst"])
    return disj(tests["src"], tests["dst"])
