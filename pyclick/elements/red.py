"""RED: Random Early Detection, dropping packets as the queues near it fill."""

from __future__ import annotations


from pyclick.args import BOOL, ELEMENT, FLOAT, UNSIGNED, Args, ListOf
from pyclick.element import PROCESSING_A_AH, Element, read_handler, write_handler
from pyclick.elements.clickargs import fixed_point, unparse_fixed
from pyclick.elements.handlercall import parse_value
from pyclick.elements.queue import SimpleQueue
from pyclick.errors import ConfigError
from pyclick.packet import Packet
from pyclick.runtime.processing import port_flow

THRESH = UNSIGNED.range(0, 2**31 - 1)
PROBABILITY = FLOAT.range(0, 1)
STABILITY = UNSIGNED.range(0, 16)
#: Fraction bits of MAX_P and of the average queue length when printed (Click's).
P_BITS = 16
AVERAGE_BITS = 10


def _max_p(text: str, args: Args | None) -> float:
    """A probability, kept to 2^-16 as Click keeps MAX_P."""
    PROBABILITY(text, args)
    return fixed_point(text, P_BITS) / (1 << P_BITS)
#: How often an empty queue counts as measured (Click's 50 Hz).
EMPTY_TICK = 0.02


def nearest_queues(element: Element, downstream: bool) -> list[SimpleQueue]:
    """The queues nearest ``element`` through its port 0 along the flow of
    packets: downstream from output 0, or upstream from input 0."""
    found: list[SimpleQueue] = []
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Element, int]] = [(element, 0)]
    while stack:
        node, port = stack.pop()
        ports = node.outputs if downstream else node.inputs
        peer = ports[port] if port < len(ports) else None
        if peer is None or (id(peer[0]), peer[1]) in seen:
            continue
        seen.add((id(peer[0]), peer[1]))
        other, other_port = peer
        if isinstance(other, SimpleQueue):
            if other not in found:
                found.append(other)
            continue
        linked = port_flow(other.flow_code, not downstream, other_port, other.ninputs,
                           other.noutputs)
        stack.extend((other, p) for p, travels in enumerate(linked) if travels)
    return found


def watched_queues(element: Element, named: list[Element], downstream: bool
                   ) -> list[SimpleQueue]:
    """The queues ``element`` watches: those ``named`` (its QUEUES), which must
    be queues, or else the nearest ones, of which there must be one."""
    queues = [found for found in named if isinstance(found, SimpleQueue)]
    if len(queues) < len(named):
        other = next(found for found in named if not isinstance(found, SimpleQueue))
        raise ConfigError(f"While initializing '{element.declaration()}': QUEUES: "
                          f"'{other.declaration()}' is not a queue", element.landmark)
    if not named:
        queues = nearest_queues(element, downstream)
        if not queues:
            raise ConfigError(f"While initializing '{element.declaration()}': no nearby "
                              "Queues", element.landmark)
    return queues


class RED(Element):
    """RED(MIN_THRESH, MAX_THRESH, MAX_P, KEYWORDS) -- drops packets according to RED

    Description
    Random Early Detection: keeps a running average of the total length of
    some queues and drops (marks) packets with a probability that grows
    with it. At or below MIN_THRESH packets pass; between MIN_THRESH and
    MAX_THRESH the probability grows linearly from 0 to MAX_P; with GENTLE
    (the default) it then grows from MAX_P to 1 at twice MAX_THRESH, above
    which every packet is dropped; without GENTLE every packet above
    MAX_THRESH is dropped. Drops are spread evenly, as RED's count of
    packets since the last drop makes them.

    The queues are those named by QUEUES, or else the nearest ones: those
    downstream of a push RED, upstream of a pull RED. The average follows
    each queue length with weight 2^-STABILITY (STABILITY 0: the length
    itself); while the queues are empty it decays once per 20ms.

    Dropped packets leave by output 1 when it exists.

    Ports
    one agnostic input; agnostic output 0, optional push output 1

    Keyword arguments
    MIN_THRESH -- average length below which nothing is dropped, at most 2^31-1; mandatory
    MAX_THRESH -- average length at which the probability is MAX_P, not below MIN_THRESH; mandatory
    MAX_P -- the probability at MAX_THRESH, 0 to 1, kept to 2^-16; mandatory
    QUEUES -- names of the queues to watch; default the nearest
    STABILITY -- -log2 of the average's weight, 0 to 16; default 4
    GENTLE -- rise to 1 between MAX_THRESH and twice it; default true

    Element handlers
    min_thresh, max_thresh, max_p (read/write) -- the settings of the same names
    drops (read) -- packets dropped so far
    queues (read) -- the queues watched, one name per line
    avg_queue_size (read) -- the running average, to 2^-10 (as Click prints it: 6.45, 0)
    stats (read) -- current length, average and drops
    config (read) -- the configuration with the queues found

    Example
    InfiniteSource(LIMIT 20) -> r :: RED(2, 10, 0.1) -> q :: Queue(20) -> Discard;
    """

    port_count = "1/1-2"
    processing = PROCESSING_A_AH

    can_live_reconfigure = True
    #: As Click: new thresholds, the queues watched and the average kept.
    live_state: tuple[str, ...] = ("_named", "queues", "_random", "average", "drops",
                                   "_count", "_chance", "_empty_since")

    def configure(self, args: Args) -> None:
        self.min_thresh = args.read_mp("MIN_THRESH", THRESH)
        self.max_thresh = args.read_mp("MAX_THRESH", THRESH)
        self.max_p = args.read_mp("MAX_P", _max_p)
        self._named: list[Element] = args.read("QUEUES", ListOf(ELEMENT), [])
        self.stability = args.read("STABILITY", STABILITY, 4)
        self.gentle = args.read("GENTLE", BOOL, True)
        if self.min_thresh is not None and self.max_thresh is not None \
                and self.max_thresh < self.min_thresh:
            args.error(f"MAX_THRESH ({self.max_thresh}) is below MIN_THRESH "
                       f"({self.min_thresh})")
        args.complete()
        self.queues: list[SimpleQueue] = []
        self._random = self.router.random_source(self)
        self._reset()

    def _reset(self) -> None:
        self.average = 0.0
        self.drops = 0
        self._count = -1
        self._chance = 0.0
        self._empty_since: float | None = None

    def initialize(self) -> None:
        self.queues = watched_queues(self, self._named, downstream=self.output_is_push(0))
        self._reset()

    def queue_length(self) -> int:
        return sum(queue.length for queue in self.queues)

    def _update_average(self) -> None:
        length = self.queue_length()
        weight = 2.0 ** -self.stability
        if self.stability == 0:
            self.average = float(length)
        elif length:
            self.average += (length - self.average) * weight
            self._empty_since = None
        else:
            now = self.router.now()
            ticks = 1 if self._empty_since is None else int((now - self._empty_since)
                                                            / EMPTY_TICK)
            if ticks:
                self.average *= (1 - weight) ** ticks
                self._empty_since = now

    def probability(self) -> float:
        """The drop probability at the current average."""
        average = self.average
        if average <= self.min_thresh:
            return 0.0
        if average <= self.max_thresh:
            span = self.max_thresh - self.min_thresh
            return self.max_p if span == 0 else self.max_p * (average - self.min_thresh) / span
        if not self.gentle or average >= 2 * self.max_thresh:
            return 1.0
        return self.max_p + (1 - self.max_p) * (average - self.max_thresh) / self.max_thresh

    def should_drop(self) -> bool:
        self._update_average()
        chance = self.probability()
        if chance <= 0.0 or chance >= 1.0:
            self._count = -1
            return chance >= 1.0
        self._count += 1
        if self._count > 0 and self._count > self._chance / chance:
            self._count = 0
            self._chance = self._random.random()
            return True
        if self._count == 0:
            self._chance = self._random.random()
        return False

    def _dropped(self, packets: list[Packet]) -> None:
        self.drops += len(packets)
        if self.noutputs > 1:
            self.output_push(1, packets)

    def push(self, port: int, batch: list[Packet]) -> None:
        # One packet at a time: each one passed lengthens the queue the next
        # one is judged by.
        dropped: list[Packet] = []
        for packet in batch:
            if self.should_drop():
                dropped.append(packet)
            else:
                self.output_push(0, [packet])
        if dropped:
            self._dropped(dropped)

    def pull(self, port: int) -> Packet | None:
        while True:
            packet = self.input_pull(0)
            if packet is None or not self.should_drop():
                return packet
            self._dropped([packet])

    @read_handler("min_thresh")
    def _read_min(self) -> str:
        return str(self.min_thresh)

    @write_handler("min_thresh")
    def _write_min(self, value: str) -> None:
        self.min_thresh = self._threshold(value, high=self.max_thresh)

    @read_handler("max_thresh")
    def _read_max(self) -> str:
        return str(self.max_thresh)

    @write_handler("max_thresh")
    def _write_max(self, value: str) -> None:
        self.max_thresh = self._threshold(value, low=self.min_thresh)

    def _threshold(self, value: str, low: int = 0, high: int = 2**31 - 1) -> int:
        return parse_value(THRESH.range(low, high), value)

    @read_handler("max_p")
    def _read_max_p(self) -> str:
        return unparse_fixed(round(self.max_p * (1 << P_BITS)), P_BITS)

    @write_handler("max_p")
    def _write_max_p(self, value: str) -> None:
        self.max_p = parse_value(_max_p, value)

    @read_handler("drops")
    def _read_drops(self) -> str:
        return str(self.drops)

    @read_handler("queues")
    def _read_queues(self) -> str:
        return "".join(f"{queue.name}\n" for queue in self.queues)

    @read_handler("avg_queue_size")
    def _read_average(self) -> str:
        return unparse_fixed(round(self.average * (1 << AVERAGE_BITS)), AVERAGE_BITS)

    @read_handler("stats")
    def _read_stats(self) -> str:
        return (f"{self.queue_length()} current queue\n{self._read_average()} avg queue\n"
                f"{self.drops} drops\n")

    @read_handler("config")
    def _read_config(self) -> str:
        names = " ".join(queue.name for queue in self.queues)
        gentle = "" if self.gentle else ", GENTLE false"
        return (f"{self.min_thresh}, {self.max_thresh}, {self._read_max_p()}, QUEUES {names}, "
                f"STABILITY {self.stability}{gentle}")

