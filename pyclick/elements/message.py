"""Message and Error: elements that speak, or refuse, when a router is set up."""

from __future__ import annotations

from pyclick.args import WORD, Args, Choice
from pyclick.element import AGNOSTIC, Element


class Message(Element):
    """Message(MESSAGE, TYPE) -- prints a message on configuration

    Description
    Prints MESSAGE when the router is configured: documentation that speaks
    up when the configuration is used. TYPE says how: MESSAGE prints it as
    information, WARNING as a warning; ERROR reports it as a configuration
    error, so the router does not start. MESSAGE is one word: quote a
    message holding spaces.

    Ports
    none

    Keyword arguments
    MESSAGE -- the text printed; mandatory
    TYPE -- MESSAGE, WARNING or ERROR; default MESSAGE

    Example
    Message("this configuration is deprecated: use tun.click", WARNING);
    InfiniteSource(LIMIT 1) -> Discard;
    """

    def configure(self, args: Args) -> None:
        text = args.read_mp("MESSAGE", WORD)
        kind = args.read_p("TYPE", Choice("MESSAGE", "WARNING", "ERROR"), "MESSAGE")
        args.complete()
        # Said while configuring, as Click does: a configuration that fails
        # elsewhere still shows its messages.
        if kind == "ERROR":
            raise ValueError(text)
        if kind == "WARNING":
            self.log.warning("%s", text)
        else:
            self.log.info("%s", text)


class Error(Element):
    """Error(...) -- always fails

    Description
    Makes the router fail to start: Error accepts any configuration string
    and any number of inputs and outputs, push or pull, without complaint,
    then fails to initialize. It keeps a configuration from running without
    causing other, misleading, errors about its arguments or connections.

    Ports
    any number of agnostic inputs and outputs

    Example
    Error(this configuration is not finished);
    """

    port_count = "-/-"
    processing = AGNOSTIC
    flow_code = "x/y"

    def configure(self, args: Args) -> None:
        args.accept_rest()

    def initialize(self) -> None:
        raise RuntimeError("an Error element never initializes")
