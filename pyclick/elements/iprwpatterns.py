"""IPRewriterPatterns: named patterns several rewriters share."""

from __future__ import annotations

from typing import Any

from pyclick.args import Args, split_words
from pyclick.element import CONFIGURE_PHASE_INFO, Element, RouterServices, read_handler
from pyclick.elements.rewriterspec import Pattern, parse_pattern, raw_arguments


def find_pattern(router: RouterServices, name: str) -> Pattern | None:
    """The pattern an IPRewriterPatterns element of ``router`` defines as ``name``."""
    for element in router.elements:
        if isinstance(element, IPRewriterPatterns) and name in element.patterns:
            return element.patterns[name]
    return None


class IPRewriterPatterns(Element):
    """IPRewriterPatterns(NAME PATTERN, ...) -- names rewriting patterns for IPRewriter and its kin

    Description
    Defines patterns by name, for the input specifications
    'pattern NAME FOUTPUT ROUTPUT' of IPRewriter, TCPRewriter, UDPRewriter
    and ICMPPingRewriter and for RoundRobinIPMapper. Each argument is a name
    followed by a pattern, 'NAME SADDR SPORT DADDR DPORT', written as in
    IPRewriter's 'pattern' input specification (without the outputs).

    All the rewriters naming one pattern use the same pattern: a range
    chosen from sequentially ('#') goes on where the last choice of any of
    them stopped. Each rewriter checks only its own mappings to know that a
    choice is free. Names are shared by the whole configuration, and every
    name may be defined once, by any of its IPRewriterPatterns elements.
    The patterns are defined before any rewriter reads its configuration.

    Ports
    none

    Element handlers
    patterns (read) -- the patterns, one per line: NAME PATTERN

    Example
    IPRewriterPatterns(to_world 18.26.4.24 1024-65535# - -);
    rw :: IPRewriter(pattern to_world 0 1, drop);
    Idle -> [0]rw; Idle -> [1]rw; rw[0] -> Discard; rw[1] -> Discard;
    """

    port_count = "0/0"
    # Before the rewriters and mappers that name its patterns, as in Click.
    configure_phase = CONFIGURE_PHASE_INFO

    def __init__(self, *init: Any) -> None:
        super().__init__(*init)
        #: Name -> pattern; empty until configured.
        self.patterns: dict[str, Pattern] = {}

    def configure(self, args: Args) -> None:
        patterns: dict[str, Pattern] = {}
        for text in raw_arguments(args):
            words = split_words(text)
            if not words:
                continue
            name = words[0]
            if name in patterns or self._defined_elsewhere(name):
                args.error(f"pattern '{name}' already defined")
                continue
            try:
                patterns[name] = parse_pattern(words[1:], args, patterns.get)
            except ValueError as err:
                args.error(f"pattern '{name}': {err}")
        args.complete()
        self.patterns = patterns

    def _defined_elsewhere(self, name: str) -> bool:
        return any(isinstance(element, IPRewriterPatterns) and element is not self
                   and name in element.patterns for element in self.router.elements)

    @read_handler("patterns")
    def _read_patterns(self) -> str:
        return "".join(f"{name} {pattern.unparse()}\n" for name, pattern in self.patterns.items())
