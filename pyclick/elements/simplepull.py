"""SimpleIdle, SimplePrioSched, SimpleRoundRobinSched and SimplePullSwitch:
Idle, the pull schedulers and PullSwitch without notification.

They act as their ordinary counterparts but never consult or offer an
"empty" or "full" signal (``pyclick.runtime.notifier``): a scheduler pulls
every input it tries, queues empty or not, and a puller or source next to
SimpleIdle keeps running.
"""

from __future__ import annotations

from pyclick.args import INT, Args
from pyclick.elements.discard import Idle
from pyclick.elements.handlercall import parse_value
from pyclick.elements.pullschedulers import PrioSched, RoundRobinSched
from pyclick.elements.pullswitch import PullSwitch
from pyclick.runtime.notifier import BUSY, Notifier

#: An input number as Click reads it, a 32-bit int (out-of-range ones pull nothing).
INPUT = INT.range(-2**31, 2**31 - 1)


class _WithoutNotification:
    """Mixed into a scheduler: every input counts as one that may give a packet."""

    ninputs: int

    def initialize(self) -> None:
        self._signals = [BUSY] * self.ninputs


class SimpleIdle(Idle):
    """SimpleIdle() -- discards packets, without notification

    Description
    Like Idle, SimpleIdle never emits a packet, answers every pull with
    nothing and drops every packet pushed to it, on any number of ports.
    Unlike Idle, it says nothing about the packets to come: a puller
    downstream (Unqueue) keeps polling it, and a source upstream
    (InfiniteSource) keeps pushing into it.

    Ports
    any number of agnostic inputs and outputs

    Example
    InfiniteSource(LIMIT 5) -> SimpleIdle;
    SimpleIdle -> Unqueue -> Discard;
    """

    flags = ""


class SimplePrioSched(_WithoutNotification, PrioSched):
    """SimplePrioSched() -- pulls from priority-scheduled inputs, without notification

    Description
    Each pull on the output pulls the inputs in order, input 0 first, and
    returns the first packet one gives: a strict priority scheduler, input
    0 the highest. Unlike PrioSched it pulls every input it tries, even
    one whose upstream queues are empty.

    Ports
    any number of pull inputs, one pull output

    Example
    InfiniteSource(LIMIT 3) -> hi :: Queue -> [0] p :: SimplePrioSched;
    InfiniteSource(LIMIT 3) -> lo :: Queue -> [1] p;
    p -> Unqueue -> Discard;
    """


class SimpleRoundRobinSched(_WithoutNotification, RoundRobinSched):
    """SimpleRoundRobinSched() -- pulls from round-robin inputs, without notification

    Description
    A round-robin scheduler over packets that does without notification.
    Each pull on the output pulls the inputs in turn until one gives a
    packet, and the next pull starts with the input after that one.
    RoundRobinSched passes over inputs whose upstream queues are all
    empty; SimpleRoundRobinSched pulls them all the same.

    Ports
    any number of pull inputs, one pull output

    Example
    rr :: SimpleRoundRobinSched -> Unqueue -> Discard;
    InfiniteSource(LIMIT 3) -> Queue -> [0] rr;
    InfiniteSource(LIMIT 2) -> Queue -> [1] rr;
    InfiniteSource(LIMIT 1) -> Queue -> [2] rr;
    """


class SimplePullSwitch(_WithoutNotification, PullSwitch):
    """SimplePullSwitch(INPUT) -- forwards pull requests to settable input, without notification

    Description
    Answers every pull on its output with a packet pulled from input
    INPUT; the switch handler changes INPUT while the router runs. A
    negative INPUT, or one past the last input, makes every pull get
    nothing (and reads back as -1). Unlike PullSwitch it offers no signal
    of its own: a puller downstream (Unqueue) sleeps only when every
    input, chosen or not, says it has nothing to give.

    Ports
    any number of pull inputs, one pull output

    Keyword arguments
    INPUT -- the input pulled; default 0

    Element handlers
    switch (read/write) -- the INPUT setting (-1 when no input is pulled)
    config (read/write) -- the same as switch; a write configures the element again

    Example
    InfiniteSource(LIMIT 5) -> a :: Queue; InfiniteSource(LIMIT 5) -> b :: Queue;
    s :: SimplePullSwitch; a -> [0]s; b -> [1]s; s -> Unqueue -> Discard;
    Script(wait 1, write s.switch 1);
    """

    can_live_reconfigure = True

    def configure(self, args: Args) -> None:
        self.input = self._existing(args.read_p("INPUT", INPUT, 0))
        args.complete()
        # The inherited pulls record their state here; no puller listens.
        self._note = Notifier()

    def port_notifier(self, isoutput: bool, port: int, which: str) -> Notifier | None:
        return None

    def _existing(self, number: int) -> int:
        return number if 0 <= number < self.ninputs else -1

    def _write_switch(self, value: str) -> None:
        self.input = self._existing(parse_value(INPUT, value))
