"""Variable expansion in Click's corner cases: ``${NAME[i]}`` indices read as
Click's integer parser reads them, defaults after a malformed index, and
``$(`` left open at the end of a value.

Expected values are worked out by hand from Click's rules: spaces may follow
``[`` but not precede ``]``; the index is a C integer (sign, ``0x``, ``0b``,
leading-``0`` octal, single underscores between digits) saturating at 32
bits; a negative index or one not closed by ``]`` means the whole value; a
``-`` where reading stopped starts the default, which runs to the ``}``.
"""

from __future__ import annotations

import pytest

from pyclick.lang import flatten
from pyclick.lang.variables import braced_parts, c_integer


def config_of(reference: str, **variables: str) -> str:
    (element,) = flatten(f"define($X a b c); p :: P({reference})", "t.click",
                         variables=variables).elements
    return element.config


@pytest.mark.parametrize("reference, expected", [
    ("${X[1]}", "b"),
    ("${X[ 1]}", "b"),            # spaces after '[' are skipped
    ("${X[1 ]}", "a b c"),        # but not before ']': no index
    ("${X [1]}", "b"),            # nor between the name and '['
    ("${X[01]}", "b"),            # octal 1
    ("${X[010]}", "${X[010]}"),   # octal 8: past the last word, an empty word, and
                                  # a string that expands to nothing stays as written
    ("${X[08]}", "a b c"),        # octal stops at '8', which is not ']'
    ("${X[0x2]}", "c"),
    ("${X[0b10]}", "c"),
    ("${X[0_1]}", "b"),           # an underscore between digits
    ("${X[1__0]}", "a b c"),      # two underscores end the number
    ("${X[+2]}", "c"),
    ("${X[-0]}", "a"),
    ("${X[-1]}", "a b c"),        # negative: the whole value
    ("${X[" + "9" * 5000 + "]}", "${X[" + "9" * 5000 + "]}"),  # saturates at 2**31 - 1
    ("${X[-" + "9" * 5000 + "]}", "a b c"),    # saturates at -2**31
    ("${X[1]junk}", "b"),         # what follows the index is not looked at
    ("${X[1-d]}", "a b c"),       # X is defined: the default is not used
    ("${Y[1-d]}", "d]"),          # the default starts where the number stopped
    ("${Y[-d]}", "d]"),           # '-' alone is no number: the default starts there
    ("${Y[1 -d]}", "${Y[1 -d]}"),  # a space where the number stopped: no default
    ("${Y[1]-d}", "d"),
    ("${Y[1] -d}", "d"),          # spaces after ']' are skipped
    ("${ X }", "a b c"),
])
def test_word_index_and_default(reference, expected):
    assert config_of(reference) == expected


def test_a_leading_zero_makes_the_index_octal():
    words = " ".join(f"w{i}" for i in range(11))
    assert config_of("${W[010]}", W=words) == "w8"
    assert config_of("${W[10]}", W=words) == "w10"


def test_words_keep_quotes_and_comments_separate_words():
    assert config_of("${Q[1]}", Q="'a b' \"c d\"/* note */e") == '"c d"'
    assert config_of("${Q[2]}", Q="'a b' \"c d\"/* note */e") == "e"


def test_open_parenthesis_ending_in_a_closing_one_is_a_reference():
    # "$((" never balances, but the value ends with ')': Click takes the
    # reference to end there, and expands the variables inside its name.
    assert config_of("$V", V="$(($N)", N="1") == "$((1)"
    assert config_of("$V", V="$(($N) x", N="1") == "$(($N) x"


@pytest.mark.parametrize("text, value, end", [
    ("12]", 12, 2),
    ("0x1f]", 31, 4),
    ("0X1F]", 31, 4),
    ("0b101", 5, 5),
    ("0x]", 0, 1),        # "0x" without a digit: the "0" alone
    ("0x", 0, 1),
    ("-", 0, 0),          # no number at all
    ("_1", 0, 0),
    ("1_", 1, 1),
    ("2147483648", 2**31 - 1, 10),
    ("-2147483648", -2**31, 11),
    ("-2147483649", -2**31, 11),
])
def test_c_integer(text, value, end):
    assert c_integer(text, 0) == (value, end)


def test_braced_parts():
    assert braced_parts(" NAME [ 3]-x y") == ("NAME", 3, "x y")
    assert braced_parts("NAME-") == ("NAME", None, "")
    assert braced_parts("") == ("", None, None)


# Click keeps a configuration string as written when its references wrote
# nothing: each expanded to an empty word, with nothing before it. Checked
# against click-flatten, with X = "a b c" and Y = "y".
@pytest.mark.parametrize("reference, expected", [
    ("${X[5]}", "${X[5]}"),
    ("${X[5]} tail", "${X[5]} tail"),         # what follows does not count
    ("${X[5]}${X[6]}", "${X[5]}${X[6]}"),
    ("a${X[5]}", "a"),                        # what comes before does
    (" ${X[5]}", " "),
    ("${X[5]}$Y", "y"),                       # so does a later word
    ("${X[5]}$U", "${X[5]}$U"),               # an unknown variable writes nothing
    ("$U${X[5]}", "$U"),                      # but what comes before it is written
    ('"${X[5]}"', '""'),                      # the quotes are written
    ("${X[5]-d}", "${X[5]-d}"),               # X is defined: no default, an empty word
])
def test_configuration_expanding_to_nothing_is_kept_as_written(reference, expected):
    (element,) = flatten(f"define($X a b c, $Y y); p :: P({reference})", "t.click").elements
    assert element.config == expected
