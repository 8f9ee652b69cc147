"""RandomBitErrors: packet bits flipped, set or cleared at random."""

from __future__ import annotations

from math import comb

from pyclick.args import BOOL, Args, unquote
from pyclick.element import AGNOSTIC
from pyclick.elements.clickargs import SAMPLING, SAMPLING_SHIFT, unparse_fixed
from pyclick.elements.settinghandlers import setting_handlers
from pyclick.elements.switchable import Activatable
from pyclick.packet import Packet

_ONE = 1 << SAMPLING_SHIFT
_KINDS = ("clear", "set", "flip")
#: The byte values with k bits set, for k from 0 to 8.
_PATTERNS = [[b for b in range(256) if b.bit_count() == k] for k in range(9)]


def _thresholds(p: int) -> list[int]:
    """For k from 0 to 8, the chance (in 2^-28) that at most k bits of a byte
    change when each does with chance ``p`` (in 2^-28), worked out as Click
    works it out: each term with 35 fraction bits, the sums rounded to 28."""
    q = _ONE - p
    sums, total = [], 0
    for k in range(8):
        term = 1 << 35
        for _ in range(k):
            term = (term * p) >> SAMPLING_SHIFT
        for _ in range(8 - k):
            term = (term * q) >> SAMPLING_SHIFT
        total += term * comb(8, k)
        sums.append(((total >> 7) & 0x1FFFFFFF) + ((total & 0x7F) >= 0x40))
    # Past any 28-bit draw, whatever the rounding did.
    return sums + [_ONE]


def _kind(text: str, args: Args | None) -> str:
    word = unquote(text.strip())
    if word not in _KINDS + ("",):
        raise ValueError("must be 'set', 'clear', or 'flip'")
    return word or "flip"


class RandomBitErrors(Activatable):
    """RandomBitErrors(P, KIND, ACTIVE) -- changes packet data with some probability

    Description
    Changes each bit of each packet with probability P, P in steps of
    2^-28 as Click keeps it. KIND says how: 'flip' inverts the bits
    chosen, 'set' makes them 1 and 'clear' makes them 0. The number of
    bits changed in a byte is drawn first, then which ones, so that every
    byte sees the same odds. While inactive, packets pass unchanged. A
    probability that rounds to 0 is reported as a warning.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    P -- the probability that a bit changes, 0 to 1; mandatory
    KIND -- flip, set or clear; default flip
    ACTIVE -- change bits only while true; default true

    Element handlers
    p_bit_error (read/write) -- the P setting
    error_kind (read/write) -- the KIND setting
    active (read/write) -- the ACTIVE setting

    Example
    InfiniteSource(LIMIT 5) -> RandomBitErrors(0.01) -> Print(noisy) -> Discard;
    """

    port_count = "1/1"
    processing = AGNOSTIC
    can_live_reconfigure = True

    def configure(self, args: Args) -> None:
        p = args.read_mp("P", SAMPLING)
        kind = args.read_p("KIND", _kind, "flip")
        self.active = args.read_p("ACTIVE", BOOL, True)
        args.complete()
        if p == 0:
            self.log.warning("%s: zero bit error probability (underflow?)", self.declaration())
        self.p_bit_error, self.error_kind = p, kind
        self._random = self.router.random_source(self)

    @property
    def p_bit_error(self) -> int:
        return self._p

    @p_bit_error.setter
    def p_bit_error(self, p: int) -> None:
        self._p = p
        self._odds = _thresholds(p)

    def simple_action(self, packet: Packet) -> Packet:
        odds = self._odds
        if not self.active or odds[0] >= _ONE:
            return packet
        draw = self._random.getrandbits
        data = bytearray(packet.data)
        kind = self.error_kind
        for at, byte in enumerate(data):
            v = draw(SAMPLING_SHIFT)
            if v <= odds[0]:
                continue
            bits = 1
            while v > odds[bits]:
                bits += 1
            errors = self._random.choice(_PATTERNS[bits])
            if kind == "flip":
                data[at] = byte ^ errors
            elif kind == "set":
                data[at] = byte | errors
            else:
                data[at] = byte & ~errors
        packet.write(0, data)
        return packet

    _read_p, _write_p = setting_handlers(
        "p_bit_error", SAMPLING, lambda p: unparse_fixed(p, SAMPLING_SHIFT), argument=(0, "P"))
    _read_kind, _write_kind = setting_handlers("error_kind", _kind, argument=(1, "KIND"))
