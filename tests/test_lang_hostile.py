"""Hostile configurations: bytes that are not UTF-8, numbers with thousands of
digits, compounds that double at every level, huge texts and names. Each
ends in the flat graph or in ``FILE:LINE:`` errors, within the limits of
:mod:`pyclick.lang.limits`; flattening never leaves the garbage collector
paused. Compound instances copied from an earlier expansion give exactly
what a full expansion gives.
"""

from __future__ import annotations

import gc
import random
import re
import weakref
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyclick.errors import ConfigError, Landmark
from pyclick.lang import decode_config, expand, flatten, limits, parser
from pyclick.lang.configstr import brief, shown
from tests.test_lang_props import LANDMARKED, SETTINGS, ClickText, check_total


def errors(text: str, filename: str = "t.click", **kwargs) -> list[str]:
    with pytest.raises(ConfigError) as failure:
        flatten(text, filename, **kwargs)
    return failure.value.messages


def doubling(levels: int, first: str = "input -> Null -> output") -> str:
    """Compounds that each use the one before twice: 2**levels instances."""
    lines = [f"elementclass C0 {{ {first} }}"]
    lines += [f"elementclass C{i} {{ input -> C{i - 1} -> C{i - 1} -> output }}"
              for i in range(1, levels + 1)]
    return "\n".join(lines + [f"Idle -> C{levels} -> Discard"])


# --- bytes that are not UTF-8


@pytest.mark.parametrize("data, message", [
    # "a :: A;\n" is 8 bytes, "b :: B(" 7 more: the bad byte is at offset 15, on line 2.
    (b"a :: A;\nb :: B(\xff);", "f.click:2: not UTF-8: byte 0xff at offset 15"),
    # CR LF and a lone CR each end a line, as the parser counts them.
    (b"a;\r\nb;\r\xfe", "f.click:3: not UTF-8: byte 0xfe at offset 7"),
    # A sequence cut short: the byte that starts it is reported.
    (b"x :: X(\xc3);", "f.click:1: not UTF-8: byte 0xc3 at offset 7"),
])
def test_bytes_that_are_not_utf8_are_an_error_at_their_line(data, message):
    with pytest.raises(ConfigError) as failure:
        decode_config(data, "f.click")
    assert failure.value.messages == [message]


def test_utf8_bytes_are_read_as_text():
    assert decode_config("p :: Print(é);".encode(), "f.click") == "p :: Print(é);"


def test_text_holding_escaped_bytes_is_refused_with_their_value():
    # Command-line arguments that were not UTF-8 reach Python as lone surrogates.
    assert errors("a :: A;\nb :: B(\udcff)") == ["t.click:2: not UTF-8: byte 0xff at offset 15"]
    assert errors("a :: A(\ud800)") == ["t.click:1: not UTF-8: lone surrogate U+D800 at offset 7"]


def test_a_library_that_is_not_utf8_is_an_error_in_the_library(tmp_path):
    (tmp_path / "lib.click").write_bytes(b"// ok\nelementclass L { input -> \xff -> output }\n")
    main = tmp_path / "main.click"
    main.write_text("require(library lib.click);\nIdle -> Discard;\n")
    assert errors(main.read_text(), str(main)) == \
        [f"{tmp_path / 'lib.click'}:2: not UTF-8: byte 0xff at offset 32"]


# --- numbers with thousands of digits


@pytest.mark.parametrize("text, message", [
    ("elementclass Foo", "t.click:1: unexpected end of file"),
    ("a :: A;\nelementclass Foo ;", "t.click:2: syntax error near ';'"),
])
def test_a_class_named_without_its_body_is_an_error_not_a_shorter_class(text, message):
    # Not the synonym ``elementclass Fo o``: the name is read whole.
    assert errors(text)[0] == message


def test_huge_port_numbers_are_too_large_and_shown_short():
    (message,) = errors("a :: A; b :: B;\na [" + "9" * 5000 + "] -> b;")
    assert message == f"t.click:2: port number {'9' * 60}... (5000 characters) too large " \
                      "(at most 65535)"
    assert connections_of("a :: A; b :: B; a [000000000000000000000003] -> b") == \
        {("a", 3, "b", 0)}


def connections_of(text: str) -> set[tuple[str, int, str, int]]:
    return {(c.from_element, c.from_port, c.to_element, c.to_port)
            for c in flatten(text, "t.click").connections}


def test_line_directives_with_huge_numbers_or_names_are_refused():
    assert errors("#line " + "1" * 5000 + "\na ::") == [
        "t.click:1: line number in directive has more than 9 digits",
        "t.click:2: unexpected end of file"]
    assert errors('# 7 "' + "f" * 5000 + '"\na ::')[0] == \
        "t.click:1: file name in directive longer than 4096 characters"
    # Leading zeros do not count.
    assert errors("#line 0000000000000040\na ::") == ["t.click:40: unexpected end of file"]


# --- how much a configuration may build


def test_compounds_doubling_at_every_level_stop_at_the_instance_limit():
    # 2**20 instances of C0, none with an element: counted all the same.
    assert errors(doubling(20, first="input -> output")) == \
        ["t.click:22: configuration expands to more than 100000 compound element instances"]
    # Sixty levels stop as soon: the limit is checked before a copy is made.
    assert errors(doubling(60)) == \
        ["t.click:62: configuration expands to more than 100000 compound element instances"]


def test_the_error_points_at_the_file_scope_statement_being_expanded(monkeypatch):
    # Line 2 makes 8 elements and 2 instances, line 3 would make 11 more and 3 more.
    text = ("elementclass T { input -> A -> B -> C -> output }\n"
            "x -> T -> T -> z;\ny -> T -> T -> T -> w")
    monkeypatch.setattr(limits, "MAX_ELEMENTS", 10)
    assert errors(text) == ["t.click:3: configuration expands to more than 10 elements"]
    monkeypatch.setattr(limits, "MAX_ELEMENTS", 100)
    monkeypatch.setattr(limits, "MAX_INSTANCES", 4)
    assert errors(text) == ["t.click:3: configuration expands to more than 4 compound "
                            "element instances"]


def test_groups_and_connections_count_against_the_wiring_limit(monkeypatch):
    # Each group adds three nodes and no element; 'x' and 'y' are two more.
    monkeypatch.setattr(limits, "MAX_WIRING", 40)
    chain = "x -> " + " -> ".join(["(input -> output)"] * 10) + " -> y"
    assert errors(chain + ";\nz :: Z") == \
        ["t.click:1: configuration expands to more than 40 graph nodes and connections"]
    # Three groups: 11 nodes and 7 connections. Each group takes three
    # slots of the scope (itself, its input and its output): 'y' is the 11th.
    short = "x -> " + " -> ".join(["(input -> output)"] * 3) + " -> y"
    assert connections_of(short) == {("x@1", 0, "y@11", 0)}


def test_following_connections_through_groups_counts_its_steps(monkeypatch):
    # Ten elements enter a chain of thirty pass-through groups at its start:
    # one walk of the chain, remembered for the other nine.
    groups = " -> ".join(["(input -> output)"] * 30)
    text = "".join(f"e{i} :: E; " for i in range(10)) + \
        "m :: M; " + ", ".join(f"e{i}" for i in range(10)) + f" -> {groups} -> m"
    assert len(flatten(text, "t.click").connections) == 10
    monkeypatch.setattr(limits, "MAX_WIRING", 400)
    # Entering the chain at every group walks it again from there each time.
    text = "m :: M; " + "".join(
        f"g{i} :: {{ input -> output }}; " for i in range(30)) + \
        " -> ".join(f"g{i}" for i in range(30)) + " -> m; " + \
        "".join(f"E{i} -> g{i}; " for i in range(30))
    assert errors(text)[0].endswith(
        "connections through groups and compound elements take more than 400 steps to follow")


def test_variables_count_against_the_expansion_limit(monkeypatch):
    monkeypatch.setattr(limits, "MAX_EXPANDED", 1000)
    text = "define($A " + "x" * 300 + ");\n" + "".join(f"p{i} :: P($A);\n" for i in range(5))
    # 300 characters per element: the fourth passes 1000.
    assert errors(text) == ["t.click:5: variables expand to more than 1000 characters in all"]


@pytest.mark.slow
def test_a_hundred_thousand_statements_flatten():
    text = "i :: Idle; d :: Discard;\n" + "i -> d;\n" * 100_000
    flat = flatten(text, "t.click")
    assert [e.name for e in flat.elements] == ["i", "d"]
    assert len(flat.connections) == 1


def test_anonymous_names_are_found_in_linear_time():
    # Each anonymous 'C' finds its slot's name taken, and the names after it:
    # searching from the slot each time would try 200 million names.
    n = 20_000
    text = "C;" * n + "".join(f"C@{k} :: X;" for k in range(1, n + 1))
    names = [e.name for e in flatten(text, "t.click").elements]
    assert names[:3] == [f"C@{n + 1}", f"C@{n + 2}", f"C@{n + 3}"]
    assert names[n - 1] == f"C@{2 * n}"


# --- messages stay short


def test_long_names_and_values_are_cut_in_messages():
    name = "n" * 1000
    (first, second) = errors(f"{name} :: A;\n{name} :: B")
    assert first == f"t.click:2: redeclaration of element '{'n' * 60}... (1000 characters)'"
    assert second.startswith("t.click:1: element 'nnn")
    assert all(len(m) < 200 for m in (first, second))
    (message,) = errors("require(" + "x y " * 100_000 + ")")
    assert message == f"t.click:1: bad requirement '{'x y ' * 15}...' (399999 characters)"


def test_shown_and_brief():
    assert shown("ab\ncd") == "'ab\\ncd'"
    assert shown("x" * 61) == f"'{'x' * 60}...' (61 characters)"
    assert shown("x" * 60) == f"'{'x' * 60}'"
    assert brief("y" * 70) == f"{'y' * 60}... (70 characters)"


# --- requirements


def test_requirements_keep_their_landmarks_and_refuse_empty_names():
    flat = flatten("a :: A;\nrequire(package p);\nrequire(p, compact_config)", "t.click")
    assert flat.requirements == [("package", "p"), ("", "compact_config")]
    assert flat.requirement_landmarks == {("package", "p"): Landmark("t.click", 2),
                                          ("", "compact_config"): Landmark("t.click", 3)}
    assert errors('require(package "");\nrequire(library "")') == [
        "t.click:1: bad requirement 'package \"\"'", "t.click:2: bad requirement 'library \"\"'"]


# --- the garbage collector


@pytest.mark.parametrize("enabled", [True, False])
def test_flattening_leaves_the_collector_as_it_found_it(enabled):
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        flatten("a -> b", "t.click")
        assert gc.isenabled() is enabled
        with pytest.raises(ConfigError):
            flatten("a -> ", "t.click")
        assert gc.isenabled() is enabled
        with pytest.raises(ConfigError):
            flatten(doubling(30), "t.click")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_what_flattening_made_is_left_to_the_collector_and_what_was_frozen_stays_so():
    class Cycle:
        def __init__(self) -> None:
            self.me = self

    assert gc.get_freeze_count() == 0
    flatten("a -> b", "t.click")
    # Nothing left frozen: a cycle made afterwards and dropped is still collected.
    assert gc.get_freeze_count() == 0
    cycle = weakref.ref(Cycle())
    gc.collect()
    assert cycle() is None
    kept = Cycle()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        flatten("a -> b", "t.click")
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
    del kept


# --- the grammar cache


def test_the_grammar_cache_lives_in_the_users_cache_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = parser._cache_file("grammar text")
    assert path.startswith(str(tmp_path / "pyclick") + "/")
    assert (tmp_path / "pyclick").stat().st_mode & 0o777 == 0o700
    assert parser._cache_file("other grammar") != path


@pytest.mark.parametrize("setting", ["relative/dir", "{tmp}/file/below", "{tmp}/shared"])
def test_no_grammar_cache_without_a_private_directory(tmp_path, monkeypatch, setting):
    (tmp_path / "file").write_text("")
    (tmp_path / "shared" / "pyclick").mkdir(parents=True)
    (tmp_path / "shared" / "pyclick").chmod(0o777)
    monkeypatch.setenv("XDG_CACHE_HOME", setting.format(tmp=tmp_path))
    assert parser._cache_file("grammar text") is False


def test_a_damaged_grammar_cache_is_rebuilt(tmp_path):
    with open(parser._GRAMMAR, encoding="utf-8") as f:
        grammar = f.read()
    cache = tmp_path / "grammar.lark"
    cache.write_bytes(b"not a cache\n\x80\x04garbage")
    for attempt in ("rebuilt", "read back"):
        lark = parser._load_lark(grammar, str(cache))
        token = parser._RUN.set(parser._ParseRun(parser.LineMap("t.click"), "a -> b"))
        try:
            program = lark.parse("a -> b")
        finally:
            parser._RUN.reset(token)
        assert [item.target.word for seg in program.statements[0].segments for item in seg] \
            == ["a", "b"], attempt
        assert not cache.read_bytes().startswith(b"not a cache")


# --- copies of compound instances


class ReuseText(ClickText):
    """Programs that use a few compound classes many times, with a few arguments,
    under names that sometimes collide with the names inside the copies."""

    PARTS = ["a :: A($a)", "Null", "b :: B", "x/y :: Q(1)", "Paint($a)",
             "{ input -> c :: C($a) -> output }", "( input -> d :: D -> output )", "Tee(2)"]
    TAKEN = ["a", "b", "x/y", "c", "@2/c", "Paint@2", "Idle@1", "d"]

    def body(self, earlier: list[str]) -> str:
        parts = [self.pick(self.PARTS + earlier) for _ in range(1 + self.rnd.randrange(3))]
        body = "input -> " + " -> ".join(parts) + " -> output"
        if self.rnd.random() < 0.3:
            body = f"define($L l$a); {body}; Idle -> {self.pick(earlier or ['D'])} -> Discard"
        formals = self.pick(["$a |", "$a |", "$a |", "$a, KEY $k |"])
        if self.rnd.random() < 0.2:
            return f"{formals} {body} || $a, $b | input -> output"
        return f"{formals} {body}"

    def reusing(self) -> str:
        classes: list[str] = []
        lines = []
        for k in range(1 + self.rnd.randrange(3)):
            lines.append(f"elementclass K{k} {{ {self.body(classes)} }}")
            classes.append(f"K{k}")
        for k in range(self.rnd.randrange(12)):
            use = f"{self.pick(classes)}{self.pick(['(1)', '(1)', '(2)', '($X)', '(1, KEY 3)'])}"
            form = self.rnd.randrange(5)
            if form == 0:
                lines.append(f"u{k % 4} :: {use}")
            elif form == 1:
                lines.append(f"src -> {use} -> sink")
            elif form == 2:
                lines.append(f"u{self.rnd.randrange(4)}/{self.pick(self.TAKEN)} :: Z")
            elif form == 3:
                lines.append(f"{self.pick(['u0', 'u1', 'src'])} [{self.rnd.randrange(2)}] -> {use}")
            else:
                lines.append(f"u{k % 4} :: {use}; src -> u{k % 4} -> sink")
        text = ";\n".join(lines)
        return self.mutate(text) if self.rnd.random() < 0.2 else text


def outcome(text: str) -> tuple:
    try:
        flat = flatten(text, "gen.click", variables={"X": "x y z"})
    except ConfigError as err:
        return ("error", err.messages)
    return ([(e.name, e.class_name, e.config, e.landmark) for e in flat.elements],
            [(c.from_element, c.from_port, c.to_element, c.to_port, c.landmark)
             for c in flat.connections], flat.requirements)


reuse_texts = st.integers(0, 2**64).map(lambda seed: ReuseText(random.Random(seed)))


@settings(max_examples=1500, **SETTINGS)
@given(reuse_texts.map(lambda t: t.reusing()))
def test_copied_instances_are_what_a_full_expansion_gives(text):
    copied = outcome(text)
    with mock.patch.object(expand._Expander, "copy", lambda *args: None):
        assert outcome(text) == copied


def test_a_copy_is_renamed_and_a_taken_name_makes_a_full_expansion():
    text = ("elementclass S { $n | input -> c :: Counter($n)\n"
            " -> { input -> p :: Paint($n) -> output } -> output }\n"
            "a :: S(1); b :: S(1); c :: S(2); b/d :: X; Idle -> a -> b -> c -> Discard;\n"
            "e/c :: Y; e :: S(1); c -> e -> Discard")
    # 'e' would be a copy of 'a', but 'e/c' is taken: it is expanded in full,
    # and the clash reported at the compound's element.
    assert errors(text) == ["t.click:1: redeclaration of element 'e/c'",
                            "t.click:4: element 'e/c' previously declared here"]
    text = text.replace("e/c :: Y; ", "")
    flat = flatten(text, "t.click")
    assert [(e.name, e.config) for e in flat.elements if e.class_name != "X"] == [
        ("Idle@5", ""), ("Discard@6", ""), ("Discard@8", ""),
        ("a/c", "1"), ("a/@2/p", "1"), ("b/c", "1"), ("b/@2/p", "1"),
        ("c/c", "2"), ("c/@2/p", "2"), ("e/c", "1"), ("e/@2/p", "1")]
    assert connections_of(text) == {
        ("Idle@5", 0, "a/c", 0), ("a/c", 0, "a/@2/p", 0), ("a/@2/p", 0, "b/c", 0),
        ("b/c", 0, "b/@2/p", 0), ("b/@2/p", 0, "c/c", 0), ("c/c", 0, "c/@2/p", 0),
        ("c/@2/p", 0, "Discard@6", 0), ("c/@2/p", 0, "e/c", 0), ("e/c", 0, "e/@2/p", 0),
        ("e/@2/p", 0, "Discard@8", 0)}


# --- bytes, generated


PIECES = [b"a", b"b", b"x/y", b"Idle", b"::", b"->", b"=>", b"[", b"]", b"0", b"(", b")", b"{",
          b"}", b"|", b",", b";", b" ", b"\n", b"\r", b"\t", b"$", b"${X[1]}", b"#line 3\n",
          b"/*", b"*/", b"//", b'"', b"'", b"\\<41>", b"elementclass", b"define($X 1)",
          b"require(package p)", "é".encode(), "€".encode(), b"\xff", b"\xc3", b"\xe2\x82",
          b"\xf0\x9f\x98", b"\x00", b"\x80", b"\xed\xa0\x80"]

byte_texts = st.lists(st.sampled_from(PIECES), max_size=60).map(b"".join)


def check_bytes(data: bytes) -> None:
    """Bytes either decode and flatten (or fail cleanly), or are refused at the right byte."""
    try:
        text = decode_config(data, "gen.click")
    except ConfigError as err:
        (message,) = err.messages
        match = re.fullmatch(r"gen\.click:(\d+): not UTF-8: byte 0x([0-9a-f]{2}) at offset (\d+)",
                             message)
        assert match, message
        line, byte, offset = int(match[1]), int(match[2], 16), int(match[3])
        with pytest.raises(UnicodeDecodeError) as failure:
            data.decode("utf-8")
        assert (offset, byte) == (failure.value.start, data[failure.value.start])
        before = data[:offset].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        assert line == before.count(b"\n") + 1
        return
    check_total(text)


@settings(max_examples=2500, **SETTINGS)
@given(byte_texts)
def test_arbitrary_bytes_flatten_or_fail_cleanly(data):
    check_bytes(data)


@settings(max_examples=1500, **SETTINGS)
@given(st.integers(0, 2**64))
def test_generated_programs_with_mangled_bytes_flatten_or_fail_cleanly(seed):
    rnd = random.Random(seed)
    data = bytearray(ClickText(rnd).program().encode())
    for _ in range(1 + rnd.randrange(3)):
        at = rnd.randrange(len(data) + 1)
        data[at:at + rnd.randrange(3)] = rnd.choice(PIECES[-9:] + [bytes([rnd.randrange(256)])])
    check_bytes(bytes(data))


def test_landmarked_pattern_is_what_the_property_tests_check():
    assert LANDMARKED.match("gen.click:3: x") and not LANDMARKED.match("gen.click: x")
