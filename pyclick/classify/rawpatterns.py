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

import re

from pyclick.classify import syntaxcache
from pyclick.classify.syntax import WS, Branch, Grammar, Lexeme, PatternError
from pyclick.classify.tree import DATA, Field, Formula, conj, neg

#: The grammar's WS, and its tokens as its lexer reads them: each as long as it
#: goes, never given back (possessive), so that what reads plainly is what lark
#: reads.
_WS = f"{WS}*+"
_ANY = re.compile(rf"{_WS}(-){_WS}")
_CLAUSE = re.compile(rf"{_WS}(?P<NOT>!)?{_WS}(?P<OFFSET>[0-9]++){_WS}/{_WS}"
                     rf"(?P<VALUE>[0-9a-fA-F?]++)(?:{_WS}%{_WS}(?P<MASK>[0-9a-fA-F?]++))?")
_END = re.compile(rf"{_WS}")
_TOKENS = ("NOT", "OFFSET", "VALUE", "MASK")


def _plain(text: str) -> Branch | None:
    """The syntax lark gives ``text`` when it is ``-`` or a list of clauses; None for any
    other text (lark reads it, and names its mistake)."""
    anything = _ANY.fullmatch(text)
    if anything is not None:
        return Branch("start", (Lexeme("ANY", "-", anything.start(1)),))
    clauses = []
    pos = 0
    while (clause := _CLAUSE.match(text, pos)) is not None:
        clauses.append(Branch("clause", tuple(
            Lexeme(name, clause.group(name), clause.start(name))
            for name in _TOKENS if clause.group(name) is not None)))
        pos = clause.end()
    if _END.fullmatch(text, pos) is None:
        return None
    return Branch("start", tuple(clauses))


GRAMMAR = Grammar(r"""
start: ANY | clause*
clause: NOT? OFFSET "/" VALUE ("%" MASK)?
ANY: "-"
NOT: "!"
OFFSET: /[0-9]+/
VALUE: /[0-9a-fA-F?]+/
MASK: /[0-9a-fA-F?]+/
%import common.WS
%ignore WS
""", {"OFFSET": "offset", "VALUE": "hex value", "MASK": "hex mask", "SLASH": "'/'",
      "PERCENT": "'%'", "NOT": "'!'", "ANY": "'-'", "$END": "end of pattern"}, _plain)

#: Offsets past this are refused (no packet is that long).
MAX_OFFSET = 65535


def parse_pattern(text: str) -> Formula:
    """The formula of one Classifier pattern (see the module docstring)."""
    return syntaxcache.read(GRAMMAR, text, _formula)


def _formula(syntax: Branch) -> Formula:
    clauses: list[Formula] = []
    for clause in syntax.children:
        if isinstance(clause, Lexeme):  # "-"
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


def _clause(clause: Branch) -> Formula:
    tokens = {t.type: t for t in clause.children if isinstance(t, Lexeme)}
    offset_token, value_token = tokens["OFFSET"], tokens["VALUE"]
    digits = value_token.text
    where = value_token.start_pos + 1
    if len(digits) < 2:
        raise PatternError(where, "value has less than 2 hex digits")
    if len(digits) % 2:
        raise PatternError(where, "value has odd number of hex digits")
    offset = int(offset_token.text)
    if offset > MAX_OFFSET:
        raise PatternError(offset_token.start_pos + 1, f"offset past {MAX_OFFSET}")
    value, mask = _nibbles(digits)
    if "MASK" in tokens:
        mask_digits = tokens["MASK"].text
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
