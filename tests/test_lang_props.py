"""Property tests: whatever the text, flatten returns a graph or a ConfigError.

Configurations are generated from a strategy of Click statements (nested
groups and compounds, overloads, formals, variables, ports, line
directives, comments) and then mutated (slices deleted, duplicated or
moved, punctuation inserted, the text cut short). Runs are derandomized,
so every run tries the same 10,500 texts.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyclick.errors import ConfigError
from pyclick.lang import flatten, parse, unparse
from pyclick.lang.model import FlatConfig

LANDMARKED = re.compile(r"^[^\n]*:\d+: .")

NAMES = st.sampled_from(["a", "b", "c", "q1", "x/y", "Idle", "Discard", "Queue", "Tee", "input",
                         "output", "Foo@2", "Paint", "elementclass", "define", "provide", "9", "_"])
VARIABLES = st.sampled_from(["$a", "$b", "$X", "${X}", "${a-def}", "${X[1]}", "$(x.y)", "$",
                             "$$", "${", "$(("])
CONFIG_PIECES = st.sampled_from(["1", "2, 3", "KEY 5", "COUNT 7", "a b", '"q, )"', "'s ( $a'",
                                 "(nested (x))", "/* c ) */", "// line\n", "\\<41 42>", ",",
                                 " ", "\n", "BURST $b", "__REST__"])
SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large])


def configs() -> st.SearchStrategy[str]:
    pieces = st.lists(st.one_of(CONFIG_PIECES, VARIABLES, NAMES), max_size=5)
    return pieces.map(lambda p: "(" + " ".join(p) + ")")


def ports() -> st.SearchStrategy[str]:
    numbers = st.sampled_from(["0", "1", "2", "0-2", "3-1", "x", "70000", ""])
    return st.lists(numbers, max_size=3).flatmap(
        lambda items: st.sampled_from(["", ","]).map(lambda tail: "[" + ",".join(items) + tail + "]"))


def elements(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    reference = st.one_of(
        NAMES,
        st.tuples(NAMES, NAMES, st.one_of(st.just(""), configs())).map(lambda t: f"{t[0]} :: {t[1]}{t[2]}"),
        st.tuples(NAMES, configs()).map("".join),
        children.map(lambda body: "(" + body + ")"),
        children.map(lambda body: "{" + body + "}"),
        st.tuples(NAMES, children).map(lambda t: f"{t[0]} :: {{ {t[1]} }}"),
    )
    item = st.tuples(st.one_of(st.just(""), ports()), reference, st.one_of(st.just(""), ports())) \
        .map(lambda t: " ".join(t))
    bare = ports()
    return st.lists(st.one_of(item, item, bare), min_size=1, max_size=3).map(", ".join)


def statements(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    arrow = st.sampled_from([" -> ", " => "])
    chain = st.lists(st.tuples(elements(children), arrow), min_size=1, max_size=4).map(
        lambda links: "".join(e + a for e, a in links)).flatmap(
        lambda head: st.one_of(elements(children), st.just("")).map(lambda tail: head + tail))
    formals = st.lists(st.sampled_from(["$a", "$b", "KEY $k", "COUNT $n", "__REST__ $r", "$a"]),
                       max_size=3).map(lambda f: ", ".join(f) + " |" if f else "")
    compound_body = st.tuples(formals, children).map(" ".join)
    compound = st.lists(compound_body, min_size=1, max_size=3).flatmap(
        lambda bodies: st.sampled_from(["", " || ..."]).map(lambda ext: " || ".join(bodies) + ext))
    return st.one_of(
        chain,
        elements(children),
        st.tuples(NAMES, compound).map(lambda t: f"elementclass {t[0]} {{ {t[1]} }}"),
        st.tuples(NAMES, NAMES).map(lambda t: f"elementclass {t[0]} {t[1]}"),
        st.lists(st.tuples(VARIABLES, CONFIG_PIECES), max_size=3).map(
            lambda defs: "define(" + ", ".join(f"{v} {p}" for v, p in defs) + ")"),
        st.sampled_from(["require(package p)", "require(library nowhere.click)",
                         "require(compact_config, q)", "require(bad thing here)"]),
        st.sampled_from(['\n# 10 "other.click"\n', "\n#line 5\n", "\n#bogus\n", "// c\n",
                         "/* c */"]),
    )


def programs(depth: int = 2) -> st.SearchStrategy[str]:
    children = st.just("") if depth == 0 else programs(depth - 1)
    separator = st.sampled_from([";\n", "\n", " ", ";"])
    return st.lists(st.tuples(statements(children), separator), max_size=4).map(
        lambda stmts: "".join(a + b for a, b in stmts))


@st.composite
def mutated(draw) -> str:
    text = draw(programs())
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 12)))
        kind = draw(st.sampled_from(["delete", "insert", "duplicate", "move", "truncate"]))
        if kind == "delete":
            text = text[:start] + text[end:]
        elif kind == "insert":
            text = text[:start] + draw(st.sampled_from(list("()[]{},;:|.-=>$#/*\"'\\\n@0"))) + text[start:]
        elif kind == "duplicate":
            text = text[:end] + text[start:end] + text[end:]
        elif kind == "move":
            piece = text[start:end]
            rest = text[:start] + text[end:]
            at = draw(st.integers(0, len(rest)))
            text = rest[:at] + piece + rest[at:]
        else:
            text = text[:start]
    return text


def check_total(text: str) -> FlatConfig | None:
    """flatten either returns a graph or raises ConfigError with landmarked messages."""
    try:
        flat = flatten(text, "gen.click", variables={"X": "x y z"})
    except ConfigError as err:
        assert err.messages, "a ConfigError must say what is wrong"
        for message in err.messages:
            assert LANDMARKED.match(message), message
        return None
    assert isinstance(flat, FlatConfig)
    return flat


def graph(flat: FlatConfig) -> tuple:
    return ([(e.name, e.class_name, e.config) for e in flat.elements],
            {(c.from_element, c.from_port, c.to_element, c.to_port) for c in flat.connections},
            flat.requirements)


@settings(max_examples=4000, **SETTINGS)
@given(programs())
def test_generated_programs_flatten_or_fail_cleanly(text):
    flat = check_total(text)
    if flat is not None:
        again = check_total(unparse(flat))
        assert again is not None and graph(again) == graph(flat)


@settings(max_examples=4500, **SETTINGS)
@given(mutated())
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
