"""InputSwitch and Suppressor: packets let through or dropped by the input they came in on."""

from __future__ import annotations

from typing import Callable

from pyclick.args import BOOL, INT, Args
from pyclick.element import AGNOSTIC, PUSH, Element, read_handler, write_handler
from pyclick.elements.handlercall import parse_value
from pyclick.elements.scriptexpr import unparse_bool
from pyclick.packet import Packet


class InputSwitch(Element):
    """InputSwitch(INPUT) -- accepts packets from a settable input

    Description
    Passes the packets that arrive on input INPUT to its single output
    and drops those arriving on any other input. A negative INPUT drops
    every packet. The switch write handler changes INPUT while the router
    runs (a value past the last input drops every packet). InputSwitch has
    any number of inputs.

    Ports
    any number of push inputs, one push output

    Keyword arguments
    INPUT -- the input let through, less than the number of inputs, negative for none; default 0
    OUTPUT -- the same as INPUT (the keyword Click reads)

    Element handlers
    switch (read/write) -- the INPUT setting
    config (read) -- the same as switch

    Example
    InfiniteSource(LIMIT 5) -> [0] s :: InputSwitch(1);
    InfiniteSource(LIMIT 7) -> [1] s;
    s -> c :: Counter -> Discard;
    """

    can_live_reconfigure = True
    port_count = "-/1"
    processing = PUSH

    def configure(self, args: Args) -> None:
        # Any negative number means none, as in Click.
        given = args.read_p("INPUT", INT.range(None, None))
        alias = args.read("OUTPUT", INT.range(None, None))
        if given is not None and alias is not None:
            args.error("INPUT and OUTPUT name the same setting: give one")
        self.input = next((v for v in (given, alias) if v is not None), 0)
        if self.input >= self.ninputs:
            args.error(f"INPUT: input must be < {self.ninputs}")
        args.complete()

    def push(self, port: int, batch: list[Packet]) -> None:
        if port == self.input:
            self.output_push(0, batch)

    @read_handler("switch")
    @read_handler("config")
    def _read_switch(self) -> str:
        return str(self.input)

    @write_handler("switch")
    def _write_switch(self, value: str) -> None:
        chosen = parse_value(INT, value)
        self.input = chosen if chosen < self.ninputs else -1


class Suppressor(Element):
    """Suppressor() -- passes packets unchanged, unless their port is suppressed

    Description
    Has as many outputs as inputs: what arrives on input i leaves by
    output i, unchanged, push or pull. Each port pair can be suppressed
    through its activeI handler: packets pushed into a suppressed input are
    dropped, and pulls from a suppressed output get nothing (the input is
    not pulled). Every port starts active.

    Ports
    any number of agnostic inputs, as many agnostic outputs

    Element handlers
    active0, active1... (read/write) -- whether port 0, 1... is active (not suppressed)
    reset (write) -- makes every port active

    Example
    InfiniteSource(LIMIT 5) -> s :: Suppressor -> a :: Counter -> Discard;
    InfiniteSource(LIMIT 5) -> [1] s [1] -> b :: Counter -> Discard;
    """

    port_count = "-/="
    processing = AGNOSTIC
    flow_code = "#/#"

    def configure(self, args: Args) -> None:
        args.complete()
        self.suppressed = [False] * self.ninputs

    def add_handlers(self) -> None:
        for port in range(self.ninputs):
            self.router.handlers.add_read(self, f"active{port}", self._active_reader(port))
            self.router.handlers.add_write(self, f"active{port}", self._active_writer(port))

    def _active_reader(self, port: int) -> Callable[[], str]:
        return lambda: unparse_bool(not self.suppressed[port])

    def _active_writer(self, port: int) -> Callable[[str], None]:
        def write(value: str) -> None:
            self.suppressed[port] = not parse_value(BOOL, value)
        return write

    def push(self, port: int, batch: list[Packet]) -> None:
        if not self.suppressed[port]:
            self.output_push(port, batch)

    def pull(self, port: int) -> Packet | None:
        return None if self.suppressed[port] else self.input_pull(port)

    def pull_batch(self, port: int, max_packets: int) -> list[Packet]:
        return [] if self.suppressed[port] else self.input_pull_batch(port, max_packets)

    @write_handler("reset")
    def _write_reset(self, value: str) -> None:
        self.suppressed = [False] * self.ninputs
