"""Property tests: whatever the text, flatten returns a graph or a ConfigError.

Configurations are generated from a strategy of Click statements (nested
groups and compounds, overloads, formals, variables, ports, line
directives, comments) and then mutated (slices deleted, duplicated or
moved, punctuation inserted, the text cut short). Runs are derandomized,
so every run tries the same 10,500 texts.
"""

from __future__ import annotations

import random
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyclick.errors import ConfigError
from pyclick.lang import flatten, parse, unparse
from pyclick.lang.model import FlatConfig

LANDMARKED = re.compile(r"^[^\n]*:\d+: .")

NAMES = ["a", "b", "c", "q1", "x/y", "Idle", "Discard", "Queue", "Tee", "input", "output",
         "Foo@2", "Paint", "elementclass", "define", "provide", "9", "_"]
VARIABLES = ["$a", "$b", "$X", "${X}", "${a-def}", "${X[1]}", "$(x.y)", "$", "$$", "${", "$(("]
CONFIG_PIECES = ["1", "2, 3", "KEY 5", "COUNT 7", "a b", '"q, )"', "'s ( $a'", "(nested (x))",
                 "/* c ) */", "// line\n", "\\<41 42>", ",", " ", "\n", "BURST $b", "__REST__"]
FORMALS = ["$a", "$b", "KEY $k", "COUNT $n", "__REST__ $r", "$a"]
PORT_ITEMS = ["0", "1", "2", "0-2", "3-1", "x", "70000"]
OTHER_STATEMENTS = ["require(package p)", "require(library nowhere.click)",
                    "require(compact_config, q)", "require(bad thing here)",
                    '\n# 10 "other.click"\n', "\n#line 5\n", "\n#bogus\n", "// c\n", "/* c */"]
PUNCTUATION = list("()[]{},;:|.-=>$#/*\"'\\\n@0")
SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class ClickText:
    """Random Click-like text, statement by statement, from one seeded Random."""

    def __init__(self, rnd: random.Random):
        self.rnd = rnd

    def pick(self, options: list[str]) -> str:
        return self.rnd.choice(options)

    def config(self) -> str:
        pieces = [self.pick(self.rnd.choice([CONFIG_PIECES, VARIABLES, NAMES]))
                  for _ in range(self.rnd.randrange(5))]
        return "(" + " ".join(pieces) + ")"

    def port(self) -> str:
        items = [self.pick(PORT_ITEMS) for _ in range(self.rnd.randrange(3))]
        return "[" + ",".join(items) + self.pick(["", ","]) + "]"

    def reference(self, depth: int) -> str:
        # Nested groups and compounds are rarer, so that texts stay small.
        kind = self.rnd.randrange(12 if depth else 3)
        if kind == 0 or kind > 5:
            return self.pick(NAMES)
        if kind == 1:
            config = self.config() if self.rnd.random() < 0.5 else ""
            return f"{self.pick(NAMES)} :: {self.pick(NAMES)}{config}"
        if kind == 2:
            return self.pick(NAMES) + self.config()
        if kind == 3:
            return "(" + self.program(depth - 1) + ")"
        if kind == 4:
            return "{" + self.compound(depth - 1) + "}"
        return f"{self.pick(NAMES)} :: {{ {self.compound(depth - 1)} }}"

    def item(self, depth: int) -> str:
        if self.rnd.random() < 0.2:
            return self.port()
        before = self.port() if self.rnd.random() < 0.2 else ""
        after = self.port() if self.rnd.random() < 0.2 else ""
        return f"{before} {self.reference(depth)} {after}"

    def elements(self, depth: int) -> str:
        return ", ".join(self.item(depth) for _ in range(1 + self.rnd.randrange(3)))

    def chain(self, depth: int) -> str:
        links = [self.elements(depth) + self.pick([" -> ", " => "])
                 for _ in range(1 + self.rnd.randrange(4))]
        tail = self.elements(depth) if self.rnd.random() < 0.8 else ""
        return "".join(links) + tail

    def compound(self, depth: int) -> str:
        bodies = []
        for _ in range(1 + self.rnd.randrange(3)):
            formals = [self.pick(FORMALS) for _ in range(self.rnd.randrange(4))]
            head = ", ".join(formals) + " |" if formals else ""
            bodies.append(f"{head} {self.program(depth)}")
        return " || ".join(bodies) + self.pick(["", "", " || ..."])

    def statement(self, depth: int) -> str:
        kind = self.rnd.randrange(7)
        if kind <= 1:
            return self.chain(depth)
        if kind == 2:
            return self.elements(depth)
        if kind == 3 and depth:
            return f"elementclass {self.pick(NAMES)} {{ {self.compound(depth - 1)} }}"
        if kind <= 4:
            return f"elementclass {self.pick(NAMES)} {self.pick(NAMES)}"
        if kind == 5:
            pairs = [f"{self.pick(VARIABLES)} {self.pick(CONFIG_PIECES)}"
                     for _ in range(self.rnd.randrange(4))]
            return "define(" + ", ".join(pairs) + ")"
        return self.pick(OTHER_STATEMENTS)

    def program(self, depth: int = 2) -> str:
        count = self.rnd.randrange(6 if depth == 2 else 3)
        return "".join(self.statement(depth) + self.pick([";\n", "\n", " ", ";"])
                       for _ in range(count))

    def mutate(self, text: str) -> str:
        for _ in range(1 + self.rnd.randrange(4)):
            if not text:
                break
            start = self.rnd.randrange(len(text) + 1)
            end = min(len(text), start + self.rnd.randrange(13))
            kind = self.rnd.randrange(5)
            if kind == 0:
                text = text[:start] + text[end:]
            elif kind == 1:
                text = text[:start] + self.pick(PUNCTUATION) + text[start:]
            elif kind == 2:
                text = text[:end] + text[start:end] + text[end:]
            elif kind == 3:
                piece, rest = text[start:end], text[:start] + text[end:]
                at = self.rnd.randrange(len(rest) + 1)
                text = rest[:at] + piece + rest[at:]
            else:
                text = text[:start]
        return text


# Hypothesis draws the seeds; drawing every choice through it is ten times slower.
texts = st.integers(0, 2**64).map(lambda seed: ClickText(random.Random(seed)))
programs = texts.map(lambda text: text.program())
mutated = texts.map(lambda text: text.mutate(text.program()))


def check_total(text: str) -> FlatConfig | None:
    """flatten either returns a graph or raises ConfigError with landmarked messages."""
    try:
        flat = flatten(text, "gen.click", variables={"X": "x y z"})
    except ConfigError as err:
        assert err.messages, "a ConfigError must say what is wrong"
        for message in err.messages:
            assert LANDMARKED.match(message) and "\n" not in message, message
        return None
    assert isinstance(flat, FlatConfig)
    return flat


def graph(flat: FlatConfig) -> tuple:
    return ([(e.name, e.class_name, e.config) for e in flat.elements],
            {(c.from_element, c.from_port, c.to_element, c.to_port) for c in flat.connections},
            flat.requirements)


@settings(max_examples=6000, **SETTINGS)
@given(programs)
def test_generated_programs_flatten_or_fail_cleanly(text):
    flat = check_total(text)
    # Flat text cannot declare an element named like a class in use.
    if flat is not None and not {e.name for e in flat.elements} & {e.class_name for e in flat.elements}:
        again = check_total(unparse(flat))
        assert again is not None and graph(again) == graph(flat)


@settings(max_examples=6500, **SETTINGS)
@given(mutated)
def test_mutated_programs_flatten_or_fail_cleanly(text):
    check_total(text)


@settings(max_examples=2000, **SETTINGS)
@given(st.text(alphabet=st.sampled_from(list("ab01 \n\t()[]{},;:|.->=$#/*\"'\\@_x")), max_size=80))
def test_arbitrary_text_flattens_or_fails_cleanly(text):
    check_total(text)
    try:
        parse(text)
    except ConfigError as err:
        assert all(LANDMARKED.match(m) for m in err.messages)
