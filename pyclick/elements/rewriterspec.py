"""What the rewriter elements read from their configurations: patterns and input specs.

- :class:`Pattern`: ``SADDR SPORT DADDR DPORT``, each field fixed or '-'
  (keep the packet's), SPORT possibly a range ``L-H`` (or SADDR an address
  range ``A-B`` or a prefix ``A/n``), chosen so that the reply flow is free;
  a '#' after the range chooses sequentially, a '?' at random without
  preferring the packet's own value. Written with two fields, SADDR DADDR;
  with three, SADDR DADDR SPORT. One Pattern object may serve several
  rewriters (a name defined by IPRewriterPatterns): they then share its
  sequential position, as in Click.
- :class:`InputSpec` and :func:`parse_input_spec`: one rewriter input's
  treatment of new flows (drop, pass, keep, pattern, a mapper element).
- :class:`IPMapper`: what a mapper element (RoundRobinIPMapper) offers.

Parsers raise ValueError with Click's messages; the element adds the
``input spec N:`` prefix and its landmark.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol, runtime_checkable

from pyclick.args import ELEMENT, STRING, split_args, split_words
from pyclick.elements.inet import IPADDR, unparse_ip

if TYPE_CHECKING:
    from pyclick.args import Args

#: A flow identifier: (source address, source port, destination address, destination port).
Key = tuple[bytes, int, bytes, int]
#: Whether a reply flow identifier is already mapped (so cannot be handed out).
Taken = Callable[[Key], bool]


def reverse(key: Key) -> Key:
    """The identifier of the reply flow."""
    return (key[2], key[3], key[0], key[1])


def unparse_key(key: Key) -> str:
    """``(SA, SP, DA, DP)``, as the rewriters' tables print flows."""
    return f"({unparse_ip(key[0])}, {key[1]}, {unparse_ip(key[2])}, {key[3]})"


def _address_int(address: bytes) -> int:
    return int.from_bytes(address, "big")


@dataclass
class Pattern:
    """One rewriting pattern; ``None`` fields keep the packet's value."""

    saddr: bytes | None
    sport: int | None
    daddr: bytes | None
    dport: int | None
    #: How many values past the base the varying field may take (0: none varies).
    variation: int = 0
    #: The varying field: the source address (True) or the source port (False).
    vary_address: bool = False
    sequential: bool = False
    #: Try the packet's own value first when it lies in the range.
    same_first: bool = True
    #: Where the next sequential choice starts.
    next_variation: int = 0

    def rewrite(self, key: Key, taken: Taken, draws: random.Random) -> Key | None:
        """The new identifier for flow ``key``, or None when every choice is
        taken; a random choice comes from ``draws``."""
        sa, sp, da, dp = key
        new: Key = (self.saddr or sa, sp if self.sport is None else self.sport,
                    self.daddr or da, dp if self.dport is None else self.dport)
        if not self.variation:
            return new
        base = _address_int(new[0]) if self.vary_address else new[1]

        def varied(value: int) -> Key:
            if self.vary_address:
                return ((base + value).to_bytes(4, "big"), new[1], new[2], new[3])
            return (new[0], base + value, new[2], new[3])

        own = (_address_int(sa) if self.vary_address else sp) - base
        if self.same_first and 0 <= own <= self.variation \
                and not taken(reverse(varied(own))):
            self.next_variation = own + 1
            return varied(own)
        if self.sequential:
            start = 0 if self.next_variation > self.variation else self.next_variation
        else:
            start = draws.randint(0, self.variation)
        for step in range(self.variation + 1):
            value = (start + step) % (self.variation + 1)
            candidate = varied(value)
            if not taken(reverse(candidate)):
                self.next_variation = value + 1
                return candidate
        return None

    def unparse(self) -> str:
        """The pattern in the configuration's words (ranges without '#' or '?')."""
        if self.vary_address and self.saddr is not None:
            top = (_address_int(self.saddr) + self.variation).to_bytes(4, "big")
            words = [f"{unparse_ip(self.saddr)}-{unparse_ip(top)}"]
        else:
            words = [unparse_ip(self.saddr) if self.saddr else "-"]
        if self.sport is None:
            words.append("-")
        elif self.variation and not self.vary_address:
            words.append(f"{self.sport}-{self.sport + self.variation}")
        else:
            words.append(str(self.sport))
        words.append(unparse_ip(self.daddr) if self.daddr else "-")
        words.append("-" if self.dport is None else str(self.dport))
        return " ".join(words)


def _choice_suffix(word: str) -> tuple[str, bool, bool]:
    """``word`` without a trailing '#' or '?', and (sequential, same_first)."""
    if word.endswith("#"):
        return word[:-1], True, False
    if word.endswith("?"):
        return word[:-1], False, False
    return word, False, True


def _port(text: str, low: int = 1) -> int | None:
    if not text.isascii() or not text.isdigit() or len(text) > 5:
        return None
    value = int(text)
    return value if low <= value <= 65535 else None


def _source_address(word: str, args: Args | None) -> tuple[bytes, int, bool, bool] | None:
    """A source address, an address range or a prefix:
    (base, variation, sequential, same_first)."""
    try:
        return IPADDR(word, args), 0, False, True
    except ValueError:
        pass
    text, sequential, same_first = _choice_suffix(word)
    low_text, dash, high_text = text.partition("-")
    try:
        if dash:
            low, high = IPADDR(low_text, args), IPADDR(high_text, args)
            if _address_int(high) < _address_int(low):
                return None
            return low, _address_int(high) - _address_int(low), sequential, same_first
        network = ipaddress.IPv4Network(text, strict=False)
    except ValueError:
        return None
    if network.prefixlen == 0:
        return None
    if network.prefixlen >= 31:
        # A /31 has two usable addresses, a /32 one.
        return network.network_address.packed, network.num_addresses - 1, sequential, same_first
    # Leave out the network's own address and its broadcast address.
    return (network.network_address + 1).packed, network.num_addresses - 3, sequential, same_first


def _source_port(word: str) -> tuple[int, int, bool, bool] | None:
    """A source port or a range: (base, variation, sequential, same_first)."""
    single = _port(word)
    if single is not None:
        return single, 0, False, True
    text, sequential, same_first = _choice_suffix(word)
    low_text, dash, high_text = text.partition("-")
    low, high = _port(low_text, 0), _port(high_text, 0)
    if not dash or low is None or high is None or high < low:
        return None
    return low, high - low, sequential, same_first


class AddressPattern(Pattern):
    """A pattern written ``SADDR DADDR``: no ports, and printed so."""

    def unparse(self) -> str:
        words = super().unparse().split()
        return f"{words[0]} {words[2]}"


def parse_pattern(words: list[str], args: Args | None,
                  named: Callable[[str], Pattern | None]) -> Pattern:
    """``NAME`` (a pattern IPRewriterPatterns defined), ``SADDR SPORT DADDR
    DPORT``, ``SADDR DADDR`` (addresses only) or ``SADDR DADDR SPORT`` (no
    destination port: ICMP echo's identifier, for one)."""
    if len(words) == 1:
        found = named(words[0])
        if found is None:
            raise ValueError(f"no such pattern '{words[0]}'")
        return found
    if len(words) == 2:
        return AddressPattern(**vars(parse_pattern([words[0], "-", words[1], "-"], args, named)))
    if len(words) == 3:
        words = [words[0], words[2], words[1], "-"]
    if len(words) != 4:
        raise ValueError("syntax error")
    sa_word, sp_word, da_word, dp_word = words
    pattern = Pattern(None, None, None, None)
    if sa_word != "-":
        address = _source_address(sa_word, args)
        if address is None:
            raise ValueError("bad source address")
        pattern.saddr, pattern.variation, pattern.sequential, pattern.same_first = address
        pattern.vary_address = pattern.variation > 0
    if sp_word != "-":
        port = _source_port(sp_word)
        if port is None:
            raise ValueError("bad source port")
        pattern.sport, variation, sequential, same_first = port
        if variation:
            if pattern.vary_address:
                raise ValueError("bad source port (only one of the source address and "
                                 "port may be a range)")
            pattern.variation, pattern.sequential, pattern.same_first = \
                variation, sequential, same_first
    if da_word != "-":
        try:
            pattern.daddr = IPADDR(da_word, args)
        except ValueError:
            raise ValueError("bad destination address") from None
    if dp_word != "-":
        pattern.dport = _port(dp_word)
        if pattern.dport is None:
            raise ValueError("bad destination port")
    return pattern


@runtime_checkable
class IPMapper(Protocol):
    """An element that chooses new flows for a rewriter's ``ELEMENTNAME`` input spec."""

    def map_flow(self, key: Key, taken: Taken) -> tuple[Key, int, int] | None:
        """The new identifier of flow ``key`` with its forward and reply outputs,
        or None to drop the flow."""

    def output_errors(self, noutputs: int) -> list[str]:
        """What is wrong with this mapper's outputs for a rewriter with ``noutputs``."""


@dataclass
class InputSpec:
    """How one rewriter input handles a packet of a flow it has no mapping for."""

    #: "drop", "pass", "keep", "pattern" or "mapper".
    kind: str
    foutput: int = 0
    routput: int = 0
    pattern: Pattern | None = None
    mapper: IPMapper | None = None
    #: Flows this input installed that still live; flows it could not install.
    count: int = 0
    failures: int = 0

    def describe(self) -> str:
        """The spec as the ``patterns`` handler shows it."""
        if self.pattern is not None:
            text = self.pattern.unparse()
        else:
            text = {"drop": "<drop>", "pass": "<nochange>", "keep": "<keep>",
                    "mapper": "<mapper>"}[self.kind]
        return f"{text} [{self.count}]" if self.count else text


def raw_arguments(args: Args) -> list[str]:
    """Every argument as written, all marked read: a pattern's name may be all
    capitals (``NAT 18.26.4.24 - - -``), which the reader would take for a keyword."""
    positional = args.rest()
    for text in split_args(args.config):
        if positional and text == positional[0]:
            positional.pop(0)
        else:
            args.read_all(text.split()[0], STRING)
    return split_args(args.config)


def parse_outputs(words: list[str]) -> tuple[int, int]:
    """``FOUTPUT ROUTPUT``."""
    if len(words) != 2 or _port(words[0], 0) is None:
        raise ValueError("bad forward port")
    if _port(words[1], 0) is None:
        raise ValueError("bad reply port")
    return int(words[0]), int(words[1])


def parse_pattern_with_outputs(text: str, args: Args | None,
                               named: Callable[[str], Pattern | None]
                               ) -> tuple[Pattern, int, int]:
    """``PATTERN FOUTPUT ROUTPUT``, PATTERN as :func:`parse_pattern` reads it."""
    words = split_words(text)
    if len(words) <= 2:
        raise ValueError("syntax error")
    pattern = parse_pattern(words[:-2], args, named)
    return (pattern, *parse_outputs(words[-2:]))


def parse_input_spec(text: str, args: Args, noutputs: int,
                     named: Callable[[str], Pattern | None]) -> InputSpec:
    """One INPUTSPEC of a rewriter with ``noutputs`` outputs."""
    words = split_words(text)
    if not words:
        raise ValueError("empty argument")
    word, rest = words[0], words[1:]
    if word in ("pass", "passthrough", "nochange"):
        output = _port(rest[0], 0) if len(rest) == 1 else (0 if not rest else None)
        if output is None:
            raise ValueError(f"syntax error, expected '{word} [OUTPUT]'")
        spec = InputSpec("pass", output)
    elif word == "keep":
        spec = InputSpec("keep", *parse_outputs(rest))
    elif word in ("drop", "discard"):
        if rest:
            raise ValueError(f"syntax error, expected '{word}'")
        return InputSpec("drop")
    elif word in ("pattern", "xpattern"):
        pattern, foutput, routput = parse_pattern_with_outputs(" ".join(rest), args, named)
        spec = InputSpec("pattern", foutput, routput, pattern)
    else:
        return _mapper_spec(word, rest, args)
    if max(spec.foutput, spec.routput) >= noutputs:
        raise ValueError("output port out of range")
    return spec


def _mapper_spec(word: str, rest: list[str], args: Args) -> InputSpec:
    try:
        element = ELEMENT(word, args)
    except ValueError:
        raise ValueError("unknown specification") from None
    if rest:
        raise ValueError("syntax error, expected element name")
    if not isinstance(element, IPMapper):
        raise ValueError("element is not an IPMapper")
    return InputSpec("mapper", mapper=element)
