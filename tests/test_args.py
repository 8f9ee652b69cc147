"""Configuration arguments: splitting, quoting, keywords, types and errors."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyclick.args import (BOOL, BYTES, ELEMENT, FILENAME, FLOAT, INT, MSEC, STRING, TIME, UNSIGNED,
                          WORD, Args, Choice, ListOf, quote, shorten, split_args, uncomment,
                          unquote)
from pyclick.element import Element
from pyclick.errors import ConfigError
from pyclick.lang import configstr
from pyclick.router import Router
from tests.helpers import flat_config


class ArgsProbe(Element):
    """ArgsProbe(...) -- accepts anything, for argument tests"""

    def configure(self, args):
        pass


def probe_router(*names: str) -> Router:
    return Router(flat_config([(n, "ArgsProbe", "") for n in names], at="conf.click"))


def errors_of(args: Args) -> list[str]:
    with pytest.raises(ConfigError) as info:
        args.complete()
    return info.value.messages


# --- splitting and quoting

# Texts made of what the lexical rules treat specially, and plain characters.
LEXICAL_TEXTS = st.text(alphabet=list("ab ,\t\n/*\"'\\<>()[]{}"), max_size=24)


@settings(max_examples=3000, deadline=None)
@given(LEXICAL_TEXTS, st.booleans())
def test_plain_strings_are_split_and_stripped_as_the_scan_reads_them(text, brackets):
    # Strings without quotes, data runs, comments (or brackets) skip the
    # character-by-character scan: the answers must be the scan's.
    assert configstr.split_args(text, brackets=brackets) == \
        configstr._split_args_scanned(text, brackets)
    assert configstr.uncomment(text) == configstr._uncomment_scanned(text)
    assert configstr.strip_comments(text) == configstr._strip_comments_scanned(text)
    assert configstr.split_words(text) == configstr._split_words_scanned(text)
    assert configstr.shift_word(text) == configstr._shift_word_scanned(text)


def test_plain_strings_split_on_commas_and_lose_their_outer_space():
    assert configstr.split_args(" 14 ,INTERFACES 10.0.0.1/24,\t") == \
        ["14", "INTERFACES 10.0.0.1/24"]
    assert configstr.split_args("a,, b", brackets=True) == ["a", "", "b"]
    assert configstr.split_args(" ") == [] and configstr.split_args(", ") == [""]
    assert configstr.uncomment("\n a  b \t") == "a  b"
    assert configstr.strip_comments("a / b *") == "a / b *"
    assert configstr.split_words(" 10.0.0.1/24\t 10.0.1.1/24 ") == ["10.0.0.1/24", "10.0.1.1/24"]
    assert configstr.shift_word(" ab  cd e ") == ("ab", "cd e ")


def test_a_range_is_made_once_and_still_made_past_the_kept_ones(monkeypatch):
    assert UNSIGNED.range(0, 10) is UNSIGNED.range(0, 10)
    assert UNSIGNED.range(0, 10) is not UNSIGNED.range(0, 10, open_high=True)
    monkeypatch.setattr("pyclick.args.MAX_RANGES", 0)
    fresh = INT.range(-37, 41)
    assert fresh is not INT.range(-37, 41)
    assert fresh("41", None) == 41
    with pytest.raises(ValueError, match="at least -37 and at most 41"):
        fresh("42", None)


def test_split_on_top_level_commas_only():
    assert split_args('a, "b, c", (d, e), [f, g], {h, i}, \'j, k\'') == [
        "a", '"b, c"', "(d, e)", "[f, g]", "{h, i}", "'j, k'"]


def test_split_drops_empty_arguments_and_strips():
    assert split_args("  ") == []
    assert split_args(" a ,, b , ") == ["a", "b"]


def test_comments_are_removed_outside_quotes():
    assert uncomment('a // x\nb /* y, z */ c "// kept" \'/* kept */\'') == \
        'a \nb   c "// kept" \'/* kept */\''
    assert split_args("A 1, // B 2,\n C 3") == ["A 1", "C 3"]


def test_an_argument_set_as_click_s_reconfigure_handlers_set_it():
    with_argument = configstr.with_argument
    # At its position when it stands there as a value.
    assert with_argument("0x0800, 1:1:1:1:1:1, 2:2:2:2:2:2", "2048", 0, "ETHERTYPE") == \
        "2048, 1:1:1:1:1:1, 2:2:2:2:2:2"
    # Given by keyword: the keyword argument moves to the end with the new value.
    assert with_argument("SRC 1:1:1:1:1:1, ETHERTYPE 0x0800, DST 2:2:2:2:2:2", "7", 0,
                         "ETHERTYPE") == "SRC 1:1:1:1:1:1, DST 2:2:2:2:2:2, ETHERTYPE 7"
    # Absent, or its position held by another keyword: added at the end.
    assert with_argument("", "1000", 0, "CAPACITY") == "CAPACITY 1000"
    assert with_argument("VLAN_ID 5", "3", 0, "ETHERTYPE") == "VLAN_ID 5, ETHERTYPE 3"
    # A lone all-caps word at the position is a value, and comments go.
    assert with_argument("ANNO /* tci */, 9", "1", 0, "VLAN_TCI") == "1, 9"
    assert with_argument("tcp, udp, -", "icmp", 1) == "tcp, icmp, -"


def test_unquote_double_quotes_take_escapes():
    assert unquote(r'"a\tb\n\"q\"\\"') == 'a\tb\n"q"\\'
    assert unquote(r'"\x41\101\<48 69>"') == "AAHi"


def test_hex_data_may_hold_comments_even_with_a_closing_bracket_in_them():
    text = "\\< // header > first\n 45 00 /* > */ 0a\n>, LIMIT 1"
    assert split_args(text) == ["\\< // header > first\n 45 00 /* > */ 0a\n>", "LIMIT 1"]
    assert unquote(split_args(text)[0]) == "E\x00\n"
    assert unquote('"a\\<41 /* b */ 42>c"') == "aABc"
    # Anything but digits, spaces and comments is not hex data: a backslash stays.
    assert unquote("\\<4g>") == "\\<4g>"


def test_unquote_single_quotes_are_literal_and_parts_concatenate():
    assert unquote(r"'a\tb'") == r"a\tb"
    assert unquote("\"a\"b'c'") == "abc"
    assert unquote("plain text") == "plain text"


def test_quote_round_trips():
    for text in ["simple", "with space", 'q"uote', "back\\slash", "", "new\nline"]:
        assert unquote(quote(text)) == text


def test_quoted_text_is_one_argument_even_with_comment_marks():
    for text in ["/run//pyclick.sock", "a, b", "x /* y */"]:
        assert [unquote(arg) for arg in split_args(quote(text))] == [text]


# --- positional and keyword arguments

def test_positional_then_keywords():
    args = Args("5, hello, TIMER 10ms, ACTIVE false")
    assert args.read_mp("COUNT", INT) == 5
    assert args.read_p("LABEL", STRING) == "hello"
    assert args.read("TIMER", TIME) == pytest.approx(0.01)
    assert args.read("ACTIVE", BOOL) is False
    args.complete()


def test_positional_argument_may_be_given_by_keyword():
    args = Args("LABEL x, COUNT 3")
    assert args.read_mp("COUNT", INT) == 3
    assert args.read_p("LABEL", STRING) == "x"
    args.complete()


def test_a_positional_place_is_used_up_when_its_keyword_is_given():
    # Click's rule: the keyword's value wins and the argument in its place is
    # dropped, so the next positional argument reads the next place.
    args = Args("ok, 8, LABEL x")
    assert args.read_p("LABEL", STRING) == "x"
    assert args.read_p("MAXLENGTH", INT) == 8
    args.complete()
    args = Args("ok, 8, MAXLENGTH 4")
    assert args.read_p("LABEL", STRING) == "ok"
    assert args.read_p("MAXLENGTH", INT) == 4
    args.complete()


def test_optional_defaults_and_has():
    args = Args("VERBOSE 1")
    assert args.has("VERBOSE") and not args.has("OTHER")
    assert args.read_p("LABEL", STRING, "none") == "none"
    assert args.read("TIMER", TIME, 0.1) == 0.1
    assert args.read("VERBOSE", INT) == 1
    args.complete()


def test_lowercase_or_mixed_words_are_not_keywords():
    args = Args("Timer 5, tcp 7")
    assert args.read_mp("A", STRING) == "Timer 5"
    assert args.read_mp("B", STRING) == "tcp 7"
    args.complete()


def test_an_optional_argument_leaves_what_click_reads_as_a_keyword():
    # Click takes "my label" for keyword "my" with value "label": no optional
    # positional argument takes it, and left over it is an unknown keyword;
    # the arguments after it are not positional either.
    args = Args("my label, 5")
    assert args.read_p("LABEL", STRING, "none") == "none"
    assert args.read_p("MAXLENGTH", INT, 24) == 24
    with pytest.raises(ConfigError) as raised:
        args.complete()
    assert raised.value.messages == ["my: unknown keyword (known: LABEL, MAXLENGTH)",
                                     "too many arguments: '5'"]


def test_a_mandatory_argument_takes_what_click_reads_as_a_keyword():
    args = Args("a.b c, 5")
    assert args.read_p("X", STRING, "none") == "none"
    assert args.read_mp("Y", STRING) == "a.b c"
    assert args.read_p("Z", INT) == 5
    args.complete()


def test_only_a_word_then_a_value_looks_like_a_keyword_to_click():
    # A lone word, a first word starting with a digit or holding a '-', are values.
    for text, label in (("mylabel", "mylabel"), ("1 b", "1 b"), ("a-b c", "a-b c"),
                        ('"my label"', "my label")):
        args = Args(text)
        assert args.read_p("LABEL", STRING) == label
        args.complete()


def test_a_lone_capital_word_is_positional_unless_read_as_keyword():
    args = Args("TCP, 7777")
    assert args.read_mp("TYPE", WORD) == "TCP"
    assert args.read_mp("PORT", UNSIGNED) == 7777
    args.complete()


def test_keyword_with_empty_value():
    args = Args("1, LABEL")
    assert args.read_mp("N", INT) == 1
    assert args.read("LABEL", STRING) == ""
    args.complete()


def test_last_occurrence_of_a_keyword_wins_and_read_all_gets_every_one():
    args = Args("X 1, X 2, PORT 1, PORT 2, PORT 3")
    assert args.read("X", INT) == 2
    assert args.read_all("PORT", INT) == [1, 2, 3]
    args.complete()


def test_rest_returns_remaining_positionals():
    args = Args("first, a 1, b 2, KEY 9")
    assert args.read_mp("FIRST", STRING) == "first"
    assert args.rest() == ["a 1", "b 2"]
    assert args.read("KEY", INT) == 9
    args.complete()


def test_keyword_value_keeps_inner_commas_and_quotes():
    args = Args('CMD "a, b", LIST (1, 2)')
    assert args.read("CMD", STRING) == "a, b"
    assert args.read("LIST", STRING) == "(1, 2)"
    args.complete()


# --- types

@pytest.mark.parametrize("text, value", [
    ("true", True), ("yes", True), ("1", True), ("TRUE", True), ("t", True), ("y", True),
    ("false", False), ("no", False), ("0", False), ("f", False), ("N", False)])
def test_bool(text, value):
    assert BOOL(text, Args("")) is value


@pytest.mark.parametrize("text, value", [
    ("10", 10), ("-3", -3), ("0x1f", 31), ("010", 8), ("+010", 8), ("0_10", 8), ("00", 0),
    ("0b101", 5), ("1_000", 1000)])
def test_int(text, value):
    assert INT(text, Args("")) == value


@pytest.mark.parametrize("text, value", [
    ("10", 10.0), ("10s", 10.0), ("10ms", 0.01), ("1.5s", 1.5), ("2min", 120.0),
    ("250us", 250e-6), ("3 ms", 0.003), ("1h", 3600.0), (".5", 0.5), ("1e-3", 0.001),
    ("+0.1", 0.1), ("+100ms", 0.1)])
def test_time(text, value):
    assert TIME(text, Args("")) == pytest.approx(value)


def test_float_string_word_unsigned():
    a = Args("")
    assert FLOAT("0.75", a) == 0.75
    assert STRING('"a b"', a) == "a b"
    assert WORD('"ab"c', a) == "abc"
    assert UNSIGNED("0", a) == 0


def test_filename_is_one_word_with_a_home_directory(monkeypatch):
    a = Args("")
    monkeypatch.setenv("HOME", "/home/op")
    assert FILENAME("/tmp/trace.pcap", a) == "/tmp/trace.pcap"
    assert FILENAME('"/tmp/a b.pcap"', a) == "/tmp/a b.pcap"
    assert FILENAME("~/trace.pcap", a) == "/home/op/trace.pcap"
    assert FILENAME("-", a) == "-"
    for text in ("/tmp/a b", "/dev/nullENCAP ETHER", '""'):
        with pytest.raises(ValueError, match="expected a file name"):
            FILENAME(text, a)


def test_bytes_hex_and_quoted():
    a = Args("")
    assert BYTES("0x0a0B", a) == b"\n\x0b"
    assert BYTES("6d:5a:56", a) == b"mZV"
    assert BYTES('"ab\\x01"', a) == b"ab\x01"


def test_list_of_and_choice():
    a = Args("")
    assert ListOf(INT)("1 2  3", a) == [1, 2, 3]
    assert ListOf(STRING)('a "b c"', a) == ["a", "b c"]
    assert Choice("rss", "rsspp")("rsspp", a) == "rsspp"


@pytest.mark.parametrize("type_, text, expected", [
    (BOOL, "maybe", "expected boolean"),
    (INT, "1.5", "expected integer"),
    (INT, "09", "expected integer"),
    (UNSIGNED, "-1", "expected unsigned integer"),
    (FLOAT, "nan", "expected real number"),
    (FLOAT, "x", "expected real number"),
    (TIME, "abc", "expected time"),
    (TIME, "10 parsecs", "expected time"),
    (TIME, "-1s", "expected time"),
    (WORD, "two words", "expected a single word"),
    (BYTES, "abc", "expected bytes"),
    (Choice("a", "b"), "c", "expected one of a, b"),
])
def test_type_errors(type_, text, expected):
    with pytest.raises(ValueError, match=expected):
        type_(text, Args(""))


# --- element resolution

def test_element_resolves_relative_to_the_compound():
    router = probe_router("x", "a/x", "a/b/x", "a/b/c", "a/d", "y")
    reader = router.element("a/b/c")
    args = Args("x, d, y", reader)
    assert args.read_mp("A", ELEMENT).name == "a/b/x"
    assert args.read_mp("B", ELEMENT).name == "a/d"
    assert args.read_mp("C", ELEMENT).name == "y"
    args.complete()
    assert router.find("x").name == "x"


def test_elements_named_are_recorded_in_reading_order():
    router = probe_router("db", "fd", "xdp")
    args = Args("xdp, DEV fd, OTHER nosuch, ALSO fd", router.element("db"))
    args.read_p("COUNTER", ELEMENT)
    args.read_m("DEV", ELEMENT)
    args.read("OTHER", ELEMENT)
    args.read("ALSO", ELEMENT)
    assert [e.name for e in args.references] == ["xdp", "fd", "fd"]


def test_unknown_element_error_names_place_element_class_and_keyword():
    router = probe_router("db")
    args = Args("DEV nosuch", router.element("db"))
    assert args.read_m("DEV", ELEMENT) is None
    assert errors_of(args) == [
        "conf.click:1: While configuring 'db :: ArgsProbe': DEV: no element named 'nosuch'"]
    assert args.references == []


# --- errors

def test_type_error_message_names_element_class_keyword_and_text():
    router = probe_router("db")
    args = Args("TIMER abc", router.element("db"))
    assert args.read("TIMER", TIME, 0.1) == 0.1
    assert errors_of(args) == [
        "conf.click:1: While configuring 'db :: ArgsProbe': "
        "TIMER: expected time (e.g. 10ms, 1s), got 'abc'"]


def test_every_error_of_an_element_is_reported_at_once():
    router = probe_router("e")
    args = Args("x, y, z, COUNT many, BOGUS 1", router.element("e"))
    args.read_mp("N", INT)
    args.read("COUNT", UNSIGNED)
    args.read_m("DEV", STRING)
    messages = errors_of(args)
    prefix = "conf.click:1: While configuring 'e :: ArgsProbe': "
    assert messages == [
        prefix + "N: expected integer, got 'x'",
        prefix + "COUNT: expected unsigned integer, got 'many'",
        prefix + "DEV: missing mandatory argument",
        prefix + "too many arguments: 'y'",
        prefix + "too many arguments: 'z'",
        prefix + "BOGUS: unknown keyword (known: N, COUNT, DEV)",
    ]


def test_positional_after_keywords_is_an_error():
    args = Args("A 1, stray")
    args.read_p("A", INT)
    assert errors_of(args) == ["too many arguments: 'stray'"]


def test_list_error_names_the_item():
    args = Args("CPUS 1 x 3")
    args.read("CPUS", ListOf(INT))
    assert errors_of(args) == ["CPUS: list item 2: expected integer, got 'x'"]


def test_convert_records_errors_under_the_given_key():
    args = Args("")
    assert args.convert("THREAD", "seven", UNSIGNED, -1) == -1
    assert errors_of(args) == ["THREAD: expected unsigned integer, got 'seven'"]


def test_complete_is_idempotent():
    args = Args("1")
    args.read_mp("N", INT)
    assert args.complete() is args
    assert args.complete() is args


# --- declared ranges, infinities, long values

@pytest.mark.parametrize("type_, text, expected", [
    (UNSIGNED.range(1, 4096), "1", 1),
    (UNSIGNED.range(1, 4096), "4096", 4096),
    (INT.range(-1, 10), "-1", -1),
    (FLOAT.range(0, 1, open_low=True), "1", 1.0),
    (FLOAT.range(0, 1, open_low=True), "1e-300", 1e-300),
    (TIME.range(0.001, 1), "1ms", 0.001),
    (TIME.range(0.001, 1), "1s", 1.0),
    (MSEC, "100", 0.1),
    (MSEC, "100ms", 0.1),
    (MSEC, "2s", 2.0),
    (TIME.or_infinite(), "inf", math.inf),
])
def test_values_inside_a_declared_range(type_, text, expected):
    assert type_(text, Args("")) == pytest.approx(expected)


@pytest.mark.parametrize("type_, text, expected", [
    (UNSIGNED.range(1, 4096), "0", "must be at least 1 and at most 4096"),
    (UNSIGNED.range(1, 4096), "4097", "must be at least 1 and at most 4096"),
    (INT.range(high=10), "11", "must be at most 10"),
    (FLOAT.range(0, 1, open_low=True), "0", "must be greater than 0 and at most 1"),
    (FLOAT.range(0, 1, open_high=True), "1", "must be at least 0 and less than 1"),
    (TIME.range(0.001, 1), "2s", "must be at least 0.001 s and at most 1 s"),
    (TIME.range(0.001), "100us", "must be at least 0.001 s"),
])
def test_values_outside_a_declared_range(type_, text, expected):
    with pytest.raises(ValueError) as err:
        type_(text, Args(""))
    assert str(err.value) == expected


@pytest.mark.parametrize("type_, text, expected", [
    (FLOAT, "inf", "expected finite real number"),
    (FLOAT, "-Infinity", "expected finite real number"),
    (FLOAT, "1e999", "expected finite real number"),
    (FLOAT, "nan", "expected real number, not NaN"),
    (TIME, "1e999", "expected finite time"),
    (TIME, "inf", "expected finite time"),
    (MSEC, "1e999ms", "expected finite time"),
    (TIME.or_infinite(), "nan", "expected time (e.g. 10ms, 1s)"),
    (INT, "9" * 101, "expected integer of at most 100 digits"),
    (UNSIGNED, "9" * 5000, "expected unsigned integer of at most 100 digits"),
    (INT, "\u00b2", "expected integer"),
    (UNSIGNED, "\u0661\u0662", "expected unsigned integer"),
    (FLOAT, "\u0661", "expected real number"),
])
def test_infinities_nan_and_odd_digits_are_refused(type_, text, expected):
    with pytest.raises(ValueError) as err:
        type_(text, Args(""))
    assert str(err.value) == expected


def test_range_keyword_of_the_read_methods():
    router = probe_router("sim")
    args = Args("9000, LOAD 0, STEP 2s", router.element("sim"))
    assert args.read_p("CORES", UNSIGNED, 8, range=(1, 4096)) == 8
    assert args.read("LOAD", FLOAT, 0.6, range=(0, None)) == 0.0
    assert args.read("STEP", TIME, 0.001, range=(1e-6, 1)) == 0.001
    prefix = "conf.click:1: While configuring 'sim :: ArgsProbe': "
    assert errors_of(args) == [
        prefix + "CORES: must be at least 1 and at most 4096, got '9000'",
        prefix + "STEP: must be at least 1e-06 s and at most 1 s, got '2s'"]
    with pytest.raises(TypeError):
        Args("X y").read("X", STRING, range=(0, 1))


def test_declared_types_are_recorded_with_their_ranges():
    args = Args("A 1")
    cores = UNSIGNED.range(1, 4096)
    args.read("A", INT)
    args.read("CORES", cores, 8)
    args.read("LOAD", FLOAT, range=(0, 1))
    args.read_all("PORT", UNSIGNED)
    assert list(args.declared) == ["A", "CORES", "LOAD", "PORT"]
    assert args.declared["CORES"] is cores and args.declared["A"] is INT
    assert args.declared["LOAD"].range_text() == "at least 0 and at most 1"
    assert args.declared["LOAD"].declared and not args.declared["A"].declared
    assert not TIME.declared and TIME.range_text() == "at least 0 s"


def test_a_range_cannot_be_empty():
    with pytest.raises(ValueError):
        UNSIGNED.range(5, 1)


def test_long_values_are_shortened_in_messages():
    router = probe_router("e")
    long_value = "x" * 1_000_000
    args = Args(f"N {long_value}, {'Y' * 200} 1, {'z' * 100}", router.element("e"))
    args.read("N", INT)
    messages = errors_of(args)
    prefix = "conf.click:1: While configuring 'e :: ArgsProbe': "
    assert messages == [
        prefix + f"N: expected integer, got '{'x' * 60}…(1000000 bytes)'",
        prefix + f"{'Y' * 60}…(200 bytes): unknown keyword (known: N)",
        prefix + f"too many arguments: '{'z' * 60}…(100 bytes)'"]
    assert shorten("é" * 61) == "é" * 60 + "…(122 bytes)"
    assert shorten("short") == "short"


def test_element_names_in_errors_are_shortened():
    router = probe_router("e")
    args = Args(f"DEV {'n' * 500}", router.element("e"))
    args.read("DEV", ELEMENT)
    assert errors_of(args) == ["conf.click:1: While configuring 'e :: ArgsProbe': "
                               f"DEV: no element named '{'n' * 60}…(500 bytes)'"]
