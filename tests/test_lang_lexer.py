"""The lexer the parser reads through: whole port lists as one token, the
direct path for common tokens giving what lark's own lexer gives, and
configuration strings that end where Click's lexer ends them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyclick.errors import ConfigError, Landmark
from pyclick.lang import flatten, parse
from pyclick.lang import parser as lang_parser
from pyclick.lang import syntax as s

CORPUS = Path(__file__).resolve().parent / "corpus"


def ports(text: str) -> list[tuple[s.PortSpec | None, s.PortSpec | None]]:
    (connection,) = parse(text, "t.click").statements
    return [(item.in_port, item.out_port) for segment in connection.segments for item in segment]


def at(line: int) -> Landmark:
    return Landmark("t.click", line)


def test_port_list_on_one_line_is_read_whole():
    (a, b) = ports("a [0, 2-3] => [1 ,] b")
    assert a == (None, s.PortSpec((s.PortItem("0", None, at(1)), s.PortItem("2", "3", at(1))),
                                  False, at(1)))
    assert b == (s.PortSpec((s.PortItem("1", None, at(1)),), True, at(1)), None)


def test_empty_port_list_is_open():
    (a, b) = ports("a [ ] -> [] b")
    assert a[1] == s.PortSpec((), True, at(1))
    assert b[0] == s.PortSpec((), True, at(1))


def test_port_list_over_lines_or_with_comments_reads_the_same_items():
    # Read token by token: each item keeps the line it is on.
    (a, _) = ports("a [0,\n 2 - 3] -> b")
    assert a[1] == s.PortSpec((s.PortItem("0", None, at(1)), s.PortItem("2", "3", at(2))),
                              False, at(1))
    (a, _) = ports("a [/* first */ 1] -> b")
    assert a[1] == s.PortSpec((s.PortItem("1", None, at(1)),), False, at(1))


@pytest.mark.parametrize("text, message", [
    ("a [,] -> b;", "t.click:1: syntax error near ','"),
    ("a [1 2] -> b;", "t.click:1: syntax error near '2'"),
    ("a [1] -> b [x] -> c;", "t.click:1: syntax error: port number should be integer, not 'x'"),
])
def test_malformed_port_lists_are_reported_where_they_are(text, message):
    with pytest.raises(ConfigError) as failure:
        flatten(text, "t.click")
    assert failure.value.messages[0] == message


def with_lark_lexer_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parse through lark's contextual lexer alone, without the direct path."""
    with open(lang_parser._GRAMMAR, encoding="utf-8") as f:
        grammar = f.read()
    plain = lang_parser.Lark(grammar, **lang_parser._OPTIONS, transformer=lang_parser._ToSyntax(),
                             postlex=lang_parser._Lookahead(),
                             lexer_callbacks={"LINE_DIRECTIVE": lang_parser._on_directive,
                                              "BLOCK_COMMENT": lang_parser._on_block_comment,
                                              "IDENT": lang_parser._on_identifier})
    monkeypatch.setattr(lang_parser, "_lark", lambda: plain)


TEXTS = [path.read_text(encoding="utf-8") for path in sorted(CORPUS.glob("*.click"))] + [
    "a :: A; a [1] -> elementclass -> b;",
    "elementclass X { $a | input -> Y($a) -> output || ... }\nx :: X(1) -> provide;",
    "a -> b -> ;\n-> c\n# 7 \"other.click\"\nd [0-] -> e;",
    "a [0\n -> b; c :: C(\"open\n",
    "a|b; c ... d; e => => f; $v -> g;\n{ h } -> i;\n",
    "x :: { input -> [0, 1] y [2] -> output } [1, 2] -> z;\n(a, b) -> [0] (c) [1] -> d;\n",
    "require(package foo); define($X 1);\na :: A(/* ) */ x) /* c\n */ -> (b -> c)\n"
    "-> d(\"(\") // e\n;elementclass E { $a | input -> F($a) -> output }\n"
    "E(1) -> { input -> output }(2) -> define;",
    "a :: A(1) -> b :: B /* never closed\n -> c;",
    "a :: A(1 -> b;\n",
]


@pytest.mark.parametrize("text", TEXTS)
def test_direct_path_reads_what_lark_alone_reads(text, monkeypatch):
    direct = lang_parser.parse_text(text, "t.click")
    with_lark_lexer_only(monkeypatch)
    assert lang_parser.parse_text(text, "t.click") == direct


# Click's lexer ends a configuration string at the parenthesis that
# balances its opening one, skipping what is quoted: a single quote runs to
# the next single quote, whatever lies between (comments and newlines
# included). m4-style quoting, `NAME', thus opens a quote at its closing
# mark, and the string goes on until a later quote closes it.
def test_quote_opened_inside_configuration_runs_to_the_next_quote():
    text = ("ifdef(`FLAG',\n"        # 1: the quote opens after FLAG
            "  -> Discard;\n"          # 2
            "  Idle\n"                 # 3
            ")\n"                      # 4: quoted: does not close
            "x :: Idle; // can't\n"    # 5: the quote closes in the comment
            "y :: Idle)\n"             # 6: closes the configuration string
            "-> Discard;\n")           # 7
    (statement,) = parse(text, "t.click").statements
    ((ifdef,), (discard,)) = statement.segments
    assert ifdef.target.word == "ifdef"
    assert ifdef.target.config.text == text[text.index("(") + 1:text.rindex(")")]
    assert discard.target.word == "Discard" and discard.landmark == at(7)


def test_quote_that_never_closes_leaves_the_configuration_open():
    text = ("a :: Idle;\n"
            "ifdef(`FLAG',\n"
            "  a -> Discard;\n"
            ")\n")
    with pytest.raises(ConfigError) as failure:
        parse(text, "t.click")
    assert failure.value.messages == [
        "t.click:5: expected ')': the configuration string opened at t.click:2 never ends"]


# Click's lexer reports ports left at the ends of a chain where it is when
# it finds them: input ports at the arrow after the first list, output ports
# after the token that follows the last list (comments and blank lines
# before it included). Lines as click-flatten gives them.
@pytest.mark.parametrize("text, message", [
    ("a :: Idle;\n[1] a\n\n->\nb :: Discard;\n",
     "t.click:4: input ports ignored at start of chain"),
    ("a :: Idle;\nb :: Discard;\na -> b [1]\n// c\n\n;\n",
     "t.click:6: output ports ignored at end of chain"),
    ("a :: Idle;\nb :: Discard;\na -> b [1]\n/* c\n*/ b -> a;",
     "t.click:5: output ports ignored at end of chain"),
    ("a :: Idle;\nb :: Discard;\na -> b [1]\n// c\n\n",
     "t.click:6: output ports ignored at end of chain"),
    ("elementclass X { input -> a :: Idle [2]\n\n} x :: X;\n",
     "t.click:3: output ports ignored at end of chain"),
    ('# 40 "o.click"\na :: Idle; b :: Discard;\na -> b [1]\n# 80 "p.click"\n;\n',
     "p.click:80: output ports ignored at end of chain"),
])
def test_ports_left_at_chain_ends_are_reported_where_click_reports_them(text, message):
    with pytest.raises(ConfigError) as failure:
        flatten(text, "t.click")
    assert failure.value.messages[0] == message
