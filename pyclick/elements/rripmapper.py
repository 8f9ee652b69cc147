"""RoundRobinIPMapper: hands a rewriter's new flows to its patterns in turn."""

from __future__ import annotations

from pyclick.args import Args
from pyclick.element import CONFIGURE_PHASE_DEFAULT, Element
from pyclick.elements.iprwpatterns import find_pattern
from pyclick.elements.rewriterspec import (Key, Pattern, Taken, parse_pattern_with_outputs,
                                           raw_arguments)


class RoundRobinIPMapper(Element):
    """RoundRobinIPMapper(PATTERN1, ..., PATTERNn) -- gives a rewriter's new flows to patterns in turn

    Description
    A mapper for IPRewriter and its kin: a rewriter whose input spec is
    this element's name asks it how to rewrite each new flow. Each PATTERN
    is 'SADDR SPORT DADDR DPORT FOUTPUT ROUTPUT' or 'NAME FOUTPUT ROUTPUT'
    (a pattern named by IPRewriterPatterns), as in IPRewriter's 'pattern'
    input specification. Flows go to the patterns in turn, for instance to
    spread connections over several servers; when a pattern has nothing
    free, the next ones are tried, and the flow is dropped when none can
    take it. The outputs must exist on every rewriter using the mapper.

    Ports
    none

    Example
    servers :: RoundRobinIPMapper(- - 10.0.0.1 80 0 1, - - 10.0.0.2 80 0 1);
    rw :: IPRewriter(servers, drop);
    Idle -> [0]rw; Idle -> [1]rw; rw[0] -> Discard; rw[1] -> Discard;
    """

    port_count = "0/0"
    # Before the rewriters, after the named patterns (as in Click).
    configure_phase = CONFIGURE_PHASE_DEFAULT - 1

    def configure(self, args: Args) -> None:
        texts = raw_arguments(args)
        choices: list[tuple[Pattern, int, int]] = []
        if not texts:
            args.error("no patterns given")
        for number, text in enumerate(texts):
            try:
                choices.append(parse_pattern_with_outputs(
                    text, args, lambda name: find_pattern(self.router, name)))
            except ValueError as err:
                args.error(f"pattern {number}: {err}")
        args.complete()
        self.choices = choices
        if len(choices) == 1:
            self.log.warning("only one pattern given")
        self._next = 0

    def map_flow(self, key: Key, taken: Taken) -> tuple[Key, int, int] | None:
        for _ in range(len(self.choices)):
            pattern, foutput, routput = self.choices[self._next]
            self._next = (self._next + 1) % len(self.choices)
            new = pattern.rewrite(key, taken, self.router.random_source(self))
            if new is not None:
                return new, foutput, routput
        return None

    def output_errors(self, noutputs: int) -> list[str]:
        return [f"output port out of range in {self.declaration()} pattern {number}"
                for number, (_, foutput, routput) in enumerate(self.choices)
                if max(foutput, routput) >= noutputs]
