"""One-line statements of single elements: the patterns the lexer and the writer share
with the grammar."""

from __future__ import annotations

import random
import re

import pytest
import regex

from pyclick.errors import Landmark
from pyclick.lang import chainline, flatten, unparse
from pyclick.lang import parser as lang_parser


def test_the_port_pattern_is_the_grammar_s():
    # lark gives the pattern with its escapes read: a tab as itself, "\/" kept.
    grammar = lang_parser._lark().get_terminal("PORT").pattern.to_regexp()
    assert grammar.replace("\t", r"\t").replace(r"\/", "/") == chainline.PORT


@pytest.mark.parametrize("config", ["10", "a, b; c", "LIMIT 3, $x", "x\ty", "-1 % 2 @ *",
                                    "12/0806 20/0001, -", "a/", "/b / c", '"(" x',
                                    "'//)' /x"])
def test_a_plain_configuration_reads_back_as_the_grammar_s_config_reads_it(config):
    from pyclick.lang import readback

    # What writing back takes for granted of such a string, without the grammar.
    assert re.fullmatch(chainline.PLAIN_CONFIG, f"({config})")
    assert readback.config_reads_back(config)


@pytest.mark.parametrize("config", ['"a\\"b"', "DATA \\<00 ff>, X", "a (b (c))", "x /* ) */ y",
                                    "a\\", '"\\<29>)"', "'\\' \\x"])
def test_a_configuration_on_one_line_reads_back_as_the_grammar_s_config_reads_it(config):
    from pyclick.lang import readback

    assert not re.fullmatch(chainline.PLAIN_CONFIG, f"({config})")
    assert re.fullmatch(chainline.LINE_CONFIG, f"({config})")
    assert readback.config_reads_back(config)


@pytest.mark.parametrize("pattern, newlines", [(chainline.LINE_CONFIG, False),
                                               (chainline.SPREAD_CONFIG, True)],
                         ids=["one line", "several lines"])
def test_a_configuration_ends_where_the_grammar_s_config_ends_it(pattern, newlines):
    # Random strings of what CONFIG reads specially, and a few plain characters,
    # then what may follow: where the pattern ends them, CONFIG does too.
    grammar = regex.compile(lang_parser.config_pattern())
    pieces = ["a", " ", "(", ")", '"', "'", "/", "*", "\\", "<", ">", "0f"] + ["\n"] * newlines
    rng = random.Random(3)
    read = 0
    for _ in range(3000):
        text = "(" + "".join(rng.choice(pieces) for _ in range(rng.randrange(12))) + ")"
        text += rng.choice(["", ")", " x", "\n)"])
        ours = re.match(pattern, text)
        if ours is not None:
            read += 1
            theirs = grammar.match(text)
            assert theirs is not None and theirs.end() == ours.end(), text
    assert read > 500


@pytest.mark.parametrize("config, needs_grammar", [
    ("12/0806 /* ARP */, 12/0800 // IP\n, -", False),
    ('"a\nb", \\<00\n ff>, (x\n y)', False),
    ("a // to the end", True),
    ("a (b (c (d (e))))", True),
])
def test_a_configuration_over_several_lines_is_written_back_without_the_grammar(
        config, needs_grammar, monkeypatch):
    from pyclick.lang import readback
    from pyclick.lang.model import FlatConfig, FlatElement

    asked = []
    reads_back = readback.config_reads_back

    def asking(text: str) -> bool:
        asked.append(text)
        return reads_back(text)

    monkeypatch.setattr(readback, "config_reads_back", asking)
    written = unparse(FlatConfig([FlatElement("e", "C", config, Landmark("t.click", 1))], [], []))
    assert bool(asked) == needs_grammar
    # It reads back as written: a // comment at its end gets its newline.
    assert flatten(written, "t.click").elements[0].config.rstrip("\n") == config
