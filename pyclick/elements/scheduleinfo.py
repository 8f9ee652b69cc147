"""ScheduleInfo: how often tasks run, relative to each other."""

from __future__ import annotations

from pyclick.args import FLOAT, Args, split_words
from pyclick.element import CONFIGURE_PHASE_INFO, Element
from pyclick.elements.addressnames import compound_of

#: A scheduling parameter: a share relative to the default 1.
PARAM = FLOAT.range(0, 32768)


class ScheduleInfo(Element):
    """ScheduleInfo(ELEMENT PARAM, ...) -- specifies scheduling parameters

    Description
    Gives the named elements' tasks scheduling parameters: real numbers
    saying how often each runs relative to the others. The default is 1;
    an element with 2 runs twice as often as one with 1, and 4 times as
    often as one with 0.5. A parameter is the task's tickets in Click's
    stride scheduler, divided by 1024 (the default tickets); the most is
    32 (32768 tickets: more is reduced to it, with a warning), and 0
    keeps the element's tasks from ever running. Parameters are read to
    1/1024.

    Inside a compound, names are those of the compound's components; an
    outer ScheduleInfo may name the compound itself, which scales all its
    components, or a component by its full name (c/i), which sets that
    component's whole parameter. Of two ScheduleInfos of one compound
    defining one name, the one configured last wins. (Click's own
    ScheduleInfo, against its manual, scales no component by its
    compound's parameter; pyclick follows the manual.)

    Tasks of one thread only compete with each other: the parameters say
    nothing about elements on different threads (StaticThreadSched).

    Ports
    none

    Keyword arguments
    PARAM -- each argument's parameter, 0 to 32768

    Example
    elementclass Compound { i :: InfiniteSource -> output; ScheduleInfo(i 0.5) }
    c :: Compound -> Discard;
    ScheduleInfo(c 4);          // c/i's parameter: 4 x 0.5 = 2
    """

    port_count = "0/0"
    configure_phase = CONFIGURE_PHASE_INFO

    def configure(self, args: Args) -> None:
        self.parameters: dict[str, float] = {}
        for number, text in enumerate(args.rest(), 1):
            words = split_words(text)
            if not words:
                continue
            if len(words) != 2:
                args.error(f"argument {number}: expected 'ELEMENTNAME PARAM'")
                continue
            value = args.convert("PARAM", words[1], PARAM)
            if value is not None:
                self.parameters[words[0]] = value
        args.complete()

    def initialize(self) -> None:
        scope = compound_of(self.name)
        for name, value in self.parameters.items():
            self.scheduling.tickets.define(scope, name, value)
