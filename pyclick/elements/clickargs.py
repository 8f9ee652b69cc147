"""Argument types of the packet elements, read as Click reads them.

- :data:`BANDWIDTH`: a rate in bytes per second, with Click's units: bits
  per second as ``bps``, ``b/s`` or ``baud`` (``384kbps``), bytes per second
  as ``Bps`` or ``B/s`` (``20kBps``, ``131072B/s``), a prefix k or K, M, G
  (powers of 1000) right before the unit; a bare number is bytes per
  second. It is a Number: finite, and ranged as the element declares
  (``BANDWIDTH.range(0, 1e12)``);
- :func:`anno_arg`: an annotation of some size, by name (``PAINT``, or a
  name an AnnotationInfo defines) or by offset in the annotation area
  (``17``): ``ANNO1``, ``ANNO2``, ``ANNO4`` and ``ANNO6``;
- :func:`PROBABILITY`: a real number from 0 to 1; :func:`SAMPLING`: one in
  Click's fixed point;
- :func:`DATA`: packet contents, a string whose characters are bytes (Click's
  ``\\<hex>`` data included), returned as bytes;
- :data:`DATE`: a date in seconds since the epoch, or a duration, not
  negative (0: none); :func:`nanoseconds` turns it into whole nanoseconds
  as it was written.

Click keeps some real numbers in fixed point: :func:`fixed_point` reads a
decimal as Click does, :func:`unparse_fixed` prints one as Click does.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Callable, Protocol, runtime_checkable

from pyclick.args import FLOAT, TIME, WORD, Number
from pyclick.elements.addressnames import find_in_scope
from pyclick.packet import ANNO_SIZE, ANNOTATIONS

if TYPE_CHECKING:
    from pyclick.args import Args
    from pyclick.element import Element

#: A number, then optionally a unit with an optional prefix right before it
#: (Click's units are case-sensitive: b is a bit, B a byte).
_BANDWIDTH = re.compile(r"([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*"
                        r"(?:([kKMG])?(bps|b/s|baud|Bps|B/s))?\Z")
_PREFIX = {None: 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9}
_BITS = ("bps", "b/s", "baud")


def _parse_bandwidth(text: str) -> float:
    """Bytes per second (see the module docstring)."""
    m = _BANDWIDTH.match(text.strip())
    if not m:
        raise ValueError("expected bandwidth (e.g. 10Mbps, 20kBps, 131072B/s)")
    value = float(m.group(1)) * _PREFIX[m.group(2)]
    return value / 8 if m.group(3) in _BITS else value


BANDWIDTH = Number("BANDWIDTH", _parse_bandwidth)


def unparse_bandwidth(bytes_per_second: float) -> str:
    """A bandwidth as Click prints one, from whole bytes per second: kbps below
    1 Mbps (``0.056kbps``, ``8kbps``), then Mbps, Gbps from 1 Gbps, and MBps
    from 2^29 bytes per second (``1000MBps``)."""
    x = round(bytes_per_second)
    if x >= 0x20000000:
        return _decimal(x, 6) + "MBps"
    if x >= 125_000_000:
        return _decimal(x * 8, 9) + "Gbps"
    if x >= 125_000:
        return _decimal(x * 8, 6) + "Mbps"
    return _decimal(x * 8, 3) + "kbps"


def _decimal(value: int, digits: int) -> str:
    """``value`` / 10^``digits``, without trailing zeros (``98.76``, ``8``)."""
    whole, frac = divmod(value, 10 ** digits)
    return f"{whole}.{frac:0{digits}d}".rstrip("0") if frac else str(whole)


_U32 = 0xFFFFFFFF


def fixed_point(value: str | float, bits: int) -> int:
    """A nonnegative decimal as a fixed-point number with ``bits`` fraction bits,
    rounded as Click rounds: the fraction first to 32 bits, then to ``bits``."""
    text = format(Decimal(str(value).strip()), "f")
    whole_text, _, digits = text.partition(".")
    whole = int(whole_text or 0)
    # The fraction times 2^33, digit by digit from the last (each step truncates).
    acc = 0
    for digit in reversed(digits):
        acc = (acc + (int(digit) << 33)) // 10
    acc += 1
    if acc >= 1 << 33:
        whole += 1
    frac32 = (acc >> 1) & _U32
    halved = frac32 + (1 << (31 - bits))
    if halved > _U32:
        whole += 1
    return (whole << bits) | ((halved & _U32) >> (32 - bits))


def unparse_fixed(value: int, bits: int) -> str:
    """A fixed-point number with ``bits`` fraction bits, printed as Click prints
    one (TeX's print_scaled, with Click's 32-bit arithmetic): digits until
    the rest is within the growing inaccuracy (``0.1``, ``0.12345678766``)."""
    one = 1 << bits
    text = str(value >> bits)
    rest = value & (one - 1)
    if not rest:
        return text
    digits = []
    rest = (10 * rest + 5) & _U32
    allowed = 10
    rounder = 5
    while rounder < one >> 1:
        rounder *= 10
    while True:
        if allowed > one:
            rest = (rest + (one >> 1) - rounder) & _U32
        digits.append(chr((ord("0") + (rest >> bits)) & 0xFF))
        rest = (10 * (rest & (one - 1))) & _U32
        allowed = (allowed * 10) & _U32
        if rest <= allowed:
            return f"{text}.{''.join(digits)}"


def anno_arg(size: int) -> Callable[[str, Args | None], int]:
    """The type of an annotation of ``size`` bytes, as Click's AnnoArg reads one:
    a name of an annotation of that size (``PAINT``, ``DST_IP``; an AnnotationInfo's
    name of no size fits any) or an offset in the annotation area that leaves
    room for it; the type returns the offset."""

    def parse(text: str, args: Args | None) -> int:
        word = text.strip()
        named = named_annotation(word, args.element if args is not None else None)
        if named is not None:
            offset, length = named
            if length not in (0, size):
                raise ValueError(f"annotation '{word}' is {length} bytes, expected {size}")
            if offset + size <= ANNO_SIZE:
                return offset
        elif re.fullmatch(r"[0-9]+", word) and int(word) + size <= ANNO_SIZE:
            return int(word)
        raise ValueError(f"expected {size}-byte annotation (a name, or an offset from 0 to "
                         f"{ANNO_SIZE - size})")

    return parse


@runtime_checkable
class AnnotationBook(Protocol):
    """An element that names annotations (AnnotationInfo)."""

    def annotation_definition(self, name: str) -> tuple[int, int] | None:
        """The offset and size (0: any) of the annotation ``name``, or None."""


def named_annotation(word: str, element: Element | None) -> tuple[int, int] | None:
    """The offset and size (0: any) of the annotation called ``word``: one of
    Click's names, else one an AnnotationInfo seen from ``element`` defines."""
    known = ANNOTATIONS.get(word.upper())
    if known is not None:
        return known
    return find_in_scope(element, AnnotationBook,
                         lambda book: book.annotation_definition(word))


#: One-, two-, four- and six-byte annotations.
ANNO1, ANNO2, ANNO4, ANNO6 = (anno_arg(size) for size in (1, 2, 4, 6))


def PROBABILITY(text: str, args: Args) -> float:
    value = FLOAT(text, args)
    if not 0.0 <= value <= 1.0:
        raise ValueError("expected probability between 0 and 1")
    return value


#: Fraction bits of the sampling probabilities (RandomSample, FromDump), as Click's.
SAMPLING_SHIFT = 28


def SAMPLING(text: str, args: Args | None) -> int:
    """A probability from 0 to 1, in fixed point with SAMPLING_SHIFT fraction bits."""
    PROBABILITY(text, args)  # type: ignore[arg-type]
    return fixed_point(text, SAMPLING_SHIFT)


def DATA(text: str, args: Args) -> bytes:
    """Packet bytes from a configuration string (characters above 255 as UTF-8): one
    word, as Click reads a String (quotes hold spaces, ``\\<hex>`` is one word)."""
    return to_bytes(WORD(text, args))


#: A date or a duration (0: none), as the trace elements read them.
DATE = TIME.range(0)


def nanoseconds(seconds: float) -> int:
    """A time in whole nanoseconds, exactly as the decimal it was written as
    (to a float's precision)."""
    return round(Decimal(repr(seconds)) * 1_000_000_000)


def to_bytes(text: str) -> bytes:
    if all(ord(c) < 256 for c in text):
        return text.encode("latin-1")
    return text.encode("utf-8")
