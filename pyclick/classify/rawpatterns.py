"""Classifier's pattern language: ``12/0800 20/0a%0f !34/ff``, or ``-``.

A pattern is a list of clauses, all of which must hold. A clause is a
decimal byte offset into the packet's data, ``/``, a value of an even
number of hex digits (``?`` for a nibble that does not matter), and
optionally ``%`` and a mask of as many digits: the bytes at the offset,
ANDed with the mask, must equal the value. ``!`` before a clause negates
it. ``-`` alone, or an empty pattern, matches every packet. A clause
reaching past the end of the packet does not hold (its negation does).

:func:`parse_pattern` turns one pattern into a formula of
:mod:`pyclick.classify.tree`, or raises :class:`PatternError` with the
position (from 1) of the mistake in the pattern.
"""

from __future__ import annotations

import functools

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from pyclick.classify.tree import DATA, Field, Formula, conj, neg

GRAMMAR = r"""
start: ANY | clause*
clause: NOT? OFFSET "/" VALUE ("%" MASK)?
ANY: "-"
NOT: "!"
OFFSET: /[0-9]+/
VALUE: /[0-9a-fA-F?]+/
MASK: /[0-9a-fA-F?]+/
%import common.WS
%ignore WS
"""

#: What each terminal is, in error messages.
_NAMES = {"OFFSET": "offset", "VALUE": "hex value", "MASK": "hex mask", "SLASH": "'/'",
          "PERCENT": "'%'", "NOT": "'!'", "ANY": "'-'", "$END": "end of pattern"}
#: Offsets past this are refused (no packet is that long).
MAX_OFFSET = 65535


class PatternError(ValueError):
    """A mistake in a pattern, at ``position`` (from 1) in its text."""

    def __init__(self, position: int, message: str) -> None:
        super().__init__(f"position {position}: {message}")
        self.position = position
        self.message = message


@functools.cache
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", lexer="contextual")


def syntax_error(err: UnexpectedInput, text: str, names: dict[str, str]) -> PatternError:
    """A lark error as a PatternError: where, what was found, what was expected."""
    position = (err.pos_in_stream or 0) + 1 if err.pos_in_stream is not None else len(text) + 1
    wanted_terminals = getattr(err, "expected", None) or getattr(err, "allowed", None) or ()
    expected = sorted({names.get(t, t.lower()) for t in wanted_terminals
                       if not t.startswith("__")})
    wanted = f"expected {' or '.join(expected)}" if expected else "syntax error"
    if isinstance(err, UnexpectedCharacters):
        return PatternError(position, f"{wanted}, got {text[err.pos_in_stream]!r}")
    if isinstance(err, UnexpectedToken) and err.token.type != "$END":
        return PatternError(position, f"{wanted}, got {str(err.token)!r}")
    return PatternError(len(text) + 1, f"{wanted} at end of pattern")


def parse_pattern(text: str) -> Formula:
    """The formula of one Classifier pattern (see the module docstring)."""
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as err:
        raise syntax_error(err, text, _NAMES) from None
    clauses: list[Formula] = []
    for clause in tree.children:
        if isinstance(clause, Token):  # "-"
            return True
        clauses.append(_clause(clause))
    return conj(*clauses)


def _nibbles(digits: str) -> tuple[int, int]:
    """(value, mask) of hex digits where ``?`` is a nibble that does not matter."""
    value = mask = 0
    for digit in digits:
        value <<= 4
        mask <<= 4
        if digit != "?":
            value |= int(digit, 16)
            mask |= 0xF
    return value, mask


def _clause(clause: Tree) -> Formula:
    tokens = {t.type: t for t in clause.children}
    offset_token, value_token = tokens["OFFSET"], tokens["VALUE"]
    digits = str(value_token)
    where = value_token.start_pos + 1
    if len(digits) < 2:
        raise PatternError(where, "value has less than 2 hex digits")
    if len(digits) % 2:
        raise PatternError(where, "value has odd number of hex digits")
    offset = int(offset_token)
    if offset > MAX_OFFSET:
        raise PatternError(offset_token.start_pos + 1, f"offset past {MAX_OFFSET}")
    value, mask = _nibbles(digits)
    if "MASK" in tokens:
        mask_digits = str(tokens["MASK"])
        if len(mask_digits) != len(digits):
            few = "many" if len(mask_digits) > len(digits) else "few"
            raise PatternError(tokens["MASK"].start_pos + 1, f"mask has too {few} hex digits")
        given_value, given_mask = _nibbles(mask_digits)
        mask &= given_value & given_mask
    field = _trimmed(offset, len(digits) // 2, value & mask, mask)
    return neg(field) if "NOT" in tokens else field


def _trimmed(offset: int, size: int, value: int, mask: int) -> Formula:
    """The test on the bytes the mask keeps (True when it keeps none)."""
    if mask == 0:
        return True
    while mask & 0xFF == 0:
        mask >>= 8
        value >>= 8
        size -= 1
    while mask >> (8 * (size - 1)) == 0:
        size -= 1
        offset += 1
    return Field(DATA, offset, size, mask, "==", value)
