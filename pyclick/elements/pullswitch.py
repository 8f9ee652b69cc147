"""PullSwitch and StaticPullSwitch: every pull answered from one chosen input."""

from __future__ import annotations

from pyclick.args import INT, Args
from pyclick.element import PULL, Element, read_handler, write_handler
from pyclick.elements.handlercall import parse_value
from pyclick.packet import Packet
from pyclick.runtime.notifier import EMPTY, Notifier, NotifierSignal, upstream_empty_signal


class StaticPullSwitch(Element):
    """StaticPullSwitch(INPUT) -- forwards pull requests to fixed input

    Description
    Answers every pull on its output with a packet pulled from input INPUT.
    With INPUT -1, or one past the last input, every pull gets nothing.
    StaticPullSwitch has any number of inputs; PullSwitch also changes
    INPUT at run time. A puller downstream (Unqueue) sleeps while the
    chosen input has nothing to give, whatever the other inputs hold.

    Ports
    any number of pull inputs, one pull output

    Keyword arguments
    INPUT -- the input pulled, or -1; default 0

    Example
    InfiniteSource(LIMIT 5) -> a :: Queue; Idle -> b :: Queue;
    s :: StaticPullSwitch(0); a -> [0]s; b -> [1]s; s -> Unqueue -> Discard;
    """

    port_count = "-/1"
    processing = PULL

    def configure(self, args: Args) -> None:
        self.input = self._existing(args.read_p("INPUT", INT.range(-1), 0))
        args.complete()
        # The pullers downstream listen to this, not to every input: on while
        # the chosen input may give a packet.
        self._note = Notifier(active=self.input >= 0)

    def initialize(self) -> None:
        self._signals: list[NotifierSignal] = [
            upstream_empty_signal(self, port, self._wake) for port in range(self.ninputs)]

    def port_notifier(self, isoutput: bool, port: int, which: str) -> Notifier | None:
        return self._note if isoutput and which == EMPTY else None

    def _existing(self, number: int) -> int:
        """``number``, or -1 when the element has no such input."""
        return number if number < self.ninputs else -1

    def _chosen_may_give(self) -> bool:
        return self.input >= 0 and bool(self._signals[self.input])

    def _wake(self) -> None:
        """Some input may give a packet again: wake the pullers if it is the chosen one."""
        if self._chosen_may_give():
            self._note.wake()

    def pull(self, port: int) -> Packet | None:
        batch = self.pull_batch(port, 1)
        return batch[0] if batch else None

    def pull_batch(self, port: int, max_packets: int) -> list[Packet]:
        batch = self.input_pull_batch(self.input, max_packets) if self.input >= 0 else []
        if not batch and not self._chosen_may_give():
            self._note.sleep()
        return batch


class PullSwitch(StaticPullSwitch):
    """PullSwitch(INPUT) -- forwards pull requests to settable input

    Description
    Answers every pull on its output with a packet pulled from input INPUT,
    as StaticPullSwitch does; the switch handler changes INPUT while the
    router runs. With INPUT -1, or one past the last input, every pull gets
    nothing.

    Ports
    any number of pull inputs, one pull output

    Keyword arguments
    INPUT -- the input pulled, or -1; default 0

    Element handlers
    switch (read/write) -- the INPUT setting (-1 after a value past the last input)
    config (read) -- the same as switch

    Example
    InfiniteSource(LIMIT 5) -> a :: Queue; InfiniteSource(LIMIT 5) -> b :: Queue;
    s :: PullSwitch; a -> [0]s; b -> [1]s; s -> Unqueue -> Discard;
    Script(wait 1, write s.switch 1);
    """

    can_live_reconfigure = True
    live_state = ("_note",)

    def live_reconfigure(self, args: Args) -> None:
        super().live_reconfigure(args)
        self._note.wake()

    @read_handler("switch")
    @read_handler("config")
    def _read_switch(self) -> str:
        return str(self.input)

    @write_handler("switch")
    def _write_switch(self, value: str) -> None:
        self.input = self._existing(parse_value(INT.range(-1), value))
        # The pullers look again when the new input may have packets waiting,
        # and sleep when there is none to pull; an input whose upstream is
        # empty leaves them as they were, until a pull finds it so.
        if self.input < 0:
            self._note.sleep()
        else:
            self._wake()
