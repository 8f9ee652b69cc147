"""Switch and StaticSwitch: all packets out of one chosen output."""

from __future__ import annotations

from pyclick.args import INT, Args
from pyclick.element import PUSH, Element, read_handler, write_handler
from pyclick.elements.handlercall import parse_value
from pyclick.packet import Packet


class Switch(Element):
    """Switch(OUTPUT) -- sends packet stream to settable output

    Description
    Sends every incoming packet to output OUTPUT. OUTPUT -1 drops
    the packets instead. The switch write handler changes OUTPUT while the
    router runs (a value past the last output drops the packets). Switch
    has any number of outputs.

    Ports
    one push input, any number of push outputs

    Keyword arguments
    OUTPUT -- the output used, or -1; default 0

    Element handlers
    switch (read/write) -- the OUTPUT setting
    config (read) -- the same as switch

    Example
    InfiniteSource(LIMIT 10) -> s :: Switch(1);
    s[0] -> a :: Counter -> Discard;
    s[1] -> b :: Counter -> Discard;
    """

    can_live_reconfigure = True
    port_count = "1/-"
    processing = PUSH

    def configure(self, args: Args) -> None:
        self.output = args.read_p("OUTPUT", INT.range(-1), 0)
        if self.output is not None and self.output >= self.noutputs:
            args.error(f"OUTPUT: output must be < {self.noutputs}")
        args.complete()

    def push(self, port: int, batch: list[Packet]) -> None:
        if self.output >= 0:
            self.output_push(self.output, batch)

    @read_handler("switch")
    @read_handler("config")
    def _read_switch(self) -> str:
        return str(self.output)

    @write_handler("switch")
    def _write_switch(self, value: str) -> None:
        output = parse_value(INT, value)
        self.output = output if output < self.noutputs else -1


class StaticSwitch(Element):
    """StaticSwitch(OUTPUT) -- sends packet stream to fixed output

    Description
    Sends every incoming packet to output OUTPUT. OUTPUT -1, or one
    past the last output, drops the packets instead. Unlike Switch,
    StaticSwitch has no handler to change OUTPUT at run time.

    Ports
    one push input, any number of push outputs

    Keyword arguments
    OUTPUT -- the output used, or -1; mandatory

    Example
    InfiniteSource(LIMIT 10) -> s :: StaticSwitch(0);
    s[0] -> c :: Counter -> Discard;
    s[1] -> Discard;
    """

    port_count = "1/-"
    processing = PUSH

    def configure(self, args: Args) -> None:
        output = args.read_mp("OUTPUT", INT.range(-1))
        args.complete()
        self.output = output if output < self.noutputs else -1

    def push(self, port: int, batch: list[Packet]) -> None:
        if self.output >= 0:
            self.output_push(self.output, batch)
