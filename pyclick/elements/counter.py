"""Counter: packet and byte counts and rates of the traffic passing through."""

from __future__ import annotations

from dataclasses import dataclass

from pyclick.args import UNSIGNED, Args, split_words
from pyclick.element import AGNOSTIC, Element, read_handler, write_handler
from pyclick.elements.clickargs import unparse_fixed
from pyclick.elements.handlercall import HandlerCall, parse_value
from pyclick.elements.rateewma import RateEWMA, jiffies
from pyclick.packet import Packet, batch_length
from pyclick.runtime.handlers import HandlerError

#: Fraction bits of the packet rate; the byte rate has fewer, as in Click,
#: to leave room for large byte counts.
RATE_SCALE = 10
BYTE_RATE_SCALE = 4


@dataclass
class _Trigger:
    """``N HANDLER [VALUE]``: call HANDLER once a total reaches N."""

    threshold: int
    call: HandlerCall
    fired: bool = False


def _trigger_type(text: str, args: Args, unit: str) -> _Trigger:
    words = split_words(text)
    if len(words) < 2:
        raise ValueError("expected 'N HANDLER [VALUE]'")
    try:
        threshold = UNSIGNED(words[0], args)
    except ValueError:
        raise ValueError(f"'{words[0]}' is not a {unit} count (form: N HANDLER [VALUE])") from None
    if args.element is None:
        raise ValueError("no router to look up handlers")
    return _Trigger(threshold, HandlerCall.parse(text.strip()[len(words[0]):], args.element))


class Counting(Element):
    """What the counters share: one agnostic input and output, and the
    ``count`` and ``byte_count`` read handlers (set in configure())."""

    registered = False
    port_count = "1/1"
    processing = AGNOSTIC
    count: int
    byte_count: int

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)

    @read_handler("byte_count")
    def _read_byte_count(self) -> str:
        return str(self.byte_count)


class Counter(Counting):
    """Counter(KEYWORDS) -- measures packet count and rate

    Description
    Passes packets unchanged from its input to its output, push or pull,
    counting packets and bytes and estimating their recent rate. The
    rates are Click's moving averages over millisecond epochs of the
    router's clock (simulated time too), in the same fixed-point steps:
    each epoch's traffic weighs 1/16, so the average follows the last few
    dozen milliseconds, and after 100 idle milliseconds it is 0. The packet
    rate is kept to 2^-10 of a packet a millisecond, the byte rate to 2^-4
    of a byte, and both print as Click prints them. A COUNT_CALL or
    BYTE_COUNT_CALL handler is called before the packet that reaches its
    count goes on.

    Ports
    one agnostic input, one agnostic output

    Keyword arguments
    COUNT_CALL -- 'N HANDLER [VALUE]': when the packet count reaches N, call write handler HANDLER with VALUE (again after a reset); default none
    BYTE_COUNT_CALL -- 'N HANDLER [VALUE]': the same for the byte count; default none

    Element handlers
    count (read) -- packets since the start or the last reset
    byte_count (read) -- bytes since the start or the last reset
    rate (read) -- recent packet rate, packets per second
    byte_rate (read) -- recent byte rate, bytes per second
    bit_rate (read) -- recent bit rate, bits per second
    reset (write) -- sets the counts to zero; the rates go on, as in Click (also reset_counts)
    count_call (read/write) -- the COUNT_CALL count N (empty without COUNT_CALL); writing sets a new COUNT_CALL
    byte_count_call (write) -- a new BYTE_COUNT_CALL setting

    Example
    InfiniteSource(LIMIT 100) -> c :: Counter(COUNT_CALL 100 stop) -> Discard;
    """

    def configure(self, args: Args) -> None:
        self.count_call: _Trigger | None = args.read(
            "COUNT_CALL", lambda text, a: _trigger_type(text, a, "packet"))
        self.byte_count_call: _Trigger | None = args.read(
            "BYTE_COUNT_CALL", lambda text, a: _trigger_type(text, a, "byte"))
        args.complete()
        self.count = 0
        self.byte_count = 0
        # Click starts the rates' epochs when it creates the element.
        epoch = jiffies(self.router.now())
        self._packet_rate = RateEWMA(RATE_SCALE, epoch)
        self._byte_rate = RateEWMA(BYTE_RATE_SCALE, epoch)

    def initialize(self) -> None:
        for trigger in (self.count_call, self.byte_count_call):
            if trigger is not None:
                trigger.call.check(self)
        self._reset()

    def simple_action_batch(self, batch: list[Packet]) -> list[Packet]:
        npackets, nbytes = len(batch), batch_length(batch)
        # A batch arrives at one time: one update for all its packets adds up
        # to what Click's per-packet updates in the same epoch give.
        epoch = jiffies(self.router.now())
        self.count += npackets
        self.byte_count += nbytes
        self._packet_rate.update(epoch, npackets)
        self._byte_rate.update(epoch, nbytes)
        if self.count_call is not None:
            self._fire(self.count_call, self.count)
        if self.byte_count_call is not None:
            self._fire(self.byte_count_call, self.byte_count)
        return batch

    def simple_action(self, packet: Packet) -> Packet:
        return self.simple_action_batch([packet])[0]

    def pull_batch(self, port: int, max_packets: int) -> list[Packet]:
        batch = self.input_pull_batch(0, max_packets)
        return self.simple_action_batch(batch) if batch else batch

    def _fire(self, trigger: _Trigger | None, total: int) -> None:
        """Call the trigger's handler the first time ``total`` reaches it."""
        if trigger is None or trigger.fired or total < trigger.threshold:
            return
        trigger.fired = True
        try:
            trigger.call.write(self)
        except HandlerError as err:
            self.log.error("%s: calling %s: %s", self.declaration(), trigger.call.name, err.message)

    def _reset(self) -> None:
        self.count = self.byte_count = 0
        for trigger in (self.count_call, self.byte_count_call):
            if trigger is not None:
                trigger.fired = False

    def _scaled_rate(self, rate: RateEWMA) -> int:
        # Reading moves the average to the current epoch, so the rate drops
        # after an idle time.
        rate.update(jiffies(self.router.now()), 0)
        return rate.scaled_rate()

    @read_handler("rate")
    def _read_rate(self) -> str:
        return unparse_fixed(self._scaled_rate(self._packet_rate), RATE_SCALE)

    @read_handler("byte_rate")
    def _read_byte_rate(self) -> str:
        return unparse_fixed(self._scaled_rate(self._byte_rate), BYTE_RATE_SCALE)

    @read_handler("bit_rate")
    def _read_bit_rate(self) -> str:
        # Eight bits a byte: the same number with three fewer fraction bits.
        return unparse_fixed(self._scaled_rate(self._byte_rate), BYTE_RATE_SCALE - 3)

    @write_handler("reset")
    @write_handler("reset_counts")
    def _write_reset(self, value: str) -> None:
        self._reset()

    @read_handler("count_call")
    def _read_count_call(self) -> str:
        return "" if self.count_call is None else str(self.count_call.threshold)

    @write_handler("count_call")
    def _write_count_call(self, value: str) -> None:
        self.count_call = self._new_trigger(value, "packet", self.count_call)

    @write_handler("byte_count_call")
    def _write_byte_count_call(self, value: str) -> None:
        self.byte_count_call = self._new_trigger(value, "byte", self.byte_count_call)

    def _new_trigger(self, text: str, unit: str, current: _Trigger | None) -> _Trigger | None:
        """``N HANDLER [VALUE]``, or just ``N`` to keep the handler; empty removes it."""
        words = split_words(text)
        if not words:
            return None
        if len(words) == 1 and current is not None:
            return _Trigger(parse_value(UNSIGNED, words[0]), current.call)
        return _trigger_type(text, Args("", self), unit)
