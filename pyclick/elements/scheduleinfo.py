"""ScheduleInfo: Click's scheduling parameters, checked."""

from __future__ import annotations

from pyclick.args import FLOAT, Args, split_words
from pyclick.element import CONFIGURE_PHASE_INFO, Element

#: A scheduling parameter: a share relative to the default 1.
PARAM = FLOAT.range(0, 32768)


class ScheduleInfo(Element):
    """ScheduleInfo(ELEMENT PARAM, ...) -- specifies scheduling parameters

    Description
    In Click, gives the named elements' tasks scheduling parameters: real
    numbers saying how often each is scheduled relative to the others (the
    default is 1; an element with 2 runs twice as often as one with 1).
    Inside a compound, names are those of the compound's components; an
    outer ScheduleInfo may name the compound itself, scaling all its
    components.

    pyclick's task scheduler runs every scheduled task once per round, so
    the parameters do not change the order tasks run in: ScheduleInfo
    checks its arguments (each an element name and a real number) and
    keeps them, so that configurations written for Click run unchanged.

    Ports
    none

    Keyword arguments
    PARAM -- each argument's parameter, 0 to 32768

    Example
    InfiniteSource(LIMIT 5) -> q :: Queue -> u :: Unqueue -> Discard;
    ScheduleInfo(u 2);
    """

    port_count = "0/0"
    configure_phase = CONFIGURE_PHASE_INFO

    def configure(self, args: Args) -> None:
        self.parameters: dict[str, float] = {}
        for number, text in enumerate(args.rest(), 1):
            words = split_words(text)
            if len(words) != 2:
                args.error(f"argument {number}: expected 'ELEMENTNAME PARAM'")
                continue
            value = args.convert("PARAM", words[1], PARAM)
            if value is not None:
                self.parameters[words[0]] = value
        args.complete()
