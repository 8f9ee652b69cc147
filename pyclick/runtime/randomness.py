"""The router's random numbers: one generator per element, all from one seed.

Click draws every random number of a router from one generator, so that
seeding it (RandomSeed) makes the whole run repeat. Here each element gets
its own generator instead, derived from the router's seed and the element's
name: the draws of one element then do not depend on how many draws another
made before, and the same seed still gives the same run.

Without a seed, every generator starts from fresh system entropy, so runs
differ. Seeding again restarts every generator handed out so far, as well as
the ones handed out later, from the new seed.
"""

from __future__ import annotations

import random


class RandomSeeds:
    """Generators by element name, seeded together (see the module docstring)."""

    def __init__(self) -> None:
        #: The seed every generator derives from; None: fresh entropy.
        self.seed: int | None = None
        self._generators: dict[str, random.Random] = {}

    def generator(self, name: str) -> random.Random:
        """The generator of the element named ``name`` (the same one each time)."""
        found = self._generators.get(name)
        if found is None:
            found = self._generators[name] = random.Random()
            self._seed_one(name, found)
        return found

    def reseed(self, seed: int | None) -> None:
        """Restart every generator from ``seed`` (None: fresh entropy each)."""
        self.seed = seed
        for name, generator in self._generators.items():
            self._seed_one(name, generator)

    def _seed_one(self, name: str, generator: random.Random) -> None:
        # A text seed is hashed (SHA-512), so it gives the same sequence in
        # every process, unlike Python's salted hash of a tuple.
        generator.seed(None if self.seed is None else f"{self.seed}/{name}")
