"""Pull schedulers: RoundRobinSched, PrioSched and StrideSched choose which
of their pull inputs answers a pull on their one output.

Each input's upstream signal (``pyclick.runtime.notifier``) says whether a
packet may come from it: an input whose queues are all empty is not pulled.
The schedulers are flagged ``S0`` (they neither make nor take packets), so
the signal of a puller downstream (Unqueue, ToDevice) looks through them to
the queues behind every input.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyclick.args import Args, INT
from pyclick.element import PULL, Element, read_handler
from pyclick.elements.handlercall import parse_value
from pyclick.packet import Packet
from pyclick.runtime.notifier import NotifierSignal, upstream_empty_signal
from pyclick.runtime.tasks import MAX_TICKETS, STRIDE1


class _PullScheduler(Element):
    """What the schedulers share: one pull output, the inputs' upstream signals."""

    registered = False
    port_count = "-/1"
    processing = PULL
    flags = "S0"

    def initialize(self) -> None:
        self._signals: list[NotifierSignal] = [upstream_empty_signal(self, port)
                                               for port in range(self.ninputs)]


class RoundRobinSched(_PullScheduler):
    """RoundRobinSched -- pulls from round-robin inputs

    Description
    Each pull on the output pulls the inputs in turn until one gives a
    packet; the next pull starts with the input after that one. This is a
    round-robin scheduler over packets. Inputs whose upstream queues are
    all empty are passed over without being pulled.

    Ports
    any number of pull inputs, one pull output

    Example
    s1 :: InfiniteSource(LIMIT 3) -> q1 :: Queue -> [0] rr :: RoundRobinSched;
    s2 :: InfiniteSource(LIMIT 3) -> q2 :: Queue -> [1] rr;
    rr -> Unqueue -> c :: Counter -> Discard;
    """

    def configure(self, args: Args) -> None:
        args.complete()
        self._next = 0

    def pull(self, port: int) -> Packet | None:
        count = self.ninputs
        at = self._next
        for _ in range(count):
            packet = self.input_pull(at) if self._signals[at] else None
            at = at + 1 if at + 1 < count else 0
            if packet is not None:
                self._next = at
                return packet
        return None


class PrioSched(_PullScheduler):
    """PrioSched -- pulls from priority-scheduled inputs

    Description
    Each pull on the output pulls the inputs in order, input 0 first, and
    returns the first packet one gives: a strict priority scheduler, input
    0 the highest. Inputs whose upstream queues are all empty are passed
    over without being pulled.

    Ports
    any number of pull inputs, one pull output

    Example
    RatedSource(RATE 10) -> hi :: Queue -> [0] p :: PrioSched;
    InfiniteSource(LIMIT 100) -> lo :: Queue -> [1] p;
    p -> Unqueue -> Discard;
    """

    def configure(self, args: Args) -> None:
        args.complete()

    def pull(self, port: int) -> Packet | None:
        for at, signal in enumerate(self._signals):
            if signal:
                packet = self.input_pull(at)
                if packet is not None:
                    return packet
        return None


@dataclass(eq=False)
class _Client:
    """One input of a StrideSched: its tickets and its place in the schedule."""

    port: int
    tickets: int = 0
    stride: int = 0
    pass_: int = 0

    def set_tickets(self, tickets: int) -> None:
        self.tickets = tickets
        self.stride = STRIDE1 // tickets if tickets else 0


TICKETS = INT.range(0, None)


class StrideSched(_PullScheduler):
    """StrideSched(TICKETS0, ..., TICKETSN-1) -- pulls from stride-scheduled inputs

    Description
    Stride scheduling over packets: input i holds TICKETSi tickets, and
    over time gives packets in proportion to them while they all have
    packets. Each input has a stride, 65536 divided by its tickets, and a
    pass, which starts at its stride; each pull on the output tries the
    inputs in increasing pass order (lower port first among equal passes),
    adding its stride to the pass of every input tried, and stops at the
    first that gives a packet. An input that gives nothing is not tried
    again in the same pull. Inputs with 0 tickets are never pulled, and
    inputs whose upstream queues are all empty are passed over (their pass
    still advances). One argument per input; more than 32768 tickets are
    cut down to 32768, with a warning.

    Ports
    one or more pull inputs, one pull output

    Keyword arguments
    TICKETSi -- the tickets of input i, at least 0; one per input, mandatory

    Element handlers
    ticketsi (read/write) -- the tickets of input i (a write of 0 takes it out of the schedule)
    config (read) -- the tickets of every input, separated by commas

    Example
    InfiniteSource(LIMIT 100) -> a :: Queue -> [0] s :: StrideSched(3, 1);
    InfiniteSource(LIMIT 100) -> b :: Queue -> [1] s;
    s -> Unqueue -> Discard;
    """

    port_count = "1-/1"
    can_live_reconfigure = True
    #: The ports that hold tickets (StrideSwitch's are its outputs).
    ticket_ports = "input"

    def configure(self, args: Args) -> None:
        texts = args.rest()
        count = self.ninputs if self.ticket_ports == "input" else self.noutputs
        if len(texts) != count:
            args.error(f"need {count} arguments, one per {self.ticket_ports} port")
        self._clients = [_Client(port) for port in range(count)]
        for client, text in zip(self._clients, texts):
            tickets = args.convert(f"TICKETS{client.port}", text, TICKETS, 0)
            client.set_tickets(self._capped(client.port, tickets))
            client.pass_ = client.stride
        args.complete()
        self._schedule: list[_Client] = []
        # Inserted last first: among equal passes, the lower port goes first.
        for client in reversed(self._clients):
            if client.tickets:
                self._insert(client)

    def live_reconfigure(self, args: Args) -> None:
        # As Click: new tickets, each input keeping its pass (and its
        # tickets handlers their input).
        clients = self._clients
        self.configure(args)
        for client, new in zip(clients, self._clients):
            client.set_tickets(new.tickets)
        self._clients, self._schedule = clients, []
        for client in reversed(clients):
            if client.tickets:
                self._insert(client)

    def initialize(self) -> None:
        super().initialize()
        for client in self._clients:
            self.router.handlers.add_read(self, f"tickets{client.port}",
                                          self._tickets_reader(client))
            self.router.handlers.add_write(self, f"tickets{client.port}",
                                           self._tickets_writer(client))

    def _capped(self, port: int, tickets: int) -> int:
        if tickets > MAX_TICKETS:
            self.log.warning("%s: %s %d's tickets reduced to %d", self.declaration(),
                             self.ticket_ports, port, MAX_TICKETS)
            return MAX_TICKETS
        return tickets

    def _insert(self, client: _Client) -> None:
        """Into the schedule before the first input with a pass not lower than its own."""
        schedule = self._schedule
        at = 0
        while at < len(schedule) and client.pass_ > schedule[at].pass_:
            at += 1
        schedule.insert(at, client)

    def pull(self, port: int) -> Packet | None:
        schedule = self._schedule
        tried = 0
        packet = None
        while packet is None and tried < len(schedule):
            client = schedule[tried]
            if self._signals[client.port]:
                packet = self.input_pull(client.port)
            client.pass_ += client.stride
            tried += 1
        stridden, self._schedule[:tried] = schedule[:tried], []
        for client in stridden:
            self._insert(client)
        return packet

    def set_tickets(self, port: int, tickets: int) -> None:
        """Give input ``port`` ``tickets`` tickets (0 takes it out of the schedule)."""
        client = self._clients[port]
        old = client.tickets
        client.set_tickets(self._capped(port, tickets))
        if client.tickets == 0 and old != 0:
            self._schedule.remove(client)
        elif client.tickets != 0 and old == 0:
            client.pass_ = self._schedule[0].pass_ + client.stride if self._schedule else 0
            self._insert(client)

    def _tickets_reader(self, client: _Client):
        return lambda: str(client.tickets)

    def _tickets_writer(self, client: _Client):
        def write(value: str) -> None:
            self.set_tickets(client.port, parse_value(TICKETS, value))
        return write

    @read_handler("config")
    def _read_config(self) -> str:
        return ", ".join(str(client.tickets) for client in self._clients)
