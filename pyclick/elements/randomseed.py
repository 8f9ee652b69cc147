"""RandomSeed: makes every random draw of the router repeatable."""

from __future__ import annotations

from pyclick.args import UNSIGNED, Args
from pyclick.element import CONFIGURE_PHASE_FIRST, Element, read_handler, write_handler
from pyclick.lang.configstr import with_argument

SEED = UNSIGNED.range(0, 0xFFFFFFFF)


class RandomSeed(Element):
    """RandomSeed(SEED) -- sets the seed of the router's random numbers

    Description
    Seeds the random-number generators of every element of the router with
    SEED, so that all their random choices (sampling, random bytes and bit
    errors, random addresses and ports, RED's drops, Script's random...)
    come out the same each time the configuration runs. Each element draws
    from a generator of its own, made from SEED and the element's name: the
    draws of one element do not depend on those of another. An unnamed
    element goes by the name pyclick gives it (such as RandomSample@3),
    which changes when elements are declared before it: name the elements
    whose draws should stay the same across such edits.

    RandomSeed takes effect when it is configured, before any other element
    is, so random choices made while configuring or initializing are
    covered too. Without SEED, the generators get a fresh unpredictable
    seed, as they do in a router without RandomSeed.

    Ports
    none

    Keyword arguments
    SEED -- the seed, an unsigned 32-bit integer; default a fresh random seed

    Element handlers
    seed (read/write) -- the SEED argument; writing a value seeds every
    generator again from it, writing nothing gives them a fresh random seed

    Example
    RandomSeed(42);
    InfiniteSource(LIMIT 10) -> rs :: RandomSample(0.5) -> c :: Counter -> Discard;
    """

    configure_phase = CONFIGURE_PHASE_FIRST
    can_live_reconfigure = True
    port_count = "0/0"

    def configure(self, args: Args) -> None:
        self.seed: int | None = args.read_p("SEED", SEED)
        args.complete()
        # A configuration with errors is not taken (a failed live
        # reconfiguration leaves the element as it was): nor is its seed.
        if not args.errors:
            self.router.seed_random(self.seed)

    @read_handler("seed")
    def _read_seed(self) -> str:
        return "" if self.seed is None else str(self.seed)

    @write_handler("seed")
    def _write_seed(self, value: str) -> None:
        # As Click's keyword handler: the configuration with SEED replaced is
        # configured again, so an empty value drops a positional SEED (a
        # fresh seed) but leaves "SEED" with no value after the keyword.
        text = with_argument(self.config, value.strip(), 0, "SEED")
        self.router.handlers.write(f"{self.name}.config", text)
