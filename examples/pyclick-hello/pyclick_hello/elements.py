"""The plugin's element classes."""

from __future__ import annotations

from pyclick.args import STRING, UNSIGNED, Args
from pyclick.element import Element, read_handler, write_handler
from pyclick.packet import Packet


class Hello(Element):
    """Hello(MESSAGE, KEYWORDS) -- greets when the router starts

    Description
    Prints MESSAGE on standard output REPEAT times when the router is
    initialized. A plugin example: arguments, initialization and handlers.

    Keyword arguments
    MESSAGE -- the text to print; mandatory
    REPEAT -- how many times to print it; default 1

    Element handlers
    message (read/write) -- the message; writing prints the new one
    greetings (read) -- how many lines were printed

    Example
    Hello("hello, world", REPEAT 2);
    """

    port_count = "0/0"

    def configure(self, args: Args) -> None:
        self.message = args.read_mp("MESSAGE", STRING)
        self.repeat = args.read("REPEAT", UNSIGNED, 1)
        args.complete()
        self.greetings = 0

    def initialize(self) -> None:
        for _ in range(self.repeat):
            self._greet()

    def _greet(self) -> None:
        print(self.message, flush=True)
        self.greetings += 1

    @read_handler("message")
    def _read_message(self) -> str:
        return self.message

    @write_handler("message")
    def _write_message(self, value: str) -> None:
        if not value.strip():
            raise ValueError("message must not be empty")
        self.message = value.strip()
        self._greet()

    @read_handler("greetings")
    def _read_greetings(self) -> str:
        return str(self.greetings)


class HelloTagger(Element):
    """HelloTagger(TAG) -- marks packets with a tag annotation

    Description
    Sets the 'hello' annotation of every packet to TAG and passes it on,
    counting packets. A plugin example of a packet-processing element.

    Keyword arguments
    TAG -- the annotation value; default "hello"

    Element handlers
    count (read) -- packets tagged
    tag (read/write) -- the TAG setting

    Example
    InfiniteSource(LIMIT 5) -> HelloTagger(TAG demo) -> Discard;
    """

    port_count = "1/1"

    def configure(self, args: Args) -> None:
        self.tag = args.read_p("TAG", STRING, "hello")
        args.complete()
        self.count = 0

    def push(self, port: int, batch: list[Packet]) -> None:
        for packet in batch:
            packet.anno["hello"] = self.tag
        self.count += len(batch)
        self.output_push(0, batch)

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)

    @read_handler("tag")
    def _read_tag(self) -> str:
        return self.tag

    @write_handler("tag")
    def _write_tag(self, value: str) -> None:
        self.tag = value.strip()
