"""Parsing Click text: the plain-data program, raw configuration strings,
landmarks and line directives, and syntax errors reported together."""

from __future__ import annotations

import pytest

from pyclick.errors import ConfigError, Landmark
from pyclick.lang import parse
from pyclick.lang import syntax as s
from pyclick.lang.model import FlatConnection


def only_item(text: str) -> s.Item:
    (connection,) = parse(text).statements
    ((item,),) = connection.segments
    return item


def errors_of(text: str, filename: str = "t.click") -> list[str]:
    with pytest.raises(ConfigError) as failure:
        parse(text, filename)
    return failure.value.messages


def test_declaration_is_plain_data_with_landmark():
    item = only_item("\n\nq :: Queue(10)")
    assert item.target == s.ElementRef("q", s.ClassName("Queue", Landmark("config", 3)),
                                       s.Config("10", True, Landmark("config", 3)),
                                       Landmark("config", 3))


def test_nodes_are_equal_by_their_class_and_fields_a_connection_without_its_text():
    at = Landmark("t.click", 1)
    config = s.Config("1", True, at)
    item = (s.Item(None, s.ElementRef("a", None, None, at), None, at),)
    read = s.Connection((item,), (), at, at, "a;")
    assert read == s.Connection((item,), (), at, at) == read.replace(written=None)
    assert read != s.Connection((item,), (), at, Landmark("t.click", 2))
    assert s.Define(config, at) != s.Require(config, at)
    assert repr(config) == "Config(text='1', closed=True, landmark=Landmark(file='t.click', line=1))"


def test_flat_connections_are_equal_and_hashed_without_their_landmark():
    here, there = Landmark("t.click", 1), Landmark("t.click", 2)
    first, again = FlatConnection("a", 0, "b", 1, here), FlatConnection("a", 0, "b", 1, there)
    assert first == again and hash(first) == hash(again) and len({first, again}) == 1
    assert first != FlatConnection("a", 1, "b", 1, here) and first != ("a", 0, "b", 1)


@pytest.mark.parametrize("config", [
    "a, (b (c)), d",
    '"unbalanced ) in quotes", \'and ( here\'',
    "x /* a ) in a comment */ y",
    "// a ) in a line comment\n  z",
    "DATA \\<48 29 49>, LIMIT 1",
    "\"escaped \\\" quote )\"",
    "trailing backslash \\",
    "  spaced   out \n\n ",
])
def test_configuration_strings_are_kept_raw(config):
    item = only_item(f"e :: E({config});")
    assert item.target.config.text == config


def test_chain_segments_ports_and_arrows():
    (connection,) = parse("a [1] -> [2] b, c => [0-2, 4,] d").statements
    first, second, third = connection.segments
    assert [a.many for a in connection.arrows] == [False, True]
    assert first[0].out_port.ranges == (s.PortItem("1", None, Landmark("config", 1)),)
    assert [i.target.word for i in second] == ["b", "c"]
    port = third[0].in_port
    assert [(r.first, r.last) for r in port.ranges] == [("0", "2"), ("4", None)]
    assert port.open


def test_implicit_ends_leave_empty_segments():
    (group,) = [item.target for item in only_segment("x -> (-> [1]) -> y")]
    (inner,) = group.statements
    assert inner.segments[0] == ()
    assert inner.segments[1][0].target is None


def only_segment(text: str) -> list[s.Item]:
    (connection,) = parse(text).statements
    return [item for item in connection.segments[1]]


def test_compound_class_with_formals_and_overloads():
    (statement,) = parse("elementclass C { $a, KEY $k | input -> output || $x | || || ... }").statements
    assert isinstance(statement, s.ElementClassDef)
    first, second, third = statement.spec.bodies
    assert [(f.variable, f.keyword) for f in first.formals] == [("a", None), ("k", "KEY")]
    assert [f.variable for f in second.formals] == ["x"]
    assert third.formals == () and third.statements == ()
    assert statement.spec.extends


def test_synonym_define_and_require():
    synonym, define, require = parse("elementclass A B; define($X 1); require(package p)").statements
    assert synonym.spec == s.ClassName("B", Landmark("config", 1))
    assert define.config.text == "$X 1"
    assert require.config.text == "package p"


def test_comment_ends_identifier():
    item = only_item("tail :: Counter// comment\n;")
    assert (item.target.word, item.target.declared.name) == ("tail", "Counter")


def test_line_directives_change_landmarks():
    text = ('a :: A;\n# 100 "virtual.click"\nb :: B;\n\nc :: C;\n'
            '#line 7\nd :: D;\n# 3 ""\ne :: E;\n')
    landmarks = [st.landmark for st in parse(text, "real.click").statements]
    assert landmarks == [Landmark("real.click", 1), Landmark("virtual.click", 100),
                         Landmark("virtual.click", 102), Landmark("virtual.click", 7),
                         Landmark("real.click", 3)]


def test_line_directives_inside_configuration_strings():
    # Applied where they stand and left out of the string, except inside
    # quotes, comments and hex data, where a # line is part of the text. After
    # '#line 30' the string's last line is 30, p's 31.
    text = ('m :: M(\n# 100 "v.click"\n"x");\nn :: N;\n'
            'o :: O("a\n# 5\nb", // c\n\\<00\n# 6 >, f(\n#line 30\n));\np :: P;\n')
    statements = parse(text, "r.click").statements
    assert [st.landmark for st in statements] == [
        Landmark("r.click", 1), Landmark("v.click", 101), Landmark("v.click", 102),
        Landmark("v.click", 31)]
    m, o = (statements[i].segments[0][0].target.config.text for i in (0, 2))
    assert m == '\n\n"x"'
    assert o == '"a\n# 5\nb", // c\n\\<00\n# 6 >, f(\n\n)'


def test_a_bad_directive_inside_a_configuration_string_is_an_error():
    assert errors_of("a :: A(1,\n# oops\n2);\nb :: B(\n#line 1234567890\n);") == [
        "t.click:2: unknown preprocessor directive",
        "t.click:5: line number in directive has more than 9 digits"]


def test_unknown_directive_and_crlf_line_counting():
    messages = errors_of("a :: A;\r\nb :: B;\r#pragma once\r\nc :: C;")
    assert messages == ["t.click:3: unknown preprocessor directive"]


def test_compound_class_starts_at_its_comment_block():
    _, statement = parse("a :: A;\n// Doc for C,\n// on two lines.\nelementclass C { }").statements
    assert statement.landmark.line == 4
    assert statement.spec.landmark.line == 2


def test_every_syntax_error_is_reported():
    messages = errors_of("a :: ;\nb -> c;\nd :: :: e;\nf -> $g;\n")
    assert [m.split(": ", 1)[0] for m in messages] == ["t.click:1", "t.click:3", "t.click:4"]
    assert all("syntax error near" in m for m in messages)


@pytest.mark.parametrize("text, message", [
    ("a :: A(1);\nb :: Print(\"open;\n\n", "t.click:4: expected ')': the configuration string "
                                            "opened at t.click:2 never ends"),
    ("a :: A(1 /* open\n", "t.click:2: expected ')': the configuration string opened at "
                           "t.click:1 never ends"),
    ("elementclass A {\n input -> output;\n", "t.click:3: expected '}'"),
    ("x -> ( input -> output\n", "t.click:2: expected ')'"),
    ("a :: A;\n/* never closed\n", "t.click:2: comment never closed: expected '*/'"),
    ("a ::", "t.click:1: unexpected end of file"),
])
def test_unterminated_constructs_are_reported(text, message):
    assert errors_of(text)[0] == message


def test_deep_nesting_parses_without_recursion_limits():
    program = parse("x -> " + "(" * 3000 + ")" * 3000 + " -> y")
    assert len(program.statements) == 1
