"""The lexer the parser reads through: whole port lists as one token, the
direct path for common tokens giving what lark's own lexer gives, and
configuration strings that end where Click's lexer ends them."""

from __future__ import annotations

import copy
import functools
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from lark import Token
from lark.lark import PostLex

from pyclick.errors import ConfigError, Landmark
from pyclick.lang import flatten, parse
from pyclick.lang import parser as lang_parser
from pyclick.lang import syntax as s
from pyclick.lang import chainline, lexer
from pyclick.lang.lexer import READING, ClickLexer

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


class Lookahead(PostLex):
    """Tells the parse under way which token lark's lexer handed the parser last, as
    the direct path does, and keeps every token handed over in ``seen``."""

    def __init__(self) -> None:
        self.seen: list[tuple] = []

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        reading = READING.get()
        for token in stream:
            self.seen.append(described(token))
            reading.lookahead = token
            yield token
        reading.lookahead = None


def described(token: Token) -> tuple:
    """Everything a token holds."""
    return (token.type, token.value, type(token.value), str(token), token.start_pos, token.line,
            token.column, token.end_line, token.end_column, token.end_pos)


#: What lark's lexer calls each part of a one-line statement but names, port lists
#: and configuration strings.
CHAIN_KINDS = {"->": "ARROW", "=>": "ARROW2", "::": "COLONCOLON", ";": "SEMICOLON",
               ",": "COMMA"}


def as_lark_reads(token: Token) -> list[tuple]:
    """The tokens lark's lexer reads where the direct path read ``token``: a CHAIN_LINE
    is its names, port lists, arrows, ``::`` and semicolon, all on its line."""
    if token.type != "CHAIN_LINE":
        return [described(token)]
    parts = []
    # A configuration string ends where the one-line pattern ends it: lark's own
    # tokens, compared with these, say whether that is where CONFIG ends it.
    for part in re.finditer(rf"\[[^]]*\]|{chainline.LINE_CONFIG}|[\w@]+(?:/[\w@]+)*"
                            r"|[-=]>|::|;|,", token.value):
        word, column = part.group(), token.column + part.start()
        kind = {"[": "PORT", "(": "CONFIG"}.get(word[0]) or CHAIN_KINDS.get(word, "IDENT")
        parts.append((kind, word, str, word,
                      token.start_pos + part.start(), token.line, column, token.line,
                      column + len(word), token.start_pos + part.end()))
    return parts


@functools.cache
def lark_alone() -> tuple[lang_parser.Lark, Lookahead]:
    """A parser reading through lark's contextual lexer alone, without the direct path
    (nor the direct reductions), and what keeps the tokens it is handed."""
    with open(lang_parser._GRAMMAR, encoding="utf-8") as f:
        grammar = f.read()
    postlex = Lookahead()
    plain = lang_parser.Lark(grammar, **lang_parser._OPTIONS, transformer=lang_parser._ToSyntax(),
                             postlex=postlex,
                             lexer_callbacks={"LINE_DIRECTIVE": lang_parser._on_directive,
                                              "BLOCK_COMMENT": lang_parser._on_block_comment,
                                              "IDENT": lang_parser._on_identifier})
    return plain, postlex


def with_lark_lexer_only(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Parse through lark's contextual lexer alone; the tokens it hands the parser."""
    plain, postlex = lark_alone()
    postlex.seen.clear()
    monkeypatch.setattr(lang_parser, "_lark", lambda: plain)
    return postlex.seen


#: The kind of each closer, as lark's lexer reads it.
CLOSERS = {"}": "RBRACE", ")": "RPAR"}


def both_ways(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parse ``text`` through the direct path, then lark's lexer alone: the same tokens,
    the same program, the same errors. Up to a stray closer only, when the direct
    path refuses one (``lexer.STRAY``): lark's parser takes it as the end of the
    program there."""
    seen: list[tuple] = []
    refused: list[int] = []
    lex = ClickLexer.lex

    def recording(self, lexer_state, parser_state):
        for token in lex(self, lexer_state, parser_state):
            if token.type == lexer.STRAY:
                refused.append(len(seen))
                seen.append(described(Token.new_borrow_pos(CLOSERS[token], str(token), token)))
            else:
                seen.extend(as_lark_reads(token))
            yield token

    with monkeypatch.context() as patch:
        patch.setattr(ClickLexer, "lex", recording)
        direct = lang_parser.parse_text(text, "t.click")
    alone = with_lark_lexer_only(monkeypatch)
    answer = lang_parser.parse_text(text, "t.click")
    if refused:
        assert seen[:refused[0] + 1] == alone[:refused[0] + 1]
        return
    assert answer == direct
    assert seen == alone


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
    "x ->\na -> b;\nx -> [0]\na :: A => b;\ny -> | a -> b;\nz :: { input -> output; } c;\n",
    "a->b;a::A;;b => c :: C ;\n@x/y->_1 ;require(x) a -> b; elementclass E { a; } b;",
    "sw[0] -> s0 :: S; a [1] -> [2] b [3] => c;\na :: C [0] -> [ 1 ,] d [];\n[0] a -> b;\n"
    "a [0] -> b [x];\nelementclass S { input -> [0] output; }",
    "q :: Queue(10); Paint (2) -> c :: C(a b, $x) [1] -> d(;);\nx :: F(\"(\"); y :: F(a/b);\n"
    "z :: F((1)); w :: F(a\\b) -> v;\nu :: F(a\n);",
    "a :: F(1/2 /x) -> b :: F(a//)\n) -> c :: F(x/*)*/y);\nd :: F(/); e :: F(a/) -> F(/*/);",
]


@pytest.mark.parametrize("text", TEXTS)
def test_direct_path_reads_what_lark_alone_reads(text, monkeypatch):
    both_ways(text, monkeypatch)


def test_reductions_are_direct_calls_and_rules_compare_by_identity():
    lang_parser.parse_text("a :: A -> [1] b; c -> d; e :: E;", "t.click")
    parser = lang_parser._lark().parser.parser.parser
    made = {(rule.origin.name, tuple(symbol.name for symbol in rule.expansion)): callback
            for rule, callback in parser.callbacks.items()}
    # Behind filters of lark's, or building Trees for repetitions: compiled once used.
    for used in [("element", ("IDENT",)), ("element", ("IDENT", "COLONCOLON", "IDENT")),
                 ("element", ("port", "IDENT")), ("__connection_star_2", ("ARROW", "element")),
                 ("___stmts_star_0", ("___stmts_star_0", "connection", "SEMICOLON"))]:
        assert made[used].__qualname__ == "reduce"
    # Called with lark's own list already: the method itself.
    assert made[("connection", ("element",))].__qualname__ == "_ToSyntax.connection"
    # In a parser that has parsed nothing yet: each made when first reduced.
    with open(lang_parser._GRAMMAR, encoding="utf-8") as f:
        grammar = f.read()
    fresh = lang_parser._load_lark(grammar, lang_parser._cache_file(grammar))
    assert {callback.__qualname__ for callback in fresh.parser.parser.parser.callbacks.values()} \
        == {"_on_first_use.<locals>.reduce"}
    rule = next(iter(parser.callbacks))
    assert rule == rule and rule != copy.copy(rule)


#: Pieces of Click text, right and wrong, put into generated texts.
PIECES = ["a", "b2", "x/y", "_@", "7", "elementclass", "require", "define", "provide", "input",
          "->", "=>", "::", ":", ";", ",", "-", "[0]", "[0, 2-3]", "[ 1 ,]", "[]", "[", "]", "(",
          ")", "(1)", '("a)" b)', "('x)", "(/* ) */)", "{", "}", "||", "|", "...", "$v", "$",
          "// c\n", "/* c */", "/* c\n", "/*", "\n", " ", "\t", '# 5 "f.click"\n', "#line 9\n",
          "#x\n", '"', "'", "\\", "%", "*", "/"]
#: What may stand between two tokens.
GAPS = ["", " ", "  ", "\n", " \n\t", "// c\n", "/* c */", "/* a\n b */ ", "\n# 3\n"]


#: What may stand between two tokens of a generated one-line statement.
PLAIN_GAPS = ["", " ", "\t ", "\n", "// c\n"]


def generated(seed: int, plain: bool = False) -> str:
    """A text of a few Click statements with spaces, comments and line directives
    between their tokens, one time in two with a piece put in at random (the same
    text for the same seed). ``plain``: mostly names, declarations and arrows with
    spaces between them, as a generator writes whole configurations."""
    rng = random.Random(seed)

    def gap() -> str:
        if plain:
            return rng.choice(PLAIN_GAPS) if rng.random() < 0.2 else " "
        return rng.choice(GAPS) if rng.random() < 0.6 else " "

    def ports() -> list[str]:
        if plain and rng.random() < 0.9:
            return []
        return rng.choice([[], [], ["[0]"], ["[1, 2-3]"], ["[", "0", ",", "1", "]"], ["[]"]])

    def element(depth: int) -> list[str]:
        kind = rng.randrange(2) if plain and rng.random() < 0.9 else \
            rng.randrange(5 if depth < 2 else 4)
        if kind == 0:
            body = [rng.choice(["a", "b2", "x/y", "Idle"])]
        elif kind == 1:
            body = [rng.choice(["a", "c"]), "::", rng.choice(["Queue", "C"])]
            body += rng.choice([[], ["(10)"], ['("(" x)'], ["(12/0800, -)"], ["(a/*)*/)"],
                                ["('a)' \"b//\")"], ['("x\\"y)")'],
                                ["(x//)\n)"]])
        elif kind == 2:
            body = [rng.choice(["Counter", "Paint"]),
                    rng.choice(["(1)", "(a, b)", "()", "(1/2 /3)", "(a/)"])]
        elif kind == 3:
            body = ["{", "input", "->", "output", "}"]
        else:
            body = ["(", *statement(depth + 1), ")"]
        return ports() + body + ports()

    def statement(depth: int) -> list[str]:
        if rng.random() < 0.1:
            return [rng.choice(["require", "define"]), "(", "$X", "1", ")"]
        tokens = element(depth)
        for _ in range(rng.randrange(4)):
            tokens += [rng.choice(["->", "=>"]), *element(depth)]
        return tokens

    tokens: list[str] = []
    for _ in range(rng.randint(1, 4)):
        tokens += [*statement(0), rng.choice([";", "\n"])]
    if rng.random() < 0.5:
        tokens.insert(rng.randrange(len(tokens) + 1), rng.choice(PIECES))
    return "".join(token + gap() for token in tokens)


@pytest.mark.parametrize("seed", range(400))
def test_direct_path_reads_generated_texts_as_lark_alone_does(seed, monkeypatch):
    both_ways(generated(seed), monkeypatch)


@pytest.mark.parametrize("seed", range(400))
def test_direct_path_reads_plain_statements_as_lark_alone_does(seed, monkeypatch):
    both_ways(generated(seed, plain=True), monkeypatch)


def kinds_read(text: str) -> list[str]:
    """The kinds of token the direct path hands the parser for ``text``."""
    kinds: list[str] = []
    lex = ClickLexer.lex

    def recording(self, lexer_state, parser_state):
        for token in lex(self, lexer_state, parser_state):
            kinds.append(token.type)
            yield token

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ClickLexer, "lex", recording)
        lang_parser.parse_text(text, "t.click")
    return kinds


def test_plain_texts_are_read_a_statement_at_a_time_where_one_starts():
    # Where the parser can start a statement, a whole one on one line is one token.
    assert sum("CHAIN_LINE" in kinds_read(generated(seed, plain=True))
               for seed in range(400)) > 60
    assert kinds_read("a :: A;\nb :: B; a -> b => c;\n{ input -> output; }") == \
        ["CHAIN_LINE"] * 3 + ["LBRACE", "CHAIN_LINE", "RBRACE"]
    # Port lists on the line too, but not before the first name.
    assert kinds_read("s[0] -> [1] t :: T [2, 3-4] => u;\n[0] a -> b;") == \
        ["CHAIN_LINE", "PORT", "IDENT", "ARROW", "IDENT", "SEMICOLON"]
    # Configuration strings too, with quoted strings, escapes, comments and
    # parentheses in them, unless these nest deeper than CONFIG_DEPTH.
    assert kinds_read("q :: Queue(10) -> Paint (2) [0] -> d;\nx :: F(\"(\" (a /* ) */));\n"
                      "y :: F(\"a\\\\b\" \\<00>);\nz :: F(a (b (c (d))));") == \
        ["CHAIN_LINE"] * 3 + ["IDENT", "COLONCOLON", "IDENT", "CONFIG", "SEMICOLON"]


@pytest.mark.parametrize("text, kinds", [
    # After an arrow (or a port) the words go on with the chain: x -> a -> b.
    ("x ->\na -> b;", ["IDENT", "ARROW", "IDENT", "ARROW", "IDENT", "SEMICOLON"]),
    ("x -> [0]\na -> b;", ["IDENT", "ARROW", "PORT", "IDENT", "ARROW", "IDENT", "SEMICOLON"]),
    # A reserved word is lark's to report; a configuration string with a
    # line comment is CONFIG's to read; a chain over two lines is not on one.
    ("a -> provide;", ["IDENT", "ARROW", "IDENT", "SEMICOLON"]),
    ("a :: A(1 // c\n);", ["IDENT", "COLONCOLON", "IDENT", "CONFIG", "SEMICOLON"]),
    ("a -> b\n-> c;", ["IDENT", "ARROW", "IDENT", "ARROW", "IDENT", "SEMICOLON"]),
])
def test_one_line_statements_are_read_word_by_word_where_words_mean_more(text, kinds):
    assert kinds_read(text) == kinds


def test_generated_texts_are_mostly_read_without_a_mistake_or_with_some():
    # Both kinds are tried: the texts are neither all right nor all wrong.
    results = [lang_parser.parse_text(generated(seed), "t.click")[1] for seed in range(400)]
    assert 100 < sum(1 for errors in results if errors) < 300


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


def test_where_statements_start_is_asked_once_per_stack_top_however_deep(monkeypatch):
    # Nested 5,000 deep, the stacks differ only below their top few states:
    # remembering answers by whole stacks would ask (and copy) 5,000 of them.
    asked = []
    ask = lexer.starts_statement

    def counting(states, stack):
        asked.append(len(stack))
        return ask(states, stack)

    monkeypatch.setattr(lexer, "starts_statement", counting)
    lang_parser._lark().parser.lexer._starts.clear()
    depth = 5000
    program = parse("(" * depth + "a -> b;" + ")" * depth + ";", "t.click")
    assert len(program.statements) == 1
    assert 0 < len(asked) < 50


@pytest.mark.parametrize("text, errors, statements", [
    # As Click reads them: one mistake at the closer, then the rest is read
    # (and Click then reports what the rest holds, as pyclick does: the first
    # text's redeclaration of 'x', the second's arrow from nothing).
    ("Idle -> Discard } Idle;\nx :: Idle; x :: Idle", ["t.click:1: syntax error near '}'"], 4),
    ("Idle -> Discard;\n) -> Idle;\nx :: Idle", ["t.click:2: syntax error near ')'"], 3),
    ("elementclass A { x :: Idle -> ( y :: Idle ) }\n}\nIdle -> Discard;",
     ["t.click:2: syntax error near '}'"], 2),
])
def test_a_stray_closer_is_one_mistake_and_the_rest_is_read(text, errors, statements):
    program, found = lang_parser.parse_text(text, "t.click")
    assert found == errors and len(program.statements) == statements

