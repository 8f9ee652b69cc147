"""Texts of plain statements (single elements, perhaps over several lines,
definitions and compound classes of the same), read without lark: the same
program as the parser's, landmarks included, and every other text left to the
parser."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyclick.errors import Landmark
from pyclick.lang import chainline, plainprogram
from pyclick.lang import parser as lang_parser
from pyclick.lang import syntax as s

ROOT = Path(__file__).resolve().parent.parent


def same_as_parser(text: str) -> s.Program:
    """What ``read_program`` makes of ``text``, checked against the parser's program."""
    program = plainprogram.read_program(text, "t.click")
    assert program is not None
    assert lang_parser.parse_text(text, "t.click") == (program, [])
    # Not kept by the parse cache, the statements leave their text out.
    assert all(getattr(statement, "written", None) is None for statement in program.statements)
    return program


def written_by_parser(text: str) -> list[str | None]:
    """The text the parser keeps of each statement of ``text`` (``written``, not compared
    by ==): each reads back to the same connection."""
    program, errors = lang_parser.parse_text(text, "t.click")
    assert errors == []
    written = [getattr(statement, "written", None) for statement in program.statements]
    for statement, text in zip(program.statements, written):
        if text is not None:
            assert chainline.read(text, statement.landmark) == statement
    return written


def test_a_one_liner_is_its_connection_ending_where_the_text_ends():
    program = same_as_parser("Idle -> Discard\n\n// the end\n")
    (connection,) = program.statements
    assert [item.target.word for (item,) in connection.segments] == ["Idle", "Discard"]
    # Four lines: the text's last, empty, line is where the statement ends.
    assert (connection.landmark, connection.end) == (Landmark("t.click", 1),
                                                     Landmark("t.click", 4))


def test_two_word_statements_then_others_in_a_text_and_in_a_class():
    # Read with the two-word pattern up to line 3, with the whole pattern after.
    text = ("a :: A;\na -> b;\nc :: C(1) -> d;\ne -> f;\n"
            "elementclass E { x :: X; input -> x; x -> output }\ng :: E;\n")
    program = same_as_parser(text)
    assert [st.landmark.line for st in program.statements] == [1, 2, 3, 4, 5, 6]
    assert written_by_parser(text)[:4] == ["a :: A;", "a -> b;", "c :: C(1) -> d;", "e -> f;"]


def test_a_text_of_two_word_statements_never_compiles_the_whole_pattern():
    # Two words, the second perhaps with a configuration string.
    script = textwrap.dedent("""
        from pyclick.lang import plainprogram
        program = plainprogram.read_program(
            "a :: A; // one\\nIdle -> a;\\nq :: Queue(10);\\na -> q;\\nq -> Print(x);\\n", "t")
        print(len(program.statements), sorted(plainprogram._patterns().__dict__))
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, text=True,
                         capture_output=True, check=True).stdout
    assert out == "5 ['name_next', 'skip', 'two_words']\n"


def test_patterns_for_what_a_text_lacks_are_not_compiled():
    # The README's configuration: plain strings, a declaration over several lines.
    # A chain on one line with a \<hex> block: the statement pattern of such
    # strings, not those of statements over several lines.
    script = textwrap.dedent("""
        from pyclick.lang import plainprogram
        with open("conf/rsspp.click", encoding="utf-8") as f:
            plainprogram.read_program(f.read(), "t")
        print(sorted(plainprogram._patterns().__dict__))
        plainprogram._patterns.cache_clear()
        program = plainprogram.read_program("a :: A;\\nb :: B(\\\\<00>) -> c;\\nd :: D(1) -> e;\\n",
                                            "t")
        print(program.statements[1].segments[0][0].target.config.text,
              sorted(plainprogram._patterns().__dict__))
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, text=True,
                         capture_output=True, check=True).stdout.splitlines()
    assert out == [str(['name_next', 'skip', 'spread', 'statement', 'token', 'two_words']),
                   "\\<00> " + str(['name_next', 'rich_statement', 'skip', 'statement',
                                     'two_words'])]


def test_statements_with_ports_configurations_and_comments_keep_their_lines():
    text = ("s :: RoundRobinSwitch; /* two\nlines */ q :: Queue(10);\r\n"
            "s [1] => [0] q -> Unqueue -> d :: Discard; // done\n"
            "q2 :: Queue(5)\r")
    program = same_as_parser(text)
    assert [st.landmark.line for st in program.statements] == [1, 2, 3, 4]
    assert written_by_parser(text) == [
        "s :: RoundRobinSwitch;", "q :: Queue(10);",
        "s [1] => [0] q -> Unqueue -> d :: Discard;", None]
    first = program.statements[2].segments[0][0]
    assert first.out_port == s.PortSpec((s.PortItem("1", None, Landmark("t.click", 3)),),
                                        False, Landmark("t.click", 3))
    # A carriage return ends a line: the last statement ends on line 5.
    assert program.statements[3].end == Landmark("t.click", 5)


def test_statements_without_semicolons_end_where_the_next_one_starts():
    program = same_as_parser("a -> b c :: C\n\n// x\nd [1] -> e\nf;")
    assert [(st.landmark.line, st.end.line) for st in program.statements] == [
        (1, 1), (1, 4), (4, 5), (5, 5)]


def test_an_empty_text_is_an_empty_program():
    assert same_as_parser("  // nothing\n/* at all */\n").statements == []


def at(line: int) -> Landmark:
    return Landmark("t.click", line)


def test_compound_classes_start_at_their_documentation_and_each_overload_at_its_bars():
    text = ("// A stage: strips and counts.\n"    # 1
            "  // (two lines of documentation)\n"  # 2
            "elementclass Stage { $n, SIZE\n"    # 3
            "  $s | input -> q :: Queue($s)\n"   # 4
            "  -> output\n"                      # 5
            "|| input -> output };\n"            # 6
            "elementclass Alias Stage\n"         # 7
            "sw[1] -> Stage(1, SIZE 2) -> d;")   # 8
    stage, alias, chain = same_as_parser(text).statements
    assert (stage.name, stage.landmark) == ("Stage", at(3))
    first, second = stage.spec.bodies
    assert (stage.spec.landmark, first.landmark, second.landmark) == (at(1), at(1), at(6))
    assert first.formals == (s.Formal("n", None, at(3)), s.Formal("s", "SIZE", at(3)))
    (inside,) = first.statements
    # Without its semicolon, the statement ends at the bars after it.
    assert (inside.landmark, inside.end) == (at(4), at(6))
    assert second.formals == () and not stage.spec.extends
    assert alias == s.ElementClassDef("Alias", s.ClassName("Stage", at(7)), at(7))
    assert chain.landmark == at(8)


def test_nested_and_extended_compound_classes_read_as_the_parser_reads_them():
    outer, queue, empty, _ = same_as_parser(
        "elementclass Outer { $n |\n"                               # 1
        "  elementclass Inner { input -> Paint($n) -> output }\n"   # 2
        "  input -> Inner -> output\n"                              # 3
        "}\n"                                                       # 4
        "elementclass Queue { || ... }\n"                           # 5
        "elementclass Empty {}\n"                                   # 6
        "o :: Outer(1) -> Queue -> Empty;\n").statements            # 7
    (body,) = outer.spec.bodies
    inner, chain = body.statements
    assert (inner.name, inner.landmark, inner.spec.landmark) == ("Inner", at(2), at(2))
    assert chain.end == at(4)
    # An empty definition, then "|| ...": the class extends the one of its name.
    assert queue.spec == s.CompoundClass((s.CompoundBody((), (), at(5)),), True, at(5))
    assert empty.spec == s.CompoundClass((s.CompoundBody((), (), at(6)),), False, at(6))


def test_compound_classes_nested_deeper_than_the_reader_goes_are_left_to_the_parser():
    deep = "elementclass A { " * plainprogram.DEEPEST + "x" + " }" * plainprogram.DEEPEST
    assert plainprogram.read_program(deep, "t.click") is not None
    deeper = "elementclass A { " + deep + " }"
    assert plainprogram.read_program(deeper, "t.click") is None


def test_statements_over_several_lines_and_definitions_keep_each_node_s_line():
    text = ("define ($IF eth0,\n"              # 1
            "        $BPF \"a/b.o\");\n"        # 2
            "\n"                                # 3
            "db :: DeviceBalancer(\n"           # 4
            "    METHOD pianorss,\n"            # 5
            "    DEV fd) // the balancer\n"     # 6
            "  -> [1]\r\n"                      # 7
            "  c :: /* a\nb */ Counter\n"       # 8, 9
            ";\n"                               # 10
            "StaticThreadSched(db 17) // x\n"   # 11
            "\n"                                # 12
            "require(package \"p\")")            # 13
    define, chain, sched, require = same_as_parser(text).statements
    assert define == s.Define(s.Config('$IF eth0,\n        $BPF "a/b.o"', True, at(1)), at(1))
    assert require == s.Require(s.Config('package "p"', True, at(13)), at(13))
    db, c = (segment[0] for segment in chain.segments)
    assert db.target.config == s.Config("\n    METHOD pianorss,\n    DEV fd", True, at(4))
    assert (db.landmark, db.target.declared.landmark) == (at(4), at(4))
    # The second element starts at its input port, its name a line below.
    assert (chain.arrows[0].landmark, c.landmark, c.in_port.landmark) == (at(7), at(7), at(7))
    assert (c.target.landmark, c.target.declared) == (at(8), s.ClassName("Counter", at(9)))
    assert (chain.landmark, chain.end, chain.written) == (at(4), at(10), None)
    # Without its semicolon, a statement ends where the next one starts.
    assert (sched.landmark, sched.end) == (at(11), at(13))


def test_statements_over_lines_after_one_needing_config_s_reading_keep_their_lines():
    # The first needs strings as CONFIG reads them (a comment in one); the next one
    # over several lines is read the same way, and so is one on a line with a
    # comment between its words.
    text = ("a :: A(1 // x\n"      # 1
            ");\n"                 # 2
            "b :: B(\n"            # 3
            " 2) -> c;\n"          # 4
            "d /* y */ -> e(3);\n")  # 5
    first, second, third = same_as_parser(text).statements
    (a,), = first.segments
    assert (a.target.config, first.end) == (s.Config("1 // x\n", True, at(1)), at(2))
    (b,), (c,) = second.segments
    assert (b.target.config, c.target.landmark, second.end) == (
        s.Config("\n 2", True, at(3)), at(4), at(4))
    (d,), (e,) = third.segments
    assert (d.landmark, third.arrows[0].landmark, e.target.config, third.end) == (
        at(5), at(5), s.Config("3", True, at(5)), at(5))


@pytest.mark.parametrize("text", [
    # Configuration strings on one line, over several, in definitions, in a class,
    # one after the other: each read by the pattern the reader has come to.
    "a :: A(\\<00>);\nb :: B(\n 1);\nc -> d;\ndefine($X \"a\\\"b\");\ne :: E((1)) -> f;",
    "define($X (1));\na -> b;\nc :: C(\n (2));\nd :: D(3);",
    "a -> b;\nelementclass A { x :: X(\\<00>) -> output }\ny :: Y(\"q\\\"\") -> A -> z;",
    "a /* x */ -> b;\nc :: C(\\<00>) -> d;\ne /* y */ -> f(1);\ng -> h;",
    "define($X \"a\\\"b\",\n       $Y 1);\na -> b;\nc :: C(\n  \\<00>);",
])
def test_statements_needing_richer_patterns_are_read_as_the_parser_reads_them(text):
    same_as_parser(text)


@pytest.mark.parametrize("text", [
    "a, b -> c;",
    "Idle, Idle => c :: Counter -> Discard;",
    "d, e, f :: Counter(COUNT_CALL 5 x.count);",  # a declaration in a list
    "x -> a, [1] b -> [0] c, d [2];",             # ports in lists
    "a ,\n b // c\n -> c",                        # over lines
    "elementclass A { input -> a, b -> output }",
])
def test_lists_are_read_as_the_parser_reads_them(text):
    same_as_parser(text)


@pytest.mark.parametrize("text", [
    "a :: Queue(\"x\\\\y\");",                 # a configuration string with an escape
    "r :: RatedSource(DATA \\<00 0a>, LIMIT 1) -> d;",  # ... with a hex block
    "a :: Print(\"\\<41>)\\\"\") -> d;",         # ... both in a quoted string
    "a :: Queue(1 /* ) */) -> b;",            # ... with a comment
    "a :: Queue(1 // x\n);",                 # ... a line comment, over two lines
    "a :: Queue(f(1));",                     # ... with parentheses
    "f :: IPFilter(allow (tcp or (udp and dst port 53)), deny all);",
    "a :: Queue(\n f(1));",                  # nested parentheses over lines
    "a :: Queue(x\\) -> b;",                  # a backslash alone before the closing one
])
def test_configuration_strings_are_read_as_the_grammar_s_config_reads_them(text):
    same_as_parser(text)


@pytest.mark.parametrize("text", [
    "a, -> b;",                              # a list with an element left out
    "a -> b, ;",
    ", a -> b;",
    "a :: Queue(f(g(h(1))));",               # parentheses nesting deeper than CONFIG_DEPTH
    "a :: Queue(\\<00);",                    # a hex block never closed
    "a :: Queue(\"x\\<00\");",                # ... in a quoted string
    "x :: { input -> output };",             # a compound class
    "a -> (b);",                             # a group
    "define -> a;",                          # a reserved word
    "define($X 1) -> a;",                    # a definition in a chain
    "require(a) require;",
    "elementclass A { $a $b | }",            # parameters without their comma
    "elementclass A { $a, $b }",             # ... or their bar
    "elementclass A { a -> b",               # a compound class never closed
    "elementclass { a }",                    # ... without a name
    "elementclass A { a } -> b;",            # ... in a chain
    "elementclass A { a || b }(1);",
    "elementclass A B(1);",                  # a synonym with a configuration
    "a -> b\n[0 -> c;",                      # a port list never closed
    "a -> b\n[0,\n1] c;",                    # ... over two lines
    "a -> b;;",                              # an empty statement
    "# 20 \"other.click\"\na -> b;",         # a line directive
    "a -> b; /* never closed",               # a comment never closed
    "a -> b;\n\udcff",                       # a byte that was not UTF-8
    "a -> $x;",                              # a variable
    "a -> ;",                                # a mistake
    "a [0 -> b;",
    "elementclass AB ;",                     # a class named, then neither body nor class
    "elementclass Foo",                      # ... at the end of the text
])
def test_any_other_text_is_left_to_the_parser(text):
    assert plainprogram.read_program(text, "t.click") is None


def one_line_text(seed: int) -> str:
    """A text of one-line statements of elements in chains and lists (the same for the
    same seed), with spaces, comments, blank lines and carriage returns between them,
    and a last statement with or without its semicolon."""
    rng = random.Random(seed)

    def gap() -> str:
        return rng.choice(["", "\t", "  "]) if rng.random() < 0.3 else " "

    def ports() -> str:
        return rng.choice(["", "", "", "[0]", "[1, 2-3]", "[ 4 ,]", "[]", "[a/b]"])

    def element() -> str:
        name = rng.choice(["a", "b2", "x/y", "Idle", "q_1", "@n"])
        if rng.random() < 0.4:
            name += gap() + "::" + gap() + rng.choice(["Queue", "C", "Paint"])
            name += rng.choice(["", "", gap() + "(10)", "(a, b; c)", "()", "(12/08 / 0, -)",
                                '(DATA "a (b); //c", x)', "('c)' d)", "(a (b (c)) /* ) */)",
                                '(DATA \\<00 ff>, "x\\"\\<29>")', "(1 \\)"])
        return name

    statements = []
    for _ in range(rng.randrange(1, 8)):
        words = element()
        for _ in range(rng.randrange(4)):
            out, into = ports(), ports()
            words += gap() + out + gap() + rng.choice(["->", "=>", ","]) + gap() + into + gap()
            words += element()
        statements.append(words)
    between = [rng.choice([" ", "\n", "\n\n", "\r\n", "\r", " // note\n", "\n/* a\nb */ "])
               for _ in statements]
    # A semicolon may be left out between statements as well.
    ends = [rng.choice([";", ";", ""]) for _ in statements]
    text = "".join(f"{st}{end}{sep}" for st, end, sep in zip(statements, ends, between))
    if ";" not in text:
        return text
    if rng.random() < 0.5:
        # The last semicolon ends the last statement: what follows it holds none.
        last = text.rindex(";")
        text = text[:last] + text[last + 1:]
    return text


@pytest.mark.parametrize("seed", range(300))
def test_generated_one_line_texts_read_as_the_parser_reads_them(seed):
    same_as_parser(one_line_text(seed))


#: What configuration strings are made of below: CONFIG's special characters
#: (parentheses, quotes, comment slashes and stars, backslashes and the
#: brackets of a ``\<hex>`` block, newlines) and a few plain ones.
CONFIG_PIECES = ["a", " ", ",", "0f", "(", ")", '"', "'", "/", "*", "\\", "<", ">", "\n"]


def test_configuration_strings_read_whole_end_where_the_parser_ends_them():
    # Random strings of CONFIG's special characters, on one line or over several,
    # in a declaration or a definition: whatever is read without the parser is
    # what the parser reads, and a good share is.
    rng = random.Random(14)
    read = 0
    for _ in range(2000):
        config = "".join(rng.choice(CONFIG_PIECES) for _ in range(rng.randrange(1, 14)))
        text = rng.choice(["a :: C({}) -> b;", "x -> a :: C({});\ny -> z;", "a :: C({})\n  -> b;",
                           "define($X {});\na -> b;"]).format(config)
        program = plainprogram.read_program(text, "t.click")
        if program is not None:
            read += 1
            assert lang_parser.parse_text(text, "t.click") == (program, []), text
    assert read > 300


def spread_text(seed: int) -> str:
    """A text of statements of single elements spread over lines (the same for the same
    seed), with newlines and comments between their tokens and in their configuration
    strings, definitions among them, and semicolons sometimes left out."""
    rng = random.Random(seed)

    def gap() -> str:
        return rng.choice(["", " ", " ", "\n", "\n  ", "\r\n", " // c\n", "/* a\nb */",
                           "\n\n"])

    def config() -> str:
        return rng.choice(["(10)", "(\n  LIMIT 5,\n  BURST $B\n)", '(DATA "a\n(b)", x)',
                           "('x\n)' 2)", "(a / b,\r\n c)", "()"])

    def element() -> str:
        words = rng.choice(["a", "b2", "x/y", "Idle", "@n"])
        if rng.random() < 0.5:
            words += gap() + "::" + gap() + rng.choice(["Queue", "C"])
        if rng.random() < 0.4:
            words += gap() + config()
        return words

    def ports() -> str:
        return rng.choice(["", "", "[0]", "[1, 2-3]", "[]"])

    statements = []
    for _ in range(rng.randrange(1, 7)):
        if rng.random() < 0.2:
            statements.append(rng.choice(["define", "require"]) + gap() + config())
            continue
        words = element()
        for _ in range(rng.randrange(3)):
            words += gap() + ports() + gap() + rng.choice(["->", "=>"]) + gap() + ports()
            words += gap() + element()
        statements.append(words)
    # Something between statements: a semicolon (perhaps on a line of its own) or not.
    return "".join(st + rng.choice([";", "\n;", " ", "\n", " // end\n"]) + rng.choice(["\n", " "])
                   for st in statements)


@pytest.mark.parametrize("seed", range(300))
def test_generated_texts_over_several_lines_read_as_the_parser_reads_them(seed):
    same_as_parser(spread_text(seed))


def compound_text(seed: int) -> str:
    """A text of compound classes (the same for the same seed): parameters, overloads,
    classes nested in them, ``|| ...``, documentation above, statements of
    :func:`spread_text` inside and between them."""
    rng = random.Random(seed)

    def gap() -> str:
        return rng.choice(["", " ", "\n", " // c\n", "/* x\ny */"])

    def formals() -> str:
        chosen = rng.sample(["$a", "$b", "SIZE $s", "N $n"], rng.randrange(4))
        # A space after the bar: "|" and "||" would make "|||", read "||" then "|".
        if not chosen:
            return rng.choice(["", "", "| " + gap()])
        return gap() + ("," + gap()).join(chosen) + gap() + "| " + gap()

    def body(depth: int) -> str:
        parts = [formals()]
        for _ in range(rng.randrange(3)):
            if depth < 3 and rng.random() < 0.3:
                parts.append(compound(depth + 1))
            else:
                parts.append(spread_text(rng.randrange(10 ** 6)))
        return gap().join(parts)

    def compound(depth: int) -> str:
        name = rng.choice(["A", "Stage", "x/y", "Q2"])
        bodies = [body(depth) for _ in range(rng.randrange(1, 4))]
        extends = rng.choice(["", "", gap() + "||" + gap() + "..." + gap()])
        doc = rng.choice(["", "// doc\n", "  // one\n// two\n"])
        synonym = f"elementclass {name}{gap() or ' '}C{rng.choice([';', ''])}\n"
        if rng.random() < 0.2:
            return doc + synonym
        return (f"{doc}elementclass {name}{gap()}{{{gap()}"
                + ("||").join(bodies) + extends + "}" + rng.choice([";", "", "\n;"]) + "\n")

    return "".join(compound(0) if rng.random() < 0.5 else spread_text(rng.randrange(10 ** 6))
                   for _ in range(rng.randrange(1, 5)))


@pytest.mark.parametrize("seed", range(300))
def test_generated_texts_with_compound_classes_read_as_the_parser_reads_them(seed):
    same_as_parser(compound_text(seed))


#: Words, marks and pieces of statements, for :func:`token_soup`.
SOUP = ["a", "AB", "x/y", "@x", "1", "a-b", "elementclass", "define", "require", "input",
        "output", "{", "}", "|", "||", "...", ";", "->", "=>", "::", ",", "-", "[0]", "[1,2]",
        "[", "]", "(1)", "($a)", "(a /* b */)", "(// c\n)", "(", ")", "$a", "SIZE", "//c\n",
        "/*c*/", "\n", " "]


def token_soup(seed: int, count: int = 400) -> list[str]:
    """``count`` short texts of :data:`SOUP`'s pieces in any order (the same for the same
    seed), joined by spaces or not: mostly not Click, some of it Click."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        pieces = [rng.choice(SOUP) for _ in range(rng.randrange(1, 9))]
        texts.append((" " if rng.random() < 0.5 else "").join(pieces))
    return texts


@pytest.mark.parametrize("seed", range(25))
def test_a_text_read_without_the_parser_is_read_as_the_parser_reads_it(seed):
    # What the reader takes must be what the parser makes of it, without errors:
    # the rest is the parser's (``elementclass AB`` was once read as a synonym).
    for text in token_soup(seed):
        program = plainprogram.read_program(text, "t.click")
        if program is not None:
            assert lang_parser.parse_text(text, "t.click") == (program, []), text


CORPUS = sorted((ROOT / "tests" / "corpus").glob("*.click"))


def test_the_corpus_programs_read_whole_are_the_parser_s():
    whole = [path.name for path in CORPUS
             if plainprogram.read_program(path.read_text(encoding="utf-8"), "t.click")
             is not None]
    for name in whole:
        same_as_parser((ROOT / "tests" / "corpus" / name).read_text(encoding="utf-8"))
    assert len(whole) >= 9


def test_a_one_liner_is_flattened_and_written_back_without_lark_and_not_kept(tmp_path):
    script = textwrap.dedent("""
        import sys
        from pyclick.lang import flatten, unparse
        flat = flatten("FromDump(x.pcap) -> c :: Counter -> [0] Discard", "config")
        print([(e.name, e.class_name, e.config, str(e.landmark)) for e in flat.elements])
        print(repr(unparse(flat)))
        print("lark" in sys.modules, "regex" in sys.modules, "pickle" in sys.modules)
    """)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, text=True,
                         capture_output=True, check=True).stdout.splitlines()
    assert out == ["[('FromDump@1', 'FromDump', 'x.pcap', 'config:1'), "
                   "('c', 'Counter', '', 'config:1'), ('Discard@3', 'Discard', '', 'config:1')]",
                   repr("FromDump@1 :: FromDump(x.pcap);\nc :: Counter;\nDiscard@3 :: Discard;\n"
                        "\nFromDump@1 -> c\n    -> Discard@3;\n"),
                   "False False False"]
    assert not list((tmp_path / "pyclick").glob("parse-*"))


def test_escapes_comments_and_nested_parentheses_are_written_back_without_lark(tmp_path):
    # Configuration strings CONFIG reads specially, on one line: read and written
    # back as they were, with neither lark nor the `regex` module.
    script = textwrap.dedent(r"""
        import sys
        from pyclick.lang import flatten, unparse
        flat = flatten('r :: RatedSource(DATA \\<08 00>, LIMIT 1) -> '
                       'f :: IPFilter(allow (tcp or (udp and dst port 53)) /* ) */) -> '
                       'Print("say \\"hi\\"") -> Discard', "config")
        print(unparse(flat), end="")
        print("lark" in sys.modules, "regex" in sys.modules)
    """)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, text=True,
                         capture_output=True, check=True).stdout.splitlines()
    assert out[:4] == ["r :: RatedSource(DATA \\<08 00>, LIMIT 1);",
                       "f :: IPFilter(allow (tcp or (udp and dst port 53)) /* ) */);",
                       'Print@3 :: Print("say \\"hi\\"");', "Discard@4 :: Discard;"]
    assert out[-1] == "False False"


def test_the_readme_configuration_is_checked_without_lark_and_not_kept(tmp_path):
    script = textwrap.dedent("""
        import sys
        from pyclick.lang import flatten
        with open("conf/rsspp.click", encoding="utf-8") as f:
            flat = flatten(f.read(), "conf/rsspp.click", {"IF": "veth0"})
        print(sorted((e.name, e.class_name) for e in flat.elements))
        print("lark" in sys.modules, "regex" in sys.modules)
    """)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, text=True,
                         capture_output=True, check=True).stdout.splitlines()
    assert out == [repr(sorted([("Discard@2", "Discard"), ("StaticThreadSched@4",
                                                          "StaticThreadSched"),
                                ("db", "DeviceBalancer"), ("fd", "FromDevice"),
                                ("xdp", "XDPLoader")])),
                   "False False"]
    assert not list((tmp_path / "pyclick").glob("parse-*"))
