"""RandomSample: keeps each packet with a given probability."""

from __future__ import annotations


from pyclick.args import BOOL, Args
from pyclick.element import PROCESSING_A_AH, read_handler, write_handler
from pyclick.elements.clickargs import SAMPLING, SAMPLING_SHIFT, unparse_fixed
from pyclick.elements.handlercall import parse_value
from pyclick.elements.switchable import Activatable
from pyclick.packet import Packet

#: Probabilities are kept as Click keeps them: in fixed point, 28 fraction bits.
_SHIFT = SAMPLING_SHIFT
_ONE = 1 << _SHIFT
_PROBABILITY = SAMPLING


class RandomSample(Activatable):
    """RandomSample(P, KEYWORDS) -- samples packets with some probability

    Description
    Samples packets with probability P: on average one packet in 1/P goes
    out output 0. The others are dropped, or pushed out output 1 when it
    exists. Without P, one of SAMPLE and DROP must be given. While inactive,
    every packet goes to output 0. P is kept in fixed point, to 2^-28, as
    Click keeps it, and printed as Click prints it.

    Ports
    one agnostic input; output 0 agnostic, optional output 1 push

    Keyword arguments
    P, SAMPLE -- the probability that a packet is kept, 0 to 1
    DROP -- the probability that a packet is dropped (1 - SAMPLE)
    ACTIVE -- sample only while true; default true

    Element handlers
    sampling_prob (read/write) -- the probability of keeping a packet
    drop_prob (read/write) -- the probability of dropping one
    active (read/write) -- the ACTIVE setting
    drops (read) -- packets dropped (or sent to output 1) so far
    config (read) -- 'SAMPLE P, ACTIVE A', the current settings

    Example
    InfiniteSource(LIMIT 1000) -> RandomSample(0.1) -> c :: Counter -> Discard;
    """

    can_live_reconfigure = True
    live_state = ("drops", "_random")
    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    def configure(self, args: Args) -> None:
        p = args.read_p("P", _PROBABILITY)
        sample = args.read("SAMPLE", _PROBABILITY)
        drop = args.read("DROP", _PROBABILITY)
        self.active = args.read("ACTIVE", BOOL, True)
        if sample is not None and drop is not None:
            args.error("give at most one of SAMPLE and DROP")
        elif p is None and sample is None and drop is None:
            args.error("give P, SAMPLE or DROP")
        args.complete()
        if drop is not None:
            self.sampling = _ONE - drop
        else:
            self.sampling = sample if sample is not None else p
        self.drops = 0
        self._random = self.router.random_source(self)

    def simple_action_batch(self, batch: list[Packet]) -> list[Packet]:
        if not self.active:
            return batch
        draw, prob = self._random.random, self.sampling / _ONE
        kept, dropped = [], []
        for packet in batch:
            (kept if draw() < prob else dropped).append(packet)
        if dropped:
            self.drops += len(dropped)
            self.output_push(1, dropped)
        return kept

    def simple_action(self, packet: Packet) -> Packet | None:
        kept = self.simple_action_batch([packet])
        return kept[0] if kept else None

    @read_handler("sampling_prob")
    def _read_sampling(self) -> str:
        return unparse_fixed(self.sampling, _SHIFT)

    @write_handler("sampling_prob")
    def _write_sampling(self, value: str) -> None:
        self.sampling = parse_value(_PROBABILITY, value)

    @read_handler("drop_prob")
    def _read_drop(self) -> str:
        return unparse_fixed(_ONE - self.sampling, _SHIFT)

    @write_handler("drop_prob")
    def _write_drop(self, value: str) -> None:
        self.sampling = _ONE - parse_value(_PROBABILITY, value)

    @read_handler("config")
    def _read_config(self) -> str:
        return f"SAMPLE {self._read_sampling()}, ACTIVE {self._read_active()}"

    @read_handler("drops")
    def _read_drops(self) -> str:
        return str(self.drops)
